package commands_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/datosbot/datosbot"
)

// TestDataURLRulesThroughCommands shows the URL rules where liaisons meet
// them: a data URL shared with tracking parameters is stored without them,
// in its canonical host form; a refused one stores nothing.
func TestDataURLRulesThroughCommands(t *testing.T) {
	h, _ := campaignHarness(t)
	accepted := []struct {
		name, url, stored string
	}{
		{"utm from a tweet", dataURL + "?utm_source=twitter&utm_medium=social", dataURL},
		{"fbclid", dataURL2 + "?fbclid=IwAR2xYz", dataURL2},
		{"upper-case host and trailing dot", "https://WWW.DATOS.GOB.MX./dataset/accidentes_transito", dataURL},
	}
	for i, tt := range accepted {
		t.Run("anunciar "+tt.name, func(t *testing.T) {
			evidence := "https://x.com/INEGI_INFORMA/status/" + strings.Repeat("7", i+1)
			r := h.ok("console:ana", canal, "anunciar "+tt.url+" "+evidence)
			id := strings.Fields(r.Title)[1]
			a, err := h.store.Action(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(a.DataURLs, []string{tt.stored}) {
				t.Errorf("stored data URLs = %q, want %q", a.DataURLs, tt.stored)
			}
		})
	}
	t.Run("campaña nueva with utm", func(t *testing.T) {
		id := h.newCampaign(admin, "2026-12-15 "+dataURL+"?utm_source=twitter&utm_medium=social Difundan los datos de accidentes.")
		c, err := h.store.Campaign(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(c.DataURLs, []string{dataURL}) {
			t.Errorf("campaign data URLs = %q, want %q", c.DataURLs, dataURL)
		}
	})

	actionsBefore := len(h.actions(""))
	campaignsBefore, err := h.store.Campaigns(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	refused := []struct {
		name, url, want string
	}{
		{"search", "https://www.datos.gob.mx/dataset?q=salud", "búsqueda"},
		{"search by organization", "https://datos.gob.mx/busca/dataset?organization=shcp&utm_source=x", "búsqueda"},
		{"search behind tracking", dataURL + "?utm_source=twitter&q=salud", "búsqueda"},
		{"long s look-alike host", "https://datoſ.gob.mx/dataset/accidentes_transito", "no está en un sitio"},
		{"encoded dot segments", "https://www.datos.gob.mx/dataset/x/%2e%2e/accidentes_transito", "segmentos"},
		{"zero-width space", "https://www.datos.gob.mx/dataset/accidentes\u200b_transito", "invisibles"},
		{"bidi override", "https://www.datos.gob.mx/dataset/\u202eotisnart", "invisibles"},
	}
	for _, tt := range refused {
		t.Run("anunciar "+tt.name, func(t *testing.T) {
			r := h.refused("console:ana", canal, "anunciar "+tt.url+" https://x.com/INEGI_INFORMA/status/4242", datosbot.EINVALID)
			if !strings.Contains(r.Text, tt.want) {
				t.Errorf("reply %q does not say %q", r.Text, tt.want)
			}
		})
		t.Run("campaña nueva "+tt.name, func(t *testing.T) {
			r := h.refused(admin, "console:general", "campaña nueva 2026-12-15 "+tt.url+" Difundan los datos.", datosbot.EINVALID)
			if !strings.Contains(r.Text, tt.want) {
				t.Errorf("reply %q does not say %q", r.Text, tt.want)
			}
		})
	}
	t.Run("anunciar evidence with a zero-width space", func(t *testing.T) {
		h.refused("console:ana", canal, "anunciar "+dataURL+" https://x.com/INEGI_INFORMA/status/42\u200b43", datosbot.EINVALID)
	})
	if n := len(h.actions("")); n != actionsBefore {
		t.Errorf("%d actions after the refusals, want %d", n, actionsBefore)
	}
	campaignsAfter, err := h.store.Campaigns(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(campaignsAfter) != len(campaignsBefore) {
		t.Errorf("%d campaigns after the refusals, want %d", len(campaignsAfter), len(campaignsBefore))
	}
}
