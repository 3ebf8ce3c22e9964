package httpapi

import (
	"bufio"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Metrics collects the bot's counters, histograms and gauges and writes them
// in the Prometheus text exposition format (version 0.0.4). It is safe for
// concurrent use, and a nil *Metrics ignores every observation, so packages
// may hold one without checking.
type Metrics struct {
	mu         sync.Mutex
	commands   map[[2]string]uint64 // command, result
	durations  map[string]*histogram
	deliveries map[[2]string]uint64 // platform, result
	requests   map[[2]string]uint64 // route, code
	gauges     map[string]gauge
}

// DurationBuckets are the upper bounds, in seconds, of the command duration
// histogram.
var DurationBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}

type histogram struct {
	counts []uint64 // per bucket, not cumulative; the last is +Inf
	sum    float64
	count  uint64
}

type gauge struct {
	help  string
	value float64
}

// NewMetrics returns an empty set of metrics.
func NewMetrics() *Metrics {
	return &Metrics{
		commands:   make(map[[2]string]uint64),
		durations:  make(map[string]*histogram),
		deliveries: make(map[[2]string]uint64),
		requests:   make(map[[2]string]uint64),
		gauges:     make(map[string]gauge),
	}
}

// ObserveCommand counts one command (by sub-command name and result, e.g.
// "ok" or an error code) and records how long it took.
func (m *Metrics) ObserveCommand(name, result string, d time.Duration) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.commands[[2]string{name, result}]++
	h := m.durations[name]
	if h == nil {
		h = &histogram{counts: make([]uint64, len(DurationBuckets)+1)}
		m.durations[name] = h
	}
	sec := d.Seconds()
	i, _ := slices.BinarySearch(DurationBuckets, sec) // first bound >= sec
	h.counts[i]++
	h.sum += sec
	h.count++
}

// ObserveDelivery counts one delivery attempt of a bot post, by platform
// and result (e.g. "ok", "retry", "permanent").
func (m *Metrics) ObserveDelivery(platform, result string) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.deliveries[[2]string{platform, result}]++
}

// ObserveHTTP counts one HTTP request by route pattern and status code.
func (m *Metrics) ObserveHTTP(route string, code int) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests[[2]string{route, strconv.Itoa(code)}]++
}

var invalidNameChars = regexp.MustCompile(`[^a-zA-Z0-9_:]`)

// SetGauge sets a gauge without labels, e.g. SetGauge("datosbot_outbox_size",
// "Mensajes pendientes de entrega.", 12). Characters not allowed in a metric
// name become underscores.
func (m *Metrics) SetGauge(name, help string, v float64) {
	if m == nil {
		return
	}
	name = invalidNameChars.ReplaceAllString(name, "_")
	if name == "" || name[0] >= '0' && name[0] <= '9' {
		name = "_" + name
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gauges[name] = gauge{help, v}
}

// WriteTo writes every metric in the Prometheus text format. Families are
// sorted by name and series by label values, so the output is deterministic.
func (m *Metrics) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: bufio.NewWriter(w)}
	if m != nil {
		m.mu.Lock()
		m.write(cw)
		m.mu.Unlock()
	}
	err := cw.w.(*bufio.Writer).Flush()
	if cw.err != nil {
		err = cw.err
	}
	return cw.n, err
}

// family is one metric family, written in name order.
type family struct {
	name string
	fn   func(w io.Writer)
}

func (m *Metrics) write(w io.Writer) {
	fams := []family{
		{"datosbot_commands_total", func(w io.Writer) {
			header(w, "datosbot_commands_total", "counter", "Commands handled, by sub-command and result.")
			writeCounters(w, "datosbot_commands_total", []string{"command", "result"}, m.commands)
		}},
		{"datosbot_command_duration_seconds", func(w io.Writer) {
			name := "datosbot_command_duration_seconds"
			header(w, name, "histogram", "Time to answer a command, by sub-command.")
			for _, cmd := range sortedKeys(m.durations) {
				h := m.durations[cmd]
				var cum uint64
				for i, c := range h.counts {
					cum += c
					le := "+Inf"
					if i < len(DurationBuckets) {
						le = formatFloat(DurationBuckets[i])
					}
					sample(w, name+"_bucket", []string{"command", "le"}, []string{cmd, le}, strconv.FormatUint(cum, 10))
				}
				sample(w, name+"_sum", []string{"command"}, []string{cmd}, formatFloat(h.sum))
				sample(w, name+"_count", []string{"command"}, []string{cmd}, strconv.FormatUint(h.count, 10))
			}
		}},
		{"datosbot_deliveries_total", func(w io.Writer) {
			header(w, "datosbot_deliveries_total", "counter", "Delivery attempts of the bot's posts, by platform and result.")
			writeCounters(w, "datosbot_deliveries_total", []string{"platform", "result"}, m.deliveries)
		}},
		{"datosbot_http_requests_total", func(w io.Writer) {
			header(w, "datosbot_http_requests_total", "counter", "HTTP requests served, by route and status code.")
			writeCounters(w, "datosbot_http_requests_total", []string{"route", "code"}, m.requests)
		}},
	}
	for _, name := range sortedKeys(m.gauges) {
		g := m.gauges[name]
		fams = append(fams, family{name, func(w io.Writer) {
			header(w, name, "gauge", g.help)
			sample(w, name, nil, nil, formatFloat(g.value))
		}})
	}
	slices.SortStableFunc(fams, func(a, b family) int { return strings.Compare(a.name, b.name) })
	for i, f := range fams {
		if i > 0 && f.name == fams[i-1].name {
			continue // a gauge named like a built-in family (listed first) loses
		}
		f.fn(w)
	}
}

func header(w io.Writer, name, typ, help string) {
	io.WriteString(w, "# HELP "+name+" "+helpEscaper.Replace(help)+"\n")
	io.WriteString(w, "# TYPE "+name+" "+typ+"\n")
}

func writeCounters(w io.Writer, name string, labels []string, series map[[2]string]uint64) {
	keys := make([][2]string, 0, len(series))
	for k := range series {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b [2]string) int {
		if c := strings.Compare(a[0], b[0]); c != 0 {
			return c
		}
		return strings.Compare(a[1], b[1])
	})
	for _, k := range keys {
		sample(w, name, labels, k[:], strconv.FormatUint(series[k], 10))
	}
}

var (
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	labelEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
)

func sample(w io.Writer, name string, labels, values []string, value string) {
	var b strings.Builder
	b.WriteString(name)
	if len(labels) > 0 {
		b.WriteByte('{')
		for i, l := range labels {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(l + `="` + labelEscaper.Replace(values[i]) + `"`)
		}
		b.WriteByte('}')
	}
	b.WriteString(" " + value + "\n")
	io.WriteString(w, b.String())
}

func formatFloat(f float64) string {
	switch {
	case math.IsInf(f, +1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	case math.IsNaN(f):
		return "NaN"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

type countWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.err = err
	return n, err
}
