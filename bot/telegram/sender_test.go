package telegram

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/datosbot/datosbot/bot/bottest"
)

// edited returns a testdata update with edit applied to its decoded JSON.
func edited(t *testing.T, name string, edit func(map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(update(t, name), &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func field(m map[string]any, path ...string) map[string]any {
	for _, p := range path {
		m = m[p].(map[string]any)
	}
	return m
}

// TestUpdateWithoutSenderOrChatRunsNothing: an update that does not say
// who sent it or in which chat is acknowledged (Telegram must not deliver
// it again) and runs no command: never as user 0 or in chat 0.
func TestUpdateWithoutSenderOrChatRunsNothing(t *testing.T) {
	const secret = "s3cr3t-W3bhook_value"
	tests := []struct {
		name  string
		body  []byte
		calls int
	}{
		{"complete message", update(t, "estado.json"), 1},
		{"message without from", edited(t, "estado.json", func(m map[string]any) { delete(field(m, "message"), "from") }), 0},
		{"message from without id", edited(t, "estado.json", func(m map[string]any) { delete(field(m, "message", "from"), "id") }), 0},
		{"message without chat", edited(t, "estado.json", func(m map[string]any) { delete(field(m, "message"), "chat") }), 0},
		{"message in chat 0", edited(t, "estado.json", func(m map[string]any) { field(m, "message", "chat")["id"] = 0 }), 0},
		{"complete callback", update(t, "callback_enterado.json"), 1},
		{"callback without from", edited(t, "callback_enterado.json", func(m map[string]any) { delete(field(m, "callback_query"), "from") }), 0},
		{"callback without chat", edited(t, "callback_enterado.json", func(m map[string]any) { delete(field(m, "callback_query", "message"), "chat") }), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAPI(t)
			a, _ := newAdapter(t, f, Config{WebhookSecret: secret, Deduper: &memDeduper{}})
			h := &bottest.Recorder{}
			stop := run(t, a, h)
			waitFor(t, "webhook mode ready", func() bool { return a.Ready() == nil })
			mux := http.NewServeMux()
			a.Routes(mux)
			req := httptest.NewRequest(http.MethodPost, "/telegram/webhook", bytes.NewReader(tt.body))
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, req)
			stop()
			if rec.Code != http.StatusOK {
				t.Errorf("status %d, want 200", rec.Code)
			}
			reqs := h.Requests()
			if len(reqs) != tt.calls {
				t.Fatalf("handler calls %+v, want %d", reqs, tt.calls)
			}
			for _, r := range reqs {
				if r.User == "telegram:0" || r.Channel == "telegram:0" {
					t.Errorf("request %+v runs as user 0 or in chat 0", r)
				}
			}
			if tt.calls == 0 && len(f.callsOf("sendMessage")) != 0 {
				t.Errorf("sent %+v, want nothing", f.callsOf("sendMessage"))
			}
		})
	}
}
