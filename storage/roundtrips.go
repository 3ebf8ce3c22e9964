package storage

import (
	"context"
	"net"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// RoundTrips returns how many times this store has waited for Redis since
// it was opened: one per command, one per pipeline or MULTI/EXEC block
// (however many commands it holds), one per script call; not a new
// connection's handshake. Benchmarks report it per operation; it is the
// cost a replica pays in latency to Redis.
func (s *Store) RoundTrips() int64 { return s.trips.Load() }

// tripCounter is the go-redis hook behind RoundTrips.
type tripCounter struct{ n *atomic.Int64 }

func (h tripCounter) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) { return next(ctx, network, addr) }
}

func (h tripCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if !handshake(cmd) {
			h.n.Add(1)
		}
		return next(ctx, cmd)
	}
}

func (h tripCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if !slices.ContainsFunc(cmds, func(c redis.Cmder) bool { return !handshake(c) }) {
			return next(ctx, cmds)
		}
		h.n.Add(1)
		return next(ctx, cmds)
	}
}

// handshake reports whether cmd is part of a new connection's setup
// (HELLO, AUTH, SELECT, CLIENT SETINFO/SETNAME, READONLY), which go-redis
// sends through the hooks too. RoundTrips leaves them out: they are paid
// once per pooled connection, not per command.
func handshake(cmd redis.Cmder) bool {
	switch cmd.Name() {
	case "hello", "auth", "select", "readonly":
		return true
	case "client":
		args := cmd.Args()
		if len(args) > 1 {
			sub, _ := args[1].(string)
			sub = strings.ToLower(sub)
			return sub == "setinfo" || sub == "setname"
		}
	}
	return false
}
