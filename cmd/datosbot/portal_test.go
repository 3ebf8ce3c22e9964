package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/bot/bottest"
	"github.com/datosbot/datosbot/portal/ckantest"
)

// No test of this package dials the real portal: DATOSBOT_CKAN_URL
// defaults to off here, and a test that wants the portal names a fake.
func init() { defaultCKANURL = "off" }

func TestPortalConfig(t *testing.T) {
	saved := defaultCKANURL
	defer func() { defaultCKANURL = saved }()
	defaultCKANURL = "https://www.datos.gob.mx"
	for _, tc := range []struct {
		name    string
		vars    map[string]string
		wantURL string
		wantErr string // the variable the one-line error names
	}{
		{name: "default", vars: map[string]string{}, wantURL: "https://www.datos.gob.mx"},
		{name: "off", vars: map[string]string{"DATOSBOT_CKAN_URL": "OFF"}, wantURL: ""},
		{name: "own portal", vars: map[string]string{"DATOSBOT_CKAN_URL": "http://ckan.local:5000", "DATOSBOT_CKAN_INTERVAL": "30m",
			"DATOSBOT_CKAN_RPS": "0.5", "DATOSBOT_HIGH_VALUE": "tag:alto-valor,extra:hvd_category=statistics"}, wantURL: "http://ckan.local:5000"},
		{name: "bad url", vars: map[string]string{"DATOSBOT_CKAN_URL": "www.datos.gob.mx"}, wantErr: "DATOSBOT_CKAN_URL"},
		{name: "credentials in the url", vars: map[string]string{"DATOSBOT_CKAN_URL": "https://bot:s3cr3t-pw@ckan.local"}, wantErr: "DATOSBOT_CKAN_URL"},
		{name: "token as the user", vars: map[string]string{"DATOSBOT_CKAN_URL": "https://s3cr3t-pw@ckan.local"}, wantErr: "DATOSBOT_CKAN_URL"},
		{name: "interval too short", vars: map[string]string{"DATOSBOT_CKAN_INTERVAL": "5s"}, wantErr: "DATOSBOT_CKAN_INTERVAL"},
		{name: "interval not a duration", vars: map[string]string{"DATOSBOT_CKAN_INTERVAL": "15"}, wantErr: "DATOSBOT_CKAN_INTERVAL"},
		{name: "rps zero", vars: map[string]string{"DATOSBOT_CKAN_RPS": "0"}, wantErr: "DATOSBOT_CKAN_RPS"},
		{name: "rps words", vars: map[string]string{"DATOSBOT_CKAN_RPS": "uno"}, wantErr: "DATOSBOT_CKAN_RPS"},
		{name: "high value rule", vars: map[string]string{"DATOSBOT_HIGH_VALUE": "color:rojo"}, wantErr: "DATOSBOT_HIGH_VALUE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := LoadConfig(env(tc.vars))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("got %v, want one line naming %s", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "s3cr3t-pw") {
					t.Errorf("the error %q repeats the secret", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Portal.URL != tc.wantURL {
				t.Errorf("URL: got %q, want %q", cfg.Portal.URL, tc.wantURL)
			}
		})
	}
	cfg, _ := LoadConfig(env(map[string]string{"DATOSBOT_CKAN_INTERVAL": "30m", "DATOSBOT_CKAN_RPS": "0.5", "DATOSBOT_HIGH_VALUE": "tag:x"}))
	if cfg.Portal.Interval != 30*time.Minute || cfg.Portal.RPS != 0.5 || len(cfg.Portal.HighValue) != 1 {
		t.Errorf("got %+v, want 30m, 0.5 rps and one rule", cfg.Portal)
	}
}

// The bot started against a fake portal logs its CKAN version once,
// refuses a data URL the portal does not know, and serves what the watch
// saw; /readyz does not depend on the portal.
func TestPortalWiring(t *testing.T) {
	ckan := ckantest.New(nil)
	defer ckan.Close()
	ckan.Add(ckantest.Dataset{Name: "accidentes_transito", Title: "Accidentes de tránsito", Org: "inegi"})
	logs := &bottest.Buffer{}
	cfg, err := LoadConfig(env(map[string]string{"DATOSBOT_ADDR": "127.0.0.1:0", "DATOSBOT_CKAN_URL": ckan.URL, "DATOSBOT_CKAN_RPS": "20",
		"DATOSBOT_DATA_FILE": t.TempDir() + "/state.json", "DATOSBOT_NOW": "2026-12-02T10:00:00-06:00"}))
	if err != nil {
		t.Fatal(err)
	}
	r, w := io.Pipe()
	out := &bottest.Buffer{}
	m, err := Start(context.Background(), cfg, r, out, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	c := &consoleBot{t: t, m: m, in: w, out: out}
	defer c.close()
	c.say("/datos institucion alta inegi INEGI ckan:inegi")
	c.say("/en canal-inegi")
	c.say("/datos canal vincular inegi")
	code := codeRE.FindStringSubmatch(c.say("/datos invitar inegi institucional"))[1]
	c.say("/como ines")
	c.say("/datos unirme " + code)
	if got := c.say("/datos anunciar https://www.datos.gob.mx/dataset/no_existe https://x.com/INEGI_INFORMA/status/1"); !strings.Contains(got, "no existe en datos.gob.mx") {
		t.Errorf("a missing dataset answered:\n%s", got)
	}
	if got := c.say("/datos anunciar https://www.datos.gob.mx/dataset/accidentes_transito https://x.com/INEGI_INFORMA/status/1"); !strings.Contains(got, "verificada") {
		t.Errorf("an existing dataset answered:\n%s", got)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), "ckan_version=2.11.2") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := strings.Count(logs.String(), "portal reachable"); n != 1 || !strings.Contains(logs.String(), "ckan_version=2.11.2") {
		t.Errorf("got %d start-up lines about the portal in:\n%s\nwant one with ckan_version=2.11.2", n, logs.String())
	}
	// The portal on /metrics, never on /readyz.
	var body []byte
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + m.Addr() + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if bytes.Contains(body, []byte("datosbot_ckan_watch_lag_seconds ")) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, want := range []string{
		"# TYPE datosbot_ckan_requests_total counter",
		`datosbot_ckan_requests_total{action="package_show",result="404"} 1`,
		`datosbot_ckan_requests_total{action="status_show",result="ok"} `, // the start-up line and the first run of the watch
		"# TYPE datosbot_ckan_request_duration_seconds histogram",
		"# TYPE datosbot_ckan_watch_lag_seconds gauge",
		"# TYPE datosbot_ckan_rechecks_pending gauge",
		`datosbot_ckan_watch_runs_total{result="first"} 1`,
	} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("the scrape lacks %s:\n%s", want, body)
		}
	}
	if problems, err := promlint.New(bytes.NewReader(body)).Lint(); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %+v", err, problems)
	}
	release := ckan.Hang()
	defer release()
	resp, err := http.Get("http://" + m.Addr() + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/readyz with a hanging portal: got %d, want 200", resp.StatusCode)
	}
}

// An action stored with a pendiente data check whose re-check was never
// queued (a crash between the two writes) is re-checked after the next
// start, without another command.
func TestLostDataRecheckIsQueuedAtStart(t *testing.T) {
	ckan := ckantest.New(nil)
	defer ckan.Close()
	ckan.Add(ckantest.Dataset{Name: "accidentes_transito", Title: "Accidentes de tránsito", Org: "inegi"})
	vars := map[string]string{"DATOSBOT_CKAN_URL": ckan.URL, "DATOSBOT_CKAN_RPS": "20",
		"DATOSBOT_DATA_FILE": t.TempDir() + "/state.json", "DATOSBOT_NOW": "2026-12-02T10:00:00-06:00"}
	c := startConsole(t, vars)
	c.say("/datos institucion alta inegi INEGI ckan:inegi")
	c.say("/en canal-inegi")
	c.say("/datos canal vincular inegi")
	code := codeRE.FindStringSubmatch(c.say("/datos invitar inegi institucional"))[1]
	c.say("/como ines")
	c.say("/datos unirme " + code)
	ckan.Fail(http.StatusServiceUnavailable, 1)
	if got := c.say("/datos anunciar https://www.datos.gob.mx/dataset/accidentes_transito https://x.com/INEGI_INFORMA/status/1"); !strings.Contains(got, "pendiente") {
		t.Fatalf("while the portal fails, anunciar answered:\n%s\nwant pendiente", got)
	}
	// The crash: the re-check the command queued is gone.
	ctx := context.Background()
	jobs, err := c.m.Store.ClaimDataRechecks(ctx, time.Now().AddDate(1, 0, 0), time.Hour, 100)
	if err != nil || len(jobs) != 1 {
		t.Fatalf("got %d queued re-checks (%v), want the one of the action", len(jobs), err)
	}
	if err := c.m.Store.FinishDataRecheck(ctx, jobs[0].ID); err != nil {
		t.Fatal(err)
	}
	c.close()

	c = startConsole(t, vars)
	defer c.close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		as, err := c.m.Store.ActionsWithPendingDataChecks(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(as) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after a restart the action stayed %+v, want it re-checked", as[0].DataChecks)
		}
		time.Sleep(20 * time.Millisecond)
	}
	all, err := c.m.Store.Actions(ctx, "inegi", datosbot.Bimester{})
	if err != nil || len(all) != 1 || all[0].DataChecks[0].Status != datosbot.CheckVerificada {
		t.Errorf("got %+v (%v), want the one action verificada", all, err)
	}
}

// portalBot is a console bot against a fake portal, with inegi (ckan:inegi)
// linked to #canal-inegi and ines its liaison there; the watch runs every
// 50 ms.
func portalBot(t *testing.T, ckan *ckantest.Server, vars map[string]string) *consoleBot {
	t.Helper()
	vars["DATOSBOT_CKAN_URL"], vars["DATOSBOT_CKAN_RPS"] = ckan.URL, "20"
	vars["DATOSBOT_DATA_FILE"] = t.TempDir() + "/state.json"
	c := startConsole(t, vars, func(cfg *Config) { cfg.Portal.Interval = 50 * time.Millisecond })
	c.say("/datos institucion alta inegi INEGI ckan:inegi")
	c.say("/en canal-inegi")
	c.say("/datos canal vincular inegi")
	code := codeRE.FindStringSubmatch(c.say("/datos invitar inegi institucional"))[1]
	c.say("/como ines")
	c.say("/datos unirme " + code)
	return c
}

// POST /api/v1/campaigns naming a dataset the portal does not have is a
// 400 with the Spanish reason, and no campaign is stored; an existing one
// is created.
func TestCampaignAPIRefusesAMissingDataset(t *testing.T) {
	ckan := ckantest.New(nil)
	defer ckan.Close()
	ckan.Add(ckantest.Dataset{Name: "censo_2020", Title: "Censo 2020", Org: "inegi"})
	token := strings.Repeat("c", 40)
	c := portalBot(t, ckan, map[string]string{"DATOSBOT_API_TOKENS": token})
	defer c.close()
	post := func(dataURL string) (int, string) {
		body := `{"title": "Censo", "message": "Difundan el censo.", "data_urls": ["` + dataURL + `"], "deadline": "2026-12-20"}`
		req, _ := http.NewRequest(http.MethodPost, "http://"+c.m.Addr()+"/api/v1/campaigns", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	status, body := post("https://www.datos.gob.mx/dataset/no_existe")
	if status != http.StatusBadRequest || !strings.Contains(body, "no existe en datos.gob.mx") || !strings.Contains(body, "no se guardó nada") {
		t.Errorf("a missing dataset: got %d %s, want 400 saying it does not exist", status, body)
	}
	if cs, err := c.m.Store.Campaigns(context.Background(), true); err != nil || len(cs) != 0 {
		t.Errorf("got %d campaigns stored (%v), want none", len(cs), err)
	}
	if status, body := post("https://www.datos.gob.mx/dataset/censo_2020"); status != http.StatusCreated {
		t.Errorf("an existing dataset: got %d %s, want 201", status, body)
	}
}

// With the portal on, one dataset published after the watch's first run
// is told once in the institution's channel, through the real outbox and
// the console adapter.
func TestWatchNoticeReachesTheLinkedChannel(t *testing.T) {
	ckan := ckantest.New(nil)
	defer ckan.Close()
	old := time.Now().Add(-48 * time.Hour)
	ckan.Add(ckantest.Dataset{Name: "censo_2020", Title: "Censo 2020", Org: "inegi", Created: old, Modified: old})
	c := portalBot(t, ckan, map[string]string{})
	defer c.close()
	ctx := context.Background()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if mark, _, err := c.m.Store.PortalWatermark(ctx); err == nil && !mark.IsZero() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the watch never ran its first run")
		}
	}
	ckan.Add(ckantest.Dataset{Name: "enoe_2026", Title: "ENOE 2026", Org: "inegi"})
	out := c.waitFor("[bot → #canal-inegi]\n  Nuevos datos abiertos en datos.gob.mx")
	time.Sleep(300 * time.Millisecond) // several more runs of the watch
	out = c.out.String()
	if n := strings.Count(out, "Nuevos datos abiertos en datos.gob.mx"); n != 1 || !strings.Contains(out, "«ENOE 2026»") ||
		!strings.Contains(out, "/datos anunciar https://www.datos.gob.mx/dataset/enoe_2026 <url-publicación>") {
		t.Errorf("got %d notices, want one about ENOE 2026 with its anunciar line:\n%s", n, out)
	}
	if strings.Contains(out, "«Censo 2020»") {
		t.Errorf("the catalogue before the first run was announced:\n%s", out)
	}
}
