package slack

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
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

// startSocket runs a Socket Mode adapter against f. stop cancels Run and
// waits for it, and so for the work in flight; it may be called again.
func startSocket(t *testing.T, f *fakeSlack, h *bottest.Recorder) (a *Adapter, done chan error, stop func()) {
	t.Helper()
	a, err := New(Config{BotToken: "xoxb-test", AppToken: "xapp-1-test", APIURL: f.apiURL(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done = make(chan error, 1)
	go func() { done <- a.Run(ctx, h) }()
	stop = func() { cancel(); err := <-done; done <- err }
	t.Cleanup(stop)
	return a, done, stop
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
	a, _, _ := startSocket(t, f, h)

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
	a, done, _ := startSocket(t, f, &bottest.Recorder{})
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

// interactive is a Socket Mode envelope of an interaction: payload is
// Slack's interaction JSON, the same as the payload field of an HTTP
// interaction (testdata), with each old string replaced by its new one.
func interactive(t *testing.T, id, file string, oldnew ...string) map[string]any {
	t.Helper()
	form, err := url.ParseQuery(interactionBody(t, file, oldnew...))
	if err != nil {
		t.Fatal(err)
	}
	p := form.Get("payload")
	return map[string]any{
		"envelope_id": id, "type": "interactive", "payload": json.RawMessage(p),
		"accepts_response_payload": strings.Contains(p, `"type":"view_submission"`),
	}
}

// TestSocketModeInteractions: over Socket Mode, pressing "Enterado" runs
// its command as the person who pressed it and answers them privately
// through response_url; the "anunciar" form shows field errors in the ack
// and registers a valid submission once; a redelivered envelope has one
// effect.
func TestSocketModeInteractions(t *testing.T) {
	f := newFakeSlack(t)
	ws := newSocketServer(f)
	h := &bottest.Recorder{Reply: func(req datosbot.Request) datosbot.Reply {
		if strings.HasPrefix(req.Text, "anunciar ") {
			return datosbot.Reply{Text: "Acción A7K2Q registrada para INEGI."}
		}
		return datosbot.Reply{Text: "Campaña C3M9: INEGI quedó como enterado."}
	}}
	a, _, stop := startSocket(t, f, h)
	if c := f.next(t); c.Method != "apps.connections.open" {
		t.Fatalf("got %s, want apps.connections.open", c.Method)
	}
	conn := ws.accept(t)
	eventually(t, "Ready reports the connection", func() bool { return a.Ready() == nil })
	send := func(envelope map[string]any) map[string]any {
		t.Helper()
		if err := conn.WriteJSON(envelope); err != nil {
			t.Fatal(err)
		}
		return readAck(t, conn, envelope["envelope_id"].(string))
	}

	// The button: a bare ack, then the reply through response_url.
	button := interactive(t, "env-button", "block_actions.json", "RESPONSE_URL", f.responseURL())
	if ack := send(button); ack["payload"] != nil {
		t.Errorf("button ack: got payload %v, want none", ack["payload"])
	}
	c := f.next(t)
	text, _ := c.JSON["text"].(string)
	if c.Method != "response" || c.JSON["response_type"] != "ephemeral" || c.JSON["replace_original"] != false || !strings.Contains(text, "Campaña C3M9: INEGI quedó como enterado.") {
		t.Errorf("button reply: got %s %v, want a new ephemeral message through response_url", c.Method, c.JSON)
	}
	reqs := h.Requests()
	if len(reqs) != 1 {
		t.Fatalf("handler calls after the button: got %d, want 1", len(reqs))
	}
	want := datosbot.Request{ID: reqs[0].ID, User: "slack:U0LUIS", Name: "luis", Channel: "slack:C0INEGI01", Text: "enterado C3M9"}
	if reqs[0] != want || !strings.HasPrefix(reqs[0].ID, "slack:") {
		t.Errorf("button request: got %+v, want %+v", reqs[0], want)
	}
	if ack := send(button); ack["payload"] != nil { // Slack's redelivery
		t.Errorf("redelivered button ack: got payload %v, want none", ack["payload"])
	}

	// An invalid data URL: the errors travel in the ack; nothing runs.
	bad := interactive(t, "env-bad", "view_submission.json",
		`"DATOS"`, jsonString("https://example.com/dataset/x"), `"PUB"`, jsonString(goodPub), `"NOTA"`, `null`)
	ack := send(bad)
	p, _ := ack["payload"].(map[string]any)
	errs, _ := p["errors"].(map[string]any)
	if msg, _ := errs[fieldDatos].(string); p["response_action"] != "errors" || !strings.Contains(msg, "example.com/dataset/x") || len(errs) != 1 {
		t.Errorf("invalid submission ack: got payload %v, want response_action errors on %s only", ack["payload"], fieldDatos)
	}

	// A valid submission closes the form, registers once and reaches the
	// person privately.
	good := interactive(t, "env-good", "view_submission.json",
		`"DATOS"`, jsonString(goodData), `"PUB"`, jsonString(goodPub), `"NOTA"`, jsonString("Difusión en X: hilo"))
	ack = send(good)
	if p, _ := ack["payload"].(map[string]any); p["response_action"] != "clear" {
		t.Errorf("valid submission ack: got payload %v, want response_action clear", ack["payload"])
	}
	var anunciar []datosbot.Request
	for _, r := range h.Requests() {
		if strings.HasPrefix(r.Text, "anunciar") {
			anunciar = append(anunciar, r)
		}
	}
	wantText := "anunciar " + goodData + " " + goodPub + " medio:redes fecha:2026-11-20 nota:«Difusión en X: hilo»"
	if len(anunciar) != 1 || anunciar[0].Text != wantText || anunciar[0].User != "slack:U0ANA" || anunciar[0].Name != "ana" || anunciar[0].Channel != "slack:C0INEGI01" {
		t.Fatalf("anunciar requests: got %+v, want one %q from slack:U0ANA in slack:C0INEGI01", anunciar, wantText)
	}
	c = f.next(t)
	if c.Method != "chat.postEphemeral" || (c.Auth != "Bearer xoxb-test" && c.Form.Get("token") != "xoxb-test") || c.Form.Get("channel") != "C0INEGI01" || c.Form.Get("user") != "U0ANA" || !strings.Contains(c.Form.Get("blocks"), "A7K2Q") {
		t.Errorf("submission reply: got %s %v, want an ephemeral message to U0ANA in C0INEGI01", c.Method, c.Form)
	}
	ack = send(good) // Slack's redelivery: the form closes again, nothing new
	if p, _ := ack["payload"].(map[string]any); p["response_action"] != "clear" {
		t.Errorf("redelivered submission ack: got payload %v, want response_action clear", ack["payload"])
	}

	// Run waits for the work in flight: whatever the redeliveries started
	// has happened once it returns.
	stop()
	if reqs := h.Requests(); len(reqs) != 2 {
		t.Errorf("handler calls: got %d (%+v), want 2: the button and the valid submission", len(reqs), reqs)
	}
	f.none(t)
}
