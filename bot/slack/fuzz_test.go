package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/bot"
)

// The fuzz targets of the Slack adapter. `go test` runs their seeds and the
// corpus in testdata/fuzz; scripts/test.sh fuzzes each for a few seconds;
// see the README for longer runs.

var slackRef = regexp.MustCompile(`^slack:[A-Za-z0-9]+$`)

// checkingHandler fails the fuzz run when a request names no one, or,
// with channels set, nowhere.
type checkingHandler struct {
	channels bool
	mu       sync.Mutex
	bad      []datosbot.Request
}

func (h *checkingHandler) Handle(_ context.Context, req datosbot.Request) datosbot.Reply {
	if !slackRef.MatchString(string(req.User)) || (h.channels && !slackRef.MatchString(string(req.Channel))) {
		h.mu.Lock()
		h.bad = append(h.bad, req)
		h.mu.Unlock()
	}
	return datosbot.Reply{Text: "ok: " + req.Text}
}

// FuzzCommandBody posts any signed body to /slack/commands: the answer is
// 200 or 400, never a crash, and a command runs only as a well-formed user
// in a well-formed channel.
func FuzzCommandBody(f *testing.F) {
	body := readTestdataF(f, "command_datos.txt")
	f.Add(strings.Replace(body, "text=TEXT", "text=estado", 1))
	f.Add(strings.Replace(body, "text=TEXT", "text="+url.QueryEscape("anunciar <https://www.datos.gob.mx/dataset/x?utm_source=a&amp;b=1> <https://x.com/a/status/1|x>"), 1))
	f.Add(strings.Replace(body, "&user_id=U0ANA", "", 1))
	f.Add(strings.Replace(body, "user_id=U0ANA", "user_id=U0ANA&user_id=", 1))
	f.Add("user_id=%&channel_id=C1")
	f.Add("")

	a, err := New(Config{BotToken: "xoxb-test", SigningSecret: testSecret, APIURL: "http://127.0.0.1:9/api",
		Now: func() time.Time { return testNow }, Logger: quiet, AckTimeout: 2 * time.Second})
	if err != nil {
		f.Fatal(err)
	}
	h := &checkingHandler{channels: true}
	var handler bot.Handler = h
	a.handler.Store(&handler)
	mux := http.NewServeMux()
	a.Routes(mux)

	f.Fuzz(func(t *testing.T, body string) {
		w := serve(mux, signed("/slack/commands", testSecret, testNow, body))
		if w.Code != http.StatusOK && w.Code != http.StatusBadRequest {
			t.Fatalf("status %d for body %q", w.Code, body)
		}
		if w.Code == http.StatusOK && w.Body.Len() > 0 && !json.Valid(w.Body.Bytes()) {
			t.Fatalf("answer %q is not JSON", w.Body)
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		if len(h.bad) > 0 {
			t.Fatalf("body %q ran %+v", body, h.bad)
		}
	})
}

// FuzzInteractionBody posts any signed payload to /slack/interactions:
// buttons and forms answer 200 or 400, never crash, and run a command only
// as a well-formed user. (The channel of a form or a Home tab button comes
// from our own private_metadata, and may be none: the Home tab has no
// channel.)
func FuzzInteractionBody(f *testing.F) {
	for _, name := range []string{"block_actions.json", "view_submission.json"} {
		f.Add(readTestdataF(f, name))
	}
	f.Add(strings.Replace(readTestdataF(f, "block_actions.json"), `{"id":"U0LUIS"`, `{"id":""`, 1))
	form := strings.NewReplacer(`"DATOS"`, `"`+goodData+`?utm_source=x"`, `"PUB"`, `"`+goodPub+`"`, `"NOTA"`, `null`).Replace(readTestdataF(f, "view_submission.json"))
	f.Add(form)
	f.Add(strings.Replace(form, `{\"c\":\"C0INEGI01\"}`, `{\"c\":\"\"}`, 1))
	f.Add(`{"type":"block_actions","user":{"id":"U1"},"actions":[{"action_id":"datos_cmd_0","value":"estado"}]}`)
	f.Add(`{"type":"view_submission","user":{"id":"U1"},"view":{"callback_id":"datos_anunciar","private_metadata":"{\"c\":\"\"}"}}`)

	a, err := New(Config{BotToken: "xoxb-test", SigningSecret: testSecret, APIURL: "http://127.0.0.1:9/api",
		Now: func() time.Time { return testNow }, Logger: quiet, AckTimeout: 2 * time.Second})
	if err != nil {
		f.Fatal(err)
	}
	h := &checkingHandler{}
	var handler bot.Handler = h
	a.handler.Store(&handler)
	mux := http.NewServeMux()
	a.Routes(mux)

	f.Fuzz(func(t *testing.T, payload string) {
		body := url.Values{"payload": {payload}}.Encode()
		w := serve(mux, signed("/slack/interactions", testSecret, testNow, body))
		if w.Code != http.StatusOK && w.Code != http.StatusBadRequest {
			t.Fatalf("status %d for payload %q", w.Code, payload)
		}
		if w.Code == http.StatusOK && w.Body.Len() > 0 && !json.Valid(w.Body.Bytes()) {
			t.Fatalf("answer %q is not JSON", w.Body)
		}
		a.wg.Wait() // button presses run after the acknowledgment
		h.mu.Lock()
		defer h.mu.Unlock()
		if len(h.bad) > 0 {
			t.Fatalf("payload %q ran %+v", payload, h.bad)
		}
	})
}

func readTestdataF(f *testing.F, name string) string {
	f.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		f.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// FuzzBlocks renders replies made of any text and checks Block Kit's
// limits: at most 50 blocks, 150 characters in a header, 3000 in a
// section's text (rich_text included), 25 buttons of at most 75
// characters, no empty text element.
func FuzzBlocks(f *testing.F) {
	f.Add("Campaña C3M9", "La Unidad pide comunicar los datos.", "Datos", "https://www.datos.gob.mx/dataset/x", "Enterado", "Responda.", uint16(1), uint8(1), uint8(1))
	f.Add(strings.Repeat("título ", 40), strings.Repeat("línea con <, > y &\n", 400), "Nota", strings.Repeat("@here ", 500), "Ver", "<!channel>", uint16(3), uint8(30), uint8(30))
	f.Add("", "http://.... https:// http://x.", "", "", "", "", uint16(200), uint8(0), uint8(0))
	f.Add("\u200b", strings.Repeat("😀", 3001), "a", strings.Repeat("&", 2500), "b", strings.Repeat("<", 4000), uint16(60), uint8(60), uint8(3))
	f.Fuzz(func(t *testing.T, title, text, label, value, button, context string, repeat uint16, nFields, nButtons uint8) {
		// repeat stretches the text up to about 64,000 characters and the
		// field values up to 2,500: with the fields, past what 50 blocks
		// of 3000 hold.
		r := datosbot.Reply{Title: title, Text: stretch(text, int(repeat)%1000*64), Context: context}
		for range int(nFields) % 80 {
			r.Fields = append(r.Fields, datosbot.Field{Label: label, Value: stretch(value, int(repeat)%40*64)})
		}
		for range int(nButtons) % 40 {
			r.Buttons = append(r.Buttons, datosbot.Button{Label: button + "x", Command: "enterado " + button})
		}
		checkBlockKit(t, responseMessage(r))
	})
}

// stretch repeats s to about n bytes.
func stretch(s string, n int) string {
	if s == "" || len(s) >= n {
		return s
	}
	return strings.Repeat(s, n/len(s)+1)
}

// Block Kit's limits as Slack documents them, written out here rather than
// taken from the package's constants, so that a wrong constant fails the
// check instead of moving it.
const (
	blockKitBlocks      = 50   // blocks in one message
	blockKitSectionText = 3000 // characters of a section's (or rich_text's, or a context element's) text
	blockKitHeader      = 150  // characters of a header's plain text
	blockKitButtons     = 25   // elements of an actions block
	blockKitButtonLabel = 75   // characters of a button's text
	fallbackText        = 3000 // the top-level text our notifications show
)

// checkBlockKit fails t when m breaks a limit of Block Kit, or holds a
// block of a type responseMessage does not make (and this check does not
// know the limits of).
func checkBlockKit(t *testing.T, m message) {
	t.Helper()
	for _, p := range blockKitProblems(t, m) {
		t.Error(p)
	}
}

// blockKitProblems lists how m breaks Block Kit's limits, one line each.
func blockKitProblems(t *testing.T, m message) []string {
	t.Helper()
	var problems []string
	problem := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Text   string      `json:"text"`
		Blocks []blockJSON `json:"blocks"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	runes := utf8.RuneCountInString
	if n := runes(got.Text); n > fallbackText || n == 0 {
		problem("fallback text of %d characters, want 1 to %d", n, fallbackText)
	}
	if len(got.Blocks) > blockKitBlocks {
		problem("%d blocks, want at most %d", len(got.Blocks), blockKitBlocks)
	}
	for i, blk := range got.Blocks {
		switch blk.Type {
		case "header":
			if n := runes(blk.Text.Text); n > blockKitHeader || n == 0 {
				problem("block %d: header of %d characters, want 1 to %d", i, n, blockKitHeader)
			}
		case "rich_text":
			n := 0
			for _, sec := range blk.Elements {
				for _, el := range sec.Elements {
					switch {
					case el.Type == "text" && el.Text == "", el.Type == "link" && el.URL == "":
						problem("block %d: empty %s element", i, el.Type)
					}
					n += runes(el.Text) + runes(el.URL)
				}
			}
			if n > blockKitSectionText || n == 0 {
				problem("block %d: rich_text of %d characters, want 1 to %d", i, n, blockKitSectionText)
			}
		case "actions":
			if len(blk.Elements) > blockKitButtons {
				problem("block %d: %d buttons, want at most %d", i, len(blk.Elements), blockKitButtons)
			}
			for _, el := range blk.Elements {
				if n := runes(el.text(t)); n > blockKitButtonLabel {
					problem("block %d: button label of %d characters, want at most %d", i, n, blockKitButtonLabel)
				}
			}
		case "context":
			for _, el := range blk.Elements {
				if n := runes(el.text(t)); n > blockKitSectionText || n == 0 {
					problem("block %d: context of %d characters, want 1 to %d", i, n, blockKitSectionText)
				}
			}
		default:
			problem("block %d: unexpected block type %q", i, blk.Type)
		}
	}
	return problems
}
