package reminders_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/internal/fakeclock"
	"github.com/datosbot/datosbot/reminders"
	"github.com/datosbot/datosbot/storage/storagetest"
)

func msg(key string, ch datosbot.ChannelID) datosbot.Message {
	return datosbot.Message{Key: key, Channel: ch, Reply: datosbot.Reply{Text: "hola " + key}}
}

func post(t *testing.T, e *env, msgs ...datosbot.Message) {
	t.Helper()
	if err := e.outbox.Post(context.Background(), msgs...); err != nil {
		t.Fatalf("Post: %v", err)
	}
}

// TestPostIsIdempotent: a key enqueued or sent before is never posted again.
func TestPostIsIdempotent(t *testing.T) {
	c := fakeclock.New(at("2026-12-14T09:00"))
	e := newEnv(t, c)
	post(t, e, msg("k1", "console:a"), msg("k1", "console:a"), msg("k2", "console:a"))
	post(t, e, msg("k2", "console:a"))
	e.drain(t)
	post(t, e, msg("k1", "console:a"))
	e.replica(t, e.sender).outbox.Post(context.Background(), msg("k2", "console:a")) // another replica
	e.drain(t)
	diff(t, "deliveries", keys(e.sender.deliveries()), []string{"k1", "k2"})
	if st := e.stats(t); st.Duplicates != 4 || st.Sent != 2 {
		t.Errorf("stats = %+v, want 4 duplicates and 2 sent", st)
	}
}

// TestInterruptedFanOut stops a worker in the middle of a 500-channel
// fan-out, then lets a fresh Outbox on the same Redis finish it: every
// channel gets its message once.
func TestInterruptedFanOut(t *testing.T) {
	const n = 500
	fanOut := func(t *testing.T, e *env) {
		var msgs []datosbot.Message
		for i := range n {
			msgs = append(msgs, msg("campana-anuncio:C1", datosbot.ChannelID(fmt.Sprintf("console:c%03d", i))))
			msgs[i].Key += ":" + string(msgs[i].Channel)
		}
		post(t, e, msgs...)
	}
	check := func(t *testing.T, got []delivery) {
		t.Helper()
		if d := dupes(got); len(d) > 0 {
			t.Errorf("delivered twice: %v", d)
		}
		if len(got) != n {
			t.Errorf("got %d deliveries, want %d", len(got), n)
		}
	}

	t.Run("worker stopped", func(t *testing.T) {
		c := fakeclock.New(at("2026-12-14T09:00"))
		e := newEnv(t, c)
		fanOut(t, e)
		ctx, cancel := context.WithCancel(context.Background())
		e.sender.fail = func(call int, m datosbot.Message) error {
			if call == 200 {
				cancel()
			}
			return nil
		}
		if err := e.outbox.Run(ctx); err != nil {
			t.Fatalf("Run: %v", err)
		}
		first := len(e.sender.deliveries())
		if first >= n {
			t.Fatalf("the worker delivered all %d before stopping; the test needs it stopped mid-way", first)
		}
		fresh := e.replica(t, e.sender)
		fresh.drain(t)
		check(t, e.sender.deliveries())
		if st := fresh.stats(t); st.Uncertain != 0 || st.Repeated != 0 {
			t.Errorf("stats = %+v, want no uncertain or repeated posts after a clean stop", st)
		}
	})

	t.Run("worker crashed", func(t *testing.T) {
		c := fakeclock.New(at("2026-12-14T09:00"))
		e := newEnv(t, c)
		fanOut(t, e)
		// The first worker's platform hangs after 60 posts: the worker is
		// stuck (as good as dead) holding the rest of its batch.
		hang := make(chan struct{})
		e.sender.fail = func(call int, m datosbot.Message) error {
			if call > 60 {
				<-hang
				return errors.New("connection reset")
			}
			return nil
		}
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); e.outbox.DeliverOnce(context.Background()) }()
		defer func() { close(hang); wg.Wait() }()
		for len(e.sender.deliveries()) < 60 {
			time.Sleep(time.Millisecond)
		}
		fresh := e.replica(t, &sender{clock: c})
		fresh.drain(t)
		c.Advance(3 * time.Minute) // the stuck worker's leases expire
		fresh.drain(t)
		check(t, append(e.sender.deliveries(), fresh.sender.deliveries()...))
		// Each post that had started when its lease expired may have been
		// accepted: it is counted as uncertain.
		e.sender.mu.Lock()
		started := int64(e.sender.calls - 60) // posts begun on the hung platform
		e.sender.mu.Unlock()
		if st := fresh.stats(t); st.Recovered != 40 || st.Uncertain != started || started == 0 {
			t.Errorf("stats = %+v, want 40 recovered and %d uncertain", st, started)
		}
	})
}

// TestDeliveryErrors covers each kind of platform error.
func TestDeliveryErrors(t *testing.T) {
	t.Run("rate limit", func(t *testing.T) {
		c := fakeclock.New(at("2026-12-14T09:00"))
		e := newEnv(t, c)
		start := c.Now()
		limited := false
		e.sender.fail = func(call int, m datosbot.Message) error {
			if m.Key == "k" && !limited {
				limited = true
				return &datosbot.RateLimitError{RetryAfter: 2 * time.Second}
			}
			return nil
		}
		post(t, e, msg("k", "slack:C1"), msg("other", "slack:C2"))
		for range 5 {
			if _, err := e.outbox.DeliverOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
			c.Advance(500 * time.Millisecond)
		}
		got := e.sender.deliveries()
		if len(got) != 2 {
			t.Fatalf("got %d deliveries, want 2: %v", len(got), summary(got))
		}
		for _, d := range got {
			if d.Key == "k" && d.At.Sub(start) < 2*time.Second {
				t.Errorf("rate-limited message delivered after %s, want at least 2s", d.At.Sub(start))
			}
			if d.Key == "other" && d.At != start {
				t.Errorf("other channel's message delivered after %s, want at once", d.At.Sub(start))
			}
		}
		if st := e.stats(t); st.RateLimited != 1 || st.Retried != 0 || st.Sent != 2 {
			t.Errorf("stats = %+v, want 1 rate limited, 0 retried, 2 sent", st)
		}
	})

	t.Run("permanent", func(t *testing.T) {
		c := fakeclock.New(at("2026-12-14T09:00"))
		e := newEnv(t, c)
		e.sender.fail = func(call int, m datosbot.Message) error {
			if m.Channel == "slack:CGONE" {
				return &datosbot.PermanentError{Channel: m.Channel, Reason: "channel_not_found"}
			}
			return nil
		}
		post(t, e, msg("k", "slack:CGONE"))
		e.drain(t)
		fails, err := e.outbox.DeliveryFailures(context.Background(), []datosbot.ChannelID{"slack:CGONE", "slack:COK"})
		if err != nil {
			t.Fatal(err)
		}
		if len(fails) != 1 || fails[0].Channel != "slack:CGONE" || fails[0].Reason != "channel_not_found" || !fails[0].At.Equal(c.Now()) {
			t.Errorf("DeliveryFailures = %+v, want one channel_not_found for slack:CGONE", fails)
		}
		got := e.sender.deliveries()
		if len(got) != 1 || got[0].Channel != unidad || !strings.Contains(got[0].Reply.PlainText(), "slack:CGONE") {
			t.Fatalf("deliveries = %v, want one report to the Unidad naming the channel", summary(got))
		}
		post(t, e, msg("k", "slack:CGONE")) // failed keys are finished too
		e.drain(t)
		if st := e.stats(t); st.Failed != 1 || st.Sent != 1 {
			t.Errorf("stats = %+v, want 1 failed and 1 sent (the report)", st)
		}
	})

	t.Run("channel moved", func(t *testing.T) {
		e := migratedGroupEnv(t)
		post(t, e, msg("k:telegram:-100", "telegram:-100"))
		e.drain(t)
		diff(t, "deliveries", summary(e.sender.deliveries()), []string{"k:telegram:-100 @ 2026-12-14T09:00"})
		if got := e.sender.deliveries(); len(got) != 1 || got[0].Channel != "telegram:-100999" {
			t.Errorf("delivered to %v, want telegram:-100999", got)
		}
		if key, err := e.ts.ChannelInstitution(context.Background(), "telegram:-100999"); err != nil || key != "inegi" {
			t.Errorf("OnMove did not move the channel: ChannelInstitution = %q, %v", key, err)
		}
	})

	t.Run("transient then failed", func(t *testing.T) {
		c := fakeclock.New(at("2026-12-14T09:00"))
		ts := newEnv(t, c).ts
		snd := &sender{clock: c, fail: func(int, datosbot.Message) error { return errors.New("503 service unavailable") }}
		ob := reminders.NewOutbox(reminders.OutboxConfig{Store: ts.Store, Sender: snd, Now: c.Now, MaxAttempts: 4, Backoff: time.Second})
		if err := ob.Post(context.Background(), msg("k", "console:a")); err != nil {
			t.Fatal(err)
		}
		var tries []time.Duration
		start := c.Now()
		for range 200 {
			n, err := ob.DeliverOnce(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if n > 0 {
				tries = append(tries, c.Now().Sub(start))
			}
			c.Advance(100 * time.Millisecond)
		}
		if len(tries) != 4 {
			t.Fatalf("tried at %v, want 4 attempts", tries)
		}
		for i := 1; i < len(tries); i++ {
			gap, min := tries[i]-tries[i-1], time.Second<<(i-1)/2
			if gap < min || gap > 2*min+200*time.Millisecond {
				t.Errorf("wait before attempt %d = %s, want between %s and %s (backoff with jitter)", i+1, gap, min, 2*min)
			}
		}
		st, _ := ob.Stats(context.Background())
		if st.Retried != 3 || st.Failed != 1 {
			t.Errorf("stats = %+v, want 3 retried and 1 failed", st)
		}
	})
}

// TestPacing checks the per-platform limits with a fake clock.
func TestPacing(t *testing.T) {
	t.Run("slack channel one per second", func(t *testing.T) {
		c := fakeclock.New(at("2026-12-14T09:00"))
		e := newEnv(t, c)
		for i := range 10 {
			post(t, e, msg(fmt.Sprint("k", i), "slack:C1"))
		}
		for range 200 {
			e.outbox.DeliverOnce(context.Background())
			c.Advance(100 * time.Millisecond)
		}
		got := e.sender.deliveries()
		if len(got) != 10 {
			t.Fatalf("got %d deliveries, want 10", len(got))
		}
		// One second is Slack's limit; the outbox keeps PaceMargin under it.
		least := time.Second + time.Duration(float64(time.Second)*reminders.PaceMargin)
		for i := 1; i < len(got); i++ {
			if gap := got[i].At.Sub(got[i-1].At); gap < least {
				t.Errorf("posts %d and %d are %s apart, want at least %s", i, i+1, gap, least)
			}
		}
	})

	t.Run("telegram thirty per second", func(t *testing.T) {
		c := fakeclock.New(at("2026-12-14T09:00"))
		e := newEnv(t, c)
		for i := range 100 {
			post(t, e, msg(fmt.Sprint("k", i), datosbot.ChannelID(fmt.Sprintf("telegram:-100%03d", i))))
		}
		for range 1000 {
			e.outbox.DeliverOnce(context.Background())
			c.Advance(5 * time.Millisecond)
		}
		got := e.sender.deliveries()
		if len(got) != 100 {
			t.Fatalf("got %d deliveries, want 100", len(got))
		}
		for i := range got {
			in := 0
			for j := i; j < len(got) && got[j].At.Sub(got[i].At) < time.Second; j++ {
				in++
			}
			if in > 30 {
				t.Fatalf("%d posts in the second from %s, want at most 30", in, got[i].At.Format("15:04:05.000"))
			}
		}
	})

	t.Run("paused channel does not block others", func(t *testing.T) {
		c := fakeclock.New(at("2026-12-14T09:00"))
		e := newEnv(t, c)
		e.sender.fail = func(call int, m datosbot.Message) error {
			if m.Channel == "slack:CSLOW" && call == 1 {
				return &datosbot.RateLimitError{RetryAfter: time.Minute}
			}
			return nil
		}
		post(t, e, msg("slow", "slack:CSLOW"))
		e.outbox.DeliverOnce(context.Background())
		post(t, e, msg("slow2", "slack:CSLOW"), msg("fast", "slack:CFAST"))
		e.outbox.DeliverOnce(context.Background())
		diff(t, "deliveries", keys(e.sender.deliveries()), []string{"fast"})
	})
}

// realSender is a fake platform on the real clock, for Run: it records
// when it accepts each post, and fail (when set) may refuse one first.
type realSender struct {
	mu   sync.Mutex
	got  []delivery
	fail func(m datosbot.Message) error
}

func (s *realSender) Deliver(ctx context.Context, m datosbot.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		if err := s.fail(m); err != nil {
			return err
		}
	}
	s.got = append(s.got, delivery{Key: m.Key, Channel: m.Channel, At: time.Now()})
	return nil
}

func (s *realSender) deliveries() []delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.got)
}

// slowPosting delays the start of the posts of some keys, as a busy Redis
// or a late timer does.
type slowPosting struct {
	reminders.OutboxStore
	delay map[string]time.Duration
}

func (s slowPosting) OutboxPosting(ctx context.Context, key, token string, ch datosbot.ChannelID, now time.Time,
	pace datosbot.PostPace) (time.Duration, bool, error) {
	time.Sleep(s.delay[key])
	return s.OutboxStore.OutboxPosting(ctx, key, token, ch, time.Now(), pace)
}

// runUntil runs ob on the real clock until done reports true, then stops
// it; it fails the test if that takes more than 10 seconds.
func runUntil(t *testing.T, ob *reminders.Outbox, done func() bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error)
	go func() { stopped <- ob.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for !done() && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
	cancel()
	if err := <-stopped; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !done() {
		t.Fatal("Run did not finish within 10 seconds")
	}
}

// TestRunPacing checks Run's pacing on the real clock. Its assertions are
// lower bounds on the spacing, which a slow machine can only widen.
func TestRunPacing(t *testing.T) {
	const every = 20 * time.Millisecond
	least := every + time.Duration(float64(every)*reminders.PaceMargin)
	pace := map[datosbot.Platform]reminders.Pace{datosbot.Slack: {Channel: every}}
	three := []datosbot.Message{msg("k1", "slack:C1"), msg("k2", "slack:C1"), msg("k3", "slack:C1")}

	tests := []struct {
		name  string
		delay map[string]time.Duration                 // start of these posts delayed
		fail  func(call int, m datosbot.Message) error // refuse some posts
		poll  time.Duration
		check func(t *testing.T, got []delivery, limited time.Time)
	}{
		{
			// Without spacing from the actual start, k2 (on time) would
			// follow the late k1 by less than the channel's spacing.
			name:  "a late post pushes the next one back",
			delay: map[string]time.Duration{"k1": 3 * every},
			check: func(t *testing.T, got []delivery, _ time.Time) {
				for i := 1; i < len(got); i++ {
					if gap := got[i].At.Sub(got[i-1].At); gap < least {
						t.Errorf("posts %s and %s are %s apart, want at least %s", got[i-1].Key, got[i].Key, gap, least)
					}
				}
			},
		},
		{
			// k2 and k3 are claimed before k1's 429: they must wait for the
			// Retry-After as well.
			name: "a rate limit holds the channel's claimed posts",
			fail: func(call int, m datosbot.Message) error {
				if call == 1 {
					return &datosbot.RateLimitError{RetryAfter: 5 * every}
				}
				return nil
			},
			check: func(t *testing.T, got []delivery, limited time.Time) {
				for _, d := range got {
					if wait := d.At.Sub(limited); wait < 5*every {
						t.Errorf("%s posted %s after the 429, want at least the Retry-After %s", d.Key, wait, 5*every)
					}
				}
			},
		},
		{
			// Run sleeps PollInterval when the queue looks empty; the
			// message put back after the 429 must wake it.
			name: "a rate-limited post is retried without waiting for the poll",
			poll: time.Hour,
			fail: func(call int, m datosbot.Message) error {
				if call == 3 {
					return &datosbot.RateLimitError{RetryAfter: every}
				}
				return nil
			},
			check: func(t *testing.T, got []delivery, _ time.Time) {},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := storagetest.Open(t, time.Now)
			var (
				mu      sync.Mutex
				calls   int
				limited time.Time
			)
			snd := &realSender{fail: func(m datosbot.Message) error {
				if tt.fail == nil {
					return nil
				}
				mu.Lock()
				defer mu.Unlock()
				calls++
				err := tt.fail(calls, m)
				if err != nil {
					limited = time.Now()
				}
				return err
			}}
			ob := reminders.NewOutbox(reminders.OutboxConfig{Store: slowPosting{ts.Store, tt.delay}, Sender: snd,
				Pace: pace, PollInterval: tt.poll})
			if err := ob.Post(context.Background(), three...); err != nil {
				t.Fatal(err)
			}
			runUntil(t, ob, func() bool { return len(snd.deliveries()) == len(three) })
			got := snd.deliveries()
			slices.SortFunc(got, func(a, b delivery) int { return a.At.Compare(b.At) })
			diff(t, "deliveries", keys(got), []string{"k1", "k2", "k3"})
			// The channel's posts keep the order they were enqueued in.
			var order []string
			for _, d := range got {
				order = append(order, d.Key)
			}
			diff(t, "order of the posts", order, []string{"k1", "k2", "k3"})
			mu.Lock()
			defer mu.Unlock()
			tt.check(t, got, limited)
		})
	}
}

// TestChannelOrder: a channel's messages are posted in the order they were
// enqueued, also when the first is rate limited, retried or given up, and
// whichever replica claims them; other channels are not held back.
func TestChannelOrder(t *testing.T) {
	// A campaign's announcement and then its reminder, in the bot's own
	// key formats: the reminder's key sorts before the announcement's.
	const ch = datosbot.ChannelID("slack:C1")
	anuncio := msg("campana:C1:anuncio:slack:C1", ch)
	recordatorio := msg("campana-recordatorio:C1:d3:slack:C1", ch)
	publicar := msg("publicar:A1:slack:C1", ch)
	enqueued := []string{anuncio.Key, recordatorio.Key, publicar.Key}

	// step drives two replicas on the fake clock, 100 ms at a time, until
	// want posts were accepted (or 5 minutes passed).
	step := func(t *testing.T, e *env, want int) {
		t.Helper()
		other := e.replica(t, e.sender)
		for range 3000 {
			if len(e.sender.deliveries()) >= want {
				return
			}
			for _, r := range []*env{e, other} {
				if _, err := r.outbox.DeliverOnce(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			e.clock.Advance(100 * time.Millisecond)
		}
		t.Fatalf("got %d deliveries, want %d: %v", len(e.sender.deliveries()), want, summary(e.sender.deliveries()))
	}
	inOrder := func(t *testing.T, got []delivery, ch datosbot.ChannelID, want ...string) {
		t.Helper()
		var keys []string
		for _, d := range got {
			if d.Channel == ch {
				keys = append(keys, d.Key)
			}
		}
		if !slices.Equal(keys, want) {
			t.Errorf("posted into %s in the order\n  %s\nwant\n  %s", ch, strings.Join(keys, "\n  "), strings.Join(want, "\n  "))
		}
	}

	t.Run("after a rate limit", func(t *testing.T) {
		c := fakeclock.New(at("2026-12-14T09:00"))
		e := newEnv(t, c)
		var limited time.Time
		e.sender.fail = func(call int, m datosbot.Message) error {
			if m.Key == anuncio.Key && limited.IsZero() {
				limited = c.Now()
				return &datosbot.RateLimitError{RetryAfter: 2 * time.Second}
			}
			return nil
		}
		post(t, e, anuncio, recordatorio)
		if _, err := e.outbox.DeliverOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		c.Advance(500 * time.Millisecond)
		post(t, e, publicar)
		step(t, e, 3)
		got := e.sender.deliveries()
		inOrder(t, got, ch, enqueued...)
		if limited.IsZero() {
			t.Fatal("the announcement was never rate limited")
		}
		if wait := got[0].At.Sub(limited); wait < 2*time.Second {
			t.Errorf("first post %s after the 429, want at least the Retry-After 2s", wait)
		}
		if st := e.stats(t); st.RateLimited != 1 || st.Sent != 3 || st.Queued != 0 || st.InFlight != 0 {
			t.Errorf("stats = %+v, want 1 rate limited, 3 sent, nothing left", st)
		}
	})

	t.Run("after transient failures", func(t *testing.T) {
		c := fakeclock.New(at("2026-12-14T09:00"))
		e := newEnv(t, c)
		e.sender.fail = func(call int, m datosbot.Message) error {
			if m.Key == anuncio.Key && call <= 2 {
				return errors.New("502 bad gateway")
			}
			return nil
		}
		post(t, e, anuncio, recordatorio, publicar)
		step(t, e, 3)
		inOrder(t, e.sender.deliveries(), ch, enqueued...)
		if st := e.stats(t); st.Retried != 2 || st.Sent != 3 {
			t.Errorf("stats = %+v, want 2 retried, 3 sent", st)
		}
	})

	t.Run("a message given up does not block the channel", func(t *testing.T) {
		c := fakeclock.New(at("2026-12-14T09:00"))
		e := newEnv(t, c)
		e.sender.fail = func(call int, m datosbot.Message) error {
			if m.Key == anuncio.Key {
				return &datosbot.PermanentError{Channel: m.Channel, Reason: "msg_too_long"}
			}
			return nil
		}
		post(t, e, anuncio, recordatorio, publicar)
		step(t, e, 3) // the two others and the report to the Unidad
		inOrder(t, e.sender.deliveries(), ch, recordatorio.Key, publicar.Key)
		if st := e.stats(t); st.Failed != 1 || st.Sent != 3 {
			t.Errorf("stats = %+v, want 1 failed, 3 sent", st)
		}
	})

	t.Run("moved to a chat's new id", func(t *testing.T) {
		e := migratedGroupEnv(t)
		post(t, e, msg("campana:C1:anuncio:telegram:-100", "telegram:-100"), msg("campana-recordatorio:C1:d3:telegram:-100", "telegram:-100"))
		step(t, e, 2)
		inOrder(t, e.sender.deliveries(), "telegram:-100999", "campana:C1:anuncio:telegram:-100", "campana-recordatorio:C1:d3:telegram:-100")
	})

	t.Run("a held channel does not hold back others", func(t *testing.T) {
		c := fakeclock.New(at("2026-12-14T09:00"))
		e := newEnv(t, c)
		start := c.Now()
		limited := false
		e.sender.fail = func(call int, m datosbot.Message) error {
			if m.Key == anuncio.Key && !limited {
				limited = true
				return &datosbot.RateLimitError{RetryAfter: time.Minute}
			}
			return nil
		}
		fast := []datosbot.Message{msg("campana:C1:anuncio:slack:C2", "slack:C2"), msg("campana-recordatorio:C1:d3:slack:C2", "slack:C2")}
		post(t, e, anuncio, recordatorio, fast[0], fast[1])
		step(t, e, 2)
		got := e.sender.deliveries()
		inOrder(t, got, "slack:C2", fast[0].Key, fast[1].Key)
		if wait := got[1].At.Sub(start); wait > 2*time.Second {
			t.Errorf("the other channel's second post came %s after the first, want its spacing of about 1s", wait)
		}
		step(t, e, 4)
		got = e.sender.deliveries()
		inOrder(t, got, ch, anuncio.Key, recordatorio.Key)
		if wait := got[2].At.Sub(start); wait < time.Minute {
			t.Errorf("the rate-limited channel posted again after %s, want at least the Retry-After 1m", wait)
		}
	})
}

// migratedGroupEnv is an environment where inegi's Telegram group
// telegram:-100 became the supergroup telegram:-100999: every post to the
// old id answers ChannelMovedError.
func migratedGroupEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t, fakeclock.New(at("2026-12-14T09:00")))
	e.institution(t, "inegi", "telegram:-100")
	e.sender.fail = func(call int, m datosbot.Message) error {
		if m.Channel == "telegram:-100" {
			return &datosbot.ChannelMovedError{From: m.Channel, To: "telegram:-100999"}
		}
		return nil
	}
	return e
}
