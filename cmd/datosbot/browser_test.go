package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/datosbot/datosbot"
)

// ScreenshotPath is where the browser test leaves its picture of the
// Cumplimiento page (gitignored); docs/tablero-cumplimiento.png is a copy.
const ScreenshotPath = "screenshots/cumplimiento.png"

// chromium finds a Chromium to drive: DATOSBOT_CHROMIUM, else Debian's
// chromium package or another usual name on PATH.
func chromium() string {
	if p := os.Getenv("DATOSBOT_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// freeAddr returns a loopback address with a port nobody listens on now,
// so that DATOSBOT_PUBLIC_URL can name the bot's own address.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestBrowserDashboard drives headless Chromium through the whole path: a
// signed Slack "/datos tablero" to the bot's real HTTP server, the link of
// its reply, the session cookie, the Cumplimiento heat map of a fixture
// with institutions that did and did not comply (states and colours as the
// browser computes them), a campaign's progress bar, and the Institución
// page. It leaves a screenshot of Cumplimiento at ScreenshotPath.
func TestBrowserDashboard(t *testing.T) {
	browser := chromium()
	if browser == "" && os.Getenv("DATOSBOT_REQUIRE_CHROMIUM") != "" {
		t.Fatal("no Chromium found, and DATOSBOT_REQUIRE_CHROMIUM is set (scripts/test.sh installs it)")
	}
	if browser == "" {
		t.Skip("browser test skipped: no Chromium found (apt-get install chromium, as scripts/test.sh does, or set DATOSBOT_CHROMIUM)")
	}
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok":true}`)
	}))
	defer fake.Close()
	addr := freeAddr(t)
	secret := "8f742231b10e8888abcd99yyyzzz85a5"
	c := startConsole(t, map[string]string{
		"DATOSBOT_ADDR":        addr,
		"DATOSBOT_PUBLIC_URL":  "http://" + addr,
		"DATOSBOT_DATA_FILE":   filepath.Join(t.TempDir(), "s.json"),
		"DATOSBOT_NOW":         "2026-11-20T10:00:00-06:00",
		"SLACK_BOT_TOKEN":      "xoxb-test",
		"SLACK_SIGNING_SECRET": secret,
		"SLACK_API_URL":        fake.URL,
		"DATOSBOT_ADMINS":      "slack:UADMIN",
	})
	defer c.close()
	browserFixture(t, c)
	waitReady(t, "http://"+addr)

	// The signed slash command, as Slack sends it, to the real handler.
	body := url.Values{"command": {"/datos"}, "text": {"tablero"}, "user_id": {"UADMIN"}, "user_name": {"unidad"},
		"channel_id": {"D0ADMIN"}, "team_id": {"T1"}, "trigger_id": {"1.2.3"}, "response_url": {fake.URL + "/resp"}}.Encode()
	req, _ := http.NewRequest("POST", "http://"+addr+"/slack/commands", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	io.WriteString(mac, "v0:"+ts+":"+body)
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	reply, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var ack struct {
		ResponseType string `json:"response_type"`
		Text         string `json:"text"`
	}
	if err := json.Unmarshal(reply, &ack); err != nil {
		t.Fatalf("reply %q: %v", reply, err)
	}
	if ack.ResponseType != "ephemeral" {
		t.Errorf("tablero reply is %q, want ephemeral (only the caller sees the link)", ack.ResponseType)
	}
	link := regexp.MustCompile(`http://` + regexp.QuoteMeta(addr) + `/tablero/entrar\?t=[A-Za-z0-9_-]{43}`).FindString(ack.Text)
	if link == "" {
		t.Fatalf("no sign-in link in the reply %q", ack.Text)
	}

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(browser),
		chromedp.Flag("headless", true), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancelCtx := chromedp.NewContext(actx)
	defer cancelCtx()
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()

	// The link signs in and lands on /tablero with an HttpOnly, Lax cookie.
	if err := chromedp.Do(ctx, chromedp.Navigate(link), chromedp.WaitVisible(chromedp.ID("cumplimiento"))); err != nil {
		t.Fatalf("signing in with the link: %v", err)
	}
	location, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if location != "http://"+addr+"/tablero" {
		t.Errorf("landed on %s, want /tablero", location)
	}
	cookies, err := chromedp.Run(ctx, chromedp.Action[[]*network.Cookie](func(ctx context.Context, tg *chromedp.Target) ([]*network.Cookie, error) {
		res, err := cdp.Call(ctx, tg, network.GetCookies, network.GetCookiesParams{})
		return res.Cookies, err
	}))
	if err != nil {
		t.Fatal(err)
	}
	if len(cookies) != 1 || cookies[0].Name != "datosbot_tablero" || !cookies[0].HTTPOnly || cookies[0].SameSite != network.CookieSameSiteLax || cookies[0].Secure {
		t.Errorf("cookies %+v, want one HttpOnly SameSite=Lax session cookie (not Secure on http)", cookies)
	}

	// The heat map as the browser shows it: each cell's word and computed colour.
	cells, err := chromedp.Run(ctx, chromedp.Evaluate[map[string][]string](`Object.fromEntries(Array.from(document.querySelectorAll('tr[data-institucion]')).map(r =>
		[r.dataset.institucion, Array.from(r.querySelectorAll('td.cell')).map(c => c.querySelector('.word').textContent + ' ' + getComputedStyle(c).backgroundColor)]))`))
	if err != nil {
		t.Fatal(err)
	}
	ok, risk, missed, none := "cumplió rgb(26, 127, 55)", "en riesgo rgb(255, 211, 61)", "no cumplió rgb(180, 35, 24)", "sin datos rgb(234, 238, 242)"
	want := map[string][]string{
		"conapo": {ok, ok, ok, ok, ok, risk},
		"imss":   {none, none, none, none, missed, ok},
		"inegi":  {ok, ok, ok, ok, ok, ok},
		"sep":    {missed, ok, missed, ok, missed, risk},
		"shcp":   {missed, missed, missed, missed, missed, risk},
	}
	for k, w := range want {
		if strings.Join(cells[k], "; ") != strings.Join(w, "; ") {
			t.Errorf("%s cells:\n got %v\nwant %v", k, cells[k], w)
		}
	}
	counts, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('tr[data-institucion="inegi"] td.cell .n, tr[data-institucion="sep"] td.cell .n')).map(n => n.textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(counts, "|"); got != strings.Repeat("1 acción · 1 verif.|", 6)+"0 acciones · 0 verif.|1 acción · 0 verif.|0 acciones · 0 verif.|1 acción · 0 verif.|0 acciones · 0 verif.|0 acciones · 0 verif." {
		t.Errorf("inegi and sep counts: %s", got)
	}
	if _, shown := cells["cofepris"]; shown || len(cells) != 8 {
		t.Errorf("rows %v: want the 8 active institutions, not the inactive one", keys(cells))
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(ScreenshotPath), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ScreenshotPath, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of Cumplimiento: %s", ScreenshotPath)

	// The campaign's bar: 1 of 4 cumplida, 1 enterado, 2 pendiente, drawn to scale.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`nav a[href="/tablero/campanas"]`)),
		chromedp.WaitVisible(chromedp.CSS(`section[data-campana="C3M9"]`))); err != nil {
		t.Fatal(err)
	}
	bar, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]float64](`(() => { const s = document.querySelector('section[data-campana="C3M9"]');
		const w = sel => s.querySelector(sel).getBoundingClientRect().width;
		return {total: w('.bar'), cumplida: w('.seg.cumplida'), enterado: w('.seg.enterado'), pendiente: w('.seg.pendiente'),
			n: +s.dataset.total, done: +s.dataset.cumplida}; })()`))
	if err != nil {
		t.Fatal(err)
	}
	if bar["n"] != 4 || bar["done"] != 1 {
		t.Errorf("campaign counts %v, want 1 of 4", bar)
	}
	inner := bar["total"] - 2 // the border
	for seg, frac := range map[string]float64{"cumplida": 0.25, "enterado": 0.25, "pendiente": 0.5} {
		if got := bar[seg] / inner; got < frac-0.01 || got > frac+0.01 {
			t.Errorf("%s segment is %.3f of the bar, want %.2f", seg, got, frac)
		}
	}

	// The Institución page, reached from the heat map's link.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`nav a[href="/tablero"]`)), chromedp.WaitVisible(chromedp.ID("cumplimiento")),
		chromedp.Click(chromedp.CSS(`tr[data-institucion="sep"] th a`)), chromedp.WaitVisible(chromedp.ID("acciones"))); err != nil {
		t.Fatal(err)
	}
	title, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1")))
	if err != nil {
		t.Fatal(err)
	}
	actions, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#acciones tbody")))
	if err != nil {
		t.Fatal(err)
	}
	if title != "Secretaría de Educación Pública" || !strings.Contains(actions, "2026-03-10") || !strings.Contains(actions, "2026-07-21") {
		t.Errorf("Institución page: title %q, actions %q", title, actions)
	}
}

// browserFixture loads eight institutions that did and did not comply, one
// given up, and a campaign half under way.
func browserFixture(t *testing.T, c *consoleBot) {
	t.Helper()
	ctx := context.Background()
	st := c.m.Store
	loc := c.m.Config.Loc
	early := time.Date(2025, 12, 1, 9, 0, 0, 0, loc)
	insts := []struct {
		key, name string
		created   time.Time
		dates     []string
	}{
		{"inegi", "Instituto Nacional de Estadística y Geografía", early, []string{"2026-01-15", "2026-03-02", "2026-05-20", "2026-07-07", "2026-09-30", "2026-11-18"}},
		{"shcp", "Secretaría de Hacienda y Crédito Público", early, nil},
		{"imss", "Instituto Mexicano del Seguro Social", time.Date(2026, 9, 10, 9, 0, 0, 0, loc), []string{"2026-11-02"}},
		{"conapo", "Consejo Nacional de Población", early, []string{"2026-02-11", "2026-04-08", "2026-06-15", "2026-08-19", "2026-10-05"}},
		{"sep", "Secretaría de Educación Pública", early, []string{"2026-03-10", "2026-07-21"}},
		{"salud", "Secretaría de Salud", early, []string{"2026-01-20", "2026-03-25", "2026-05-05", "2026-07-30", "2026-09-15", "2026-11-10"}},
		{"semarnat", "Secretaría de Medio Ambiente y Recursos Naturales", early, []string{"2026-05-12", "2026-09-01"}},
		{"sct", "Secretaría de Infraestructura, Comunicaciones y Transportes", early, []string{"2026-01-08", "2026-08-08", "2026-10-30"}},
		{"cofepris", "Comisión Federal para la Protección contra Riesgos Sanitarios", early, nil},
	}
	n := 0
	for _, in := range insts {
		if err := st.CreateInstitution(ctx, datosbot.Institution{Key: in.key, Name: in.name, CreatedAt: in.created}, "slack:UADMIN"); err != nil {
			t.Fatal(err)
		}
		for _, d := range in.dates {
			day, _ := datosbot.ParseDate(d)
			n++
			a := datosbot.Action{ID: fmt.Sprintf("B%04d", n), Institution: in.key, DataURLs: []string{"https://www.datos.gob.mx/dataset/" + in.key},
				EvidenceURL: fmt.Sprintf("https://x.com/%s/status/%d", in.key, n), Medium: datosbot.MediumRedes, Type: datosbot.TypePublicacion,
				PublishedOn: day, RegisteredBy: "slack:UENLACE"}
			if _, _, err := st.AddAction(ctx, a); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The evidence checks, finished as the evidence worker would (it is off
	// in this package's tests): INEGI's and Salud's publications cite their
	// data URL, the others' do not.
	verified := map[string]bool{"inegi": true, "salud": true}
	for range n {
		id, token, _, _, err := st.EvidenceClaim(ctx, time.Now().Add(time.Hour), time.Minute)
		if err != nil || id == "" {
			t.Fatalf("evidence check: %q, %v", id, err)
		}
		a, err := st.Action(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		ev := &datosbot.Evidence{Status: datosbot.EvidenceNoMention, CheckedAt: time.Now(), Detail: "La publicación no cita la URL de los datos."}
		if verified[a.Institution] {
			ev = &datosbot.Evidence{Status: datosbot.EvidenceVerified, CheckedAt: time.Now(), Detail: "La publicación cita la URL de los datos."}
		}
		if ok, err := st.EvidenceFinish(ctx, id, token, ev, time.Time{}); !ok || err != nil {
			t.Fatalf("EvidenceFinish(%s) = %v, %v", id, ok, err)
		}
	}
	if err := st.SetInstitutionActive(ctx, "cofepris", false, "slack:UADMIN"); err != nil {
		t.Fatal(err)
	}
	camp := datosbot.Campaign{ID: "C3M9", Title: "Datos de movilidad urbana", Message: "Comuniquen el conjunto de movilidad.",
		DataURLs: []string{"https://www.datos.gob.mx/dataset/movilidad"}, Deadline: datosbot.Date{Year: 2026, Month: 12, Day: 15},
		RequestedBy: datosbot.RoleUnidad, CreatedBy: "slack:UADMIN", Institutions: []string{"inegi", "shcp", "imss", "conapo"}}
	if _, _, err := st.CreateCampaign(ctx, camp, ""); err != nil {
		t.Fatal(err)
	}
	now := c.m.Config.Clock()()
	if _, err := st.CompleteCampaign(ctx, "C3M9", "inegi", "B0006", now); err != nil {
		t.Fatal(err)
	}
	if _, err := st.AcknowledgeCampaign(ctx, "C3M9", "shcp", "slack:UENLACE", now); err != nil {
		t.Fatal(err)
	}
}

// waitReady waits until /readyz answers 200: the Slack adapter serves.
func waitReady(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, err := http.Get(base + "/readyz")
		if err == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz not ready after 10 s: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
