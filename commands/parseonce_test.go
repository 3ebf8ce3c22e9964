package commands_test

import (
	"context"
	"testing"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/commands"
)

// TestHandleParsesTextOnce: a command's text is parsed once per request
// (issue 12 point 3; the metrics name was once found by a second parse),
// whatever the command does and whether it succeeds, is refused or is
// unknown.
func TestHandleParsesTextOnce(t *testing.T) {
	svc, _ := benchService(t)
	parses := commands.CountParses(t)
	ctx := context.Background()
	for _, tt := range []struct {
		user datosbot.UserID
		ch   datosbot.ChannelID
		text string
	}{
		{"console:ana", canal, "estado"},
		{admin, "console:general", "estado inegi"},
		{"console:ana", canal, "anunciar " + dataURL + " " + tweetURL + " medio:redes “nota libre”"},
		{admin, "console:general", "campaña nueva 2026-12-15 " + dataURL2 + " Difundan los datos."},
		{admin, "console:general", "reporte"},
		{"console:ana", canal, "ayuda"},
		{"console:ana", canal, ""},
		{"console:ana", canal, "institucion alta x X"}, // refused: not an admin
		{"console:ana", canal, "inexistente"},
	} {
		parses.Store(0)
		svc.Handle(ctx, datosbot.Request{User: tt.user, Channel: tt.ch, Text: tt.text})
		if n := parses.Load(); n != 1 {
			t.Errorf("%q: parsed %d times, want once", tt.text, n)
		}
	}
}
