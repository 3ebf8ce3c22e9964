package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is the bot's Prometheus registry, served on /metrics by
// github.com/prometheus/client_golang: the Go runtime and process
// collectors (go_*, process_*), the command, delivery and HTTP families
// below, and whatever other packages add through Counter, Histogram and
// Register. It is safe for concurrent use, and a nil *Metrics ignores
// every observation, so packages may hold one without checking.
type Metrics struct {
	reg          *prometheus.Registry
	commands     *prometheus.CounterVec   // datosbot_commands_total{command,result}
	durations    *prometheus.HistogramVec // datosbot_command_duration_seconds{command}
	deliveries   *prometheus.CounterVec   // datosbot_deliveries_total{platform,result}
	requests     *prometheus.CounterVec   // datosbot_http_requests_total{route,code}
	httpDuration *prometheus.HistogramVec // datosbot_http_request_duration_seconds{route}
}

// DurationBuckets are the upper bounds, in seconds, of the command and
// HTTP duration histograms.
var DurationBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}

// NewMetrics returns a registry with the runtime and process collectors and
// the bot's own families, none observed yet.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "datosbot_commands_total",
			Help: "Commands handled, by sub-command and result."}, []string{"command", "result"}),
		durations: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "datosbot_command_duration_seconds",
			Help: "Time to answer a command, by sub-command.", Buckets: DurationBuckets}, []string{"command"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "datosbot_deliveries_total",
			Help: "Delivery attempts of the bot's posts, by platform and result."}, []string{"platform", "result"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "datosbot_http_requests_total",
			Help: "HTTP requests served, by route and status code."}, []string{"route", "code"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "datosbot_http_request_duration_seconds",
			Help: "Time to answer an HTTP request, by route.", Buckets: DurationBuckets}, []string{"route"}),
	}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.commands, m.durations, m.deliveries, m.requests, m.httpDuration)
	return m
}

// ObserveCommand counts one command (by sub-command name and result, e.g.
// "ok" or an error code) and records how long it took.
func (m *Metrics) ObserveCommand(name, result string, d time.Duration) {
	if m == nil {
		return
	}
	m.commands.WithLabelValues(name, result).Inc()
	m.durations.WithLabelValues(name).Observe(d.Seconds())
}

// ObserveDelivery counts one delivery attempt of a bot post, by platform
// and result (e.g. "ok", "retry", "permanent").
func (m *Metrics) ObserveDelivery(platform, result string) {
	if m == nil {
		return
	}
	m.deliveries.WithLabelValues(platform, result).Inc()
}

// ObserveHTTP counts one HTTP request by route pattern and status code and
// records how long it took.
func (m *Metrics) ObserveHTTP(route string, code int, d time.Duration) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(route, strconv.Itoa(code)).Inc()
	m.httpDuration.WithLabelValues(route).Observe(d.Seconds())
}

// Counter registers a counter family (name ending in _total) and returns
// the function that adds one to the series of the given label values, in
// the order of labels. Call it once per family while wiring and hand the
// function to the package that counts, e.g.
//
//	portal.Config{Count: metrics.Counter("datosbot_portal_requests_total", "Portal requests, by result.", "result")}
//
// It panics when the name is taken or invalid, as a wiring mistake. On a
// nil *Metrics it returns a function that does nothing.
func (m *Metrics) Counter(name, help string, labels ...string) func(labelValues ...string) {
	if m == nil {
		return func(...string) {}
	}
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	m.reg.MustRegister(c)
	return func(values ...string) { c.WithLabelValues(values...).Inc() }
}

// Histogram registers a histogram family of durations in seconds (name
// ending in _seconds; nil buckets means DurationBuckets) and returns the
// function that records one duration in the series of the given label
// values. Like Counter, it panics on a taken or invalid name.
func (m *Metrics) Histogram(name, help string, buckets []float64, labels ...string) func(d time.Duration, labelValues ...string) {
	if m == nil {
		return func(time.Duration, ...string) {}
	}
	if buckets == nil {
		buckets = DurationBuckets
	}
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, labels)
	m.reg.MustRegister(h)
	return func(d time.Duration, values ...string) { h.WithLabelValues(values...).Observe(d.Seconds()) }
}

// Register adds collectors of one's own (a gauge, a custom collector such
// as Figures) to the registry. It fails when a name is taken.
func (m *Metrics) Register(cs ...prometheus.Collector) error {
	if m == nil {
		return nil
	}
	for _, c := range cs {
		if err := m.reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// Gatherer returns the registry, for tests and other exporters.
func (m *Metrics) Gatherer() prometheus.Gatherer {
	if m == nil {
		return prometheus.NewRegistry()
	}
	return m.reg
}

// Handler serves the registry in the format the scraper asks for. A
// collector that fails (Redis unreachable for Figures) is logged and
// left out; the other metrics are still served.
func (m *Metrics) Handler(logger *slog.Logger) http.Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return promhttp.HandlerFor(m.Gatherer(), promhttp.HandlerOpts{
		ErrorHandling: promhttp.ContinueOnError,
		ErrorLog:      slog.NewLogLogger(logger.With("component", "metrics").Handler(), slog.LevelWarn),
	})
}

// Figure is one number that Figures reads at each scrape.
type Figure struct {
	Name    string // full metric name: datosbot_outbox_sent_total
	Help    string
	Counter bool // a cumulative count (its name ends in _total); else a gauge (a level now)
}

// Figures is a collector of numbers kept elsewhere and read at each
// scrape, such as the outbox's counts in Redis, which are the same for
// every replica: cumulative counts are exposed as counters, levels as
// gauges. Register it with Metrics.Register.
type Figures struct {
	figures []Figure
	descs   []*prometheus.Desc
	read    func(ctx context.Context) (map[string]float64, error)
	timeout time.Duration
}

// NewFigures returns a collector of figures whose values read returns by
// Figure.Name; a figure read leaves out is not exposed. timeout bounds
// each read (0 means 5 s, under Prometheus' default scrape timeout).
func NewFigures(figures []Figure, timeout time.Duration, read func(ctx context.Context) (map[string]float64, error)) *Figures {
	f := &Figures{figures: figures, read: read, timeout: timeout}
	if f.timeout <= 0 {
		f.timeout = 5 * time.Second
	}
	for _, fig := range figures {
		f.descs = append(f.descs, prometheus.NewDesc(fig.Name, fig.Help, nil, nil))
	}
	return f
}

// Describe implements prometheus.Collector.
func (f *Figures) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range f.descs {
		ch <- d
	}
}

// Collect implements prometheus.Collector: one read per scrape.
func (f *Figures) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), f.timeout)
	defer cancel()
	values, err := f.read(ctx)
	if err != nil {
		for _, d := range f.descs {
			ch <- prometheus.NewInvalidMetric(d, err)
			break // one error line per scrape is enough
		}
		return
	}
	for i, fig := range f.figures {
		v, ok := values[fig.Name]
		if !ok {
			continue
		}
		kind := prometheus.GaugeValue
		if fig.Counter {
			kind = prometheus.CounterValue
		}
		ch <- prometheus.MustNewConstMetric(f.descs[i], kind, v)
	}
}
