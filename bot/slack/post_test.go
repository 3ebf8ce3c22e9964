package slack

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/bot/bottest"
)

func TestPost(t *testing.T) {
	msg := datosbot.Message{Key: "r1:C0INEGI01", Channel: "slack:C0INEGI01", Reply: datosbot.Reply{
		Title: "Recordatorio", Text: "Faltan 3 días para cerrar el bimestre 2026-B6.",
		Buttons: []datosbot.Button{{Label: "Estado", Command: "estado"}},
	}}
	slackError := func(code string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"ok":false,"error":"`+code+`"}`)
		}
	}
	tests := []struct {
		name   string
		answer http.HandlerFunc
		check  func(t *testing.T, err error)
	}{
		{"success", nil, func(t *testing.T, err error) {
			if err != nil {
				t.Errorf("got %v, want nil", err)
			}
		}},
		{"429 with Retry-After", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "2")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"ok":false,"error":"ratelimited"}`)
		}, func(t *testing.T, err error) {
			var rl *datosbot.RateLimitError
			if !errors.As(err, &rl) || rl.RetryAfter != 2*time.Second {
				t.Errorf("got %v, want *datosbot.RateLimitError of 2s", err)
			}
		}},
		{"429 without Retry-After", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusTooManyRequests)
		}, func(t *testing.T, err error) {
			var rl *datosbot.RateLimitError
			if !errors.As(err, &rl) || rl.RetryAfter != defaultRetryAfter {
				t.Errorf("got %v, want *datosbot.RateLimitError of %s", err, defaultRetryAfter)
			}
		}},
		{"channel_not_found", slackError("channel_not_found"), permanent("channel_not_found")},
		{"not_in_channel", slackError("not_in_channel"), permanent("not_in_channel")},
		{"is_archived", slackError("is_archived"), permanent("is_archived")},
		{"account_inactive", slackError("account_inactive"), permanent("account_inactive")},
		{"invalid_auth", slackError("invalid_auth"), permanent("invalid_auth")},
		{"token_revoked", slackError("token_revoked"), permanent("token_revoked")},
		{"internal_error is transient", slackError("internal_error"), transient},
		{"500 is transient", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusInternalServerError) }, transient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeSlack(t)
			if tt.answer != nil {
				f.answer("chat.postMessage", tt.answer)
			}
			a, _ := start(t, f, &bottest.Recorder{}, nil)
			err := a.Post(context.Background(), msg)
			tt.check(t, err)
			c := f.next(t)
			if c.Method != "chat.postMessage" || c.Form.Get("channel") != "C0INEGI01" || (c.Auth != "Bearer xoxb-test" && c.Form.Get("token") != "xoxb-test") {
				t.Fatalf("got %s %v, want chat.postMessage to C0INEGI01 with the bot token", c.Method, c.Form)
			}
			if !strings.Contains(c.Form.Get("blocks"), "Faltan 3 días") || !strings.Contains(c.Form.Get("blocks"), `"value":"estado"`) || !strings.Contains(c.Form.Get("text"), "Recordatorio") {
				t.Errorf("posted blocks %s and text %q: want the rendered reply", c.Form.Get("blocks"), c.Form.Get("text"))
			}
		})
	}
}

func TestPostNotSlack(t *testing.T) {
	f := newFakeSlack(t)
	a, _ := start(t, f, &bottest.Recorder{}, nil)
	err := a.Post(context.Background(), datosbot.Message{Channel: "telegram:-100123"})
	var pe *datosbot.PermanentError
	if !errors.As(err, &pe) {
		t.Errorf("got %v, want *datosbot.PermanentError", err)
	}
	f.none(t)
}

func permanent(reason string) func(t *testing.T, err error) {
	return func(t *testing.T, err error) {
		var pe *datosbot.PermanentError
		if !errors.As(err, &pe) || pe.Reason != reason || pe.Channel != "slack:C0INEGI01" {
			t.Errorf("got %v, want *datosbot.PermanentError %s", err, reason)
		}
	}
}

func transient(t *testing.T, err error) {
	var pe *datosbot.PermanentError
	var rl *datosbot.RateLimitError
	if err == nil || errors.As(err, &pe) || errors.As(err, &rl) {
		t.Errorf("got %v, want a plain transient error", err)
	}
}
