package slack

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/datosbot/datosbot"
)

func TestUndecorate(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "estado inegi", "estado inegi"},
		{"link with label", "anunciar <https://www.datos.gob.mx/dataset/x|datos.gob.mx/dataset/x> y", "anunciar https://www.datos.gob.mx/dataset/x y"},
		{"bare link", "anunciar <https://x.com/INEGI_INFORMA/status/1>", "anunciar https://x.com/INEGI_INFORMA/status/1"},
		{"link with query", "<https://busca.datos.gob.mx/#!/conjuntos/x?a=1&amp;b=2>", "https://busca.datos.gob.mx/#!/conjuntos/x?a=1&b=2"},
		{"channel with name", "canal vincular <#C0123|enlace-inegi>", "canal vincular #enlace-inegi"},
		{"channel without name", "ver <#C0123>", "ver #C0123"},
		{"user with name", "invitar <@U123|ana>", "invitar @ana"},
		{"user without name", "invitar <@U123>", "invitar @U123"},
		{"special mention", "aviso <!here>", "aviso @here"},
		{"entities", "nota:&quot;a &amp; b &lt;c&gt;&quot;", "nota:&quot;a & b <c>&quot;"},
		{"escaped brackets are text", "nota &lt;https://x|y&gt;", "nota <https://x|y>"},
		{"mailto", "<mailto:ana@inegi.org.mx|ana@inegi.org.mx>", "mailto:ana@inegi.org.mx"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := undecorate(tt.in); got != tt.want {
				t.Errorf("undecorate(%q): got %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestEscapedRendering: user text in every part of a Reply reaches Slack
// escaped, so it cannot mention or link anything it did not contain.
func TestEscapedRendering(t *testing.T) {
	const evil = "<!channel> @here <@U123> *bold* <https://evil|click>"
	r := datosbot.Reply{
		Title:   "Nota " + evil,
		Text:    "Acción registrada. Nota: " + evil + "\nDatos: https://www.datos.gob.mx/dataset/x",
		Fields:  []datosbot.Field{{Label: "Nota", Value: evil}},
		Buttons: []datosbot.Button{{Label: "Ver " + evil, Command: "acciones inegi"}},
		Context: evil,
	}
	b, err := json.Marshal(responseMessage(r))
	if err != nil {
		t.Fatal(err)
	}
	var decoded struct {
		Text   string `json:"text"`
		Blocks []any  `json:"blocks"`
	}
	if err := json.Unmarshal(b, &decoded); err != nil {
		t.Fatal(err)
	}
	var buf strings.Builder
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(decoded.Blocks)
	rendered := buf.String()
	for name, s := range map[string]string{"blocks": rendered, "fallback": decoded.Text} {
		for _, forbidden := range []string{"<!channel>", "<@U123>", "<https://evil|click>", "@here"} {
			if strings.Contains(s, forbidden) {
				t.Errorf("%s contains %q: %s", name, forbidden, s)
			}
		}
		for _, want := range []string{"&lt;!channel&gt;", "&lt;@U123&gt;", "*bold*", "&lt;https://evil|click&gt;", "https://www.datos.gob.mx/dataset/x"} {
			if name == "fallback" && want == "https://www.datos.gob.mx/dataset/x" {
				continue
			}
			if !strings.Contains(s, want) {
				t.Errorf("%s lacks %q: %s", name, want, s)
			}
		}
	}
	if got := escape("a & b"); got != "a &amp; b" {
		t.Errorf("escape: got %q, want %q", got, "a &amp; b")
	}
}

func TestBlocks(t *testing.T) {
	r := datosbot.Reply{
		Title:   "Campaña C3M9",
		Text:    "La Unidad pide comunicar los datos de accidentes.",
		Fields:  []datosbot.Field{{Label: "Fecha límite", Value: "2026-12-15"}, {Label: "Datos", Value: ""}},
		Buttons: []datosbot.Button{{Label: "Enterado", Command: "enterado C3M9"}},
		Context: "Responda antes de la fecha límite.",
	}
	b, _ := json.Marshal(blocks(r))
	var got []struct {
		Type     string `json:"type"`
		Elements []struct {
			Type     string `json:"type"`
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
		} `json:"elements"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, blk := range got {
		types = append(types, blk.Type)
	}
	if want := "header section section actions context"; strings.Join(types, " ") != want {
		t.Errorf("block types: got %q, want %q", strings.Join(types, " "), want)
	}
	if btn := got[3].Elements[0]; btn.Type != "button" || btn.Value != "enterado C3M9" || btn.ActionID != "datos_cmd_0" {
		t.Errorf("button: got %+v, want a button with value %q", btn, "enterado C3M9")
	}
	if !strings.Contains(string(b), `*Datos*\n—`) {
		t.Errorf("empty field value: want a dash in %s", b)
	}

	long := datosbot.Reply{Text: strings.Repeat("línea con <, > y &\n", 400)}
	var sections int
	for _, blk := range blocks(long) {
		text := blk.(*slack.SectionBlock).Text.Text
		if n := utf8.RuneCountInString(text); n > maxSectionText {
			t.Errorf("section of %d characters: want at most %d", n, maxSectionText)
		}
		if !strings.HasSuffix(text, "&amp;") {
			t.Errorf("section cut inside a line: ends in %q", text[len(text)-10:])
		}
		sections++
	}
	if sections < 3 {
		t.Errorf("long text: got %d sections, want it split in several", sections)
	}
}

func TestFit(t *testing.T) {
	tests := []struct {
		name string
		in   string
		n    int
		want string
	}{
		{"short", "Enterado", 75, "Enterado"},
		{"escaped fits", "a & b", 9, "a &amp; b"},
		{"cut after an entity", "a & b", 8, "a &amp;…"},
		{"cut before an entity", "a & b", 7, "a…"},
		{"cut long", strings.Repeat("x", 10), 5, "xxxx…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fit(tt.in, tt.n); got != tt.want {
				t.Errorf("fit(%q, %d): got %q, want %q", tt.in, tt.n, got, tt.want)
			}
		})
	}
}
