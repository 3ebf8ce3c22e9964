package dashboard

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/internal/fakeclock"
	"github.com/datosbot/datosbot/storage/storagetest"
)

var mexico = func() *time.Location {
	loc, err := time.LoadLocation("America/Mexico_City")
	if err != nil {
		panic(err)
	}
	return loc
}()

// testNow is 2026-11-20 in Mexico City: bimester 2026-B6 is open, 2026-B5
// closed (its grace period ended on 2026-11-05).
var testNow = time.Date(2026, 11, 20, 10, 0, 0, 0, mexico)

const (
	unidad  = datosbot.UserID("slack:UUNIDAD")
	coord   = datosbot.UserID("slack:UCOORD")
	ana     = datosbot.UserID("slack:UANA") // comunicacion of inegi
	nobody  = datosbot.UserID("slack:UNADIE")
	byAdmin = datosbot.UserID("slack:UUNIDAD")
)

// env is a dashboard over a real store with a fixture.
type env struct {
	t     *testing.T
	store *storagetest.Store
	clock *fakeclock.Clock
	srv   *Server
	mux   *http.ServeMux
}

func newEnv(t *testing.T, edit ...func(*Config)) *env {
	t.Helper()
	clock := fakeclock.New(testNow)
	st := storagetest.Open(t, clock.Now)
	e := &env{t: t, store: st, clock: clock}
	e.srv = e.server(st, edit...)
	e.mux = http.NewServeMux()
	e.srv.Routes(e.mux)
	return e
}

func (e *env) server(st Store, edit ...func(*Config)) *Server {
	e.t.Helper()
	cfg := Config{Store: st, Admins: []datosbot.UserID{unidad}, Now: e.clock.Now, Loc: mexico,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, f := range edit {
		f(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// institution creates an institution created at created.
func (e *env) institution(key, name string, created time.Time, channels ...datosbot.ChannelID) {
	e.t.Helper()
	ctx := context.Background()
	e.clock.Set(created)
	defer e.clock.Set(testNow)
	if err := e.store.CreateInstitution(ctx, datosbot.Institution{Key: key, Name: name, Active: true}, byAdmin); err != nil {
		e.t.Fatal(err)
	}
	for _, ch := range channels {
		if err := e.store.LinkChannel(ctx, ch, key, byAdmin); err != nil {
			e.t.Fatal(err)
		}
	}
}

func (e *env) member(u datosbot.UserID, r datosbot.Role, key string) {
	e.t.Helper()
	if err := e.store.AddMembership(context.Background(), datosbot.Membership{User: u, Role: r, Institution: key, GrantedBy: byAdmin}); err != nil {
		e.t.Fatal(err)
	}
}

var actionSeq int

// action registers an action of key published on date.
func (e *env) action(key, date string) datosbot.Action {
	e.t.Helper()
	d, err := datosbot.ParseDate(date)
	if err != nil {
		e.t.Fatal(err)
	}
	actionSeq++
	a := datosbot.Action{ID: fmt.Sprintf("A%04d", actionSeq), Institution: key, DataURLs: []string{"https://www.datos.gob.mx/dataset/" + key},
		EvidenceURL: fmt.Sprintf("https://x.com/%s/status/%d", key, actionSeq), Medium: datosbot.MediumRedes, Type: datosbot.TypePublicacion,
		PublishedOn: d, RegisteredBy: ana}
	stored, _, err := e.store.AddAction(context.Background(), a)
	if err != nil {
		e.t.Fatal(err)
	}
	return stored
}

// fixture: inegi complied with every bimester but the open one; shcp
// complied with none; imss was created in 2026-B5 and complied with B6;
// cofepris was given up (inactive) and is not shown.
func (e *env) fixture() {
	e.t.Helper()
	early := time.Date(2025, 12, 1, 9, 0, 0, 0, mexico)
	e.institution("inegi", "Instituto Nacional de Estadística y Geografía", early, "slack:C0INEGI")
	e.institution("shcp", "Secretaría de Hacienda y Crédito Público", early, "slack:C0SHCP")
	e.institution("imss", "Instituto Mexicano del Seguro Social", time.Date(2026, 9, 10, 9, 0, 0, 0, mexico))
	for _, d := range []string{"2026-01-15", "2026-03-02", "2026-05-20", "2026-07-07", "2026-09-30", "2026-10-01"} {
		e.action("inegi", d)
	}
	e.action("imss", "2026-11-18")
	e.member(ana, datosbot.RoleComunicacion, "inegi")
	e.member(coord, datosbot.RoleCoordinacion, "")
}

// signIn returns a session cookie for user, through a real link.
func (e *env) signIn(user datosbot.UserID) *http.Cookie {
	e.t.Helper()
	link, _, err := e.srv.SignInLink(context.Background(), user)
	if err != nil {
		e.t.Fatal(err)
	}
	w := e.get(link, nil)
	if w.Code != http.StatusSeeOther {
		e.t.Fatalf("sign-in link answered %d, want 303:\n%s", w.Code, w.Body.String())
	}
	for _, c := range w.Result().Cookies() {
		if c.Name == CookieName {
			return c
		}
	}
	e.t.Fatal("the sign-in link set no session cookie")
	return nil
}

// get requests target (a path or an absolute URL) with cookie.
func (e *env) get(target string, cookie *http.Cookie, header ...string) *httptest.ResponseRecorder {
	e.t.Helper()
	if u, err := url.Parse(target); err == nil && u.IsAbs() {
		target = u.RequestURI()
	}
	r := httptest.NewRequest(http.MethodGet, target, nil)
	if cookie != nil {
		r.AddCookie(&http.Cookie{Name: cookie.Name, Value: cookie.Value})
	}
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	e.mux.ServeHTTP(w, r)
	return w
}

// mustContain fails unless body contains every part.
func mustContain(t *testing.T, what, body string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(body, p) {
			t.Errorf("%s lacks %q", what, p)
		}
	}
}

func mustNotContain(t *testing.T, what, body string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if strings.Contains(body, p) {
			t.Errorf("%s should not contain %q", what, p)
		}
	}
}

func datosbotUser(s string) datosbot.UserID { return datosbot.UserID(s) }

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }
