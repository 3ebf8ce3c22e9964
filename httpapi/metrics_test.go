package httpapi_test

import (
	"bufio"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/datosbot/datosbot/httpapi"
)

var (
	sampleLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*\})? (\S+)$`)
	commentRe  = regexp.MustCompile(`^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$`)
)

// parseExposition checks that text is valid Prometheus text format (every
// line a HELP, TYPE or sample; a family's samples after its TYPE; no family
// twice) and returns the samples by their name and labels.
func parseExposition(t *testing.T, text string) map[string]float64 {
	t.Helper()
	samples := map[string]float64{}
	types := map[string]string{}
	current := ""
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		if m := commentRe.FindStringSubmatch(line); m != nil {
			if m[1] == "TYPE" {
				if _, dup := types[m[2]]; dup {
					t.Errorf("family %s declared twice", m[2])
				}
				types[m[2]], current = m[3], m[2]
			}
			continue
		}
		m := sampleLine.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("invalid exposition line %q", line)
			continue
		}
		base := m[1]
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if types[current] == "histogram" && base == current+suffix {
				base = current
			}
		}
		if base != current {
			t.Errorf("sample %q outside its family (current %s)", line, current)
		}
		v, err := strconv.ParseFloat(strings.Replace(m[3], "+Inf", "Inf", 1), 64)
		if err != nil {
			t.Errorf("line %q: value: %v", line, err)
		}
		samples[m[1]+m[2]] = v
	}
	return samples
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
	m.SetGauge("datosbot_outbox_size", "Mensajes pendientes\nde entrega.", 12)
	m.SetGauge("datosbot_outbox_size", "Mensajes pendientes\nde entrega.", 5)
	m.SetGauge("bad name-1", "x", 1.5)

	var b strings.Builder
	if _, err := m.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	text := b.String()
	got := parseExposition(t, text)

	for _, tt := range []struct {
		series string
		want   float64
	}{
		{`datosbot_commands_total{command="anunciar",result="ok"}`, 2},
		{`datosbot_commands_total{command="anunciar",result="invalid"}`, 1},
		{`datosbot_commands_total{command="estado",result="ok"}`, 1},
		{`datosbot_command_duration_seconds_bucket{command="anunciar",le="0.005"}`, 1},
		{`datosbot_command_duration_seconds_bucket{command="anunciar",le="0.025"}`, 1},
		{`datosbot_command_duration_seconds_bucket{command="anunciar",le="0.05"}`, 2},
		{`datosbot_command_duration_seconds_bucket{command="anunciar",le="0.1"}`, 3},
		{`datosbot_command_duration_seconds_bucket{command="anunciar",le="5"}`, 3},
		{`datosbot_command_duration_seconds_bucket{command="anunciar",le="+Inf"}`, 3},
		{`datosbot_command_duration_seconds_count{command="anunciar"}`, 3},
		{`datosbot_command_duration_seconds_sum{command="anunciar"}`, 0.143},
		{`datosbot_command_duration_seconds_bucket{command="estado",le="5"}`, 0},
		{`datosbot_command_duration_seconds_bucket{command="estado",le="+Inf"}`, 1},
		{`datosbot_deliveries_total{platform="slack",result="ok"}`, 2},
		{`datosbot_deliveries_total{platform="telegram",result="retry"}`, 1},
		{`datosbot_deliveries_total{platform="we\"ird\\pla\ntform",result="ok"}`, 1},
		{`datosbot_outbox_size`, 5},
		{`bad_name_1`, 1.5},
	} {
		v, ok := got[tt.series]
		if !ok {
			t.Errorf("series %s missing from\n%s", tt.series, text)
			continue
		}
		if math.Abs(v-tt.want) > 1e-9 {
			t.Errorf("%s = %v; want %v", tt.series, v, tt.want)
		}
	}

	buckets := 0
	for series := range got {
		if strings.HasPrefix(series, `datosbot_command_duration_seconds_bucket{command="anunciar"`) {
			buckets++
		}
	}
	if buckets != len(httpapi.DurationBuckets)+1 {
		t.Errorf("anunciar has %d buckets; want %d", buckets, len(httpapi.DurationBuckets)+1)
	}
	for _, line := range []string{
		"# TYPE datosbot_commands_total counter",
		"# TYPE datosbot_command_duration_seconds histogram",
		"# TYPE datosbot_outbox_size gauge",
		`# HELP datosbot_outbox_size Mensajes pendientes\nde entrega.`,
	} {
		if !strings.Contains(text, line+"\n") {
			t.Errorf("exposition lacks %q", line)
		}
	}

	var again strings.Builder
	m.WriteTo(&again)
	if again.String() != text {
		t.Errorf("second exposition differs from the first")
	}
}

func TestMetricsConcurrent(t *testing.T) {
	m := httpapi.NewMetrics()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 100 {
				m.ObserveCommand(fmt.Sprint("c", i%2), "ok", time.Duration(j)*time.Millisecond)
				m.ObserveDelivery("slack", "ok")
				m.SetGauge("datosbot_outbox_size", "x", float64(j))
				m.WriteTo(new(strings.Builder))
			}
		}()
	}
	wg.Wait()
	var b strings.Builder
	m.WriteTo(&b)
	got := parseExposition(t, b.String())
	if v := got[`datosbot_deliveries_total{platform="slack",result="ok"}`]; v != 800 {
		t.Errorf("deliveries = %v; want 800", v)
	}
	if v := got[`datosbot_command_duration_seconds_count{command="c0"}`]; v != 400 {
		t.Errorf("c0 count = %v; want 400", v)
	}
}

func TestNilMetrics(t *testing.T) {
	var m *httpapi.Metrics
	m.ObserveCommand("x", "ok", time.Second)
	m.ObserveDelivery("slack", "ok")
	m.ObserveHTTP("/x", 200)
	m.SetGauge("g", "h", 1)
	var b strings.Builder
	if _, err := m.WriteTo(&b); err != nil || b.Len() != 0 {
		t.Errorf("nil Metrics wrote %q, %v; want nothing", b.String(), err)
	}
}

func TestMetricsEndpoint(t *testing.T) {
	m := httpapi.NewMetrics()
	m.ObserveDelivery("telegram", "ok")
	h := newServer(t, openStore(t), func(c *httpapi.Config) { c.Metrics = m })
	do(t, h, "GET", "/healthz", "", nil)
	do(t, h, "GET", "/api/v1/institutions", "", nil)
	do(t, h, "GET", "/no/such/path", "", nil)

	w := do(t, h, "GET", "/metrics", "", nil)
	if w.Code != http.StatusOK {
		t.Fatalf("GET /metrics = %d", w.Code)
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type = %q; want the Prometheus text format", ct)
	}
	got := parseExposition(t, w.Body.String())
	for _, series := range []string{
		`datosbot_deliveries_total{platform="telegram",result="ok"}`,
		`datosbot_http_requests_total{route="GET /healthz",code="200"}`,
		`datosbot_http_requests_total{route="GET /api/v1/institutions",code="401"}`,
		`datosbot_http_requests_total{route="unmatched",code="404"}`,
	} {
		if got[series] != 1 {
			t.Errorf("%s = %v; want 1 in\n%s", series, got[series], w.Body)
		}
	}
}
