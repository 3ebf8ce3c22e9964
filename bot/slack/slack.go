// Package slack connects the bot to Slack: the /datos slash command, the
// "anunciar" form and message buttons, over HTTP (signed requests) or Socket
// Mode, and the bot's own posts through chat.postMessage. It is the only
// package that imports github.com/slack-go/slack.
package slack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/bot"
)

var (
	_ bot.HTTPAdapter  = (*Adapter)(nil)
	_ bot.ReadyAdapter = (*Adapter)(nil)
)

// Deduper remembers keys across replicas; storage.Store implements it.
type Deduper interface {
	// Once reports true the first time key is seen within ttl.
	Once(ctx context.Context, key string, ttl time.Duration) (bool, error)
}

// Forgetter is a Deduper that can forget a key (storage.Store is one): a
// form refused by the command can then be submitted again and shows the
// refusal again, instead of closing silently as a duplicate.
type Forgetter interface {
	Forget(ctx context.Context, key string) error
}

// Config configures an Adapter. The zero value of every field but BotToken
// means the default.
type Config struct {
	// BotToken (SLACK_BOT_TOKEN, xoxb-…) calls the Web API. Required.
	BotToken string
	// SigningSecret (SLACK_SIGNING_SECRET) verifies requests to
	// /slack/commands and /slack/interactions. Without it Routes mounts
	// nothing.
	SigningSecret string
	// AppToken (SLACK_APP_TOKEN, xapp-…) turns on Socket Mode. One of
	// SigningSecret and AppToken is required.
	AppToken string
	// APIURL (SLACK_API_URL) is the base URL of the Web API; default
	// Slack's. A missing trailing slash is added.
	APIURL string
	// Deduper makes retried requests and double submissions have one
	// effect; default an in-process memory, which is right for one replica
	// only.
	Deduper Deduper
	// DataHosts are the hosts of direct data URLs, for validating the form;
	// default datosbot.DefaultDataHosts.
	DataHosts []string
	// Now is the clock of the signature window; default time.Now.
	Now func() time.Time
	// Logger receives the adapter's logs; default slog.Default().
	Logger *slog.Logger
	// HTTPClient calls the Web API and response_url; default a client with
	// a 15-second timeout.
	HTTPClient *http.Client
	// AckTimeout is how long a request waits for the Handler before it is
	// acknowledged with "Procesando…" and answered later through
	// response_url; default 2.5 s (Slack allows 3 s).
	AckTimeout time.Duration
	// WorkTimeout bounds one Handler call; default 30 s.
	WorkTimeout time.Duration
	// Home, when set, turns the Home tab on: app_home_opened publishes
	// what Home returns, and so does each registration or acknowledgment
	// of that person. nil leaves the Home tab unpublished.
	Home HomeSource
}

// Adapter is the Slack adapter.
type Adapter struct {
	api      *slack.Client
	socket   *socketmode.Client // nil in HTTP mode
	secret   []byte             // nil when HTTP mode is off
	dedupe   Deduper
	hosts    []string
	now      func() time.Time
	log      *slog.Logger
	client   *http.Client
	ackAfter time.Duration
	workFor  time.Duration
	home     HomeSource

	handler atomic.Pointer[bot.Handler]
	ready   atomic.Value // error; nil when connected
	wg      sync.WaitGroup
	checked atomic.Bool // CheckToken passed; Run does not check again
}

// Timeouts and limits.
const (
	dedupeTTL     = 15 * time.Minute // longer than the 5-minute signature window
	signatureSkew = 5 * time.Minute
	maxBodyBytes  = 256 << 10
)

// New checks cfg and returns an adapter. It does not contact Slack; Run
// checks the token.
func New(cfg Config) (*Adapter, error) {
	if strings.TrimSpace(cfg.BotToken) == "" {
		return nil, errors.New("SLACK_BOT_TOKEN is required for Slack")
	}
	if cfg.SigningSecret == "" && cfg.AppToken == "" {
		return nil, errors.New("Slack needs SLACK_SIGNING_SECRET (HTTP) or SLACK_APP_TOKEN (Socket Mode)")
	}
	if cfg.AppToken != "" && !strings.HasPrefix(cfg.AppToken, "xapp-") {
		return nil, errors.New("SLACK_APP_TOKEN must be an app-level token starting with xapp-")
	}
	a := &Adapter{
		dedupe:   cfg.Deduper,
		hosts:    cfg.DataHosts,
		now:      cfg.Now,
		log:      cfg.Logger,
		client:   cfg.HTTPClient,
		ackAfter: cfg.AckTimeout,
		workFor:  cfg.WorkTimeout,
		home:     cfg.Home,
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.dedupe == nil {
		a.dedupe = newMemoryDeduper(a.now)
	}
	if len(a.hosts) == 0 {
		a.hosts = datosbot.DefaultDataHosts
	}
	if a.log == nil {
		a.log = slog.Default()
	}
	if a.client == nil {
		a.client = &http.Client{Timeout: 15 * time.Second}
	}
	if a.ackAfter <= 0 {
		a.ackAfter = 2500 * time.Millisecond
	}
	if a.workFor <= 0 {
		a.workFor = 30 * time.Second
	}
	apiURL := cfg.APIURL
	if apiURL == "" {
		apiURL = slack.APIURL
	}
	if !strings.HasSuffix(apiURL, "/") {
		apiURL += "/" // slack-go appends the method name directly
	}
	opts := []slack.Option{slack.OptionAPIURL(apiURL), slack.OptionHTTPClient(a.client)}
	if cfg.AppToken != "" {
		opts = append(opts, slack.OptionAppLevelToken(cfg.AppToken))
	}
	a.api = slack.New(cfg.BotToken, opts...)
	if cfg.SigningSecret != "" {
		a.secret = []byte(cfg.SigningSecret)
	}
	if cfg.AppToken != "" {
		// socketmode logs only in debug mode; send those lines to slog.
		std := slog.NewLogLogger(a.log.Handler(), slog.LevelDebug)
		a.socket = socketmode.New(a.api, socketmode.OptionLog(std), socketmode.OptionReadLimit(maxBodyBytes*4))
		a.ready.Store(readyErr{errors.New("slack: Socket Mode not connected yet")})
	} else {
		a.ready.Store(readyErr{errors.New("slack: adapter not running yet")})
	}
	return a, nil
}

// readyErr boxes an error so that atomic.Value always holds one type.
type readyErr struct{ err error }

func (a *Adapter) setReady(err error) { a.ready.Store(readyErr{err}) }

// Platform returns datosbot.Slack.
func (a *Adapter) Platform() datosbot.Platform { return datosbot.Slack }

// Ready returns nil while the adapter can receive commands: in Socket Mode,
// while the WebSocket is connected; in HTTP mode, once Run has started and
// Slack has not rejected the bot token.
func (a *Adapter) Ready() error { return a.ready.Load().(readyErr).err }

// Run answers commands with h until ctx is done. It first checks the bot
// token with auth.test: a token Slack rejects makes Run return at once with
// an error naming SLACK_BOT_TOKEN (and Ready return it); missing scopes
// and an unreachable Slack are only logged. In HTTP mode it then only
// enables the routes; in Socket Mode it also keeps the WebSocket
// connected, reconnecting on drops. In both modes it waits for the
// commands and replies still in flight before it returns.
func (a *Adapter) Run(ctx context.Context, h bot.Handler) error {
	if err := a.CheckToken(ctx); err != nil {
		a.setReady(err)
		return err
	}
	a.handler.Store(&h)
	defer a.wg.Wait() // late replies and button presses still in flight
	if a.socket == nil {
		// Stop the HTTP server before cancelling ctx (as Main.Close does),
		// so that no request starts new work while Run waits for the work
		// in flight: its writes must land before the store is closed.
		a.setReady(nil)
		<-ctx.Done()
		a.setReady(errors.New("slack: adapter stopped"))
		return nil
	}
	return a.runSocket(ctx, h)
}

func (a *Adapter) currentHandler() bot.Handler {
	if p := a.handler.Load(); p != nil {
		return *p
	}
	return nil
}

// Routes mounts POST /slack/commands, POST /slack/interactions and POST
// /slack/events when a signing secret is configured. They answer 503 until Run has started.
func (a *Adapter) Routes(mux *http.ServeMux) {
	if a.secret == nil {
		return
	}
	mux.HandleFunc("POST /slack/commands", a.serveCommand)
	mux.HandleFunc("POST /slack/interactions", a.serveInteraction)
	mux.HandleFunc("POST /slack/events", a.serveEvents)
}

// runSocket runs the Socket Mode client and dispatches its events.
func (a *Adapter) runSocket(ctx context.Context, h bot.Handler) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- a.socket.RunContext(ctx) }()
	for {
		select {
		case err := <-done:
			a.setReady(errors.New("slack: Socket Mode stopped"))
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("slack socket mode: %w", err)
		case evt := <-a.socket.Events:
			a.socketEvent(ctx, h, evt)
		}
	}
}

func (a *Adapter) socketEvent(ctx context.Context, h bot.Handler, evt socketmode.Event) {
	switch evt.Type {
	case socketmode.EventTypeConnected:
		a.setReady(nil)
		a.log.Info("slack socket mode connected")
	case socketmode.EventTypeConnecting:
		a.setReady(errors.New("slack: Socket Mode connecting"))
	case socketmode.EventTypeConnectionError:
		a.setReady(errors.New("slack: Socket Mode connection failed; retrying"))
		if e, ok := evt.Data.(*slack.ConnectionErrorEvent); ok {
			a.log.Warn("slack socket mode connection failed", "attempt", e.Attempt, "backoff", e.Backoff, "err", e.ErrorObj)
		}
	case socketmode.EventTypeInvalidAuth:
		a.setReady(errors.New("slack: Socket Mode rejected the app token"))
	case socketmode.EventTypeErrorWriteFailed:
		a.log.Error("slack socket mode write failed", "err", evt.Data)
	case socketmode.EventTypeSlashCommand:
		cmd, ok := evt.Data.(slack.SlashCommand)
		if !ok || evt.Request == nil {
			return
		}
		if !commandFromSomeone(cmd) {
			a.log.Warn("slack socket mode command without a user or channel ignored")
			a.ack(*evt.Request, nil)
			return
		}
		req := *evt.Request
		a.wg.Go(func() {
			payload := a.command(ctx, h, cmd, dedupeKey(req.Payload))
			a.ack(req, payload)
		})
	case socketmode.EventTypeInteractive:
		ic, ok := evt.Data.(slack.InteractionCallback)
		if !ok || evt.Request == nil {
			return
		}
		req := *evt.Request
		a.wg.Go(func() {
			payload := a.interaction(ctx, h, ic, dedupeKey(req.Payload))
			a.ack(req, payload)
		})
	case socketmode.EventTypeEventsAPI:
		if evt.Request != nil {
			a.ack(*evt.Request, nil)
		}
		if e, ok := evt.Data.(slackevents.EventsAPIEvent); ok {
			a.event(ctx, e)
		}
	}
}

func (a *Adapter) ack(req socketmode.Request, payload any) {
	var err error
	if payload == nil {
		err = a.socket.Ack(req)
	} else {
		err = a.socket.Ack(req, payload)
	}
	if err != nil {
		a.log.Error("slack socket mode ack failed", "envelope", req.EnvelopeID, "err", err)
	}
}
