// Package storagetest opens a real storage.Store for the tests of other
// packages: on an in-process miniredis, or on the Redis server named by
// DATOSBOT_TEST_REDIS_URL (the full test run), each test under its own key
// prefix.
package storagetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/datosbot/datosbot/storage"
)

// Store is an open test store and the server underneath it.
type Store struct {
	*storage.Store
	URL    string
	Prefix string
	Mini   *miniredis.Miniredis // nil against a real Redis
}

// Open returns a store for t with clock now (nil means time.Now). It is
// closed, and its keys deleted, when the test ends.
func Open(t testing.TB, now func() time.Time) *Store {
	t.Helper()
	b := make([]byte, 6)
	rand.Read(b)
	ts := &Store{Prefix: "test-" + hex.EncodeToString(b) + ":", URL: os.Getenv("DATOSBOT_TEST_REDIS_URL")}
	if ts.URL == "" {
		ts.Mini = miniredis.RunT(t)
		ts.URL = "redis://" + ts.Mini.Addr()
	}
	return ts.reopen(t, now)
}

// Reopen opens a second store on the same server and prefix, as another
// replica or a restarted process would.
func (ts *Store) Reopen(t testing.TB, now func() time.Time) *Store {
	t.Helper()
	return ts.reopen(t, now)
}

func (ts *Store) reopen(t testing.TB, now func() time.Time) *Store {
	t.Helper()
	s, err := storage.Open(context.Background(), storage.Config{URL: ts.URL, Prefix: ts.Prefix, Now: now})
	if err != nil {
		t.Fatalf("storage.Open(%s): %v", ts.URL, err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	if ts.Mini == nil && ts.Store == nil {
		prefix, url := ts.Prefix, ts.URL
		t.Cleanup(func() { cleanup(url, prefix) })
	}
	return &Store{Store: s, URL: ts.URL, Prefix: ts.Prefix, Mini: ts.Mini}
}

func cleanup(url, prefix string) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return
	}
	c := redis.NewClient(opt)
	defer c.Close()
	ctx := context.Background()
	it := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	for it.Next(ctx) {
		c.Del(ctx, it.Val())
	}
}
