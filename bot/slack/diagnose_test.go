package slack

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/datosbot/datosbot/bot/bottest"
)

// secretToken is the bot token of these tests; no log line or error may
// contain it.
const secretToken = "xoxb-1111-2222-SeCrEtToKeN"

// logRecorder is a slog.Handler that keeps every record.
type logRecorder struct {
	mu   sync.Mutex
	recs []logRecord
}

type logRecord struct {
	Level slog.Level
	Msg   string
	Attrs map[string]string
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logRecorder) WithGroup(string) slog.Handler            { return l }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	rec := logRecord{Level: r.Level, Msg: r.Message, Attrs: map[string]string{}}
	r.Attrs(func(a slog.Attr) bool {
		rec.Attrs[a.Key] = a.Value.String()
		return true
	})
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recs = append(l.recs, rec)
	return nil
}

func (l *logRecorder) records(level slog.Level) []logRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []logRecord
	for _, r := range l.recs {
		if r.Level == level {
			out = append(out, r)
		}
	}
	return out
}

// noToken fails the test if any record mentions secretToken.
func (l *logRecorder) noToken(t *testing.T) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range l.recs {
		if strings.Contains(fmt.Sprint(r), secretToken) {
			t.Errorf("log record %q shows the bot token", r.Msg)
		}
	}
}

// answerAuthTest makes f answer auth.test with body, and with scopes in
// X-OAuth-Scopes unless scopes is "-".
func answerAuthTest(f *fakeSlack, status int, scopes, body string) {
	f.answer("auth.test", func(w http.ResponseWriter, r *http.Request) {
		if scopes != "-" {
			w.Header().Set("X-OAuth-Scopes", scopes)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	})
}

const authOK = `{"ok":true,"url":"https://inegi.slack.com/","team":"INEGI","user":"datosbot","team_id":"T0INEGI","user_id":"U0DATOSBOT","bot_id":"B0DATOSBOT"}`

// startChecked runs an HTTP-mode adapter with secretToken, a recording
// logger and the Web API at apiURL, and waits until its start-up check is over and it takes
// commands; it fails the test if Run returns instead.
func startChecked(t *testing.T, apiURL string) (*Adapter, *logRecorder) {
	t.Helper()
	logs := &logRecorder{}
	a, err := New(Config{BotToken: secretToken, SigningSecret: testSecret, APIURL: apiURL, Logger: slog.New(logs)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, &bottest.Recorder{}) }()
	t.Cleanup(func() { cancel(); <-done })
	deadline := time.After(5 * time.Second)
	for a.currentHandler() == nil {
		select {
		case err := <-done:
			done <- err
			t.Fatalf("Run returned %v at start; want it running", err)
		case <-deadline:
			t.Fatal("Run does not take commands after 5 s")
		case <-time.After(time.Millisecond):
		}
	}
	return a, logs
}

// checkedWith returns the token of the one auth.test call f received.
func checkedWith(t *testing.T, f *fakeSlack) string {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.authTests) != 1 {
		t.Fatalf("auth.test calls: got %d, want 1", len(f.authTests))
	}
	return f.authTests[0].Form.Get("token")
}

// TestStartupCheckValidToken: with a valid token holding every scope the
// adapter starts, logs the workspace and bot user once and warns nothing.
func TestStartupCheckValidToken(t *testing.T) {
	f := newFakeSlack(t)
	answerAuthTest(f, http.StatusOK, "chat:write,commands,chat:write.public,channels:history,groups:history,users:read", authOK)
	a, logs := startChecked(t, f.apiURL())

	if got := checkedWith(t, f); got != secretToken {
		t.Errorf("auth.test token: got %q, want the bot token", got)
	}
	if err := a.Ready(); err != nil {
		t.Errorf("Ready: got %v, want nil", err)
	}
	if w := logs.records(slog.LevelWarn); len(w) != 0 {
		t.Errorf("warnings: got %+v, want none", w)
	}
	var info []logRecord
	for _, r := range logs.records(slog.LevelInfo) {
		if r.Attrs["team"] != "" {
			info = append(info, r)
		}
	}
	if len(info) != 1 || info[0].Attrs["team"] != "INEGI" || info[0].Attrs["bot_user"] != "datosbot" ||
		info[0].Attrs["team_id"] != "T0INEGI" || info[0].Attrs["bot_user_id"] != "U0DATOSBOT" {
		t.Errorf("info about the token: got %+v, want one record with team INEGI and bot user datosbot", info)
	}
	logs.noToken(t)
	f.none(t)
}

// TestStartupCheckMissingScope: a token without chat:write.public starts,
// with one warning that names the scope, what breaks and how to fix it.
func TestStartupCheckMissingScope(t *testing.T) {
	f := newFakeSlack(t)
	answerAuthTest(f, http.StatusOK, "commands, chat:write, channels:history, groups:history", authOK)
	a, logs := startChecked(t, f.apiURL())

	if err := a.Ready(); err != nil {
		t.Errorf("Ready: got %v, want nil", err)
	}
	w := logs.records(slog.LevelWarn)
	if len(w) != 1 {
		t.Fatalf("warnings: got %+v, want one about chat:write.public", w)
	}
	if w[0].Attrs["scope"] != "chat:write.public" {
		t.Errorf("warning scope: got %q, want chat:write.public", w[0].Attrs["scope"])
	}
	for _, want := range []string{"chat:write.public", "not invited", "OAuth & Permissions", "reinstall"} {
		if !strings.Contains(w[0].Msg, want) {
			t.Errorf("warning %q does not say %q", w[0].Msg, want)
		}
	}
	logs.noToken(t)
}

// TestStartupCheckNoScopeHeader: without X-OAuth-Scopes (a Slack-compatible
// API that does not send it) nothing is said about scopes.
func TestStartupCheckNoScopeHeader(t *testing.T) {
	f := newFakeSlack(t)
	answerAuthTest(f, http.StatusOK, "-", authOK)
	a, logs := startChecked(t, f.apiURL())
	if err := a.Ready(); err != nil {
		t.Errorf("Ready: got %v, want nil", err)
	}
	if w := logs.records(slog.LevelWarn); len(w) != 0 {
		t.Errorf("warnings: got %+v, want none", w)
	}
}

// TestStartupCheckRejectedToken: a token Slack rejects stops Run at once
// with an error that names SLACK_BOT_TOKEN, says what to do and does not
// show the token; Ready reports it and commands are not taken.
func TestStartupCheckRejectedToken(t *testing.T) {
	for _, code := range []string{"invalid_auth", "not_authed", "token_revoked", "account_inactive", "token_expired", "not_allowed_token_type"} {
		for _, mode := range []string{"http", "socket"} {
			t.Run(code+"/"+mode, func(t *testing.T) {
				f := newFakeSlack(t)
				answerAuthTest(f, http.StatusOK, "-", `{"ok":false,"error":"`+code+`"}`)
				logs := &logRecorder{}
				cfg := Config{BotToken: secretToken, APIURL: f.apiURL(), Logger: slog.New(logs)}
				if mode == "http" {
					cfg.SigningSecret = testSecret
				} else {
					cfg.AppToken = "xapp-1-test"
				}
				a, err := New(cfg)
				if err != nil {
					t.Fatal(err)
				}
				mux := http.NewServeMux()
				a.Routes(mux)
				done := make(chan error, 1)
				go func() { done <- a.Run(context.Background(), &bottest.Recorder{}) }()
				select {
				case err = <-done:
				case <-time.After(5 * time.Second):
					t.Fatal("Run still running after 5 s; want it to stop on a rejected token")
				}
				if err == nil {
					t.Fatal("Run: got nil, want an error")
				}
				msg := err.Error()
				for _, want := range []string{"SLACK_BOT_TOKEN", code, "configuración inválida"} {
					if !strings.Contains(msg, want) {
						t.Errorf("error %q does not contain %q", msg, want)
					}
				}
				if !strings.Contains(msg, "OAuth & Permissions") && !strings.Contains(msg, "xoxb-") {
					t.Errorf("error %q does not say where to get a bot token", msg)
				}
				if strings.Contains(msg, secretToken) || strings.Contains(msg, "SeCrEt") {
					t.Errorf("error %q shows the token", msg)
				}
				if got := a.Ready(); got == nil || got.Error() != msg {
					t.Errorf("Ready: got %v, want the same error", got)
				}
				if got := checkedWith(t, f); got != secretToken {
					t.Errorf("auth.test token: got %q, want the bot token", got)
				}
				if mode == "http" {
					if w := serve(mux, signed("/slack/commands", testSecret, time.Now(), commandBody(t, f, "ayuda"))); w.Code != http.StatusServiceUnavailable {
						t.Errorf("command after a rejected token: got %d, want 503", w.Code)
					}
				}
				f.none(t) // no Socket Mode connection, no post
				logs.noToken(t)
			})
		}
	}
}

// TestStartupCheckSlackDown: when auth.test fails with 5xx or Slack cannot
// be reached, the adapter starts anyway (Slack may be briefly down) and
// logs a warning.
func TestStartupCheckSlackDown(t *testing.T) {
	t.Run("500", func(t *testing.T) {
		f := newFakeSlack(t)
		answerAuthTest(f, http.StatusInternalServerError, "-", `<html>oops</html>`)
		a, logs := startChecked(t, f.apiURL())
		if err := a.Ready(); err != nil {
			t.Errorf("Ready: got %v, want nil", err)
		}
		if w := logs.records(slog.LevelWarn); len(w) != 1 || !strings.Contains(w[0].Msg, "auth.test") {
			t.Errorf("warnings: got %+v, want one about auth.test", w)
		}
		logs.noToken(t)
	})
	t.Run("unreachable", func(t *testing.T) {
		gone := httptest.NewServer(http.NotFoundHandler())
		gone.Close()
		a, logs := startChecked(t, gone.URL+"/api/")
		if err := a.Ready(); err != nil {
			t.Errorf("Ready: got %v, want nil", err)
		}
		if w := logs.records(slog.LevelWarn); len(w) != 1 || !strings.Contains(w[0].Msg, "auth.test") {
			t.Errorf("warnings: got %+v, want one about auth.test", w)
		}
		logs.noToken(t)
	})
}

// TestBotScopesMatchManifest: the scopes the start-up check requires are
// the bot scopes of slack-manifest.yaml, and each says what it is for.
func TestBotScopesMatchManifest(t *testing.T) {
	b, err := os.ReadFile("../../slack-manifest.yaml")
	if err != nil {
		t.Fatal(err)
	}
	manifest := manifestBotScopes(t, string(b))
	code := strings.Split(botScopes, ",")
	slices.Sort(manifest)
	slices.Sort(code)
	if !slices.Equal(manifest, code) {
		t.Errorf("botScopes %v, slack-manifest.yaml oauth_config.scopes.bot %v: want the same", code, manifest)
	}
	for _, s := range code {
		if scopeLoss[s] == "" {
			t.Errorf("scopeLoss has nothing for %s", s)
		}
	}
}

// manifestBotScopes reads the list under oauth_config → scopes → bot.
func manifestBotScopes(t *testing.T, yaml string) []string {
	t.Helper()
	var path []string // the keys enclosing the current line, by indentation
	var indents []int
	var out []string
	for _, line := range strings.Split(yaml, "\n") {
		text, _, _ := strings.Cut(line, "#")
		trimmed := strings.TrimSpace(text)
		if trimmed == "" {
			continue
		}
		indent := len(text) - len(strings.TrimLeft(text, " "))
		for len(indents) > 0 && indents[len(indents)-1] >= indent {
			indents, path = indents[:len(indents)-1], path[:len(path)-1]
		}
		if item, ok := strings.CutPrefix(trimmed, "- "); ok {
			if strings.Join(path, ".") == "oauth_config.scopes.bot" {
				out = append(out, strings.TrimSpace(item))
			}
			continue
		}
		if key, rest, ok := strings.Cut(trimmed, ":"); ok && strings.TrimSpace(rest) == "" {
			indents, path = append(indents, indent), append(path, key)
		}
	}
	if len(out) == 0 {
		t.Fatal("slack-manifest.yaml: no oauth_config.scopes.bot list found")
	}
	return out
}

// TestStartupCheckUserToken: a user token (xoxp-…) passes auth.test but
// would post as its owner; the check warns and says which token to use.
func TestStartupCheckUserToken(t *testing.T) {
	f := newFakeSlack(t)
	answerAuthTest(f, http.StatusOK, "commands,chat:write,chat:write.public,channels:history,groups:history",
		`{"ok":true,"url":"https://inegi.slack.com/","team":"INEGI","user":"ana","team_id":"T0INEGI","user_id":"U0ANA"}`)
	_, logs := startChecked(t, f.apiURL())
	w := logs.records(slog.LevelWarn)
	if len(w) != 1 || !strings.Contains(w[0].Msg, "not a bot token") || !strings.Contains(w[0].Msg, "xoxb-") {
		t.Errorf("warnings: got %+v, want one saying to use the bot token (xoxb-…)", w)
	}
	logs.noToken(t)
}
