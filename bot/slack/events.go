package slack

import (
	"context"
	"encoding/json"
	"io"
	"net/http"

	"github.com/slack-go/slack/slackevents"
)

// serveEvents answers POST /slack/events, the Events API: the signed
// url_verification challenge, and app_home_opened, which publishes the
// person's Home tab. It acknowledges at once; Slack's retries of an event
// (same event_id) have no second effect.
func (a *Adapter) serveEvents(w http.ResponseWriter, r *http.Request) {
	body, ok := a.readSigned(w, r)
	if !ok {
		return
	}
	e, err := slackevents.ParseEvent(json.RawMessage(body), slackevents.OptionNoVerifyToken())
	if err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	if e.Type == slackevents.URLVerification {
		v, ok := e.Data.(*slackevents.EventsAPIURLVerificationEvent)
		if !ok {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		// Slack's documented answer: the challenge as plain text.
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, v.Challenge)
		return
	}
	a.event(r.Context(), e)
	w.WriteHeader(http.StatusOK)
}

// event handles one Events API event, from HTTP or Socket Mode, after it
// was acknowledged.
func (a *Adapter) event(ctx context.Context, e slackevents.EventsAPIEvent) {
	cb, ok := e.Data.(*slackevents.EventsAPICallbackEvent)
	if !ok || e.Type != slackevents.CallbackEvent {
		return
	}
	opened, ok := e.InnerEvent.Data.(*slackevents.AppHomeOpenedEvent)
	if !ok || opened.Tab != "home" || opened.User == "" {
		return
	}
	if cb.EventID != "" {
		if first, err := a.first(ctx, "slack:event:"+cb.EventID); err != nil || !first {
			return
		}
	}
	a.wg.Go(func() {
		pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), homePublishBudget)
		defer cancel()
		a.publishHome(pctx, opened.User, opened.Channel)
	})
}
