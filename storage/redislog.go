package storage

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/redis/go-redis/v9"
)

// goRedisLog sends go-redis' own log lines (dial retries, Sentinel
// switches) to slog.Default at debug level. By default go-redis prints them
// to stderr with the standard logger, so an operator whose Redis is down
// read the same failure twice: once from go-redis and once in our error.
type goRedisLog struct{}

func (goRedisLog) Printf(ctx context.Context, format string, v ...any) {
	slog.Default().DebugContext(ctx, fmt.Sprintf(format, v...), "component", "go-redis")
}

// quietGoRedis installs goRedisLog once, from Open before its client
// exists: redis.SetLogger sets a package variable without a lock.
var quietGoRedis = sync.OnceFunc(func() { redis.SetLogger(goRedisLog{}) })
