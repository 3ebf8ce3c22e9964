package slack

import (
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/datosbot/datosbot"
)

// escape makes plain text safe for Slack: with &, < and > as entities, user
// text cannot produce <!channel>, <@U…> mentions or <url|label> links.
// "@here" and "@channel" typed as words get an invisible word joiner after
// the "@", so that no client or link_names setting turns them into
// mentions. Bare URLs stay as they are and are still linked.
func escape(s string) string {
	s = entityEscaper.Replace(s)
	return mentionWord.ReplaceAllString(s, "@\u2060$1")
}

var (
	entityEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	entityDecoder = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&")
	mentionWord   = regexp.MustCompile(`(?i)@(here|channel|everyone)\b`)
	decoration    = regexp.MustCompile(`<([^<>]*)>`)
)

// undecorate turns the text Slack sends with a command back into what the
// user typed: links lose their brackets and labels, channel and user
// mentions become #name and @name, and the &amp; &lt; &gt; entities are
// decoded (after the brackets, so that an escaped "<" typed by the user is
// not taken for a decoration).
func undecorate(s string) string {
	s = decoration.ReplaceAllStringFunc(s, func(m string) string {
		inner := m[1 : len(m)-1]
		target, label, hasLabel := strings.Cut(inner, "|")
		switch {
		case strings.HasPrefix(target, "#"):
			if hasLabel && label != "" {
				return "#" + label
			}
			return target
		case strings.HasPrefix(target, "@"):
			if hasLabel && label != "" {
				return "@" + strings.TrimPrefix(label, "@")
			}
			return target
		case strings.HasPrefix(target, "!"):
			if hasLabel && label != "" {
				return label
			}
			name, _, _ := strings.Cut(target[1:], "^")
			return "@" + name
		case strings.Contains(target, ":"): // http(s):, mailto:, tel:
			return target
		}
		return m
	})
	return entityDecoder.Replace(s)
}

// Block Kit limits (docs.slack.dev/reference/block-kit).
const (
	maxHeader      = 150
	maxSectionText = 3000
	maxFieldText   = 2000
	maxFields      = 10
	maxButtons     = 25
	maxButtonLabel = 75
	maxButtonValue = 2000
	maxFallback    = 3000
)

// buttonActionPrefix marks the action_id of a button that runs a command.
const buttonActionPrefix = "datos_cmd_"

// blocks renders a Reply as Block Kit: header, text, fields, buttons,
// context. The text and the fields, where user text lands (names, notes,
// campaign messages), are rich_text: their text elements are shown
// literally, so user text can neither mention, link nor format anything,
// while URLs become link elements and stay clickable. mrkdwn has no escape
// for *, _ or ~ (platform_facts.md), hence rich_text.
func blocks(r datosbot.Reply) []slack.Block {
	var out []slack.Block
	if t := strings.TrimSpace(r.Title); t != "" {
		out = append(out, slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, fit(t, maxHeader), false, false)))
	}
	out = append(out, bodyBlocks(r, maxBlocks-3)...) // room for header, buttons and context
	var buttons []slack.BlockElement
	for i, b := range r.Buttons {
		if i == maxButtons || len(b.Command) > maxButtonValue {
			break
		}
		label := slack.NewTextBlockObject(slack.PlainTextType, fit(b.Label, maxButtonLabel), false, false)
		buttons = append(buttons, slack.NewButtonBlockElement(buttonActionPrefix+strconv.Itoa(i), b.Command, label))
	}
	if len(buttons) > 0 {
		out = append(out, slack.NewActionBlock("datos_botones", buttons...))
	}
	if c := strings.TrimSpace(r.Context); c != "" {
		out = append(out, slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, fit(c, maxSectionText), false, false)))
	}
	return out
}

// literal renders plain text as rich_text elements: http(s) URLs as links,
// everything else as text shown exactly as written.
func literal(s string, style *slack.RichTextSectionTextStyle) []slack.RichTextSectionElement {
	var out []slack.RichTextSectionElement
	for s != "" {
		loc := webURL.FindStringIndex(s)
		if loc == nil {
			out = append(out, slack.NewRichTextSectionTextElement(s, style))
			break
		}
		u := strings.TrimRight(s[loc[0]:loc[1]], ".,;:!?)]}»\"'")
		if loc[0] > 0 {
			out = append(out, slack.NewRichTextSectionTextElement(s[:loc[0]], style))
		}
		out = append(out, slack.NewRichTextSectionLinkElement(u, "", style))
		s = s[loc[0]+len(u):]
	}
	return out
}

var webURL = regexp.MustCompile(`(?i)\bhttps?://[^\s<>"|]+`)

// cut shortens s to at most n characters, ending in "…" when it had more.
func cut(s string, n int) string {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)[:n-1]
	return strings.TrimRightFunc(string(r), unicode.IsSpace) + "…"
}

// fallback is the message's top-level text: what notifications and clients
// without blocks show.
func fallback(r datosbot.Reply) string {
	s := r.PlainText()
	if s == "" {
		s = "(sin contenido)"
	}
	return fit(s, maxFallback)
}

// escapedLen is the length in characters of escape(string(r)): Slack's
// limits count the escaped text.
func escapedLen(r rune) int {
	switch r {
	case '&':
		return len("&amp;")
	case '<', '>':
		return len("&lt;")
	case '@':
		return 2 // room for the word joiner of @here
	}
	return 1
}

// fit escapes s, cut so that the result has at most n characters.
func fit(s string, n int) string {
	if c := chunks(s, n); len(c) > 0 {
		if len(c) == 1 {
			return escape(c[0])
		}
		head := chunks(s, n-1)[0]
		return escape(strings.TrimRightFunc(head, unicode.IsSpace) + "…")
	}
	return ""
}

// chunks splits s into pieces whose escaped form has at most n
// characters, cutting at a line break when there is one.
func chunks(s string, n int) []string {
	var out []string
	s = strings.TrimSpace(s)
	for s != "" {
		size, end, lastBreak := 0, len(s), -1
		for i, r := range s {
			if size+escapedLen(r) > n {
				end = i
				break
			}
			size += escapedLen(r)
			if r == '\n' {
				lastBreak = i
			}
		}
		if end < len(s) && lastBreak > 0 {
			end = lastBreak
		}
		out = append(out, s[:end])
		s = strings.TrimSpace(s[end:])
	}
	return out
}

// message is the JSON of a reply to a slash command or through a
// response_url.
type message struct {
	ResponseType    string        `json:"response_type,omitempty"`
	Text            string        `json:"text"`
	Blocks          []slack.Block `json:"blocks,omitempty"`
	ReplaceOriginal bool          `json:"replace_original,omitempty"`
}

// responseMessage renders r as an answer to the person who asked:
// ephemeral unless r.Public.
func responseMessage(r datosbot.Reply) message {
	typ := slack.ResponseTypeEphemeral
	if r.Public {
		typ = slack.ResponseTypeInChannel
	}
	return message{ResponseType: typ, Text: fallback(r), Blocks: blocks(r)}
}
