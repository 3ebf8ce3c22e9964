package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/bot/bottest"
)

// homeSource is an Overview that tests change: it says whether inegi
// complies yet.
type homeSource struct {
	mu        sync.Mutex
	compliant bool
	users     []datosbot.UserID
}

func (s *homeSource) Overview(_ context.Context, u datosbot.UserID) (datosbot.Overview, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users = append(s.users, u)
	n := 0
	if s.compliant {
		n = 1
	}
	return datosbot.Overview{User: u, Bimester: datosbot.Bimester{Year: 2026, N: 6}, DaysLeft: 42,
		Institutions: []datosbot.InstitutionOverview{{Key: "inegi", Name: "INEGI", Roles: []datosbot.Role{datosbot.RoleComunicacion}, Compliant: n > 0, Actions: n}},
		Campaigns:    []datosbot.CampaignOverview{{ID: "C3M9", Title: "Movilidad", Deadline: datosbot.Date{Year: 2026, Month: 12, Day: 15}, Institution: "inegi", Status: datosbot.StatusPendiente}},
		DashboardURL: "https://datosbot.example/tablero"}, nil
}

func eventBody(t *testing.T, eventID, tab string) string {
	t.Helper()
	return strings.NewReplacer("EVENT_ID", eventID, "TAB", tab).Replace(strings.TrimSpace(readTestdata(t, "event_app_home_opened.json")))
}

func jsonPost(path, secret string, ts time.Time, body string) *http.Request {
	r := signed(path, secret, ts, body)
	r.Header.Set("Content-Type", "application/json")
	return r
}

func TestEventsURLVerification(t *testing.T) {
	f := newFakeSlack(t)
	_, mux := start(t, f, &bottest.Recorder{}, nil)
	body := strings.TrimSpace(readTestdata(t, "event_url_verification.json"))
	w := serve(mux, jsonPost("/slack/events", testSecret, testNow, body))
	if w.Code != http.StatusOK || w.Body.String() != "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" {
		t.Errorf("url_verification = %d %q, want 200 and the challenge", w.Code, w.Body.String())
	}
	if w := serve(mux, jsonPost("/slack/events", "wrong-secret-wrong-secret-wrong!", testNow, body)); w.Code != http.StatusUnauthorized || strings.Contains(w.Body.String(), "3eZbrw") {
		t.Errorf("unsigned url_verification = %d %q, want 401 without the challenge", w.Code, w.Body.String())
	}
	f.none(t)
}

// TestHomeTabPublishedOnOpenAndAfterRegistration: app_home_opened gets one
// views.publish (a retry of the event none), a registration by the same
// person another, with the new state; both views keep Block Kit's limits.
func TestHomeTabPublishedOnOpenAndAfterRegistration(t *testing.T) {
	f := newFakeSlack(t)
	f.answer("views.publish", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"ok":true,"view":{"id":"V0HOME01","type":"home"}}`)
	})
	src := &homeSource{}
	h := &bottest.Recorder{}
	_, mux := start(t, f, h, func(c *Config) { c.Home = src })

	body := eventBody(t, "Ev0HOME01", "home")
	if w := serve(mux, jsonPost("/slack/events", testSecret, testNow, body)); w.Code != http.StatusOK {
		t.Fatalf("app_home_opened = %d", w.Code)
	}
	c := f.next(t)
	if c.Method != "views.publish" || c.JSON["user_id"] != "U0ANA" {
		t.Fatalf("got %s %v, want views.publish for U0ANA", c.Method, c.JSON)
	}
	view := c.JSON["view"].(map[string]any)
	checkHomeView(t, view)
	if s := viewText(view); !strings.Contains(s, "aún no cumple 2026-B6") || !strings.Contains(s, "quedan 42 días") ||
		!strings.Contains(s, "https://datosbot.example/tablero") || !strings.Contains(s, homeAnunciar) || !strings.Contains(s, "enterado C3M9 institucion:inegi") {
		t.Errorf("first view lacks the state, the dashboard link or the buttons:\n%s", s)
	}
	if meta := view["private_metadata"]; meta != `{"c":"D0ANA01"}` {
		t.Errorf("private_metadata = %v, want the DM channel", meta)
	}

	// Slack's retry of the same event, and the messages tab, publish nothing.
	retry := jsonPost("/slack/events", testSecret, testNow, body)
	retry.Header.Set("X-Slack-Retry-Num", "1")
	retry.Header.Set("X-Slack-Retry-Reason", "http_timeout")
	if w := serve(mux, retry); w.Code != http.StatusOK {
		t.Errorf("retry = %d, want 200", w.Code)
	}
	if w := serve(mux, jsonPost("/slack/events", testSecret, testNow, eventBody(t, "Ev0MSGS01", "messages"))); w.Code != http.StatusOK {
		t.Errorf("messages tab = %d, want 200", w.Code)
	}
	time.Sleep(100 * time.Millisecond)
	f.none(t)

	// A refused command changes nothing and publishes nothing.
	h.Reply = func(req datosbot.Request) datosbot.Reply {
		return datosbot.Reply{Text: "No tiene permiso.", Error: datosbot.EFORBIDDEN}
	}
	serve(mux, signed("/slack/commands", testSecret, testNow, commandBody(t, f, "anunciar https://www.datos.gob.mx/dataset/a https://x.com/a/status/1")))
	time.Sleep(100 * time.Millisecond)
	f.none(t)

	// The registration: the Home tab is published again, with the new state.
	h.Reply = nil
	src.mu.Lock()
	src.compliant = true
	src.mu.Unlock()
	w := serve(mux, signed("/slack/commands", testSecret, testNow.Add(time.Second), commandBody(t, f, "anunciar https://www.datos.gob.mx/dataset/b https://x.com/b/status/2")))
	if w.Code != http.StatusOK {
		t.Fatalf("command = %d", w.Code)
	}
	c = f.next(t)
	if c.Method != "views.publish" || c.JSON["user_id"] != "U0ANA" {
		t.Fatalf("after the registration got %s %v, want views.publish for U0ANA", c.Method, c.JSON)
	}
	view = c.JSON["view"].(map[string]any)
	checkHomeView(t, view)
	if s := viewText(view); !strings.Contains(s, "cumple 2026-B6 con 1 acción") {
		t.Errorf("second view lacks the new state:\n%s", s)
	}
	time.Sleep(100 * time.Millisecond)
	f.none(t)
}

func TestHomeButtons(t *testing.T) {
	f := newFakeSlack(t)
	f.answer("views.publish", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"ok":true}`)
	})
	h := &bottest.Recorder{}
	_, mux := start(t, f, h, func(c *Config) { c.Home = &homeSource{} })
	press := func(action, value string) string {
		p := fmt.Sprintf(`{"type":"block_actions","user":{"id":"U0ANA","username":"ana","name":"ana","team_id":"T0001"},"api_app_id":"A0DATOS","container":{"type":"view","view_id":"V0HOME01"},"trigger_id":"1.2.%s","team":{"id":"T0001"},"view":{"id":"V0HOME01","type":"home","private_metadata":"{\"c\":\"D0ANA01\"}"},"actions":[{"type":"button","action_id":"%s","block_id":"b","value":%q,"action_ts":"1763632800.1"}]}`, action, action, value)
		return "payload=" + url.QueryEscape(p)
	}
	serve(mux, signed("/slack/interactions", testSecret, testNow, press(homeAnunciar, "anunciar")))
	c := f.next(t)
	if v := viewText(c.JSON); c.Method != "views.open" || !strings.Contains(v, formCallbackID) || !strings.Contains(v, "D0ANA01") || c.JSON["trigger_id"] != "1.2.home_anunciar" {
		t.Errorf("Registrar acción: got %s %s, want views.open of the form for the DM", c.Method, v)
	}
	serve(mux, signed("/slack/interactions", testSecret, testNow, press(homeEnterado, "enterado C3M9 institucion:inegi")))
	got := map[string]apiCall{}
	for range 2 {
		c := f.next(t)
		got[c.Method] = c
	}
	if c, ok := got["chat.postEphemeral"]; !ok || c.Form.Get("user") != "U0ANA" || c.Form.Get("channel") != "D0ANA01" {
		t.Errorf("Enterado: calls %v, want the reply privately to U0ANA in the DM", got)
	}
	if _, ok := got["views.publish"]; !ok {
		t.Errorf("after enterado: calls %v, want views.publish too", got)
	}
	if reqs := h.Requests(); len(reqs) != 1 || reqs[0].Text != "enterado C3M9 institucion:inegi" || reqs[0].User != "slack:U0ANA" {
		t.Errorf("handled %v, want enterado as U0ANA", reqs)
	}
}

func TestHomeViewLimits(t *testing.T) {
	long := strings.Repeat("Secretaría de Infraestructura, Comunicaciones y Transportes & <Anexos> ", 5)
	for _, n := range []int{0, 1, 40, 41, 400} {
		ov := datosbot.Overview{User: "slack:U1", Bimester: datosbot.Bimester{Year: 2026, N: 6}, DaysLeft: 1, DashboardURL: "https://d.example/tablero"}
		for i := range n {
			ov.Institutions = append(ov.Institutions, datosbot.InstitutionOverview{Key: fmt.Sprintf("inst-%03d", i), Name: long, Compliant: i%3 == 0, Actions: i % 3})
			ov.Campaigns = append(ov.Campaigns, datosbot.CampaignOverview{ID: fmt.Sprintf("C%03d", i), Title: long, Institution: fmt.Sprintf("inst-%03d", i), Status: datosbot.StatusPendiente})
		}
		b, _ := json.Marshal(homeView(ov, "D1"))
		var view map[string]any
		json.Unmarshal(b, &view)
		t.Run(fmt.Sprint(n, " institutions"), func(t *testing.T) {
			checkHomeView(t, view)
			s := viewText(view)
			if n > 40 && !strings.Contains(s, fmt.Sprintf("y %d instituciones más", n-40)) {
				t.Error("the institutions past the cap are not summed up")
			}
			if n == 40 && strings.Contains(s, "más (véalas") {
				t.Error("40 institutions should all have their own section")
			}
			if n > 0 && !strings.Contains(s, "inst-000") {
				t.Error("the first institution is missing")
			}
		})
	}
}

// checkHomeView validates a Home view against Block Kit's published limits
// (shared/reference/portal_evidence_dashboard.md §4.2), independently of
// how homeView builds it.
func checkHomeView(t *testing.T, view map[string]any) {
	t.Helper()
	if view["type"] != "home" {
		t.Errorf("view type %v, want home", view["type"])
	}
	raw, _ := json.Marshal(view)
	if len(raw) > 250_000 {
		t.Errorf("view is %d bytes, over 250 kB", len(raw))
	}
	blocks, _ := view["blocks"].([]any)
	if len(blocks) == 0 || len(blocks) > 100 {
		t.Errorf("%d blocks, want 1..100", len(blocks))
	}
	chars := func(v any) int { s, _ := v.(string); return utf8.RuneCountInString(s) }
	textOf := func(o any) any {
		m, _ := o.(map[string]any)
		return m["text"]
	}
	checkButton := func(el map[string]any) {
		if n := chars(textOf(el["text"])); n == 0 || n > 75 {
			t.Errorf("button text of %d characters", n)
		}
		if chars(el["value"]) > 2000 || chars(el["url"]) > 3000 || chars(el["action_id"]) > 255 {
			t.Errorf("button %v over its limits", el)
		}
	}
	for _, bl := range blocks {
		b := bl.(map[string]any)
		if chars(b["block_id"]) > 255 {
			t.Errorf("block_id too long")
		}
		switch b["type"] {
		case "header":
			if n := chars(textOf(b["text"])); n == 0 || n > 150 {
				t.Errorf("header of %d characters", n)
			}
		case "section":
			if n := chars(textOf(b["text"])); n == 0 || n > 3000 {
				t.Errorf("section text of %d characters", n)
			}
			if fs, _ := b["fields"].([]any); len(fs) > 10 {
				t.Errorf("%d fields", len(fs))
			}
			if acc, ok := b["accessory"].(map[string]any); ok && acc["type"] == "button" {
				checkButton(acc)
			}
		case "actions":
			els, _ := b["elements"].([]any)
			if len(els) == 0 || len(els) > 25 {
				t.Errorf("actions block with %d elements", len(els))
			}
			for _, e := range els {
				checkButton(e.(map[string]any))
			}
		case "context":
			if els, _ := b["elements"].([]any); len(els) == 0 || len(els) > 10 {
				t.Errorf("context block with %d elements", len(els))
			}
		case "divider":
		default:
			t.Errorf("unexpected block type %v", b["type"])
		}
	}
}

// viewText is the view's JSON without HTML escaping, for looking for
// texts and values.
func viewText(view map[string]any) string {
	var s strings.Builder
	enc := json.NewEncoder(&s)
	enc.SetEscapeHTML(false)
	enc.Encode(view)
	return s.String()
}

// TestSocketModeHomeOpened: over Socket Mode, an events_api envelope with
// app_home_opened is acknowledged and publishes the Home tab once, also
// when Slack redelivers it.
func TestSocketModeHomeOpened(t *testing.T) {
	f := newFakeSlack(t)
	f.answer("views.publish", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"ok":true}`) })
	ws := newSocketServer(f)
	a, err := New(Config{BotToken: "xoxb-test", AppToken: "xapp-1-test", APIURL: f.apiURL(), Logger: quiet, Home: &homeSource{}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, &bottest.Recorder{}) }()
	t.Cleanup(func() { cancel(); <-done })
	if c := f.next(t); c.Method != "apps.connections.open" {
		t.Fatalf("got %s", c.Method)
	}
	conn := ws.accept(t)
	eventually(t, "connected", func() bool { return a.Ready() == nil })

	envelope := map[string]any{"envelope_id": "env-home-1", "type": "events_api", "accepts_response_payload": false,
		"retry_attempt": 0, "retry_reason": "", "payload": json.RawMessage(eventBody(t, "Ev0SOCK01", "home"))}
	if err := conn.WriteJSON(envelope); err != nil {
		t.Fatal(err)
	}
	readAck(t, conn, "env-home-1")
	c := f.next(t)
	if c.Method != "views.publish" || c.JSON["user_id"] != "U0ANA" {
		t.Fatalf("got %s %v, want views.publish for U0ANA", c.Method, c.JSON)
	}
	checkHomeView(t, c.JSON["view"].(map[string]any))

	envelope["retry_attempt"], envelope["retry_reason"] = 1, "timeout"
	conn.WriteJSON(envelope)
	readAck(t, conn, "env-home-1")
	time.Sleep(100 * time.Millisecond)
	f.none(t)
}
