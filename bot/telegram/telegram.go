// Package telegram connects the bot to Telegram through the Bot API. It is
// the only package that imports github.com/go-telegram/bot.
//
// It receives updates by long polling (default) or by webhook (when a
// webhook secret is configured), turns commands typed in chats into
// datosbot.Request values, renders replies as Telegram HTML and posts the
// bot's own messages. It covers what the library leaves out: a single
// poller across replicas (a lease), retry_after on getUpdates, a webhook
// that authenticates in constant time and acknowledges only handled
// updates, deduplication of update_id, panic recovery, and redaction of the
// bot token (which sits in every API URL) from logs and errors.
package telegram

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/bot"
)

var (
	_ bot.HTTPAdapter  = (*Adapter)(nil)
	_ bot.ReadyAdapter = (*Adapter)(nil)
)

// DefaultAPIURL is the base URL of Telegram's hosted Bot API.
const DefaultAPIURL = "https://api.telegram.org"

// Deduper records deliveries so that a repeated one has no second effect.
// storage.Store implements it.
type Deduper interface {
	// Once reports true the first time key is seen within ttl.
	Once(ctx context.Context, key string, ttl time.Duration) (bool, error)
}

// Forgetter is an optional extension of Deduper: when the Deduper also
// implements it, an update whose handling failed is forgotten, so that
// Telegram's redelivery is handled instead of skipped as a duplicate.
type Forgetter interface {
	Forget(ctx context.Context, key string) error
}

// Lease elects the one replica that polls Telegram. storage.Store
// implements it. AcquireLease by the current holder renews the lease.
type Lease interface {
	AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	ReleaseLease(ctx context.Context, name, holder string) error
}

// Config configures an Adapter. The zero value of every field but Token
// means its default.
type Config struct {
	// Token is the bot token from BotFather. Required. It is never logged.
	Token string
	// APIURL is the base URL of the Bot API (a self-hosted Bot API server,
	// tests). Default DefaultAPIURL.
	APIURL string
	// WebhookSecret switches to webhook mode: POST /telegram/webhook
	// accepts updates whose X-Telegram-Bot-Api-Secret-Token header equals
	// it. Empty means long polling.
	WebhookSecret string
	// WebhookURL, in webhook mode, is registered with setWebhook at start.
	// Empty means the webhook is registered by someone else.
	WebhookURL string

	// Deduper records update ids across replicas. Default: in process
	// memory, which only protects a single replica.
	Deduper Deduper
	// Lease lets only one replica poll at a time. Default: no lease, which
	// is right only for a single replica.
	Lease Lease
	// LeaseTTL is how long a poller's lease lasts without renewal; it is
	// renewed every LeaseTTL/3. Default 30s.
	LeaseTTL time.Duration
	// Holder names this replica in the lease. Default: host name and
	// process id.
	Holder string
	// PollTimeout is the long-polling timeout of getUpdates. On shutdown
	// the poll in flight is allowed to finish, so Run returns within about
	// PollTimeout. Default 10s.
	PollTimeout time.Duration

	// HTTPClient calls the Bot API. Its Timeout, if any, must exceed
	// PollTimeout. Default: a client with a 60s timeout.
	HTTPClient *http.Client
	// Logger receives warnings and errors, with the token redacted.
	// Default slog.Default().
	Logger *slog.Logger

	// OnMigrate, when set, is called when a group announces that it became
	// a supergroup with a new chat id, so the stored channel can move.
	OnMigrate func(ctx context.Context, from, to datosbot.ChannelID)
}

const (
	defaultLeaseTTL    = 30 * time.Second
	defaultPollTimeout = 10 * time.Second
	dedupeTTL          = 48 * time.Hour // Telegram keeps updates 24h
	maxWebhookBody     = 1 << 20
)

// allowedUpdates are the update types the bot asks for.
var allowedUpdates = []string{"message", "callback_query"}

// Adapter is the Telegram adapter.
type Adapter struct {
	cfg    Config
	api    *tgbot.Bot
	client *http.Client
	log    *slog.Logger
	redact *redactor
	dedupe Deduper

	me      models.User
	botName string // username without "@", lower-cased

	// pause waits between polls after an error; tests replace it.
	pause func(stop, abort context.Context, d time.Duration) bool

	mu       sync.Mutex
	handler  bot.Handler
	ready    error
	progress map[string]int // Message.Key → parts already sent, for retried posts
}

// New checks the token with getMe, warns when privacy mode would hide
// commands in groups, publishes the Spanish command menu and returns an
// Adapter ready to Run.
func New(ctx context.Context, cfg Config) (*Adapter, error) {
	if strings.TrimSpace(cfg.Token) == "" {
		return nil, errors.New("telegram: TELEGRAM_BOT_TOKEN is empty")
	}
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	cfg.APIURL = strings.TrimRight(cfg.APIURL, "/")
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = defaultLeaseTTL
	}
	if cfg.PollTimeout <= 0 {
		cfg.PollTimeout = defaultPollTimeout
	}
	if cfg.Holder == "" {
		host, _ := os.Hostname()
		cfg.Holder = host + "-" + strconv.Itoa(os.Getpid())
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: cfg.PollTimeout + 50*time.Second}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	a := &Adapter{
		cfg:    cfg,
		client: cfg.HTTPClient,
		log:    cfg.Logger.With("platform", "telegram"),
		redact: newRedactor(cfg.Token),
		dedupe: cfg.Deduper,
		ready:  errors.New("telegram: not started"),
		pause:  sleep2,
	}
	if a.dedupe == nil {
		a.dedupe = newMemoryDeduper(10000)
	}
	api, err := tgbot.New(cfg.Token,
		tgbot.WithServerURL(cfg.APIURL),
		tgbot.WithHTTPClient(cfg.PollTimeout, cfg.HTTPClient),
		tgbot.WithSkipGetMe(),
		tgbot.WithErrorsHandler(func(err error) {
			a.log.Warn("telegram library error", "err", a.redact.String(err.Error()))
		}),
		tgbot.WithDebugHandler(func(string, ...any) {}),
		tgbot.WithDefaultHandler(func(context.Context, *tgbot.Bot, *models.Update) {}),
	)
	if err != nil {
		return nil, fmt.Errorf("telegram: %w", a.redact.Error(err))
	}
	a.api = api

	me, err := api.GetMe(ctx)
	if err != nil {
		return nil, fmt.Errorf("telegram: getMe failed, check TELEGRAM_BOT_TOKEN and TELEGRAM_API_URL: %w", a.redact.Error(err))
	}
	a.me = *me
	a.botName = strings.ToLower(me.Username)
	if !me.CanReadAllGroupMessages {
		a.log.Warn("telegram privacy mode is on: in groups the bot only receives /comando@"+me.Username+
			" and replies to it; to receive every command, disable it with BotFather (/setprivacy, Disable) and re-add the bot to its groups, or make the bot an administrator of each group",
			"bot", me.Username)
	}
	if _, err := api.SetMyCommands(ctx, &tgbot.SetMyCommandsParams{Commands: menu}); err != nil {
		a.log.Warn("telegram setMyCommands failed; the command menu may be outdated", "err", a.redact.Error(err))
	}
	return a, nil
}

// menu is the command menu published with setMyCommands. Telegram command
// names allow only [a-z0-9_], hence "campana".
var menu = []models.BotCommand{
	{Command: "ayuda", Description: "Ayuda: qué comandos puede usar"},
	{Command: "anunciar", Description: "Registrar una acción de comunicación"},
	{Command: "estado", Description: "Cumplimiento del bimestre de su institución"},
	{Command: "acciones", Description: "Listar acciones registradas"},
	{Command: "retirar", Description: "Retirar una acción registrada por error"},
	{Command: "unirme", Description: "Canjear un código de invitación"},
	{Command: "enterado", Description: "Confirmar que recibió una campaña"},
	{Command: "publicar", Description: "Avisar que se publicó un conjunto de datos"},
	{Command: "campana", Description: "Campañas de la Unidad o la Coordinación"},
	{Command: "reporte", Description: "Reporte de cumplimiento por bimestre o semestre"},
	{Command: "tablero", Description: "Enlace privado de acceso al tablero web"},
	{Command: "canal", Description: "Vincular o desvincular este chat a una institución"},
	{Command: "invitar", Description: "Crear un código de invitación"},
	{Command: "institucion", Description: "Administrar instituciones"},
}

// Platform returns datosbot.Telegram.
func (a *Adapter) Platform() datosbot.Platform { return datosbot.Telegram }

// BotUsername returns the bot's username (without "@"), e.g. for
// t.me/<bot>?start=<código> links.
func (a *Adapter) BotUsername() string { return a.me.Username }

// Ready reports whether the adapter is receiving updates: nil while it
// polls (or stands by for another replica's poll) or has its webhook
// registered; an error before Run and after repeated failures.
func (a *Adapter) Ready() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.ready
}

func (a *Adapter) setReady(err error) {
	a.mu.Lock()
	a.ready = err
	a.mu.Unlock()
}

// Run answers commands with h until ctx is done: by long polling, or, with
// a webhook secret, by serving the routes mounted by Routes.
func (a *Adapter) Run(ctx context.Context, h bot.Handler) error {
	a.mu.Lock()
	a.handler = h
	a.mu.Unlock()
	if a.cfg.WebhookSecret != "" {
		return a.runWebhook(ctx)
	}
	return a.poll(ctx, h)
}

func (a *Adapter) currentHandler() bot.Handler {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.handler
}

func (a *Adapter) runWebhook(ctx context.Context) error {
	if a.cfg.WebhookURL != "" {
		_, err := a.api.SetWebhook(ctx, &tgbot.SetWebhookParams{
			URL:            a.cfg.WebhookURL,
			SecretToken:    a.cfg.WebhookSecret,
			AllowedUpdates: allowedUpdates,
		})
		if err != nil {
			err = fmt.Errorf("telegram: setWebhook failed, check TELEGRAM_WEBHOOK_URL: %w", a.redact.Error(err))
			a.setReady(err)
			return err
		}
	}
	a.setReady(nil)
	<-ctx.Done()
	a.setReady(errors.New("telegram: stopped"))
	return nil
}
