package slack

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/bot/bottest"
)

// socketServer is the WebSocket side of a fake Socket Mode endpoint: each
// connection is handed to the test on conns.
type socketServer struct {
	conns chan *websocket.Conn
}

func newSocketServer(f *fakeSlack) *socketServer {
	s := &socketServer{conns: make(chan *websocket.Conn, 4)}
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }} // the client sends Slack's origin
	f.mu.Lock()
	f.ws = func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		c.WriteJSON(map[string]any{"type": "hello", "num_connections": 1, "connection_info": map[string]any{"app_id": "A0DATOS"}})
		c.WriteControl(websocket.PingMessage, []byte("p"), time.Now().Add(time.Second))
		s.conns <- c
	}
	f.mu.Unlock()
	return s
}

func (s *socketServer) accept(t *testing.T) *websocket.Conn {
	t.Helper()
	select {
	case c := <-s.conns:
		t.Cleanup(func() { c.Close() })
		return c
	case <-time.After(5 * time.Second):
		t.Fatal("the adapter did not connect to the Socket Mode endpoint")
		return nil
	}
}

// readAck reads frames until the ack of envelope id; the client answers
// pings on its own.
func readAck(t *testing.T, c *websocket.Conn, id string) map[string]any {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		var m map[string]any
		if err := c.ReadJSON(&m); err != nil {
			t.Fatalf("reading the ack of %s: %v", id, err)
		}
		if m["envelope_id"] == id {
			return m
		}
	}
}

func startSocket(t *testing.T, f *fakeSlack, h *bottest.Recorder) (*Adapter, chan error) {
	t.Helper()
	a, err := New(Config{BotToken: "xoxb-test", AppToken: "xapp-1-test", APIURL: f.apiURL(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, h) }()
	t.Cleanup(func() { cancel(); <-done })
	return a, done
}

// eventually waits for cond, failing the test after a while.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestSocketMode: a slash command envelope delivered over the fake Socket
// Mode connection is answered in its ack; Ready follows the connection,
// which is reopened after a drop.
func TestSocketMode(t *testing.T) {
	f := newFakeSlack(t)
	ws := newSocketServer(f)
	h := &bottest.Recorder{Reply: func(req datosbot.Request) datosbot.Reply {
		return datosbot.Reply{Text: "INEGI cumple el bimestre 2026-B6.", Public: req.Text == "estado publico"}
	}}
	a, _ := startSocket(t, f, h)

	if c := f.next(t); c.Method != "apps.connections.open" || c.Auth != "Bearer xapp-1-test" {
		t.Fatalf("got %s with %q, want apps.connections.open with the app token", c.Method, c.Auth)
	}
	conn := ws.accept(t)
	eventually(t, "Ready reports the connection", func() bool { return a.Ready() == nil })

	payload := map[string]any{
		"token": "x", "team_id": "T0001", "team_domain": "datosmx", "channel_id": "D0ANA", "channel_name": "directmessage",
		"user_id": "U0ANA", "user_name": "ana", "command": "/datos", "text": "estado <https://www.datos.gob.mx/dataset/x|x>",
		"api_app_id": "A0DATOS", "response_url": f.responseURL(), "trigger_id": "1.2.3",
	}
	envelope := map[string]any{"envelope_id": "env-1", "type": "slash_commands", "payload": payload, "accepts_response_payload": true}
	if err := conn.WriteJSON(envelope); err != nil {
		t.Fatal(err)
	}
	ack := readAck(t, conn, "env-1")
	body, _ := json.Marshal(ack["payload"])
	if !strings.Contains(string(body), "INEGI cumple el bimestre 2026-B6.") || !strings.Contains(string(body), `"response_type":"ephemeral"`) {
		t.Errorf("ack payload: got %s, want the ephemeral reply", body)
	}
	reqs := h.Requests()
	want := datosbot.Request{ID: reqs[0].ID, User: "slack:U0ANA", Name: "ana", Channel: "slack:D0ANA", Private: true, Text: "estado https://www.datos.gob.mx/dataset/x"}
	if len(reqs) != 1 || reqs[0] != want {
		t.Errorf("request: got %+v, want %+v", reqs, want)
	}

	// The same envelope delivered again (Slack's retry) is acknowledged
	// without a second effect.
	conn.WriteJSON(envelope)
	if ack := readAck(t, conn, "env-1"); ack["payload"] != nil {
		t.Errorf("retry ack: got payload %v, want none", ack["payload"])
	}
	if n := len(h.Requests()); n != 1 {
		t.Errorf("handler calls after a retry: got %d, want 1", n)
	}

	// A dead connection shows in Ready until the adapter reconnects.
	f.answer("apps.connections.open", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	conn.Close()
	eventually(t, "Ready reports the dead connection", func() bool { return a.Ready() != nil })
	f.answer("apps.connections.open", nil)
	ws.accept(t)
	eventually(t, "Ready reports the new connection", func() bool { return a.Ready() == nil })
}

func TestSocketModeInvalidAuth(t *testing.T) {
	f := newFakeSlack(t)
	f.answer("apps.connections.open", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"ok":false,"error":"invalid_auth"}`)
	})
	a, done := startSocket(t, f, &bottest.Recorder{})
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "invalid_auth") {
			t.Errorf("Run: got %v, want an invalid_auth error", err)
		}
		done <- err // for the cleanup
	case <-time.After(5 * time.Second):
		t.Fatal("Run kept going with a rejected app token")
	}
	if a.Ready() == nil {
		t.Error("Ready: got nil, want an error")
	}
}
