package dashboard

import (
	"context"
	"encoding/csv"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/datosbot/datosbot"
)

func date(s string) datosbot.Date {
	d, err := datosbot.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func TestCellState(t *testing.T) {
	b6 := datosbot.Bimester{Year: 2026, N: 6}
	b5 := datosbot.Bimester{Year: 2026, N: 5}
	tests := []struct {
		name    string
		b       datosbot.Bimester
		today   string
		created string
		actions int
		want    state
	}{
		{"an action", b5, "2026-11-20", "2025-01-01", 1, cumplio},
		{"open, none yet", b6, "2026-11-20", "2025-01-01", 0, enRiesgo},
		{"open, last day", b6, "2026-12-31", "2025-01-01", 0, enRiesgo},
		{"closed, in grace", b5, "2026-11-05", "2025-01-01", 0, enRiesgo},
		{"closed, grace over", b5, "2026-11-06", "2025-01-01", 0, noCumplio},
		{"future", b6, "2026-10-31", "2025-01-01", 0, sinDatos},
		{"before the institution", b5, "2026-11-20", "2026-11-02", 0, sinDatos},
		{"created inside it", b5, "2026-11-20", "2026-10-31", 0, noCumplio},
		{"no creation date", b5, "2026-11-20", "", 0, noCumplio},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var created datosbot.Date
			if tt.created != "" {
				created = date(tt.created)
			}
			if got := cellState(tt.b, date(tt.today), created, 5, tt.actions); got != tt.want {
				t.Errorf("got %s, want %s", got.Word(), tt.want.Word())
			}
		})
	}
}

func TestColumns(t *testing.T) {
	tests := []struct{ today, want string }{
		{"2026-11-20", "2026-B1 2026-B2 2026-B3 2026-B4 2026-B5 2026-B6"},
		{"2026-03-01", "2025-B4 2025-B5 2025-B6 2026-B1 2026-B2 2026-B3"},
		{"2026-07-01", "2026-B1 2026-B2 2026-B3 2026-B4 2026-B5 2026-B6"},
	}
	for _, tt := range tests {
		var got []string
		for _, b := range columns(date(tt.today)) {
			got = append(got, b.String())
		}
		if strings.Join(got, " ") != tt.want {
			t.Errorf("%s: got %v, want %s", tt.today, got, tt.want)
		}
	}
}

// cellsOf reads the heat map's cells from a page: institution → the
// states of its cells in order.
func cellsOf(body string) map[string][]string {
	rowRE := regexp.MustCompile(`(?s)<tr data-institucion="([^"]+)">(.*?)</tr>`)
	cellRE := regexp.MustCompile(`data-estado="([^"]+)" data-bimestre="([^"]+)"`)
	out := map[string][]string{}
	for _, m := range rowRE.FindAllStringSubmatch(body, -1) {
		for _, c := range cellRE.FindAllStringSubmatch(m[2], -1) {
			out[m[1]] = append(out[m[1]], c[1])
		}
	}
	return out
}

func TestCumplimientoHeatMap(t *testing.T) {
	e := newEnv(t)
	e.fixture()
	w := e.get("/tablero", e.signIn(unidad))
	if w.Code != http.StatusOK {
		t.Fatalf("got %d", w.Code)
	}
	body := w.Body.String()
	got := cellsOf(body)
	want := map[string][]string{
		"inegi": {"cumplió", "cumplió", "cumplió", "cumplió", "cumplió", "en riesgo"},
		"shcp":  {"no cumplió", "no cumplió", "no cumplió", "no cumplió", "no cumplió", "en riesgo"},
		"imss":  {"sin datos", "sin datos", "sin datos", "sin datos", "no cumplió", "cumplió"},
	}
	for k, cells := range want {
		if strings.Join(got[k], ",") != strings.Join(cells, ",") {
			t.Errorf("%s: cells %v, want %v", k, got[k], cells)
		}
	}
	if len(got) != 3 {
		t.Errorf("rows %v, want inegi, shcp and imss (not the inactive one)", got)
	}
	// Each cell has its symbol and word, not only a colour.
	mustContain(t, "heat map", body, `class="cell cumplio"`, `<span class="sym" aria-hidden="true">✓</span> <span class="word">cumplió</span>`,
		`<span class="sym" aria-hidden="true">!</span> <span class="word">en riesgo</span>`, `>✗</span> <span class="word">no cumplió</span>`,
		`>–</span> <span class="word">sin datos</span>`,
		`href="/tablero/institucion/inegi?bimestre=2026-B6"`, `href="/tablero/institucion/shcp"`,
		"<span class=\"n\">2 acciones · 0 verif.</span>", // inegi's 2026-B5
		`<th scope="col" class="current">2026-B6`)
	// Totals of 2026-B6: imss complied, inegi and shcp at risk.
	foot := body[strings.Index(body, "<tfoot>"):]
	cols := strings.Split(foot, "<td data-bimestre=")
	if len(cols) != 7 {
		t.Fatalf("footer has %d cells, want 6", len(cols)-1)
	}
	mustContain(t, "2026-B6 totals", cols[6], "✓ 1 de 3<", "! 2 · ✗ 0 · – 0<", "1 acción · 0 verif.<")
	mustContain(t, "2026-B1 totals", cols[1], "✓ 1 de 3<", "! 0 · ✗ 1 · – 1<")
}

func TestCumplimientoCSVMatchesThePage(t *testing.T) {
	e := newEnv(t)
	e.fixture()
	c := e.signIn(unidad)
	page := e.get("/tablero", c).Body.String()
	mustContain(t, "page", page, `href="/tablero?formato=csv"`)
	w := e.get("/tablero?formato=csv", c)
	if ct := w.Header().Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(w.Body.String(), "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1+3*6 {
		t.Fatalf("%d records, want a header and 18 cells", len(recs))
	}
	states := map[string][]string{}
	for _, r := range recs[1:] {
		states[r[0]] = append(states[r[0]], r[3])
	}
	for k, cells := range cellsOf(page) {
		if strings.Join(states[k], ",") != strings.Join(cells, ",") {
			t.Errorf("%s: CSV %v, page %v", k, states[k], cells)
		}
	}
	if strings.Join(recs[0], ",") != "institucion,nombre,bimestre,estado,acciones,evidencias_verificadas" {
		t.Errorf("header %v", recs[0])
	}
}

func TestCSVNeutralisesFormulas(t *testing.T) {
	for in, want := range map[string]string{"=HYPERLINK(1)": "'=HYPERLINK(1)", "+1": "'+1", "@x": "'@x", "inegi": "inegi", "": ""} {
		if got := csvSafe(in); got != want {
			t.Errorf("csvSafe(%q) = %q, want %q", in, got, want)
		}
	}
}

func (e *env) campaign(id string, targets ...string) {
	e.t.Helper()
	c := datosbot.Campaign{ID: id, Title: "Datos de movilidad", Message: "Comuniquen el conjunto de movilidad.",
		DataURLs: []string{"https://www.datos.gob.mx/dataset/movilidad"}, Deadline: date("2026-12-15"),
		RequestedBy: datosbot.RoleUnidad, CreatedBy: unidad, Institutions: targets}
	if _, _, err := e.store.CreateCampaign(context.Background(), c, ""); err != nil {
		e.t.Fatal(err)
	}
}

func TestCampanasProgress(t *testing.T) {
	e := newEnv(t)
	e.fixture()
	e.campaign("C3M9", "inegi", "shcp", "imss")
	ctx := context.Background()
	if _, err := e.store.CompleteCampaign(ctx, "C3M9", "inegi", "A0001", testNow); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.AcknowledgeCampaign(ctx, "C3M9", "shcp", unidad, testNow); err != nil {
		t.Fatal(err)
	}
	c := e.signIn(unidad)
	body := e.get("/tablero/campanas", c).Body.String()
	mustContain(t, "campaigns", body, `data-cumplida="1" data-enterado="1" data-pendiente="1" data-total="3"`,
		`class="seg cumplida w33"`, `class="seg enterado w34"`, `class="seg pendiente w33"`,
		"1 de 3 cumplida", "2026-12-15", `Faltan: <a href="/tablero/institucion/imss">imss</a> (pendiente), <a href="/tablero/institucion/shcp">shcp</a> (enterado)`)

	liaison := e.get("/tablero/campanas", e.signIn(ana)).Body.String()
	mustContain(t, "liaison's campaigns", liaison, `data-cumplida="1" data-enterado="0" data-pendiente="0" data-total="1"`, "Todas las instituciones cumplieron")
	mustNotContain(t, "liaison's campaigns", liaison, "shcp", "imss")

	w := e.get("/tablero/campanas?formato=csv", c)
	mustContain(t, "campaigns CSV", w.Body.String(), "C3M9,Datos de movilidad,2026-12-15,false,inegi,", ",cumplida", ",enterado", ",pendiente")
}

func TestBarWidthsAddUp(t *testing.T) {
	for _, tt := range []struct{ c, e, p int }{{1, 1, 1}, {0, 0, 7}, {7, 0, 0}, {1, 2, 4}, {2, 1, 0}, {0, 0, 0}, {299, 1, 0}} {
		cv := campaignView{Cumplida: tt.c, Enterado: tt.e, Pendiente: tt.p}
		for range tt.c + tt.e + tt.p {
			cv.Targets = append(cv.Targets, targetView{})
		}
		w := cv.Widths()
		if w[0]+w[1]+w[2] != 100 || w[0] < 0 || w[1] < 0 || w[2] < 0 {
			t.Errorf("%v: widths %v", tt, w)
		}
		if n := tt.c + tt.e + tt.p; n > 0 && math.Abs(float64(w[0])-100*float64(tt.c)/float64(n)) > 0.5 {
			t.Errorf("%v: cumplida width %d", tt, w[0])
		}
	}
}

func TestInstitucionPage(t *testing.T) {
	e := newEnv(t, func(c *Config) {
		c.Failures = func(_ context.Context, chs []datosbot.ChannelID) ([]Failure, error) {
			return []Failure{{Channel: chs[0], Reason: "channel_not_found", At: testNow.Add(-time.Hour)}}, nil
		}
	})
	e.fixture()
	e.campaign("C3M9", "inegi", "shcp")
	c := e.signIn(ana)
	w := e.get("/tablero/institucion/inegi", c)
	if w.Code != http.StatusOK {
		t.Fatalf("got %d", w.Code)
	}
	body := w.Body.String()
	mustContain(t, "institution", body, "Instituto Nacional de Estadística y Geografía", "slack:C0INEGI",
		"2026-10-01", "2026-01-15", "https://www.datos.gob.mx/dataset/inegi", "https://x.com/inegi/status/",
		"Entregas fallidas", "<strong>slack:C0INEGI</strong>", "Datos de movilidad (C3M9)</a>: pendiente")
	if n := strings.Count(body, "<tr data-accion="); n != 6 {
		t.Errorf("%d actions shown, want 6", n)
	}
	one := e.get("/tablero/institucion/inegi?bimestre=2026-B5", c).Body.String()
	if n := strings.Count(one, "<tr data-accion="); n != 2 {
		t.Errorf("2026-B5: %d actions shown, want 2", n)
	}
	csvBody := e.get("/tablero/institucion/inegi?bimestre=2026-B5&formato=csv", c).Body.String()
	if n := strings.Count(csvBody, "\ninegi,"); n != 2 {
		t.Errorf("2026-B5 CSV has %d actions, want 2:\n%s", n, csvBody)
	}
	if w := e.get("/tablero/institucion/inegi?bimestre=B5", c); w.Code != http.StatusBadRequest {
		t.Errorf("bad bimester = %d, want 400", w.Code)
	}
	if w := e.get("/tablero/institucion/nada", e.signIn(unidad)); w.Code != http.StatusNotFound {
		t.Errorf("unknown institution = %d, want 404", w.Code)
	}
}

func TestReporteSemestral(t *testing.T) {
	e := newEnv(t)
	e.fixture()
	c := e.signIn(unidad)
	body := e.get("/tablero/reporte?semestre=2026-S1", c).Body.String()
	mustContain(t, "report S1", body, "1 de 3 instituciones cumplieron los tres bimestres", "2026-01-15", "2026-03-02", "2026-05-20",
		`href="?semestre=2025-S2"`, `href="?semestre=2026-S2"`)
	cur := e.get("/tablero/reporte", c).Body.String()
	mustContain(t, "report S2", cur, "Reporte semestral 2026-S2", "0 de 3 instituciones")
	w := e.get("/tablero/reporte?semestre=2026-S1&formato=csv", c)
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(w.Body.String(), "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	// inegi: one row per action (3); shcp and imss: one empty row per bimester (6).
	if len(recs) != 1+3+6 {
		t.Errorf("%d records, want 10:\n%v", len(recs), recs)
	}
	if w := e.get("/tablero/reporte?semestre=2026-S3", c); w.Code != http.StatusBadRequest {
		t.Errorf("bad semester = %d, want 400", w.Code)
	}
}

func TestSecurityHeadersAndNoScript(t *testing.T) {
	e := newEnv(t)
	e.fixture()
	e.campaign("C3M9", "inegi")
	c := e.signIn(unidad)
	for _, path := range []string{"/tablero", "/tablero/campanas", "/tablero/institucion/inegi", "/tablero/reporte", "/tablero/entrar?t=x", "/tablero/nada", "/tablero/static/style.css"} {
		w := e.get(path, c)
		h := w.Header()
		if h.Get("Content-Security-Policy") != ContentSecurityPolicy || !strings.Contains(ContentSecurityPolicy, "frame-ancestors 'none'") ||
			strings.Contains(ContentSecurityPolicy, "unsafe-inline") || strings.Contains(ContentSecurityPolicy, "script-src") {
			t.Errorf("%s: CSP %q", path, h.Get("Content-Security-Policy"))
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" || h.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: headers %v", path, h)
		}
		body := w.Body.String()
		if strings.Contains(body, "<script") || strings.Contains(body, " style=") || strings.Contains(body, "<style") {
			t.Errorf("%s has inline script or style", path)
		}
	}
	if cc := e.get("/tablero", c).Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("pages Cache-Control = %q, want no-store", cc)
	}
}

// TestCellColoursMeetContrast reads the stylesheet's cell colours and
// checks WCAG 2.1's 4.5:1 contrast between each text and its background.
func TestCellColoursMeetContrast(t *testing.T) {
	css, err := staticFiles.ReadFile("static/style.css")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`\.(cell\.[a-z-]+|tag\.late|check\.verificada) \{ background: #([0-9a-f]{6}); color: #([0-9a-f]{6}); \}`)
	found := map[string]bool{}
	for _, m := range re.FindAllStringSubmatch(string(css), -1) {
		found[m[1]] = true
		if r := contrast(m[2], m[3]); r < 4.5 {
			t.Errorf("%s: contrast %.2f:1, want at least 4.5:1", m[1], r)
		}
	}
	for st := range states {
		if !found["cell."+state(st).Class()] {
			t.Errorf("no colour rule for state %s", state(st).Word())
		}
	}
}

func contrast(a, b string) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

func luminance(hex string) float64 {
	var ch [3]float64
	for i := range ch {
		v, _ := strconv.ParseUint(hex[2*i:2*i+2], 16, 8)
		c := float64(v) / 255
		if c <= 0.04045 {
			ch[i] = c / 12.92
		} else {
			ch[i] = math.Pow((c+0.055)/1.055, 2.4)
		}
	}
	return 0.2126*ch[0] + 0.7152*ch[1] + 0.0722*ch[2]
}
