package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/datosbot/datosbot"
)

// TestSlackHomeTabWiring: with Slack over HTTP, app_home_opened posted to
// /slack/events publishes the person's Home tab from the dashboard's
// overview of the real store, and their registration through /datos
// anunciar publishes it again with the new state.
func TestSlackHomeTabWiring(t *testing.T) {
	publishes := make(chan map[string]any, 10)
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/views.publish") {
			var body map[string]any
			json.NewDecoder(r.Body).Decode(&body)
			publishes <- body
		}
		io.WriteString(w, `{"ok":true}`)
	}))
	defer fake.Close()
	secret := "8f742231b10e8888abcd99yyyzzz85a5"
	addr := freeAddr(t)
	c := startConsole(t, map[string]string{
		"DATOSBOT_ADDR":        addr,
		"DATOSBOT_PUBLIC_URL":  "https://datosbot.example.gob.mx",
		"DATOSBOT_DATA_FILE":   filepath.Join(t.TempDir(), "s.json"),
		"DATOSBOT_NOW":         "2026-11-20T10:00:00-06:00",
		"SLACK_BOT_TOKEN":      "xoxb-test",
		"SLACK_SIGNING_SECRET": secret,
		"SLACK_API_URL":        fake.URL,
		"DATOSBOT_ADMINS":      "slack:UADMIN",
	})
	defer c.close()
	browserFixture(t, c)
	if err := c.m.Store.AddMembership(context.Background(), datosbot.Membership{User: "slack:UENLACE", Role: datosbot.RoleInstitucional,
		Institution: "sep", GrantedBy: "slack:UADMIN"}); err != nil {
		t.Fatal(err)
	}
	waitReady(t, "http://"+addr)
	post := func(path, contentType, body string) *http.Response {
		req, _ := http.NewRequest("POST", "http://"+addr+path, strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		mac := hmac.New(sha256.New, []byte(secret))
		io.WriteString(mac, "v0:"+ts+":"+body)
		req.Header.Set("X-Slack-Request-Timestamp", ts)
		req.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	next := func(what string) string {
		t.Helper()
		select {
		case p := <-publishes:
			if p["user_id"] != "UENLACE" {
				t.Errorf("%s: views.publish for %v, want UENLACE", what, p["user_id"])
			}
			b, _ := json.Marshal(p["view"])
			return string(b)
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: no views.publish", what)
			return ""
		}
	}

	event := `{"token":"x","team_id":"T1","api_app_id":"A1","event":{"type":"app_home_opened","user":"UENLACE","channel":"D0ENLACE","tab":"home","event_ts":"1763632800.000100"},"type":"event_callback","event_id":"Ev0WIRE01","event_time":1763632800}`
	if resp := post("/slack/events", "application/json", event); resp.StatusCode != http.StatusOK {
		t.Fatalf("/slack/events = %d", resp.StatusCode)
	}
	first := next("app_home_opened")
	for _, want := range []string{"Secretaría de Educación Pública", "aún no cumple 2026-B6", "https://datosbot.example.gob.mx/tablero", "home_anunciar"} {
		if !strings.Contains(first, want) {
			t.Errorf("first Home tab lacks %q:\n%s", want, first)
		}
	}

	cmd := url.Values{"command": {"/datos"}, "text": {"anunciar https://www.datos.gob.mx/dataset/sep https://x.com/SEP_mx/status/1991 institucion:sep"},
		"user_id": {"UENLACE"}, "user_name": {"enlace"}, "channel_id": {"C0SEP"}, "team_id": {"T1"}, "trigger_id": {"1.2.4"},
		"response_url": {fake.URL + "/resp"}}.Encode()
	if resp := post("/slack/commands", "application/x-www-form-urlencoded", cmd); resp.StatusCode != http.StatusOK {
		t.Fatalf("/slack/commands = %d", resp.StatusCode)
	}
	second := next("after anunciar")
	if !strings.Contains(second, "cumple 2026-B6 con 1 acción") {
		t.Errorf("Home tab after the registration lacks the new state:\n%s", second)
	}
}
