package dashboard

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/datosbot/datosbot"
)

// CookieName is the session cookie.
const CookieName = "datosbot_tablero"

// newSecret returns 32 random bytes in unpadded base64url: the token of a
// sign-in link or a session cookie.
func newSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// digest is what Redis stores for a secret: its SHA-256. A secret of any
// other shape (tampered, truncated) gets no digest and is refused unread.
func digest(secret string) (string, bool) {
	if b, err := base64.RawURLEncoding.DecodeString(secret); err != nil || len(b) != 32 {
		return "", false
	}
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:]), true
}

// SignInLink returns a one-use sign-in link for user, valid for LinkTTL.
// The command "tablero" answers it privately.
func (s *Server) SignInLink(ctx context.Context, user datosbot.UserID) (string, time.Time, error) {
	expires := s.now().Add(LinkTTL)
	for range 3 {
		token := newSecret()
		d, _ := digest(token)
		err := s.store.CreateSignIn(ctx, d, user, expires)
		if datosbot.ErrorCode(err) == datosbot.ECONFLICT {
			continue
		}
		if err != nil {
			return "", time.Time{}, err
		}
		return s.URL("/tablero/entrar?t=" + token), expires, nil
	}
	return "", time.Time{}, datosbot.Errorf(datosbot.EINTERNAL, "no free sign-in token")
}

// previewAgents are the link-preview fetchers of chat platforms: they open
// a link posted in a chat before the person does, and must not use it up.
var previewAgents = []string{"TelegramBot", "Slackbot", "facebookexternalhit", "WhatsApp", "Twitterbot", "Discordbot"}

func isPreview(r *http.Request) bool {
	ua := r.UserAgent()
	for _, a := range previewAgents {
		if strings.Contains(ua, a) {
			return true
		}
	}
	return false
}

const howToSignIn = "Para entrar, escriba /datos tablero en Slack o /tablero en Telegram: el bot le envía en privado un enlace de acceso personal, válido 15 minutos y de un solo uso."

// serveSignIn redeems a sign-in link, sets the session cookie and
// redirects to /tablero.
func (s *Server) serveSignIn(w http.ResponseWriter, r *http.Request) {
	if isPreview(r) {
		s.message(w, http.StatusOK, "Enlace de acceso al tablero", "Abra este enlace en su navegador para entrar al tablero.", "", "")
		return
	}
	d, ok := digest(r.URL.Query().Get("t"))
	if !ok {
		s.message(w, http.StatusUnauthorized, "Enlace no válido", "Este enlace de acceso no es válido. "+howToSignIn, "", "")
		return
	}
	now := s.now()
	user, expires, usedAt, err := s.store.RedeemSignIn(r.Context(), d, now)
	switch {
	case datosbot.ErrorCode(err) == datosbot.ENOTFOUND:
		s.message(w, http.StatusUnauthorized, "Enlace no válido", "Este enlace de acceso no es válido. "+howToSignIn, "", "")
		return
	case err != nil:
		s.fail(w, r, err)
		return
	case !usedAt.IsZero():
		s.message(w, http.StatusGone, "Este enlace ya se usó",
			"Cada enlace de acceso sirve una sola vez, y este ya se usó el "+s.local(usedAt)+". "+howToSignIn, "", "")
		return
	case !now.Before(expires):
		s.message(w, http.StatusGone, "Este enlace caducó",
			"El enlace de acceso venció el "+s.local(expires)+" (dura 15 minutos). "+howToSignIn, "", "")
		return
	}
	token := newSecret()
	sd, _ := digest(token)
	if err := s.store.CreateSession(r.Context(), sd, user, SessionTTL); err != nil {
		s.fail(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: token, Path: "/tablero", MaxAge: int(SessionTTL / time.Second),
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/tablero", http.StatusSeeOther)
}

// serveSignOut ends the session. SameSite=Lax keeps other sites from
// posting here with the cookie.
func (s *Server) serveSignOut(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(CookieName); err == nil {
		if d, ok := digest(c.Value); ok {
			if err := s.store.DeleteSession(r.Context(), d); err != nil {
				s.fail(w, r, err)
				return
			}
		}
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/tablero", MaxAge: -1,
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
	s.message(w, http.StatusOK, "Salió del tablero", "Su sesión terminó. "+howToSignIn, "", "")
}

// viewer is the signed-in person and what they may see.
type viewer struct {
	User    datosbot.UserID
	Central bool // unidad or coordinacion: every institution
	Unidad  bool
	// Roles maps an institution key to the person's roles in it.
	Roles map[string][]datosbot.Role
}

// sees reports whether the viewer may see institution key.
func (v *viewer) sees(key string) bool { return v.Central || len(v.Roles[key]) > 0 }

// keys returns the institutions the viewer is a liaison of, sorted.
func (v *viewer) keys() []string {
	out := make([]string, 0, len(v.Roles))
	for k := range v.Roles {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// RoleLabel is how the header names the viewer's access.
func (v *viewer) RoleLabel() string {
	switch {
	case v.Unidad:
		return "Unidad de Gobierno Digital"
	case v.Central:
		return "Coordinación"
	}
	return "Enlace de " + strings.Join(v.keys(), ", ")
}

// viewerOf resolves a person's roles now, so a revoked membership takes
// effect on the next page, not when the session ends.
func (s *Server) viewerOf(ctx context.Context, user datosbot.UserID) (*viewer, error) {
	v := &viewer{User: user, Unidad: s.admins[user], Roles: map[string][]datosbot.Role{}}
	ms, err := s.store.Memberships(ctx, user)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		switch m.Role {
		case datosbot.RoleUnidad:
			v.Unidad = true
		case datosbot.RoleCoordinacion:
			v.Central = true
		default:
			v.Roles[m.Institution] = append(v.Roles[m.Institution], m.Role)
		}
	}
	v.Central = v.Central || v.Unidad
	return v, nil
}

// page wraps a page handler: security headers, then the session. Without a
// valid session it answers 401 and how to get a link, and no data.
func (s *Server) page(h func(w http.ResponseWriter, r *http.Request, v *viewer)) http.Handler {
	return secured(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(CookieName)
		if err != nil {
			s.message(w, http.StatusUnauthorized, "Necesita entrar", "No ha entrado al tablero, o su sesión terminó (dura 12 horas). "+howToSignIn, "", "")
			return
		}
		d, ok := digest(c.Value)
		if !ok {
			s.message(w, http.StatusUnauthorized, "Sesión no válida", "Su sesión no es válida. "+howToSignIn, "", "")
			return
		}
		user, err := s.store.Session(r.Context(), d)
		switch datosbot.ErrorCode(err) {
		case "":
		case datosbot.ENOTFOUND:
			s.message(w, http.StatusUnauthorized, "Sesión no válida", "Su sesión no es válida o terminó (dura 12 horas). "+howToSignIn, "", "")
			return
		default:
			s.fail(w, r, err)
			return
		}
		v, err := s.viewerOf(r.Context(), user)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if !v.Central && len(v.Roles) == 0 {
			s.message(w, http.StatusForbidden, "Sin acceso", "Ya no tiene un rol en ninguna institución, así que el tablero no le muestra datos. Si debería tenerlo, pida una invitación al Enlace Institucional o a la Unidad.", "", "")
			return
		}
		h(w, r, v)
	}))
}

// local formats an instant in the deployment's time zone.
func (s *Server) local(t time.Time) string { return t.In(s.loc).Format("2006-01-02 15:04") }

// fail answers an internal or store error without its details.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusInternalServerError
	if datosbot.ErrorCode(err) == datosbot.EUNAVAILABLE {
		status = http.StatusServiceUnavailable
	} else {
		s.log.ErrorContext(r.Context(), "dashboard failed", "path", r.URL.Path, "err", err)
	}
	s.message(w, status, "No se pudo mostrar la página", datosbot.ErrorMessage(err), "", "")
}
