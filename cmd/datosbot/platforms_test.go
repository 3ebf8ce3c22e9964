package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSlackWiring checks that with Slack configured, Main mounts the signed
// /slack/commands route, answers through the command language, and refuses
// an unsigned request.
func TestSlackWiring(t *testing.T) {
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok":true}`)
	}))
	defer fake.Close()
	secret := "8f742231b10e8888abcd99yyyzzz85a5"
	c := startConsole(t, map[string]string{
		"DATOSBOT_DATA_FILE":   filepath.Join(t.TempDir(), "s.json"),
		"SLACK_BOT_TOKEN":      "xoxb-test",
		"SLACK_SIGNING_SECRET": secret,
		"SLACK_API_URL":        fake.URL,
		"DATOSBOT_ADMINS":      "slack:UADMIN",
	})
	defer c.close()
	if c.m.Config.Console {
		t.Error("the console should be off when Slack is configured")
	}
	body := url.Values{"command": {"/datos"}, "text": {"institucion alta inegi INEGI"}, "user_id": {"UADMIN"},
		"channel_id": {"C1"}, "team_id": {"T1"}, "trigger_id": {"1.2.3"}, "response_url": {fake.URL + "/resp"}}.Encode()

	post := func(sign bool) *http.Response {
		req, _ := http.NewRequest("POST", "http://"+c.m.Addr()+"/slack/commands", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if sign {
			ts := strconv.FormatInt(time.Now().Unix(), 10)
			mac := hmac.New(sha256.New, []byte(secret))
			io.WriteString(mac, "v0:"+ts+":"+body)
			req.Header.Set("X-Slack-Request-Timestamp", ts)
			req.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	if resp := post(false); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unsigned request = %d, want 401", resp.StatusCode)
	}
	// Signed requests are answered once the adapter runs, which /readyz tells.
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, err := http.Get("http://" + c.m.Addr() + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz = %d after 10 s", r.StatusCode)
		}
		time.Sleep(10 * time.Millisecond)
	}
	resp := post(true)
	defer resp.Body.Close()
	var msg struct {
		Text string `json:"text"`
	}
	json.NewDecoder(resp.Body).Decode(&msg)
	if resp.StatusCode != 200 || !strings.Contains(msg.Text, "Institución registrada") {
		t.Fatalf("signed request = %d %q", resp.StatusCode, msg.Text)
	}
}

// TestSlackRejectedTokenStopsStart: a bot token Slack rejects stops the
// start with one line naming SLACK_BOT_TOKEN, without the token; a Slack
// that cannot be reached does not.
func TestSlackRejectedTokenStopsStart(t *testing.T) {
	const token = "xoxb-1111-2222-revocado"
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/auth.test") {
			io.WriteString(w, `{"ok":false,"error":"token_revoked"}`)
			return
		}
		io.WriteString(w, `{"ok":true}`)
	}))
	defer fake.Close()
	vars := map[string]string{
		"DATOSBOT_ADDR":        "127.0.0.1:0",
		"DATOSBOT_DATA_FILE":   filepath.Join(t.TempDir(), "s.json"),
		"SLACK_BOT_TOKEN":      token,
		"SLACK_SIGNING_SECRET": "8f742231b10e8888abcd99yyyzzz85a5",
		"SLACK_API_URL":        fake.URL,
	}
	cfg, err := LoadConfig(env(vars))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Start(context.Background(), cfg, strings.NewReader(""), io.Discard, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err == nil {
		m.Close()
		t.Fatal("Start succeeded with a revoked Slack token")
	}
	if msg := err.Error(); !strings.Contains(msg, "SLACK_BOT_TOKEN") || !strings.Contains(msg, "token_revoked") ||
		strings.Contains(msg, token) || strings.Contains(msg, "\n") {
		t.Errorf("error %q: want one line naming SLACK_BOT_TOKEN and Slack's reason, without the token", msg)
	}

	fake.Close() // Slack unreachable: the bot starts and checks later
	if cfg, err = LoadConfig(env(vars)); err != nil {
		t.Fatal(err)
	}
	m, err = Start(context.Background(), cfg, strings.NewReader(""), io.Discard, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("Start with Slack unreachable: %v", err)
	}
	m.Close()
}

// TestFailedStartClosesTheStore checks that whichever step of the start
// fails, the store is closed: in embedded mode closing saves the state
// file, so the file exists after the failure.
func TestFailedStartClosesTheStore(t *testing.T) {
	slackRejects := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok":false,"error":"invalid_auth"}`)
	}))
	defer slackRejects.Close()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	tests := []struct {
		name    string
		vars    map[string]string
		wantErr string
	}{
		{"address in use", map[string]string{"DATOSBOT_ADDR": busy.Addr().String()}, "DATOSBOT_ADDR"},
		{"slack rejects the token", map[string]string{"DATOSBOT_ADDR": "127.0.0.1:0", "SLACK_BOT_TOKEN": "xoxb-revoked",
			"SLACK_SIGNING_SECRET": "8f742231b10e8888abcd99yyyzzz85a5", "SLACK_API_URL": slackRejects.URL}, "SLACK_BOT_TOKEN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "state.json")
			tt.vars["DATOSBOT_DATA_FILE"] = file
			cfg, err := LoadConfig(env(tt.vars))
			if err != nil {
				t.Fatal(err)
			}
			m, err := Start(context.Background(), cfg, strings.NewReader(""), io.Discard, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err == nil {
				m.Close()
				t.Fatal("Start succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Start error = %q, want it to name %s", err, tt.wantErr)
			}
			if _, err := os.Stat(file); err != nil {
				t.Errorf("after the failed start the state file is missing (%v): the store was not closed", err)
			}
		})
	}
}
