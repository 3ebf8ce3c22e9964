package slack

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/datosbot/datosbot/bot/bottest"
)

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
			bottest.Golden(t, filepath.Join("testdata", "render", s.Name+".json"), buf.Bytes())
		})
	}
}
