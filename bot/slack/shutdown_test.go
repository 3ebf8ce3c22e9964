package slack

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/bot/bottest"
)

// TestRunWaitsForWorkInFlight: in HTTP mode, Run does not return while a
// late command or a button's command is still running, so that the caller
// (Main.Close) saves the embedded store only after their writes.
func TestRunWaitsForWorkInFlight(t *testing.T) {
	tests := []struct {
		name string
		path string
		body func(t *testing.T, f *fakeSlack) string
	}{
		{"late slash command", "/slack/commands", func(t *testing.T, f *fakeSlack) string { return commandBody(t, f, "anunciar") }},
		{"button press", "/slack/interactions", func(t *testing.T, f *fakeSlack) string {
			return interactionBody(t, "block_actions.json", "RESPONSE_URL", f.responseURL())
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeSlack(t)
			entered, release := make(chan struct{}), make(chan struct{})
			h := &bottest.Recorder{Reply: func(datosbot.Request) datosbot.Reply {
				close(entered)
				<-release
				return datosbot.Reply{Text: "Acción registrada"}
			}}
			a, err := New(Config{BotToken: "xoxb-test", SigningSecret: testSecret, APIURL: f.apiURL(),
				Now: func() time.Time { return testNow }, Logger: quiet, AckTimeout: 10 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			mux := http.NewServeMux()
			a.Routes(mux)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- a.Run(ctx, h) }()
			for a.currentHandler() == nil {
				time.Sleep(time.Millisecond)
			}

			if w := serve(mux, signed(tt.path, testSecret, testNow, tt.body(t, f))); w.Code != http.StatusOK {
				t.Fatalf("status: got %d, want 200", w.Code)
			}
			<-entered
			cancel()
			select {
			case <-done:
				close(release)
				t.Fatal("Run returned while a command was still running; got an early return, want Run to wait for it")
			case <-time.After(200 * time.Millisecond): // a buggy Run returns at once
			}
			close(release)
			<-done
			select {
			case c := <-f.calls:
				if c.Method != "response" || !strings.Contains(c.JSON["text"].(string), "Acción registrada") {
					t.Errorf("reply: got %s %v, want the reply through response_url", c.Method, c.JSON)
				}
			default:
				t.Error("reply: got none when Run returned, want it sent before")
			}
		})
	}
}
