package reminders_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/internal/fakeclock"
	"github.com/datosbot/datosbot/reminders"
)

// groupPlatform is a fake Telegram group on the fake clock: it counts a
// post when it arrives (slow, when slow says so: the request takes that
// long before it arrives) and refuses with a 429 a post that would make
// more than 20 posts into the group within any minute.
type groupPlatform struct {
	clock *fakeclock.Clock
	slow  map[string]time.Duration

	mu      sync.Mutex
	keys    []string
	at      []time.Time
	refused int
}

func (p *groupPlatform) Deliver(ctx context.Context, m datosbot.Message) error {
	p.clock.Advance(p.slow[m.Key])
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.clock.Now()
	n := 0
	for _, t := range p.at {
		if now.Sub(t) < time.Minute {
			n++
		}
	}
	if n >= 20 {
		p.refused++
		return &datosbot.RateLimitError{RetryAfter: time.Minute - now.Sub(p.at[len(p.at)-n])}
	}
	p.keys = append(p.keys, m.Key)
	p.at = append(p.at, now)
	return nil
}

// groupMessages returns n messages into one Telegram group, in order.
func groupMessages(n int) []datosbot.Message {
	var msgs []datosbot.Message
	for i := range n {
		msgs = append(msgs, msg(fmt.Sprintf("grupo-%02d", i+1), "telegram:-100500"))
	}
	return msgs
}

// drainGroup runs DeliverOnce on ob every step of the clock until the
// platform has want posts or a fake hour passes.
func drainGroup(t *testing.T, c *fakeclock.Clock, ob *reminders.Outbox, p *groupPlatform, want int) {
	t.Helper()
	for end := c.Now().Add(time.Hour); c.Now().Before(end); c.Advance(100 * time.Millisecond) {
		if _, err := ob.DeliverOnce(context.Background()); err != nil {
			t.Fatalf("DeliverOnce: %v", err)
		}
		p.mu.Lock()
		n := len(p.keys)
		p.mu.Unlock()
		if n >= want {
			return
		}
	}
}

// checkGroup asserts that the group got msgs once each, in order, without
// a 429, and returns the time from its first post to its last.
func checkGroup(t *testing.T, p *groupPlatform, msgs []datosbot.Message) time.Duration {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	var want []string
	for _, m := range msgs {
		want = append(want, m.Key)
	}
	if !slices.Equal(p.keys, want) {
		t.Fatalf("the group got %v, want each message once in order %v", p.keys, want)
	}
	if p.refused != 0 {
		t.Errorf("the platform answered %d 429s, want none", p.refused)
	}
	return p.at[len(p.at)-1].Sub(p.at[0])
}

// TestGroupCatchesUpAfterAKill: a Telegram group gets 22 messages in order,
// more than Telegram's 20 a minute into one group, and the worker that
// claimed the sixth is killed as its post begins. The kill holds the group
// up for one lease, then the group catches up: the default pace counts 20
// posts in any minute (and one per second) instead of spacing every post
// 3 s apart, so the posts after the stranded one are not each held back.
// All 22 are posted once, in order, with no 429 from a platform that
// allows 20 in any minute, the last within 65 s of the first; a spacing of
// 3 s would take 66 s without any kill and 74 s with it.
func TestGroupCatchesUpAfterAKill(t *testing.T) {
	c := fakeclock.New(at("2026-12-14T09:00"))
	platform := &groupPlatform{clock: c}
	e := newEnv(t, c)
	survivor := reminders.NewOutbox(reminders.OutboxConfig{Store: e.ts.Store, Sender: platform, Now: c.Now})
	msgs := groupMessages(22)
	if err := survivor.Post(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}
	drainGroup(t, c, survivor, platform, 5)

	// The doomed worker claims the sixth message and begins its post,
	// which never arrives: the process is killed.
	doomed := &killable{OutboxStore: e.ts.Reopen(t, c.Now).Store}
	begun, answer := make(chan struct{}), make(chan struct{})
	hung := &sender{clock: c, fail: func(int, datosbot.Message) error {
		close(begun)
		<-answer
		return nil
	}}
	worker := reminders.NewOutbox(reminders.OutboxConfig{Store: doomed, Sender: hung, Now: c.Now})
	var finished chan struct{}
	for claimed := false; !claimed; {
		c.Advance(100 * time.Millisecond) // until the group's next post is due
		finished = make(chan struct{})
		go func() { defer close(finished); worker.DeliverOnce(context.Background()) }()
		select {
		case <-begun:
			claimed = true
		case <-finished:
		}
	}
	doomed.dead.Store(true)
	defer func() { close(answer); <-finished }()

	drainGroup(t, c, survivor, platform, len(msgs))
	took := checkGroup(t, platform, msgs)
	t.Logf("22 posts into one group with a kill: %s from the first to the last", took)
	if took > 65*time.Second {
		t.Errorf("the last post came %s after the first, want within 65s: the group did not catch up after the kill", took)
	}
	if st := e.stats(t); st.Recovered != 1 {
		t.Errorf("stats = %+v, want the killed worker's claim recovered once", st)
	}
}

// TestSlowGroupPostCountsUntilItsEnd: the group's first post takes 5 s to
// arrive. The platform counts it when it arrives, so the 21st post may
// only come a minute after that, not a minute after the first post began:
// the store counts a post from its start until its outcome is recorded.
// The 21st post then draws no 429.
func TestSlowGroupPostCountsUntilItsEnd(t *testing.T) {
	c := fakeclock.New(at("2026-12-14T09:00"))
	msgs := groupMessages(21)
	platform := &groupPlatform{clock: c, slow: map[string]time.Duration{msgs[0].Key: 5 * time.Second}}
	e := newEnv(t, c)
	ob := reminders.NewOutbox(reminders.OutboxConfig{Store: e.ts.Store, Sender: platform, Now: c.Now, SendTimeout: time.Hour})
	if err := ob.Post(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}
	drainGroup(t, c, ob, platform, len(msgs))
	took := checkGroup(t, platform, msgs)
	if took < time.Minute {
		t.Errorf("the 21st post arrived %s after the first, inside the group's minute", took)
	}
}

// TestKilledPostThatArrivedStillCounts: a worker begins the post of a
// group's first message, the platform gets it 3 s later, and the worker
// is killed before recording it. Its claim expires and another replica
// posts the message again (Telegram cannot be asked: the one repeat a kill
// may cost) and the next 19. The dead post still counts in the group's
// minute, from when its worker was surely dead rather than from when it
// began, so the 21st post into the group waits for a minute after the
// first arrival and draws no 429.
func TestKilledPostThatArrivedStillCounts(t *testing.T) {
	c := fakeclock.New(at("2026-12-14T09:00"))
	msgs := groupMessages(20)
	platform := &groupPlatform{clock: c, slow: map[string]time.Duration{msgs[0].Key: 3 * time.Second}}
	e := newEnv(t, c)
	survivor := reminders.NewOutbox(reminders.OutboxConfig{Store: e.ts.Store, Sender: platform, Now: c.Now})
	if err := survivor.Post(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}
	doomed := &killable{OutboxStore: e.ts.Reopen(t, c.Now).Store}
	begun, answer := make(chan struct{}), make(chan struct{})
	hung := &sender{clock: c, fail: func(_ int, m datosbot.Message) error {
		platform.Deliver(context.Background(), m) // it arrives; then the process dies
		close(begun)
		<-answer
		return nil
	}}
	worker := reminders.NewOutbox(reminders.OutboxConfig{Store: doomed, Sender: hung, Now: c.Now})
	finished := make(chan struct{})
	go func() { defer close(finished); worker.DeliverOnce(context.Background()) }()
	select {
	case <-begun:
	case <-time.After(10 * time.Second):
		t.Fatal("the doomed worker never began a post")
	}
	doomed.dead.Store(true)
	defer func() { close(answer); <-finished }()

	drainGroup(t, c, survivor, platform, len(msgs)+1)
	platform.mu.Lock()
	defer platform.mu.Unlock()
	if platform.refused != 0 {
		t.Errorf("the platform answered %d 429s, want none", platform.refused)
	}
	want := []string{msgs[0].Key}
	for _, m := range msgs {
		want = append(want, m.Key)
	}
	if !slices.Equal(platform.keys, want) {
		t.Errorf("the group got %v, want the first message twice (the dead post and its repeat) and then the rest in order", platform.keys)
	}
}
