package commands

import (
	"reflect"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		text string
		want Invocation
	}{
		{"empty", "", Invocation{Opts: map[string]string{}}},
		{"sub-command only", "estado", Invocation{Name: "estado", Opts: map[string]string{}}},
		{"upper case and accents", "CAMPAÑA nueva", Invocation{Name: "campana", Args: []string{"nueva"}, Opts: map[string]string{}}},
		{"accented sub-command", "Institución alta inegi Instituto", Invocation{Name: "institucion", Args: []string{"alta", "inegi", "Instituto"}, Opts: map[string]string{}}},
		{"leading slash", "/estado inegi", Invocation{Name: "estado", Args: []string{"inegi"}, Opts: map[string]string{}}},
		{"alias", "help anunciar", Invocation{Name: "ayuda", Args: []string{"anunciar"}, Opts: map[string]string{}}},
		{"unknown sub-command kept", "borrar todo", Invocation{Name: "borrar", Args: []string{"todo"}, Opts: map[string]string{}}},
		{"urls stay positional", "anunciar https://www.datos.gob.mx/dataset/x https://x.com/a/status/1",
			Invocation{Name: "anunciar", Args: []string{"https://www.datos.gob.mx/dataset/x", "https://x.com/a/status/1"}, Opts: map[string]string{}}},
		{"options with accents and case", "anunciar a b Medio:redes TIPO:uso fecha:2026-12-01 Campaña:c3m9 institución:inegi",
			Invocation{Name: "anunciar", Args: []string{"a", "b"}, Opts: map[string]string{"medio": "redes", "tipo": "uso", "fecha": "2026-12-01", "campana": "c3m9", "institucion": "inegi"}}},
		{"straight quotes", `anunciar a b "nota con espacios"`,
			Invocation{Name: "anunciar", Args: []string{"a", "b", "nota con espacios"}, Opts: map[string]string{}}},
		{"typographic quotes", "anunciar a b “nota con medio:redes dentro”",
			Invocation{Name: "anunciar", Args: []string{"a", "b", "nota con medio:redes dentro"}, Opts: map[string]string{}}},
		{"quoted option value", `institucion alta inegi INEGI ckan:"inegi"`,
			Invocation{Name: "institucion", Args: []string{"alta", "inegi", "INEGI"}, Opts: map[string]string{"ckan": "inegi"}}},
		{"typographic quoted option value", "anunciar a b nota:«dos palabras»",
			Invocation{Name: "anunciar", Args: []string{"a", "b"}, Opts: map[string]string{"nota": "dos palabras"}}},
		{"repeated datos option", "anunciar datos:https://a datos:https://b https://c",
			Invocation{Name: "anunciar", Args: []string{"https://c"}, Opts: map[string]string{"datos": "https://a,https://b"}}},
		{"option key of another command stays positional", "estado medio:redes",
			Invocation{Name: "estado", Args: []string{"medio:redes"}, Opts: map[string]string{}}},
		{"unclosed quote runs to the end", `anunciar a b "sin cerrar`,
			Invocation{Name: "anunciar", Args: []string{"a", "b", "sin cerrar"}, Opts: map[string]string{}}},
		{"extra spaces", "  estado\t inegi  ", Invocation{Name: "estado", Args: []string{"inegi"}, Opts: map[string]string{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Parse(tt.text)
			if got.Args == nil {
				got.Args = nil
			}
			if len(got.Args) == 0 && len(tt.want.Args) == 0 {
				got.Args, tt.want.Args = nil, nil
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse(%q)\n got %+v\nwant %+v", tt.text, got, tt.want)
			}
		})
	}
}
