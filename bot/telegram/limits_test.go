package telegram

import (
	"runtime"
	"strings"
	"testing"

	"github.com/datosbot/datosbot"
)

// TestRenderFindings keeps what FuzzRender and review found: parts of
// white space only (a line of spaces longer than the limit, a bold title of
// spaces), which Telegram refuses, are not sent; a part never exceeds the
// limit once the word joiners after @ are counted; invalid UTF-8 is never
// sent.
func TestRenderFindings(t *testing.T) {
	tests := []struct {
		name  string
		r     datosbot.Reply
		limit int
	}{
		{"long line of spaces", datosbot.Reply{Text: strings.Repeat(" ", 5000)}, maxMessageLen},
		{"spaces between words at a small limit", datosbot.Reply{Text: "@here " + strings.Repeat(" ", 40) + "@ana"}, 19},
		{"title of spaces", datosbot.Reply{Title: "   ", Text: "Listo."}, maxMessageLen},
		{"only spaces everywhere", datosbot.Reply{Title: " ", Text: " \n ", Context: " "}, maxMessageLen},
		// Each @ that starts a word gets a word joiner after it, one more
		// code unit a rune-by-rune cut must count.
		{"mentions after a dollar sign", datosbot.Reply{Text: strings.Repeat("$@M", 3000)}, maxMessageLen},
		// A cut between "." and "@a" leaves "@a" at the start of a part,
		// where it becomes a mention and gets its word joiner.
		{"mention after a dot cut", datosbot.Reply{Text: strings.Repeat(".@a", 3000)}, maxMessageLen},
		{"mention after a dot cut, small limit", datosbot.Reply{Text: strings.Repeat(".@a", 40)}, 23},
		// Telegram refuses invalid UTF-8: it is sent as U+FFFD.
		{"invalid UTF-8", datosbot.Reply{Title: "a\xffb", Text: "\xc3(\xe2\x82 \xf0\x28\x8c\x28", Context: "\x80",
			Fields:  []datosbot.Field{{Label: "\xfe", Value: "\xff@x"}},
			Buttons: []datosbot.Button{{Label: "Ver \xff", Command: "estado \xff"}}}, 16},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkParts(t, tt.r, render(tt.r, tt.limit), tt.limit)
		})
	}
}

// TestRenderLongWordCostIsLinear: a word longer than the limit is cut in
// time linear in its length (found by FuzzRender, which hung on a word of
// 27,000 characters at a small limit: each cut escaped the whole rest).
// Counted in bytes allocated, not time.
func TestRenderLongWordCostIsLinear(t *testing.T) {
	allocated := func(n int) uint64 {
		r := datosbot.Reply{Text: strings.Repeat("😀&", n)}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		render(r, 64)
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	a, b := allocated(2000), allocated(8000)
	if b > 6*a {
		t.Errorf("bytes allocated: %d for 2,000 runes, %d for 8,000: want about 4 times, not 16", a, b)
	}
}

// TestKeyboardInvalidUTF8: a button whose command is not valid UTF-8 is no
// callback button (JSON would turn its bytes into U+FFFD and the button
// would run another command); the reply tells the reader what to type, in
// valid UTF-8, and the other button's label is valid UTF-8.
func TestKeyboardInvalidUTF8(t *testing.T) {
	r := datosbot.Reply{Text: "Listo.", Buttons: []datosbot.Button{
		{Label: "Ver \xff", Command: "estado \xff"},
		{Label: "Enterado \xfe", Command: "enterado C3M9"},
	}}
	kb := keyboard(r)
	if kb == nil || len(kb.InlineKeyboard) != 1 || kb.InlineKeyboard[0][0].CallbackData != "enterado C3M9" {
		t.Fatalf("keyboard = %+v, want only the enterado button", kb)
	}
	if label := kb.InlineKeyboard[0][0].Text; label != "Enterado \uFFFD" {
		t.Errorf("button label %q, want %q", label, "Enterado \uFFFD")
	}
	parts := render(r, maxMessageLen)
	if len(parts) != 1 || !strings.Contains(parts[0], "Ver \uFFFD: escriba /datos estado \uFFFD") {
		t.Errorf("parts = %q, want a line that says what to type", parts)
	}
	checkParts(t, r, parts, maxMessageLen)
}
