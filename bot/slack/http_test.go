package slack

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/bot/bottest"
)

// slackExample is Slack's published signing example
// (shared/reference/platform_facts.md §5.1).
var slackExample = struct {
	secret, timestamp, signature string
	now                          time.Time
}{
	secret:    "8f742231b10e8888abcd99yyyzzz85a5",
	timestamp: "1531420618",
	signature: "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
	now:       time.Unix(1531420618, 0),
}

func TestVerifySignature(t *testing.T) {
	body := readTestdata(t, "command_slack_example.txt")
	header := func(ts, sig string) http.Header {
		h := http.Header{}
		if ts != "" {
			h.Set("X-Slack-Request-Timestamp", ts)
		}
		if sig != "" {
			h.Set("X-Slack-Signature", sig)
		}
		return h
	}
	tests := []struct {
		name    string
		secret  string
		header  http.Header
		body    string
		now     time.Time
		wantErr error
	}{
		{"slack example", slackExample.secret, header(slackExample.timestamp, slackExample.signature), body, slackExample.now, nil},
		{"4 minutes later", slackExample.secret, header(slackExample.timestamp, slackExample.signature), body, slackExample.now.Add(4 * time.Minute), nil},
		{"changed body", slackExample.secret, header(slackExample.timestamp, slackExample.signature), strings.Replace(body, "text=", "text=x", 1), slackExample.now, errBadSignature},
		{"wrong secret", "8f742231b10e8888abcd99yyyzzz85a6", header(slackExample.timestamp, slackExample.signature), body, slackExample.now, errBadSignature},
		{"no signature", slackExample.secret, header(slackExample.timestamp, ""), body, slackExample.now, errMissingSignature},
		{"no timestamp", slackExample.secret, header("", slackExample.signature), body, slackExample.now, errMissingSignature},
		{"6 minutes old", slackExample.secret, header(slackExample.timestamp, slackExample.signature), body, slackExample.now.Add(6 * time.Minute), errStaleTimestamp},
		{"6 minutes ahead", slackExample.secret, header(slackExample.timestamp, slackExample.signature), body, slackExample.now.Add(-6 * time.Minute), errStaleTimestamp},
		{"no v0 prefix", slackExample.secret, header(slackExample.timestamp, strings.TrimPrefix(slackExample.signature, "v0=")), body, slackExample.now, errBadSignature},
		{"short signature", slackExample.secret, header(slackExample.timestamp, slackExample.signature[:20]), body, slackExample.now, errBadSignature},
		{"empty secret", "", header(slackExample.timestamp, slackExample.signature), body, slackExample.now, errMissingSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := verifySignature([]byte(tt.secret), tt.header, []byte(tt.body), tt.now)
			if got != tt.wantErr {
				t.Errorf("verifySignature: got %v, want %v", got, tt.wantErr)
			}
		})
	}
}

// TestCommandSignature drives /slack/commands with Slack's published
// example: it passes with the clock at 1531420618, every altered request
// answers 401 without calling the handler, and a replay has no effect.
func TestCommandSignature(t *testing.T) {
	f := newFakeSlack(t)
	h := &bottest.Recorder{}
	_, mux := start(t, f, h, func(c *Config) {
		c.SigningSecret = slackExample.secret
		c.Now = func() time.Time { return slackExample.now }
	})
	body := readTestdata(t, "command_slack_example.txt")
	example := func() *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/slack/commands", strings.NewReader(body))
		r.Header.Set("X-Slack-Request-Timestamp", slackExample.timestamp)
		r.Header.Set("X-Slack-Signature", slackExample.signature)
		return r
	}

	rejected := []struct {
		name string
		req  *http.Request
	}{
		{"changed body", func() *http.Request {
			r := httptest.NewRequest(http.MethodPost, "/slack/commands", strings.NewReader(strings.Replace(body, "text=", "text=institucion+baja+inegi", 1)))
			r.Header = example().Header
			return r
		}()},
		{"wrong secret", signed("/slack/commands", "otro-secreto", slackExample.now, body)},
		{"missing signature header", func() *http.Request { r := example(); r.Header.Del("X-Slack-Signature"); return r }()},
		{"missing timestamp header", func() *http.Request { r := example(); r.Header.Del("X-Slack-Request-Timestamp"); return r }()},
		{"timestamp 6 minutes old", signed("/slack/commands", slackExample.secret, slackExample.now.Add(-6*time.Minute), body)},
	}
	for _, tt := range rejected {
		t.Run(tt.name, func(t *testing.T) {
			w := serve(mux, tt.req)
			if w.Code != http.StatusUnauthorized {
				t.Errorf("status: got %d, want 401", w.Code)
			}
			if n := len(h.Requests()); n != 0 {
				t.Errorf("handler calls: got %d, want 0", n)
			}
		})
	}

	w := serve(mux, example())
	if w.Code != http.StatusOK {
		t.Fatalf("slack example: got status %d (%s), want 200", w.Code, w.Body)
	}
	w = serve(mux, example()) // Slack's retry: same signed body, inside the window
	if w.Code != http.StatusOK || w.Body.Len() != 0 {
		t.Errorf("replay: got %d %q, want 200 with an empty acknowledgment", w.Code, w.Body)
	}
	reqs := h.Requests()
	if len(reqs) != 1 {
		t.Fatalf("handler calls: got %d, want 1", len(reqs))
	}
	want := datosbot.Request{ID: reqs[0].ID, User: "slack:U2CERLKJA", Name: "roadrunner", Channel: "slack:G8PSS9T3V", Text: ""}
	if reqs[0] != want || !strings.HasPrefix(reqs[0].ID, "slack:") {
		t.Errorf("request: got %+v, want %+v", reqs[0], want)
	}
	f.none(t)
}

func TestRoutesBeforeRun(t *testing.T) {
	a, err := New(Config{BotToken: "xoxb-test", SigningSecret: testSecret, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	a.Routes(mux)
	for _, path := range []string{"/slack/commands", "/slack/interactions"} {
		w := serve(mux, signed(path, testSecret, time.Now(), "text=ayuda"))
		if w.Code != http.StatusServiceUnavailable {
			t.Errorf("%s before Run: got %d, want 503", path, w.Code)
		}
		if w := serve(mux, signed(path, "wrong-secret", time.Now(), "text=ayuda")); w.Code != http.StatusUnauthorized {
			t.Errorf("%s before Run, badly signed: got %d, want 401", path, w.Code)
		}
	}
	if a.Ready() == nil {
		t.Error("Ready before Run: got nil, want an error")
	}
}

func TestBodyTooLarge(t *testing.T) {
	f := newFakeSlack(t)
	h := &bottest.Recorder{}
	_, mux := start(t, f, h, nil)
	w := serve(mux, signed("/slack/commands", testSecret, testNow, "text="+strings.Repeat("a", maxBodyBytes)))
	if w.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("status: got %d, want 413", w.Code)
	}
	if len(h.Requests()) != 0 {
		t.Error("handler was called")
	}
}

func TestCommandReply(t *testing.T) {
	tests := []struct {
		name     string
		text     string
		reply    datosbot.Reply
		wantType string
		wantText string // in the blocks
		wantReq  string // the text the handler gets
	}{
		{"ephemeral by default", "estado", datosbot.Reply{Title: "INEGI", Text: "Cumple el bimestre 2026-B6."}, "ephemeral", "Cumple el bimestre 2026-B6.", "estado"},
		{"public in channel", "publicar https://www.datos.gob.mx/dataset/x", datosbot.Reply{Text: "INEGI publicó datos", Public: true}, "in_channel", "INEGI publicó datos", "publicar https://www.datos.gob.mx/dataset/x"},
		{"decorations undone", "anunciar <https://www.datos.gob.mx/dataset/x> <https://x.com/a/status/1|x.com/a>", datosbot.Reply{Text: "Registrada"}, "ephemeral", "Registrada", "anunciar https://www.datos.gob.mx/dataset/x https://x.com/a/status/1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeSlack(t)
			h := &bottest.Recorder{Reply: func(datosbot.Request) datosbot.Reply { return tt.reply }}
			_, mux := start(t, f, h, nil)
			w := serve(mux, signed("/slack/commands", testSecret, testNow, commandBody(t, f, tt.text)))
			if w.Code != http.StatusOK {
				t.Fatalf("status: got %d, want 200", w.Code)
			}
			m := decode(t, w)
			if m["response_type"] != tt.wantType {
				t.Errorf("response_type: got %v, want %s", m["response_type"], tt.wantType)
			}
			if !strings.Contains(w.Body.String(), tt.wantText) || m["text"] == "" {
				t.Errorf("body %s: want blocks and fallback with %q", w.Body, tt.wantText)
			}
			if _, ok := m["blocks"].([]any); !ok {
				t.Errorf("body %s: want blocks", w.Body)
			}
			reqs := h.Requests()
			if len(reqs) != 1 || reqs[0].Text != tt.wantReq || reqs[0].User != "slack:U0ANA" || reqs[0].Channel != "slack:C0INEGI01" || reqs[0].Private {
				t.Errorf("request: got %+v, want text %q from slack:U0ANA in slack:C0INEGI01", reqs, tt.wantReq)
			}
			f.none(t)
		})
	}
}

// TestSlowCommand: a handler slower than the acknowledgment timeout gets a
// "Procesando…" acknowledgment, and its reply goes to response_url.
func TestSlowCommand(t *testing.T) {
	f := newFakeSlack(t)
	release := make(chan struct{})
	h := &bottest.Recorder{Reply: func(datosbot.Request) datosbot.Reply {
		<-release
		return datosbot.Reply{Text: "Reporte listo", Public: true}
	}}
	_, mux := start(t, f, h, func(c *Config) { c.AckTimeout = 20 * time.Millisecond })

	w := serve(mux, signed("/slack/commands", testSecret, testNow, commandBody(t, f, "reporte")))
	m := decode(t, w)
	if m["response_type"] != "ephemeral" || !strings.Contains(w.Body.String(), "Procesando") {
		t.Errorf("acknowledgment: got %s, want an ephemeral Procesando…", w.Body)
	}
	f.none(t)
	close(release)
	c := f.next(t)
	if c.Method != "response" || c.JSON["response_type"] != "in_channel" || !strings.Contains(c.JSON["text"].(string), "Reporte listo") {
		t.Errorf("late reply: got %s %v, want the reply posted in_channel to response_url", c.Method, c.JSON)
	}
}

// TestConcurrentReplays: Slack's retries racing each other still reach the
// handler once.
func TestConcurrentReplays(t *testing.T) {
	f := newFakeSlack(t)
	h := &bottest.Recorder{}
	_, mux := start(t, f, h, nil)
	body := commandBody(t, f, "enterado C3M9")
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { serve(mux, signed("/slack/commands", testSecret, testNow, body)) })
	}
	wg.Wait()
	if n := len(h.Requests()); n != 1 {
		t.Errorf("handler calls: got %d, want 1", n)
	}
}
