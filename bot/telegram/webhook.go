package telegram

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/go-telegram/bot/models"
)

const webhookHandleTimeout = 50 * time.Second

// Routes mounts POST /telegram/webhook when a webhook secret is
// configured; in polling mode it mounts nothing.
func (a *Adapter) Routes(mux *http.ServeMux) {
	if a.cfg.WebhookSecret == "" {
		return
	}
	mux.HandleFunc("POST /telegram/webhook", a.serveWebhook)
}

// serveWebhook authenticates the update before reading it, handles it,
// and answers 200 only once it is handled and recorded, so that Telegram
// delivers it again after a crash or a failure (500).
func (a *Adapter) serveWebhook(w http.ResponseWriter, r *http.Request) {
	if !a.secretOK(r.Header.Get("X-Telegram-Bot-Api-Secret-Token")) {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxWebhookBody)
	var upd models.Update
	if err := json.NewDecoder(r.Body).Decode(&upd); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "invalid update", http.StatusBadRequest)
		return
	}
	h := a.currentHandler()
	if h == nil {
		http.Error(w, "not ready", http.StatusServiceUnavailable)
		return
	}
	// The update is handled to the end even if Telegram hangs up.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), webhookHandleTimeout)
	defer cancel()
	if err := a.handleUpdate(ctx, h, &upd); err != nil {
		a.log.Error("telegram webhook update not handled; Telegram will deliver it again", "update_id", upd.ID, "err", err)
		http.Error(w, "update not handled", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// secretOK compares the header with the secret in constant time: both are
// hashed first, so neither the content nor the length leaks through timing.
func (a *Adapter) secretOK(got string) bool {
	if got == "" || a.cfg.WebhookSecret == "" {
		return false
	}
	g := sha256.Sum256([]byte(got))
	want := sha256.Sum256([]byte(a.cfg.WebhookSecret))
	return subtle.ConstantTimeCompare(g[:], want[:]) == 1
}
