package console_test

import (
	"context"
	"strings"
	"testing"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/bot"
	"github.com/datosbot/datosbot/bot/bottest"
	"github.com/datosbot/datosbot/bot/console"
)

func TestConsoleActsAsSeveralPeopleInSeveralChats(t *testing.T) {
	var got []datosbot.Request
	h := bot.HandlerFunc(func(ctx context.Context, req datosbot.Request) datosbot.Reply {
		got = append(got, req)
		return datosbot.Reply{Text: "hecho", Public: req.Text == "publico"}
	})
	in := strings.NewReader("/datos estado\n/como ana\n/en canal-inegi\n/datos   anunciar a b\n/ayuda\n\n# comentario\n/como\npublico\n")
	out := &bottest.Buffer{}
	a := console.New(console.Config{In: in, Out: out})
	if err := a.Run(context.Background(), h); err != nil {
		t.Fatal(err)
	}
	want := []datosbot.Request{
		{User: "console:admin", Name: "admin", Channel: "console:general", Text: "estado"},
		{User: "console:ana", Name: "ana", Channel: "console:canal-inegi", Text: "anunciar a b"},
		{User: "console:ana", Name: "ana", Channel: "console:canal-inegi", Text: "ayuda"},
		{User: "console:ana", Name: "ana", Channel: "console:canal-inegi", Text: "publico"},
	}
	if len(got) != len(want) {
		t.Fatalf("handled %d requests %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("request %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	s := out.String()
	for _, part := range []string{"Uso: /como <usuario>", "[ana → en #canal-inegi]", "fin de la entrada"} {
		if !strings.Contains(s, part) {
			t.Errorf("output lacks %q:\n%s", part, s)
		}
	}
	a.Post(context.Background(), datosbot.Message{Channel: "console:canal-shcp", Reply: datosbot.Reply{Title: "Recordatorio"}})
	if !strings.Contains(out.String(), "[bot → #canal-shcp]\n  Recordatorio") {
		t.Errorf("a post to another chat should be printed with its name:\n%s", out.String())
	}
}
