package slack

import (
	"encoding/json"
	"slices"
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
// so that it cannot mention, link or format anything it did not contain.
// mrkdwn parts are entity-escaped; the text and fields are rich_text, whose
// text elements Slack shows literally, with only real URLs as links.
func TestEscapedRendering(t *testing.T) {
	const evil = "<!channel> @here <@U123> *bold* _it_ ~tachado~ <https://evil|click>"
	r := datosbot.Reply{
		Title:   "Nota " + evil,
		Text:    "Acción registrada. Nota: " + evil + "\nDatos: https://www.datos.gob.mx/dataset/x.",
		Fields:  []datosbot.Field{{Label: "Nota", Value: evil}},
		Buttons: []datosbot.Button{{Label: "Ver " + evil, Command: "acciones inegi"}},
		Context: evil,
	}
	b, err := json.Marshal(responseMessage(r))
	if err != nil {
		t.Fatal(err)
	}
	var decoded struct {
		Text   string      `json:"text"`
		Blocks []blockJSON `json:"blocks"`
	}
	if err := json.Unmarshal(b, &decoded); err != nil {
		t.Fatal(err)
	}
	var mrkdwnParts []string
	var shown, links []string
	for _, blk := range decoded.Blocks {
		switch blk.Type {
		case "header", "context":
			if blk.Text.Text != "" {
				mrkdwnParts = append(mrkdwnParts, blk.Text.Text)
			}
			for _, el := range blk.Elements {
				mrkdwnParts = append(mrkdwnParts, el.text(t))
			}
		case "actions":
			for _, el := range blk.Elements {
				mrkdwnParts = append(mrkdwnParts, el.text(t))
			}
		case "rich_text":
			for _, sec := range blk.Elements {
				for _, el := range sec.Elements {
					switch el.Type {
					case "text":
						if el.Style != nil && (el.Style.Italic || el.Style.Strike || el.Style.Code) {
							t.Errorf("text element %q has style %+v", el.Text, el.Style)
						}
						if el.Style == nil || !el.Style.Bold {
							shown = append(shown, el.Text)
						}
					case "link":
						if el.Text != "" {
							t.Errorf("link %q shown as %q: want the URL itself", el.URL, el.Text)
						}
						shown = append(shown, el.URL)
						links = append(links, el.URL)
					default:
						t.Errorf("rich_text element of type %q: want only text and link", el.Type)
					}
				}
			}
		default:
			t.Errorf("unexpected block type %q", blk.Type)
		}
	}
	for _, s := range append(mrkdwnParts, decoded.Text) {
		for _, forbidden := range []string{"<!channel>", "<@U123>", "<https://evil|click>", "@here"} {
			if strings.Contains(s, forbidden) {
				t.Errorf("%q contains %q", s, forbidden)
			}
		}
		if !strings.Contains(s, "&lt;!channel&gt;") {
			t.Errorf("%q: want the user's <!channel> escaped", s)
		}
	}
	if got, want := strings.Join(shown, ""), r.Text+evil; got != want {
		t.Errorf("rich text shows %q, want the user text literally: %q", got, want)
	}
	if want := []string{"https://evil", "https://www.datos.gob.mx/dataset/x", "https://evil"}; !slices.Equal(links, want) {
		t.Errorf("links: got %q, want %q (no label hides a URL; the trailing dot is not part of it)", links, want)
	}
	if got := escape("a & b"); got != "a &amp; b" {
		t.Errorf("escape: got %q, want %q", got, "a &amp; b")
	}
}

// blockJSON is what the tests read back of a rendered block.
type blockJSON struct {
	Type     string        `json:"type"`
	Text     textJSON      `json:"text"`
	Elements []elementJSON `json:"elements"`
}

// elementJSON is an element of a block: a text object of a context block
// (text is a string), a button (text is an object) or a rich_text section.
type elementJSON struct {
	Type     string          `json:"type"`
	Text     json.RawMessage `json:"text"`
	ActionID string          `json:"action_id"`
	Value    string          `json:"value"`
	Elements []struct {
		Type  string `json:"type"`
		Text  string `json:"text"`
		URL   string `json:"url"`
		Style *struct {
			Bold, Italic, Strike, Code bool
		} `json:"style"`
	} `json:"elements"`
}

func (e elementJSON) text(t *testing.T) string {
	t.Helper()
	var s string
	if json.Unmarshal(e.Text, &s) == nil {
		return s
	}
	var obj textJSON
	if err := json.Unmarshal(e.Text, &obj); err != nil {
		t.Fatalf("element text %s: %v", e.Text, err)
	}
	return obj.Text
}

type textJSON struct {
	Type string `json:"type"`
	Text string `json:"text"`
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
	var got []blockJSON
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, blk := range got {
		types = append(types, blk.Type)
	}
	if want := "header rich_text rich_text actions context"; strings.Join(types, " ") != want {
		t.Fatalf("block types: got %q, want %q", strings.Join(types, " "), want)
	}
	if btn := got[3].Elements[0]; btn.Type != "button" || btn.Value != "enterado C3M9" || btn.ActionID != "datos_cmd_0" {
		t.Errorf("button: got %+v, want a button with value %q", btn, "enterado C3M9")
	}
	var fields []string
	for _, el := range got[2].Elements[0].Elements {
		s := el.Text
		if el.Style != nil && el.Style.Bold {
			s = "*" + s + "*"
		}
		fields = append(fields, s)
	}
	if got, want := strings.Join(fields, ""), "*Fecha límite: *2026-12-15\n*Datos: *—"; got != want {
		t.Errorf("fields: got %q, want %q (bold labels, a dash for an empty value)", got, want)
	}

	long := datosbot.Reply{Text: strings.Repeat("línea con <, > y &\n", 400)}
	var sections int
	for _, blk := range blocks(long) {
		text := blk.(*slack.RichTextBlock).Elements[0].(*slack.RichTextSection).Elements[0].(*slack.RichTextSectionTextElement).Text
		if n := utf8.RuneCountInString(text); n > maxSectionText {
			t.Errorf("block of %d characters: want at most %d", n, maxSectionText)
		}
		if !strings.HasSuffix(text, "&") {
			t.Errorf("block cut inside a line: ends in %q", text[len(text)-10:])
		}
		sections++
	}
	if sections < 3 {
		t.Errorf("long text: got %d blocks, want it split in several", sections)
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
