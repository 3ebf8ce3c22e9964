package slack

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/datosbot/datosbot"
)

// maxBlocks is Block Kit's limit of blocks in one message.
const maxBlocks = 50

// bodyBlocks renders the text and the fields of r as rich_text blocks of
// at most maxSectionText characters each, room blocks at most: a reply of
// any length (a report of every institution, a note pasted many times)
// stays within Block Kit's limits. When they need more, the text and the
// fields share the room and each cut part ends in "…".
func bodyBlocks(r datosbot.Reply, room int) []slack.Block {
	text := chunks(r.Text, maxSectionText)
	fields := fieldSections(r.Fields)
	if len(text)+len(fields) > room {
		fieldRoom := min(len(fields), max(room-len(text), room/2))
		text = cutChunks(text, room-fieldRoom)
		if len(fields) > fieldRoom {
			fields = fields[:fieldRoom]
			if fieldRoom > 0 {
				last := fields[fieldRoom-1]
				fields[fieldRoom-1] = append(last, slack.NewRichTextSectionTextElement("\n…", nil))
			}
		}
	}
	var out []slack.Block
	for _, chunk := range text {
		out = append(out, slack.NewRichTextBlock("", slack.NewRichTextSection(literal(chunk, nil)...)))
	}
	for _, f := range fields {
		out = append(out, slack.NewRichTextBlock("", slack.NewRichTextSection(f...)))
	}
	return out
}

// cutChunks keeps the first n chunks, the last of them ending in "…" when
// some were dropped.
func cutChunks(cs []string, n int) []string {
	if len(cs) <= n {
		return cs
	}
	if n <= 0 {
		return nil
	}
	cs = cs[:n]
	head := chunks(cs[n-1], maxSectionText-1)[0]
	cs[n-1] = strings.TrimRightFunc(head, unicode.IsSpace) + "…"
	return cs
}

// fieldSections lays out fields as "Label: value" lines with bold labels,
// packed into sections of at most maxSectionText characters (less room for
// a closing "…").
func fieldSections(fs []datosbot.Field) [][]slack.RichTextSectionElement {
	const limit = maxSectionText - len("\n…")
	var out [][]slack.RichTextSectionElement
	var cur []slack.RichTextSectionElement
	size := 0
	for _, f := range fs {
		value := strings.TrimSpace(f.Value)
		if value == "" {
			value = "—"
		}
		label, value := cut(f.Label, 200)+": ", cut(value, maxFieldText)
		n := utf8.RuneCountInString(label) + utf8.RuneCountInString(value)
		if len(cur) > 0 && size+1+n > limit {
			out, cur, size = append(out, cur), nil, 0
		}
		if len(cur) > 0 {
			cur = append(cur, slack.NewRichTextSectionTextElement("\n", nil))
			size++
		}
		cur = append(cur, slack.NewRichTextSectionTextElement(label, &slack.RichTextSectionTextStyle{Bold: true}))
		cur = append(cur, literal(value, nil)...)
		size += n
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}
