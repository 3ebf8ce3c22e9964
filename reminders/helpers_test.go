package reminders_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/commands"
	"github.com/datosbot/datosbot/internal/fakeclock"
	"github.com/datosbot/datosbot/reminders"
	"github.com/datosbot/datosbot/storage"
	"github.com/datosbot/datosbot/storage/storagetest"
)

var (
	_ reminders.Store       = (*storage.Store)(nil)
	_ reminders.OutboxStore = (*storage.Store)(nil)
	_ commands.Poster       = (*reminders.Outbox)(nil)
	_ reminders.Poster      = (*reminders.Outbox)(nil)
)

var mexico = func() *time.Location {
	loc, err := time.LoadLocation("America/Mexico_City")
	if err != nil {
		panic(err)
	}
	return loc
}()

// at returns a local instant in Mexico City, "2006-01-02T15:04".
func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02T15:04", s, mexico)
	if err != nil {
		panic(err)
	}
	return t
}

// delivery is one message the fake platform accepted.
type delivery struct {
	Key     string
	Channel datosbot.ChannelID
	At      time.Time
	Reply   datosbot.Reply
}

// sender is a fake platform: it records what it accepts, and fail (when
// set) may refuse a post with an error first.
type sender struct {
	clock *fakeclock.Clock
	mu    sync.Mutex
	got   []delivery
	calls int
	fail  func(call int, m datosbot.Message) error
}

func (s *sender) Deliver(ctx context.Context, m datosbot.Message) error {
	s.mu.Lock()
	s.calls++
	call, fail := s.calls, s.fail
	s.mu.Unlock()
	if fail != nil {
		if err := fail(call, m); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = append(s.got, delivery{Key: m.Key, Channel: m.Channel, At: s.clock.Now(), Reply: m.Reply})
	return nil
}

func (s *sender) deliveries() []delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.got)
}

// keys returns the sorted keys of ds.
func keys(ds []delivery) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.Key
	}
	slices.Sort(out)
	return out
}

// dupes returns the keys delivered more than once.
func dupes(ds []delivery) []string {
	seen := map[string]int{}
	var out []string
	for _, d := range ds {
		if seen[d.Key]++; seen[d.Key] == 2 {
			out = append(out, d.Key)
		}
	}
	return out
}

const unidad = datosbot.ChannelID("slack:CUNIDAD")

// env is one replica: a store on the shared server, an outbox and a
// scheduler, all on the fake clock.
type env struct {
	ts     *storagetest.Store
	clock  *fakeclock.Clock
	sender *sender
	outbox *reminders.Outbox
	sched  *reminders.Scheduler
}

func newEnv(t testing.TB, c *fakeclock.Clock) *env {
	t.Helper()
	return replica(t, storagetest.Open(t, c.Now), c, &sender{clock: c})
}

// replica returns another replica on the same server and prefix as e.
func (e *env) replica(t testing.TB, snd *sender) *env {
	t.Helper()
	return replica(t, e.ts.Reopen(t, e.clock.Now), e.clock, snd)
}

func replica(t testing.TB, ts *storagetest.Store, c *fakeclock.Clock, snd *sender) *env {
	t.Helper()
	ob := reminders.NewOutbox(reminders.OutboxConfig{
		Store: ts.Store, Sender: snd, Now: c.Now, UnidadChannel: unidad,
		OnMove: func(ctx context.Context, from, to datosbot.ChannelID) error {
			return ts.MoveChannel(ctx, from, to, "sistema")
		},
	})
	s := &reminders.Scheduler{Store: ts.Store, Outbox: ob, Now: c.Now, UnidadChannel: unidad}
	return &env{ts: ts, clock: c, sender: snd, outbox: ob, sched: s}
}

// institution creates an active institution with channels.
func (e *env) institution(t testing.TB, key string, channels ...datosbot.ChannelID) {
	t.Helper()
	ctx := context.Background()
	if err := e.ts.CreateInstitution(ctx, datosbot.Institution{Key: key, Name: "Institución " + strings.ToUpper(key)}, "console:admin"); err != nil {
		t.Fatalf("CreateInstitution(%s): %v", key, err)
	}
	for _, ch := range channels {
		if err := e.ts.LinkChannel(ctx, ch, key, "console:admin"); err != nil {
			t.Fatalf("LinkChannel(%s, %s): %v", ch, key, err)
		}
	}
}

// action registers an action of key published on day.
func (e *env) action(t testing.TB, id, key, day string) {
	t.Helper()
	d, err := datosbot.ParseDate(day)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = e.ts.AddAction(context.Background(), datosbot.Action{ID: id, Institution: key, PublishedOn: d,
		DataURLs:    []string{"https://www.datos.gob.mx/dataset/" + id},
		EvidenceURL: "https://www.gob.mx/" + key + "/prensa/" + id, Medium: datosbot.MediumWeb, Type: datosbot.TypeUso,
		RegisteredBy: "console:ana"})
	if err != nil {
		t.Fatalf("AddAction(%s): %v", id, err)
	}
}

// drain delivers until the queue is empty, moving the clock a second at a
// time while pacing holds messages back.
func (e *env) drain(t testing.TB) {
	t.Helper()
	for range 1000 {
		n, err := e.outbox.DeliverOnce(context.Background())
		if err != nil {
			t.Fatalf("DeliverOnce: %v", err)
		}
		if n > 0 {
			continue
		}
		if st := e.stats(t); st.Queued == 0 {
			return
		}
		e.clock.Advance(time.Second)
	}
	t.Fatal("DeliverOnce never ran out of messages")
}

func (e *env) tick(t testing.TB) {
	t.Helper()
	if err := e.sched.Tick(context.Background()); err != nil {
		t.Fatalf("Tick at %s: %v", e.clock.Now().In(mexico).Format(time.RFC3339), err)
	}
}

// runUntil ticks and drains every step from the clock's instant to end.
func (e *env) runUntil(t testing.TB, end time.Time, step time.Duration) {
	t.Helper()
	for ; !e.clock.Now().After(end); e.clock.Advance(step) {
		e.tick(t)
		e.drain(t)
	}
}

func (e *env) stats(t testing.TB) reminders.Stats {
	t.Helper()
	st, err := e.outbox.Stats(context.Background())
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	return st
}

// summary renders deliveries as "key @ local time" lines.
func summary(ds []delivery) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = fmt.Sprintf("%s @ %s", d.Key, d.At.In(mexico).Format("2006-01-02T15:04"))
	}
	slices.Sort(out)
	return out
}

func diff(t testing.TB, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\ngot  %s\nwant %s", what, strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}
}
