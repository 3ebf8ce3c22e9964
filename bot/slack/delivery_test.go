package slack

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/bot"
	"github.com/datosbot/datosbot/commands"
	"github.com/datosbot/datosbot/internal/fakeclock"
	"github.com/datosbot/datosbot/reminders"
	"github.com/datosbot/datosbot/storage/storagetest"
)

// These tests run the bot's own posts end to end through the real pieces:
// the durable outbox on the real store (miniredis, or the Redis of
// DATOSBOT_TEST_REDIS_URL), the runtime's Deliver and this adapter, against
// the fake Web API. The outbox runs on a fake clock, so waits never sleep:
// DeliverOnce claims what is due at the clock's time.

// deliveryRig is the outbox, store, runtime and adapter of one test.
type deliveryRig struct {
	clock   *fakeclock.Clock
	store   *storagetest.Store
	adapter *Adapter
	router  *bot.Router
	outbox  *reminders.Outbox
}

// newDeliveryRig wires an adapter calling the Web API at apiURL into the
// runtime and the outbox. unidad is the outbox's UnidadChannel.
func newDeliveryRig(t *testing.T, apiURL string, unidad datosbot.ChannelID) *deliveryRig {
	t.Helper()
	r := &deliveryRig{clock: fakeclock.New(testNow)}
	r.store = storagetest.Open(t, r.clock.Now)
	a, err := New(Config{BotToken: "xoxb-test", SigningSecret: testSecret, APIURL: apiURL, Now: r.clock.Now,
		Logger: quiet, AckTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	r.adapter = a
	r.router = bot.NewRouter(a)
	r.outbox = reminders.NewOutbox(reminders.OutboxConfig{Store: r.store, Sender: r.router, Now: r.clock.Now,
		UnidadChannel: unidad, Logger: quiet})
	return r
}

// deliverAt sets the clock to testNow+d and runs one delivery round; it
// returns how many messages the round handled.
func (r *deliveryRig) deliverAt(t *testing.T, d time.Duration) int {
	t.Helper()
	r.clock.Set(testNow.Add(d))
	n, err := r.outbox.DeliverOnce(context.Background())
	if err != nil {
		t.Fatalf("DeliverOnce at t0+%s: %v", d, err)
	}
	return n
}

// drain returns the calls the fake has recorded and not yet returned.
// DeliverOnce waits for its posts, and the fake records a call before it
// answers, so after DeliverOnce every call it made is here.
func drain(f *fakeSlack) []apiCall {
	var out []apiCall
	for {
		select {
		case c := <-f.calls:
			out = append(out, c)
		default:
			return out
		}
	}
}

// postsTo returns the channels of the chat.postMessage calls among calls.
func postsTo(calls []apiCall) []string {
	var out []string
	for _, c := range calls {
		if c.Method == "chat.postMessage" {
			out = append(out, c.Form.Get("channel"))
		}
	}
	return out
}

func writeOK(w http.ResponseWriter, channel string) {
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"ok":true,"channel":%q,"ts":"1700000000.000100"}`, channel)
}

// TestDeliveryWaitsForRetryAfter: Slack answers the first post with 429
// and Retry-After: 2. The outbox makes one attempt at t0, none at t0+1s,
// and delivers at t0+2s; the fake accepts the message exactly once.
func TestDeliveryWaitsForRetryAfter(t *testing.T) {
	f := newFakeSlack(t)
	var calls, accepted atomic.Int64
	f.answer("chat.postMessage", func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "2")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"ok":false,"error":"ratelimited"}`)
			return
		}
		accepted.Add(1)
		writeOK(w, "C0INEGI01")
	})
	rig := newDeliveryRig(t, f.apiURL(), "")
	msg := datosbot.Message{Key: "recordatorio:2026-B6:14:slack:C0INEGI01", Channel: "slack:C0INEGI01",
		Reply: datosbot.Reply{Title: "Recordatorio", Text: "Faltan 14 días para cerrar el bimestre 2026-B6."}}
	if err := rig.outbox.Post(context.Background(), msg); err != nil {
		t.Fatal(err)
	}

	steps := []struct {
		name        string
		at          time.Duration
		wantHandled int
		wantPosts   int   // chat.postMessage calls in this round
		wantOK      int64 // posts the fake accepted so far
	}{
		{"t0: one attempt, refused with 429", 0, 1, 1, 0},
		{"t0+1s: still inside Retry-After", time.Second, 0, 0, 0},
		{"t0+2s: delivered", 2 * time.Second, 1, 1, 1},
		{"t0+1h: nothing left to post", time.Hour, 0, 0, 1},
	}
	for _, s := range steps {
		if got := rig.deliverAt(t, s.at); got != s.wantHandled {
			t.Errorf("%s: got %d messages handled, want %d", s.name, got, s.wantHandled)
		}
		posts := postsTo(drain(f))
		if len(posts) != s.wantPosts {
			t.Errorf("%s: got %d posts %v, want %d", s.name, len(posts), posts, s.wantPosts)
		}
		for _, ch := range posts {
			if ch != "C0INEGI01" {
				t.Errorf("%s: got a post to %s, want C0INEGI01", s.name, ch)
			}
		}
		if got := accepted.Load(); got != s.wantOK {
			t.Errorf("%s: got %d accepted posts, want %d", s.name, got, s.wantOK)
		}
	}

	// Enqueueing the same key again is a no-op: still one delivery.
	if err := rig.outbox.Post(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	if got := rig.deliverAt(t, 2*time.Hour); got != 0 {
		t.Errorf("after re-posting the delivered key: got %d handled, want 0", got)
	}
	if got := accepted.Load(); got != 1 {
		t.Errorf("got %d accepted posts of %s, want exactly 1", got, msg.Key)
	}
	st, err := rig.outbox.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Sent != 1 || st.RateLimited != 1 || st.Repeated != 0 || st.Duplicates != 1 || st.Queued != 0 || st.InFlight != 0 {
		t.Errorf("got stats %+v, want Sent 1, RateLimited 1, Duplicates 1, Repeated 0 and an empty queue", st)
	}
}

// goneChannels serves f's Web API and returns its URL; chat.postMessage to
// one of gone is answered channel_not_found, every call is recorded by f.
func goneChannels(t *testing.T, f *fakeSlack, gone ...string) string {
	t.Helper()
	const mark = "X-Fake-Gone"
	f.answer("chat.postMessage", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(mark) != "" {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"ok":false,"error":"channel_not_found"}`)
			return
		}
		writeOK(w, "C0UNIDAD")
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// f reads the body itself and its answers cannot; mark the
		// request before handing it over.
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		if r.URL.Path == "/api/chat.postMessage" && slices.Contains(gone, form.Get("channel")) {
			r.Header.Set(mark, "1")
		}
		f.serve(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/api"
}

// TestDeliveryChannelNotFound: a post to a deleted channel fails for good.
// The failure is recorded with Slack's reason, never retried, reported to
// the Unidad channel, and shown by the institution's estado.
func TestDeliveryChannelNotFound(t *testing.T) {
	const (
		gone   datosbot.ChannelID = "slack:C0GONE"
		unidad datosbot.ChannelID = "slack:C0UNIDAD"
		admin  datosbot.UserID    = "slack:U0ADMIN"
	)
	ctx := context.Background()
	f := newFakeSlack(t)
	rig := newDeliveryRig(t, goneChannels(t, f, gone.Local()), unidad)

	// The institution and its channel, in the real store.
	if err := rig.store.CreateInstitution(ctx, datosbot.Institution{Key: "inegi", Name: "Instituto Nacional de Estadística y Geografía", Active: true}, admin); err != nil {
		t.Fatal(err)
	}
	if err := rig.store.LinkChannel(ctx, gone, "inegi", admin); err != nil {
		t.Fatal(err)
	}
	// The command service with estado's warnings, as cmd/datosbot wires it.
	svc := commands.New(commands.Config{Store: rig.store, Poster: rig.outbox, Now: rig.clock.Now, Admins: []datosbot.UserID{admin}, Logger: quiet,
		Diagnose: func(ctx context.Context, key string, chs []datosbot.ChannelID) []string {
			fs, err := rig.outbox.DeliveryFailures(ctx, chs)
			if err != nil {
				return nil
			}
			var out []string
			for _, f := range fs {
				out = append(out, fmt.Sprintf("No se pudo publicar en %s (%s, %s). Revise que el canal exista y que el bot siga en él; si cambió de canal, vincule el nuevo con /datos canal vincular %s.",
					f.Channel, f.Reason, f.At.Format("2006-01-02 15:04"), key))
			}
			return out
		}})

	msg := datosbot.Message{Key: "recordatorio:2026-B6:14:slack:C0GONE", Channel: gone,
		Reply: datosbot.Reply{Title: "Recordatorio", Text: "Faltan 14 días para cerrar el bimestre 2026-B6."}}
	if err := rig.outbox.Post(ctx, msg); err != nil {
		t.Fatal(err)
	}

	if got := rig.deliverAt(t, 0); got != 1 {
		t.Fatalf("t0: got %d handled, want 1", got)
	}
	if got := postsTo(drain(f)); !slices.Equal(got, []string{"C0GONE"}) {
		t.Fatalf("t0: got posts to %v, want one to C0GONE", got)
	}
	fs, err := rig.outbox.DeliveryFailures(ctx, []datosbot.ChannelID{gone, unidad})
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 1 || fs[0].Channel != gone || fs[0].Reason != "channel_not_found" || fs[0].Key != msg.Key || !fs[0].At.Equal(testNow) {
		t.Fatalf("DeliveryFailures: got %+v, want one for %s with reason channel_not_found at t0", fs, gone)
	}

	// Later rounds post the Unidad's report and never the failed message.
	steps := []struct {
		name      string
		at        time.Duration
		wantPosts []string
	}{
		{"t0+1m: the report to the Unidad", time.Minute, []string{"C0UNIDAD"}},
		{"t0+1h: nothing", time.Hour, nil},
		{"t0+2d: nothing", 48 * time.Hour, nil},
	}
	for _, s := range steps {
		rig.deliverAt(t, s.at)
		calls := drain(f)
		if got := postsTo(calls); !slices.Equal(got, s.wantPosts) {
			t.Errorf("%s: got posts to %v, want %v", s.name, got, s.wantPosts)
		}
		for _, c := range calls {
			if c.Form.Get("channel") != "C0UNIDAD" {
				continue
			}
			text := c.Form.Get("text")
			for _, want := range []string{"Falla de entrega", "slack:C0GONE", "channel_not_found", msg.Key} {
				if !strings.Contains(text, want) {
					t.Errorf("%s: the Unidad's report %q does not mention %q", s.name, text, want)
				}
			}
		}
	}
	if err := rig.outbox.Post(ctx, msg); err != nil {
		t.Fatal(err)
	}
	if got := rig.deliverAt(t, 72*time.Hour); got != 0 {
		t.Errorf("after re-posting the failed key: got %d handled, want 0", got)
	}
	if got := postsTo(drain(f)); len(got) != 0 {
		t.Errorf("after re-posting the failed key: got posts to %v, want none", got)
	}

	// estado, typed as a slash command in another channel, shows the
	// failure. This runtime answers commands with svc through the same
	// adapter whose posts the outbox delivers.
	cmds := bot.New(bot.Config{Handler: svc, Adapters: []bot.Adapter{rig.adapter}, Logger: quiet})
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- cmds.Run(runCtx) }()
	t.Cleanup(func() { cancel(); <-done })
	for rig.adapter.currentHandler() == nil {
		time.Sleep(time.Millisecond)
	}
	mux := http.NewServeMux()
	cmds.Routes(mux)
	body := url.Values{
		"team_id": {"T0001"}, "channel_id": {"C0UNIDAD"}, "user_id": {admin.Local()}, "user_name": {"admin"},
		"command": {"/datos"}, "text": {"estado inegi"}, "api_app_id": {"A0DATOS"},
		"response_url": {f.responseURL()}, "trigger_id": {"1.1.abc"},
	}.Encode()
	w := serve(mux, signed("/slack/commands", testSecret, rig.clock.Now(), body))
	if w.Code != http.StatusOK {
		t.Fatalf("estado: got status %d, want 200", w.Code)
	}
	got, _ := decode(t, w)["text"].(string)
	want := "No se pudo publicar en slack:C0GONE (channel_not_found, " + testNow.Format("2006-01-02 15:04") + ")"
	if !strings.Contains(got, want) {
		t.Errorf("estado: got %q, want it to contain %q", got, want)
	}
}
