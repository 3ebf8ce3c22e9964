package slack

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/slack-go/slack"

	"github.com/datosbot/datosbot"
)

// TestBlocksWithinLimits: replies far over what one message holds (found by
// FuzzBlocks: a long text made 66 blocks, many fields one rich_text of
// 60,000 characters) stay within Block Kit's limits, and a cut says so.
func TestBlocksWithinLimits(t *testing.T) {
	many := func(n int, f datosbot.Field) []datosbot.Field {
		out := make([]datosbot.Field, n)
		for i := range out {
			out[i] = f
		}
		return out
	}
	tests := []struct {
		name string
		r    datosbot.Reply
	}{
		{"long text", datosbot.Reply{Title: strings.Repeat("Título largo ", 30), Text: strings.Repeat("😀 línea con <, > y &\n", 20000)}},
		{"many long fields", datosbot.Reply{Fields: many(60, datosbot.Field{Label: "Nota", Value: strings.Repeat("@here ", 500)})}},
		{"both", datosbot.Reply{Text: strings.Repeat("x", 200000), Fields: many(80, datosbot.Field{Label: "Datos", Value: strings.Repeat("https://www.datos.gob.mx/dataset/x ", 80)}),
			Buttons: make([]datosbot.Button, 40), Context: strings.Repeat("<", 5000)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i := range tt.r.Buttons {
				tt.r.Buttons[i] = datosbot.Button{Label: "Enterado", Command: "enterado C3M9"}
			}
			m := responseMessage(tt.r)
			checkBlockKit(t, m)
			if len(m.Blocks) < 40 {
				t.Errorf("%d blocks: want the room used", len(m.Blocks))
			}
			if s := string(mustJSON(t, m)); !strings.Contains(s, "…") {
				t.Errorf("a cut reply should end a part in …")
			}
		})
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBlockKitCheckCatchesWhatItCannotMeasure: the check FuzzBlocks and
// TestBlocksWithinLimits rely on reports a block type it has no
// limits for (a divider, say, if responseMessage started to make one) and
// measures against Block Kit's own numbers: a header of 151 characters and
// a rich_text of 3001 are over.
func TestBlockKitCheckCatchesWhatItCannotMeasure(t *testing.T) {
	m := message{Text: "Listo.", Blocks: []slack.Block{
		slack.NewDividerBlock(),
		slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, strings.Repeat("h", 151), false, false)),
		slack.NewRichTextBlock("", slack.NewRichTextSection(slack.NewRichTextSectionTextElement(strings.Repeat("x", 3001), nil))),
	}}
	got := strings.Join(blockKitProblems(t, m), "\n")
	for _, want := range []string{
		`block 0: unexpected block type "divider"`,
		"block 1: header of 151 characters, want 1 to 150",
		"block 2: rich_text of 3001 characters, want 1 to 3000",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("problems:\n%s\nwant one to say %q", got, want)
		}
	}
}
