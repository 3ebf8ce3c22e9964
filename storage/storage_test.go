package storage_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/commands"
	"github.com/datosbot/datosbot/storage"
)

var _ commands.Store = (*storage.Store)(nil)

// testClock is the store's clock in tests: 20 November 2026, 10:00 in
// Mexico City (2026-B6).
var testClock = time.Date(2026, 11, 20, 16, 0, 0, 0, time.UTC)

// backend records how a test store was opened, so tests can reach the
// server underneath (raw keys, moving time, stopping it).
type backend struct {
	mini   *miniredis.Miniredis // nil against a real Redis
	url    string
	prefix string
}

var backends sync.Map // *storage.Store → backend

func randomPrefix(t *testing.T) string {
	b := make([]byte, 6)
	rand.Read(b)
	return "test-" + hex.EncodeToString(b) + ":"
}

// openMiniredis opens a store on a fresh miniredis owned by the test.
func openMiniredis(t *testing.T) *storage.Store {
	t.Helper()
	m := miniredis.RunT(t)
	return openBackend(t, backend{mini: m, url: "redis://" + m.Addr(), prefix: randomPrefix(t)})
}

// openRealRedis opens a store on DATOSBOT_TEST_REDIS_URL with a random
// prefix and deletes its keys when the test ends.
func openRealRedis(t *testing.T) *storage.Store {
	t.Helper()
	s := openBackend(t, backend{url: os.Getenv("DATOSBOT_TEST_REDIS_URL"), prefix: randomPrefix(t)})
	c := rawClient(t, s)
	t.Cleanup(func() {
		ctx := context.Background()
		it := c.Scan(ctx, 0, backendOf(t, s).prefix+"*", 1000).Iterator()
		for it.Next(ctx) {
			c.Del(ctx, it.Val())
		}
	})
	return s
}

func openBackend(t *testing.T, b backend) *storage.Store {
	t.Helper()
	s, err := storage.Open(context.Background(), storage.Config{URL: b.url, Prefix: b.prefix, Now: func() time.Time { return testClock }})
	if err != nil {
		t.Fatalf("Open(%s): %v", b.url, err)
	}
	backends.Store(s, b)
	t.Cleanup(func() { s.Close(context.Background()) })
	return s
}

func backendOf(t *testing.T, s *storage.Store) backend {
	t.Helper()
	b, ok := backends.Load(s)
	if !ok {
		t.Fatal("store has no recorded backend")
	}
	return b.(backend)
}

// rawClient returns a go-redis client on the store's server.
func rawClient(t *testing.T, s *storage.Store) *redis.Client {
	t.Helper()
	opts, err := redis.ParseURL(backendOf(t, s).url)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opts)
	t.Cleanup(func() { c.Close() })
	return c
}

// advance lets d pass for the store's TTLs: FastForward on miniredis, a
// sleep on a real server (tests keep d short there).
func advance(t *testing.T, s *storage.Store, d time.Duration) {
	t.Helper()
	if m := backendOf(t, s).mini; m != nil {
		m.FastForward(d)
		return
	}
	time.Sleep(d)
}

func TestStoreMiniredis(t *testing.T) { runStoreSuite(t, openMiniredis) }

func TestStoreRealRedis(t *testing.T) {
	if os.Getenv("DATOSBOT_TEST_REDIS_URL") == "" {
		t.Skip("DATOSBOT_TEST_REDIS_URL is not set")
	}
	runStoreSuite(t, openRealRedis)
}

// wantCode fails the test unless err carries the given error code.
func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := datosbot.ErrorCode(err); got != code {
		t.Fatalf("%s: got error code %q (%v), want %q", what, got, err, code)
	}
	if code != "" && datosbot.ErrorMessage(err) == "" {
		t.Fatalf("%s: error %v has no user message", what, err)
	}
}

func redisZ(score float64, member string) redis.Z { return redis.Z{Score: score, Member: member} }
