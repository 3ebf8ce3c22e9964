package httpapi_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/storage"
)

// checkEvidence records an outcome for action id the way the evidence
// worker does: claim its queued check, finish it.
func checkEvidence(t *testing.T, store *storage.Store, id string, ev datosbot.Evidence) {
	t.Helper()
	ctx := context.Background()
	for range 10 {
		got, token, _, _, err := store.EvidenceClaim(ctx, now.Add(time.Hour), time.Minute)
		if err != nil || got == "" {
			t.Fatalf("no queued check for %s (%v)", id, err)
		}
		if got != id {
			store.EvidenceRelease(ctx, got, token, now.Add(2*time.Hour))
			continue
		}
		if ok, err := store.EvidenceFinish(ctx, got, token, &ev, time.Time{}); !ok || err != nil {
			t.Fatalf("EvidenceFinish = %v, %v", ok, err)
		}
		return
	}
	t.Fatalf("the check of %s was never claimed", id)
}

func TestActionsCarryEvidence(t *testing.T) {
	store := openStore(t)
	seedReport(t, store)
	checked := time.Date(2026, 12, 3, 18, 0, 0, 0, time.UTC)
	checkEvidence(t, store, "A3333", datosbot.Evidence{Status: datosbot.EvidenceVerified, CheckedAt: checked,
		Detail: "La publicación cita la URL de los datos: https://www.datos.gob.mx/dataset/x"})
	h := newServer(t, store, nil)

	w := do(t, h, "GET", "/api/v1/actions?institution=shcp", bearer(token), nil)
	body := w.Body.String()
	for _, want := range []string{
		`"evidence":{"status":"verificada","checked_at":"2026-12-03T18:00:00Z","detail":"La publicación cita la URL de los datos: https://www.datos.gob.mx/dataset/x"}`,
		`"evidence":null`, // A2222, never checked
	} {
		if !strings.Contains(body, want) {
			t.Errorf("actions JSON %s; want %s", body, want)
		}
	}

	csv := readCSV(t, do(t, h, "GET", "/api/v1/actions?institution=shcp&format=csv", bearer(token), nil))
	last := csv[len(csv)-1]
	if got := fmt.Sprint(last[len(last)-3:]); got != "[verificada 2026-12-03T18:00:00Z La publicación cita la URL de los datos: https://www.datos.gob.mx/dataset/x]" {
		t.Errorf("CSV evidence columns of A3333 = %s", got)
	}

	comp := readCSV(t, do(t, h, "GET", "/api/v1/compliance?bimester=2026-B5&format=csv", bearer(token), nil))
	for _, row := range comp[1:] {
		want := "0"
		if row[0] == "shcp" {
			want = "1"
		}
		if row[6] != want {
			t.Errorf("compliance 2026-B5 %s verified_evidence = %s, want %s", row[0], row[6], want)
		}
	}
	jw := do(t, h, "GET", "/api/v1/compliance?bimester=2026-B5", bearer(token), nil)
	if !strings.Contains(jw.Body.String(), `"verified_evidence":1`) {
		t.Errorf("compliance JSON %s; want verified_evidence 1 for shcp", jw.Body)
	}
}
