package commands_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/bot/bottest"
	"github.com/datosbot/datosbot/commands"
	"github.com/datosbot/datosbot/internal/fakeclock"
	"github.com/datosbot/datosbot/storage/storagetest"
)

// observed records what the service reports per command.
type observed struct {
	mu   sync.Mutex
	seen []string
}

func (o *observed) ObserveCommand(name, result string, d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.seen = append(o.seen, name+"="+result)
}

// panickyStore panics when one user's roles are read, as a bug in a
// command would.
type panickyStore struct{ commands.Store }

func (p panickyStore) Identify(ctx context.Context, u datosbot.UserID, ch datosbot.ChannelID) ([]datosbot.Membership, string, error) {
	if u == "console:boom" {
		panic("boom")
	}
	return p.Store.Identify(ctx, u, ch)
}

// TestHandleNamesEachCommandOnce checks that the name in the metrics and
// in the one log line of each command is the table's canonical name,
// aliases and accents included, and that a panic is an internal error.
func TestHandleNamesEachCommandOnce(t *testing.T) {
	clock := fakeclock.New(time.Date(2026, 11, 20, 10, 0, 0, 0, mexico))
	store := storagetest.Open(t, clock.Now)
	metrics := &observed{}
	logs := &bottest.Buffer{}
	svc := commands.New(commands.Config{Store: panickyStore{store}, Now: clock.Now, Loc: mexico, Admins: []datosbot.UserID{admin},
		Metrics: metrics, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	ctx := context.Background()
	for _, tt := range []struct {
		user datosbot.UserID
		text string
	}{
		{admin, ""},
		{admin, "Campañas lista"},
		{admin, "help"},
		{"console:nadie", "registrar https://www.datos.gob.mx/dataset/x https://x.com/a/status/1"},
		{admin, "borrar todo"},
		{"console:boom", "estado"},
		{admin, strings.Repeat("x", datosbot.MaxTextLen+1)},
	} {
		svc.Handle(ctx, datosbot.Request{User: tt.user, Channel: "console:general", Text: tt.text})
	}
	want := []string{"ayuda=ok", "campana=ok", "ayuda=ok", "anunciar=forbidden", "desconocido=invalid", "estado=internal", "desconocido=invalid"}
	if got := strings.Join(metrics.seen, " "); got != strings.Join(want, " ") {
		t.Errorf("metrics = %s\nwant      %s", got, strings.Join(want, " "))
	}
	lines := 0
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if strings.Contains(l, "level=INFO msg=command ") {
			lines++
		}
	}
	if lines != len(want) {
		t.Errorf("%d info lines for %d commands, want one each:\n%s", lines, len(want), logs.String())
	}
	if !strings.Contains(logs.String(), "command panicked") {
		t.Errorf("logs = %s, want the panic logged", logs.String())
	}
	if strings.Contains(logs.String(), "command detail") {
		t.Errorf("logs at info carry request detail:\n%s", logs.String())
	}

	// At debug each command adds its detail, without the user's text.
	debug := &bottest.Buffer{}
	svc = commands.New(commands.Config{Store: store, Now: clock.Now, Loc: mexico, Admins: []datosbot.UserID{admin},
		Logger: slog.New(slog.NewTextHandler(debug, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	svc.Handle(ctx, datosbot.Request{User: admin, Channel: "console:general", Text: "acciones inegi bimestre:2026-B6 secreto-del-usuario"})
	out := debug.String()
	if !strings.Contains(out, "msg=\"command detail\" command=acciones") || !strings.Contains(out, "options=[bimestre]") {
		t.Errorf("debug logs = %s, want the command's detail", out)
	}
	if strings.Contains(out, "secreto-del-usuario") {
		t.Errorf("debug logs carry the user's text: %s", out)
	}
}

// TestTableAliasesAndOptions checks what each table entry adds to the
// language through the public parser and help.
func TestTableAliasesAndOptions(t *testing.T) {
	h := newHarness(t)
	h.setup()
	for _, tt := range []struct {
		text, want string
	}{
		{"ayuda registrar", "/datos anunciar"},
		{"ayuda anuncio", "/datos anunciar"},
		{"ayuda accion", "/datos acciones"},
		{"ayuda canales", "/datos canal"},
		{"ayuda instituciones", "/datos institucion"},
		{"ayuda reportes", "/datos reporte"},
		{"ayuda campanas", "/datos campana"},
		{"ayuda start", "/datos unirme"},
		{"ayuda help", "/datos ayuda"},
		{"ayuda enterado", "/datos enterado"},
	} {
		if r := h.ok(admin, "console:general", tt.text); r.Title != tt.want {
			t.Errorf("%q: title %q, want %q", tt.text, r.Title, tt.want)
		}
	}
	// The refusal names who may run it, from the same entry.
	if r := h.refused("console:nadie", "console:general", "campaña lista", datosbot.EFORBIDDEN); !strings.Contains(r.Text, "Las campañas las lanzan la Unidad y la Coordinación.") {
		t.Errorf("refusal = %q, want who may launch campaigns", r.Text)
	}
}

// TestInstitutionNotFoundIsOneText checks that every command that looks an
// institution up refuses an unknown key with the same sentence.
func TestInstitutionNotFoundIsOneText(t *testing.T) {
	h := newHarness(t)
	h.setup()
	want := datosbot.InstitutionNotFound("nada").Message
	for _, text := range []string{
		"estado nada",
		"acciones nada",
		"estado institucion:nada",
		"canal vincular nada",
		"invitar nada comunicacion",
		"institucion baja nada",
		"reporte semestral 2026-S2 nada",
	} {
		r := h.refused(admin, "console:otro", text, datosbot.ENOTFOUND)
		if r.Text != want {
			t.Errorf("%q: %q\nwant %q", text, r.Text, want)
		}
	}
}
