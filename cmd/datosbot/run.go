package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/bot"
	"github.com/datosbot/datosbot/bot/console"
	"github.com/datosbot/datosbot/bot/slack"
	"github.com/datosbot/datosbot/bot/telegram"
	"github.com/datosbot/datosbot/commands"
	"github.com/datosbot/datosbot/evidence"
	"github.com/datosbot/datosbot/httpapi"
	"github.com/datosbot/datosbot/reminders"
	"github.com/datosbot/datosbot/storage"
)

// Run is the testable main: it reads the configuration from getenv and
// runs the sub-command in args until ctx is done.
func Run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd := ""
	if len(args) > 0 {
		cmd = args[0]
	}
	if cmd == "version" {
		// The version needs no configuration, so it answers whatever the
		// environment holds.
		_, err := fmt.Fprintln(stdout, "datosbot", version)
		return err
	}
	cfg, err := LoadConfig(getenv)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	// Libraries that log on their own (go-redis, through storage, at debug)
	// write to the same place at the same level.
	slog.SetDefault(logger)
	switch cmd {
	case "", "serve":
		m, err := Start(ctx, cfg, stdin, stdout, logger)
		if err != nil {
			return err
		}
		<-ctx.Done()
		return m.Close()
	case "export":
		return export(ctx, cfg, args[1:], stdout, logger)
	case "import":
		return importState(ctx, cfg, args[1:], logger)
	case "healthcheck":
		return healthcheck(ctx, cfg)
	}
	return fmt.Errorf("no conozco el subcomando %q: use datosbot (o datosbot serve), datosbot export [archivo], datosbot import <archivo>, datosbot healthcheck o datosbot version", cmd)
}

// The store is what every part needs from Redis; these guards keep the
// optional interfaces the adapters look for from silently going missing.
var (
	_ commands.Store     = (*storage.Store)(nil)
	_ slack.Deduper      = (*storage.Store)(nil)
	_ slack.Forgetter    = (*storage.Store)(nil)
	_ telegram.Deduper   = (*storage.Store)(nil)
	_ telegram.Forgetter = (*storage.Store)(nil)
	_ telegram.Lease     = (*storage.Store)(nil)
	_ reminders.Store    = (*storage.Store)(nil)
	// The outbox looks up possibly accepted posts through the Router,
	// which asks the Slack adapter.
	_ reminders.Finder = (*bot.Router)(nil)
	_ bot.PostFinder   = (*slack.Adapter)(nil)
)

// Main is a running bot.
type Main struct {
	Config    Config
	Store     *storage.Store
	Service   *commands.Service
	Bot       *bot.Bot
	Outbox    *reminders.Outbox
	Scheduler *reminders.Scheduler
	Evidence  *evidence.Worker // nil with DATOSBOT_EVIDENCE=off

	log      *slog.Logger
	listener net.Listener
	server   *http.Server
	cancel   context.CancelFunc
	done     chan struct{}
}

// Start opens the store, starts the HTTP server and the adapters, and
// returns without waiting; Close stops everything and saves the embedded
// state.
func Start(ctx context.Context, cfg Config, stdin io.Reader, stdout io.Writer, logger *slog.Logger) (*Main, error) {
	store, err := storage.Open(ctx, storage.Config{URL: cfg.RedisURL, DataFile: cfg.DataFile, Now: cfg.Clock(), Logger: logger,
		WaitReplicas: cfg.RedisWait})
	if err != nil {
		return nil, openError(err)
	}
	m, err := start(ctx, cfg, store, stdin, stdout, logger)
	if err != nil {
		// The one place a failed start closes the store (and saves the
		// embedded state), whatever step failed.
		store.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	return m, nil
}

// start wires the parts in the order they depend on each other: adapters,
// the router over them, the outbox delivering through the router, the
// commands posting through the outbox, and last the runtime answering the
// adapters' commands.
func start(ctx context.Context, cfg Config, store *storage.Store, stdin io.Reader, stdout io.Writer, logger *slog.Logger) (*Main, error) {
	now := cfg.Clock()
	m := &Main{Config: cfg, Store: store, log: logger, done: make(chan struct{})}

	var adapters []bot.Adapter
	admins := cfg.Admins
	if cfg.Console {
		con := console.New(console.Config{In: stdin, Out: stdout, Banner: []string{cfg.Evidence.ConsoleLine()}})
		if len(admins) == 0 {
			admins = []datosbot.UserID{con.FirstUser()} // the first console user is unidad
		}
		adapters = append(adapters, con)
	}

	// The dashboard reads failed deliveries from the outbox, made below.
	board, err := newDashboard(cfg, store, admins, now, func() *reminders.Outbox { return m.Outbox }, logger)
	if err != nil {
		return nil, err
	}

	if cfg.Slack() {
		// The signature window uses the real clock, never DATOSBOT_NOW.
		sl, err := slack.New(slack.Config{BotToken: cfg.SlackBotToken, SigningSecret: cfg.SlackSigningSecret,
			AppToken: cfg.SlackAppToken, APIURL: cfg.SlackAPIURL, Deduper: store, DataHosts: cfg.DataHosts, Logger: logger, Home: board})
		if err != nil {
			return nil, fmt.Errorf("configuración inválida: %w", namedError("SLACK_BOT_TOKEN", err))
		}
		// A token Slack rejects stops the start; an unreachable Slack does not.
		if err := sl.CheckToken(ctx); err != nil {
			return nil, err
		}
		adapters = append(adapters, sl)
	}

	var tg *telegram.Adapter
	if cfg.Telegram() {
		tg, err = telegram.New(ctx, telegram.Config{Token: cfg.TelegramToken, APIURL: cfg.TelegramAPIURL,
			WebhookSecret: cfg.TelegramWebhookSecret, WebhookURL: cfg.TelegramWebhookURL,
			Deduper: store, Lease: store, Holder: replicaID(), Logger: logger,
			OnMigrate: func(ctx context.Context, from, to datosbot.ChannelID) {
				if err := store.MoveChannel(ctx, from, to, "sistema"); err != nil && datosbot.ErrorCode(err) != datosbot.ENOTFOUND {
					logger.Error("telegram: could not follow a migrated group", "from", from, "to", to, "err", err)
				}
			}})
		if err != nil {
			return nil, namedError("TELEGRAM_BOT_TOKEN", err)
		}
		adapters = append(adapters, tg)
	}

	metrics := httpapi.NewMetrics()
	// Every post of the bot (publicar, campaigns, reminders, summaries)
	// goes through the durable outbox, delivered by the adapters.
	m.Outbox = reminders.NewOutbox(reminders.OutboxConfig{Store: store, Sender: bot.NewRouter(adapters...), Now: now,
		UnidadChannel: cfg.UnidadChannel, Logger: logger,
		OnMove: func(ctx context.Context, from, to datosbot.ChannelID) error {
			return store.MoveChannel(ctx, from, to, "sistema")
		},
		Observe: func(p datosbot.Platform, result string) { metrics.ObserveDelivery(string(p), result) },
	})
	portalParts, err := newPortal(cfg, store, m.Outbox, metrics, now, logger)
	if err != nil {
		return nil, err
	}
	m.Service = commands.New(commands.Config{
		Store: store, Poster: m.Outbox, Now: now, Loc: cfg.Loc, DataHosts: cfg.DataHosts,
		GraceDays: graceDays(cfg.GraceDays), Admins: admins, Logger: logger,
		TelegramBot: telegramBot(tg), Diagnose: diagnose(tg, m.Outbox), Metrics: metrics,
		EvidenceChecks: cfg.Evidence.On,
		DataChecker:    portalParts.dataChecker(),
		SignIn:         board,
	})
	m.Bot = bot.New(bot.Config{Handler: m.Service, Adapters: adapters, Logger: logger})
	if err := metrics.Register(outboxCollector(m.Outbox)); err != nil {
		return nil, err
	}
	if cfg.Evidence.On {
		observe, err := evidenceMetrics(metrics, store)
		if err != nil {
			return nil, err
		}
		m.Evidence = newEvidenceWorker(cfg, now, store, m.Outbox, observe, logger)
		backfillEvidence(ctx, store, now, logger)
	}
	m.Scheduler = &reminders.Scheduler{Store: store, Outbox: m.Outbox, Calendar: cfg.Calendar, Now: now,
		UnidadChannel: cfg.UnidadChannel, Logger: logger, Interval: cfg.tickInterval}

	api := httpapi.New(httpapi.Config{Store: store, Tokens: cfg.APITokens, Now: now, Loc: cfg.Loc,
		Metrics: metrics, Logger: logger, Ready: func(ctx context.Context) error {
			if err := store.Ping(ctx); err != nil {
				return err
			}
			return m.Bot.Ready()
		}})
	mux := http.NewServeMux()
	api.Routes(mux)
	api.CampaignRoutes(mux, m.Service.Campaigns())
	api.DatasetRoutes(mux, store)
	m.Bot.Routes(mux)
	board.Routes(mux)

	m.listener, err = net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("configuración inválida: DATOSBOT_ADDR: no se puede escuchar en %s: %v", cfg.Addr, err)
	}
	m.server = &http.Server{Handler: api.Instrument(mux), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	m.cancel = cancel
	go func() {
		if err := m.server.Serve(m.listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("http server stopped", "err", err)
		}
	}()
	var wg sync.WaitGroup
	runs := []func(context.Context) error{m.Bot.Run, m.Outbox.Run, m.Scheduler.Run}
	if portalParts != nil {
		runs = append(runs, portalParts.runs...)
	}
	if m.Evidence != nil {
		runs = append(runs, m.Evidence.Run)
	}
	for _, run := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := run(runCtx); err != nil && runCtx.Err() == nil {
				logger.Error("component stopped", "err", err)
			}
		}()
	}
	go func() {
		wg.Wait()
		close(m.done)
	}()
	logger.Info("datosbot started", "addr", m.listener.Addr().String(), "store", storeKind(cfg),
		"console", cfg.Console, "slack", cfg.Slack(), "telegram", cfg.Telegram(), "api", len(cfg.APITokens) > 0,
		"tz", cfg.Loc.String(), "now", now().Format(time.RFC3339), "evidence", cfg.Evidence.Describe())
	return m, nil
}

// Addr returns the address the HTTP server listens on.
func (m *Main) Addr() string { return m.listener.Addr().String() }

// Close stops the HTTP server (in-flight requests finish), the adapters and
// the store, saving the embedded state.
func (m *Main) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	err := m.server.Shutdown(ctx)
	m.cancel()
	select {
	case <-m.done:
	case <-ctx.Done():
	}
	return errors.Join(err, m.Store.Close(ctx))
}

// replicaID names this process among replicas (the Telegram polling lease).
func replicaID() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	rand.Read(b)
	return fmt.Sprintf("%s-%d-%x", host, os.Getpid(), b)
}

func graceDays(n int) int {
	if n == 0 {
		return -1 // commands.Config: 0 means the default, negative means none
	}
	return n
}

func storeKind(cfg Config) string {
	if cfg.RedisURL == "" {
		return "embedded:" + cfg.DataFile
	}
	return "redis"
}

func export(ctx context.Context, cfg Config, args []string, stdout io.Writer, logger *slog.Logger) error {
	store, err := storage.Open(ctx, storage.Config{URL: cfg.RedisURL, DataFile: cfg.DataFile, Logger: logger, ReadOnly: true})
	if err != nil {
		return openError(err)
	}
	defer store.Close(ctx)
	snap, err := store.Export(ctx)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(snap, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if len(args) > 0 && args[0] != "-" {
		return writeFileAtomic(args[0], b)
	}
	_, err = stdout.Write(b)
	return err
}

func importState(ctx context.Context, cfg Config, args []string, logger *slog.Logger) error {
	if len(args) != 1 {
		return errors.New("uso: datosbot import <archivo.json>")
	}
	b, err := os.ReadFile(args[0])
	if err != nil {
		return err
	}
	store, err := storage.Open(ctx, storage.Config{URL: cfg.RedisURL, DataFile: cfg.DataFile, Logger: logger})
	if err != nil {
		return openError(err)
	}
	if err := importSnapshot(ctx, store, b); err != nil {
		err = fmt.Errorf("%s: %s", args[0], datosbot.ErrorMessage(err))
		return errors.Join(err, store.Close(ctx))
	}
	return store.Close(ctx)
}

// importSnapshot loads an export into an empty store.
func importSnapshot(ctx context.Context, store *storage.Store, b []byte) error {
	var snap storage.Snapshot
	if err := json.Unmarshal(b, &snap); err != nil {
		return datosbot.Errorf(datosbot.EINVALID, "no es una exportación de datosbot: %v", err)
	}
	return store.Import(ctx, &snap)
}

func writeFileAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// healthcheck asks the local bot's /healthz, for container health checks.
func healthcheck(ctx context.Context, cfg Config) error {
	_, port, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return fmt.Errorf("DATOSBOT_ADDR: %v", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://127.0.0.1:"+port+"/healthz", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("/healthz answered %d", resp.StatusCode)
	}
	return nil
}

func telegramBot(tg *telegram.Adapter) string {
	if tg == nil {
		return ""
	}
	return tg.BotUsername()
}

// diagnose collects the warnings estado shows about an institution's
// channels: failed deliveries and, on Telegram, missing permissions.
func diagnose(tg *telegram.Adapter, outbox *reminders.Outbox) func(ctx context.Context, key string, chs []datosbot.ChannelID) []string {
	return func(ctx context.Context, key string, chs []datosbot.ChannelID) []string {
		var out []string
		if fs, err := outbox.DeliveryFailures(ctx, chs); err == nil {
			for _, f := range fs {
				out = append(out, fmt.Sprintf("No se pudo publicar en %s (%s, %s). Revise que el canal exista y que el bot siga en él; si cambió de canal, vincule el nuevo con /datos canal vincular %s.",
					f.Channel, datosbot.DescribeFailure(f.Reason), f.At.Format("2006-01-02 15:04"), key))
			}
		}
		if tg != nil {
			out = append(out, tg.DiagnoseChannels(ctx, key, chs)...)
		}
		return out
	}
}
