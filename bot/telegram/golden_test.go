package telegram

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/datosbot/datosbot/bot/bottest"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden renderings in testdata/render")

// TestGoldenRendering compares the Telegram HTML messages and the inline
// keyboard of each sample reply with testdata/render/<name>.html, which
// shows reviewers what people see. Run
// `go test ./bot/telegram -run TestGoldenRendering -update` after a
// deliberate change of the rendering, and review the diff.
func TestGoldenRendering(t *testing.T) {
	for _, s := range bottest.Samples() {
		t.Run(s.Name, func(t *testing.T) {
			var b strings.Builder
			for i, part := range render(s.Reply, maxMessageLen) {
				if i > 0 {
					b.WriteString("\n----- mensaje siguiente -----\n")
				}
				b.WriteString(part)
				b.WriteString("\n")
			}
			if kb := keyboard(s.Reply); kb != nil {
				js, err := json.Marshal(kb)
				if err != nil {
					t.Fatal(err)
				}
				b.WriteString("----- botones -----\n")
				b.Write(js)
				b.WriteString("\n")
			}
			golden(t, filepath.Join("testdata", "render", s.Name+".html"), []byte(b.String()))
		})
	}
}

// golden compares got with the file at path, or rewrites it with -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *updateGolden {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("rendering differs from %s (run with -update after a deliberate change)\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}
