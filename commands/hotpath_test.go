package commands_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/storage/storagetest"
)

// TestHotPathRoundTrips counts the round trips to Redis of the most
// frequent commands (the figures behind the README's table): estado with
// the delivery-failure read that production's Diagnose does, anunciar
// alone and twenty at once for one institution, which must not retry each
// other.
func TestHotPathRoundTrips(t *testing.T) {
	var store *storagetest.Store
	svc, store := benchService(t, func(c *commandsConfig) {
		c.Diagnose = func(ctx context.Context, key string, chs []datosbot.ChannelID) []string {
			if store == nil {
				return nil // still setting up
			}
			// What reminders.Outbox.DeliveryFailures reads.
			store.OutboxFailures(ctx, chs, func(datosbot.ChannelID, string, string, time.Time) {})
			return nil
		}
	})
	ctx := context.Background()
	trips := func(user datosbot.UserID, ch datosbot.ChannelID, text string) int64 {
		t.Helper()
		before := store.RoundTrips()
		if r := svc.Handle(ctx, datosbot.Request{User: user, Channel: ch, Text: text}); r.Error != "" {
			t.Fatalf("%q: %s", text, r.Text)
		}
		return store.RoundTrips() - before
	}
	if n := trips("console:ana", canal, "anunciar "+dataURL+" "+tweetURL); n > 5 {
		t.Errorf("anunciar: %d round trips, want at most 5", n)
	}
	if n := trips("console:ana", canal, "anunciar "+dataURL+" "+tweetURL); n > 5 {
		t.Errorf("anunciar of an action already registered: %d round trips, want at most 5", n)
	}
	if n := trips("console:ana", canal, "estado"); n > 3 {
		t.Errorf("estado in the institution's channel: %d round trips, want at most 3", n)
	}
	if n := trips(admin, "console:general", "estado inegi"); n > 3 {
		t.Errorf("estado inegi by the Unidad: %d round trips, want at most 3", n)
	}
	campaign := trips(admin, "console:general", "campaña nueva 2026-12-15 "+dataURL2+" Difundan los datos de COVID-19.")
	if campaign == 0 {
		t.Fatal("campaña nueva read nothing")
	}
	if n := trips("console:ana", canal, "estado"); n > 3 {
		t.Errorf("estado with an open campaign: %d round trips, want at most 3", n)
	}

	// Twenty writers at once, twice (the pool grows in the first burst;
	// RoundTrips leaves connection handshakes out either way).
	const writers = 20
	burst := func(round int) int64 {
		before := store.RoundTrips()
		var wg sync.WaitGroup
		for i := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := svc.Handle(ctx, datosbot.Request{User: "console:ana", Channel: canal,
					Text: fmt.Sprintf("anunciar %s https://x.com/INEGI_INFORMA/status/%d%03d", dataURL, round, i)})
				if r.Error != "" {
					t.Errorf("concurrent anunciar %d: %s", i, r.Text)
				}
			}()
		}
		wg.Wait()
		return store.RoundTrips() - before
	}
	for round := range 2 {
		if n := burst(round); n > 5*writers {
			t.Errorf("%d concurrent anunciar of one institution: %d round trips, want at most %d (no retries)", writers, n, 5*writers)
		}
	}
	if got := len(actionsOf(t, store, "inegi")); got != 2*writers+1 {
		t.Errorf("inegi has %d actions, want %d", got, 2*writers+1)
	}
}
