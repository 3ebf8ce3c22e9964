package slack

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/slack-go/slack"
)

// botScopes are the bot token scopes the adapter needs, comma-separated as
// in Slack's X-OAuth-Scopes header. Keep them in step with
// oauth_config.scopes.bot in slack-manifest.yaml at the repository root
// (TestBotScopesMatchManifest checks it).
const botScopes = "commands,chat:write,chat:write.public,channels:history,groups:history"

// scopeLoss says what stops working without each of botScopes.
var scopeLoss = map[string]string{
	"commands":          "the /datos slash command does not reach the bot",
	"chat:write":        "the bot cannot post replies, reminders or campaigns (chat.postMessage, chat.postEphemeral)",
	"chat:write.public": "the bot cannot post in public channels it was not invited to (reminders and campaigns to liaison channels fail with not_in_channel)",
	"channels:history":  "the bot cannot check a public channel's history before posting again a message whose first post may have gone through (after a crash or a timeout), so such a message may appear twice",
	"groups:history":    "the bot cannot check a private channel's history before posting again a message whose first post may have gone through (after a crash or a timeout), so such a message may appear twice",
}

// badTokenHints are the auth.test errors after which the bot token can
// never work, with what the operator should do.
var badTokenHints = map[string]string{
	"invalid_auth":           "no corresponde a ninguna app instalada: copie el Bot User OAuth Token (xoxb-…) de la página OAuth & Permissions de la app en https://api.slack.com/apps",
	"not_authed":             "Slack no recibió un token: copie el Bot User OAuth Token (xoxb-…) de la página OAuth & Permissions de la app en https://api.slack.com/apps",
	"token_revoked":          "el token fue revocado (¿se desinstaló la app?): reinstale la app en el espacio de trabajo y copie el token nuevo de OAuth & Permissions",
	"token_expired":          "el token expiró (la app rota sus tokens y datosbot no los renueva): cree la app desde slack-manifest.yaml, sin rotación de tokens, y copie su Bot User OAuth Token (xoxb-…) de OAuth & Permissions",
	"account_inactive":       "el usuario del bot está desactivado o la app fue eliminada del espacio de trabajo: reinstale la app y copie el token nuevo de OAuth & Permissions",
	"not_allowed_token_type": "no es un token de bot: use el Bot User OAuth Token (xoxb-…), no el token de aplicación (xapp-…) ni uno de usuario",
}

// checkTimeout bounds the start-up check, so that an unreachable Slack
// delays the start by at most this.
const checkTimeout = 10 * time.Second

// CheckToken checks the bot token once (see checkToken); later calls, and
// Run after a passed check, return nil at once. cmd/datosbot calls it
// before starting, so that a token Slack rejects stops the start.
func (a *Adapter) CheckToken(ctx context.Context) error {
	if a.checked.Load() {
		return nil
	}
	if err := a.checkToken(ctx); err != nil {
		return err
	}
	a.checked.Store(true)
	return nil
}

// checkToken calls auth.test with the bot token. It returns an error only
// when the token can never work; when Slack cannot be reached or fails, it
// logs a warning and returns nil, since Slack may be briefly down and
// commands are still answered. On success it logs the workspace and the
// bot user, and warns about each missing scope.
func (a *Adapter) checkToken(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	resp, err := a.api.AuthTestContext(cctx)
	if err != nil {
		var api slack.SlackErrorResponse
		if errors.As(err, &api) {
			if hint, ok := badTokenHints[api.Err]; ok {
				// The token is never part of the message.
				return errors.New("configuración inválida: SLACK_BOT_TOKEN: Slack rechazó el token (" + api.Err + "): " + hint)
			}
		}
		if ctx.Err() == nil {
			a.log.Warn("slack auth.test failed at start; the bot token and its scopes are not checked, posts may fail until Slack answers",
				"err", err)
		}
		return nil
	}
	a.log.Info("slack bot token checked", "team", resp.Team, "team_id", resp.TeamID,
		"bot_user", resp.User, "bot_user_id", resp.UserID)
	if resp.BotID == "" {
		a.log.Warn("SLACK_BOT_TOKEN is not a bot token (auth.test names no bot): posts would appear as the person who owns it; " +
			"use the Bot User OAuth Token (xoxb-…) from OAuth & Permissions at https://api.slack.com/apps")
	}
	if granted := resp.Header.Values("X-OAuth-Scopes"); len(granted) > 0 {
		for _, s := range missingScopes(strings.Join(granted, ",")) {
			a.log.Warn("slack bot token lacks the "+s+" scope: "+scopeLoss[s]+
				"; add it under OAuth & Permissions → Bot Token Scopes at https://api.slack.com/apps (or from slack-manifest.yaml) and reinstall the app in the workspace",
				"scope", s)
		}
	}
	return nil
}

// missingScopes returns the botScopes not in granted, a comma-separated
// X-OAuth-Scopes value.
func missingScopes(granted string) []string {
	have := map[string]bool{}
	for _, s := range strings.Split(granted, ",") {
		have[strings.TrimSpace(s)] = true
	}
	var out []string
	for _, s := range strings.Split(botScopes, ",") {
		if !have[s] {
			out = append(out, s)
		}
	}
	return out
}
