package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"
	_ "time/tzdata"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/bot/bottest"
	"github.com/datosbot/datosbot/commands"
	"github.com/datosbot/datosbot/storage/storagetest"
)

// These tests use the real storage.Store as Deduper and Lease: on
// miniredis, or on the Redis named by DATOSBOT_TEST_REDIS_URL.

func TestPollingWithStorage(t *testing.T) {
	f := newFakeAPI(t)
	st := storagetest.Open(t, nil)
	replicas := map[string]*storagetest.Store{"a": st, "b": st.Reopen(t, nil)}
	h := &bottest.Recorder{}
	stops := map[string]func(){}
	for name, s := range replicas {
		a, _ := newAdapter(t, f, Config{Deduper: s, Lease: s, LeaseTTL: 150 * time.Millisecond, Holder: name})
		stops[name] = run(t, a, h)
	}
	f.push(update(t, "estado.json"), update(t, "estado.json"))
	waitFor(t, "the update to be confirmed", func() bool { return f.confirmedOffset() > 500102 })
	if got := len(h.Requests()); got != 1 {
		t.Errorf("got %d handler calls for one update served twice, want 1", got)
	}

	holder := "a"
	if f.pollsBy("a") == 0 {
		holder = "b"
	}
	other := map[string]string{"a": "b", "b": "a"}[holder]
	if f.pollsBy(other) != 0 {
		t.Fatalf("both replicas polled")
	}
	stops[holder]()
	f.push(update(t, "datos_sub.json"))
	waitFor(t, "the other replica to take over", func() bool { return len(h.Requests()) == 2 })
	if f.pollsBy(other) == 0 {
		t.Errorf("the second update was not polled by %q", other)
	}
}

func TestWebhookDedupeAcrossReplicas(t *testing.T) {
	const secret = "replicas_secret-1"
	f := newFakeAPI(t)
	st := storagetest.Open(t, nil)
	h := &bottest.Recorder{}
	var muxes []*http.ServeMux
	for i, s := range []*storagetest.Store{st, st.Reopen(t, nil)} {
		a, _ := newAdapter(t, f, Config{WebhookSecret: secret, Deduper: s, Holder: fmt.Sprint(i)})
		run(t, a, h)
		waitFor(t, "webhook mode ready", func() bool { return a.Ready() == nil })
		mux := http.NewServeMux()
		a.Routes(mux)
		muxes = append(muxes, mux)
	}
	for i, mux := range muxes {
		req := httptest.NewRequest(http.MethodPost, "/telegram/webhook", bytes.NewReader(update(t, "group_anunciar.json")))
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Errorf("replica %d: got status %d, want 200", i, rec.Code)
		}
	}
	if got := len(h.Requests()); got != 1 {
		t.Errorf("got %d handler calls for one update delivered to two replicas, want 1", got)
	}
}

// TestEndToEnd runs the real command language on the real store behind
// the adapter: an admin creates an institution, links a group and invites
// a liaison; she joins with /start <código> from the t.me link, registers
// an action in the group, and /estado shows the institution complies.
func TestEndToEnd(t *testing.T) {
	const (
		admin = 9000001
		ana   = 5550001
		group = -1005550000001
	)
	f := newFakeAPI(t)
	st := storagetest.Open(t, nil)
	a, _ := newAdapter(t, f, Config{Deduper: st, Lease: st, Holder: "e2e"})
	svc := commands.New(commands.Config{
		Store:       st,
		Admins:      []datosbot.UserID{userRef(admin)},
		TelegramBot: a.BotUsername(),
	})
	run(t, a, svc)

	nextID := int64(700000)
	say := func(from int64, name string, chat int64, text string) string {
		t.Helper()
		nextID++
		chatType := "supergroup"
		if chat > 0 {
			chatType = "private"
		}
		upd, _ := json.Marshal(map[string]any{
			"update_id": nextID,
			"message": map[string]any{
				"message_id": nextID, "date": 1767225600, "text": text,
				"from": map[string]any{"id": from, "is_bot": false, "first_name": name},
				"chat": map[string]any{"id": chat, "type": chatType, "title": "Enlaces INEGI"},
			},
		})
		before := len(f.callsOf("sendMessage"))
		f.push(upd)
		waitFor(t, "the reply to "+text, func() bool { return len(f.callsOf("sendMessage")) > before })
		sent := f.callsOf("sendMessage")[before]
		if sent.Params["chat_id"] != fmt.Sprint(chat) {
			t.Errorf("%q: got reply in chat %s, want %d", text, sent.Params["chat_id"], chat)
		}
		return html.UnescapeString(sent.Params["text"])
	}

	say(admin, "Unidad", admin, "/institucion alta inegi Instituto Nacional de Estadística y Geografía")
	say(admin, "Unidad", group, "/canal@DatosBot vincular inegi")
	inv := say(admin, "Unidad", admin, "/invitar inegi institucional")
	m := regexp.MustCompile(`https://t\.me/DatosBot\?start=([A-Z0-9]+)`).FindStringSubmatch(inv)
	if m == nil {
		t.Fatalf("no t.me invitation link in %q", inv)
	}
	if r := say(ana, "Ana", ana, "/start "+m[1]); strings.Contains(r, "no ") && strings.Contains(r, "válid") {
		t.Fatalf("/start %s refused: %q", m[1], r)
	}
	say(ana, "Ana", group, "/anunciar@DatosBot https://www.datos.gob.mx/dataset/censo-2020 https://x.com/INEGI_INFORMA/status/1866")
	estado := say(ana, "Ana", group, "/estado")
	if !strings.Contains(estado, "Cumple") {
		t.Errorf("estado after registering an action: got %q, want it to say the institution complies", estado)
	}
	actions, err := st.Actions(context.Background(), "inegi", datosbot.Bimester{})
	if err != nil {
		t.Fatal(err)
	}
	if len(actions) != 1 || actions[0].RegisteredBy != userRef(ana) {
		t.Errorf("got actions %+v, want one registered by %s", actions, userRef(ana))
	}
}
