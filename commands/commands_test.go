package commands_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/commands"
	"github.com/datosbot/datosbot/internal/fakeclock"
	"github.com/datosbot/datosbot/storage/storagetest"
)

var mexico, _ = time.LoadLocation("America/Mexico_City")

const (
	dataURL  = "https://www.datos.gob.mx/dataset/accidentes_transito"
	dataURL2 = "https://datos.gob.mx/busca/dataset/informacion-referente-a-casos-covid-19-en-mexico"
	tweetURL = "https://x.com/INEGI_INFORMA/status/1866"
	admin    = datosbot.UserID("console:admin")
	canal    = datosbot.ChannelID("console:canal-inegi")
)

// harness runs commands against the real store with a settable clock and
// records the bot's posts.
type harness struct {
	t     *testing.T
	svc   *commands.Service
	store *storagetest.Store
	clock *fakeclock.Clock
	mu    sync.Mutex
	posts []datosbot.Message
}

// Post records msgs; like the real outbox, it takes each Key once.
func (h *harness) Post(ctx context.Context, msgs ...datosbot.Message) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, m := range msgs {
		if !slices.ContainsFunc(h.posts, func(p datosbot.Message) bool { return p.Key == m.Key }) {
			h.posts = append(h.posts, m)
		}
	}
	return nil
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{t: t, clock: fakeclock.New(time.Date(2026, 11, 20, 10, 0, 0, 0, mexico))}
	h.store = storagetest.Open(t, h.clock.Now)
	h.svc = commands.New(commands.Config{Store: h.store, Poster: h, Now: h.clock.Now, Loc: mexico, Admins: []datosbot.UserID{admin}})
	return h
}

func (h *harness) do(user datosbot.UserID, ch datosbot.ChannelID, text string) datosbot.Reply {
	h.t.Helper()
	return h.svc.Handle(context.Background(), datosbot.Request{User: user, Channel: ch, Text: text})
}

// ok runs a command that must succeed.
func (h *harness) ok(user datosbot.UserID, ch datosbot.ChannelID, text string) datosbot.Reply {
	h.t.Helper()
	r := h.do(user, ch, text)
	if r.Error != "" {
		h.t.Fatalf("%s: %q refused: %s", user, text, r.Text)
	}
	return r
}

// refused runs a command that must be refused with code.
func (h *harness) refused(user datosbot.UserID, ch datosbot.ChannelID, text, code string) datosbot.Reply {
	h.t.Helper()
	r := h.do(user, ch, text)
	if r.Error != code {
		h.t.Fatalf("%s: %q: error = %q, want %q; reply: %s", user, text, r.Error, code, r.PlainText())
	}
	return r
}

var codePattern = regexp.MustCompile(`Código para [^:]+: ([A-Z0-9]{6})`)

func (h *harness) invite(by datosbot.UserID, args string) string {
	h.t.Helper()
	r := h.ok(by, "console:general", "invitar "+args)
	m := codePattern.FindStringSubmatch(r.Text)
	if m == nil {
		h.t.Fatalf("no code in %q", r.Text)
	}
	if !r.Secret || r.Public {
		h.t.Errorf("an invitation code must be a secret reply for the caller only: %+v", r)
	}
	return m[1]
}

// setup creates inegi with a linked channel, an institucional (ines) and a
// comunicacion liaison (ana).
func (h *harness) setup() {
	h.t.Helper()
	h.ok(admin, "console:general", "institucion alta inegi Instituto Nacional de Estadística y Geografía")
	h.ok(admin, canal, "canal vincular inegi")
	h.ok("console:ines", "console:general", "unirme "+h.invite(admin, "inegi institucional"))
	h.ok("console:ana", "console:general", "unirme "+h.invite("console:ines", "inegi comunicacion"))
}

func (h *harness) actions(key string) []datosbot.Action {
	h.t.Helper()
	as, err := h.store.Actions(context.Background(), key, datosbot.Bimester{})
	if err != nil {
		h.t.Fatal(err)
	}
	return as
}

func TestRegistrationFlow(t *testing.T) {
	h := newHarness(t)
	h.setup()

	st := h.ok("console:ana", canal, "estado")
	if !strings.Contains(st.Text, "NO cumple") {
		t.Fatalf("estado before any action should say it does not comply: %s", st.PlainText())
	}
	r := h.ok("console:ana", canal, "anunciar "+dataURL+" "+tweetURL)
	if !strings.Contains(r.Title, "registrada") || !strings.Contains(r.PlainText(), "redes") {
		t.Errorf("anunciar reply = %s; want a registered action with medium redes inferred from x.com", r.PlainText())
	}
	st = h.ok("console:ana", canal, "estado")
	if !strings.HasPrefix(st.Text, "Cumple") {
		t.Errorf("estado after anunciar = %q, want it to comply", st.Text)
	}
	as := h.actions("inegi")
	if len(as) != 1 || as[0].Medium != datosbot.MediumRedes || as[0].Bimester.String() != "2026-B6" || as[0].RegisteredBy != "console:ana" {
		t.Fatalf("stored actions = %+v", as)
	}
}

func TestAnnounceRefusalsStoreNothing(t *testing.T) {
	tests := []struct {
		name string
		text string
		code string
		want string // part of the message
	}{
		{"home page", "anunciar https://datos.gob.mx/ " + tweetURL, datosbot.EINVALID, "datos.gob.mx"},
		{"search page", "anunciar https://www.datos.gob.mx/dataset?q=salud " + tweetURL, datosbot.EINVALID, "búsqueda"},
		{"foreign data host", "anunciar https://www.inegi.org.mx/datos/ " + tweetURL, datosbot.EINVALID, "no está en un sitio"},
		{"missing publication", "anunciar " + dataURL, datosbot.EINVALID, "Faltan URLs"},
		{"publication equals data", "anunciar " + dataURL + " " + dataURL, datosbot.EINVALID, "distinta"},
		{"bad publication url", "anunciar " + dataURL + " https://", datosbot.EINVALID, "publicación"},
		{"future date", "anunciar " + dataURL + " " + tweetURL + " fecha:2026-11-21", datosbot.EINVALID, "futuro"},
		{"closed bimester after grace", "anunciar " + dataURL + " " + tweetURL + " fecha:2026-08-31", datosbot.EINVALID, "ya cerró"},
		{"bad date", "anunciar " + dataURL + " " + tweetURL + " fecha:31/10/2026", datosbot.EINVALID, "AAAA-MM-DD"},
		{"bad medium", "anunciar " + dataURL + " " + tweetURL + " medio:radio", datosbot.EINVALID, "web, redes"},
		{"bad type", "anunciar " + dataURL + " " + tweetURL + " tipo:otro", datosbot.EINVALID, "publicacion, dataton"},
		{"one bad data url among several", "anunciar " + dataURL + "," + "https://datos.gob.mx/busca/organization/imss " + tweetURL, datosbot.EINVALID, "no señala"},
		{"not a member of the institution", "anunciar " + dataURL + " " + tweetURL + " institucion:shcp", datosbot.EFORBIDDEN, "No es enlace"},
		{"long note", "anunciar " + dataURL + " " + tweetURL + " " + strings.Repeat("x", 600), datosbot.EINVALID, "demasiado larga"},
	}
	h := newHarness(t)
	h.setup()
	h.ok(admin, "console:general", "institucion alta shcp Secretaría de Hacienda")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.refused("console:ana", canal, tt.text, tt.code)
			if !strings.Contains(r.Text, tt.want) {
				t.Errorf("message %q does not contain %q", r.Text, tt.want)
			}
			if n := len(h.actions("")); n != 0 {
				t.Errorf("%d actions stored after a refusal, want 0", n)
			}
		})
	}
}

func TestAnnounceRules(t *testing.T) {
	h := newHarness(t)
	h.setup()

	// Several data URLs, comma-separated and repeated.
	h.ok("console:ana", canal, "anunciar "+dataURL+","+dataURL2+" https://www.gob.mx/inegi/prensa/datos tipo:uso “nota con espacios”")
	as := h.actions("inegi")
	if len(as) != 1 || len(as[0].DataURLs) != 2 || as[0].Medium != datosbot.MediumWeb || as[0].Type != datosbot.TypeUso || as[0].Note != "nota con espacios" {
		t.Fatalf("action = %+v; want 2 data URLs, medium web, type uso and the note", as)
	}
	r := h.ok("console:ana", canal, "anunciar "+dataURL+" "+dataURL2+" https://www.facebook.com/INEGI/posts/2")
	first := strings.Fields(r.Title)[1]
	if a, err := h.store.Action(context.Background(), first); err != nil || len(a.DataURLs) != 2 {
		t.Fatalf("repeated data URLs: %+v %v", a, err)
	}

	// Same publication twice: idempotent, names the existing action.
	r = h.ok("console:ines", canal, "anunciar "+dataURL+" https://facebook.com/INEGI/posts/2/")
	if !strings.Contains(r.Text, first) || len(h.actions("inegi")) != 2 {
		t.Errorf("re-registration reply %q should name %s and store nothing new", r.Text, first)
	}

	// Inside the grace period a date of the closed bimester is accepted.
	h.clock.Set(time.Date(2027, 1, 5, 9, 0, 0, 0, mexico))
	h.ok("console:ana", canal, "anunciar "+dataURL+" https://x.com/INEGI_INFORMA/status/99 fecha:2026-12-30")
	h.clock.Set(time.Date(2027, 1, 6, 9, 0, 0, 0, mexico))
	h.refused("console:ana", canal, "anunciar "+dataURL+" https://x.com/INEGI_INFORMA/status/100 fecha:2026-12-30", datosbot.EINVALID)
	if as, _ := h.store.Actions(context.Background(), "inegi", datosbot.Bimester{Year: 2026, N: 6}); len(as) != 3 {
		t.Errorf("2026-B6 has %d actions, want 3 (the grace-period one included)", len(as))
	}
}

func TestAnnounceNeedsInstitutionWhenMemberOfTwo(t *testing.T) {
	h := newHarness(t)
	h.setup()
	h.ok(admin, "console:general", "institucion alta shcp Secretaría de Hacienda y Crédito Público")
	h.ok("console:ana", "console:general", "unirme "+h.invite(admin, "shcp comunicacion"))

	r := h.refused("console:ana", "console:general", "anunciar "+dataURL+" "+tweetURL, datosbot.EINVALID)
	if !strings.Contains(r.Text, "institucion:<clave>") {
		t.Errorf("refusal %q should ask for institucion:<clave>", r.Text)
	}
	h.ok("console:ana", "console:general", "anunciar "+dataURL+" "+tweetURL+" institucion:shcp")
	// In the linked channel the channel's institution is used.
	h.ok("console:ana", canal, "anunciar "+dataURL+" https://x.com/INEGI_INFORMA/status/2")
	if n, m := len(h.actions("shcp")), len(h.actions("inegi")); n != 1 || m != 1 {
		t.Errorf("actions shcp=%d inegi=%d, want 1 and 1", n, m)
	}
}

func TestAuthorization(t *testing.T) {
	h := newHarness(t)
	h.setup()
	tests := []struct {
		name string
		user datosbot.UserID
		text string
	}{
		{"stranger creates institution", "console:x", "institucion alta shcp Hacienda"},
		{"liaison creates institution", "console:ana", "institucion alta shcp Hacienda"},
		{"stranger announces", "console:x", "anunciar " + dataURL + " " + tweetURL},
		{"stranger reads status", "console:x", "estado inegi"},
		{"comunicacion links a channel", "console:ana", "canal vincular inegi"},
		{"comunicacion invites", "console:ana", "invitar inegi comunicacion"},
		{"institucional invites institucional", "console:ines", "invitar inegi institucional"},
		{"institucional invites unidad", "console:ines", "invitar unidad"},
		{"liaison reads report", "console:ines", "reporte"},
		{"comunicacion publishes", "console:ana", "publicar " + dataURL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.refused(tt.user, "console:otro", tt.text, datosbot.EFORBIDDEN)
			if !strings.Contains(r.Text, "No ") && !strings.Contains(r.Text, "olo ") {
				t.Errorf("refusal should say why and who may: %q", r.Text)
			}
		})
	}
	insts, _ := h.store.Institutions(context.Background())
	if len(insts) != 1 {
		t.Errorf("%d institutions after refused altas, want 1", len(insts))
	}
	h.refused("console:x", "console:otro", "borrar todo", datosbot.EINVALID)
}

func TestHelpListsOnlyAllowedCommands(t *testing.T) {
	h := newHarness(t)
	h.setup()
	stranger := h.ok("console:x", "console:otro", "ayuda").Text
	if strings.Contains(stranger, "anunciar") || !strings.Contains(stranger, "unirme") {
		t.Errorf("stranger's help should offer unirme and not anunciar:\n%s", stranger)
	}
	liaison := h.ok("console:ana", canal, "ayuda").Text
	if !strings.Contains(liaison, "anunciar") || strings.Contains(liaison, "institucion alta") {
		t.Errorf("comunicacion's help should offer anunciar and not institucion:\n%s", liaison)
	}
	unidad := h.ok(admin, canal, "AYUDA").Text
	if !strings.Contains(unidad, "institucion alta") || !strings.Contains(unidad, "reporte") {
		t.Errorf("unidad's help should offer everything:\n%s", unidad)
	}
}

func TestInvitations(t *testing.T) {
	h := newHarness(t)
	h.setup()
	code := h.invite(admin, "inegi comunicacion")
	h.ok("console:beto", "console:general", "unirme "+strings.ToLower(code))
	r := h.refused("console:carla", "console:general", "unirme "+code, datosbot.EINVALID)
	if !strings.Contains(r.Text, "usad") {
		t.Errorf("reused code message = %q", r.Text)
	}
	h.refused("console:carla", "console:general", "unirme ZZZZZZ", datosbot.ENOTFOUND)
	late := h.invite(admin, "inegi comunicacion")
	h.clock.Advance(8 * 24 * time.Hour)
	h.refused("console:carla", "console:general", "unirme "+late, datosbot.EINVALID)
}

func TestJoinAttemptsAreLimited(t *testing.T) {
	h := newHarness(t)
	h.setup()
	code := h.invite(admin, "inegi comunicacion")
	for i := range 5 {
		h.refused("console:adivina", "console:general", fmt.Sprintf("unirme ZZZZZ%d", i), datosbot.ENOTFOUND)
	}
	r := h.refused("console:adivina", "console:general", "unirme "+code, datosbot.EFORBIDDEN)
	if !strings.Contains(r.Text, "Demasiados intentos") {
		t.Errorf("sixth attempt = %q", r.Text)
	}
	// Another person is not affected.
	h.ok("console:beto", "console:general", "unirme "+code)
}

func TestWithdraw(t *testing.T) {
	h := newHarness(t)
	h.setup()
	h.ok("console:ana", "console:general", "unirme "+h.invite(admin, "inegi comunicacion"))
	h.ok("console:ana", canal, "anunciar "+dataURL+" "+tweetURL)
	id := h.actions("inegi")[0].ID

	h.ok("console:otra", "console:general", "unirme "+h.invite(admin, "inegi comunicacion"))
	h.refused("console:otra", canal, "retirar "+id, datosbot.EFORBIDDEN)
	r := h.ok("console:ines", canal, "retirar "+strings.ToLower(id)+" URL equivocada")
	if !strings.Contains(r.Text, "ya no tiene acciones") {
		t.Errorf("withdraw reply should warn the bimester is no longer complied: %q", r.Text)
	}
	if a := h.actions("inegi")[0]; !a.Withdrawn || a.Reason != "URL equivocada" || a.WithdrawnBy != "console:ines" {
		t.Errorf("withdrawn action = %+v", a)
	}
	h.refused("console:ana", canal, "retirar "+id, datosbot.EINVALID)
	if st := h.ok("console:ana", canal, "estado"); !strings.Contains(st.Text, "NO cumple") {
		t.Errorf("estado after withdrawal = %q", st.Text)
	}
	// The same publication can be registered again after the withdrawal.
	h.ok("console:ana", canal, "anunciar "+dataURL+" "+tweetURL)
}

func TestReportAndList(t *testing.T) {
	h := newHarness(t)
	h.setup()
	h.ok(admin, "console:general", "institucion alta shcp Secretaría de Hacienda y Crédito Público")
	h.ok("console:ana", canal, "anunciar "+dataURL+" "+tweetURL)
	r := h.ok(admin, "console:general", "reporte 2026-B6")
	if !strings.Contains(r.Text, "1 de 2") {
		t.Errorf("report text = %q, want 1 de 2", r.Text)
	}
	if got := r.Fields[1].Value; got != "shcp" {
		t.Errorf("No cumplen = %q, want shcp", got)
	}
	sem := h.ok(admin, "console:general", "reporte semestral 2026-S2")
	if !strings.Contains(sem.Text, "inegi: B4 no · B5 no · B6 sí (1, 0 verificadas)") {
		t.Errorf("semester report = %q", sem.Text)
	}
	list := h.ok("console:ana", canal, "acciones bimestre:2026-B6")
	if !strings.Contains(list.Text, tweetURL) {
		t.Errorf("acciones = %q", list.Text)
	}
	h.ok(admin, "console:general", "institucion baja shcp")
	if r := h.ok(admin, "console:general", "reporte"); !strings.Contains(r.Text, "1 de 1") {
		t.Errorf("report after baja = %q, want only active institutions", r.Text)
	}
	h.refused(admin, "console:general", "institucion alta inegi Otro nombre", datosbot.ECONFLICT)
	if r := h.ok(admin, "console:general", "institucion alta shcp Secretaría de Hacienda"); r.Title != "Institución reactivada" {
		t.Errorf("alta of a baja institution = %q, want it reactivated", r.PlainText())
	}
	if r := h.ok(admin, "console:general", "reporte"); !strings.Contains(r.Text, "1 de 2") {
		t.Errorf("report after reactivation = %q", r.Text)
	}
}

func TestPublishPostsToChannels(t *testing.T) {
	h := newHarness(t)
	h.setup()
	h.ok(admin, "console:comms-inegi", "canal vincular inegi")
	r := h.ok("console:ines", "console:general", "publicar "+dataURL+" alto-valor “<!channel> nota”")
	if !strings.Contains(r.Text, "2 canales") {
		t.Errorf("publicar reply = %q", r.Text)
	}
	if len(h.posts) != 2 || h.posts[0].Channel == h.posts[1].Channel {
		t.Fatalf("posts = %+v, want one per linked channel", h.posts)
	}
	if !strings.Contains(h.posts[0].Reply.Title, "alto valor") || h.posts[0].Reply.Fields[0].Value != "<!channel> nota" {
		t.Errorf("notice = %+v", h.posts[0].Reply)
	}
	// Sent twice the same day: one notice per channel, one audit entry.
	r = h.ok("console:ines", "console:general", "publicar "+dataURL+"/ alto-valor “<!channel> nota”")
	if !strings.Contains(r.Text, "ya avisó") || len(h.posts) != 2 {
		t.Errorf("the same publicar again: reply %q and %d posts, want no second notice", r.Text, len(h.posts))
	}
	audit, err := h.store.Audit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n := slices.IndexFunc(audit, func(e datosbot.AuditEntry) bool { return e.Event == "publicar" }); n < 0 ||
		slices.ContainsFunc(audit[n+1:], func(e datosbot.AuditEntry) bool { return e.Event == "publicar" }) {
		t.Errorf("audit %+v: want exactly one publicar entry", audit)
	}
	// Other data, or the next day, is a new notice.
	h.ok("console:ines", "console:general", "publicar "+dataURL2)
	h.clock.Advance(24 * time.Hour)
	h.ok("console:ines", "console:general", "publicar "+dataURL+" alto-valor")
	if len(h.posts) != 6 {
		t.Errorf("got %d posts, want 2 more for other data and 2 more the next day", len(h.posts))
	}
	h.refused("console:ines", "console:general", "publicar https://datos.gob.mx/", datosbot.EINVALID)
}

func TestChannelLinking(t *testing.T) {
	h := newHarness(t)
	h.setup()
	h.ok(admin, "console:general", "institucion alta shcp Hacienda")
	r := h.refused(admin, canal, "canal vincular shcp", datosbot.ECONFLICT)
	if !strings.Contains(r.Text, "inegi") {
		t.Errorf("conflict message %q should name the current institution", r.Text)
	}
	h.ok("console:ines", canal, "canal desvincular")
	h.ok("console:ines", canal, "canal vincular inegi")
	link := h.ok(admin, "console:nuevo", "canal vincular inegi")
	if !strings.Contains(link.PlainText(), "NO cumple") || !link.Public {
		t.Errorf("linking should answer with the institution's current status, in the channel: %s", link.PlainText())
	}
	h.refused(admin, "console:x", "canal vincular nadie", datosbot.ENOTFOUND)
	// The first channel of an institution: the status in the answer already
	// counts it, instead of asking to link a channel.
	first := h.ok(admin, "console:canal-shcp", "canal vincular shcp")
	if strings.Contains(first.PlainText(), "no tiene canal") {
		t.Errorf("the answer to linking the first channel still says there is none: %s", first.PlainText())
	}
}

// TestPublishRefusalsPostNothing: a refused publicar neither posts a notice
// nor writes to the audit trail.
func TestPublishRefusalsPostNothing(t *testing.T) {
	tests := []struct {
		name  string
		setup func(h *harness)
		text  string
		code  string
		want  string // part of the message
	}{
		{"home page", func(*harness) {}, "publicar https://datos.gob.mx/", datosbot.EINVALID, "datos.gob.mx"},
		{"institution given de baja", func(h *harness) { h.ok(admin, "console:general", "institucion baja inegi") },
			"publicar " + dataURL, datosbot.EINVALID, "dada de baja"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.setup()
			tt.setup(h)
			before, err := h.store.Audit(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			r := h.refused("console:ines", "console:general", tt.text, tt.code)
			if !strings.Contains(r.Text, tt.want) {
				t.Errorf("message %q does not contain %q", r.Text, tt.want)
			}
			if len(h.posts) != 0 {
				t.Errorf("posts: got %d, want none", len(h.posts))
			}
			after, err := h.store.Audit(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(after) != len(before) {
				t.Errorf("audit entries: got %d new, want none", len(after)-len(before))
			}
		})
	}
}
