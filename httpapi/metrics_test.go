package httpapi_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/datosbot/datosbot/httpapi"
)

// scrape answers GET /metrics on h and returns the text exposition parsed
// by Prometheus' own parser, by family name.
func scrape(t *testing.T, h http.Handler) (map[string]familyView, string) {
	t.Helper()
	w := do(t, h, "GET", "/metrics", "", nil)
	if w.Code != http.StatusOK {
		t.Fatalf("GET /metrics = %d: %s", w.Code, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type = %q; want the Prometheus text format", ct)
	}
	text := w.Body.String()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("the exposition does not parse: %v\n%s", err, text)
	}
	out := map[string]familyView{}
	for name, f := range fams {
		v := familyView{typ: f.GetType().String(), series: map[string]float64{}}
		for _, m := range f.Metric {
			var labels []string
			for _, l := range m.Label {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			key := strings.Join(labels, ",")
			switch {
			case m.Counter != nil:
				v.series[key] = m.Counter.GetValue()
			case m.Gauge != nil:
				v.series[key] = m.Gauge.GetValue()
			case m.Histogram != nil:
				v.series[key] = float64(m.Histogram.GetSampleCount())
				v.series[key+",sum"] = m.Histogram.GetSampleSum()
				for _, b := range m.Histogram.Bucket {
					v.series[fmt.Sprintf("%s,le=%g", key, b.GetUpperBound())] = float64(b.GetCumulativeCount())
				}
			}
		}
		out[name] = v
	}
	return out, text
}

// familyView is one family: its type and its values by label pairs
// ("command=anunciar,result=ok"); a histogram's count is under its labels,
// its sum under "…,sum" and its buckets under "…,le=<bound>".
type familyView struct {
	typ    string
	series map[string]float64
}

func TestMetricsExposition(t *testing.T) {
	m := httpapi.NewMetrics()
	m.ObserveCommand("anunciar", "ok", 3*time.Millisecond)
	m.ObserveCommand("anunciar", "ok", 40*time.Millisecond)
	m.ObserveCommand("anunciar", "invalid", 100*time.Millisecond) // on a bucket bound
	m.ObserveCommand("estado", "ok", 7*time.Second)               // above every bound
	m.ObserveDelivery("slack", "ok")
	m.ObserveDelivery("slack", "ok")
	m.ObserveDelivery("telegram", "retry")
	m.ObserveDelivery(`we"ird\pla`+"\ntform", "ok")
	h := newServer(t, openStore(t), func(c *httpapi.Config) { c.Metrics = m })
	do(t, h, "GET", "/healthz", "", nil)
	got, text := scrape(t, h)

	for _, tt := range []struct {
		family, series string
		want           float64
	}{
		{"datosbot_commands_total", "command=anunciar,result=ok", 2},
		{"datosbot_commands_total", "command=anunciar,result=invalid", 1},
		{"datosbot_commands_total", "command=estado,result=ok", 1},
		{"datosbot_command_duration_seconds", "command=anunciar,le=0.005", 1},
		{"datosbot_command_duration_seconds", "command=anunciar,le=0.025", 1},
		{"datosbot_command_duration_seconds", "command=anunciar,le=0.05", 2},
		{"datosbot_command_duration_seconds", "command=anunciar,le=0.1", 3},
		{"datosbot_command_duration_seconds", "command=anunciar,le=5", 3},
		{"datosbot_command_duration_seconds", "command=anunciar", 3},
		{"datosbot_command_duration_seconds", "command=anunciar,sum", 0.143},
		{"datosbot_command_duration_seconds", "command=estado,le=5", 0},
		{"datosbot_command_duration_seconds", "command=estado", 1},
		{"datosbot_deliveries_total", "platform=slack,result=ok", 2},
		{"datosbot_deliveries_total", "platform=telegram,result=retry", 1},
		{"datosbot_deliveries_total", "platform=we\"ird\\pla\ntform,result=ok", 1},
	} {
		v, ok := got[tt.family].series[tt.series]
		if !ok {
			t.Errorf("%s{%s} missing from\n%s", tt.family, tt.series, text)
			continue
		}
		if math.Abs(v-tt.want) > 1e-9 {
			t.Errorf("%s{%s} = %v; want %v", tt.family, tt.series, v, tt.want)
		}
	}
	for name, typ := range map[string]string{
		"datosbot_commands_total":                "COUNTER",
		"datosbot_command_duration_seconds":      "HISTOGRAM",
		"datosbot_deliveries_total":              "COUNTER",
		"datosbot_http_requests_total":           "COUNTER",
		"datosbot_http_request_duration_seconds": "HISTOGRAM",
		"go_goroutines":                          "GAUGE",
		"go_gc_duration_seconds":                 "SUMMARY",
		"process_cpu_seconds_total":              "COUNTER",
		"process_resident_memory_bytes":          "GAUGE",
	} {
		if f, ok := got[name]; !ok || f.typ != typ {
			t.Errorf("family %s: type %q, want %s", name, f.typ, typ)
		}
	}
}

// TestMetricsLint runs Prometheus' own linter (what promtool check metrics
// runs) over a registry with every family observed, the figures of a
// custom collector and families other packages register.
func TestMetricsLint(t *testing.T) {
	m := populated(t)
	problems, err := testutil.GatherAndLint(m.Gatherer())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}

// TestPromtoolCheckMetrics feeds a real scrape to promtool when it is
// installed (scripts/test.sh installs it and also checks a scrape of the
// running binary).
func TestPromtoolCheckMetrics(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("DATOSBOT_REQUIRE_PROMTOOL") != "" {
			t.Fatal("promtool is not on PATH")
		}
		t.Skip("promtool is not installed (scripts/test.sh installs it)")
	}
	m := populated(t)
	h := newServer(t, openStore(t), func(c *httpapi.Config) { c.Metrics = m })
	do(t, h, "GET", "/healthz", "", nil)
	w := do(t, h, "GET", "/metrics", "", nil)
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(w.Body.Bytes())
	if out, err := cmd.CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

// populated returns metrics with every built-in family observed, a Figures
// collector and families registered through Counter and Histogram.
func populated(t *testing.T) *httpapi.Metrics {
	t.Helper()
	m := httpapi.NewMetrics()
	m.ObserveCommand("estado", "ok", time.Millisecond)
	m.ObserveDelivery("slack", "ok")
	m.ObserveHTTP("GET /healthz", 200, time.Millisecond)
	count := m.Counter("datosbot_portal_requests_total", "Portal requests, by result.", "result")
	count("ok")
	observe := m.Histogram("datosbot_evidence_fetch_duration_seconds", "Time to fetch a publication.", nil, "result")
	observe(30*time.Millisecond, "verificada")
	figs := httpapi.NewFigures([]httpapi.Figure{
		{Name: "datosbot_test_queued", Help: "Items waiting."},
		{Name: "datosbot_test_sent_total", Help: "Items sent.", Counter: true},
	}, 0, func(ctx context.Context) (map[string]float64, error) {
		return map[string]float64{"datosbot_test_queued": 3, "datosbot_test_sent_total": 12}, nil
	})
	if err := m.Register(figs); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestFigures(t *testing.T) {
	m := httpapi.NewMetrics()
	var mu sync.Mutex
	sent, fail := 0.0, false
	figs := httpapi.NewFigures([]httpapi.Figure{
		{Name: "datosbot_test_queued", Help: "Items waiting."},
		{Name: "datosbot_test_sent_total", Help: "Items sent.", Counter: true},
	}, 0, func(ctx context.Context) (map[string]float64, error) {
		mu.Lock()
		defer mu.Unlock()
		if fail {
			return nil, errors.New("redis down")
		}
		sent += 5
		return map[string]float64{"datosbot_test_queued": 2, "datosbot_test_sent_total": sent}, nil
	})
	if err := m.Register(figs); err != nil {
		t.Fatal(err)
	}
	h := newServer(t, openStore(t), func(c *httpapi.Config) { c.Metrics = m })

	// Each scrape reads the figures again.
	scrape(t, h)
	got, _ := scrape(t, h)
	if f := got["datosbot_test_sent_total"]; f.typ != "COUNTER" || f.series[""] != 10 {
		t.Errorf("datosbot_test_sent_total = %+v, want a counter at 10 after two reads", f)
	}
	if f := got["datosbot_test_queued"]; f.typ != "GAUGE" || f.series[""] != 2 {
		t.Errorf("datosbot_test_queued = %+v, want a gauge at 2", f)
	}
	// A failing read leaves its figures out; everything else is served.
	mu.Lock()
	fail = true
	mu.Unlock()
	got, text := scrape(t, h)
	if _, ok := got["datosbot_test_sent_total"]; ok {
		t.Errorf("figures served although their read failed:\n%s", text)
	}
	if _, ok := got["go_goroutines"]; !ok {
		t.Errorf("a failing collector hid the other metrics:\n%s", text)
	}
	// A name taken twice is refused.
	if err := m.Register(httpapi.NewFigures([]httpapi.Figure{{Name: "datosbot_test_queued", Help: "x"}}, 0, nil)); err == nil {
		t.Error("registering datosbot_test_queued twice succeeded")
	}
}

func TestMetricsConcurrent(t *testing.T) {
	m := httpapi.NewMetrics()
	h := newServer(t, openStore(t), func(c *httpapi.Config) { c.Metrics = m })
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 100 {
				m.ObserveCommand(fmt.Sprint("c", i%2), "ok", time.Duration(j)*time.Millisecond)
				m.ObserveDelivery("slack", "ok")
				if j%25 == 0 {
					do(t, h, "GET", "/metrics", "", nil)
				}
			}
		}()
	}
	wg.Wait()
	got, _ := scrape(t, h)
	if v := got["datosbot_deliveries_total"].series["platform=slack,result=ok"]; v != 800 {
		t.Errorf("deliveries = %v; want 800", v)
	}
	if v := got["datosbot_command_duration_seconds"].series["command=c0"]; v != 400 {
		t.Errorf("c0 count = %v; want 400", v)
	}
}

func TestNilMetrics(t *testing.T) {
	var m *httpapi.Metrics
	m.ObserveCommand("x", "ok", time.Second)
	m.ObserveDelivery("slack", "ok")
	m.ObserveHTTP("/x", 200, time.Second)
	m.Counter("datosbot_x_total", "x", "a")("b")
	m.Histogram("datosbot_x_seconds", "x", nil)(time.Second)
	if err := m.Register(httpapi.NewFigures(nil, 0, nil)); err != nil {
		t.Errorf("Register on nil Metrics = %v", err)
	}
	if fams, err := m.Gatherer().Gather(); err != nil || len(fams) != 0 {
		t.Errorf("nil Metrics gathered %d families, %v; want none", len(fams), err)
	}
}

func TestMetricsEndpoint(t *testing.T) {
	m := httpapi.NewMetrics()
	m.ObserveDelivery("telegram", "ok")
	h := newServer(t, openStore(t), func(c *httpapi.Config) { c.Metrics = m })
	do(t, h, "GET", "/healthz", "", nil)
	do(t, h, "GET", "/api/v1/institutions", "", nil)
	do(t, h, "GET", "/no/such/path", "", nil)

	got, text := scrape(t, h)
	for _, tt := range []struct{ family, series string }{
		{"datosbot_deliveries_total", "platform=telegram,result=ok"},
		{"datosbot_http_requests_total", "code=200,route=GET /healthz"},
		{"datosbot_http_requests_total", "code=401,route=GET /api/v1/institutions"},
		{"datosbot_http_requests_total", "code=404,route=unmatched"},
		{"datosbot_http_request_duration_seconds", "route=GET /healthz"},
	} {
		if got[tt.family].series[tt.series] != 1 {
			t.Errorf("%s{%s} = %v; want 1 in\n%s", tt.family, tt.series, got[tt.family].series[tt.series], text)
		}
	}
}
