package slack

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/datosbot/datosbot/bot"
)

// fakeSlack is an httptest fake of the Slack Web API (under /api/) and of
// response_url endpoints (under /response/). It records every call.
type fakeSlack struct {
	srv   *httptest.Server
	calls chan apiCall

	mu        sync.Mutex
	answers   map[string]http.HandlerFunc // by method, e.g. "chat.postMessage"
	ws        http.HandlerFunc            // the Socket Mode WebSocket at /ws
	authTests []apiCall                   // auth.test calls, which calls does not get
}

type apiCall struct {
	Method string         // Web API method, or "response" for a response_url post
	Auth   string         // Authorization header
	Form   url.Values     // form-encoded calls
	JSON   map[string]any // JSON calls
}

func newFakeSlack(t *testing.T) *fakeSlack {
	t.Helper()
	f := &fakeSlack{calls: make(chan apiCall, 100), answers: map[string]http.HandlerFunc{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// apiURL is deliberately without the trailing slash slack-go needs: New
// must add it.
func (f *fakeSlack) apiURL() string      { return f.srv.URL + "/api" }
func (f *fakeSlack) responseURL() string { return f.srv.URL + "/response/1" }

func (f *fakeSlack) answer(method string, h http.HandlerFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answers[method] = h
}

func (f *fakeSlack) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/ws" {
		f.mu.Lock()
		ws := f.ws
		f.mu.Unlock()
		ws(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(strings.NewReader(string(body))) // for the answers that read it
	c := apiCall{Auth: r.Header.Get("Authorization")}
	if m, ok := strings.CutPrefix(r.URL.Path, "/api/"); ok {
		c.Method = m
	} else {
		c.Method = "response"
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		_ = json.Unmarshal(body, &c.JSON)
	} else {
		c.Form, _ = url.ParseQuery(string(body))
	}
	if c.Method == "auth.test" { // Run's start-up check, kept apart from the calls tests step through
		f.mu.Lock()
		f.authTests = append(f.authTests, c)
		f.mu.Unlock()
	} else {
		f.calls <- c
	}
	f.mu.Lock()
	h := f.answers[c.Method]
	f.mu.Unlock()
	if h != nil {
		h(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch c.Method {
	case "response":
		io.WriteString(w, "ok")
	case "chat.postMessage":
		io.WriteString(w, `{"ok":true,"channel":"C0INEGI01","ts":"1700000000.000100"}`)
	case "chat.postEphemeral":
		io.WriteString(w, `{"ok":true,"message_ts":"1700000000.000200"}`)
	case "views.open":
		io.WriteString(w, `{"ok":true,"view":{"id":"V0FORM01"}}`)
	case "auth.test": // a valid bot token with every scope of the manifest
		w.Header().Set("X-OAuth-Scopes", "commands,chat:write,chat:write.public,channels:history,groups:history")
		io.WriteString(w, `{"ok":true,"url":"https://datosmx.slack.com/","team":"Datos MX","user":"datosbot","team_id":"T0001","user_id":"U0BOT","bot_id":"B0BOT"}`)
	case "apps.connections.open":
		io.WriteString(w, `{"ok":true,"url":"ws`+strings.TrimPrefix(f.srv.URL, "http")+`/ws"}`)
	default:
		io.WriteString(w, `{"ok":false,"error":"unknown_method"}`)
	}
}

// next returns the next recorded call, failing the test after a while.
func (f *fakeSlack) next(t *testing.T) apiCall {
	t.Helper()
	select {
	case c := <-f.calls:
		return c
	case <-time.After(5 * time.Second):
		t.Fatal("no call reached the fake Slack API")
		return apiCall{}
	}
}

// none checks that no call is pending.
func (f *fakeSlack) none(t *testing.T) {
	t.Helper()
	select {
	case c := <-f.calls:
		t.Fatalf("unexpected call to the fake Slack API: %s", c.Method)
	default:
	}
}

const testSecret = "8f742231b10e8888abcd99yyyzzz85a5"

// testNow is the clock of most tests; Slack's published example uses its
// own.
var testNow = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// start builds an adapter against the fake, runs it with h, and returns
// the mux with its routes.
func start(t *testing.T, f *fakeSlack, h bot.Handler, edit func(*Config)) (*Adapter, *http.ServeMux) {
	t.Helper()
	cfg := Config{
		BotToken:      "xoxb-test",
		SigningSecret: testSecret,
		APIURL:        f.apiURL(),
		Now:           func() time.Time { return testNow },
		Logger:        quiet,
		AckTimeout:    2 * time.Second,
	}
	if edit != nil {
		edit(&cfg)
	}
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	a.Routes(mux)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, h) }()
	t.Cleanup(func() { cancel(); <-done })
	deadline := time.Now().Add(10 * time.Second)
	for a.currentHandler() == nil {
		select {
		case err := <-done:
			done <- err // for the cleanup
			t.Fatalf("Run stopped before serving: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("Run did not start serving within 10 s")
		}
		time.Sleep(time.Millisecond)
	}
	return a, mux
}

// signed returns a POST to path signed with secret at ts.
func signed(path, secret string, ts time.Time, body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	stamp := strconv.FormatInt(ts.Unix(), 10)
	r.Header.Set("X-Slack-Request-Timestamp", stamp)
	r.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(sign([]byte(secret), stamp, []byte(body))))
	return r
}

func serve(mux *http.ServeMux, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	return w
}

// commandBody is testdata/command_datos.txt with the command text and the
// fake's response_url filled in.
func commandBody(t *testing.T, f *fakeSlack, text string) string {
	t.Helper()
	b := readTestdata(t, "command_datos.txt")
	b = strings.Replace(b, "text=TEXT", "text="+url.QueryEscape(text), 1)
	return strings.Replace(b, "RESPONSE_URL", url.QueryEscape(f.responseURL()), 1)
}

// interactionBody wraps a testdata payload as Slack's form body, after
// replacing each old string with its new one.
func interactionBody(t *testing.T, file string, oldnew ...string) string {
	t.Helper()
	p := strings.NewReplacer(oldnew...).Replace(readTestdata(t, file))
	return url.Values{"payload": {strings.TrimSpace(p)}}.Encode()
}

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// decode reads a JSON response body.
func decode(t *testing.T, w *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
		t.Fatalf("response %q is not JSON: %v", w.Body.String(), err)
	}
	return m
}
