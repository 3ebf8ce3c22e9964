package commands_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/commands"
)

const canalSHCP = datosbot.ChannelID("console:canal-shcp")

var createdPattern = regexp.MustCompile(`^Campaña (C[0-9A-Z]{3}) creada$`)

// campaignHarness is the command harness with inegi
// (ines institucional, ana comunicacion) and shcp (sara institucional),
// each with one linked channel.
func campaignHarness(t *testing.T) (*harness, *commands.Campaigns) {
	t.Helper()
	h := newHarness(t)
	cc := h.svc.Campaigns()
	h.setup()
	h.ok(admin, "console:general", "institucion alta shcp Secretaría de Hacienda y Crédito Público")
	h.ok(admin, canalSHCP, "canal vincular shcp")
	h.ok("console:sara", "console:general", "unirme "+h.invite(admin, "shcp institucional"))
	return h, cc
}

// newCampaign runs campaña nueva and returns the new id.
func (h *harness) newCampaign(user datosbot.UserID, args string) string {
	h.t.Helper()
	r := h.ok(user, "console:general", "campaña nueva "+args)
	m := createdPattern.FindStringSubmatch(r.Title)
	if m == nil {
		h.t.Fatalf("no campaign id in title %q", r.Title)
	}
	return m[1]
}

func (h *harness) campaignPosts() []datosbot.Message {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []datosbot.Message
	for _, m := range h.posts {
		if strings.HasPrefix(m.Key, "campana:") {
			out = append(out, m)
		}
	}
	return out
}

func (h *harness) target(id, key string) datosbot.CampaignTarget {
	h.t.Helper()
	ts, err := h.store.CampaignTargets(context.Background(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	for _, t := range ts {
		if t.Institution == key {
			return t
		}
	}
	h.t.Fatalf("%s is not a target of %s", key, id)
	return datosbot.CampaignTarget{}
}

func wantContains(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s: got %q, want it to contain %q", what, got, w)
		}
	}
}

func TestCampaignCommandLifecycle(t *testing.T) {
	h, _ := campaignHarness(t)
	id := h.newCampaign(admin, "2026-12-15 "+dataURL+` instituciones:inegi,SHCP titulo:"Accidentes de tránsito" Difundan los datos de accidentes.`)

	posts := h.campaignPosts()
	if len(posts) != 2 {
		t.Fatalf("announcements: got %d, want 2 (one per linked channel)", len(posts))
	}
	for _, ch := range []datosbot.ChannelID{canal, canalSHCP} {
		var m *datosbot.Message
		for i := range posts {
			if posts[i].Channel == ch {
				m = &posts[i]
			}
		}
		if m == nil {
			t.Fatalf("no announcement in %s", ch)
		}
		if want := "campana:" + id + ":anuncio:" + string(ch); m.Key != want {
			t.Errorf("key: got %q, want %q", m.Key, want)
		}
		if len(m.Reply.Buttons) != 1 || m.Reply.Buttons[0].Command != "enterado "+id || !m.Reply.Public {
			t.Errorf("announcement in %s: got buttons %+v public=%t, want one Enterado button, public", ch, m.Reply.Buttons, m.Reply.Public)
		}
		wantContains(t, "announcement", m.Reply.PlainText(), "Accidentes de tránsito", "Difundan los datos", dataURL,
			"15 de diciembre de 2026", "/datos anunciar "+dataURL+" <url-publicación> campaña:"+id)
	}

	r := h.ok(admin, "console:general", "campaña ver "+id)
	wantContains(t, "ver before", r.PlainText(), "0/2 cumplidas", "inegi (pendiente)", "shcp (pendiente)")

	r = h.ok("console:ana", canal, "enterado "+strings.ToLower(id))
	wantContains(t, "enterado", r.Text, "confirmó la campaña "+id)
	if got := h.target(id, "inegi"); got.Status != datosbot.StatusEnterado || got.AcknowledgedBy != "console:ana" {
		t.Fatalf("inegi after enterado: got %+v, want enterado by console:ana", got)
	}
	r = h.ok("console:ines", canal, "enterado "+id)
	wantContains(t, "enterado twice", r.Text, "ya había confirmado")
	if got := h.target(id, "inegi"); got.AcknowledgedBy != "console:ana" {
		t.Errorf("second enterado changed the acknowledgement: got %s, want console:ana", got.AcknowledgedBy)
	}

	r = h.ok(admin, "console:general", "campaña ver "+id)
	wantContains(t, "ver after enterado", r.PlainText(), "0/2 cumplidas", "inegi (enterado)", "1 enterada")

	h.ok("console:ana", canal, "anunciar "+dataURL2+" "+tweetURL+" campaña:"+strings.ToLower(id))
	as := h.actions("inegi")
	if len(as) != 1 || as[0].Campaign != id {
		t.Fatalf("action: got %+v, want one naming %s", as, id)
	}
	if got := h.target(id, "inegi"); got.Status != datosbot.StatusCumplida || got.Action != as[0].ID {
		t.Fatalf("inegi after anunciar: got %+v, want cumplida by %s", got, as[0].ID)
	}

	r = h.ok(admin, "console:general", "campaña ver "+id)
	text := r.PlainText()
	wantContains(t, "ver after action", text, "1/2 cumplidas", "Faltan: shcp (pendiente)", "inegi (acción "+as[0].ID+")")
	if strings.Contains(text, "inegi (pendiente)") || strings.Contains(text, "inegi (enterado)") {
		t.Errorf("ver lists inegi as missing: %q", text)
	}
	wantContains(t, "lista", h.ok(admin, "console:general", "campaña lista").Text, id, "1/2 cumplidas")
	wantContains(t, "enterado after completion", h.ok("console:ana", canal, "enterado "+id).Text, "ya cumplió")

	status := h.ok("console:sara", canalSHCP, "estado").PlainText()
	wantContains(t, "estado of shcp", status, "Campaña "+id, "pendiente", "/datos enterado "+id)

	wantContains(t, "cerrar", h.ok(admin, "console:general", "campaña cerrar "+id).Text, "quedó cerrada", "1/2 cumplidas")
	wantContains(t, "cerrar twice", h.ok(admin, "console:general", "campaña cerrar "+id).Text, "ya estaba cerrada")
	wantContains(t, "lista after close", h.ok(admin, "console:general", "campaña lista").Text, "No hay campañas abiertas")
	r = h.refused("console:sara", canalSHCP, "anunciar "+dataURL+" https://x.com/SHCP_mx/status/9 campaña:"+id, datosbot.EINVALID)
	wantContains(t, "anunciar on a closed campaign", r.Text, "ya cerró")
	if status := h.ok("console:sara", canalSHCP, "estado").PlainText(); strings.Contains(status, "Campaña "+id) {
		t.Errorf("estado lists a closed campaign: %q", status)
	}
}

func TestCampaignNewRefusalsStoreNothing(t *testing.T) {
	h, _ := campaignHarness(t)
	h.ok("console:coord", "console:general", "unirme "+h.invite(admin, "coordinacion"))
	msg := " Difundan los datos."
	tests := []struct {
		name string
		user datosbot.UserID
		args string
		code string
		want string
	}{
		{"comunicacion liaison", "console:ana", "2026-12-15 " + dataURL + msg, datosbot.EFORBIDDEN, "Unidad y la Coordinación"},
		{"institucional liaison", "console:ines", "2026-12-15 " + dataURL + msg, datosbot.EFORBIDDEN, "Unidad y la Coordinación"},
		{"stranger", "console:x", "2026-12-15 " + dataURL + msg, datosbot.EFORBIDDEN, "Unidad y la Coordinación"},
		{"deadline passed", admin, "2026-11-19 " + dataURL + msg, datosbot.EINVALID, "ya pasó"},
		{"deadline not a date", admin, "15/12/2026 " + dataURL + msg, datosbot.EINVALID, "AAAA-MM-DD"},
		{"home page as data", admin, "2026-12-15 https://datos.gob.mx/" + msg, datosbot.EINVALID, "no señala un conjunto de datos"},
		{"data on another host", admin, "2026-12-15 https://www.inegi.org.mx/datos/" + msg, datosbot.EINVALID, "no está en un sitio de datos abiertos"},
		{"second url bad", admin, "2026-12-15 " + dataURL + ",https://datos.gob.mx/busca" + msg, datosbot.EINVALID, "no señala"},
		{"no url", admin, "2026-12-15 Difundan los datos de accidentes", datosbot.EINVALID, "URL directa de los datos"},
		{"no message", admin, "2026-12-15 " + dataURL, datosbot.EINVALID, "Falta el mensaje"},
		{"nothing", admin, "", datosbot.EINVALID, "Faltan datos"},
		{"unknown institution", admin, "2026-12-15 " + dataURL + " instituciones:inegi,sep" + msg, datosbot.EINVALID, "No existen las instituciones sep"},
		{"bad requester", admin, "2026-12-15 " + dataURL + " solicita:inegi" + msg, datosbot.EINVALID, "solicita:unidad"},
		{"coordinacion in the Unidad's name", "console:coord", "2026-12-15 " + dataURL + " solicita:unidad" + msg, datosbot.EFORBIDDEN, "Solo la Unidad"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.refused(tt.user, "console:general", "campaña nueva "+tt.args, tt.code)
			wantContains(t, "refusal", r.Text, tt.want)
		})
	}
	cs, err := h.store.Campaigns(context.Background(), false)
	if err != nil || len(cs) != 0 {
		t.Errorf("campaigns after refusals: got %d (%v), want none", len(cs), err)
	}
	if posts := h.campaignPosts(); len(posts) != 0 {
		t.Errorf("announcements after refusals: got %d, want none", len(posts))
	}
	for _, cmd := range []string{"campaña lista", "campaña ver C234"} {
		h.refused("console:ana", canal, cmd, datosbot.EFORBIDDEN)
	}
}

func TestCampaignByCoordinacionForAll(t *testing.T) {
	h, _ := campaignHarness(t)
	h.ok(admin, "console:general", "institucion alta imss Instituto Mexicano del Seguro Social")
	h.ok(admin, "console:general", "institucion alta sep Secretaría de Educación Pública")
	h.ok(admin, "console:general", "institucion baja sep")
	h.ok("console:coord", "console:general", "unirme "+h.invite(admin, "coordinacion"))
	r := h.ok("console:coord", "console:general", "campaña nueva 2026-11-20 "+dataURL+","+dataURL2+" Hoy vence.")
	wantContains(t, "reply", r.PlainText(), "3 instituciones", "2 canales", "imss", "/datos campaña ver C")
	id := createdPattern.FindStringSubmatch(r.Title)[1]
	c, err := h.store.Campaign(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if c.RequestedBy != datosbot.RoleCoordinacion || c.CreatedBy != "console:coord" || len(c.DataURLs) != 2 {
		t.Errorf("campaign: got requested_by=%s created_by=%s urls=%v; want coordinacion, console:coord, two URLs", c.RequestedBy, c.CreatedBy, c.DataURLs)
	}
	if got, want := strings.Join(c.Institutions, ","), "imss,inegi,shcp"; got != want {
		t.Errorf("targets: got %s, want %s (every active institution)", got, want)
	}
}

func TestCampaignCreateIdempotent(t *testing.T) {
	h, cc := campaignHarness(t)
	ctx := context.Background()
	c := datosbot.Campaign{Title: "Accidentes", Message: "Difundan.", DataURLs: []string{dataURL},
		Deadline: datosbot.Date{Year: 2026, Month: 12, Day: 15}}
	first, created, err := cc.CreateCampaign(ctx, "api:abc123", datosbot.RoleUnidad, c, "key-1")
	if err != nil || !created {
		t.Fatalf("first: created=%t err=%v, want created", created, err)
	}
	again, created, err := cc.CreateCampaign(ctx, "api:abc123", datosbot.RoleUnidad, c, "key-1")
	if err != nil || created || again.ID != first.ID {
		t.Fatalf("repeat: got %s created=%t err=%v; want %s, not created", again.ID, created, err, first.ID)
	}
	cs, _ := h.store.Campaigns(ctx, false)
	if len(cs) != 1 {
		t.Errorf("campaigns: got %d, want 1", len(cs))
	}
	if posts := h.campaignPosts(); len(posts) != 2 {
		t.Errorf("announcements: got %d, want 2 (inegi and shcp once each)", len(posts))
	}
	if _, _, err := cc.CreateCampaign(ctx, "console:ana", datosbot.RoleComunicacion, c, ""); datosbot.ErrorCode(err) != datosbot.EFORBIDDEN {
		t.Errorf("create as comunicacion: got %v, want forbidden", err)
	}
}

func TestCampaignCompletionByDataURL(t *testing.T) {
	tests := []struct {
		name     string
		data     string
		fecha    string
		complete bool
	}{
		{"its data URL published the day it started", dataURL, "2026-11-20", true},
		{"its data URL written differently", "https://datos.gob.mx/dataset/accidentes_transito/", "2026-11-20", true},
		{"its data URL published the day before", dataURL, "2026-11-19", false},
		{"another data URL", dataURL2, "2026-11-20", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, _ := campaignHarness(t)
			id := h.newCampaign(admin, "2026-12-15 "+dataURL+" Difundan.")
			h.ok("console:ana", canal, "anunciar "+tt.data+" "+tweetURL+" fecha:"+tt.fecha)
			got := h.target(id, "inegi")
			if (got.Status == datosbot.StatusCumplida) != tt.complete {
				t.Errorf("inegi: got %s, want cumplida=%t", got.Status, tt.complete)
			}
			if other := h.target(id, "shcp"); other.Status != datosbot.StatusPendiente {
				t.Errorf("shcp: got %s, want pendiente (the action is inegi's)", other.Status)
			}
		})
	}
}

func TestEnteradoRefusals(t *testing.T) {
	h, _ := campaignHarness(t)
	id := h.newCampaign(admin, "2026-12-15 "+dataURL+" instituciones:shcp Difundan.")
	tests := []struct {
		name string
		user datosbot.UserID
		ch   datosbot.ChannelID
		text string
		code string
		want string
	}{
		{"liaison of a non-target institution", "console:ana", canal, "enterado " + id, datosbot.EFORBIDDEN, "no está dirigida a inegi"},
		{"liaison naming another institution", "console:ana", canal, "enterado " + id + " institucion:shcp", datosbot.EFORBIDDEN, "No es enlace"},
		{"stranger", "console:x", canal, "enterado " + id, datosbot.EFORBIDDEN, "enlaces"},
		{"unidad without a liaison role", admin, canalSHCP, "enterado " + id, datosbot.EFORBIDDEN, "enlaces"},
		{"unknown campaign", "console:sara", canalSHCP, "enterado C999", datosbot.ENOTFOUND, "No existe la campaña C999"},
		{"no id", "console:sara", canalSHCP, "enterado", datosbot.EINVALID, "/datos enterado <id-campaña>"},
		{"naming an unknown campaign in anunciar", "console:ana", canal, "anunciar " + dataURL + " " + tweetURL + " campaña:C999", datosbot.ENOTFOUND, "No existe la campaña"},
		{"naming a campaign of another institution", "console:ana", canal, "anunciar " + dataURL + " " + tweetURL + " campaña:" + id, datosbot.EINVALID, "no está dirigida a inegi"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.refused(tt.user, tt.ch, tt.text, tt.code)
			wantContains(t, "refusal", r.Text, tt.want)
		})
	}
	if got := h.target(id, "shcp"); got.Status != datosbot.StatusPendiente {
		t.Errorf("shcp after refusals: got %s, want pendiente", got.Status)
	}
	if as := h.actions("inegi"); len(as) != 0 {
		t.Errorf("actions after refused anunciar: got %d, want 0", len(as))
	}
	h.ok("console:sara", "console:general", "enterado "+id)
	if got := h.target(id, "shcp"); got.Status != datosbot.StatusEnterado {
		t.Errorf("shcp after sara's enterado (outside its channel): got %s, want enterado", got.Status)
	}
}

func TestWithdrawReopensCampaign(t *testing.T) {
	h, _ := campaignHarness(t)
	id := h.newCampaign(admin, "2026-12-15 "+dataURL+" instituciones:inegi Difundan los datos.")
	h.ok("console:ana", canal, "enterado "+id)
	h.ok("console:ana", canal, "anunciar "+dataURL+" "+tweetURL+" campaña:"+id)
	first := h.target(id, "inegi").Action
	if first == "" {
		t.Fatal("the action did not complete the campaign")
	}
	// A second action mentioning the campaign's data URL also completes it.
	h.ok("console:ana", canal, "anunciar "+dataURL+" https://x.com/INEGI_INFORMA/status/777")

	h.ok("console:ines", canal, "retirar "+first+" URL equivocada")
	got := h.target(id, "inegi")
	if got.Status != datosbot.StatusCumplida || got.Action == first || got.Action == "" {
		t.Fatalf("after withdrawing %s: target %+v, want cumplida by the other action", first, got)
	}
	h.ok("console:ines", canal, "retirar "+got.Action)
	if got = h.target(id, "inegi"); got.Status != datosbot.StatusEnterado || got.Action != "" {
		t.Fatalf("after withdrawing every action: target %+v, want back to enterado", got)
	}
	wantContains(t, "ver", h.ok(admin, "console:general", "campaña ver "+id).PlainText(), "0/1 cumplidas")
}

func TestCampaignTypedTwiceIsCreatedOnce(t *testing.T) {
	h, _ := campaignHarness(t)
	args := "2026-12-15 " + dataURL + " instituciones:inegi Difundan los datos."
	id := h.newCampaign(admin, args)
	r := h.ok(admin, "console:general", "campaña nueva "+args)
	if !strings.Contains(r.Title, id) || !strings.Contains(r.Text, "no se crea") {
		t.Errorf("the same campaña nueva again = %q, want it to name %s and create nothing", r.PlainText(), id)
	}
	cs, _ := h.store.Campaigns(context.Background(), false)
	if len(cs) != 1 || len(h.campaignPosts()) != 1 {
		t.Errorf("campaigns = %d, announcements = %d; want 1 and 1", len(cs), len(h.campaignPosts()))
	}
	// A different message is a different campaign.
	h.newCampaign(admin, "2026-12-15 "+dataURL+" instituciones:inegi Otra solicitud.")
}
