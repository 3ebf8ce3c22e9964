package slack

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/slack-go/slack"
)

// serveCommand answers POST /slack/commands.
func (a *Adapter) serveCommand(w http.ResponseWriter, r *http.Request) {
	body, ok := a.readSigned(w, r)
	if !ok {
		return
	}
	h := a.currentHandler()
	asForm(r, body)
	cmd, err := slack.SlashCommandParse(r)
	if err != nil || !commandFromSomeone(cmd) {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	writeAck(w, a.command(r.Context(), h, cmd, dedupeKey(body)))
}

// serveInteraction answers POST /slack/interactions: buttons and forms.
func (a *Adapter) serveInteraction(w http.ResponseWriter, r *http.Request) {
	body, ok := a.readSigned(w, r)
	if !ok {
		return
	}
	h := a.currentHandler()
	asForm(r, body)
	ic, err := slack.InteractionCallbackParse(r)
	if err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	writeAck(w, a.interaction(r.Context(), h, ic, dedupeKey(body)))
}

// asForm puts the verified body back for slack-go's parsers, which read
// the form: Slack always sends one, whatever the Content-Type says.
func asForm(r *http.Request, body []byte) {
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
}

// readSigned reads the size-limited raw body and verifies Slack's signature
// over it before anything is parsed. On failure it has answered and
// returns false.
func (a *Adapter) readSigned(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
		} else {
			http.Error(w, "bad request", http.StatusBadRequest)
		}
		return nil, false
	}
	if err := verifySignature(a.secret, r.Header, body, a.now()); err != nil {
		a.log.Warn("slack request rejected", "path", r.URL.Path, "reason", err)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return nil, false
	}
	// Only a signed request learns that the bot is still starting; Slack
	// retries the 503.
	if a.currentHandler() == nil {
		http.Error(w, "not ready", http.StatusServiceUnavailable)
		return nil, false
	}
	return body, true
}

// writeAck answers 200 with payload as JSON, or with an empty body (a bare
// acknowledgment) when payload is nil.
func writeAck(w http.ResponseWriter, payload any) {
	if payload == nil {
		w.WriteHeader(http.StatusOK)
		return
	}
	b, err := json.Marshal(payload)
	if err != nil {
		w.WriteHeader(http.StatusOK)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Write(b)
}
