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
// (sliding, not per calendar second), or more than perGroup posts into one
// group chat within any groupWindow, and records the instant of each post
// it accepts.
type windowPlatform struct {
	clock       *fakeclock.Clock
	limit       int
	window      time.Duration
	perGroup    int
	groupWindow time.Duration

	mu      sync.Mutex
	at      []time.Time
	byGroup map[datosbot.ChannelID][]time.Time
	got     map[string]int
	refused int
}

func (p *windowPlatform) Deliver(ctx context.Context, m datosbot.Message) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.clock.Now()
	within := func(ts []time.Time, window time.Duration) int {
		n := 0
		for _, t := range ts {
			if now.Sub(t) < window {
				n++
			}
		}
		return n
	}
	group := m.Channel.Local()[0] == '-'
	if within(p.at, p.window) >= p.limit || group && p.perGroup > 0 && within(p.byGroup[m.Channel], p.groupWindow) >= p.perGroup {
		p.refused++
		return &datosbot.RateLimitError{RetryAfter: p.window}
	}
	p.at = append(p.at, now)
	if group {
		if p.byGroup == nil {
			p.byGroup = map[datosbot.ChannelID][]time.Time{}
		}
		p.byGroup[m.Channel] = append(p.byGroup[m.Channel], now)
	}
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
	var msgs []datosbot.Message
	for i := range 170 {
		msgs = append(msgs, msg(fmt.Sprintf("privado-%03d", i), datosbot.ChannelID(fmt.Sprintf("telegram:%d", 1000+i))))
	}
	c := fakeclock.New(at("2026-12-14T09:00"))
	platform := &windowPlatform{clock: c, limit: 30, window: time.Second, got: map[string]int{}}
	checkFanOutRate(t, c, platform, reminders.DefaultPace(), msgs)
}

// TestGroupsAtTheirLimitKeepThePlatformRate: the same fan-out, while three
// groups with 30 posts each keep reaching their own limit (5 in any second
// here: Telegram's 20 a minute compressed) and wait for it. A group that
// must wait takes no slot of the platform's 30 per second, so the rate
// stays at least 0.95 of the limit with no 429.
func TestGroupsAtTheirLimitKeepThePlatformRate(t *testing.T) {
	var msgs []datosbot.Message
	for i := range 170 {
		msgs = append(msgs, msg(fmt.Sprintf("privado-%03d", i), datosbot.ChannelID(fmt.Sprintf("telegram:%d", 1000+i))))
		if i < 30 {
			for g := range 3 {
				msgs = append(msgs, msg(fmt.Sprintf("grupo-%d-%03d", g, i), datosbot.ChannelID(fmt.Sprintf("telegram:-%d", 500+g))))
			}
		}
	}
	pace := reminders.DefaultPace()
	tg := pace[datosbot.Telegram]
	tg.Channel, tg.GroupLimit, tg.GroupWindow = 10*time.Millisecond, 5, time.Second
	pace[datosbot.Telegram] = tg
	c := fakeclock.New(at("2026-12-14T09:00"))
	platform := &windowPlatform{clock: c, limit: 30, window: time.Second, perGroup: 5, groupWindow: time.Second, got: map[string]int{}}
	checkFanOutRate(t, c, platform, pace, msgs)
}

// checkFanOutRate posts msgs through two replicas with pace, on the fake
// clock moved 2 ms at a time (the replicas taking turns), and checks that
// the platform answered no 429, got no message twice, and got at least
// 0.95 of its limit per second in the steady state: the 4 seconds after
// the first post's second.
func checkFanOutRate(t *testing.T, c *fakeclock.Clock, platform *windowPlatform, pace map[datosbot.Platform]reminders.Pace, msgs []datosbot.Message) {
	t.Helper()
	const (
		measured = 4 * time.Second
		step     = 2 * time.Millisecond
	)
	shared := newEnv(t, c).ts
	var outboxes []*reminders.Outbox
	for range 2 {
		outboxes = append(outboxes, reminders.NewOutbox(reminders.OutboxConfig{Store: shared.Reopen(t, c.Now).Store,
			Sender: platform, Now: c.Now, Pace: pace}))
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
	t.Logf("%d posts in the %s after the first second: %.2f/s (limit %d/s)", n, measured, rate, platform.limit)
	if rate < 0.95*float64(platform.limit) {
		t.Errorf("steady-state rate %.2f posts/s, want at least %.2f (0.95 of %d/s)", rate, 0.95*float64(platform.limit), platform.limit)
	}
}
