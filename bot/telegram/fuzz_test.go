package telegram

import (
	"html"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/datosbot/datosbot"
)

// FuzzRender renders replies made of any text, cut at Telegram's limit and
// at small limits that exercise the splitting: every part is well-formed
// HTML of our tags, at most limit UTF-16 code units once its entities are
// parsed (and as written), never blank, and together the parts keep every
// visible character of the reply. `go test` runs the seeds and the corpus
// in testdata/fuzz; scripts/test.sh fuzzes it for a few seconds.
func FuzzRender(f *testing.F) {
	f.Add("Campaña C3M9", "La Unidad pide comunicar los datos.\nAntes del 15.", "Datos", "https://www.datos.gob.mx/dataset/x", "Responda.", "enterado C3M9", uint16(0), uint16(1))
	f.Add("", strings.Repeat("a & <b> ", 1000), "", "", "", "", uint16(100), uint16(1))
	f.Add("@todos", "@here @ana correo@inegi.org.mx /estado@DatosBot", "@x", "@y", "@z", strings.Repeat("x", 80), uint16(3), uint16(1))
	f.Add("", strings.Repeat(" ", 5000), "", "", "", "", uint16(0), uint16(1))
	f.Add("", strings.Repeat("😀", 3000), "", strings.Repeat("&", 3000), "", "", uint16(7), uint16(2))
	f.Fuzz(func(t *testing.T, title, text, label, value, context, command string, small, repeat uint16) {
		r := datosbot.Reply{Title: title, Text: strings.Repeat(text, 1+int(repeat)%8), Context: context,
			Fields: []datosbot.Field{{Label: label, Value: value}}, Buttons: []datosbot.Button{{Label: label, Command: command}}}
		checkParts(t, r, render(r, maxMessageLen), maxMessageLen)
		limit := 16 + int(small)%300
		checkParts(t, r, render(r, limit), limit)
	})
}

// checkParts fails t when a part breaks Telegram's rules or the parts lose
// a visible character of r.
func checkParts(t *testing.T, r datosbot.Reply, parts []string, limit int) {
	t.Helper()
	var shown strings.Builder
	for i, p := range parts {
		if !utf8.ValidString(p) {
			t.Fatalf("limit %d, part %d is not valid UTF-8: %q", limit, i, p)
		}
		text, ok := parseHTML(p)
		if !ok {
			t.Fatalf("limit %d, part %d is not well-formed HTML: %q", limit, i, p)
		}
		if n := textLen(text); n > limit {
			t.Fatalf("limit %d, part %d has %d code units once parsed: %q", limit, i, n, p)
		}
		if n := textLen(p); n > limit {
			t.Fatalf("limit %d, part %d has %d code units as written: %q", limit, i, n, p)
		}
		if strings.TrimSpace(text) == "" {
			t.Fatalf("limit %d, part %d is blank: %q", limit, i, p)
		}
		shown.WriteString(text)
	}
	var want strings.Builder
	for _, l := range lines(r) {
		for _, s := range l {
			want.WriteString(s.text)
		}
	}
	if got, want := visible(shown.String()), visible(want.String()); got != want {
		t.Fatalf("limit %d: the parts show %q, want %q", limit, got, want)
	}
}

// parseHTML returns the text of a part as Telegram shows it: our tags
// (<b>, <i>) balanced and removed, the &amp; &lt; &gt; entities parsed.
// ok is false for any other tag or entity, or unbalanced tags.
func parseHTML(s string) (string, bool) {
	var out strings.Builder
	var open []string
	for s != "" {
		switch {
		case s[0] == '<':
			end := strings.IndexByte(s, '>')
			if end < 0 {
				return "", false
			}
			tag := s[1:end]
			switch tag {
			case "b", "i":
				open = append(open, tag)
			case "/b", "/i":
				if len(open) == 0 || open[len(open)-1] != tag[1:] {
					return "", false
				}
				open = open[:len(open)-1]
			default:
				return "", false
			}
			s = s[end+1:]
		case s[0] == '&':
			end := strings.IndexByte(s, ';')
			if end < 0 {
				return "", false
			}
			switch s[:end+1] {
			case "&amp;", "&lt;", "&gt;":
				out.WriteString(html.UnescapeString(s[:end+1]))
			default:
				return "", false
			}
			s = s[end+1:]
		case s[0] == '>':
			return "", false
		default:
			i := strings.IndexAny(s, "<&>")
			if i < 0 {
				i = len(s)
			}
			out.WriteString(s[:i])
			s = s[i:]
		}
	}
	return out.String(), len(open) == 0
}

// visible drops what a cut may move or drop: white space and the word
// joiner that neutralises mentions.
func visible(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '\u2060' {
			return -1
		}
		return r
	}, s)
}
