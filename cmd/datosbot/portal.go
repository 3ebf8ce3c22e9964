package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/datosbot/datosbot/commands"
	"github.com/datosbot/datosbot/httpapi"
	"github.com/datosbot/datosbot/portal"
	"github.com/datosbot/datosbot/storage"
)

// The portal's parts take the store and the outbox through small
// interfaces of their own; these guards keep them in step.
var (
	_ portal.RecheckStore  = (*storage.Store)(nil)
	_ portal.WatchStore    = (*storage.Store)(nil)
	_ httpapi.DatasetStore = (*storage.Store)(nil)
	_ commands.DataChecker = (*portal.Checks)(nil)
)

// defaultCKANURL is DATOSBOT_CKAN_URL's default. The tests of this package
// set it to "off", so that no test ever dials the real portal unless it
// names a fake.
var defaultCKANURL = portal.DefaultURL

// PortalConfig is the portal's part of Config (DESIGN 2.3, 2.4).
type PortalConfig struct {
	URL      string        // DATOSBOT_CKAN_URL; "" when off
	Interval time.Duration // DATOSBOT_CKAN_INTERVAL, default 15m
	RPS      float64       // DATOSBOT_CKAN_RPS, default 1
	// HighValue (DATOSBOT_HIGH_VALUE) marks the watch's notices "alto
	// valor"; empty matches nothing.
	HighValue portal.HighValue
}

// On reports whether the portal checks and the watch run.
func (p PortalConfig) On() bool { return p.URL != "" }

// loadPortalConfig reads the DATOSBOT_CKAN_* variables.
func loadPortalConfig(get func(string) string, bad func(name, format string, args ...any) error) (PortalConfig, error) {
	p := PortalConfig{URL: get("DATOSBOT_CKAN_URL"), Interval: 15 * time.Minute, RPS: 1}
	switch {
	case p.URL == "":
		p.URL = defaultCKANURL
	case strings.EqualFold(p.URL, "off"):
		p.URL = "off"
	}
	if p.URL == "off" {
		p.URL = ""
	} else if u, err := url.Parse(p.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return p, bad("DATOSBOT_CKAN_URL", "no es una URL http(s) absoluta (por ejemplo https://www.datos.gob.mx) ni off")
	} else if u.User != nil {
		// The Action API the bot uses is public; credentials in the URL
		// would only end up in logs. The value is not repeated here.
		return p, bad("DATOSBOT_CKAN_URL", "no debe llevar usuario ni contraseña (la API del portal es pública); quítelos de la URL, por ejemplo https://www.datos.gob.mx")
	}
	if v := get("DATOSBOT_CKAN_INTERVAL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Minute || d > 24*time.Hour {
			return p, bad("DATOSBOT_CKAN_INTERVAL", "%q debe ser una duración entre 1m y 24h, por ejemplo 15m", v)
		}
		p.Interval = d
	}
	if v := get("DATOSBOT_CKAN_RPS"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 || f > 20 {
			return p, bad("DATOSBOT_CKAN_RPS", "%q debe ser un número de solicitudes por segundo mayor que 0 y hasta 20, por ejemplo 1 o 0.5", v)
		}
		p.RPS = f
	}
	hv, err := portal.ParseHighValue(get("DATOSBOT_HIGH_VALUE"))
	if err != nil {
		return p, bad("DATOSBOT_HIGH_VALUE", "%v", err)
	}
	p.HighValue = hv
	return p, nil
}

// portalParts are the running pieces of the portal integration.
type portalParts struct {
	client *portal.Client
	checks *portal.Checks
	watch  *portal.Watch
	runs   []func(context.Context) error
}

// newPortal builds the client and the background data re-checks; nil when
// the portal is off.
func newPortal(cfg Config, store *storage.Store, poster commands.Poster, metrics *httpapi.Metrics, now func() time.Time, logger *slog.Logger) (*portalParts, error) {
	if !cfg.Portal.On() {
		return nil, nil
	}
	requests := metrics.Counter("datosbot_ckan_requests_total",
		"Requests to the portal's CKAN API, by action and result (ok, an HTTP status, timeout, error; backoff: not sent while backing off).", "action", "result")
	latency := metrics.Histogram("datosbot_ckan_request_duration_seconds", "Time of the requests sent to the portal, by action.", nil, "action")
	client, err := portal.New(portal.Config{URL: cfg.Portal.URL, RPS: cfg.Portal.RPS,
		Observe: func(action, result string, d time.Duration) {
			requests(action, result)
			if result != "backoff" {
				latency(d, action)
			}
		}})
	if err != nil {
		return nil, fmt.Errorf("configuración inválida: DATOSBOT_CKAN_URL: %v", err)
	}
	p := &portalParts{client: client}
	p.checks = &portal.Checks{Checker: &portal.Checker{Client: client, Now: now, Logger: logger},
		Store: store, Poster: poster, Now: now, Logger: logger, UnidadChannel: cfg.UnidadChannel}
	runs := metrics.Counter("datosbot_ckan_watch_runs_total", "Runs of the new-data watch in this replica, by result (ok, first, skipped: another replica holds the lease, error).", "result")
	p.watch = &portal.Watch{Client: client, Store: store, Poster: poster, HighValue: cfg.Portal.HighValue,
		Holder: replicaID(), Interval: cfg.Portal.Interval, Now: now, Logger: logger,
		Observe: func(st portal.RunStats) { runs(st.Result()) }}
	if err := metrics.Register(portalCollector(store, now)); err != nil {
		return nil, err
	}
	p.runs = append(p.runs, func(ctx context.Context) error {
		backfillDataRechecks(ctx, p.checks, logger)
		return p.checks.Run(ctx)
	}, p.watch.Run, func(ctx context.Context) error {
		logStatus(ctx, client, logger)
		return nil
	})
	return p, nil
}

// backfillDataRechecks queues the re-checks a crash lost (the action was
// stored pendiente, its re-check not queued yet), before the first round
// of re-checks. A failure is logged, not fatal: the next start tries again.
func backfillDataRechecks(ctx context.Context, checks *portal.Checks, logger *slog.Logger) {
	n, err := checks.Backfill(ctx)
	switch {
	case err != nil && ctx.Err() == nil:
		logger.Warn("portal: could not queue the re-checks of pendiente data URLs", "err", err)
	case n > 0:
		logger.Info("portal: queued the lost re-checks of pendiente data URLs", "urls", n)
	}
}

// logStatus writes the one start-up line about the portal: its CKAN
// version, or why it cannot be reached. An unreachable portal never stops
// the bot (nor fails /readyz): data URLs are then pendiente and
// re-checked.
func logStatus(ctx context.Context, client *portal.Client, logger *slog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	st, err := client.StatusShow(ctx)
	if err != nil {
		logger.Warn("portal unreachable: data URLs are accepted as pendiente and checked again in the background", "url", client.URL(), "err", err)
		return
	}
	version := st.CKANVersion
	if version == "" {
		version = "hidden"
	}
	logger.Info("portal reachable", "url", client.URL(), "ckan_version", version, "site", st.SiteTitle)
}

// dataChecker is the commands' view of the portal: nil when it is off.
func (p *portalParts) dataChecker() commands.DataChecker {
	if p == nil {
		return nil
	}
	return p.checks
}

// portalFigures are read from the store at each scrape, the same for every
// replica.
var portalFigures = []httpapi.Figure{
	{Name: "datosbot_ckan_watch_lag_seconds", Help: "Time since the start of the last run of the new-data watch without errors (its watermark), across replicas."},
	{Name: "datosbot_ckan_rechecks_pending", Help: "Data URLs waiting for a background re-check on the portal (pendiente)."},
}

func portalCollector(store *storage.Store, now func() time.Time) *httpapi.Figures {
	return httpapi.NewFigures(portalFigures, 0, func(ctx context.Context) (map[string]float64, error) {
		out := map[string]float64{}
		mark, _, err := store.PortalWatermark(ctx)
		if err != nil {
			return nil, err
		}
		if !mark.IsZero() {
			out["datosbot_ckan_watch_lag_seconds"] = now().Sub(mark).Seconds()
		}
		n, err := store.PendingDataRechecks(ctx)
		if err != nil {
			return nil, err
		}
		out["datosbot_ckan_rechecks_pending"] = float64(n)
		return out, nil
	})
}
