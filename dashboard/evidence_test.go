package dashboard

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/datosbot/datosbot"
)

// verify records an outcome for action id the way the evidence worker
// does: claim its queued check, finish it.
func (e *env) verify(id string, ev datosbot.Evidence) {
	e.t.Helper()
	ctx := context.Background()
	later := e.clock.Now().Add(24 * time.Hour)
	for range 20 {
		got, token, _, _, err := e.store.EvidenceClaim(ctx, e.clock.Now(), time.Minute)
		if err != nil || got == "" {
			e.t.Fatalf("no queued check for %s (%v)", id, err)
		}
		if got != id {
			e.store.EvidenceRelease(ctx, got, token, later)
			continue
		}
		if ok, err := e.store.EvidenceFinish(ctx, got, token, &ev, time.Time{}); !ok || err != nil {
			e.t.Fatalf("EvidenceFinish = %v, %v", ok, err)
		}
		return
	}
	e.t.Fatalf("the check of %s was never claimed", id)
}

func TestDashboardShowsVerifiedEvidence(t *testing.T) {
	e := newEnv(t)
	e.fixture()
	a := e.action("imss", "2026-11-20")
	e.verify(a.ID, datosbot.Evidence{Status: datosbot.EvidenceVerified, CheckedAt: testNow,
		Detail: "La publicación cita la URL de los datos: https://www.datos.gob.mx/dataset/imss"})
	c := e.signIn(unidad)

	w := e.get("/tablero", c)
	if w.Code != http.StatusOK {
		t.Fatalf("got %d", w.Code)
	}
	body := w.Body.String()
	foot := body[strings.Index(body, "<tfoot>"):]
	cols := strings.Split(foot, "<td data-bimestre=")
	mustContain(t, "imss 2026-B6", body, "<span class=\"n\">2 acciones · 1 verif.</span>")
	mustContain(t, "2026-B6 totals", cols[6], "2 acciones · 1 verif.<")

	w = e.get("/tablero/institucion/imss", c)
	mustContain(t, "Institución imss", w.Body.String(), `<span class="check verificada">verificada</span> La publicación cita la URL de los datos`)
}
