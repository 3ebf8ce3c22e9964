package slack

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	_ "time/tzdata"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/commands"
	"github.com/datosbot/datosbot/storage/storagetest"
)

// TestEndToEnd wires the real command service and store (miniredis, or the
// Redis of DATOSBOT_TEST_REDIS_URL) behind signed /slack/commands requests
// and runs a liaison's first day: the Unidad registers INEGI, links its
// channel and invites a comms liaison, who joins and registers an action,
// after which estado shows that INEGI complies.
func TestEndToEnd(t *testing.T) {
	mexico, err := time.LoadLocation("America/Mexico_City")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, mexico)
	clock := func() time.Time { return now }
	store := storagetest.Open(t, clock)
	svc := commands.New(commands.Config{Store: store, Now: clock, Loc: mexico, Admins: []datosbot.UserID{"slack:U0ADMIN"}, Logger: quiet})

	f := newFakeSlack(t)
	_, mux := start(t, f, svc, func(c *Config) {
		c.Deduper = store
		c.Now = clock
	})

	var trigger atomic.Int64
	run := func(user, channel, text string) (string, string) {
		t.Helper()
		body := url.Values{
			"token": {"x"}, "team_id": {"T0001"}, "team_domain": {"datosmx"}, "channel_id": {channel},
			"user_id": {user}, "user_name": {strings.ToLower(user)}, "command": {"/datos"}, "text": {text},
			"api_app_id": {"A0DATOS"}, "response_url": {f.responseURL()},
			"trigger_id": {strconv.FormatInt(trigger.Add(1), 10) + ".1.abc"},
		}.Encode()
		w := serve(mux, signed("/slack/commands", testSecret, now, body))
		if w.Code != http.StatusOK {
			t.Fatalf("%s: status %d", text, w.Code)
		}
		m := decode(t, w)
		return m["text"].(string), m["response_type"].(string)
	}

	steps := []struct {
		user, channel, text string
		want                string
	}{
		{"U0ADMIN", "C0INEGI01", "institucion alta inegi Instituto Nacional de Estadística y Geografía", "inegi"},
		{"U0ADMIN", "C0INEGI01", "canal vincular inegi", "Canal vinculado a Instituto Nacional"},
	}
	for _, s := range steps {
		if got, _ := run(s.user, s.channel, s.text); !strings.Contains(got, s.want) {
			t.Fatalf("%q: got %q, want it to mention %q", s.text, got, s.want)
		}
	}
	invitation, _ := run("U0ADMIN", "C0INEGI01", "invitar inegi comunicacion")
	code := regexp.MustCompile(`\b([A-Z0-9]{6})\b`).FindStringSubmatch(invitation)
	if code == nil {
		t.Fatalf("invitar: got %q, want a six-character code", invitation)
	}
	if got, _ := run("U0ANA", "D0ANA", "unirme "+code[1]); !strings.Contains(datosbot.Fold(got), "comunicacion") {
		t.Fatalf("unirme: got %q, want the granted role", got)
	}
	got, _ := run("U0ANA", "C0INEGI01", "anunciar <https://www.datos.gob.mx/dataset/accidentes_transito> <https://x.com/INEGI_INFORMA/status/1>")
	if !strings.Contains(got, "cumple el bimestre 2026-B6") {
		t.Fatalf("anunciar: got %q, want the action registered", got)
	}
	got, _ = run("U0ANA", "C0INEGI01", "estado")
	if !strings.Contains(got, "Cumple") {
		t.Errorf("estado: got %q, want INEGI to comply", got)
	}
	acts, err := store.Actions(context.Background(), "inegi", datosbot.Bimester{})
	if err != nil || len(acts) != 1 || acts[0].RegisteredBy != "slack:U0ANA" || acts[0].DataURLs[0] != "https://www.datos.gob.mx/dataset/accidentes_transito" {
		t.Errorf("stored actions: got %+v (%v), want one by slack:U0ANA with the data URL", acts, err)
	}
	f.none(t)
}
