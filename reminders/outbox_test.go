package reminders_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/reminders"
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
	c := newClock(at("2026-12-14T09:00"))
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
		c := newClock(at("2026-12-14T09:00"))
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
		c := newClock(at("2026-12-14T09:00"))
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
		c := newClock(at("2026-12-14T09:00"))
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
		c := newClock(at("2026-12-14T09:00"))
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
		c := newClock(at("2026-12-14T09:00"))
		e := newEnv(t, c)
		e.institution(t, "inegi", "telegram:-100")
		e.sender.fail = func(call int, m datosbot.Message) error {
			if m.Channel == "telegram:-100" {
				return &datosbot.ChannelMovedError{From: m.Channel, To: "telegram:-100999"}
			}
			return nil
		}
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
		c := newClock(at("2026-12-14T09:00"))
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
		c := newClock(at("2026-12-14T09:00"))
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
		for i := 1; i < len(got); i++ {
			if gap := got[i].At.Sub(got[i-1].At); gap < time.Second {
				t.Errorf("posts %d and %d are %s apart, want at least 1s", i, i+1, gap)
			}
		}
	})

	t.Run("telegram thirty per second", func(t *testing.T) {
		c := newClock(at("2026-12-14T09:00"))
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
		c := newClock(at("2026-12-14T09:00"))
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
