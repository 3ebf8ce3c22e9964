package telegram

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/datosbot/datosbot"
)

// Telegram limits.
const (
	maxMessageLen    = 4096 // sendMessage text, characters after entity parsing
	maxCallbackData  = 64   // InlineKeyboardButton.callback_data, bytes
	maxCallbackText  = 200  // answerCallbackQuery text, characters
	maxButtonsPerRow = 1
)

var (
	htmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	// mention is an @ that starts a word and is followed by a username
	// character: Telegram turns it into a mention that notifies.
	mention = regexp.MustCompile(`(^|[^\p{L}\p{N}_@/.])@([A-Za-z0-9_])`)
)

// escapeHTML escapes plain text for parse_mode HTML: Telegram needs only
// &, < and > escaped; every other character is literal in HTML mode. An
// @ that starts a word gets an invisible word joiner after it, so text
// typed by users (a note, a campaign message) cannot mention and notify
// people; e-mail addresses and /comando@Bot keep their @ untouched.
func escapeHTML(s string) string {
	return mention.ReplaceAllString(htmlEscaper.Replace(s), "$1@\u2060$2")
}

// span is a run of plain text in one style: "" (plain), "b" or "i".
type span struct {
	tag  string
	text string
}

// line is one line of a rendered message. Every tag opens and closes
// within its line, so a message can be cut between any two lines.
type line []span

func (l line) html() string {
	var b strings.Builder
	for _, s := range l {
		b.WriteString(openTag(s.tag))
		b.WriteString(escapeHTML(s.text))
		b.WriteString(closeTag(s.tag))
	}
	return b.String()
}

func openTag(tag string) string {
	if tag == "" {
		return ""
	}
	return "<" + tag + ">"
}

func closeTag(tag string) string {
	if tag == "" {
		return ""
	}
	return "</" + tag + ">"
}

// lines lays out a reply: the title in bold, the text, one
// "<b>Label:</b> value" line per field, and the context in italics.
// Buttons whose command does not fit in callback_data become a line that
// tells the reader what to type.
func lines(given datosbot.Reply) []line {
	r := validUTF8(given)
	var out []line
	styled := func(tag, text string) {
		for _, l := range strings.Split(text, "\n") {
			out = append(out, line{{tag, l}})
		}
	}
	if r.Title != "" {
		styled("b", r.Title)
	}
	if r.Text != "" {
		styled("", r.Text)
	}
	for _, f := range r.Fields {
		vs := strings.Split(f.Value, "\n")
		out = append(out, line{{"b", f.Label + ":"}, {"", " " + vs[0]}})
		for _, v := range vs[1:] {
			out = append(out, line{{"", v}})
		}
	}
	for i, b := range r.Buttons {
		if !buttonFits(given.Buttons[i]) {
			out = append(out, line{{"", b.Label + ": escriba /datos " + b.Command}})
		}
	}
	if r.Context != "" {
		styled("i", r.Context)
	}
	return out
}

// validUTF8 replaces each invalid UTF-8 sequence in the reply's text with
// U+FFFD: Telegram refuses a message that is not valid UTF-8, and user text
// (a note, a campaign message) may carry any bytes.
func validUTF8(r datosbot.Reply) datosbot.Reply {
	fix := func(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }
	r.Title, r.Text, r.Context = fix(r.Title), fix(r.Text), fix(r.Context)
	fields := make([]datosbot.Field, len(r.Fields))
	for i, f := range r.Fields {
		fields[i] = datosbot.Field{Label: fix(f.Label), Value: fix(f.Value)}
	}
	buttons := make([]datosbot.Button, len(r.Buttons))
	for i, b := range r.Buttons {
		buttons[i] = datosbot.Button{Label: fix(b.Label), Command: fix(b.Command)}
	}
	r.Fields, r.Buttons = fields, buttons
	return r
}

// buttonFits reports whether the button's command can be its callback_data:
// at most 64 bytes, and valid UTF-8 (JSON would change other bytes, and
// the button would run another command).
func buttonFits(b datosbot.Button) bool {
	return b.Command != "" && len(b.Command) <= maxCallbackData && utf8.ValidString(b.Command)
}

// keyboard turns the reply's buttons into an inline keyboard whose
// callback_data is the command to run; nil when there are none.
func keyboard(r datosbot.Reply) *inlineKeyboard {
	var rows [][]callbackButton
	for _, b := range r.Buttons {
		if !buttonFits(b) {
			continue
		}
		btn := callbackButton{Text: datosbot.Truncate(strings.ToValidUTF8(b.Label, "\uFFFD"), 64), CallbackData: b.Command}
		if n := len(rows); n > 0 && len(rows[n-1]) < maxButtonsPerRow {
			rows[n-1] = append(rows[n-1], btn)
		} else {
			rows = append(rows, []callbackButton{btn})
		}
	}
	if rows == nil {
		return nil
	}
	return &inlineKeyboard{InlineKeyboard: rows}
}

// inlineKeyboard is the reply_markup of a message with callback buttons.
// It is our own type because models.InlineKeyboardButton of go-telegram/bot
// v1.19 always sends "copy_text":{"text":""} (a struct field, which
// omitempty does not omit), and a button may carry only one action.
type inlineKeyboard struct {
	InlineKeyboard [][]callbackButton `json:"inline_keyboard"`
}

type callbackButton struct {
	Text         string `json:"text"`
	CallbackData string `json:"callback_data"`
}

// render returns the reply as Telegram HTML, cut into messages of at most
// limit characters. Cuts fall between lines; a line longer than limit is
// cut between words (or runes, for a longer word), closing and reopening
// its tags, never inside a tag or an entity. Messages that would be only
// whitespace are dropped.
func render(r datosbot.Reply, limit int) []string {
	var parts []string
	var cur strings.Builder
	n := 0
	flush := func() {
		if !blankHTML(cur.String()) {
			parts = append(parts, cur.String())
		}
		cur.Reset()
		n = 0
	}
	for _, l := range lines(r) {
		s := l.html()
		ln := textLen(s)
		if ln > limit {
			flush()
			for _, c := range splitLine(l, limit) {
				if !blankHTML(c) {
					parts = append(parts, c)
				}
			}
			continue
		}
		sep := 0
		if cur.Len() > 0 {
			sep = 1
		}
		if n+sep+ln > limit {
			flush()
			sep = 0
		}
		if sep == 1 {
			cur.WriteByte('\n')
		}
		cur.WriteString(s)
		n += sep + ln
	}
	flush()
	return parts
}

// blankHTML reports whether a part would show nothing but white space
// once its tags are parsed: Telegram refuses such a message.
func blankHTML(s string) bool {
	for s != "" {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			return strings.TrimSpace(s) == ""
		}
		if strings.TrimSpace(s[:i]) != "" {
			return false
		}
		j := strings.IndexByte(s[i:], '>')
		if j < 0 {
			return false
		}
		s = s[i+j+1:]
	}
	return true
}

// splitLine cuts one over-long line into chunks of at most limit
// characters, preferring to cut after a space.
func splitLine(l line, limit int) []string {
	var chunks []string
	var cur strings.Builder
	n := 0
	for _, sp := range l {
		open, close := openTag(sp.tag), closeTag(sp.tag)
		overhead := textLen(open) + textLen(close)
		var seg strings.Builder
		segN := 0
		flushSeg := func() {
			if segN > 0 {
				cur.WriteString(open + seg.String() + close)
				n += overhead + segN
			}
			seg.Reset()
			segN = 0
		}
		for _, w := range words(sp.text) {
			for w != "" {
				// A word of more than 3 bytes per code unit of room cannot
				// fit (a code unit takes at most 3 bytes of UTF-8); not
				// escaping it keeps a long word's cost linear.
				if len(w) <= 3*limit {
					e := escapeHTML(w)
					if en := textLen(e); n+overhead+segN+en <= limit {
						seg.WriteString(e)
						segN += en
						break
					}
				}
				if n == 0 && segN == 0 {
					// The word alone does not fit: take as many runes as do.
					head, rest := fitRunes(w, limit-overhead)
					e := escapeHTML(head)
					seg.WriteString(e)
					segN += textLen(e)
					w = rest
				}
				flushSeg()
				chunks = append(chunks, cur.String())
				cur.Reset()
				n = 0
			}
		}
		flushSeg()
	}
	if n > 0 {
		chunks = append(chunks, cur.String())
	}
	return chunks
}

// words splits s after each space, so that joining the words gives s.
func words(s string) []string {
	var out []string
	for s != "" {
		i := strings.IndexByte(s, ' ')
		if i < 0 {
			out = append(out, s)
			break
		}
		out = append(out, s[:i+1])
		s = s[i+1:]
	}
	return out
}

// fitRunes returns the longest prefix of s whose escaped length is at most
// max (at least one rune), and the rest. An @ counts as two code units:
// escapeHTML may put a word joiner after it, depending on the runes around
// it (the rune before, or the start of the piece, where a cut also leaves
// the rest), so counting each rune alone would miss it.
func fitRunes(s string, max int) (string, string) {
	n := 0
	for i, r := range s {
		rl := textLen(escapeHTML(string(r)))
		if r == '@' {
			rl++ // the word joiner escapeHTML may add after it
		}
		if n+rl > max && i > 0 {
			return s[:i], s[i:]
		}
		n += rl
	}
	return s, ""
}

// textLen counts s as Telegram does, in UTF-16 code units. Counting the
// HTML source over-estimates the parsed text, which keeps messages safe.
func textLen(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// shortText is a one-line summary of a reply for answerCallbackQuery.
func shortText(r datosbot.Reply) string {
	s := r.Title
	if s == "" {
		s, _, _ = strings.Cut(r.Text, "\n")
	}
	if s == "" {
		s = "Listo."
	}
	if utf8.RuneCountInString(s) > maxCallbackText {
		s = datosbot.Truncate(s, maxCallbackText)
	}
	return s
}
