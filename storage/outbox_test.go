package storage_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/storage/storagetest"
)

func noPace(datosbot.ChannelID) datosbot.PostPace { return datosbot.PostPace{} }

// TestOutboxClaimIsExclusive: many workers claiming at once never get the
// same message twice, and an expired lease returns the message.
func TestOutboxClaimIsExclusive(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 14, 16, 0, 0, 0, time.UTC)
	ts := storagetest.Open(t, func() time.Time { return now })
	var msgs []datosbot.Message
	for i := range 300 {
		msgs = append(msgs, datosbot.Message{Key: fmt.Sprint("k", i), Channel: datosbot.ChannelID(fmt.Sprint("console:c", i))})
	}
	if n, err := ts.OutboxEnqueue(ctx, now, append(msgs, msgs[:10]...)); err != nil || n != 300 {
		t.Fatalf("OutboxEnqueue = %d, %v; want 300 new", n, err)
	}
	var (
		mu  sync.Mutex
		got = map[string]int{}
		wg  sync.WaitGroup
	)
	for range 8 {
		replica := ts.Reopen(t, nil)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				_, err := replica.OutboxClaim(ctx, now, 7, time.Minute, 0, noPace, func(m datosbot.Message, _ string, _ int, _, _ time.Time) {
					mu.Lock()
					got[m.Key]++
					mu.Unlock()
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if len(got) != 300 {
		t.Errorf("claimed %d distinct messages, want 300", len(got))
	}
	for k, n := range got {
		if n != 1 {
			t.Errorf("%s claimed %d times", k, n)
		}
	}
	// Nothing is due until the leases expire; then everything is again.
	count := func(at time.Time) int {
		n := 0
		if _, err := ts.OutboxClaim(ctx, at, 1000, time.Minute, 0, noPace, func(datosbot.Message, string, int, time.Time, time.Time) { n++ }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(now.Add(30 * time.Second)); n != 0 {
		t.Errorf("claimed %d messages under lease, want 0", n)
	}
	if n := count(now.Add(2 * time.Minute)); n != 300 {
		t.Errorf("claimed %d messages after the leases expired, want 300", n)
	}
}

// TestLinkedSince reads only the channels linked after the instant.
func TestLinkedSince(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 14, 16, 0, 0, 0, time.UTC)
	ts := storagetest.Open(t, func() time.Time { return now })
	if err := ts.CreateInstitution(ctx, datosbot.Institution{Key: "inegi", Name: "INEGI"}, "console:admin"); err != nil {
		t.Fatal(err)
	}
	ts.LinkChannel(ctx, "slack:COLD", "inegi", "console:admin")
	later := ts.Reopen(t, func() time.Time { return now.Add(time.Hour) })
	later.LinkChannel(ctx, "slack:CNEW", "inegi", "console:admin")
	got, err := ts.LinkedSince(ctx, now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got["slack:CNEW"]; len(got) != 1 || !ok {
		t.Errorf("LinkedSince = %v, want only slack:CNEW", got)
	}
}
