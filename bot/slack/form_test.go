package slack

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/bot/bottest"
)

const (
	goodData = "https://www.datos.gob.mx/dataset/accidentes_transito"
	goodPub  = "https://x.com/INEGI_INFORMA/status/1"
)

// TestFormRoundTrip: "anunciar" without arguments opens the modal with the
// trigger; an invalid submission gets field errors without reaching the
// handler; a valid one runs the equivalent command and reaches the person
// privately.
func TestFormRoundTrip(t *testing.T) {
	f := newFakeSlack(t)
	h := &bottest.Recorder{Reply: func(req datosbot.Request) datosbot.Reply {
		if req.Text == "anunciar" {
			return datosbot.Reply{Form: formAnunciar, Text: "Uso: /datos anunciar …"}
		}
		return datosbot.Reply{Text: "Acción A7K2Q registrada para INEGI."}
	}}
	_, mux := start(t, f, h, nil)

	w := serve(mux, signed("/slack/commands", testSecret, testNow, commandBody(t, f, "anunciar")))
	if w.Code != http.StatusOK || w.Body.Len() != 0 {
		t.Errorf("command: got %d %q, want an empty acknowledgment", w.Code, w.Body)
	}
	c := f.next(t)
	view, _ := c.JSON["view"].(map[string]any)
	if c.Method != "views.open" || c.JSON["trigger_id"] != "13345224609.738474920.8088930838d88f008e0" || view["callback_id"] != formCallbackID {
		t.Fatalf("got %s %v, want views.open with the trigger and the anunciar form", c.Method, c.JSON)
	}
	if c.Auth != "Bearer xoxb-test" {
		t.Errorf("views.open auth: got %q, want the bot token", c.Auth)
	}
	if view["private_metadata"] != `{"c":"C0INEGI01"}` {
		t.Errorf("private_metadata: got %v, want the channel", view["private_metadata"])
	}

	invalid := []struct {
		name, data, pub, wantField string
	}{
		{"home page as data", "https://www.datos.gob.mx/", goodPub, fieldDatos},
		{"search as data", "https://datos.gob.mx/busca/dataset?q=accidentes", goodPub, fieldDatos},
		{"data on another host", "https://example.com/dataset/x", goodPub, fieldDatos},
		{"no data", "", goodPub, fieldDatos},
		{"publication not a URL", goodData, "ayer en twitter", fieldPub},
		{"more data URLs than an action holds", strings.Repeat(goodData+",", datosbot.MaxDataURLs+1), goodPub, fieldDatos},
		{"zero-width space in the data URL", goodData + "\u200b", goodPub, fieldDatos},
	}
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) {
			body := interactionBody(t, "view_submission.json", `"DATOS"`, jsonString(tt.data), `"PUB"`, jsonString(tt.pub), `"NOTA"`, `null`)
			w := serve(mux, signed("/slack/interactions", testSecret, testNow, body))
			m := decode(t, w)
			errs, _ := m["errors"].(map[string]any)
			if m["response_action"] != "errors" || errs[tt.wantField] == nil || errs[tt.wantField] == "" {
				t.Errorf("got %s, want response_action errors on %s", w.Body, tt.wantField)
			}
		})
	}
	if n := len(h.Requests()); n != 1 {
		t.Fatalf("handler calls after invalid submissions: got %d, want 1 (the command)", n)
	}

	body := interactionBody(t, "view_submission.json", `"DATOS"`, jsonString(goodData), `"PUB"`, jsonString(goodPub), `"NOTA"`, jsonString("Difusión en X: hilo"))
	w = serve(mux, signed("/slack/interactions", testSecret, testNow, body))
	if m := decode(t, w); m["response_action"] != "clear" {
		t.Errorf("valid submission: got %s, want response_action clear", w.Body)
	}
	reqs := h.Requests()
	want := "anunciar " + goodData + " " + goodPub + " medio:redes fecha:2026-11-20 nota:«Difusión en X: hilo»"
	if len(reqs) != 2 || reqs[1].Text != want || reqs[1].User != "slack:U0ANA" || reqs[1].Channel != "slack:C0INEGI01" {
		t.Fatalf("handler request: got %+v, want %q from slack:U0ANA in slack:C0INEGI01", reqs[len(reqs)-1], want)
	}
	c = f.next(t)
	if c.Method != "chat.postEphemeral" || c.Form.Get("channel") != "C0INEGI01" || c.Form.Get("user") != "U0ANA" || !strings.Contains(c.Form.Get("blocks"), "A7K2Q") {
		t.Errorf("reply: got %s %v, want an ephemeral message to U0ANA in C0INEGI01", c.Method, c.Form)
	}

	// Submitting the same form again (a double click) has no second effect.
	w = serve(mux, signed("/slack/interactions", testSecret, testNow.Add(1), strings.Replace(body, "5171271416", "5171271417", 1)))
	if m := decode(t, w); m["response_action"] != "clear" {
		t.Errorf("second submission: got %s, want response_action clear", w.Body)
	}
	if n := len(h.Requests()); n != 2 {
		t.Errorf("handler calls after a double submission: got %d, want 2", n)
	}
	f.none(t)
}

// TestFormRefusal: a refusal of the handler is shown on the form field it
// is about.
func TestFormRefusal(t *testing.T) {
	tests := []struct {
		name      string
		refusal   string
		wantField string
	}{
		{"same URL twice", "La URL de la publicación debe ser distinta de la URL de los datos.", fieldPub},
		{"future date", "La fecha 2026-11-20 está en el futuro.", fieldFecha},
		{"not a member", "No puede registrar acciones: pida una invitación a su Enlace Institucional.", fieldDatos},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeSlack(t)
			h := &bottest.Recorder{Reply: func(datosbot.Request) datosbot.Reply {
				return datosbot.Reply{Text: tt.refusal, Error: datosbot.EINVALID}
			}}
			_, mux := start(t, f, h, nil)
			body := interactionBody(t, "view_submission.json", `"DATOS"`, jsonString(goodData), `"PUB"`, jsonString(goodPub), `"NOTA"`, `null`)
			w := serve(mux, signed("/slack/interactions", testSecret, testNow, body))
			m := decode(t, w)
			errs, _ := m["errors"].(map[string]any)
			if m["response_action"] != "errors" || errs[tt.wantField] != tt.refusal {
				t.Errorf("got %s, want the refusal on %s", w.Body, tt.wantField)
			}
			// Submitting the same content again shows the refusal again.
			w = serve(mux, signed("/slack/interactions", testSecret, testNow, body))
			if m := decode(t, w); m["response_action"] != "errors" {
				t.Errorf("resubmission after a refusal: got %s, want the refusal again", w.Body)
			}
			f.none(t)
		})
	}
}

// TestButtonPress: pressing "Enterado" runs its command as the person who
// pressed it, in the message's channel, and answers through response_url.
func TestButtonPress(t *testing.T) {
	f := newFakeSlack(t)
	h := &bottest.Recorder{Reply: func(req datosbot.Request) datosbot.Reply {
		return datosbot.Reply{Text: "Campaña C3M9: INEGI quedó como enterado."}
	}}
	_, mux := start(t, f, h, nil)
	body := interactionBody(t, "block_actions.json", "RESPONSE_URL", f.responseURL())
	w := serve(mux, signed("/slack/interactions", testSecret, testNow, body))
	if w.Code != http.StatusOK || w.Body.Len() != 0 {
		t.Errorf("acknowledgment: got %d %q, want an empty 200", w.Code, w.Body)
	}
	c := f.next(t)
	if c.Method != "response" || c.JSON["response_type"] != "ephemeral" || !strings.Contains(c.JSON["text"].(string), "enterado") {
		t.Errorf("reply: got %s %v, want an ephemeral reply through response_url", c.Method, c.JSON)
	}
	reqs := h.Requests()
	want := datosbot.Request{ID: reqs[0].ID, User: "slack:U0LUIS", Name: "luis", Channel: "slack:C0INEGI01", Text: "enterado C3M9"}
	if len(reqs) != 1 || reqs[0] != want {
		t.Errorf("request: got %+v, want %+v", reqs, want)
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
