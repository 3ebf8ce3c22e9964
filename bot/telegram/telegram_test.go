package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/bot"
	"github.com/datosbot/datosbot/bot/bottest"
)

func TestCommandText(t *testing.T) {
	tests := []struct {
		name, in string
		want     string
		ok       bool
	}{
		{"plain command", "/estado", "estado", true},
		{"with our bot name", "/estado@DatosBot inegi", "estado inegi", true},
		{"bot name in another case", "/estado@datosbot", "estado", true},
		{"another bot", "/estado@OtroBot", "", false},
		{"datos prefix", "/datos anunciar https://a https://b", "anunciar https://a https://b", true},
		{"datos prefix with bot name", "/datos@DatosBot estado", "estado", true},
		{"datos alone", "/datos", "ayuda", true},
		{"start with code", "/start K7Q2M9XA", "unirme K7Q2M9XA", true},
		{"start alone", "/start", "ayuda", true},
		{"help", "/help", "ayuda", true},
		{"keeps multi-line arguments", "/anunciar https://a\nhttps://b nota", "anunciar https://a\nhttps://b nota", true},
		{"accented command passes through", "/campaña lista", "campaña lista", true},
		{"not a command", "hola /estado", "", false},
		{"bare slash", "/", "", false},
		{"empty", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := commandText(tt.in, "datosbot")
			if got != tt.want || ok != tt.ok {
				t.Errorf("commandText(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

// TestPollingRequests serves recorded updates through getUpdates and
// checks the requests that reach the handler and the replies sent back.
func TestPollingRequests(t *testing.T) {
	f := newFakeAPI(t)
	f.push(
		update(t, "start_code.json"),
		update(t, "group_anunciar.json"),
		update(t, "estado.json"),
		update(t, "estado.json"), // the same update_id again
		update(t, "other_bot.json"),
		update(t, "plain_text.json"),
		update(t, "datos_sub.json"),
	)
	a, _ := newAdapter(t, f, Config{Deduper: &memDeduper{}})
	h := &bottest.Recorder{}
	stop := run(t, a, h)
	waitFor(t, "all updates confirmed", func() bool { return f.confirmedOffset() > 500107 })
	stop()

	want := []datosbot.Request{
		{ID: "telegram:500100", User: "telegram:5550001", Name: "Ana López", Channel: "telegram:5550001", Private: true, Text: "unirme K7Q2M9XA"},
		{ID: "telegram:500101", User: "telegram:5550002", Name: "Beto", Channel: "telegram:-1001234567890",
			Text: `anunciar https://www.datos.gob.mx/dataset/censo-2020 https://x.com/INEGI_INFORMA/status/1 nota: Censo "2020"`},
		{ID: "telegram:500102", User: "telegram:5550002", Name: "Beto", Channel: "telegram:-1001234567890", Text: "estado"},
		{ID: "telegram:500107", User: "telegram:5550001", Name: "Ana", Channel: "telegram:5550001", Private: true, Text: "acciones inegi bimestre:2026-B1"},
	}
	if got := h.Requests(); !reflect.DeepEqual(got, want) {
		t.Errorf("handler got\n%+v\nwant\n%+v", got, want)
	}
	sent := f.callsOf("sendMessage")
	if len(sent) != len(want) {
		t.Fatalf("got %d sendMessage calls, want %d (one reply per command)", len(sent), len(want))
	}
	for i, c := range sent {
		if c.Params["chat_id"] != want[i].Channel.Local() || c.Params["parse_mode"] != "HTML" || c.Params["text"] != html.EscapeString("ok: "+want[i].Text) && c.Params["text"] != escapeHTML("ok: "+want[i].Text) {
			t.Errorf("reply %d: got chat %s parse_mode %s text %q", i, c.Params["chat_id"], c.Params["parse_mode"], c.Params["text"])
		}
		if !strings.Contains(c.Params["reply_parameters"], `"message_id"`) {
			t.Errorf("reply %d: got reply_parameters %q, want a reply to the command", i, c.Params["reply_parameters"])
		}
	}
}

func TestStartPublishesMenuAndWarnsAboutPrivacy(t *testing.T) {
	f := newFakeAPI(t)
	_, logs := newAdapter(t, f, Config{})
	calls := f.callsOf("setMyCommands")
	if len(calls) != 1 {
		t.Fatalf("got %d setMyCommands calls, want 1", len(calls))
	}
	var cmds []struct{ Command, Description string }
	if err := json.Unmarshal([]byte(calls[0].Params["commands"]), &cmds); err != nil {
		t.Fatalf("commands %q: %v", calls[0].Params["commands"], err)
	}
	var names []string
	valid := regexp.MustCompile(`^[a-z0-9_]{1,32}$`)
	for _, c := range cmds {
		names = append(names, c.Command)
		if !valid.MatchString(c.Command) || c.Description == "" {
			t.Errorf("command %q (%q) is not a valid Telegram command", c.Command, c.Description)
		}
	}
	want := "ayuda anunciar estado acciones retirar unirme enterado publicar campana reporte tablero canal invitar institucion"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("got menu %q, want %q", got, want)
	}
	if !strings.Contains(logs.String(), "privacy mode is on") || !strings.Contains(logs.String(), "/setprivacy") {
		t.Errorf("got log %q, want a privacy-mode warning that says how to fix it", logs.String())
	}
}

func TestCallbackRunsCommandAsPresser(t *testing.T) {
	f := newFakeAPI(t)
	f.push(update(t, "callback_enterado.json"))
	a, _ := newAdapter(t, f, Config{})
	h := &bottest.Recorder{Reply: func(datosbot.Request) datosbot.Reply {
		return datosbot.Reply{Title: "Campaña C3M9: enterado", Text: "Gracias, SHCP queda como enterada."}
	}}
	stop := run(t, a, h)
	waitFor(t, "the callback to be answered", func() bool { return len(f.callsOf("sendMessage")) == 1 })
	stop()

	want := []datosbot.Request{{ID: "telegram:500105", User: "telegram:5550003", Name: "Carla", Channel: "telegram:-1009876543210", Text: "enterado C3M9"}}
	if got := h.Requests(); !reflect.DeepEqual(got, want) {
		t.Errorf("handler got %+v, want %+v", got, want)
	}
	answers := f.callsOf("answerCallbackQuery")
	if len(answers) != 1 || answers[0].Params["callback_query_id"] != "4382bfdwdsb323b2d9" || answers[0].Params["text"] != "Campaña C3M9: enterado" {
		t.Errorf("got answerCallbackQuery %+v, want one answer with the reply title", answers)
	}
	if got := f.callsOf("sendMessage")[0].Params["chat_id"]; got != "-1009876543210" {
		t.Errorf("got reply in chat %s, want -1009876543210", got)
	}
}

func TestMigrateHook(t *testing.T) {
	f := newFakeAPI(t)
	f.push(update(t, "migrate.json"))
	var mu sync.Mutex
	var got [][2]datosbot.ChannelID
	a, _ := newAdapter(t, f, Config{OnMigrate: func(_ context.Context, from, to datosbot.ChannelID) {
		mu.Lock()
		got = append(got, [2]datosbot.ChannelID{from, to})
		mu.Unlock()
	}})
	h := &bottest.Recorder{}
	stop := run(t, a, h)
	waitFor(t, "the update to be confirmed", func() bool { return f.confirmedOffset() > 500106 })
	stop()
	mu.Lock()
	defer mu.Unlock()
	want := [][2]datosbot.ChannelID{{"telegram:-4001112223", "telegram:-1004001112223"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("OnMigrate got %v, want %v", got, want)
	}
	if n := len(h.Requests()); n != 0 {
		t.Errorf("handler got %d requests for a service message, want 0", n)
	}
}

func TestWebhook(t *testing.T) {
	const secret = "s3cr3t-W3bhook_value"
	estado := update(t, "estado.json")
	tests := []struct {
		name       string
		header     string
		setHeader  bool
		body       []byte
		dedupeFail bool
		panics     bool
		wantStatus int
		wantCalls  int
	}{
		{name: "right secret", header: secret, setHeader: true, body: estado, wantStatus: http.StatusOK, wantCalls: 1},
		{name: "wrong secret", header: "s3cr3t-W3bhook_valuf", setHeader: true, body: estado, wantStatus: http.StatusUnauthorized},
		{name: "missing header", body: estado, wantStatus: http.StatusUnauthorized},
		{name: "empty header", header: "", setHeader: true, body: estado, wantStatus: http.StatusUnauthorized},
		{name: "secret as prefix", header: secret + "x", setHeader: true, body: estado, wantStatus: http.StatusUnauthorized},
		{name: "deduper fails", header: secret, setHeader: true, body: estado, dedupeFail: true, wantStatus: http.StatusInternalServerError},
		{name: "handler panics", header: secret, setHeader: true, body: estado, panics: true, wantStatus: http.StatusInternalServerError, wantCalls: 1},
		{name: "body too large", header: secret, setHeader: true, body: bytes.Repeat([]byte(" "), maxWebhookBody+1), wantStatus: http.StatusRequestEntityTooLarge},
		{name: "not json", header: secret, setHeader: true, body: []byte("{"), wantStatus: http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAPI(t)
			d := &memDeduper{failing: tt.dedupeFail}
			a, _ := newAdapter(t, f, Config{WebhookSecret: secret, Deduper: d})
			h := &bottest.Recorder{Reply: func(datosbot.Request) datosbot.Reply {
				if tt.panics {
					panic("boom")
				}
				return datosbot.Reply{Text: "ok"}
			}}
			run(t, a, h)
			waitFor(t, "webhook mode ready", func() bool { return a.Ready() == nil })
			mux := http.NewServeMux()
			a.Routes(mux)
			req := httptest.NewRequest(http.MethodPost, "/telegram/webhook", bytes.NewReader(tt.body))
			if tt.setHeader {
				req.Header.Set("X-Telegram-Bot-Api-Secret-Token", tt.header)
			}
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus {
				t.Errorf("got status %d, want %d", rec.Code, tt.wantStatus)
			}
			if got := len(h.Requests()); got != tt.wantCalls {
				t.Errorf("got %d handler calls, want %d", got, tt.wantCalls)
			}
			if tt.panics {
				// The failed update was forgotten: Telegram's redelivery runs it again.
				h.Reply = func(datosbot.Request) datosbot.Reply { return datosbot.Reply{Text: "ok"} }
				req := httptest.NewRequest(http.MethodPost, "/telegram/webhook", bytes.NewReader(tt.body))
				req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
				rec := httptest.NewRecorder()
				mux.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK || len(h.Requests()) != 2 {
					t.Errorf("redelivery after a panic: got status %d and %d handler calls, want 200 and 2", rec.Code, len(h.Requests()))
				}
			}
		})
	}
}

func TestWebhookDuplicateHandledOnce(t *testing.T) {
	const secret = "another_secret-123"
	f := newFakeAPI(t)
	a, _ := newAdapter(t, f, Config{WebhookSecret: secret, WebhookURL: "https://bot.example.gob.mx/telegram/webhook", Deduper: &memDeduper{}})
	h := &bottest.Recorder{}
	run(t, a, h)
	waitFor(t, "webhook mode ready", func() bool { return a.Ready() == nil })
	if calls := f.callsOf("setWebhook"); len(calls) != 1 || calls[0].Params["secret_token"] != secret || calls[0].Params["url"] != "https://bot.example.gob.mx/telegram/webhook" {
		t.Errorf("got setWebhook calls %+v, want one with the URL and secret_token", calls)
	}
	mux := http.NewServeMux()
	a.Routes(mux)
	for i := range 2 {
		req := httptest.NewRequest(http.MethodPost, "/telegram/webhook", bytes.NewReader(update(t, "group_anunciar.json")))
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Errorf("delivery %d: got status %d, want 200", i+1, rec.Code)
		}
	}
	if got := len(h.Requests()); got != 1 {
		t.Errorf("got %d handler calls for one update delivered twice, want 1", got)
	}
}

func TestPollingModeMountsNoWebhook(t *testing.T) {
	f := newFakeAPI(t)
	a, _ := newAdapter(t, f, Config{})
	mux := http.NewServeMux()
	a.Routes(mux)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/telegram/webhook", strings.NewReader(`{}`)))
	if rec.Code != http.StatusNotFound {
		t.Errorf("got status %d, want 404 without a webhook secret", rec.Code)
	}
}

// TestLeaseSinglePoller runs two replicas against one lease and one Bot
// API: they never poll at once (the fake counts overlaps), and stopping
// the holder hands polling to the other.
func TestLeaseSinglePoller(t *testing.T) {
	f := newFakeAPI(t)
	lease := &fakeLease{now: time.Now}
	d := &memDeduper{}
	cfg := func(holder string) Config {
		return Config{Deduper: d, Lease: lease, LeaseTTL: 150 * time.Millisecond, Holder: holder}
	}
	a, _ := newAdapter(t, f, cfg("a"))
	b, _ := newAdapter(t, f, cfg("b"))
	h := &bottest.Recorder{}
	stopA := run(t, a, h)
	stopB := run(t, b, h)
	stops := map[string]func(){"a": stopA, "b": stopB}
	waitFor(t, "a first poller", func() bool { return f.pollsBy("a")+f.pollsBy("b") >= 3 })
	first := lease.current()
	other := map[string]string{"a": "b", "b": "a"}[first]
	if first == "" || f.pollsBy(other) != 0 {
		t.Fatalf("got holder %q and %d polls by %q, want only the holder polling", first, f.pollsBy(other), other)
	}
	f.push(update(t, "estado.json"))
	waitFor(t, "the first update handled", func() bool { return len(h.Requests()) == 1 })

	stops[first]()
	before := f.pollsBy(first)
	waitFor(t, "the other replica to take over", func() bool { return f.pollsBy(other) >= 3 })
	f.push(update(t, "datos_sub.json"))
	waitFor(t, "the second update handled", func() bool { return len(h.Requests()) == 2 })
	if got := f.pollsBy(first); got != before {
		t.Errorf("stopped replica %q polled %d more times", first, got-before)
	}
	if got := h.Requests(); got[0].Text != "estado" || got[1].Text != "acciones inegi bimestre:2026-B1" {
		t.Errorf("got requests %+v, want estado then acciones, each once", got)
	}
}

// TestLeaseLostStopsPolling makes the holder's renewals fail: it stops
// polling at once, and the other replica takes over only when the lease
// expires on the (manual) clock.
func TestLeaseLostStopsPolling(t *testing.T) {
	f := newFakeAPI(t)
	var clockMu sync.Mutex
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { clockMu.Lock(); defer clockMu.Unlock(); return now }
	lease := &fakeLease{now: clock, fail: map[string]bool{}}
	const ttl = 90 * time.Millisecond
	a, _ := newAdapter(t, f, Config{Lease: lease, LeaseTTL: ttl, Holder: "a"})
	b, _ := newAdapter(t, f, Config{Lease: lease, LeaseTTL: ttl, Holder: "b"})
	run(t, a, &bottest.Recorder{})
	waitFor(t, "a to poll", func() bool { return f.pollsBy("a") >= 2 })
	run(t, b, &bottest.Recorder{})

	lease.mu.Lock()
	lease.fail["a"] = true
	lease.mu.Unlock()
	waitFor(t, "a's renewal to fail", func() bool { lease.mu.Lock(); defer lease.mu.Unlock(); return lease.failed > 0 })
	waitFor(t, "a's poll in flight to end", func() bool { return f.activePolls() == 0 })
	pollsA := f.pollsBy("a")
	if got := f.pollsBy("b"); got != 0 {
		t.Fatalf("b polled %d times while a's lease was still valid", got)
	}
	clockMu.Lock()
	now = now.Add(ttl) // a's lease expires
	clockMu.Unlock()
	waitFor(t, "b to take over", func() bool { return f.pollsBy("b") >= 3 })
	if got := f.pollsBy("a"); got != pollsA {
		t.Errorf("a polled %d times after losing its lease, want 0", got-pollsA)
	}
	if err := a.Ready(); err == nil {
		t.Errorf("a.Ready() = nil with its lease store failing, want an error")
	}
}

func TestPostErrors(t *testing.T) {
	tests := []struct {
		name   string
		chat   string
		status int
		body   string
		check  func(error) string
	}{
		{
			name: "flood wait", chat: "-1001", status: 429,
			body: `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 3","parameters":{"retry_after":3}}`,
			check: func(err error) string {
				var rl *datosbot.RateLimitError
				if !errors.As(err, &rl) || rl.RetryAfter != 3*time.Second {
					return "want *datosbot.RateLimitError{3s}"
				}
				return ""
			},
		},
		{
			name: "group upgraded to supergroup", chat: "-4001112223", status: 400,
			body: `{"ok":false,"error_code":400,"description":"Bad Request: group chat was upgraded to a supergroup chat","parameters":{"migrate_to_chat_id":-1004001112223}}`,
			check: func(err error) string {
				var moved *datosbot.ChannelMovedError
				if !errors.As(err, &moved) || moved.From != "telegram:-4001112223" || moved.To != "telegram:-1004001112223" {
					return "want *datosbot.ChannelMovedError{telegram:-4001112223 → telegram:-1004001112223}"
				}
				return ""
			},
		},
		{name: "bot kicked", chat: "-1003", status: 403, body: `{"ok":false,"error_code":403,"description":"Forbidden: bot was kicked from the supergroup chat"}`, check: permanent},
		{name: "chat not found", chat: "-1004", status: 400, body: `{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}`, check: permanent},
		{name: "not a member", chat: "-1005", status: 403, body: `{"ok":false,"error_code":403,"description":"Forbidden: bot is not a member of the channel chat"}`, check: permanent},
		{name: "user deactivated", chat: "5550009", status: 403, body: `{"ok":false,"error_code":403,"description":"Forbidden: user is deactivated"}`, check: permanent},
		{name: "no rights", chat: "-1006", status: 400, body: `{"ok":false,"error_code":400,"description":"Bad Request: have no rights to send a message"}`, check: permanent},
		{
			name: "server error echoing the URL", chat: "-1007", status: 500,
			body: `{"ok":false,"error_code":500,"description":"Internal Server Error at /bot` + testToken + `/sendMessage"}`,
			check: func(err error) string {
				var rl *datosbot.RateLimitError
				var pe *datosbot.PermanentError
				var moved *datosbot.ChannelMovedError
				if err == nil || errors.As(err, &rl) || errors.As(err, &pe) || errors.As(err, &moved) {
					return "want a transient error"
				}
				return ""
			},
		},
	}
	f := newFakeAPI(t)
	a, _ := newAdapter(t, f, Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.answer("sendMessage "+tt.chat, tt.status, tt.body)
			err := a.Post(context.Background(), datosbot.Message{Key: "k", Channel: datosbot.ChannelID("telegram:" + tt.chat), Reply: datosbot.Reply{Text: "Recordatorio"}})
			if msg := tt.check(err); msg != "" {
				t.Errorf("got %T %v, %s", err, err, msg)
			}
			if err != nil {
				assertNoToken(t, "error", err.Error())
			}
		})
	}
}

func permanent(err error) string {
	var pe *datosbot.PermanentError
	if !errors.As(err, &pe) {
		return "want *datosbot.PermanentError"
	}
	return ""
}

func TestPostEscapesEverything(t *testing.T) {
	const nasty = "_*[]()~>#+-=|{}.!<&` \\ &amp; <b>x</b>"
	f := newFakeAPI(t)
	a, _ := newAdapter(t, f, Config{})
	r := datosbot.Reply{
		Title:   "Acción de " + nasty,
		Text:    "Nota: " + nasty,
		Fields:  []datosbot.Field{{Label: "Registró " + nasty, Value: "Ana " + nasty}},
		Context: "ID " + nasty,
		Buttons: []datosbot.Button{{Label: "Enterado", Command: "enterado C3M9"}},
	}
	if err := a.Post(context.Background(), datosbot.Message{Channel: "telegram:-1001234567890", Reply: r}); err != nil {
		t.Fatalf("Post: %v", err)
	}
	sent := f.callsOf("sendMessage")
	if len(sent) != 1 {
		t.Fatalf("got %d messages, want 1", len(sent))
	}
	p := sent[0].Params
	e := "_*[]()~&gt;#+-=|{}.!&lt;&amp;` \\ &amp;amp; &lt;b&gt;x&lt;/b&gt;"
	want := "<b>Acción de " + e + "</b>\nNota: " + e + "\n<b>Registró " + e + ":</b> Ana " + e + "\n<i>ID " + e + "</i>"
	if p["text"] != want || p["parse_mode"] != "HTML" {
		t.Errorf("got text %q parse_mode %q\nwant text %q parse_mode HTML", p["text"], p["parse_mode"], want)
	}
	var kb struct {
		InlineKeyboard [][]struct {
			Text         string `json:"text"`
			CallbackData string `json:"callback_data"`
		} `json:"inline_keyboard"`
	}
	if err := json.Unmarshal([]byte(p["reply_markup"]), &kb); err != nil || len(kb.InlineKeyboard) != 1 || kb.InlineKeyboard[0][0].CallbackData != "enterado C3M9" {
		t.Errorf("got reply_markup %q, want one button with callback_data \"enterado C3M9\"", p["reply_markup"])
	}
	// A button carries one action: no empty copy_text beside callback_data.
	if strings.Contains(p["reply_markup"], "copy_text") {
		t.Errorf("got reply_markup %q: want no copy_text", p["reply_markup"])
	}
}

func TestRenderSplits(t *testing.T) {
	var lines []string
	for i := 0; len(strings.Join(lines, "\n")) < 10000; i++ {
		lines = append(lines, fmt.Sprintf("%03d acción <https://datos.gob.mx/dataset/x-%d> & nota ñ", i, i))
	}
	manyLines := strings.Join(lines, "\n")
	oneLine := strings.Repeat("palabra&<> ", 1000) // 11,000 characters, no newline
	noSpaces := strings.Repeat("ñ&", 5000)
	tests := []struct {
		name  string
		reply datosbot.Reply
		sep   string // what the cuts removed
	}{
		{"many lines", datosbot.Reply{Text: manyLines}, "\n"},
		{"one long line", datosbot.Reply{Text: oneLine}, ""},
		{"one long word", datosbot.Reply{Text: noSpaces}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parts := render(tt.reply, maxMessageLen)
			if len(parts) < 3 {
				t.Errorf("got %d parts, want at least 3", len(parts))
			}
			for i, p := range parts {
				if n := utf8.RuneCountInString(p); n > maxMessageLen {
					t.Errorf("part %d has %d characters, want at most %d", i, n, maxMessageLen)
				}
				if strings.Contains(html.UnescapeString(p), "&") && strings.Count(p, "&") != strings.Count(p, "&amp;")+strings.Count(p, "&lt;")+strings.Count(p, "&gt;") {
					t.Errorf("part %d has a cut entity", i)
				}
			}
			if got := html.UnescapeString(strings.Join(parts, tt.sep)); got != tt.reply.Text {
				t.Errorf("parts do not join back to the text: got %d characters, want %d", len(got), len(tt.reply.Text))
			}
		})
	}
}

func TestRenderSplitKeepsTagsBalanced(t *testing.T) {
	r := datosbot.Reply{Title: strings.Repeat("Título largo ", 700), Context: strings.Repeat("x", 5000)}
	for i, p := range render(r, maxMessageLen) {
		if utf8.RuneCountInString(p) > maxMessageLen {
			t.Errorf("part %d is too long", i)
		}
		for _, tag := range []string{"b", "i"} {
			if o, c := strings.Count(p, "<"+tag+">"), strings.Count(p, "</"+tag+">"); o != c {
				t.Errorf("part %d: got %d <%s> and %d </%s>, want them balanced", i, o, tag, c, tag)
			}
		}
	}
}

func TestPostLongMessage(t *testing.T) {
	f := newFakeAPI(t)
	a, _ := newAdapter(t, f, Config{})
	text := strings.Repeat("línea de recordatorio con <datos> & más\n", 300)
	text = strings.TrimSuffix(text, "\n")
	r := datosbot.Reply{Text: text, Buttons: []datosbot.Button{{Label: "Enterado", Command: "enterado C3M9"}}}
	if err := a.Post(context.Background(), datosbot.Message{Channel: "telegram:-100123", Reply: r}); err != nil {
		t.Fatalf("Post: %v", err)
	}
	sent := f.callsOf("sendMessage")
	if len(sent) < 3 {
		t.Fatalf("got %d messages, want at least 3", len(sent))
	}
	var texts []string
	for i, c := range sent {
		texts = append(texts, c.Params["text"])
		if hasKB := c.Params["reply_markup"] != ""; hasKB != (i == len(sent)-1) {
			t.Errorf("message %d: got keyboard %v, want it only on the last message", i, hasKB)
		}
	}
	if got := html.UnescapeString(strings.Join(texts, "\n")); got != text {
		t.Errorf("messages do not join back to the text")
	}
}

func TestDiagnose(t *testing.T) {
	tests := []struct {
		name   string
		chat   datosbot.ChannelID
		member string // getChatMember result; empty: answer with errBody
		status int
		errBdy string
		want   string // substring; "" means no diagnosis
	}{
		{name: "admin", chat: "telegram:-100123", member: `{"status":"administrator","user":{"id":777000111,"is_bot":true,"first_name":"Datos"},"can_be_edited":false,"is_anonymous":false,"can_manage_chat":true,"can_delete_messages":false,"can_manage_video_chats":false,"can_restrict_members":false,"can_promote_members":false,"can_change_info":false,"can_invite_users":false}`},
		{name: "member with privacy mode", chat: "telegram:-100123", member: `{"status":"member","user":{"id":777000111,"is_bot":true,"first_name":"Datos"}}`, want: "/setprivacy"},
		{name: "left", chat: "telegram:-100123", member: `{"status":"left","user":{"id":777000111,"is_bot":true,"first_name":"Datos"}}`, want: "Agréguelo de nuevo"},
		{name: "kicked", chat: "telegram:-100123", member: `{"status":"kicked","user":{"id":777000111,"is_bot":true,"first_name":"Datos"},"until_date":0}`, want: "expulsado"},
		{name: "restricted", chat: "telegram:-100123", member: `{"status":"restricted","user":{"id":777000111,"is_bot":true,"first_name":"Datos"},"is_member":true,"can_send_messages":false}`, want: "permiso para enviar"},
		{name: "chat gone", chat: "telegram:-100123", status: 400, errBdy: `{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}`, want: "ya no está"},
		{name: "private chat", chat: "telegram:5550001"},
		{name: "other platform", chat: "slack:C0123"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAPI(t)
			if tt.member != "" {
				f.member = tt.member
			} else if tt.errBdy != "" {
				f.answer("getChatMember", tt.status, tt.errBdy)
			}
			a, _ := newAdapter(t, f, Config{})
			got := a.Diagnose(context.Background(), tt.chat)
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Errorf("Diagnose = %q, want it to contain %q", got, tt.want)
			}
		})
	}
}

// TestTokenNeverLogged forces errors whose text carries the API URL (a
// Bot API that went away) and checks errors and logs.
func TestTokenNeverLogged(t *testing.T) {
	f := newFakeAPI(t)
	a, logs := newAdapter(t, f, Config{})
	f.srv.Close() // every call now fails with a URL error

	err := a.Post(context.Background(), datosbot.Message{Channel: "telegram:-100123", Reply: datosbot.Reply{Text: "hola"}})
	if err == nil {
		t.Fatal("Post to a closed server succeeded")
	}
	assertNoToken(t, "Post error", err.Error())
	if _, gerr := a.getUpdates(context.Background(), 0); gerr == nil {
		t.Fatal("getUpdates from a closed server succeeded")
	} else {
		assertNoToken(t, "getUpdates error", gerr.Error())
		if !strings.Contains(gerr.Error(), "<token>") {
			t.Errorf("getUpdates error %q: want the URL kept with the token replaced by <token>", gerr.Error())
		}
	}
	stop := run(t, a, &bottest.Recorder{})
	waitFor(t, "a logged poll failure", func() bool { return strings.Contains(logs.String(), "getUpdates failed") })
	stop()
	if got := a.Diagnose(context.Background(), "telegram:-100123"); got == "" {
		t.Errorf("Diagnose with the API down = %q, want a message", got)
	}
}

func TestRedactor(t *testing.T) {
	r := newRedactor(testToken)
	tests := []string{
		"Post https://api.telegram.org/bot" + testToken + "/sendMessage: EOF",
		"url /bot777000111%3AAAHk9-S3cr3t_PartOfTheT0ken/getMe",
		"secret alone AAHk9-S3cr3t_PartOfTheT0ken",
	}
	for _, in := range tests {
		got := r.Error(errors.New(in)).Error()
		assertNoToken(t, "redacted", got)
		if !strings.Contains(got, "<token>") {
			t.Errorf("redact(%q) = %q, want <token> in place of the token", in, got)
		}
	}
	base := &datosbot.RateLimitError{RetryAfter: time.Second}
	var rl *datosbot.RateLimitError
	if !errors.As(r.Error(base), &rl) {
		t.Errorf("redacted error lost its chain")
	}
}

// TestPollHonoursRetryAfter answers getUpdates with a flood wait: the
// poller waits retry_after (the library's poller would not) and goes on.
func TestPollHonoursRetryAfter(t *testing.T) {
	f := newFakeAPI(t)
	f.answerTimes("getUpdates", 1, 429, `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 7","parameters":{"retry_after":7}}`)
	f.push(update(t, "estado.json"))
	a, _ := newAdapter(t, f, Config{})
	var mu sync.Mutex
	var waits []time.Duration
	a.pause = func(stop, abort context.Context, d time.Duration) bool {
		mu.Lock()
		waits = append(waits, d)
		mu.Unlock()
		return stop.Err() == nil && abort.Err() == nil
	}
	h := &bottest.Recorder{}
	stop := run(t, a, h)
	waitFor(t, "the update after the flood wait", func() bool { return len(h.Requests()) == 1 })
	stop()
	mu.Lock()
	defer mu.Unlock()
	if len(waits) != 1 || waits[0] != 7*time.Second {
		t.Errorf("got waits %v, want [7s]", waits)
	}
}

// TestPostRetryResumes fails the second part of a long post with a flood
// wait: the retry of the same Message.Key sends only what was missing.
func TestPostRetryResumes(t *testing.T) {
	f := newFakeAPI(t)
	a, _ := newAdapter(t, f, Config{})
	text := strings.TrimSuffix(strings.Repeat("recordatorio del bimestre con datos\n", 300), "\n")
	msg := datosbot.Message{Key: "reminder:2026-B6:14:telegram:-100123", Channel: "telegram:-100123", Reply: datosbot.Reply{Text: text}}
	parts := render(msg.Reply, maxMessageLen)
	if len(parts) < 3 {
		t.Fatalf("got %d parts, want at least 3", len(parts))
	}
	n := 0
	f.intercept(func(c apiCall) (int, string, bool) {
		if c.Method != "sendMessage" {
			return 0, "", false
		}
		n++
		if n == 2 {
			return 429, `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 1","parameters":{"retry_after":1}}`, true
		}
		return 0, "", false
	})
	var rl *datosbot.RateLimitError
	if err := a.Post(context.Background(), msg); !errors.As(err, &rl) {
		t.Fatalf("first attempt: got %v, want a RateLimitError", err)
	}
	if err := a.Post(context.Background(), msg); err != nil {
		t.Fatalf("retry: %v", err)
	}
	var got []string
	for _, c := range f.callsOf("sendMessage") {
		got = append(got, c.Params["text"])
	}
	// Part 1, part 2 (refused), then parts 2… once each.
	want := append([]string{parts[0], parts[1]}, parts[1:]...)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %d sendMessage calls, want %d: part 1 once, part 2 twice, the rest once", len(got), len(want))
	}
	// A new post with the same key after success starts from the first part.
	before := len(f.callsOf("sendMessage"))
	if err := a.Post(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	if got := len(f.callsOf("sendMessage")) - before; got != len(parts) {
		t.Errorf("a post after success sent %d parts, want %d", got, len(parts))
	}
}

func TestDiagnoseChannels(t *testing.T) {
	f := newFakeAPI(t)
	f.member = `{"status":"left","user":{"id":777000111,"is_bot":true,"first_name":"Datos"}}`
	a, _ := newAdapter(t, f, Config{})
	got := a.DiagnoseChannels(context.Background(), "inegi", []datosbot.ChannelID{"slack:C0123", "telegram:-100123", "telegram:5550001"})
	if len(got) != 1 || !strings.Contains(got[0], "salió") {
		t.Errorf("got %q, want one diagnosis for the Telegram group", got)
	}
}

func TestAnonymousAdminIsTold(t *testing.T) {
	f := newFakeAPI(t)
	f.push(json.RawMessage(`{"update_id":600001,"message":{"message_id":5,"date":1767225600,
		"from":{"id":1087968824,"is_bot":true,"first_name":"Group","username":"GroupAnonymousBot"},
		"sender_chat":{"id":-1001234567890,"type":"supergroup","title":"Enlaces INEGI"},
		"chat":{"id":-1001234567890,"type":"supergroup","title":"Enlaces INEGI"},"text":"/estado@DatosBot"}}`))
	a, _ := newAdapter(t, f, Config{})
	h := &bottest.Recorder{}
	stop := run(t, a, h)
	waitFor(t, "the refusal", func() bool { return len(f.callsOf("sendMessage")) == 1 })
	stop()
	if n := len(h.Requests()); n != 0 {
		t.Errorf("handler got %d requests from an anonymous sender, want 0", n)
	}
	if got := f.callsOf("sendMessage")[0].Params["text"]; !strings.Contains(got, "anónim") {
		t.Errorf("got reply %q, want it to explain the anonymous sender", got)
	}
}

func BenchmarkRender(b *testing.B) {
	r := datosbot.Reply{
		Title:   "Estado de INEGI <2026-B6>",
		Text:    strings.Repeat("Acción A7K2Q: https://www.datos.gob.mx/dataset/censo-2020 & nota\n", 100),
		Fields:  []datosbot.Field{{Label: "Cumple", Value: "sí"}, {Label: "Días restantes", Value: "12"}},
		Context: "Registre con /anunciar <url-datos> <url-publicación>",
	}
	for b.Loop() {
		render(r, maxMessageLen)
	}
}

func TestEscapeNeutralisesMentions(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"@alguien revise", "@\u2060alguien revise"},
		{"avise a @ana_lopez y @Beto", "avise a @\u2060ana_lopez y @\u2060Beto"},
		{"(@jefa)", "(@\u2060jefa)"},
		{"escriba a enlace@inegi.gob.mx", "escriba a enlace@inegi.gob.mx"},
		{"/anunciar@DatosBot", "/anunciar@DatosBot"},
		{"un @ suelto", "un @ suelto"},
		{"<@U123>", "&lt;@\u2060U123&gt;"},
	}
	for _, tt := range tests {
		if got := escapeHTML(tt.in); got != tt.want {
			t.Errorf("escapeHTML(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestSecretReplyGoesPrivate: an invitation code asked for in a group is
// sent to the person's private chat, never to the group; when Telegram
// refuses the private chat (the person never started the bot), the group
// is told how to get it, still without the code.
func TestSecretReplyGoesPrivate(t *testing.T) {
	const code = "K7Q2M9"
	inGroup := func(id int) json.RawMessage {
		return json.RawMessage(fmt.Sprintf(`{"update_id": %d, "message": {"message_id": %d, "date": 1767225660,
			"from": {"id": 5550002, "is_bot": false, "first_name": "Beto"},
			"chat": {"id": -1001234567890, "type": "supergroup", "title": "Enlaces INEGI"},
			"text": "/invitar inegi comunicacion", "entities": [{"offset": 0, "length": 8, "type": "bot_command"}]}}`, id, id))
	}
	secret := bot.HandlerFunc(func(ctx context.Context, r datosbot.Request) datosbot.Reply {
		return datosbot.Reply{Title: "Invitación creada", Text: "Código para comunicacion de inegi: " + code, Secret: true}
	})
	tests := []struct {
		name        string
		refuse      bool
		wantPrivate bool
		wantGroup   string
	}{
		{"private chat open", false, true, "por mensaje privado"},
		{"private chat refused", true, false, "https://t.me/DatosBot, pulse Iniciar"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAPI(t)
			if tt.refuse {
				f.answer("sendMessage 5550002", http.StatusForbidden, `{"ok":false,"error_code":403,"description":"Forbidden: bot can't initiate conversation with a user"}`)
			}
			f.push(inGroup(600000 + i))
			a, _ := newAdapter(t, f, Config{Deduper: &memDeduper{}})
			stop := run(t, a, secret)
			waitFor(t, "the group answered", func() bool {
				for _, c := range f.callsOf("sendMessage") {
					if c.Params["chat_id"] == "-1001234567890" {
						return true
					}
				}
				return false
			})
			stop()
			var private, group []string
			for _, c := range f.callsOf("sendMessage") {
				switch c.Params["chat_id"] {
				case "5550002":
					private = append(private, c.Params["text"])
				case "-1001234567890":
					group = append(group, c.Params["text"])
				default:
					t.Errorf("message to unexpected chat %s", c.Params["chat_id"])
				}
			}
			if len(group) != 1 || strings.Contains(group[0], code) || !strings.Contains(group[0], tt.wantGroup) {
				t.Errorf("group got %q: want one message with %q and without the code", group, tt.wantGroup)
			}
			if len(private) != 1 || !strings.Contains(private[0], code) {
				t.Errorf("private chat got %q: want one attempt with the code", private)
			}
		})
	}
}
