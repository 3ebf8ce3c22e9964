package datosbot

import (
	"fmt"
	"time"
)

// RateLimitError is returned by an adapter when the platform asks to wait
// (Slack's Retry-After, Telegram's retry_after). The delivery layer waits
// RetryAfter and tries again; it is not a failure.
type RateLimitError struct {
	RetryAfter time.Duration
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("rate limited: retry after %s", e.RetryAfter)
}

// PermanentError is returned by an adapter when a post can never succeed
// (channel gone, bot removed, archived channel). It is recorded and
// reported, not retried.
type PermanentError struct {
	Channel ChannelID
	Reason  string // platform error, e.g. "channel_not_found", "bot was kicked"
}

func (e *PermanentError) Error() string {
	return fmt.Sprintf("permanent delivery failure to %s: %s", e.Channel, e.Reason)
}

// ChannelMovedError is returned when a chat changed its id (a Telegram group
// upgraded to a supergroup). The caller updates the stored channel and posts
// to To.
type ChannelMovedError struct {
	From, To ChannelID
}

func (e *ChannelMovedError) Error() string {
	return fmt.Sprintf("channel %s moved to %s", e.From, e.To)
}
