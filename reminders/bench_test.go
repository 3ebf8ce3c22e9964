package reminders_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/internal/fakeclock"
	"github.com/datosbot/datosbot/reminders"
	"github.com/datosbot/datosbot/storage"
	"github.com/datosbot/datosbot/storage/storagetest"
)

// BenchmarkIdleTick measures a scheduler tick when nothing is due: its
// cost must not grow with the number of institutions.
func BenchmarkIdleTick(b *testing.B) {
	for _, n := range []int{100, 10000} {
		b.Run(fmt.Sprintf("institutions=%d", n), func(b *testing.B) {
			ctx := context.Background()
			c := fakeclock.New(at("2026-12-14T09:00"))
			ts := storagetest.Open(b, c.Now)
			snap := &storage.Snapshot{Version: storage.SnapshotVersion}
			for i := range n {
				key := fmt.Sprintf("inst%06d", i)
				snap.Institutions = append(snap.Institutions, datosbot.Institution{Key: key, Name: key, Active: true,
					Channels: []datosbot.ChannelID{datosbot.ChannelID("slack:C" + key)}, CreatedAt: c.Now()})
			}
			if err := ts.Import(ctx, snap); err != nil {
				b.Fatal(err)
			}
			s := &reminders.Scheduler{Store: ts.Store, Outbox: reminders.NewOutbox(reminders.OutboxConfig{Store: ts.Store}), Now: c.Now}
			if err := s.Tick(ctx); err != nil {
				b.Fatal(err)
			}
			c.Advance(time.Hour) // still before the first reminder
			b.ResetTimer()
			for range b.N {
				if err := s.Tick(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
