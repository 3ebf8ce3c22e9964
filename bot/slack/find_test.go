package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/internal/fakeclock"
	"github.com/datosbot/datosbot/reminders"
)

// slackHistory is the fake Slack's memory of the channels: chat.postMessage
// stores each accepted message with its metadata, stamped with the fake
// clock, and conversations.history returns them newest first, from oldest
// on, a page at a time, with the metadata only when include_all_metadata
// is set, as Slack does.
type slackHistory struct {
	clock *fakeclock.Clock

	mu       sync.Mutex
	messages map[string][]map[string]any // by channel, oldest first
	seq      int
	// onPost, when set, runs after a post is stored and before the answer:
	// the moment a worker may die with its post accepted.
	onPost func(n int)
	// drop, when set and true for the n-th post, answers nothing and
	// stores nothing: the request never reached Slack.
	drop  func(n int) bool
	posts atomic.Int64
	reads []map[string]string // conversations.history forms
	// historyError, when set, is the error conversations.history answers.
	historyError string
}

func newSlackHistory(f *fakeSlack, clock *fakeclock.Clock) *slackHistory {
	h := &slackHistory{clock: clock, messages: map[string][]map[string]any{}}
	f.answer("chat.postMessage", h.post)
	f.answer("conversations.history", h.history)
	return h
}

func (h *slackHistory) post(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	n := int(h.posts.Add(1))
	if h.drop != nil && h.drop(n) {
		panic(http.ErrAbortHandler) // the connection closes: nothing reached Slack
	}
	h.mu.Lock()
	h.seq++
	now := h.clock.Now()
	ts := fmt.Sprintf("%d.%06d", now.Unix(), h.seq)
	msg := map[string]any{"type": "message", "user": "U0BOT", "bot_id": "B0BOT", "text": r.Form.Get("text"), "ts": ts}
	if md := r.Form.Get("metadata"); md != "" {
		var v map[string]any
		if err := json.Unmarshal([]byte(md), &v); err == nil {
			msg["metadata"] = v
		}
	}
	ch := r.Form.Get("channel")
	h.messages[ch] = append(h.messages[ch], msg)
	h.mu.Unlock()
	if h.onPost != nil {
		h.onPost(n)
	}
	writeOK(w, ch)
}

func (h *slackHistory) history(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	h.mu.Lock()
	defer h.mu.Unlock()
	form := map[string]string{}
	for k := range r.Form {
		form[k] = r.Form.Get(k)
	}
	h.reads = append(h.reads, form)
	w.Header().Set("Content-Type", "application/json")
	if h.historyError != "" {
		fmt.Fprintf(w, `{"ok":false,"error":%q}`, h.historyError)
		return
	}
	oldest, _ := strconv.ParseFloat(form["oldest"], 64)
	limit, _ := strconv.Atoi(form["limit"])
	start, _ := strconv.Atoi(form["cursor"])
	all := h.messages[form["channel"]]
	var page []map[string]any
	next := ""
	for i := len(all) - 1 - start; i >= 0; i-- {
		ts, _ := strconv.ParseFloat(all[i]["ts"].(string), 64)
		if ts < oldest {
			break
		}
		if len(page) == limit {
			next = strconv.Itoa(len(all) - 1 - i)
			break
		}
		m := map[string]any{}
		for k, v := range all[i] {
			if k != "metadata" || form["include_all_metadata"] == "1" {
				m[k] = v
			}
		}
		page = append(page, m)
	}
	json.NewEncoder(w).Encode(map[string]any{"ok": true, "messages": page, "has_more": next != "",
		"response_metadata": map[string]any{"next_cursor": next}})
}

// count returns how many messages with key the channel has.
func (h *slackHistory) count(channel, key string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, m := range h.messages[channel] {
		if md, ok := m["metadata"].(map[string]any); ok {
			if p, ok := md["event_payload"].(map[string]any); ok && p["key"] == key {
				n++
			}
		}
	}
	return n
}

// dyingStore is the store of a worker that dies: after die, nothing it
// does reaches Redis, as after a SIGKILL.
type dyingStore struct {
	reminders.OutboxStore
	dead atomic.Bool
}

var errDead = fmt.Errorf("the process died")

func (d *dyingStore) OutboxSent(ctx context.Context, key string, ch datosbot.ChannelID, now time.Time, counters ...string) (bool, error) {
	if d.dead.Load() {
		return false, errDead
	}
	return d.OutboxStore.OutboxSent(ctx, key, ch, now, counters...)
}

func (d *dyingStore) OutboxRequeue(ctx context.Context, m datosbot.Message, token string, attempts int, at time.Time,
	maybePosted bool, counters ...string) (bool, error) {
	if d.dead.Load() {
		return false, errDead
	}
	return d.OutboxStore.OutboxRequeue(ctx, m, token, attempts, at, maybePosted, counters...)
}

func (d *dyingStore) OutboxExtend(ctx context.Context, until time.Time, claims map[string]string) (int, error) {
	if d.dead.Load() {
		return 0, errDead
	}
	return d.OutboxStore.OutboxExtend(ctx, until, claims)
}

// crashRig posts one message through a worker that dies during its post,
// then lets the rig's own outbox (another replica) take over once the
// dead worker's lease is over.
func crashRig(t *testing.T, edit func(h *slackHistory, die func())) (*deliveryRig, *slackHistory) {
	t.Helper()
	f := newFakeSlack(t)
	go func() { // the tests read the fake's memory, not its call log
		for range f.calls {
		}
	}()
	r := newDeliveryRig(t, f.apiURL(), "")
	h := newSlackHistory(f, r.clock)
	store := &dyingStore{OutboxStore: r.store.Store}
	edit(h, func() { store.dead.Store(true) })
	dying := reminders.NewOutbox(reminders.OutboxConfig{Store: store, Sender: r.router, Now: r.clock.Now, Logger: quiet,
		SendTimeout: time.Second})
	m := datosbot.Message{Key: "campana-anuncio:C1:slack:C0INEGI01", Channel: "slack:C0INEGI01",
		Reply: datosbot.Reply{Title: "Campaña", Text: "Difundan el conjunto de datos."}}
	if err := dying.Post(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	dying.DeliverOnce(context.Background())
	if !store.dead.Load() {
		t.Fatal("the worker did not die during its post")
	}
	r.clock.Set(testNow.Add(10 * time.Second)) // past the dead worker's lease
	for d := 10 * time.Second; d < 20*time.Second; d += time.Second {
		r.deliverAt(t, d)
	}
	return r, h
}

// TestCrashAfterSlackAcceptedIsNotReposted: Slack accepts a post and the
// worker dies before recording it. The replica that takes the message
// over finds it in the channel's history by the outbox key in its
// metadata, records it as sent and does not post it again.
func TestCrashAfterSlackAcceptedIsNotReposted(t *testing.T) {
	r, h := crashRig(t, func(h *slackHistory, die func()) {
		h.onPost = func(int) { die() }
	})
	if n := h.count("C0INEGI01", "campana-anuncio:C1:slack:C0INEGI01"); n != 1 {
		t.Errorf("the channel has the message %d times, want once", n)
	}
	if n := h.posts.Load(); n != 1 {
		t.Errorf("chat.postMessage called %d times, want 1", n)
	}
	h.mu.Lock()
	reads := h.reads
	h.mu.Unlock()
	if len(reads) != 1 {
		t.Fatalf("conversations.history called %d times, want 1", len(reads))
	}
	oldest, _ := strconv.ParseFloat(reads[0]["oldest"], 64)
	if posted := float64(testNow.Unix()); oldest > posted || reads[0]["include_all_metadata"] != "1" || reads[0]["channel"] != "C0INEGI01" {
		t.Errorf("conversations.history form %v: want channel C0INEGI01, metadata, oldest at or before the post (%v)", reads[0], posted)
	}
	st, err := r.outbox.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Sent != 1 || st.Found != 1 || st.Uncertain != 0 || st.Recovered != 1 || st.Queued != 0 {
		t.Errorf("stats = %+v, want 1 sent, found in the history, none uncertain", st)
	}
}

// TestCrashBeforeSlackGotThePostReposts: the worker dies while its post
// is on the way, and the request never reaches Slack. The replica that
// takes the message over finds nothing in the history and posts it: the
// channel has it once.
func TestCrashBeforeSlackGotThePostReposts(t *testing.T) {
	r, h := crashRig(t, func(h *slackHistory, die func()) {
		h.drop = func(n int) bool {
			if n == 1 {
				die()
			}
			return n == 1
		}
	})
	if n := h.count("C0INEGI01", "campana-anuncio:C1:slack:C0INEGI01"); n != 1 {
		t.Errorf("the channel has the message %d times, want once", n)
	}
	st, err := r.outbox.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Sent != 1 || st.Found != 0 || st.Uncertain != 0 {
		t.Errorf("stats = %+v, want 1 sent after looking it up, none found or uncertain", st)
	}
}

// TestCrashWithoutHistoryScopeRepostsUncertain: when the history cannot
// be read (the token lacks channels:history), the message is posted again
// and counted as uncertain.
func TestCrashWithoutHistoryScopeRepostsUncertain(t *testing.T) {
	r, h := crashRig(t, func(h *slackHistory, die func()) {
		h.onPost = func(int) { die() }
		h.historyError = "missing_scope"
	})
	if n := h.count("C0INEGI01", "campana-anuncio:C1:slack:C0INEGI01"); n != 2 {
		t.Errorf("the channel has the message %d times, want twice (the fallback when the history cannot be read)", n)
	}
	st, err := r.outbox.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Sent != 1 || st.Found != 0 || st.Uncertain != 1 {
		t.Errorf("stats = %+v, want 1 sent and 1 uncertain", st)
	}
}

// TestTimedOutPostIsLookedUp: Slack accepts a post but answers after the
// outbox's send timeout. The retry finds the post in the history and does
// not post it again.
func TestTimedOutPostIsLookedUp(t *testing.T) {
	f := newFakeSlack(t)
	go func() {
		for range f.calls {
		}
	}()
	r := newDeliveryRig(t, f.apiURL(), "")
	h := newSlackHistory(f, r.clock)
	h.onPost = func(n int) {
		if n == 1 {
			time.Sleep(300 * time.Millisecond)
		}
	}
	ob := reminders.NewOutbox(reminders.OutboxConfig{Store: r.store.Store, Sender: r.router, Now: r.clock.Now, Logger: quiet,
		SendTimeout: 100 * time.Millisecond, Backoff: time.Second})
	if err := ob.Post(context.Background(), datosbot.Message{Key: "k1", Channel: "slack:C0INEGI01", Reply: datosbot.Reply{Text: "hola"}}); err != nil {
		t.Fatal(err)
	}
	for d := time.Duration(0); d < 5*time.Second; d += time.Second {
		r.clock.Set(testNow.Add(d))
		if _, err := ob.DeliverOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if n := h.posts.Load(); n != 1 {
		t.Errorf("chat.postMessage called %d times, want 1", n)
	}
	st, err := ob.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Sent != 1 || st.Found != 1 || st.Retried != 1 || st.Uncertain != 0 {
		t.Errorf("stats = %+v, want the timed-out post retried, found and sent once", st)
	}
}
