package commands_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/commands"
)

// finishCheck records the outcome of the queued check of action id, as the
// evidence worker does.
func (h *harness) finishCheck(id string, ev datosbot.Evidence) {
	h.t.Helper()
	ctx := context.Background()
	var others []string
	defer func() {
		for _, tok := range others {
			o, token, _ := strings.Cut(tok, " ")
			h.store.EvidenceRelease(ctx, o, token, h.clock.Now())
		}
	}()
	for range 10 {
		got, token, _, _, err := h.store.EvidenceClaim(ctx, h.clock.Now(), time.Minute)
		if err != nil || got == "" {
			h.t.Fatalf("no queued check for %s (%v)", id, err)
		}
		if got != id {
			others = append(others, got+" "+token)
			continue
		}
		if ok, err := h.store.EvidenceFinish(ctx, got, token, &ev, time.Time{}); !ok || err != nil {
			h.t.Fatalf("EvidenceFinish = %v, %v", ok, err)
		}
		return
	}
	h.t.Fatalf("the check of %s was never claimed", id)
}

func actionID(t *testing.T, r datosbot.Reply) string {
	t.Helper()
	id := strings.TrimSuffix(strings.TrimPrefix(r.Title, "Acción "), " registrada")
	if id == r.Title || id == "" {
		t.Fatalf("no action id in %q", r.Title)
	}
	return id
}

func TestEvidenceInStatusActionsAndSemesterReport(t *testing.T) {
	h := newHarness(t)
	h.svc = commands.New(commands.Config{Store: h.store, Poster: h, Now: h.clock.Now, Loc: mexico,
		Admins: []datosbot.UserID{admin}, EvidenceChecks: true})
	h.setup()
	verified := actionID(t, h.ok("console:ana", canal, "anunciar "+dataURL+" "+tweetURL))
	missing := actionID(t, h.ok("console:ana", canal, "anunciar "+dataURL+" https://www.gob.mx/inegi/prensa/boletin-42"))
	pending := actionID(t, h.ok("console:ana", canal, "anunciar "+dataURL2+" https://www.gob.mx/inegi/prensa/boletin-43"))

	st := h.ok("console:ana", canal, "estado").PlainText()
	if !strings.Contains(st, "evidencia por revisar") {
		t.Errorf("estado before any check does not say the evidence is being checked:\n%s", st)
	}

	h.finishCheck(verified, datosbot.Evidence{Status: datosbot.EvidenceVerified, CheckedAt: h.clock.Now(), Detail: "La publicación cita la URL de los datos: " + dataURL})
	h.finishCheck(missing, datosbot.Evidence{Status: datosbot.EvidenceNoMention, CheckedAt: h.clock.Now(),
		Detail: "La publicación no cita la URL directa de los datos. Edite la publicación para incluirla."})

	st = h.ok("console:ana", canal, "estado").PlainText()
	for _, want := range []string{
		"Acción " + verified + ": 2026-11-20, redes, " + tweetURL + " · evidencia verificada: cita la URL de los datos",
		"Acción " + missing + ": 2026-11-20, web, https://www.gob.mx/inegi/prensa/boletin-42 · evidencia sin mención de la URL de los datos: La publicación no cita la URL directa de los datos. Edite la publicación para incluirla.",
		"Acción " + pending + ": 2026-11-20, web, https://www.gob.mx/inegi/prensa/boletin-43 · evidencia por revisar",
	} {
		if !strings.Contains(st, want) {
			t.Errorf("estado lacks %q:\n%s", want, st)
		}
	}

	list := h.ok("console:ana", canal, "acciones").Text
	for _, want := range []string{verified + " · 2026-11-20 · redes · publicacion · " + tweetURL + " · evidencia verificada",
		missing + " · 2026-11-20 · web · publicacion · https://www.gob.mx/inegi/prensa/boletin-42 · evidencia sin mención"} {
		if !strings.Contains(list, want) {
			t.Errorf("acciones lacks %q:\n%s", want, list)
		}
	}

	sem := h.ok(admin, "console:general", "reporte semestral 2026-S2").Text
	if !strings.Contains(sem, "inegi: B4 no · B5 no · B6 sí (3, 1 verificada)") {
		t.Errorf("semester report does not count the verified evidence:\n%s", sem)
	}
}

func TestEvidenceOffShowsNothingUnchecked(t *testing.T) {
	h := newHarness(t)
	h.setup()
	h.ok("console:ana", canal, "anunciar "+dataURL+" "+tweetURL)
	if st := h.ok("console:ana", canal, "estado").PlainText(); strings.Contains(st, "evidencia") {
		t.Errorf("with evidence checks off, estado talks about evidence:\n%s", st)
	}
}
