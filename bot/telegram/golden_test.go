package telegram

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/datosbot/datosbot/bot/bottest"
)

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
			bottest.Golden(t, filepath.Join("testdata", "render", s.Name+".html"), []byte(b.String()))
		})
	}
}
