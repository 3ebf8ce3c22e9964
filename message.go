package datosbot

// Request is one command typed by a person in a chat, after the adapter has
// removed the platform's decorations (Slack link brackets, @BotName).
type Request struct {
	ID      string    // platform delivery id for deduplication; may be empty
	User    UserID    // who typed it
	Name    string    // display name, for messages only
	Channel ChannelID // where it was typed
	Private bool      // a one-to-one chat with the bot
	Text    string    // the sub-command and its arguments, e.g. "anunciar https://… https://…"
}

// Reply is a platform-neutral answer or post. Every string is plain text:
// adapters escape it for their platform, so user input cannot forge
// mentions or formatting.
type Reply struct {
	Title   string   // short heading, may be empty
	Text    string   // body; lines separated by "\n"
	Fields  []Field  // label/value pairs
	Buttons []Button // actions the reader can take
	Context string   // small print under the message
	Public  bool     // post in the channel instead of answering only the caller
	// Secret marks a reply only the caller may read (an invitation code).
	// Where a platform cannot answer privately inside a shared chat
	// (Telegram groups), the adapter sends it in a one-to-one chat instead.
	Secret bool
	Error  string // error code when the reply is a refusal; empty on success
	Form   string // ask the adapter to open a form (e.g. "anunciar") when it can
}

// Field is one label/value pair of a Reply.
type Field struct {
	Label string
	Value string
}

// Button is an action the reader can take. Pressing it runs Command as if
// the reader had typed it.
type Button struct {
	Label   string
	Command string // e.g. "enterado C3M9"
}

// Message is a post the bot sends on its own (a notice, a reminder, a
// campaign) into a channel.
type Message struct {
	Key     string // unique per (occurrence, channel): the delivery is idempotent on it
	Channel ChannelID
	Reply   Reply
}

// PlainText renders r as plain text, for the console, logs and fallbacks.
func (r Reply) PlainText() string {
	s := ""
	if r.Title != "" {
		s += r.Title + "\n"
	}
	if r.Text != "" {
		s += r.Text + "\n"
	}
	for _, f := range r.Fields {
		s += "• " + f.Label + ": " + f.Value + "\n"
	}
	for _, b := range r.Buttons {
		s += "[" + b.Label + "] → /datos " + b.Command + "\n"
	}
	if r.Context != "" {
		s += r.Context + "\n"
	}
	if len(s) > 0 && s[len(s)-1] == '\n' {
		s = s[:len(s)-1]
	}
	return s
}
