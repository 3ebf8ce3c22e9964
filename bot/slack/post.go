package slack

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/slack-go/slack"

	"github.com/datosbot/datosbot"
)

// permanentErrors are Web API errors after which a post can never succeed
// without a person fixing something: the channel is gone or archived, the
// bot is out of it, or the token is not valid.
var permanentErrors = map[string]bool{
	"channel_not_found": true, "not_in_channel": true, "is_archived": true,
	"account_inactive": true, "invalid_auth": true, "not_authed": true,
	"token_revoked": true, "token_expired": true, "missing_scope": true,
	"no_permission": true, "restricted_action": true, "team_access_not_granted": true,
	"org_login_required": true, "ekm_access_denied": true, "not_allowed_token_type": true,
}

// defaultRetryAfter is the wait when Slack answers 429 without Retry-After
// (the workspace's message limit).
const defaultRetryAfter = time.Minute

// Post sends m into its Slack channel with chat.postMessage. With the
// chat:write.public scope it can post to public channels the bot was not
// invited to. The post carries m.Key in its message metadata, so that
// FindPosted can later tell whether Slack has it. It returns *datosbot.RateLimitError on 429,
// *datosbot.PermanentError when the post can never succeed, and a plain
// error for anything worth retrying.
func (a *Adapter) Post(ctx context.Context, m datosbot.Message) error {
	if m.Channel.Platform() != datosbot.Slack || m.Channel.Local() == "" {
		return &datosbot.PermanentError{Channel: m.Channel, Reason: "not a Slack channel"}
	}
	opts := []slack.MsgOption{slack.MsgOptionText(fallback(m.Reply), false), slack.MsgOptionBlocks(blocks(m.Reply)...)}
	if m.Key != "" {
		opts = append(opts, slack.MsgOptionMetadata(slack.SlackMetadata{EventType: outboxEventType,
			EventPayload: map[string]any{outboxKeyField: m.Key}}))
	}
	_, _, err := a.api.PostMessageContext(ctx, m.Channel.Local(), opts...)
	return postError(m.Channel, err)
}

// postError translates a slack-go error into the delivery errors.
func postError(ch datosbot.ChannelID, err error) error {
	if err == nil {
		return nil
	}
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		return &datosbot.RateLimitError{RetryAfter: rl.RetryAfter}
	}
	var sc slack.StatusCodeError
	if errors.As(err, &sc) && sc.Code == http.StatusTooManyRequests {
		return &datosbot.RateLimitError{RetryAfter: defaultRetryAfter}
	}
	var api slack.SlackErrorResponse
	if errors.As(err, &api) {
		if api.Err == "ratelimited" {
			return &datosbot.RateLimitError{RetryAfter: defaultRetryAfter}
		}
		if permanentErrors[api.Err] {
			return &datosbot.PermanentError{Channel: ch, Reason: api.Err}
		}
	}
	return fmt.Errorf("slack chat.postMessage to %s: %w", ch, err)
}
