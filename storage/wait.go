package storage

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/datosbot/datosbot"
)

// waitReplicated waits until Config.WaitReplicas replicas have the writes
// of tx's connection (Redis WAIT). It runs after the transaction, on the
// connection that wrote: inside MULTI, WAIT returns at once without
// waiting. When fewer replicas confirm within Config.WaitTimeout, the write
// stays (it cannot be taken back) but is not acknowledged: the caller gets
// EUNAVAILABLE and the person tries again, which every registration
// tolerates (a repeated registration finds the first one).
func (s *Store) waitReplicated(ctx context.Context, tx *redis.Tx) error {
	n, err := tx.Wait(ctx, s.waitReplicas, s.waitTimeout).Result()
	if err != nil {
		return err
	}
	if int(n) < s.waitReplicas {
		s.log.Warn("redis: a write was not confirmed by enough replicas in time (DATOSBOT_REDIS_WAIT); the request is answered with an error to try again",
			"replicas", n, "want", s.waitReplicas, "timeout", s.waitTimeout)
		return fmt.Errorf("storage: %w", datosbot.Errorf(datosbot.EUNAVAILABLE,
			"El registro se guardó, pero la réplica de la base de datos no lo confirmó a tiempo. Repita la operación en unos segundos: si ya había quedado, no se duplica."))
	}
	return nil
}

// durably runs fn, a write by script, on one connection and, with
// Config.WaitReplicas, then waits there for the replicas like update does.
// key is one of the keys the script writes: a Cluster client needs it to
// pick the node (WATCH only pins the connection; nothing is watched for).
func (s *Store) durably(ctx context.Context, key string, fn func(c redis.Scripter) error) error {
	if s.waitReplicas <= 0 || s.mini != nil {
		return fn(s.rdb)
	}
	return s.rdb.Watch(ctx, func(tx *redis.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return s.waitReplicated(ctx, tx)
	}, key)
}
