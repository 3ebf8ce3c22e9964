package telegram

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/bot"
	"github.com/datosbot/datosbot/internal/fakeclock"
	"github.com/datosbot/datosbot/reminders"
	"github.com/datosbot/datosbot/storage/storagetest"
)

// These tests run the bot's own posts end to end through the real pieces:
// the durable outbox on the real store (miniredis, or the Redis of
// DATOSBOT_TEST_REDIS_URL), the runtime's Deliver and this adapter, against
// the fake Bot API. The outbox runs on a fake clock, so waits never sleep:
// DeliverOnce claims what is due at the clock's time.

// deliveryT0 is the start of the delivery tests' clock.
var deliveryT0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// deliveryRig is the outbox, store and runtime of one test.
type deliveryRig struct {
	clock  *fakeclock.Clock
	store  *storagetest.Store
	outbox *reminders.Outbox
}

// newDeliveryRig wires an adapter on f into the runtime and the outbox;
// with follow, the outbox records moved chats in the store as
// cmd/datosbot does.
func newDeliveryRig(t *testing.T, f *fakeAPI, follow bool) *deliveryRig {
	t.Helper()
	r := &deliveryRig{clock: fakeclock.New(deliveryT0)}
	r.store = storagetest.Open(t, r.clock.Now)
	a, _ := newAdapter(t, f, Config{})
	b := bot.NewRouter(a)
	cfg := reminders.OutboxConfig{Store: r.store, Sender: b, Now: r.clock.Now}
	if follow {
		cfg.OnMove = func(ctx context.Context, from, to datosbot.ChannelID) error {
			return r.store.MoveChannel(ctx, from, to, "sistema")
		}
	}
	r.outbox = reminders.NewOutbox(cfg)
	return r
}

// deliverAt sets the clock to deliveryT0+d and runs one delivery round; it
// returns how many messages the round handled.
func (r *deliveryRig) deliverAt(t *testing.T, d time.Duration) int {
	t.Helper()
	r.clock.Set(deliveryT0.Add(d))
	n, err := r.outbox.DeliverOnce(context.Background())
	if err != nil {
		t.Fatalf("DeliverOnce at t0+%s: %v", d, err)
	}
	return n
}

// sentTo returns the chat ids of the sendMessage calls after the first
// skip ones.
func sentTo(f *fakeAPI, skip int) []string {
	var out []string
	for _, c := range f.callsOf("sendMessage")[skip:] {
		out = append(out, c.Params["chat_id"])
	}
	return out
}

// TestDeliveryWaitsForRetryAfter: the Bot API answers the first
// sendMessage with a flood wait of 3 seconds. The outbox makes one
// attempt at t0, none before t0+3s, and delivers once at t0+3s. The chat
// is a private one, paced one post a second, so that the wait seen is
// the flood wait and not a group's pacing of one post every 3 seconds.
func TestDeliveryWaitsForRetryAfter(t *testing.T) {
	f := newFakeAPI(t)
	f.answerTimes("sendMessage 5550001", 1, 429,
		`{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 3","parameters":{"retry_after":3}}`)
	rig := newDeliveryRig(t, f, false)
	msg := datosbot.Message{Key: "recordatorio:2026-B6:14:telegram:5550001", Channel: "telegram:5550001",
		Reply: datosbot.Reply{Title: "Recordatorio", Text: "Faltan 14 días para cerrar el bimestre 2026-B6."}}
	if err := rig.outbox.Post(context.Background(), msg); err != nil {
		t.Fatal(err)
	}

	steps := []struct {
		name        string
		at          time.Duration
		wantHandled int
		wantSent    []string // sendMessage chat ids in this round
	}{
		{"t0: one attempt, flood wait", 0, 1, []string{"5550001"}},
		{"t0+1s: waiting", time.Second, 0, nil},
		{"t0+2.9s: waiting", 2900 * time.Millisecond, 0, nil},
		{"t0+3s: delivered", 3 * time.Second, 1, []string{"5550001"}},
		{"t0+1h: nothing left", time.Hour, 0, nil},
	}
	seen := 0
	for _, s := range steps {
		if got := rig.deliverAt(t, s.at); got != s.wantHandled {
			t.Errorf("%s: got %d handled, want %d", s.name, got, s.wantHandled)
		}
		if got := sentTo(f, seen); !slices.Equal(got, s.wantSent) {
			t.Errorf("%s: got sendMessage to %v, want %v", s.name, got, s.wantSent)
		}
		seen = len(f.callsOf("sendMessage"))
	}

	// Enqueueing the same key again is a no-op: still one delivery.
	if err := rig.outbox.Post(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	if got := rig.deliverAt(t, 2*time.Hour); got != 0 {
		t.Errorf("after re-posting the delivered key: got %d handled, want 0", got)
	}
	calls := f.callsOf("sendMessage")
	if len(calls) != 2 {
		t.Fatalf("got %d sendMessage calls, want 2: the refused one and the delivery", len(calls))
	}
	if calls[1].Params["text"] != calls[0].Params["text"] {
		t.Errorf("the delivery sent %q, want the refused post's text %q", calls[1].Params["text"], calls[0].Params["text"])
	}
	st, err := rig.outbox.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Sent != 1 || st.RateLimited != 1 || st.Repeated != 0 || st.Duplicates != 1 || st.Queued != 0 || st.InFlight != 0 {
		t.Errorf("got stats %+v, want Sent 1, RateLimited 1, Duplicates 1, Repeated 0 and an empty queue", st)
	}
}

// TestDeliveryFollowsMigratedGroup: the institution's group -100 became
// the supergroup -1001234. The post refused by the old id is delivered to
// the new one, the store now lists the new id, and later posts to the
// institution's channels go there.
func TestDeliveryFollowsMigratedGroup(t *testing.T) {
	const (
		old   datosbot.ChannelID = "telegram:-100"
		moved datosbot.ChannelID = "telegram:-1001234"
		admin datosbot.UserID    = "telegram:9000001"
	)
	ctx := context.Background()
	f := newFakeAPI(t)
	f.answer("sendMessage -100", 400,
		`{"ok":false,"error_code":400,"description":"Bad Request: group chat was upgraded to a supergroup chat","parameters":{"migrate_to_chat_id":-1001234}}`)
	rig := newDeliveryRig(t, f, true)
	if err := rig.store.CreateInstitution(ctx, datosbot.Institution{Key: "inegi", Name: "Instituto Nacional de Estadística y Geografía", Active: true}, admin); err != nil {
		t.Fatal(err)
	}
	if err := rig.store.LinkChannel(ctx, old, "inegi", admin); err != nil {
		t.Fatal(err)
	}

	// postToInstitution enqueues one message per channel the store lists
	// for inegi, as reminders and campaigns do.
	postToInstitution := func(occurrence, text string) {
		t.Helper()
		inst, err := rig.store.Institution(ctx, "inegi")
		if err != nil {
			t.Fatal(err)
		}
		var msgs []datosbot.Message
		for _, ch := range inst.Channels {
			msgs = append(msgs, datosbot.Message{Key: occurrence + ":" + string(ch), Channel: ch, Reply: datosbot.Reply{Text: text}})
		}
		if err := rig.outbox.Post(ctx, msgs...); err != nil {
			t.Fatal(err)
		}
	}

	postToInstitution("recordatorio:2026-B6:14", "Faltan 14 días para cerrar el bimestre 2026-B6.")
	if got := rig.deliverAt(t, 0); got != 1 {
		t.Fatalf("t0: got %d handled, want 1", got)
	}
	if got := sentTo(f, 0); !slices.Equal(got, []string{"-100"}) {
		t.Fatalf("t0: got sendMessage to %v, want one to -100", got)
	}
	inst, err := rig.store.Institution(ctx, "inegi")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(inst.Channels, []datosbot.ChannelID{moved}) {
		t.Errorf("stored channels: got %v, want [%s]", inst.Channels, moved)
	}
	if key, err := rig.store.ChannelInstitution(ctx, moved); err != nil || key != "inegi" {
		t.Errorf("ChannelInstitution(%s): got %q, %v; want inegi", moved, key, err)
	}
	if _, err := rig.store.ChannelInstitution(ctx, old); datosbot.ErrorCode(err) != datosbot.ENOTFOUND {
		t.Errorf("ChannelInstitution(%s): got %v, want ENOTFOUND", old, err)
	}

	steps := []struct {
		name        string
		at          time.Duration
		post        string // occurrence posted to the institution before the round, if any
		wantHandled int
		wantSent    []string
	}{
		{"t0+1s: the refused post goes to the supergroup", time.Second, "", 1, []string{"-1001234"}},
		{"t0+1h: nothing left", time.Hour, "", 0, nil},
		{"t0+2h: a later post goes to the supergroup", 2 * time.Hour, "recordatorio:2026-B6:3", 1, []string{"-1001234"}},
	}
	seen := len(f.callsOf("sendMessage"))
	for _, s := range steps {
		if s.post != "" {
			postToInstitution(s.post, "Faltan 3 días para cerrar el bimestre 2026-B6.")
		}
		if got := rig.deliverAt(t, s.at); got != s.wantHandled {
			t.Errorf("%s: got %d handled, want %d", s.name, got, s.wantHandled)
		}
		if got := sentTo(f, seen); !slices.Equal(got, s.wantSent) {
			t.Errorf("%s: got sendMessage to %v, want %v", s.name, got, s.wantSent)
		}
		seen = len(f.callsOf("sendMessage"))
	}
	calls := f.callsOf("sendMessage")
	if len(calls) != 3 || calls[1].Params["text"] != calls[0].Params["text"] {
		t.Errorf("got %d sendMessage calls, want 3 with the refused post's text repeated to the supergroup", len(calls))
	}
	st, err := rig.outbox.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Sent != 2 || st.Moved != 1 || st.Failed != 0 || st.Queued != 0 {
		t.Errorf("got stats %+v, want Sent 2, Moved 1, Failed 0 and an empty queue", st)
	}
}
