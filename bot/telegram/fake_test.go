package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/datosbot/datosbot/bot"
	"github.com/datosbot/datosbot/bot/bottest"
)

// testToken looks like a real token; no log or error may contain it.
const testToken = "777000111:AAHk9-S3cr3t_PartOfTheT0ken"

// fakeAPI is an httptest fake of the Bot API. It serves queued updates
// through getUpdates (honouring offset as confirmation), records every
// call, and flags two getUpdates calls in flight at once, which the real
// API answers with 409 Conflict.
type fakeAPI struct {
	t   *testing.T
	srv *httptest.Server

	mu        sync.Mutex
	updates   []json.RawMessage
	confirmed int64 // highest offset seen: updates below it are gone
	calls     []apiCall
	replies   map[string]string // "method" or "method chat_id" → raw JSON answer
	status    map[string]int    // HTTP status of those answers
	times     map[string]int    // how many more times a scripted answer applies; absent: always
	active    int
	overlaps  int
	polls     map[string]int // getUpdates calls per X-Replica header
	me        string
	member    string // getChatMember result
	maxWait   time.Duration
	hook      func(apiCall) (int, string, bool) // answers a call first when it returns true; f.mu is held
	notify    chan struct{}
}

type apiCall struct {
	Method  string
	Replica string
	Params  map[string]string
}

func newFakeAPI(t *testing.T) *fakeAPI {
	f := &fakeAPI{
		t:       t,
		replies: map[string]string{},
		status:  map[string]int{},
		times:   map[string]int{},
		polls:   map[string]int{},
		me:      `{"id":777000111,"is_bot":true,"first_name":"Datos","username":"DatosBot","can_join_groups":true,"can_read_all_group_messages":false,"supports_inline_queries":false}`,
		member:  `{"status":"administrator","user":{"id":777000111,"is_bot":true,"first_name":"Datos"},"can_be_edited":false,"is_anonymous":false,"can_manage_chat":true,"can_delete_messages":true,"can_manage_video_chats":false,"can_restrict_members":false,"can_promote_members":false,"can_change_info":false,"can_invite_users":true}`,
		maxWait: 20 * time.Millisecond,
		notify:  make(chan struct{}),
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	t.Cleanup(func() {
		if n := f.overlapCount(); n > 0 {
			t.Errorf("getUpdates was called by two pollers at once %d times; Telegram answers 409 Conflict", n)
		}
	})
	return f
}

// push queues updates, read from testdata files or given raw.
func (f *fakeAPI) push(raw ...json.RawMessage) {
	f.mu.Lock()
	f.updates = append(f.updates, raw...)
	close(f.notify)
	f.notify = make(chan struct{})
	f.mu.Unlock()
}

// answer scripts the answer to a method, optionally for one chat_id
// ("sendMessage -1001").
func (f *fakeAPI) answer(key string, status int, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.replies[key], f.status[key] = body, status
	delete(f.times, key)
}

// intercept installs a hook that may answer any call.
func (f *fakeAPI) intercept(h func(apiCall) (int, string, bool)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hook = h
}

// answerTimes scripts the answer to a method for its next n calls only.
func (f *fakeAPI) answerTimes(key string, n, status int, body string) {
	f.answer(key, status, body)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.times[key] = n
}

// take returns the scripted answer for key, if any, using one of its
// remaining uses. f.mu is held.
func (f *fakeAPI) take(key string) (string, int, bool) {
	body, ok := f.replies[key]
	if !ok {
		return "", 0, false
	}
	status := f.status[key]
	if n, limited := f.times[key]; limited {
		if n <= 1 {
			delete(f.replies, key)
			delete(f.times, key)
		} else {
			f.times[key] = n - 1
		}
	}
	return body, status, true
}

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/bot"+testToken+"/")
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"ok":false,"error_code":404,"description":"Not Found"}`)
		return
	}
	method := rest
	params := readParams(r)
	replica := r.Header.Get("X-Replica")
	f.mu.Lock()
	f.calls = append(f.calls, apiCall{Method: method, Replica: replica, Params: params})
	var body string
	var status int
	scripted := false
	if f.hook != nil {
		status, body, scripted = f.hook(f.calls[len(f.calls)-1])
	}
	if !scripted {
		body, status, scripted = f.take(method + " " + params["chat_id"])
	}
	if !scripted {
		body, status, scripted = f.take(method)
	}
	f.mu.Unlock()
	if scripted {
		w.WriteHeader(status)
		io.WriteString(w, body)
		return
	}
	switch method {
	case "getUpdates":
		f.getUpdates(w, r, params, replica)
	case "getMe":
		fmt.Fprintf(w, `{"ok":true,"result":%s}`, f.me)
	case "getChatMember":
		fmt.Fprintf(w, `{"ok":true,"result":%s}`, f.member)
	case "sendMessage":
		fmt.Fprintf(w, `{"ok":true,"result":{"message_id":%d,"date":1767225600,"chat":{"id":%s,"type":"supergroup"},"text":"ok"}}`, len(f.callsOf("sendMessage")), params["chat_id"])
	default:
		io.WriteString(w, `{"ok":true,"result":true}`)
	}
}

func (f *fakeAPI) getUpdates(w http.ResponseWriter, r *http.Request, params map[string]string, replica string) {
	f.mu.Lock()
	f.active++
	if f.active > 1 {
		f.overlaps++
	}
	f.polls[replica]++
	offset, _ := strconv.ParseInt(params["offset"], 10, 64)
	f.confirmed = max(f.confirmed, offset)
	f.mu.Unlock()

	deadline := time.NewTimer(f.maxWait)
	defer deadline.Stop()
	var out []json.RawMessage
	for {
		f.mu.Lock()
		out = out[:0]
		for _, u := range f.updates {
			var id struct {
				UpdateID int64 `json:"update_id"`
			}
			json.Unmarshal(u, &id)
			if id.UpdateID >= f.confirmed {
				out = append(out, u)
			}
		}
		notify := f.notify
		f.mu.Unlock()
		if len(out) > 0 {
			break
		}
		select {
		case <-notify:
			continue
		case <-deadline.C:
		case <-r.Context().Done():
		}
		break
	}
	// The call ends before its answer is written, so that a poller which
	// has read its answer is never counted as still in flight.
	f.mu.Lock()
	f.active--
	f.mu.Unlock()
	res, _ := json.Marshal(out)
	if out == nil {
		res = []byte("[]")
	}
	fmt.Fprintf(w, `{"ok":true,"result":%s}`, res)
}

func readParams(r *http.Request) map[string]string {
	p := map[string]string{}
	ct := r.Header.Get("Content-Type")
	switch {
	case strings.HasPrefix(ct, "multipart/form-data"):
		if err := r.ParseMultipartForm(1 << 20); err == nil {
			for k, v := range r.MultipartForm.Value {
				p[k] = v[0]
			}
		}
	case strings.HasPrefix(ct, "application/json"):
		var m map[string]any
		json.NewDecoder(r.Body).Decode(&m)
		for k, v := range m {
			if s, ok := v.(string); ok {
				p[k] = s
				continue
			}
			b, _ := json.Marshal(v)
			p[k] = string(b)
		}
	}
	return p
}

func (f *fakeAPI) callsOf(method string) []apiCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []apiCall
	for _, c := range f.calls {
		if c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

func (f *fakeAPI) overlapCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.overlaps
}

func (f *fakeAPI) pollsBy(replica string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.polls[replica]
}

func (f *fakeAPI) activePolls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.active
}

func (f *fakeAPI) confirmedOffset() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.confirmed
}

// update reads a recorded update from testdata.
func update(t *testing.T, name string) json.RawMessage {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return buf.Bytes()
}

// replicaTransport marks each request with the replica that sent it.
type replicaTransport struct{ name string }

func (rt replicaTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Replica", rt.name)
	return http.DefaultTransport.RoundTrip(r)
}

// newAdapter starts an adapter against f, logging into a buffer that must
// never contain the token.
func newAdapter(t *testing.T, f *fakeAPI, cfg Config) (*Adapter, *bottest.Buffer) {
	t.Helper()
	logs := &bottest.Buffer{}
	cfg.Token = testToken
	cfg.APIURL = f.srv.URL + "/"
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if cfg.PollTimeout == 0 {
		cfg.PollTimeout = time.Second
	}
	if cfg.HTTPClient == nil && cfg.Holder != "" {
		cfg.HTTPClient = &http.Client{Transport: replicaTransport{cfg.Holder}, Timeout: 30 * time.Second}
	}
	a, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { assertNoToken(t, "log", logs.String()) })
	return a, logs
}

func assertNoToken(t *testing.T, what, s string) {
	t.Helper()
	_, secret, _ := strings.Cut(testToken, ":")
	if strings.Contains(s, secret) {
		t.Errorf("%s contains the bot token:\n%s", what, s)
	}
}

// run starts a.Run in the background and returns a function that stops
// it and waits for Run to return.
func run(t *testing.T, a *Adapter, h bot.Handler) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, h) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Errorf("Run did not return after cancel")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// waitFor waits until cond holds, failing the test after a generous
// deadline. It only waits; it does not assert on timing.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// memDeduper is a Deduper fake; failing makes Once fail.
type memDeduper struct {
	mu      sync.Mutex
	seen    map[string]bool
	failing bool
}

func (d *memDeduper) Once(_ context.Context, key string, _ time.Duration) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.failing {
		return false, errors.New("redis: connection refused")
	}
	if d.seen == nil {
		d.seen = map[string]bool{}
	}
	if d.seen[key] {
		return false, nil
	}
	d.seen[key] = true
	return true, nil
}

func (d *memDeduper) Forget(_ context.Context, key string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.seen, key)
	return nil
}

// fakeLease is a Lease fake with an injectable clock.
type fakeLease struct {
	mu      sync.Mutex
	now     func() time.Time
	holder  string
	expires time.Time
	fail    map[string]bool // holders whose calls fail
	failed  int             // calls that failed
}

func (l *fakeLease) AcquireLease(_ context.Context, _, holder string, ttl time.Duration) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fail[holder] {
		l.failed++
		return false, errors.New("redis: i/o timeout")
	}
	now := l.now()
	if l.holder == "" || l.holder == holder || !now.Before(l.expires) {
		l.holder, l.expires = holder, now.Add(ttl)
		return true, nil
	}
	return false, nil
}

func (l *fakeLease) ReleaseLease(_ context.Context, _, holder string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.holder == holder {
		l.holder = ""
	}
	return nil
}

func (l *fakeLease) current() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.holder
}
