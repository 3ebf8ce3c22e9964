package dashboard

import (
	"context"
	"testing"
	"time"

	"github.com/datosbot/datosbot"
)

func TestInstitucionPortalNoticesAreItsOwnAndRecent(t *testing.T) {
	e := newEnv(t)
	e.fixture()
	ctx := context.Background()
	for _, n := range []datosbot.PortalNotice{
		{Key: "d1@1", Institution: "inegi", Kind: "conjunto", DatasetID: "d1", Dataset: "censo-2026", Title: "Censo de Población 2026",
			Organization: "inegi", URL: "https://www.datos.gob.mx/dataset/censo-2026", HighValue: true, ChangedAt: testNow.Add(-48 * time.Hour), SeenAt: testNow},
		{Key: "d0@1", Institution: "inegi", Kind: "conjunto", DatasetID: "d0", Dataset: "viejo", Title: "Conjunto de 2024",
			Organization: "inegi", URL: "https://www.datos.gob.mx/dataset/viejo", ChangedAt: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC), SeenAt: testNow},
		{Key: "s1@1", Institution: "shcp", Kind: "conjunto", DatasetID: "s1", Dataset: "presupuesto", Title: "Presupuesto",
			Organization: "shcp", URL: "https://www.datos.gob.mx/dataset/presupuesto", ChangedAt: testNow.Add(-time.Hour), SeenAt: testNow},
	} {
		if _, err := e.store.RecordPortalNotice(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	body := e.get("/tablero/institucion/inegi", e.signIn(ana)).Body.String()
	mustContain(t, "institution page", body, "Avisos del portal", `href="https://www.datos.gob.mx/dataset/censo-2026"`,
		"Censo de Población 2026", "alto valor")
	mustNotContain(t, "institution page", body, "Conjunto de 2024", "Presupuesto")
}
