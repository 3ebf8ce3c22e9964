package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/datosbot/datosbot"
)

// Once reports true the first time key is seen within ttl, across replicas
// (SET NX with a TTL). It deduplicates inbound deliveries.
func (s *Store) Once(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	ok, err := s.rdb.SetNX(ctx, s.onceKey(key), "1", ttl).Result()
	return ok, s.wrap(err)
}

// Forget removes a key recorded by Once, so that a delivery whose handling
// failed is processed again when the platform redelivers it.
func (s *Store) Forget(ctx context.Context, key string) error {
	return s.wrap(s.rdb.Del(ctx, s.onceKey(key)).Err())
}

// acquireScript takes the lease when it is free or renews it when the
// caller already holds it, in one atomic step.
var acquireScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v == false or v == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
`)

// releaseScript deletes the lease only when the caller holds it.
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)

// AcquireLease takes the named lease for ttl, or renews it when holder
// already has it; it reports false while another holder has it. It is how
// only one replica polls Telegram. A lease is an efficiency aid, not a
// correctness guarantee: side effects stay idempotent.
func (s *Store) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	if holder == "" || ttl < time.Millisecond {
		return false, datosbot.Errorf(datosbot.EINVALID, "Una concesión necesita un titular y una duración de al menos 1 ms.")
	}
	n, err := acquireScript.Run(ctx, s.rdb, []string{s.leaseKey(name)}, holder, ttl.Milliseconds()).Int()
	if err != nil {
		return false, s.wrap(err)
	}
	return n == 1, nil
}

// ReleaseLease gives the named lease up if holder holds it; otherwise it
// does nothing.
func (s *Store) ReleaseLease(ctx context.Context, name, holder string) error {
	return s.wrap(releaseScript.Run(ctx, s.rdb, []string{s.leaseKey(name)}, holder).Err())
}

// Audit returns the whole audit trail, oldest first.
func (s *Store) Audit(ctx context.Context) ([]datosbot.AuditEntry, error) {
	vals, err := s.rdb.LRange(ctx, s.auditKey(), 0, -1).Result()
	if err != nil {
		return nil, s.wrap(err)
	}
	out := make([]datosbot.AuditEntry, 0, len(vals))
	for i, v := range vals {
		var e datosbot.AuditEntry
		if err := json.Unmarshal([]byte(v), &e); err != nil {
			return nil, fmt.Errorf("storage: decode audit entry %d: %w", i, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// AppendAudit appends one entry to the audit trail, for events that change
// no other record (e.g. "publicar"). A zero At is the store's clock.
func (s *Store) AppendAudit(ctx context.Context, e datosbot.AuditEntry) error {
	if e.Event == "" {
		return datosbot.Errorf(datosbot.EINVALID, "Falta el evento de la entrada de auditoría.")
	}
	if e.At.IsZero() {
		e.At = s.now()
	}
	return s.wrap(s.rdb.RPush(ctx, s.auditKey(), mustJSON(e)).Err())
}
