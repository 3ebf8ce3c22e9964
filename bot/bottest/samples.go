package bottest

import (
	"time"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/commands"
)

// Sample is a reply the adapters' golden tests render.
type Sample struct {
	Name  string // file name in the adapter's testdata/render/
	Reply datosbot.Reply
}

// Samples are the kinds of replies people see most, plus the hostile
// text every renderer must show literally.
func Samples() []Sample {
	camp := datosbot.Campaign{
		ID: "C3M9", Title: "Difusión del Censo 2020",
		Message:     "Les pedimos difundir los resultados del Censo 2020 en sus redes esta semana.",
		DataURLs:    []string{"https://www.datos.gob.mx/dataset/censo_2020", "https://datos.gob.mx/busca/dataset/censo-2020/resource/3f1c"},
		Deadline:    datosbot.Date{Year: 2026, Month: time.December, Day: 15},
		RequestedBy: datosbot.RoleUnidad,
	}
	return []Sample{
		{"campaign_announcement", commands.Announcement(camp)},
		{"status", datosbot.Reply{
			Title: "INEGI: bimestre 2026-B6 (noviembre-diciembre 2026)",
			Text:  "Cumple: 1 acción registrada este bimestre.",
			Fields: []datosbot.Field{
				{Label: "Días restantes", Value: "33"},
				{Label: "Acción A7K2Q", Value: "2026-11-29, redes, https://x.com/INEGI_INFORMA/status/123"},
			},
		}},
		{"hostile_text", datosbot.Reply{
			Title:   "Nota de <b>Ana</b> & *equipo*",
			Text:    "Acción registrada. Nota: <!channel> @here <@U123> *negritas* _cursiva_ ~tachado~ `código` <https://malo.example|clic> <a href=\"x\">y</a> & ya.\n> cita",
			Fields:  []datosbot.Field{{Label: "Datos", Value: "https://www.datos.gob.mx/dataset/accidentes_transito."}, {Label: "Nota", Value: "_a_b_ [x](y) #tag"}},
			Buttons: []datosbot.Button{{Label: "Ver <acciones>", Command: "acciones inegi"}},
			Context: "Responda con /datos estado <clave> & listo.",
		}},
		{"refusal", datosbot.Reply{
			Text:  "No tiene permiso para usar \"institucion\". Solo la Unidad administra instituciones. Escriba /datos ayuda para ver lo que sí puede hacer.",
			Error: datosbot.EFORBIDDEN,
		}},
	}
}
