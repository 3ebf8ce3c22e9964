package slack

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/slack-go/slack"

	"github.com/datosbot/datosbot"
)

// The outbox key of each of the bot's posts travels in its message
// metadata (metadata.event_type and event_payload), so that a post whose
// outcome the bot never recorded can be found in the channel's history.
const (
	outboxEventType = "datosbot_outbox"
	outboxKeyField  = "key"
)

// historyPageSize and historyPages bound one lookup: the newest messages
// of the channel since the bound, at most 1,000.
const (
	historyPageSize = 200
	historyPages    = 5
)

// FindPosted reports whether Slack has m, one of the bot's posts, in its
// channel since since: it reads the channel's history
// (conversations.history, scopes channels:history and groups:history)
// back to since and looks for m.Key in the messages' metadata. It returns
// *datosbot.RateLimitError when Slack asks to wait, and an error when it
// cannot tell: the scope is missing, the bot is not in the channel, the
// request failed, or more than 1,000 messages were posted since since.
func (a *Adapter) FindPosted(ctx context.Context, m datosbot.Message, since time.Time) (bool, error) {
	if m.Channel.Platform() != datosbot.Slack || m.Channel.Local() == "" || m.Key == "" {
		return false, fmt.Errorf("slack: cannot look up %q in %s", m.Key, m.Channel)
	}
	params := &slack.GetConversationHistoryParameters{ChannelID: m.Channel.Local(), Oldest: slackTimestamp(since),
		Inclusive: true, Limit: historyPageSize, IncludeAllMetadata: true}
	for range historyPages {
		resp, err := a.api.GetConversationHistoryContext(ctx, params)
		if err != nil {
			return false, historyError(m.Channel, err)
		}
		for _, msg := range resp.Messages {
			if msg.Metadata.EventType == outboxEventType && msg.Metadata.EventPayload[outboxKeyField] == m.Key {
				return true, nil
			}
		}
		if !resp.HasMore || resp.ResponseMetaData.NextCursor == "" {
			return false, nil
		}
		params.Cursor = resp.ResponseMetaData.NextCursor
	}
	return false, fmt.Errorf("slack conversations.history of %s: more than %d messages since %s, the post may be older",
		m.Channel, historyPageSize*historyPages, since.UTC().Format(time.RFC3339))
}

// slackTimestamp writes t as a Slack message timestamp ("<seconds>.<µs>").
func slackTimestamp(t time.Time) string {
	us := t.UnixMicro()
	return strconv.FormatInt(us/1e6, 10) + "." + fmt.Sprintf("%06d", us%1e6)
}

// historyError translates a slack-go error of conversations.history.
func historyError(ch datosbot.ChannelID, err error) error {
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		return &datosbot.RateLimitError{RetryAfter: rl.RetryAfter}
	}
	return fmt.Errorf("slack conversations.history of %s: %w", ch, err)
}
