package main

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
)

// TestScrapeIsClean scrapes /metrics of a started bot that has answered
// commands and posted through the outbox, and lints the text with
// Prometheus' linter (the one promtool check metrics runs), and with
// promtool itself when it is installed (scripts/test.sh installs it).
func TestScrapeIsClean(t *testing.T) {
	c := startConsole(t, map[string]string{"DATOSBOT_DATA_FILE": filepath.Join(t.TempDir(), "s.json")})
	defer c.close()
	c.say("/datos institucion alta inegi INEGI")
	c.say("/en canal-inegi")
	c.say("/datos canal vincular inegi")
	c.say("/datos borrar todo")
	if resp, err := http.Get("http://" + c.m.Addr() + "/healthz"); err == nil {
		resp.Body.Close()
	}
	resp, err := http.Get("http://" + c.m.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"datosbot_outbox_sent_total", "datosbot_commands_total", "datosbot_http_request_duration_seconds", "go_goroutines", "process_start_time_seconds"} {
		if !bytes.Contains(body, []byte("# TYPE "+want+" ")) {
			t.Errorf("the scrape lacks %s:\n%s", want, body)
		}
	}
	problems, err := promlint.New(bytes.NewReader(body)).Lint()
	if err != nil {
		t.Fatalf("lint: %v\n%s", err, body)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}

	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("DATOSBOT_REQUIRE_PROMTOOL") != "" {
			t.Fatal("promtool is not on PATH")
		}
		return // promlint above is what promtool runs
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	if out, err := cmd.CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "" {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}
