package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/bot/bottest"
	"github.com/datosbot/datosbot/storage/storagetest"
)

// consoleBot is a bot started by Start with the console on a pipe.
type consoleBot struct {
	t   *testing.T
	m   *Main
	in  *io.PipeWriter
	out *bottest.Buffer
	pos int // how much of out has been read
}

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func startConsole(t *testing.T, vars map[string]string, edit ...func(*Config)) *consoleBot {
	t.Helper()
	if vars["DATOSBOT_ADDR"] == "" {
		vars["DATOSBOT_ADDR"] = "127.0.0.1:0"
	}
	cfg, err := LoadConfig(env(vars))
	if err != nil {
		t.Fatal(err)
	}
	cfg.tickInterval = 50 * time.Millisecond
	for _, e := range edit {
		e(&cfg)
	}
	r, w := io.Pipe()
	out := &bottest.Buffer{}
	m, err := Start(context.Background(), cfg, r, out, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return &consoleBot{t: t, m: m, in: w, out: out}
}

// say types a line and returns the console output it produced.
func (c *consoleBot) say(line string) string {
	c.t.Helper()
	if _, err := io.WriteString(c.in, line+"\n"); err != nil {
		c.t.Fatal(err)
	}
	// Each command answers with one block that ends in a blank line; the
	// /como and /en switches answer with one line.
	want := "\n\n"
	if strings.HasPrefix(line, "/como") || strings.HasPrefix(line, "/en") {
		want = "\n"
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		s := c.out.String()
		if i := strings.Index(s[c.pos:], want); i >= 0 && strings.Contains(s[c.pos:], "]") || i >= 0 && want == "\n" {
			chunk := s[c.pos : c.pos+i+len(want)]
			c.pos += i + len(want)
			return chunk
		}
		time.Sleep(5 * time.Millisecond)
	}
	c.t.Fatalf("no answer to %q; output so far:\n%s", line, c.out.String())
	return ""
}

// waitFor waits until the console output contains all of parts.
func (c *consoleBot) waitFor(parts ...string) string {
	c.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		s := c.out.String()
		all := true
		for _, p := range parts {
			all = all && strings.Contains(s, p)
		}
		if all {
			return s
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.t.Fatalf("output never contained %q:\n%s", parts, c.out.String())
	return ""
}

func (c *consoleBot) close() {
	c.in.Close()
	if err := c.m.Close(); err != nil {
		c.t.Errorf("Close: %v", err)
	}
}

var codeRE = regexp.MustCompile(`Código para [^:]+: ([A-Z0-9]{6})`)

func TestConsoleWalkthrough(t *testing.T) {
	dir := t.TempDir()
	c := startConsole(t, map[string]string{
		"DATOSBOT_DATA_FILE": filepath.Join(dir, "state.json"),
		"DATOSBOT_NOW":       "2026-12-02T10:00:00-06:00",
	})
	defer c.close()

	steps := []struct {
		line string
		want string
	}{
		{"/datos institucion alta inegi Instituto Nacional de Estadística y Geografía", "Institución registrada"},
		{"/en canal-inegi", "canal-inegi"},
		{"/datos canal vincular inegi", "Canal vinculado"},
	}
	for _, s := range steps {
		if out := c.say(s.line); !strings.Contains(out, s.want) {
			t.Fatalf("%q answered:\n%s\nwant it to contain %q", s.line, out, s.want)
		}
	}
	out := c.say("/datos invitar inegi comunicacion")
	m := codeRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no invitation code in:\n%s", out)
	}
	c.say("/como ana")
	if out := c.say("/datos unirme " + m[1]); !strings.Contains(out, "Ahora es enlace (comunicacion) de inegi") {
		t.Fatalf("unirme answered:\n%s", out)
	}
	if out := c.say("/datos anunciar https://datos.gob.mx/ https://x.com/INEGI_INFORMA/status/1"); !strings.Contains(out, "no señala un conjunto de datos") {
		t.Fatalf("home page URL answered:\n%s", out)
	}
	if out := c.say("/datos estado"); !strings.Contains(out, "NO cumple") {
		t.Fatalf("estado after a refused anunciar should not comply:\n%s", out)
	}
	if out := c.say("/datos anunciar https://www.datos.gob.mx/dataset/accidentes_transito https://x.com/INEGI_INFORMA/status/1"); !strings.Contains(out, "registrada") {
		t.Fatalf("anunciar answered:\n%s", out)
	}
	if out := c.say("/datos estado"); !strings.Contains(out, "Cumple: 1 acción") || !strings.Contains(out, "2026-B6") {
		t.Fatalf("estado answered:\n%s", out)
	}
	c.say("/como intruso")
	if out := c.say("/datos institucion alta shcp Hacienda"); !strings.Contains(out, "No tiene permiso") {
		t.Fatalf("unauthorised institucion alta answered:\n%s", out)
	}
	actions, err := c.m.Store.Actions(context.Background(), "", datosbot.Bimester{})
	if err != nil || len(actions) != 1 {
		t.Fatalf("stored actions = %d (%v), want only the valid one", len(actions), err)
	}
	insts, _ := c.m.Store.Institutions(context.Background())
	if len(insts) != 1 {
		t.Fatalf("institutions = %d, want 1", len(insts))
	}
}

// registerAction creates inegi, links #canal-inegi, makes ines its
// institucional liaison and registers one action as ines, with note.
func (c *consoleBot) registerAction(note string) {
	c.t.Helper()
	c.say("/datos institucion alta inegi INEGI")
	c.say("/en canal-inegi")
	c.say("/datos canal vincular inegi")
	code := codeRE.FindStringSubmatch(c.say("/datos invitar inegi institucional"))[1]
	c.say("/como ines")
	c.say("/datos unirme " + code)
	c.say(strings.TrimSpace("/datos anunciar https://www.datos.gob.mx/dataset/accidentes_transito https://x.com/INEGI_INFORMA/status/1 " + note))
}

func TestEmbeddedRestartKeepsState(t *testing.T) {
	file := filepath.Join(t.TempDir(), "state.json")
	vars := map[string]string{"DATOSBOT_DATA_FILE": file, "DATOSBOT_NOW": "2026-12-02T10:00:00-06:00"}
	c := startConsole(t, vars)
	c.registerAction("")
	c.close()

	c = startConsole(t, vars)
	defer c.close()
	c.say("/como ines")
	c.say("/en canal-inegi")
	if out := c.say("/datos estado"); !strings.Contains(out, "Cumple: 1 acción") {
		t.Fatalf("after a restart estado answered:\n%s", out)
	}
}

func TestExportImportRoundTrip(t *testing.T) {
	file := filepath.Join(t.TempDir(), "state.json")
	vars := map[string]string{"DATOSBOT_DATA_FILE": file, "DATOSBOT_NOW": "2026-12-02T10:00:00-06:00"}
	c := startConsole(t, vars)
	c.say("/datos institucion alta shcp Hacienda ckan:shcp")
	c.say("/datos invitar shcp comunicacion")
	c.registerAction("“nota: ñandú”")
	c.close()

	ctx := context.Background()
	var first bytes.Buffer
	if err := Run(ctx, []string{"export"}, env(vars), nil, &first, io.Discard); err != nil {
		t.Fatal(err)
	}
	dump := filepath.Join(t.TempDir(), "export.json")
	if err := os.WriteFile(dump, first.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}

	// Import into an empty Redis (a fresh server or prefix), export again.
	empty := storagetest.Open(t, nil)
	if err := importInto(ctx, empty, dump); err != nil {
		t.Fatal(err)
	}
	snap, err := empty.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	second, _ := json.MarshalIndent(snap, "", "  ")
	second = append(second, '\n')
	if !bytes.Equal(first.Bytes(), second) {
		t.Fatalf("export → import → export differs:\nfirst:\n%s\nsecond:\n%s", first.String(), second)
	}
	if !strings.Contains(first.String(), "ñandú") || !strings.Contains(first.String(), "accidentes_transito") {
		t.Errorf("export lacks the action:\n%s", first.String())
	}
	// Importing into a store that has data is refused.
	if err := importInto(ctx, empty, dump); err == nil {
		t.Error("import into a non-empty store succeeded, want a refusal")
	}
}

func importInto(ctx context.Context, s *storagetest.Store, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return importSnapshot(ctx, s.Store, b)
}

func TestHTTPHealthAndAPIAuth(t *testing.T) {
	token := strings.Repeat("t", 40)
	c := startConsole(t, map[string]string{"DATOSBOT_DATA_FILE": filepath.Join(t.TempDir(), "s.json"), "DATOSBOT_API_TOKENS": token})
	defer c.close()
	base := "http://" + c.m.Addr()
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/metrics": 200, "/api/v1/institutions": 401} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s = %d, want %d", path, resp.StatusCode, want)
		}
	}
	req, _ := http.NewRequest("GET", base+"/api/v1/institutions", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("GET /api/v1/institutions with the token = %d, want 200", resp.StatusCode)
	}
}

func TestConfigErrorsNameTheVariable(t *testing.T) {
	tests := map[string]map[string]string{
		"DATOSBOT_TZ":             {"DATOSBOT_TZ": "Mars/Olympus"},
		"DATOSBOT_NOW":            {"DATOSBOT_NOW": "mañana"},
		"DATOSBOT_REMINDER_DAYS":  {"DATOSBOT_REMINDER_DAYS": "14,x"},
		"DATOSBOT_REMINDER_HOUR":  {"DATOSBOT_REMINDER_HOUR": "25"},
		"DATOSBOT_DAYS_OFF":       {"DATOSBOT_DAYS_OFF": "2027-03-25,jueves santo"},
		"DATOSBOT_GRACE_DAYS":     {"DATOSBOT_GRACE_DAYS": "-1"},
		"DATOSBOT_DATA_HOSTS":     {"DATOSBOT_DATA_HOSTS": "datos.gob.mx,dato\u200bs.gob.mx"},
		"DATOSBOT_ADMINS":         {"DATOSBOT_ADMINS": "U0123"},
		"DATOSBOT_UNIDAD_CHANNEL": {"DATOSBOT_UNIDAD_CHANNEL": "irc:#x"},
		"DATOSBOT_API_TOKENS":     {"DATOSBOT_API_TOKENS": "corto"},
		"REDIS_URL":               {"REDIS_URL": "http://user:secreta@x"},
		"DATOSBOT_REDIS_WAIT":     {"DATOSBOT_REDIS_WAIT": "uno", "REDIS_URL": "redis://localhost:6379/0"},
		"SLACK_SIGNING_SECRET":    {"SLACK_BOT_TOKEN": "xoxb-1"},
		"TELEGRAM_WEBHOOK_SECRET": {"TELEGRAM_BOT_TOKEN": "1:abc", "TELEGRAM_WEBHOOK_URL": "https://bot.example/telegram/webhook"},
		"DATOSBOT_CONSOLE":        {"DATOSBOT_CONSOLE": "quizá"},
		"DATOSBOT_LOG_LEVEL":      {"DATOSBOT_LOG_LEVEL": "todo"},
	}
	for name, vars := range tests {
		_, err := LoadConfig(env(vars))
		if err == nil {
			t.Errorf("%s: no error for %v", name, vars)
			continue
		}
		msg := err.Error()
		if strings.Count(msg, name) != 1 || strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "configuración inválida: "+name+": ") {
			t.Errorf("%s: error %q should be one line naming the variable once", name, msg)
		}
		if strings.Contains(msg, "secreta") {
			t.Errorf("%s: error leaks a secret: %q", name, msg)
		}
	}
	// REDIS_URL is read by go-redis' parsers at configuration: a form that
	// would fail at the first connection stops the start here.
	for raw, ok := range map[string]bool{
		"redis://127.0.0.1:6379/0":                      true,
		"unix:///run/redis/redis.sock?db=1":             true,
		"redis://a:7000,b:7001":                         true,
		"redis://s1:26379,s2:26379?master_name=primary": true,
		"unix://":                       false,
		"redis://a:7000,b:7001/2":       false,
		"redis://h?dial_timeout=pronto": false,
		"redis://h?pool=3":              false,
	} {
		_, err := LoadConfig(env(map[string]string{"REDIS_URL": raw}))
		if ok && err != nil {
			t.Errorf("REDIS_URL=%s refused: %v", raw, err)
		}
		if !ok && (err == nil || !strings.HasPrefix(err.Error(), "configuración inválida: REDIS_URL: ")) {
			t.Errorf("REDIS_URL=%s: error %v, want a configuration error naming REDIS_URL", raw, err)
		}
	}
	cfg, err := LoadConfig(env(nil))
	if err != nil || !cfg.Console || cfg.Addr != ":8080" || cfg.GraceDays != 5 || cfg.Loc.String() != "America/Mexico_City" {
		t.Errorf("defaults = %+v, %v", cfg, err)
	}
}

// TestReminderDrill is the drill of the README: with the clock started just
// before 10:00 on 29 December 2026 (3 days before 2026-B6 ends), a linked
// channel of an institution that does not comply shows the 3-day reminder,
// and the notice of publicar reaches the other linked channel, through the
// outbox.
func TestReminderDrill(t *testing.T) {
	started := time.Now()
	c := startConsole(t, map[string]string{
		"DATOSBOT_DATA_FILE": filepath.Join(t.TempDir(), "s.json"),
		"DATOSBOT_NOW":       "2026-12-29T09:55:00-06:00",
	}, func(cfg *Config) { cfg.clockSpeed = 40 }) // the five minutes to 10:00 pass in 7.5 s
	defer c.close()
	c.say("/datos institucion alta inegi INEGI")
	c.say("/datos institucion alta shcp Hacienda")
	c.say("/en canal-inegi")
	c.say("/datos canal vincular inegi")
	c.say("/en canal-shcp")
	c.say("/datos canal vincular shcp")
	code := codeRE.FindStringSubmatch(c.say("/datos invitar shcp institucional"))[1]
	c.say("/como sara")
	c.say("/datos unirme " + code)
	c.say("/datos anunciar https://www.datos.gob.mx/dataset/accidentes_transito https://x.com/SHCP_mx/status/1")
	if time.Since(started) < 7*time.Second && strings.Contains(c.out.String(), "Recordatorio") {
		t.Errorf("a reminder went out before 10:00:\n%s", c.out.String())
	}
	out := c.waitFor("[bot → #canal-inegi]", "Recordatorio: datos abiertos de noviembre-diciembre 2026", "Quedan 3 días")
	if strings.Contains(out, "[bot → #canal-shcp]\n  Recordatorio") {
		t.Errorf("shcp complies and should get no reminder:\n%s", out)
	}
	c.say("/datos publicar https://www.datos.gob.mx/dataset/accidentes_transito alto-valor")
	c.waitFor("[bot → #canal-shcp]\n  Nuevos datos abiertos de alto valor publicados")
	if n := strings.Count(c.out.String(), "[bot → #canal-inegi]"); n != 1 {
		t.Errorf("canal-inegi got %d posts, want exactly one reminder", n)
	}
	// /metrics shows the outbox's figures: the reminder and the notice sent,
	// cumulative counts as counters, the queue's level as gauges.
	var metrics string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		resp, err := http.Get("http://" + c.m.Addr() + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if metrics = string(b); strings.Contains(metrics, "\ndatosbot_outbox_sent_total 2\n") {
			break
		}
	}
	for _, want := range []string{"\ndatosbot_outbox_sent_total 2\n", "\ndatosbot_outbox_queued 0\n", "\ndatosbot_outbox_failed_total 0\n",
		"\ndatosbot_outbox_uncertain_total 0\n", "# TYPE datosbot_outbox_in_flight gauge", "# TYPE datosbot_outbox_sent_total counter",
		"# TYPE datosbot_commands_total counter", "\ndatosbot_commands_total{command=\"anunciar\",result=\"ok\"} 1\n",
		"# TYPE go_goroutines gauge", "# TYPE process_cpu_seconds_total counter"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q:\n%s", strings.TrimSpace(want), metrics)
		}
	}
}
