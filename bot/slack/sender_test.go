package slack

import (
	"net/http"
	"strings"
	"testing"

	"github.com/datosbot/datosbot/bot/bottest"
)

// TestCommandWithoutSenderRefused: a signed command body that does not say
// who typed it, or where, answers 400 and runs nothing: no command as the
// user "slack:" or in the channel "slack:".
func TestCommandWithoutSenderRefused(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(string) string
		status int
	}{
		{"complete", func(b string) string { return b }, http.StatusOK},
		{"no user_id", func(b string) string { return strings.Replace(b, "&user_id=U0ANA", "", 1) }, http.StatusBadRequest},
		{"empty user_id", func(b string) string { return strings.Replace(b, "user_id=U0ANA", "user_id=", 1) }, http.StatusBadRequest},
		{"user_id with a colon", func(b string) string { return strings.Replace(b, "user_id=U0ANA", "user_id=U0ANA%3Ax", 1) }, http.StatusBadRequest},
		{"user_id with a space", func(b string) string { return strings.Replace(b, "user_id=U0ANA", "user_id=U0+ANA", 1) }, http.StatusBadRequest},
		{"no channel_id", func(b string) string { return strings.Replace(b, "channel_id=C0INEGI01&", "", 1) }, http.StatusBadRequest},
		{"empty channel_id", func(b string) string { return strings.Replace(b, "channel_id=C0INEGI01", "channel_id=", 1) }, http.StatusBadRequest},
		{"empty body", func(string) string { return "" }, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeSlack(t)
			h := &bottest.Recorder{}
			_, mux := start(t, f, h, nil)
			body := tt.edit(commandBody(t, f, "estado"))
			w := serve(mux, signed("/slack/commands", testSecret, testNow, body))
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d; body %s", w.Code, tt.status, w.Body)
			}
			reqs := h.Requests()
			if tt.status != http.StatusOK {
				if len(reqs) != 0 {
					t.Errorf("handler ran %+v, want nothing run", reqs)
				}
				return
			}
			if len(reqs) != 1 || reqs[0].User != "slack:U0ANA" || reqs[0].Channel != "slack:C0INEGI01" {
				t.Errorf("requests %+v, want one from slack:U0ANA in slack:C0INEGI01", reqs)
			}
		})
	}
}

// TestInteractionWithoutUserIgnored: a button press that does not say who
// pressed it runs nothing; the same press with its user runs once.
func TestInteractionWithoutUserIgnored(t *testing.T) {
	f := newFakeSlack(t)
	h := &bottest.Recorder{}
	a, mux := start(t, f, h, nil)
	blank := interactionBody(t, "block_actions.json", "RESPONSE_URL", f.responseURL(), `{"id":"U0LUIS"`, `{"id":""`)
	if !strings.Contains(blank, "%7B%22id%22%3A%22%22") {
		t.Fatalf("the user id was not blanked in %s", blank)
	}
	if w := serve(mux, signed("/slack/interactions", testSecret, testNow, blank)); w.Code != http.StatusOK || w.Body.Len() != 0 {
		t.Fatalf("acknowledgment %d %q, want an empty 200", w.Code, w.Body)
	}
	full := interactionBody(t, "block_actions.json", "RESPONSE_URL", f.responseURL())
	if w := serve(mux, signed("/slack/interactions", testSecret, testNow, full)); w.Code != http.StatusOK {
		t.Fatalf("acknowledgment %d, want 200", w.Code)
	}
	a.wg.Wait()
	f.next(t) // the reply to the complete press
	if reqs := h.Requests(); len(reqs) != 1 || reqs[0].User != "slack:U0LUIS" {
		t.Errorf("requests %+v, want only the one from slack:U0LUIS", reqs)
	}
	f.none(t)
}

func TestSlackID(t *testing.T) {
	for id, want := range map[string]bool{
		"U0ANA": true, "W012A3CDE": true, "C0INEGI01": true, "D0123": true, "": false, "U0:x": false,
		"U0 ANA": false, "U0\u200bANA": false, strings.Repeat("U", 65): false,
	} {
		if got := slackID(id); got != want {
			t.Errorf("slackID(%q) = %v, want %v", id, got, want)
		}
	}
}
