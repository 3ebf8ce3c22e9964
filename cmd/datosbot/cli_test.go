package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExportImportCommands runs `datosbot export <archivo>` and
// `datosbot import <archivo>` as an operator does when moving from the
// embedded store to another one: the imported state exports the same, and
// the export file is private to its owner.
func TestExportImportCommands(t *testing.T) {
	ctx := context.Background()
	from := map[string]string{"DATOSBOT_DATA_FILE": filepath.Join(t.TempDir(), "from.json"), "DATOSBOT_NOW": "2026-12-02T10:00:00-06:00"}
	c := startConsole(t, from)
	c.registerAction("“nota: migración”")
	c.close()

	dump := filepath.Join(t.TempDir(), "export.json")
	if err := Run(ctx, []string{"export", dump}, env(from), nil, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dump); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("export file: %v, mode %v; want it written with mode 0600", err, fi.Mode().Perm())
	}
	to := map[string]string{"DATOSBOT_DATA_FILE": filepath.Join(t.TempDir(), "to.json")}
	if err := Run(ctx, []string{"import", dump}, env(to), nil, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	var again bytes.Buffer
	if err := Run(ctx, []string{"export"}, env(to), nil, &again, io.Discard); err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(dump)
	if !bytes.Equal(again.Bytes(), want) || !strings.Contains(again.String(), "migración") {
		t.Errorf("export after import differs:\n%s\nwant:\n%s", again.String(), want)
	}

	// Importing again, into a store that now has data, is refused and names the file.
	err := Run(ctx, []string{"import", dump}, env(to), nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), dump) {
		t.Errorf("second import: got %v, want a refusal naming %s", err, dump)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte("{esto no es json"), 0o600)
	empty := map[string]string{"DATOSBOT_DATA_FILE": filepath.Join(t.TempDir(), "empty.json")}
	if err := Run(ctx, []string{"import", bad}, env(empty), nil, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "no es una exportación de datosbot") {
		t.Errorf("import of a broken file: got %v, want it refused as not an export", err)
	}
	if err := Run(ctx, []string{"import"}, env(empty), nil, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "uso:") {
		t.Errorf("import without a file: got %v, want the usage", err)
	}
}

// TestHealthcheckCommand is the Dockerfile's HEALTHCHECK: it succeeds while
// the bot answers /healthz on DATOSBOT_ADDR's port and fails otherwise.
func TestHealthcheckCommand(t *testing.T) {
	ctx := context.Background()
	c := startConsole(t, map[string]string{"DATOSBOT_DATA_FILE": filepath.Join(t.TempDir(), "s.json")})
	defer c.close()
	if err := Run(ctx, []string{"healthcheck"}, env(map[string]string{"DATOSBOT_ADDR": c.m.Addr()}), nil, io.Discard, io.Discard); err != nil {
		t.Errorf("healthcheck of a running bot: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	free := l.Addr().String()
	l.Close()
	if err := Run(ctx, []string{"healthcheck"}, env(map[string]string{"DATOSBOT_ADDR": free}), nil, io.Discard, io.Discard); err == nil {
		t.Error("healthcheck with no bot listening succeeded")
	}
}

func TestUnknownSubcommand(t *testing.T) {
	var out bytes.Buffer
	err := Run(context.Background(), []string{"exportar"}, env(map[string]string{}), nil, &out, io.Discard)
	if err == nil || !strings.Contains(err.Error(), `"exportar"`) || !strings.Contains(err.Error(), "datosbot export") {
		t.Errorf("got %v, want an error naming the sub-command and listing the right ones", err)
	}
	if err := Run(context.Background(), []string{"version"}, env(map[string]string{}), nil, &out, io.Discard); err != nil || !strings.HasPrefix(out.String(), "datosbot ") {
		t.Errorf("version: %v, %q", err, out.String())
	}
}

// TestVersionWhateverTheEnvironment checks that `datosbot version` answers
// even when the configuration would stop the bot.
func TestVersionWhateverTheEnvironment(t *testing.T) {
	for _, vars := range []map[string]string{
		{},
		{"REDIS_URL": "http://nada", "DATOSBOT_TZ": "Mars/Olympus", "SLACK_BOT_TOKEN": "xoxb-sin-secreto"},
		{"DATOSBOT_REMINDER_DAYS": "mañana", "DATOSBOT_LOG_LEVEL": "todo"},
	} {
		var out bytes.Buffer
		if err := Run(context.Background(), []string{"version"}, env(vars), nil, &out, io.Discard); err != nil || out.String() != "datosbot "+version+"\n" {
			t.Errorf("version with %v: %v, %q", vars, err, out.String())
		}
	}
}

// TestStartErrorsReadOnce checks what an operator reads when the start
// fails: one line, the variable named once, no error code, and for Redis
// out of reach the cause rather than the chat users' "try again later".
func TestStartErrorsReadOnce(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String() // nothing listens here once closed
	l.Close()
	dir := t.TempDir()
	corrupt := filepath.Join(dir, "corrupt.json")
	os.WriteFile(corrupt, []byte("{no"), 0o600)
	tests := []struct {
		name     string
		vars     map[string]string
		wantOnce string // appears exactly once
		want     string // also appears
	}{
		{"redis out of reach", map[string]string{"REDIS_URL": "redis://" + closed + "/0?dial_timeout=1s&max_retries=-1"}, "REDIS_URL", "connection refused"},
		{"bad data file", map[string]string{"DATOSBOT_DATA_FILE": corrupt}, "DATOSBOT_DATA_FILE", "corrupt.json"},
		{"bad reminder days", map[string]string{"DATOSBOT_REMINDER_DAYS": "14,x"}, "DATOSBOT_REMINDER_DAYS", `"14,x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.vars["DATOSBOT_ADDR"] = "127.0.0.1:0"
			tt.vars["DATOSBOT_CONSOLE"] = "0"
			var logs bytes.Buffer
			err := Run(context.Background(), nil, env(tt.vars), strings.NewReader(""), io.Discard, &logs)
			if err == nil {
				t.Fatal("Run succeeded, want an error")
			}
			msg := err.Error()
			if strings.Count(msg, tt.wantOnce) != 1 || !strings.Contains(msg, tt.want) || strings.Contains(msg, "\n") {
				t.Errorf("error %q: want one line naming %s once and saying %q", msg, tt.wantOnce, tt.want)
			}
			for _, code := range []string{"invalid:", "unavailable:", "internal:", "Intente de nuevo"} {
				if strings.Contains(msg, code) {
					t.Errorf("error %q carries %q, meant for machines or chat users", msg, code)
				}
			}
		})
	}
}
