package reminders_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/reminders"
	"github.com/datosbot/datosbot/storage/storagetest"
)

// countingPlatform is a fake platform on the real clock that counts a post
// when it arrives and refuses it with a 429 when it would make more than
// total posts within any window, or more than perGroup into one group
// chat (a Telegram chat id below zero) within any window.
type countingPlatform struct {
	total, perGroup int
	window          time.Duration

	mu      sync.Mutex
	all     []time.Time
	byChat  map[datosbot.ChannelID][]time.Time
	got     map[string]int
	refused int
}

func (p *countingPlatform) Deliver(ctx context.Context, m datosbot.Message) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	within := func(ts []time.Time) int {
		n := 0
		for _, t := range ts {
			if now.Sub(t) < p.window {
				n++
			}
		}
		return n
	}
	group := m.Channel.Local()[0] == '-'
	if within(p.all) >= p.total || group && within(p.byChat[m.Channel]) >= p.perGroup {
		p.refused++
		return &datosbot.RateLimitError{RetryAfter: p.window}
	}
	p.all = append(p.all, now)
	p.byChat[m.Channel] = append(p.byChat[m.Channel], now)
	p.got[m.Key]++
	return nil
}

// TestRunStaysUnderCountLimits: two replicas fan out to a platform that
// allows 30 posts in any second overall and 20 per second per group
// (Telegram's limits, the group's minute compressed to a second), while some posts start late as
// behind a busy Redis; the platform never answers 429, and every message
// is posted once.
func TestRunStaysUnderCountLimits(t *testing.T) {
	pace := map[datosbot.Platform]reminders.Pace{datosbot.Telegram: {Channel: 10 * time.Millisecond,
		GroupLimit: 20, GroupWindow: time.Second, Platform: time.Second / 30}}
	platform := &countingPlatform{total: 30, perGroup: 20, window: time.Second,
		byChat: map[datosbot.ChannelID][]time.Time{}, got: map[string]int{}}
	var msgs []datosbot.Message
	delay := map[string]time.Duration{}
	for i := range 60 {
		m := msg(fmt.Sprintf("privado-%03d", i), datosbot.ChannelID(fmt.Sprintf("telegram:%d", 1000+i)))
		if i%10 == 0 {
			delay[m.Key] = 120 * time.Millisecond
		}
		msgs = append(msgs, m)
	}
	for g := range 2 {
		for i := range 24 {
			msgs = append(msgs, msg(fmt.Sprintf("grupo-%d-%02d", g, i), datosbot.ChannelID(fmt.Sprintf("telegram:-%d", 500+g))))
		}
	}
	ts := storagetest.Open(t, time.Now)
	var outboxes []*reminders.Outbox
	for range 2 {
		outboxes = append(outboxes, reminders.NewOutbox(reminders.OutboxConfig{Store: slowPosting{ts.Reopen(t, time.Now).Store, delay},
			Sender: platform, Pace: pace}))
	}
	if err := outboxes[0].Post(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}
	done := func() bool {
		platform.mu.Lock()
		defer platform.mu.Unlock()
		return len(platform.got) == len(msgs)
	}
	var wg sync.WaitGroup
	for _, ob := range outboxes {
		wg.Add(1)
		go func() { defer wg.Done(); runFor(t, ob, 20*time.Second, done) }()
	}
	wg.Wait()
	platform.mu.Lock()
	defer platform.mu.Unlock()
	if platform.refused != 0 {
		t.Errorf("the platform answered %d 429s, want none", platform.refused)
	}
	if len(platform.got) != len(msgs) {
		t.Errorf("posted %d distinct messages, want %d", len(platform.got), len(msgs))
	}
	for k, n := range platform.got {
		if n != 1 {
			t.Errorf("%s posted %d times", k, n)
		}
	}
}

// runFor runs ob on the real clock until done reports true or limit
// passes, then stops it.
func runFor(t *testing.T, ob *reminders.Outbox, limit time.Duration, done func() bool) {
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error)
	go func() { stopped <- ob.Run(ctx) }()
	deadline := time.Now().Add(limit)
	for !done() && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-stopped; err != nil {
		t.Errorf("Run: %v", err)
	}
}
