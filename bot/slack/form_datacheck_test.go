package slack

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/commands"
	"github.com/datosbot/datosbot/storage/storagetest"
)

// missingData is a portal that has none of the datasets asked about.
type missingData struct{}

func (missingData) CheckData(_ context.Context, _ datosbot.Institution, urls []string) []datosbot.DataCheck {
	out := make([]datosbot.DataCheck, len(urls))
	for i, u := range urls {
		out[i] = datosbot.DataCheck{URL: u, Status: datosbot.CheckInexistente, CheckedAt: testNow}
	}
	return out
}

func (missingData) Recheck(context.Context, datosbot.DataRecheck) error { return nil }

// TestFormRefusesAMissingDataset: the anunciar form naming a dataset the
// portal does not have, submitted to the real commands, shows the refusal
// on the data field and stores nothing.
func TestFormRefusesAMissingDataset(t *testing.T) {
	now := func() time.Time { return testNow }
	store := storagetest.Open(t, now)
	svc := commands.New(commands.Config{Store: store, Now: now, Loc: time.UTC,
		Admins: []datosbot.UserID{"slack:UADMIN"}, DataChecker: missingData{}})
	say := func(user datosbot.UserID, ch datosbot.ChannelID, text string) datosbot.Reply {
		t.Helper()
		r := svc.Handle(context.Background(), datosbot.Request{User: user, Channel: ch, Text: text})
		if r.Error != "" {
			t.Fatalf("%q refused: %s", text, r.PlainText())
		}
		return r
	}
	say("slack:UADMIN", "slack:CGENERAL", "institucion alta inegi INEGI ckan:inegi")
	say("slack:UADMIN", "slack:C0INEGI01", "canal vincular inegi")
	code := regexp.MustCompile(`Código para [^:]+: ([A-Z0-9]{6})`).FindStringSubmatch(say("slack:UADMIN", "slack:CGENERAL", "invitar inegi institucional").Text)
	if code == nil {
		t.Fatal("no invitation code")
	}
	say("slack:U0ANA", "slack:C0INEGI01", "unirme "+code[1])

	f := newFakeSlack(t)
	_, mux := start(t, f, svc, nil)
	body := interactionBody(t, "view_submission.json", `"DATOS"`, jsonString(goodData), `"PUB"`, jsonString(goodPub), `"NOTA"`, `null`)
	w := serve(mux, signed("/slack/interactions", testSecret, testNow, body))
	m := decode(t, w)
	errs, _ := m["errors"].(map[string]any)
	got, _ := errs[fieldDatos].(string)
	if m["response_action"] != "errors" || !strings.Contains(got, "no existe en datos.gob.mx") || !strings.Contains(got, "no se guardó nada") {
		t.Errorf("got %s, want the refusal on the data field saying the dataset does not exist", w.Body)
	}
	if as, err := store.Actions(context.Background(), "inegi", datosbot.Bimester{}); err != nil || len(as) != 0 {
		t.Errorf("got %d actions stored (%v), want none", len(as), err)
	}
	f.none(t)
}
