package datosbot

import (
	"fmt"
	"strings"
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

// failureTexts explains, in Spanish, the platform reasons of the common
// permanent delivery failures.
var failureTexts = []struct{ reason, text string }{
	{"channel_not_found", "el canal no existe o el bot no puede verlo"},
	{"not_in_channel", "el bot no está en el canal: invítelo con /invite"},
	{"is_archived", "el canal está archivado"},
	{"account_inactive", "la cuenta del bot en Slack está desactivada"},
	{"invalid_auth", "el token del bot no es válido"},
	{"token_revoked", "el token del bot fue revocado"},
	{"bot was kicked", "el bot fue expulsado del grupo"},
	{"chat not found", "el chat no existe o el bot no puede verlo"},
	{"bot is not a member", "el bot no es miembro del grupo"},
	{"user is deactivated", "la cuenta de Telegram está desactivada"},
	{"have no rights to send", "el bot no tiene permiso para escribir en el grupo"},
	{"bot was blocked", "la persona bloqueó al bot"},
}

// DescribeFailure returns a Spanish explanation of a platform's reason for
// a permanent delivery failure, followed by the reason itself, e.g.
// "el canal está archivado (is_archived)".
func DescribeFailure(reason string) string {
	l := strings.ToLower(reason)
	for _, f := range failureTexts {
		if strings.Contains(l, f.reason) {
			return f.text + " (" + reason + ")"
		}
	}
	return reason
}
