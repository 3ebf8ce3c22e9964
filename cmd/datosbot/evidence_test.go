package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/bot/bottest"
)

// No test of this package fetches a real publication: evidence checks
// default to off here, and a test that wants them sets DATOSBOT_EVIDENCE
// and fakes the pages on loopback.
func init() { defaultEvidence = false }

const evidenceDataURL = "https://www.datos.gob.mx/dataset/accidentes_transito"

// publications is a fake web of publication pages on loopback that counts
// the requests to each path.
type publications struct {
	*httptest.Server
	mu   sync.Mutex
	hits map[string]int
	// hold, when set, keeps /lenta waiting until it is closed or the
	// request is cancelled.
	hold chan struct{}
}

func newPublications(t *testing.T) *publications {
	p := &publications{hits: map[string]int{}}
	article := func(link string) string {
		return `<!doctype html><html><body><article><h1>Datos de accidentes</h1><p>` +
			strings.Repeat("El INEGI publica las estadísticas de accidentes de tránsito. ", 5) + link + `</p></article></body></html>`
	}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.hits[r.URL.Path]++
		hold := p.hold
		p.mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		switch {
		case r.URL.Path == "/lenta" && hold != nil:
			select {
			case <-hold:
			case <-r.Context().Done():
				return
			}
			fmt.Fprint(w, article(`<a href="`+evidenceDataURL+`">datos</a>`))
		case strings.HasPrefix(r.URL.Path, "/con-enlace"), r.URL.Path == "/lenta":
			fmt.Fprint(w, article(`<a href="http://datos.gob.mx/dataset/accidentes_transito/?utm_source=boletin&amp;fbclid=IwAR0x">datos</a>`))
		case r.URL.Path == "/portada":
			fmt.Fprint(w, article(`<a href="https://www.datos.gob.mx/">Portal de datos abiertos</a>`))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *publications) count(path string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.hits[path]
}

// evidenceVars is the configuration of a bot whose evidence checks may
// reach the fake pages on loopback only.
func evidenceVars(t *testing.T, file string, oembed string) map[string]string {
	return map[string]string{
		"DATOSBOT_DATA_FILE":   file,
		"DATOSBOT_NOW":         "2026-12-02T10:00:00-06:00",
		"DATOSBOT_EVIDENCE":    "on",
		"DATOSBOT_FETCH_ALLOW": "127.0.0.1/32",
		"DATOSBOT_OEMBED_URL":  oembed,
	}
}

func fastEvidence(cfg *Config) {
	cfg.evidenceInterval = 20 * time.Millisecond
	cfg.evidenceHostEvery = time.Millisecond
}

// setupInegi creates inegi with #canal-inegi and makes ines its
// institucional liaison, speaking in #canal-inegi.
func (c *consoleBot) setupInegi() {
	c.t.Helper()
	c.say("/datos institucion alta inegi INEGI")
	c.say("/en canal-inegi")
	c.say("/datos canal vincular inegi")
	code := codeRE.FindStringSubmatch(c.say("/datos invitar inegi institucional"))[1]
	c.say("/como ines")
	c.say("/datos unirme " + code)
}

var actionIDRE = regexp.MustCompile(`Acción (A[A-Z0-9]+) registrada`)

// announce registers an action and returns its id.
func (c *consoleBot) announce(evidenceURL string) string {
	c.t.Helper()
	out := c.say("/datos anunciar " + evidenceDataURL + " " + evidenceURL)
	m := actionIDRE.FindStringSubmatch(out)
	if m == nil {
		c.t.Fatalf("anunciar %s answered:\n%s", evidenceURL, out)
	}
	return m[1]
}

// waitEvidence waits until action id has evidence and returns it.
func (c *consoleBot) waitEvidence(id string, status datosbot.EvidenceStatus) datosbot.Evidence {
	c.t.Helper()
	var last *datosbot.Evidence
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		a, err := c.m.Store.Action(context.Background(), id)
		if err != nil {
			c.t.Fatal(err)
		}
		if last = a.Evidence; last != nil && last.Status == status {
			return *last
		}
	}
	c.t.Fatalf("action %s: evidence %+v, want %s", id, last, status)
	return datosbot.Evidence{}
}

func TestEvidenceChecksAfterRegistration(t *testing.T) {
	pages := newPublications(t)
	oembed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }))
	defer oembed.Close()
	token := strings.Repeat("e", 40)
	vars := evidenceVars(t, filepath.Join(t.TempDir(), "s.json"), oembed.URL+"/oembed")
	vars["DATOSBOT_API_TOKENS"] = token
	c := startConsole(t, vars, fastEvidence)
	defer c.close()
	c.setupInegi()

	linked := c.announce(pages.URL + "/con-enlace")
	home := c.announce(pages.URL + "/portada")
	c.waitEvidence(linked, datosbot.EvidenceVerified)
	c.waitEvidence(home, datosbot.EvidenceNoMention)
	out := c.waitFor("[bot → #canal-inegi]\n  La publicación de la acción " + home + " no cita la URL de los datos")
	if n := strings.Count(out, "no cita la URL de los datos"); n != 1 {
		t.Errorf("the channel was told %d times, want once:\n%s", n, out)
	}
	if !strings.Contains(out, "/datos retirar "+home) {
		t.Errorf("the notice does not say how to withdraw the action:\n%s", out)
	}
	c.pos = len(out) // past the notice, to the next answer

	st := c.say("/datos estado")
	for _, want := range []string{linked + ": 2026-12-02, otro, " + pages.URL + "/con-enlace · evidencia verificada",
		home + ": 2026-12-02, otro, " + pages.URL + "/portada · evidencia sin mención de la URL de los datos: La publicación no cita"} {
		if !strings.Contains(st, want) {
			t.Errorf("estado lacks %q:\n%s", want, st)
		}
	}

	req, _ := http.NewRequest("GET", "http://"+c.m.Addr()+"/api/v1/actions?institution=inegi", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Items []datosbot.Action `json:"items"`
	}
	json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	for _, a := range list.Items {
		if a.Evidence == nil || a.Evidence.CheckedAt.IsZero() {
			t.Errorf("API action %s has evidence %+v, want the outcome with checked_at", a.ID, a.Evidence)
		}
	}
	if pages.count("/con-enlace") != 1 || pages.count("/portada") != 1 {
		t.Errorf("pages fetched %v, want each once", pages.hits)
	}

	resp, err = http.Get("http://" + c.m.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`datosbot_evidence_checks_total{status="verificada"} 1`,
		`datosbot_evidence_checks_total{status="sin_mencion"} 1`,
		"datosbot_evidence_queued 1", // the re-check of the one without mention
		"datosbot_evidence_running 0",
	} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %s:\n%s", want, metrics)
		}
	}
	problems, err := promlint.New(strings.NewReader(string(metrics))).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "datosbot_evidence") {
			t.Errorf("lint: %s: %s", p.Metric, p.Text)
		}
	}
}

func TestEvidenceRegistrationOfAnInternalAddressSucceedsAndIsNeverFetched(t *testing.T) {
	pages := newPublications(t)
	// The same pages on IPv6 loopback, counted in the same place.
	// A machine without IPv6 loopback still checks the guard's refusal of
	// [::1], only without a server to count that nothing reached it.
	v6URL, v6Counted := "http://[::1]/con-enlace-v6", false
	if ln6, err := net.Listen("tcp6", "[::1]:0"); err == nil {
		pages6 := httptest.NewUnstartedServer(pages.Config.Handler)
		pages6.Listener.Close()
		pages6.Listener = ln6
		pages6.Start()
		defer pages6.Close()
		v6URL, v6Counted = pages6.URL+"/con-enlace-v6", true
	} else {
		t.Logf("no IPv6 loopback here (%v): [::1] is checked without a server to count requests", err)
	}
	vars := evidenceVars(t, filepath.Join(t.TempDir(), "s.json"), "http://127.0.0.1:1/oembed")
	delete(vars, "DATOSBOT_FETCH_ALLOW") // the allow-list is empty
	c := startConsole(t, vars, fastEvidence)
	defer c.close()
	c.setupInegi()
	for _, tc := range []struct {
		url, path, addr, why string
		counted              bool // served by the fake pages, so a fetch would show
	}{
		{pages.URL + "/con-enlace", "/con-enlace", "127.0.0.1", "loopback", true},
		{v6URL, "/con-enlace-v6", "[::1]", "loopback", v6Counted},
		// A private network: the guard refuses it before connecting, so
		// the check ends at once instead of waiting for an answer.
		{"http://10.0.0.1/boletin", "/boletin", "10.0.0.1", "red privada (10.0.0.0/8)", false},
	} {
		id := c.announce(tc.url) // registration succeeds
		ev := c.waitEvidence(id, datosbot.EvidenceUnreachable)
		if !strings.Contains(ev.Detail, "El bot no consulta la página porque "+tc.addr) || !strings.Contains(ev.Detail, tc.why) ||
			!strings.Contains(ev.Detail, "registre una dirección pública") {
			t.Errorf("%s: detail %q, want it to name the address %s, why it is not fetched (%s) and what to do", tc.url, ev.Detail, tc.addr, tc.why)
		}
		if n := pages.count(tc.path); tc.counted && n != 0 {
			t.Errorf("%s was fetched %d times, want 0", tc.url, n)
		}
	}
	if st := c.say("/datos estado"); !strings.Contains(st, "Cumple: 3 acciones") || !strings.Contains(st, "evidencia inaccesible") {
		t.Errorf("estado:\n%s", st)
	}
}

func TestEvidenceChecksQueuedAcrossRestartsFinishOnce(t *testing.T) {
	pages := newPublications(t)
	file := filepath.Join(t.TempDir(), "state.json")
	vars := evidenceVars(t, file, "http://127.0.0.1:1/oembed")

	// Registered while checks are off: they wait in the queue.
	off := map[string]string{}
	for k, v := range vars {
		off[k] = v
	}
	off["DATOSBOT_EVIDENCE"] = "off"
	c := startConsole(t, off, fastEvidence)
	c.setupInegi()
	queued := []string{c.announce(pages.URL + "/con-enlace-1"), c.announce(pages.URL + "/con-enlace-2"), c.announce(pages.URL + "/portada")}
	c.close()
	if n := pages.count("/con-enlace-1") + pages.count("/con-enlace-2") + pages.count("/portada"); n != 0 {
		t.Fatalf("pages fetched with evidence off: %v", pages.hits)
	}

	// On, with one check caught mid-fetch by a shutdown.
	pages.mu.Lock()
	pages.hold = make(chan struct{})
	pages.mu.Unlock()
	c = startConsole(t, vars, fastEvidence)
	c.say("/como ines")
	c.say("/en canal-inegi")
	slow := c.announce(pages.URL + "/lenta")
	for _, id := range queued[:2] {
		c.waitEvidence(id, datosbot.EvidenceVerified)
	}
	c.waitEvidence(queued[2], datosbot.EvidenceNoMention)
	for deadline := time.Now().Add(10 * time.Second); pages.count("/lenta") == 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	c.close()
	if a, _ := c.m.Store.Action(context.Background(), slow); a.Evidence != nil {
		t.Fatalf("the interrupted check recorded %+v", a.Evidence)
	}
	firstRun := c.out.String()

	// Restarted: the interrupted check runs again and finishes; nothing
	// else is fetched or told again.
	pages.mu.Lock()
	pages.hold = nil
	pages.mu.Unlock()
	c = startConsole(t, vars, fastEvidence)
	defer c.close()
	c.waitEvidence(slow, datosbot.EvidenceVerified)
	time.Sleep(200 * time.Millisecond) // ten polls of the worker: a repeat would show
	for _, path := range []string{"/con-enlace-1", "/con-enlace-2", "/portada"} {
		if n := pages.count(path); n != 1 {
			t.Errorf("%s fetched %d times across the restarts, want once", path, n)
		}
	}
	if n := pages.count("/lenta"); n != 2 {
		t.Errorf("/lenta fetched %d times, want 2 (the interrupted one and the one that finished)", n)
	}
	notices := strings.Count(firstRun+c.out.String(), "no cita la URL de los datos")
	if notices != 1 {
		t.Errorf("%d notices across restarts, want 1", notices)
	}
	due, running, err := c.m.Store.EvidenceQueued(context.Background())
	if err != nil || running != 0 {
		t.Errorf("queue: %d due, %d running, %v", due, running, err)
	}
}

func TestEvidenceConfig(t *testing.T) {
	saved := defaultEvidence
	defer func() { defaultEvidence = saved }()
	defaultEvidence = true
	none := func(string) string { return "" }
	cfg, err := LoadConfig(none)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Evidence.On || cfg.Evidence.OEmbedURL != "https://publish.twitter.com/oembed" || len(cfg.Evidence.FetchAllow) != 0 {
		t.Errorf("defaults = %+v; want on, X's oEmbed endpoint, no extra ranges", cfg.Evidence)
	}
	cfg, err = LoadConfig(env(map[string]string{"DATOSBOT_EVIDENCE": "OFF", "DATOSBOT_OEMBED_URL": "http://127.0.0.1:9/oembed",
		"DATOSBOT_FETCH_ALLOW": "127.0.0.1/32, 10.20.0.0/16"}))
	if err != nil || cfg.Evidence.On || cfg.Evidence.OEmbedURL != "http://127.0.0.1:9/oembed" || len(cfg.Evidence.FetchAllow) != 2 {
		t.Errorf("set = %+v, %v", cfg.Evidence, err)
	}
	for name, value := range map[string]string{
		"DATOSBOT_EVIDENCE":    "quizá",
		"DATOSBOT_OEMBED_URL":  "ftp://publish.twitter.com/oembed",
		"DATOSBOT_FETCH_ALLOW": "10.0.0.0/33",
	} {
		_, err := LoadConfig(env(map[string]string{name: value}))
		if err == nil {
			t.Errorf("%s=%s accepted", name, value)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, name) || strings.Contains(msg, "\n") {
			t.Errorf("%s: error %q should be one line naming the variable", name, msg)
		}
	}
	if _, err := LoadConfig(env(map[string]string{"DATOSBOT_OEMBED_URL": "https://usuario:clave@oembed.example/oembed"})); err == nil {
		t.Error("an oEmbed URL with credentials was accepted")
	}
}

func TestEvidenceStartLogAndMetrics(t *testing.T) {
	for _, tc := range []struct {
		vars map[string]string
		want string
	}{
		{map[string]string{"DATOSBOT_EVIDENCE": "off"}, "evidence=off"},
		{map[string]string{"DATOSBOT_EVIDENCE": "on", "DATOSBOT_FETCH_ALLOW": "127.0.0.1"}, `evidence="on, also 127.0.0.1/32"`},
	} {
		tc.vars["DATOSBOT_DATA_FILE"] = filepath.Join(t.TempDir(), "s.json")
		tc.vars["DATOSBOT_ADDR"] = "127.0.0.1:0"
		tc.vars["DATOSBOT_CONSOLE"] = "0"
		cfg, err := LoadConfig(env(tc.vars))
		if err != nil {
			t.Fatal(err)
		}
		var log bottest.Buffer
		m, err := Start(context.Background(), cfg, strings.NewReader(""), io.Discard, slog.New(slog.NewTextHandler(&log, nil)))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Get("http://" + m.Addr() + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		m.Close()
		if !strings.Contains(log.String(), "datosbot started") || !strings.Contains(log.String(), tc.want) {
			t.Errorf("start-up log lacks %s:\n%s", tc.want, log.String())
		}
		on := cfg.Evidence.On
		if got := strings.Contains(string(body), "datosbot_evidence_queued"); got != on {
			t.Errorf("evidence %v: /metrics has the evidence queue: %v", on, got)
		}
	}
}

// TestConsoleGreetingSaysWhetherEvidenceIsChecked: a console logs only
// warnings, so its greeting tells the operator whether publications are
// checked.
func TestConsoleGreetingSaysWhetherEvidenceIsChecked(t *testing.T) {
	for _, tc := range []struct{ setting, want, not string }{
		{"on", "Evidencia: se revisan las publicaciones (DATOSBOT_EVIDENCE=on).", "apagada"},
		{"off", "Evidencia: apagada, no se revisan las publicaciones (DATOSBOT_EVIDENCE=off).", "se revisan las publicaciones (DATOSBOT_EVIDENCE=on)"},
	} {
		t.Run(tc.setting, func(t *testing.T) {
			c := startConsole(t, map[string]string{"DATOSBOT_DATA_FILE": filepath.Join(t.TempDir(), "s.json"),
				"DATOSBOT_EVIDENCE": tc.setting, "DATOSBOT_OEMBED_URL": "http://127.0.0.1:1/oembed"})
			defer c.close()
			if c.m.Config.LogLevel != slog.LevelWarn {
				t.Fatalf("console log level %v, want warn (the reason for the line)", c.m.Config.LogLevel)
			}
			out := c.waitFor("datosbot en la consola.", tc.want)
			if strings.Contains(out, tc.not) {
				t.Errorf("greeting says both settings:\n%s", out)
			}
		})
	}
}
