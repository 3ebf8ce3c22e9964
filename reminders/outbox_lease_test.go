package reminders_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/internal/fakeclock"
	"github.com/datosbot/datosbot/reminders"
)

// errKilled is what every store call of a killed process returns: a
// process killed with SIGKILL writes nothing more.
var errKilled = errors.New("process killed")

// killable is the store of a process that the test kills: after kill,
// nothing it does reaches Redis.
type killable struct {
	reminders.OutboxStore
	dead atomic.Bool
}

func (k *killable) alive() error {
	if k.dead.Load() {
		return errKilled
	}
	return nil
}

func (k *killable) OutboxClaim(ctx context.Context, now time.Time, limit int, lease, horizon time.Duration,
	pace func(ch datosbot.ChannelID) datosbot.PostPace,
	claimed func(m datosbot.Message, token string, attempts int, slot, unsure time.Time)) (time.Time, error) {
	if err := k.alive(); err != nil {
		return time.Time{}, err
	}
	return k.OutboxStore.OutboxClaim(ctx, now, limit, lease, horizon, pace, claimed)
}

func (k *killable) OutboxPosting(ctx context.Context, key, token string, ch datosbot.ChannelID, now time.Time,
	pace datosbot.PostPace) (time.Duration, bool, error) {
	if err := k.alive(); err != nil {
		return 0, false, err
	}
	return k.OutboxStore.OutboxPosting(ctx, key, token, ch, now, pace)
}

func (k *killable) OutboxExtend(ctx context.Context, until time.Time, claims map[string]string) (int, error) {
	if err := k.alive(); err != nil {
		return 0, err
	}
	return k.OutboxStore.OutboxExtend(ctx, until, claims)
}

func (k *killable) OutboxSent(ctx context.Context, key string, ch datosbot.ChannelID, now time.Time, counters ...string) (bool, error) {
	if err := k.alive(); err != nil {
		return false, err
	}
	return k.OutboxStore.OutboxSent(ctx, key, ch, now, counters...)
}

func (k *killable) OutboxRequeue(ctx context.Context, m datosbot.Message, token string, attempts int, at time.Time,
	maybePosted bool, counters ...string) (bool, error) {
	if err := k.alive(); err != nil {
		return false, err
	}
	return k.OutboxStore.OutboxRequeue(ctx, m, token, attempts, at, maybePosted, counters...)
}

// leaseRig is a worker whose platform hangs on every post until the test
// lets it answer, with messages claimed, and a second replica on the same
// store and fake clock.
type leaseRig struct {
	clock    *fakeclock.Clock
	store    *killable
	worker   *reminders.Outbox
	hung     *sender
	other    *env
	answer   chan struct{}
	finished chan struct{}
}

func newLeaseRig(t *testing.T, n int) *leaseRig {
	t.Helper()
	c := fakeclock.New(at("2026-12-14T09:00"))
	e := newEnv(t, c)
	r := &leaseRig{clock: c, store: &killable{OutboxStore: e.ts.Store}, answer: make(chan struct{}), finished: make(chan struct{})}
	var started sync.WaitGroup
	started.Add(n)
	r.hung = &sender{clock: c, fail: func(int, datosbot.Message) error {
		started.Done()
		<-r.answer
		return nil
	}}
	r.worker = reminders.NewOutbox(reminders.OutboxConfig{Store: r.store, Sender: r.hung, Now: c.Now})
	r.other = e.replica(t, &sender{clock: c})
	var msgs []datosbot.Message
	for i := range n {
		msgs = append(msgs, msg(fmt.Sprintf("k%02d", i), datosbot.ChannelID(fmt.Sprintf("console:c%02d", i))))
	}
	post(t, e, msgs...)
	go func() { defer close(r.finished); r.worker.DeliverOnce(context.Background()) }()
	started.Wait() // every message claimed and its post begun
	t.Cleanup(func() {
		select {
		case <-r.answer:
		default:
			close(r.answer)
		}
		<-r.finished
	})
	return r
}

// TestKilledWorkerClaimsReturnQuickly: a worker killed with messages
// claimed (its posts begun, its heartbeat stopped) holds them for one
// short lease at most; another replica posts every one of them within 15
// seconds of the kill.
func TestKilledWorkerClaimsReturnQuickly(t *testing.T) {
	const n = 20
	r := newLeaseRig(t, n)
	ctx := context.Background()
	// While the worker lives, its heartbeat keeps its claims.
	for range 3 {
		r.clock.Advance(2 * time.Second)
		if err := r.worker.Heartbeat(ctx); err != nil {
			t.Fatal(err)
		}
		if got := r.other.drainOnce(t); got != 0 {
			t.Fatalf("another replica claimed %d messages of a live worker", got)
		}
	}
	r.store.dead.Store(true)
	killed := r.clock.Now()
	for len(r.other.sender.deliveries()) < n && r.clock.Now().Sub(killed) < time.Minute {
		r.clock.Advance(time.Second)
		r.other.drainOnce(t)
	}
	took := r.clock.Now().Sub(killed)
	if got := len(r.other.sender.deliveries()); got != n {
		t.Fatalf("the other replica posted %d of the %d messages the killed worker held", got, n)
	}
	if took > 15*time.Second {
		t.Errorf("the killed worker's messages were posted %s after the kill, want within 15s", took)
	}
	if d := dupes(r.other.sender.deliveries()); len(d) > 0 {
		t.Errorf("posted twice by the other replica: %v", d)
	}
	close(r.answer) // the killed process's posts never get recorded
	<-r.finished
	if st := r.other.stats(t); st.Recovered != n || st.Sent != n {
		t.Errorf("stats = %+v, want %d recovered and %d sent", st, n, n)
	}
}

// TestSlowPlatformKeepsClaims: a live worker whose platform takes longer
// than many leases to answer keeps its claims, so no other replica posts
// its messages; when the platform answers, each message was posted once.
func TestSlowPlatformKeepsClaims(t *testing.T) {
	const n = 5
	r := newLeaseRig(t, n)
	ctx := context.Background()
	for range 10 { // 20 seconds: more than two leases
		r.clock.Advance(2 * time.Second)
		if err := r.worker.Heartbeat(ctx); err != nil {
			t.Fatal(err)
		}
		if got := r.other.drainOnce(t); got != 0 {
			t.Fatalf("another replica claimed %d messages of a live worker on a slow platform", got)
		}
	}
	close(r.answer)
	<-r.finished
	r.other.drain(t)
	if got := len(r.hung.deliveries()) + len(r.other.sender.deliveries()); got != n {
		t.Errorf("%d posts, want %d (each message once)", got, n)
	}
	if st := r.other.stats(t); st.Sent != n || st.Recovered != 0 || st.Repeated != 0 {
		t.Errorf("stats = %+v, want %d sent, none recovered or repeated", st, n)
	}
}

// drainOnce runs one DeliverOnce at the clock's instant and returns how
// many messages it handled.
func (e *env) drainOnce(t testing.TB) int {
	t.Helper()
	n, err := e.outbox.DeliverOnce(context.Background())
	if err != nil {
		t.Fatalf("DeliverOnce: %v", err)
	}
	return n
}

// TestKilledWorkersClaimGoesBeforeTheBacklog: in a fan-out to 300
// one-post Telegram groups, 10 s of posts at Telegram's 30 a second, the
// worker that claimed the first message is killed as its post begins.
// When its lease ends, the message goes to the front of the queue and
// keeps its place there while Telegram's pace holds it back: the
// surviving replica posts it as soon as its lease lets it, not behind
// the rest of the fan-out (the first message's key sorts last, so a queue
// that fell back to the order of the keys would post it last), and every
// message is posted once.
func TestKilledWorkersClaimGoesBeforeTheBacklog(t *testing.T) {
	const n = 300
	c := fakeclock.New(at("2026-12-14T09:00"))
	e := newEnv(t, c)
	var msgs []datosbot.Message
	for i := range n {
		msgs = append(msgs, msg(fmt.Sprintf("grupo-%03d", n-i), datosbot.ChannelID(fmt.Sprintf("telegram:-100%04d", i))))
	}
	post(t, e, msgs[0])
	c.Advance(time.Millisecond)
	post(t, e, msgs[1:]...)

	store := &killable{OutboxStore: e.ts.Reopen(t, c.Now).Store}
	var stranded string
	begun, answer, finished := make(chan struct{}), make(chan struct{}), make(chan struct{})
	hung := &sender{clock: c, fail: func(_ int, m datosbot.Message) error {
		stranded = m.Key
		close(begun)
		<-answer
		return nil
	}}
	worker := reminders.NewOutbox(reminders.OutboxConfig{Store: store, Sender: hung, Now: c.Now, Batch: 1})
	go func() { defer close(finished); worker.DeliverOnce(context.Background()) }()
	<-begun
	store.dead.Store(true)
	killed := c.Now()
	defer func() { close(answer); <-finished }()
	if stranded != msgs[0].Key {
		t.Fatalf("the killed worker claimed %s, want the first message queued, %s", stranded, msgs[0].Key)
	}

	for c.Now().Sub(killed) < time.Minute && len(e.sender.deliveries()) < n {
		// Telegram's spacing is a microsecond over a thirtieth of a
		// second, so every other step the pace holds the whole queue back.
		c.Advance(time.Second / 30)
		e.drainOnce(t)
	}
	got := e.sender.deliveries()
	if len(got) != n {
		t.Fatalf("the surviving replica posted %d of %d messages", len(got), n)
	}
	if d := dupes(got); len(d) > 0 {
		t.Fatalf("posted twice: %v", d)
	}
	const lease = 8 * time.Second // the default
	for i, d := range got {
		if d.Key != stranded {
			continue
		}
		if wait := d.At.Sub(killed); wait > lease+time.Second || i > n/2 {
			t.Errorf("the killed worker's message was posted %s after the kill, after %d of the %d others; want within a second of its %s lease, before the backlog",
				wait.Round(100*time.Millisecond), i, n-1, lease)
		}
	}
}
