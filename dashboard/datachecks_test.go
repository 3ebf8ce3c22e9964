package dashboard

import (
	"context"
	"net/http"
	"strings"
	"testing"

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
