package dashboard

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestSignInLinkSetsSessionAndIsUsedOnce(t *testing.T) {
	e := newEnv(t)
	e.fixture()
	link, expires, err := e.srv.SignInLink(context.Background(), unidad)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(link, "http://localhost:8080/tablero/entrar?t=") {
		t.Errorf("link = %q, want it under the default public URL", link)
	}
	if got := expires.Sub(testNow); got != 15*time.Minute {
		t.Errorf("link valid for %v, want 15m", got)
	}

	w := e.get(link, nil)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/tablero" {
		t.Fatalf("first use = %d → %q, want 303 → /tablero", w.Code, w.Header().Get("Location"))
	}
	var session *http.Cookie
	for _, c := range w.Result().Cookies() {
		if c.Name == CookieName {
			session = c
		}
	}
	if session == nil {
		t.Fatal("no session cookie")
	}
	if !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Secure || session.Path != "/tablero" || session.MaxAge != 12*3600 {
		t.Errorf("cookie = %+v, want HttpOnly, SameSite=Lax, not Secure on http, Path=/tablero, Max-Age 12 h", session)
	}
	if strings.Contains(session.Value, strings.TrimPrefix(link, "http://localhost:8080/tablero/entrar?t=")) {
		t.Error("the session cookie reuses the link's token")
	}

	page := e.get("/tablero", session)
	if page.Code != http.StatusOK {
		t.Fatalf("/tablero with the session = %d:\n%s", page.Code, page.Body.String())
	}
	mustContain(t, "/tablero", page.Body.String(), "Instituto Nacional de Estadística y Geografía", "Secretaría de Hacienda")

	again := e.get(link, nil)
	if again.Code != http.StatusGone {
		t.Errorf("second use = %d, want 410", again.Code)
	}
	mustContain(t, "second use", again.Body.String(), "ya se usó", "/datos tablero")
	mustNotContain(t, "second use", again.Body.String(), "Instituto Nacional")
	if len(again.Result().Cookies()) != 0 {
		t.Error("a used link set a cookie")
	}
}

func TestSignInRefusals(t *testing.T) {
	e := newEnv(t)
	e.fixture()
	link, _, err := e.srv.SignInLink(context.Background(), unidad)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(link)
	token := u.Query().Get("t")
	flip := func(s string) string {
		b := []byte(s)
		if b[5] == 'A' {
			b[5] = 'B'
		} else {
			b[5] = 'A'
		}
		return string(b)
	}
	tests := []struct {
		name, target string
		status       int
		says         string
	}{
		{"no token", "/tablero/entrar", http.StatusUnauthorized, "no es válido"},
		{"tampered token", "/tablero/entrar?t=" + flip(token), http.StatusUnauthorized, "no es válido"},
		{"truncated token", "/tablero/entrar?t=" + token[:20], http.StatusUnauthorized, "no es válido"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := e.get(tt.target, nil)
			if w.Code != tt.status {
				t.Errorf("got %d, want %d", w.Code, tt.status)
			}
			mustContain(t, tt.name, w.Body.String(), tt.says, "/datos tablero")
			if len(w.Result().Cookies()) != 0 {
				t.Error("a refused link set a cookie")
			}
		})
	}
	// The real link still works after the forgeries: they did not burn it.
	if w := e.get(link, nil); w.Code != http.StatusSeeOther {
		t.Errorf("the real link after forgeries = %d, want 303", w.Code)
	}
}

func TestExpiredLinkSaysSo(t *testing.T) {
	e := newEnv(t)
	e.fixture()
	link, _, err := e.srv.SignInLink(context.Background(), unidad)
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(15*time.Minute + time.Second)
	w := e.get(link, nil)
	if w.Code != http.StatusGone {
		t.Fatalf("expired link = %d, want 410", w.Code)
	}
	mustContain(t, "expired link", w.Body.String(), "caducó", "15 minutos", "/datos tablero")
	if len(w.Result().Cookies()) != 0 {
		t.Error("an expired link set a cookie")
	}
}

func TestLinkPreviewDoesNotUseTheLink(t *testing.T) {
	e := newEnv(t)
	e.fixture()
	link, _, _ := e.srv.SignInLink(context.Background(), unidad)
	w := e.get(link, nil, "User-Agent", "TelegramBot (like TwitterBot)")
	if w.Code != http.StatusOK || len(w.Result().Cookies()) != 0 {
		t.Fatalf("preview = %d with cookies %v, want 200 and none", w.Code, w.Result().Cookies())
	}
	if w := e.get(link, nil); w.Code != http.StatusSeeOther {
		t.Errorf("the person's own open after the preview = %d, want 303", w.Code)
	}
}

func TestNoSessionIs401WithoutData(t *testing.T) {
	e := newEnv(t)
	e.fixture()
	good := e.signIn(unidad)
	tampered := *good
	tampered.Value = good.Value[:10] + strings.Map(func(r rune) rune {
		if r == 'a' {
			return 'b'
		}
		return 'a'
	}, good.Value[10:11]) + good.Value[11:]
	for _, path := range []string{"/tablero", "/tablero/campanas", "/tablero/institucion/inegi", "/tablero/reporte", "/tablero?formato=csv"} {
		for _, c := range []struct {
			name   string
			cookie *http.Cookie
		}{
			{"no cookie", nil},
			{"tampered cookie", &tampered},
			{"made-up cookie", &http.Cookie{Name: CookieName, Value: "abc"}},
		} {
			w := e.get(path, c.cookie)
			if w.Code != http.StatusUnauthorized {
				t.Errorf("%s %s = %d, want 401", c.name, path, w.Code)
			}
			mustContain(t, c.name+" "+path, w.Body.String(), "/datos tablero")
			mustNotContain(t, c.name+" "+path, w.Body.String(), "inegi", "Instituto", "2026-10-01")
		}
	}
	if w := e.get("/tablero", good); w.Code != http.StatusOK {
		t.Errorf("the untampered cookie = %d, want 200", w.Code)
	}
}

func TestSessionEndsAfter12Hours(t *testing.T) {
	e := newEnv(t)
	e.fixture()
	c := e.signIn(unidad)
	if e.store.Mini == nil {
		t.Skip("needs miniredis to move Redis' clock; the TTL is set by CreateSession")
	}
	e.store.Mini.FastForward(12*time.Hour + time.Second)
	if w := e.get("/tablero", c); w.Code != http.StatusUnauthorized {
		t.Errorf("after 12 h = %d, want 401", w.Code)
	}
}

func TestSessionServedByAnotherReplica(t *testing.T) {
	e := newEnv(t)
	e.fixture()
	c := e.signIn(unidad)
	other := e.server(e.store.Reopen(t, e.clock.Now))
	mux := http.NewServeMux()
	other.Routes(mux)
	e.mux = mux
	if w := e.get("/tablero", c); w.Code != http.StatusOK {
		t.Errorf("another replica = %d, want 200", w.Code)
	}
}

func TestSignOut(t *testing.T) {
	e := newEnv(t)
	e.fixture()
	c := e.signIn(unidad)
	r, _ := http.NewRequest(http.MethodPost, "/tablero/salir", nil)
	r.AddCookie(c)
	w := newRecorder()
	e.mux.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Fatalf("salir = %d", w.Code)
	}
	if w := e.get("/tablero", c); w.Code != http.StatusUnauthorized {
		t.Errorf("after signing out = %d, want 401", w.Code)
	}
}

func TestSecureCookieOnHTTPS(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.PublicURL = "https://datosbot.example.gob.mx/" })
	e.fixture()
	link, _, _ := e.srv.SignInLink(context.Background(), unidad)
	if !strings.HasPrefix(link, "https://datosbot.example.gob.mx/tablero/entrar?t=") {
		t.Errorf("link = %q", link)
	}
	w := e.get(link, nil)
	cs := w.Result().Cookies()
	if len(cs) != 1 || !cs[0].Secure {
		t.Errorf("cookies = %+v, want one Secure cookie", cs)
	}
}

func TestRoles(t *testing.T) {
	e := newEnv(t)
	e.fixture()
	tests := []struct {
		name   string
		user   string
		path   string
		status int
		has    []string
		hasNot []string
	}{
		{"unidad sees all", string(unidad), "/tablero", 200, []string{`data-institucion="inegi"`, `data-institucion="shcp"`, `data-institucion="imss"`}, nil},
		{"coordinacion sees all", string(coord), "/tablero", 200, []string{`data-institucion="inegi"`, `data-institucion="shcp"`}, nil},
		{"liaison sees its own", string(ana), "/tablero", 200, []string{`data-institucion="inegi"`}, []string{`data-institucion="shcp"`, "Hacienda"}},
		{"liaison's institution page", string(ana), "/tablero/institucion/inegi", 200, []string{"2026-10-01", "slack:C0INEGI"}, nil},
		{"liaison at another institution", string(ana), "/tablero/institucion/shcp", 403, []string{"solo puede ver"}, []string{"Hacienda"}},
		{"liaison's report", string(ana), "/tablero/reporte", 200, []string{"inegi"}, []string{"shcp"}},
		{"liaison's csv", string(ana), "/tablero?formato=csv", 200, []string{"inegi,"}, []string{"shcp"}},
		{"no role any more", string(nobody), "/tablero", 403, []string{"invitación"}, []string{"inegi"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := e.signIn(datosbotUser(tt.user))
			w := e.get(tt.path, c)
			if w.Code != tt.status {
				t.Fatalf("got %d, want %d:\n%s", w.Code, tt.status, w.Body.String())
			}
			mustContain(t, tt.path, w.Body.String(), tt.has...)
			mustNotContain(t, tt.path, w.Body.String(), tt.hasNot...)
		})
	}
}
