package slack

import (
	"context"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/bot"
)

// The flows below are shared by HTTP and Socket Mode: each returns the
// payload of the acknowledgment (the HTTP response body or the Socket Mode
// ack), nil for a bare acknowledgment.

// Replies of the adapter itself.
var (
	processingReply  = datosbot.Reply{Text: "Procesando… le respondo aquí en unos segundos."}
	unavailableReply = datosbot.Reply{
		Text:  datosbot.ErrorMessage(datosbot.Errorf(datosbot.EUNAVAILABLE, "El bot no puede guardar datos en este momento. Intente de nuevo en unos minutos.")),
		Error: datosbot.EUNAVAILABLE,
	}
)

// command runs a slash command: it answers in the acknowledgment when the
// Handler is quick, and through response_url when it is not.
func (a *Adapter) command(ctx context.Context, h bot.Handler, cmd slack.SlashCommand, key string) any {
	if ok, err := a.first(ctx, key); err != nil {
		return responseMessage(unavailableReply)
	} else if !ok {
		return nil
	}
	req := a.request(key, cmd.UserID, cmd.UserName, cmd.ChannelID, undecorate(cmd.Text))
	reply, inTime := a.call(ctx, h, req, func(ctx context.Context, r datosbot.Reply) {
		a.respond(ctx, cmd.ResponseURL, r)
	})
	if !inTime {
		return responseMessage(processingReply)
	}
	if reply.Form == formAnunciar && cmd.TriggerID != "" {
		err := a.openForm(ctx, cmd.TriggerID, cmd.ChannelID)
		if err == nil {
			return nil
		}
		a.log.Error("slack views.open failed", "err", err)
	}
	return responseMessage(withFormFallback(reply))
}

// interaction handles a button press or a form submission.
func (a *Adapter) interaction(ctx context.Context, h bot.Handler, ic slack.InteractionCallback, key string) any {
	if !slackID(ic.User.ID) {
		// Nobody to act as: a button or form is never run anonymously.
		return nil
	}
	switch ic.Type {
	case slack.InteractionTypeBlockActions:
		if a.homeAction(ctx, h, ic, key) {
			return nil
		}
		a.press(ctx, h, ic, key)
	case slack.InteractionTypeViewSubmission:
		if ic.View.CallbackID == formCallbackID {
			return a.submit(ctx, h, ic)
		}
	}
	return nil
}

// press runs the command of a pressed button as the person who pressed it,
// in the channel of the message, and answers through response_url.
func (a *Adapter) press(ctx context.Context, h bot.Handler, ic slack.InteractionCallback, key string) {
	var command string
	for _, act := range ic.ActionCallback.BlockActions {
		if act != nil && strings.HasPrefix(act.ActionID, buttonActionPrefix) && act.Value != "" {
			command = act.Value
			break
		}
	}
	if command == "" {
		return
	}
	if ok, err := a.first(ctx, key); err != nil {
		a.respond(ctx, ic.ResponseURL, unavailableReply)
		return
	} else if !ok {
		return
	}
	channel := ic.Channel.ID
	if channel == "" {
		channel = ic.Container.ChannelID
	}
	req := a.request(key, ic.User.ID, ic.User.Name, channel, command)
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.workFor)
	a.wg.Go(func() {
		defer cancel()
		a.respond(hctx, ic.ResponseURL, a.handle(hctx, h, req))
	})
}

// first reports whether key is new. When the Deduper fails, the caller
// answers that the bot is unavailable and does nothing: a retry must not
// run twice.
func (a *Adapter) first(ctx context.Context, key string) (bool, error) {
	ok, err := a.dedupe.Once(ctx, key, dedupeTTL)
	if err != nil {
		a.log.Error("slack dedupe failed", "err", err)
	}
	return ok, err
}

func (a *Adapter) request(key, user, name, channel, text string) datosbot.Request {
	return datosbot.Request{
		ID:      key,
		User:    datosbot.NewUserID(datosbot.Slack, user),
		Name:    name,
		Channel: datosbot.NewChannelID(datosbot.Slack, channel),
		Private: strings.HasPrefix(channel, "D"),
		Text:    strings.TrimSpace(text),
	}
}

// call runs h and waits for it up to the acknowledgment timeout. When it
// is late, call returns false and hands the reply to late when it comes.
func (a *Adapter) call(ctx context.Context, h bot.Handler, req datosbot.Request, late func(context.Context, datosbot.Reply)) (datosbot.Reply, bool) {
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.workFor)
	done := make(chan datosbot.Reply, 1)
	go func() { done <- a.handle(hctx, h, req) }()
	t := time.NewTimer(a.ackAfter)
	defer t.Stop()
	select {
	case r := <-done:
		cancel()
		return r, true
	case <-t.C:
		a.wg.Go(func() {
			defer cancel()
			late(hctx, <-done)
		})
		return datosbot.Reply{}, false
	}
}

// handle calls h, turning a panic into an internal-error reply.
func (a *Adapter) handle(ctx context.Context, h bot.Handler, req datosbot.Request) (r datosbot.Reply) {
	defer func() {
		if p := recover(); p != nil {
			a.log.Error("slack handler panicked", "panic", p)
			r = datosbot.Reply{Text: datosbot.ErrorMessage(datosbot.Errorf(datosbot.EINTERNAL, "panic")), Error: datosbot.EINTERNAL}
		}
	}()
	if h == nil {
		return unavailableReply
	}
	r = h.Handle(ctx, req)
	a.republishAfter(req, r)
	return r
}

// respond sends r through a response_url.
func (a *Adapter) respond(ctx context.Context, responseURL string, r datosbot.Reply) {
	if responseURL == "" {
		a.log.Warn("slack reply dropped: no response_url")
		return
	}
	m := responseMessage(withFormFallback(r))
	err := slack.PostWebhookCustomHTTPContext(ctx, responseURL, a.client, &slack.WebhookMessage{
		ResponseType: m.ResponseType,
		Text:         m.Text,
		Blocks:       &slack.Blocks{BlockSet: m.Blocks},
	})
	if err != nil {
		a.log.Error("slack response_url post failed", "err", err)
	}
}

// notify sends r to user privately: as an ephemeral message in channel, or
// in the app's direct messages when that is not possible.
func (a *Adapter) notify(ctx context.Context, channel, user string, r datosbot.Reply) {
	opts := []slack.MsgOption{slack.MsgOptionText(fallback(r), false), slack.MsgOptionBlocks(blocks(r)...)}
	if channel != "" {
		_, err := a.api.PostEphemeralContext(ctx, channel, user, opts...)
		if err == nil {
			return
		}
		a.log.Warn("slack ephemeral reply failed; sending a direct message", "err", err)
	}
	if _, _, err := a.api.PostMessageContext(ctx, user, opts...); err != nil {
		a.log.Error("slack direct reply failed", "err", err)
	}
}

// withFormFallback gives a form request that could not open a form a text
// that says how to type the command instead.
func withFormFallback(r datosbot.Reply) datosbot.Reply {
	if r.Form != "" && strings.TrimSpace(r.Text) == "" && r.Title == "" {
		r.Text = "Escriba: /datos anunciar <url-datos> <url-publicación> [medio:…] [tipo:…] [fecha:AAAA-MM-DD] [nota…]"
	}
	return r
}
