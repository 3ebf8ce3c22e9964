package dashboard

import (
	"context"
	"testing"

	"github.com/datosbot/datosbot"
)

func TestOverview(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.PublicURL = "https://datosbot.example.gob.mx" })
	e.fixture()
	e.member(ana, datosbot.RoleInstitucional, "shcp")
	e.campaign("C3M9", "inegi", "shcp", "imss")
	e.campaign("C4K2", "imss")
	ctx := context.Background()
	if _, err := e.store.AcknowledgeCampaign(ctx, "C3M9", "shcp", ana, testNow); err != nil {
		t.Fatal(err)
	}
	e.action("shcp", "2026-11-19")

	ov, err := e.srv.Overview(ctx, ana)
	if err != nil {
		t.Fatal(err)
	}
	if ov.Central || ov.Bimester.String() != "2026-B6" || ov.DaysLeft != 42 || ov.DashboardURL != "https://datosbot.example.gob.mx/tablero" {
		t.Errorf("overview %+v", ov)
	}
	if len(ov.Institutions) != 2 || ov.Institutions[0].Key != "inegi" || ov.Institutions[0].Compliant ||
		ov.Institutions[1].Key != "shcp" || !ov.Institutions[1].Compliant || ov.Institutions[1].Actions != 1 {
		t.Errorf("institutions %+v, want inegi not yet and shcp with 1 action", ov.Institutions)
	}
	if len(ov.Campaigns) != 2 || ov.Campaigns[0].Institution != "inegi" || ov.Campaigns[0].Status != datosbot.StatusPendiente ||
		ov.Campaigns[1].Institution != "shcp" || ov.Campaigns[1].Status != datosbot.StatusEnterado {
		t.Errorf("campaigns %+v, want C3M9 for inegi (pendiente) and shcp (enterado), not C4K2", ov.Campaigns)
	}

	central, err := e.srv.Overview(ctx, coord)
	if err != nil {
		t.Fatal(err)
	}
	if !central.Central || central.Compliant != 2 || central.Total != 3 || len(central.Campaigns) != 2 || len(central.Institutions) != 0 {
		t.Errorf("central overview %+v, want 2 of 3 and both campaigns", central)
	}

	none, err := e.srv.Overview(ctx, nobody)
	if err != nil || none.Central || len(none.Institutions) != 0 || len(none.Campaigns) != 0 {
		t.Errorf("stranger's overview %+v, %v: want empty", none, err)
	}
}
