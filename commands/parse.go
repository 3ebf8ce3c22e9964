package commands

import (
	"strings"
	"unicode"

	"github.com/datosbot/datosbot"
)

// Invocation is a parsed command: its sub-command, positional arguments and
// clave:valor options.
type Invocation struct {
	Name string            // folded sub-command, e.g. "anunciar", "campana"
	Args []string          // positional arguments, quotes removed
	Opts map[string]string // folded option key → value
}

// Opt returns the option key and whether it was given.
func (in Invocation) Opt(key string) (string, bool) {
	v, ok := in.Opts[key]
	return v, ok
}

// quotePairs maps an opening quote to its closing one: straight quotes and
// the typographic quotes phones insert.
var quotePairs = map[rune]rune{'"': '"', '\'': '\'', '“': '”', '”': '”', '„': '“', '‘': '’', '«': '»', '‹': '›'}

type token struct {
	text   string
	quoted bool // the whole token was quoted: never an option
}

// tokenize splits text at spaces, keeping quoted text together. A quote may
// open anywhere in a token (nota:"dos palabras"). An unclosed quote runs to
// the end of the text.
func tokenize(text string) []token {
	var (
		toks   []token
		cur    strings.Builder
		inTok  bool
		quoted bool
		close  rune
	)
	flush := func() {
		if inTok {
			toks = append(toks, token{cur.String(), quoted})
		}
		cur.Reset()
		inTok, quoted = false, false
	}
	for _, r := range text {
		switch {
		case close != 0:
			if r == close || (close == '”' && r == '"') || (close == '"' && r == '”') {
				close = 0
				continue
			}
			cur.WriteRune(r)
		case quotePairs[r] != 0 && (!inTok || strings.HasSuffix(cur.String(), ":")):
			close, quoted = quotePairs[r], !inTok
			inTok = true
		case unicode.IsSpace(r):
			flush()
		default:
			cur.WriteRune(r)
			inTok = true
		}
	}
	flush()
	return toks
}

// onParse, when set (only by the tests, through CountParses), is called by
// each Parse: a request's text is parsed once, and the test shows it.
var onParse func()

// Parse reads a command line such as
//
//	anunciar https://www.datos.gob.mx/dataset/x https://x.com/… medio:redes “nota libre”
//
// Sub-command and option keys are case- and accent-insensitive.
func Parse(text string) Invocation {
	if onParse != nil {
		onParse()
	}
	toks := tokenize(text)
	in := Invocation{Opts: map[string]string{}}
	if len(toks) == 0 {
		return in
	}
	in.Name = datosbot.Fold(strings.TrimPrefix(toks[0].text, "/"))
	var keys []string
	if cmd, ok := lookup(in.Name); ok {
		in.Name, keys = cmd.Name, cmd.Options
	}
	for _, t := range toks[1:] {
		if k, v, ok := strings.Cut(t.text, ":"); ok && !t.quoted && isOptionKey(keys, k) {
			fk := datosbot.Fold(k)
			if fk == "datos" && in.Opts[fk] != "" {
				v = in.Opts[fk] + "," + v // repeated datos: options add URLs
			}
			in.Opts[fk] = v
			continue
		}
		in.Args = append(in.Args, t.text)
	}
	return in
}

func isOptionKey(keys []string, k string) bool {
	k = datosbot.Fold(k)
	for _, x := range keys {
		if x == k {
			return true
		}
	}
	return false
}
