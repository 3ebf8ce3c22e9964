package slack

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/datosbot/datosbot/bot/bottest"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden renderings in testdata/render")

// TestGoldenRendering compares the Slack message of each sample reply with
// testdata/render/<name>.json, which shows reviewers what people see.
// Run `go test ./bot/slack -run TestGoldenRendering -update` after a
// deliberate change of the rendering, and review the diff.
func TestGoldenRendering(t *testing.T) {
	for _, s := range bottest.Samples() {
		t.Run(s.Name, func(t *testing.T) {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(responseMessage(s.Reply)); err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata", "render", s.Name+".json"), buf.Bytes())
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
