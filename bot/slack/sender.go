package slack

import "github.com/slack-go/slack"

// slackID reports whether s has the shape of a Slack user, channel or team
// id (U0123ABC, W0123, C0123, G0123, D0123): ASCII letters and digits only.
// A request whose ids do not is not run: a command must never run as the
// user "slack:" or in the channel "slack:", and an id with a ":" or a space
// would not be one reference.
func slackID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// commandFromSomeone reports whether a slash command names who typed it and
// where. Slack always sends both; a body without them is refused before
// anything (the dedupe record included) is stored.
func commandFromSomeone(cmd slack.SlashCommand) bool {
	return slackID(cmd.UserID) && slackID(cmd.ChannelID)
}
