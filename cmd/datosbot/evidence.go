package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/evidence"
	"github.com/datosbot/datosbot/httpapi"
	"github.com/datosbot/datosbot/reminders"
	"github.com/datosbot/datosbot/storage"
)

var _ evidence.Queue = (*storage.Store)(nil)

// evidenceConfig is the configuration of the evidence checks (DESIGN 2.5).
type evidenceConfig struct {
	On         bool           // DATOSBOT_EVIDENCE: on (default) or off
	OEmbedURL  string         // DATOSBOT_OEMBED_URL, default evidence.DefaultOEmbedURL
	FetchAllow []netip.Prefix // DATOSBOT_FETCH_ALLOW: CIDRs dialed besides public addresses
}

// ConsoleLine says, for the console's greeting, whether publications are
// checked: a console logs only warnings, so the start-up log's line is
// not shown there.
func (c evidenceConfig) ConsoleLine() string {
	if !c.On {
		return "Evidencia: apagada, no se revisan las publicaciones (DATOSBOT_EVIDENCE=off)."
	}
	return "Evidencia: se revisan las publicaciones (DATOSBOT_EVIDENCE=on)."
}

// Describe says, for the start-up log, whether publications are checked
// and which ranges besides public addresses the fetcher may dial.
func (c evidenceConfig) Describe() string {
	if !c.On {
		return "off"
	}
	if len(c.FetchAllow) == 0 {
		return "on"
	}
	var ranges []string
	for _, p := range c.FetchAllow {
		ranges = append(ranges, p.String())
	}
	return "on, also " + strings.Join(ranges, ",")
}

// defaultEvidence is whether publications are checked when
// DATOSBOT_EVIDENCE is not set: on. The tests of this package turn it off,
// so that the publication URLs they register (https://x.com/…) are never
// fetched for real; a test that wants checks sets the variable and fakes
// the pages on loopback.
var defaultEvidence = true

// loadEvidenceConfig reads the evidence variables; a bad value is one line
// naming the variable.
func loadEvidenceConfig(get func(string) string) (evidenceConfig, error) {
	bad := func(name, format string, args ...any) error {
		return fmt.Errorf("configuración inválida: %s: %s", name, fmt.Sprintf(format, args...))
	}
	c := evidenceConfig{On: defaultEvidence, OEmbedURL: evidence.DefaultOEmbedURL}
	switch v := strings.ToLower(get("DATOSBOT_EVIDENCE")); v {
	case "":
	case "on", "1", "true", "si", "sí":
		c.On = true
	case "off", "0", "false", "no":
		c.On = false
	default:
		return c, bad("DATOSBOT_EVIDENCE", "%q debe ser on u off", v)
	}
	if v := get("DATOSBOT_OEMBED_URL"); v != "" {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
			return c, bad("DATOSBOT_OEMBED_URL", "%q no es una URL http(s) absoluta (por ejemplo %s)", v, evidence.DefaultOEmbedURL)
		}
		c.OEmbedURL = v
	}
	allow, err := evidence.ParseAllow(get("DATOSBOT_FETCH_ALLOW"))
	if err != nil {
		return c, bad("DATOSBOT_FETCH_ALLOW", "%v", err)
	}
	c.FetchAllow = allow
	return c, nil
}

// evidenceMetrics registers the evidence figures on /metrics: checks
// finished by this replica by outcome, and the queue across replicas
// (read from the store at each scrape). It returns the function that
// counts one finished check.
func evidenceMetrics(metrics *httpapi.Metrics, store *storage.Store) (func(status string), error) {
	count := metrics.Counter("datosbot_evidence_checks_total",
		"Publication checks finished by this replica, by outcome (verificada, sin_mencion, inaccesible, no_verificable).", "status")
	queue := httpapi.NewFigures([]httpapi.Figure{
		{Name: "datosbot_evidence_queued", Help: "Publication checks waiting (first checks and re-checks), across replicas."},
		{Name: "datosbot_evidence_running", Help: "Publication checks being run now, across replicas."},
	}, 0, func(ctx context.Context) (map[string]float64, error) {
		due, running, err := store.EvidenceQueued(ctx)
		if err != nil {
			return nil, err
		}
		return map[string]float64{"datosbot_evidence_queued": float64(due), "datosbot_evidence_running": float64(running)}, nil
	})
	return func(status string) { count(status) }, metrics.Register(queue)
}

// newEvidenceWorker builds the checker of publications: its fetcher paced
// one request per host per second across replicas, its notices through the
// outbox.
func newEvidenceWorker(cfg Config, now func() time.Time, store *storage.Store, outbox *reminders.Outbox, observe func(string), logger *slog.Logger) *evidence.Worker {
	every := cfg.evidenceHostEvery
	if every <= 0 {
		every = evidence.DefaultHostEvery
	}
	fetcher := evidence.NewFetcher(evidence.FetcherConfig{Allow: cfg.Evidence.FetchAllow,
		Pace: evidence.HostPacer(store, now, every, evidence.DefaultMaxPaceWait)})
	return evidence.NewWorker(evidence.WorkerConfig{Queue: store, Poster: outbox, Now: now, Logger: logger,
		Interval: cfg.evidenceInterval,
		Checker:  evidence.NewChecker(evidence.CheckerConfig{Fetcher: fetcher, OEmbedURL: cfg.Evidence.OEmbedURL, DataHosts: cfg.DataHosts}),
		Observe: func(st datosbot.EvidenceStatus) {
			if observe != nil {
				observe(string(st))
			}
		}})
}

// backfillEvidence queues the checks of the actions that have none (those
// registered while the checks did not exist yet). A failure is logged, not
// fatal: the next start tries again.
func backfillEvidence(ctx context.Context, store *storage.Store, now func() time.Time, logger *slog.Logger) {
	n, err := store.EvidenceBackfill(ctx, now())
	switch {
	case err != nil:
		logger.Warn("evidence: could not queue the checks of earlier actions", "err", err)
	case n > 0:
		logger.Info("evidence: queued the checks of earlier actions", "actions", n)
	}
}
