package dashboard

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/datosbot/datosbot"
)

// The Institución page and its CSV show what the portal said of each
// action's data URL.
func TestInstitucionShowsDataChecks(t *testing.T) {
	e := newEnv(t)
	e.fixture()
	a := e.action("inegi", "2026-11-10")
	if _, err := e.store.SetActionDataCheck(context.Background(), a.ID, datosbot.DataCheck{URL: a.DataURLs[0],
		Status: datosbot.CheckOtraInstitucion, Dataset: "inegi", Title: "Censo de Población", Organization: "sep", CheckedAt: testNow}); err != nil {
		t.Fatal(err)
	}
	c := e.signIn(ana)
	w := e.get("/tablero/institucion/inegi?bimestre=2026-B6", c)
	if w.Code != http.StatusOK {
		t.Fatalf("got %d", w.Code)
	}
	body := w.Body.String()
	if !strings.Contains(body, "Verificación en el portal") || !strings.Contains(body, `<span class="check otra_institucion">otra_institucion</span> Censo de Población`) {
		t.Errorf("page: got\n%s\nwant the data check column with otra_institucion", body)
	}
	csv := e.get("/tablero/institucion/inegi?bimestre=2026-B6&formato=csv", c).Body.String()
	if !strings.Contains(csv, "otra_institucion") {
		t.Errorf("CSV: got\n%s\nwant the data check", csv)
	}
}

// The Institución page lists what the portal watch told its channels.
func TestInstitucionShowsPortalNotices(t *testing.T) {
	e := newEnv(t)
	e.fixture()
	for _, n := range []datosbot.PortalNotice{
		{Key: "portal:inegi:d1:conjunto", Institution: "inegi", Kind: "conjunto", Title: "Censo 2020", URL: "https://www.datos.gob.mx/dataset/censo_2020",
			HighValue: true, ChangedAt: testNow.Add(-48 * time.Hour)},
		{Key: "portal:inegi:d2:recurso", Institution: "inegi", Kind: "recurso", Title: "ENOE", ResourceName: "Tabulados <trimestre>",
			URL: "https://www.datos.gob.mx/dataset/enoe", ChangedAt: testNow.Add(-time.Hour)},
		{Key: "portal:shcp:d3:conjunto", Institution: "shcp", Kind: "conjunto", Title: "Deuda", URL: "https://www.datos.gob.mx/dataset/deuda", ChangedAt: testNow},
	} {
		if _, err := e.store.RecordPortalNotice(context.Background(), n); err != nil {
			t.Fatal(err)
		}
	}
	body := e.get("/tablero/institucion/inegi", e.signIn(ana)).Body.String()
	enoe, censo := strings.Index(body, "ENOE"), strings.Index(body, "Censo 2020")
	if !strings.Contains(body, "Avisos del portal") || enoe < 0 || censo < 0 || enoe > censo {
		t.Errorf("page: got\n%s\nwant the two notices, newest first", body)
	}
	if !strings.Contains(body, "Tabulados &lt;trimestre&gt;") || !strings.Contains(body, `<span class="tag">alto valor</span>`) || strings.Contains(body, "Deuda") {
		t.Errorf("page: got\n%s\nwant the resource name escaped, alto valor, and no other institution's notice", body)
	}
}
