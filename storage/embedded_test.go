package storage_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/storage"
)

func openEmbedded(t *testing.T, file string) *storage.Store {
	t.Helper()
	s, err := storage.Open(context.Background(), storage.Config{DataFile: file, Now: func() time.Time { return testClock }, SaveInterval: time.Hour})
	if err != nil {
		t.Fatalf("Open embedded: %v", err)
	}
	return s
}

// rawEmbedded returns the client of the embedded store s; tests use it to
// write keys that storage does not know about, as other packages will.
func rawEmbedded(t *testing.T, s *storage.Store) redis.UniversalClient {
	t.Helper()
	c := storage.RawClientForTest(s)
	if c == nil {
		t.Fatal("no client")
	}
	return c
}

func TestEmbeddedRestart(t *testing.T) {
	file := filepath.Join(t.TempDir(), "data.json")
	s := openEmbedded(t, file)
	mustCreate(t, s, "inegi", "INEGI")
	must(t, s.LinkChannel(ctx, "slack:C1", "inegi", admin))
	_, _, err := s.AddAction(ctx, action("A1", "inegi", "https://x.com/1", nov20, testClock))
	must(t, err)
	raw := rawEmbedded(t, s)
	// Keys of every type, written the way other packages will write them.
	must(t, raw.Set(ctx, "datosbot:{d}:sched:next", "2026-12-17", time.Hour).Err())
	must(t, raw.Set(ctx, "datosbot:{d}:gone", "x", time.Millisecond).Err())
	must(t, raw.HSet(ctx, "datosbot:{d}:outbox:m1", "channel", "slack:C1", "text", "hola").Err())
	must(t, raw.RPush(ctx, "datosbot:{d}:queue", "a", "b", "a").Err())
	must(t, raw.SAdd(ctx, "datosbot:{d}:due", "x", "y").Err())
	must(t, raw.ZAdd(ctx, "datosbot:{d}:sched", redis.Z{Score: 1.25, Member: "r1"}, redis.Z{Score: 3, Member: "r2"}).Err())
	must(t, raw.XAdd(ctx, &redis.XAddArgs{Stream: "datosbot:{d}:events", ID: "5-1", Values: []string{"k", "v"}}).Err())
	time.Sleep(5 * time.Millisecond) // let "gone" expire on the wall clock
	must(t, s.Close(ctx))
	if err := s.Ping(ctx); datosbot.ErrorCode(err) != datosbot.EUNAVAILABLE {
		t.Errorf("Ping after Close = %v, want EUNAVAILABLE", err)
	}

	var saved struct{ Keys []storage.RawKey }
	b, err := os.ReadFile(file)
	must(t, err)
	must(t, json.Unmarshal(b, &saved))
	if len(saved.Keys) == 0 {
		t.Fatal("data file has no keys")
	}

	s2 := openEmbedded(t, file)
	defer s2.Close(ctx)
	in, err := s2.Institution(ctx, "inegi")
	if err != nil || len(in.Channels) != 1 {
		t.Fatalf("after restart Institution(inegi) = %+v, %v; want it with its channel", in, err)
	}
	if _, created, err := s2.AddAction(ctx, action("A2", "inegi", "https://x.com/1", nov20, testClock)); err != nil || created {
		t.Errorf("after restart the evidence index is lost: created=%t, %v", created, err)
	}
	raw2 := rawEmbedded(t, s2)
	checks := []struct {
		name string
		got  func() (any, error)
		want string
	}{
		{"string", func() (any, error) { return raw2.Get(ctx, "datosbot:{d}:sched:next").Result() }, "2026-12-17"},
		{"expired string", func() (any, error) { return raw2.Exists(ctx, "datosbot:{d}:gone").Result() }, "0"},
		{"hash", func() (any, error) { return raw2.HGetAll(ctx, "datosbot:{d}:outbox:m1").Result() }, "map[channel:slack:C1 text:hola]"},
		{"list", func() (any, error) { return raw2.LRange(ctx, "datosbot:{d}:queue", 0, -1).Result() }, "[a b a]"},
		{"set", func() (any, error) { return raw2.SMembers(ctx, "datosbot:{d}:due").Result() }, "[x y]"},
		{"zset", func() (any, error) { return raw2.ZRangeWithScores(ctx, "datosbot:{d}:sched", 0, -1).Result() }, "[{1.25 r1} {3 r2}]"},
		{"stream", func() (any, error) { return raw2.XRange(ctx, "datosbot:{d}:events", "-", "+").Result() }, "[{5-1 map[k:v] 0 0}]"},
	}
	for _, c := range checks {
		got, err := c.got()
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if s := sprint(got); s != c.want {
			t.Errorf("%s after restart = %s, want %s", c.name, s, c.want)
		}
	}
	ttl, err := raw2.TTL(ctx, "datosbot:{d}:sched:next").Result()
	if err != nil || ttl <= 59*time.Minute || ttl > time.Hour {
		t.Errorf("TTL after restart = %s, %v; want just under 1h", ttl, err)
	}
}

func TestEmbeddedBadDataFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "data.json")
	must(t, os.WriteFile(file, []byte("{not json"), 0o600))
	_, err := storage.Open(ctx, storage.Config{DataFile: file})
	wantCode(t, "Open with a corrupt data file", err, datosbot.EINVALID)
}

func TestPingFailsWhenServerStops(t *testing.T) {
	m := miniredis.RunT(t)
	s := openBackend(t, backend{mini: m, url: "redis://" + m.Addr(), prefix: randomPrefix(t)})
	must(t, s.Ping(ctx))
	m.Close()
	// Each call gets a short deadline: go-redis would otherwise retry the
	// dial for about two seconds. Refused connections and the deadline both
	// must come back as EUNAVAILABLE.
	calls := []struct {
		name string
		call func(context.Context) error
	}{
		{"Ping", s.Ping},
		{"Institution", func(c context.Context) error { _, err := s.Institution(c, "inegi"); return err }},
		{"AddAction", func(c context.Context) error {
			_, _, err := s.AddAction(c, action("A1", "inegi", "https://x.com/1", nov20, testClock))
			return err
		}},
		{"Once", func(c context.Context) error { _, err := s.Once(c, "k", time.Minute); return err }},
	}
	for _, c := range calls {
		cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		wantCode(t, c.name, c.call(cctx), datosbot.EUNAVAILABLE)
		cancel()
	}
}

func TestOpenRefusesBadOrUnreachableURL(t *testing.T) {
	m := miniredis.RunT(t)
	addr := m.Addr()
	m.Close()
	c, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	_, err := storage.Open(c, storage.Config{URL: "redis://" + addr})
	wantCode(t, "Open", err, datosbot.EUNAVAILABLE)
	_, err = storage.Open(c, storage.Config{URL: "http://" + addr})
	wantCode(t, "Open with a bad scheme", err, datosbot.EINVALID)
}

func sprint(v any) string { return fmt.Sprint(v) }

func TestEmbeddedAutosave(t *testing.T) {
	file := filepath.Join(t.TempDir(), "data.json")
	s, err := storage.Open(ctx, storage.Config{DataFile: file, SaveInterval: 10 * time.Millisecond})
	must(t, err)
	defer s.Close(ctx)
	mustCreate(t, s, "inegi", "INEGI")
	// Wait (bounded) for the autosave loop to write the file, without Close.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		b, _ := os.ReadFile(file)
		if strings.Contains(string(b), `datosbot:{d}:inst:inegi`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the data file was not saved within 5s; it holds %q", b)
		}
	}
	matches, _ := filepath.Glob(filepath.Join(filepath.Dir(file), ".*tmp*"))
	if len(matches) != 0 {
		t.Errorf("temporary files left behind: %v", matches)
	}
}

// TestEmbeddedReadOnly: the store `datosbot export` opens reads the data
// file of a bot that may be running and never writes it, and a missing
// file is an error instead of an empty export.
func TestEmbeddedReadOnly(t *testing.T) {
	file := filepath.Join(t.TempDir(), "data.json")
	s := openEmbedded(t, file)
	mustCreate(t, s, "inegi", "INEGI")
	must(t, s.Close(ctx))
	before, err := os.ReadFile(file)
	must(t, err)

	ro, err := storage.Open(ctx, storage.Config{DataFile: file, ReadOnly: true, SaveInterval: time.Millisecond})
	must(t, err)
	if _, err := ro.Institution(ctx, "inegi"); err != nil {
		t.Fatalf("read-only store lacks the saved institution: %v", err)
	}
	mustCreate(t, ro, "shcp", "Hacienda") // a change that must not reach the file
	time.Sleep(20 * time.Millisecond)     // autosave ticks would have run
	must(t, ro.Close(ctx))
	after, err := os.ReadFile(file)
	must(t, err)
	if string(after) != string(before) {
		t.Error("a read-only store wrote its data file")
	}

	_, err = storage.Open(ctx, storage.Config{DataFile: filepath.Join(t.TempDir(), "nada.json"), ReadOnly: true})
	if datosbot.ErrorCode(err) != datosbot.ENOTFOUND || !strings.Contains(datosbot.ErrorMessage(err), "nada.json") {
		t.Errorf("read-only open of a missing file: got %v, want ENOTFOUND naming it", err)
	}
}
