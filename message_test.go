package datosbot_test

import (
	"testing"

	"github.com/datosbot/datosbot"
)

func TestReplyPlainText(t *testing.T) {
	tests := []struct {
		name  string
		reply datosbot.Reply
		want  string
	}{
		{"empty", datosbot.Reply{}, ""},
		{"text only", datosbot.Reply{Text: "Acción registrada."}, "Acción registrada."},
		{"title only", datosbot.Reply{Title: "Campaña C3M9"}, "Campaña C3M9"},
		{"title and lines", datosbot.Reply{Title: "Estado", Text: "línea 1\nlínea 2"}, "Estado\nlínea 1\nlínea 2"},
		{"fields", datosbot.Reply{Fields: []datosbot.Field{{"Bimestre", "2026-B6"}, {"Acciones", "2"}}},
			"• Bimestre: 2026-B6\n• Acciones: 2"},
		{"buttons", datosbot.Reply{Buttons: []datosbot.Button{{Label: "Enterado", Command: "enterado C3M9"}}},
			"[Enterado] → /datos enterado C3M9"},
		{"context only", datosbot.Reply{Context: "Fecha límite: 31 de diciembre de 2026"}, "Fecha límite: 31 de diciembre de 2026"},
		{"everything in order", datosbot.Reply{
			Title:   "Nueva campaña",
			Text:    "Comuniquen los datos de accidentes.",
			Fields:  []datosbot.Field{{"Fecha límite", "2026-12-31"}},
			Buttons: []datosbot.Button{{"Enterado", "enterado C3M9"}, {"Ver", "campana C3M9"}},
			Context: "Pedida por la Unidad",
			Public:  true,
		}, "Nueva campaña\nComuniquen los datos de accidentes.\n• Fecha límite: 2026-12-31\n" +
			"[Enterado] → /datos enterado C3M9\n[Ver] → /datos campana C3M9\nPedida por la Unidad"},
		// Only the one newline the rendering adds is removed.
		{"text ending in a newline", datosbot.Reply{Text: "a\n"}, "a\n"},
		// Plain text: markup in user input is left as typed.
		{"markup is not interpreted", datosbot.Reply{Text: "<@U123> *hola*"}, "<@U123> *hola*"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.reply.PlainText(); got != tt.want {
				t.Errorf("PlainText() = %q, want %q", got, tt.want)
			}
		})
	}
}
