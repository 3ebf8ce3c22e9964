package reminders_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/internal/fakeclock"
	"github.com/datosbot/datosbot/reminders"
)

// windowPlatform is a fake Telegram on the fake clock: it refuses a post
// with a 429 when it would make more than limit posts within any window
// (sliding, not per calendar second), and records the instant of each
// post it accepts.
type windowPlatform struct {
	clock  *fakeclock.Clock
	limit  int
	window time.Duration

	mu      sync.Mutex
	at      []time.Time
	got     map[string]int
	refused int
}

func (p *windowPlatform) Deliver(ctx context.Context, m datosbot.Message) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.clock.Now()
	n := 0
	for _, t := range p.at {
		if now.Sub(t) < p.window {
			n++
		}
	}
	if n >= p.limit {
		p.refused++
		return &datosbot.RateLimitError{RetryAfter: p.window}
	}
	p.at = append(p.at, now)
	p.got[m.Key]++
	return nil
}

// TestTelegramFanOutKeepsTheRateWithout429s: two replicas with the default
// pace fan out one message to each of 170 private Telegram chats, against
// a platform that allows 30 posts in any second. On the fake clock, moved
// 2 ms at a time (the replicas taking turns), the posts of the steady state (the seconds
// after the first, which may start with a burst) reach at least 0.95 of
// 30 per second, and the platform never answers 429: the pace is as fast
// as the limit allows and does not trip it.
func TestTelegramFanOutKeepsTheRateWithout429s(t *testing.T) {
	const (
		chats    = 170
		limit    = 30
		measured = 4 * time.Second
		step     = 2 * time.Millisecond
	)
	c := fakeclock.New(at("2026-12-14T09:00"))
	platform := &windowPlatform{clock: c, limit: limit, window: time.Second, got: map[string]int{}}
	shared := newEnv(t, c).ts
	var outboxes []*reminders.Outbox
	for range 2 {
		outboxes = append(outboxes, reminders.NewOutbox(reminders.OutboxConfig{Store: shared.Reopen(t, c.Now).Store,
			Sender: platform, Now: c.Now, Pace: reminders.DefaultPace()}))
	}
	var msgs []datosbot.Message
	for i := range chats {
		msgs = append(msgs, msg(fmt.Sprintf("privado-%03d", i), datosbot.ChannelID(fmt.Sprintf("telegram:%d", 1000+i))))
	}
	if err := outboxes[0].Post(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}
	start := c.Now()
	for i := 0; c.Now().Sub(start) < measured+1200*time.Millisecond; i++ {
		// The replicas take turns, each step of the clock.
		if _, err := outboxes[i%len(outboxes)].DeliverOnce(context.Background()); err != nil {
			t.Fatalf("DeliverOnce: %v", err)
		}
		c.Advance(step)
	}

	platform.mu.Lock()
	defer platform.mu.Unlock()
	if platform.refused != 0 {
		t.Errorf("the platform answered %d 429s, want none", platform.refused)
	}
	for k, n := range platform.got {
		if n != 1 {
			t.Errorf("%s posted %d times", k, n)
		}
	}
	if len(platform.at) == 0 {
		t.Fatal("nothing was posted")
	}
	// The steady state: the measured seconds after the first post's second.
	from := platform.at[0].Add(time.Second)
	to := from.Add(measured)
	n := 0
	for _, at := range platform.at {
		if !at.Before(from) && at.Before(to) {
			n++
		}
	}
	rate := float64(n) / measured.Seconds()
	t.Logf("%d posts in the %s after the first second: %.2f/s (limit %d/s)", n, measured, rate, limit)
	if rate < 0.95*limit {
		t.Errorf("steady-state rate %.2f posts/s, want at least %.2f (0.95 of %d/s)", rate, 0.95*limit, limit)
	}
}
