package bot_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/bot"
	"github.com/datosbot/datosbot/bot/bottest"
)

// runAdapter is an adapter whose Run is a function; it records its posts.
type runAdapter struct {
	platform datosbot.Platform
	run      func(ctx context.Context, h bot.Handler) error
	post     func(m datosbot.Message) error // optional

	mu    sync.Mutex
	posts []datosbot.Message
}

func (a *runAdapter) Platform() datosbot.Platform { return a.platform }

func (a *runAdapter) Run(ctx context.Context, h bot.Handler) error {
	if a.run == nil {
		<-ctx.Done()
		return nil
	}
	return a.run(ctx, h)
}

func (a *runAdapter) Post(ctx context.Context, m datosbot.Message) error {
	if a.post != nil {
		if err := a.post(m); err != nil {
			return err
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.posts = append(a.posts, m)
	return nil
}

func (a *runAdapter) keys() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var k []string
	for _, m := range a.posts {
		k = append(k, m.Key)
	}
	return k
}

// httpRunAdapter also serves one route.
type httpRunAdapter struct {
	runAdapter
	pattern string
}

func (a *httpRunAdapter) Routes(mux *http.ServeMux) {
	mux.HandleFunc(a.pattern, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, string(a.platform))
	})
}

// readyRunAdapter reports a fixed readiness.
type readyRunAdapter struct {
	runAdapter
	err error
}

func (a *readyRunAdapter) Ready() error { return a.err }

// await fails the test unless ch is closed or sends before a deadline.
func await[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
	var zero T
	return zero
}

func TestRunRunsEveryAdapterUntilDone(t *testing.T) {
	consoleReply := make(chan datosbot.Reply, 1)
	consoleDone := make(chan struct{})
	// The console answers one command and stops early, as at end of input.
	console := &runAdapter{platform: datosbot.Console, run: func(ctx context.Context, h bot.Handler) error {
		defer close(consoleDone)
		consoleReply <- h.Handle(ctx, datosbot.Request{User: "console:ana", Channel: "console:ana", Text: "hola"})
		return errors.New("fin de la entrada")
	}}
	slackCmds := make(chan string)
	slackReplies := make(chan datosbot.Reply)
	// Slack keeps answering until ctx is done, then reports the cancellation.
	slack := &runAdapter{platform: datosbot.Slack, run: func(ctx context.Context, h bot.Handler) error {
		for {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case text := <-slackCmds:
				slackReplies <- h.Handle(ctx, datosbot.Request{User: "slack:U1", Channel: "slack:C1", Text: text})
			}
		}
	}}
	tgStarted := make(chan struct{})
	telegram := &runAdapter{platform: datosbot.Telegram, run: func(ctx context.Context, h bot.Handler) error {
		close(tgStarted)
		<-ctx.Done()
		return nil
	}}

	logs := &bottest.Buffer{}
	h := bot.HandlerFunc(func(ctx context.Context, req datosbot.Request) datosbot.Reply {
		return datosbot.Reply{Text: "eco " + req.Text}
	})
	b := bot.New(bot.Config{Handler: h, Adapters: []bot.Adapter{console, slack, telegram}, Logger: slog.New(slog.NewTextHandler(logs, nil))})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runErr := make(chan error, 1)
	go func() { runErr <- b.Run(ctx) }()

	if r := await(t, consoleReply, "the console's reply"); r.Text != "eco hola" {
		t.Errorf("console reply = %q, want %q", r.Text, "eco hola")
	}
	await(t, consoleDone, "the console to stop")
	await(t, tgStarted, "telegram to start")
	// Run logs the console's stop after its Run returns, which is after
	// consoleDone closes: wait for that line before cancelling, or a cancel
	// that comes first would (rightly) silence it.
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(logs.String(), "adapter stopped") && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}

	// The console has stopped; Slack still answers and Run goes on.
	select {
	case slackCmds <- "estado":
	case <-time.After(5 * time.Second):
		t.Fatal("slack stopped running after the console stopped")
	}
	if r := await(t, slackReplies, "slack's reply"); r.Text != "eco estado" {
		t.Errorf("slack reply = %q, want %q", r.Text, "eco estado")
	}
	select {
	case err := <-runErr:
		t.Fatalf("Run returned %v before ctx was done", err)
	default:
	}

	cancel()
	if err := await(t, runErr, "Run to return after cancel"); err != nil {
		t.Errorf("Run = %v, want nil", err)
	}

	// An adapter failing on its own is logged; one stopping because ctx is
	// done is not.
	out := logs.String()
	if !strings.Contains(out, "adapter stopped") || !strings.Contains(out, "platform=console") || !strings.Contains(out, "fin de la entrada") {
		t.Errorf("logs = %q, want the console's early stop with its error", out)
	}
	if strings.Contains(out, "platform=slack") {
		t.Errorf("logs = %q, want no error for slack stopping at cancel", out)
	}
}

func TestRoutesMountsHTTPAdapters(t *testing.T) {
	sl := &httpRunAdapter{runAdapter: runAdapter{platform: datosbot.Slack}, pattern: "POST /slack/events"}
	tg := &httpRunAdapter{runAdapter: runAdapter{platform: datosbot.Telegram}, pattern: "POST /telegram/webhook"}
	console := &runAdapter{platform: datosbot.Console}
	b := bot.New(bot.Config{Handler: bot.HandlerFunc(nil), Adapters: []bot.Adapter{console, sl, tg}})
	mux := http.NewServeMux()
	b.Routes(mux)

	tests := []struct {
		name, method, path string
		wantCode           int
		wantBody           string
	}{
		{"slack route", http.MethodPost, "/slack/events", http.StatusOK, "slack"},
		{"telegram route", http.MethodPost, "/telegram/webhook", http.StatusOK, "telegram"},
		{"slack route, wrong method", http.MethodGet, "/slack/events", http.StatusMethodNotAllowed, ""},
		{"no route for a plain adapter", http.MethodPost, "/console", http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
			if rec.Code != tt.wantCode {
				t.Errorf("%s %s: status = %d, want %d", tt.method, tt.path, rec.Code, tt.wantCode)
			}
			if tt.wantBody != "" && rec.Body.String() != tt.wantBody {
				t.Errorf("%s %s: body = %q, want %q (served by the wrong adapter?)", tt.method, tt.path, rec.Body.String(), tt.wantBody)
			}
		})
	}
}

func TestReadyReportsFirstAdapterError(t *testing.T) {
	errSocket := errors.New("socket mode desconectado")
	errPolling := errors.New("polling detenido")
	ready := func(p datosbot.Platform, err error) bot.Adapter {
		return &readyRunAdapter{runAdapter: runAdapter{platform: p}, err: err}
	}
	plain := &runAdapter{platform: datosbot.Console}
	tests := []struct {
		name     string
		adapters []bot.Adapter
		want     string // "" for ready
		wantIs   error
	}{
		{"no adapters", nil, "", nil},
		{"no adapter reports readiness", []bot.Adapter{plain}, "", nil},
		{"all ready", []bot.Adapter{plain, ready(datosbot.Slack, nil), ready(datosbot.Telegram, nil)}, "", nil},
		{"one not ready", []bot.Adapter{plain, ready(datosbot.Slack, nil), ready(datosbot.Telegram, errPolling)},
			"telegram: polling detenido", errPolling},
		{"first not ready wins", []bot.Adapter{ready(datosbot.Slack, errSocket), ready(datosbot.Telegram, errPolling)},
			"slack: socket mode desconectado", errSocket},
		{"first in configured order", []bot.Adapter{ready(datosbot.Telegram, errPolling), ready(datosbot.Slack, errSocket)},
			"telegram: polling detenido", errPolling},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := bot.New(bot.Config{Handler: bot.HandlerFunc(nil), Adapters: tt.adapters})
			err := b.Ready()
			if tt.want == "" {
				if err != nil {
					t.Errorf("Ready() = %v, want nil", err)
				}
				return
			}
			if err == nil || err.Error() != tt.want {
				t.Fatalf("Ready() = %v, want %q", err, tt.want)
			}
			if !errors.Is(err, tt.wantIs) {
				t.Errorf("Ready() = %v, want it to wrap the adapter's error", err)
			}
		})
	}
}

func TestDeliverPicksTheChannelsPlatform(t *testing.T) {
	moved := &datosbot.ChannelMovedError{From: "telegram:-100old", To: "telegram:-100new"}
	sl := &runAdapter{platform: datosbot.Slack}
	tg := &runAdapter{platform: datosbot.Telegram, post: func(m datosbot.Message) error {
		if m.Channel == moved.From {
			return moved
		}
		return nil
	}}
	b := bot.NewRouter(sl, tg)

	tests := []struct {
		name      string
		channel   datosbot.ChannelID
		wantSlack []string
		wantTg    []string
		check     func(t *testing.T, err error)
	}{
		{"slack channel", "slack:C0123", []string{"k"}, nil, nil},
		{"telegram chat", "telegram:-100123", nil, []string{"k"}, nil},
		{"adapter error passes through", "telegram:-100old", nil, nil, func(t *testing.T, err error) {
			if err != moved {
				t.Errorf("err = %v, want the adapter's *ChannelMovedError unchanged", err)
			}
		}},
		{"platform not running", "console:ana", nil, nil, func(t *testing.T, err error) {
			var perm *datosbot.PermanentError
			if !errors.As(err, &perm) || perm.Channel != "console:ana" || !strings.Contains(perm.Reason, "console no está configurada") {
				t.Errorf("err = %#v, want a PermanentError for console:ana saying the platform is not configured", err)
			}
		}},
		{"no platform", "C0123", nil, nil, func(t *testing.T, err error) {
			var perm *datosbot.PermanentError
			if !errors.As(err, &perm) || perm.Channel != "C0123" {
				t.Errorf("err = %#v, want a PermanentError for C0123", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sl.posts, tg.posts = nil, nil
			err := b.Deliver(context.Background(), datosbot.Message{Key: "k", Channel: tt.channel, Reply: datosbot.Reply{Text: "hola"}})
			if tt.check == nil && err != nil {
				t.Fatalf("Deliver to %s = %v, want nil", tt.channel, err)
			}
			if tt.check != nil {
				if err == nil {
					t.Fatalf("Deliver to %s = nil, want an error", tt.channel)
				}
				tt.check(t, err)
			}
			if got, want := strings.Join(sl.keys(), ","), strings.Join(tt.wantSlack, ","); got != want {
				t.Errorf("slack posts = %q, want %q", got, want)
			}
			if got, want := strings.Join(tg.keys(), ","), strings.Join(tt.wantTg, ","); got != want {
				t.Errorf("telegram posts = %q, want %q", got, want)
			}
		})
	}
	if got := b.Deliver(context.Background(), datosbot.Message{Key: "x", Channel: "slack:C9", Reply: datosbot.Reply{Text: "hola"}}); got != nil {
		t.Fatal(got)
	}
	if p := sl.posts[len(sl.posts)-1]; p.Channel != "slack:C9" || p.Reply.Text != "hola" {
		t.Errorf("slack received %+v, want the message unchanged", p)
	}
}
