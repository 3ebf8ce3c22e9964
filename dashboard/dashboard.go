// Package dashboard is the Unidad's web dashboard ("tablero"): compliance
// at a glance per institution and bimester, campaign progress, one
// institution's actions and the semester report, each with a CSV of what
// it shows. Pages are rendered on the server with html/template from
// embedded files and need no JavaScript; people sign in with a one-use
// link that the chat command "tablero" gives them, and their session lives
// in Redis so that any replica serves it.
package dashboard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/datosbot/datosbot"
)

// Store is what the dashboard reads and writes; storage.Store implements it.
type Store interface {
	Institution(ctx context.Context, key string) (datosbot.Institution, error)
	// Actions returns the actions of institution key ("" for all) dated in
	// bimester b (zero for all bimesters).
	Actions(ctx context.Context, key string, b datosbot.Bimester) ([]datosbot.Action, error)
	// InstitutionList returns every institution without its channels.
	InstitutionList(ctx context.Context) ([]datosbot.Institution, error)
	// ActionsIn returns the actions of every institution dated in each of
	// bims, indexed like bims, in a few round trips whatever their number.
	ActionsIn(ctx context.Context, bims []datosbot.Bimester) ([][]datosbot.Action, error)
	Campaigns(ctx context.Context, openOnly bool) ([]datosbot.Campaign, error)
	CampaignTargets(ctx context.Context, id string) ([]datosbot.CampaignTarget, error)
	Memberships(ctx context.Context, user datosbot.UserID) ([]datosbot.Membership, error)

	CreateSignIn(ctx context.Context, digest string, user datosbot.UserID, expires time.Time) error
	RedeemSignIn(ctx context.Context, digest string, now time.Time) (user datosbot.UserID, expires, usedAt time.Time, err error)
	CreateSession(ctx context.Context, digest string, user datosbot.UserID, ttl time.Duration) error
	Session(ctx context.Context, digest string) (datosbot.UserID, error)
	DeleteSession(ctx context.Context, digest string) error
}

// Failure is a channel's last permanent delivery failure.
type Failure struct {
	Channel datosbot.ChannelID
	Reason  string
	At      time.Time
}

// Config configures a Server. The zero value of each field but Store means
// its default.
type Config struct {
	Store Store // required
	// PublicURL (DATOSBOT_PUBLIC_URL) is the bot's public base URL, the
	// start of sign-in links; default http://localhost:8080. With https the
	// session cookie is Secure.
	PublicURL string
	// Admins are bootstrap unidad users (DATOSBOT_ADMINS).
	Admins []datosbot.UserID
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Loc is the time zone of bimesters; default America/Mexico_City.
	Loc *time.Location
	// GraceDays after a bimester's end in which actions dated inside it are
	// still accepted (its cells stay "en riesgo"); 0 means the default 5,
	// a negative value means none.
	GraceDays int
	// Failures returns the last permanent delivery failure of each of
	// channels that has one; nil shows none.
	Failures func(ctx context.Context, channels []datosbot.ChannelID) ([]Failure, error)
	// Logger logs internal errors; default slog.Default().
	Logger *slog.Logger
}

// Lifetimes of the secrets.
const (
	LinkTTL    = 15 * time.Minute // a sign-in link
	SessionTTL = 12 * time.Hour   // a session cookie
)

// Server serves the dashboard. Create it with New.
type Server struct {
	store    Store
	public   *url.URL
	secure   bool
	admins   map[datosbot.UserID]bool
	now      func() time.Time
	loc      *time.Location
	grace    int
	failures func(ctx context.Context, channels []datosbot.ChannelID) ([]Failure, error)
	log      *slog.Logger
}

// New checks cfg and returns a Server.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("dashboard: Store is required")
	}
	raw := strings.TrimSpace(cfg.PublicURL)
	if raw == "" {
		raw = "http://localhost:8080"
	}
	u, err := ParsePublicURL(raw)
	if err != nil {
		return nil, err
	}
	s := &Server{store: cfg.Store, public: u, secure: u.Scheme == "https", admins: map[datosbot.UserID]bool{},
		now: cfg.Now, loc: cfg.Loc, grace: cfg.GraceDays, failures: cfg.Failures, log: cfg.Logger}
	for _, a := range cfg.Admins {
		s.admins[a] = true
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.loc == nil {
		loc, err := time.LoadLocation("America/Mexico_City")
		if err != nil {
			return nil, fmt.Errorf("dashboard: %w", err)
		}
		s.loc = loc
	}
	switch {
	case s.grace == 0:
		s.grace = 5
	case s.grace < 0:
		s.grace = 0
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	return s, nil
}

// ParsePublicURL checks a DATOSBOT_PUBLIC_URL value: an absolute http(s)
// URL without query or fragment. The result has no trailing slash.
func ParsePublicURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%q no es una URL pública válida: escriba la dirección base del bot, por ejemplo https://datosbot.gob.mx", raw)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	return u, nil
}

// URL returns the public address of a dashboard path such as "/tablero".
func (s *Server) URL(path string) string { return s.public.String() + path }

// Routes mounts the dashboard under /tablero.
func (s *Server) Routes(mux *http.ServeMux) {
	mux.Handle("GET /tablero/static/", secured(http.StripPrefix("/tablero/static/", staticHandler())))
	mux.Handle("GET /tablero/entrar", secured(http.HandlerFunc(s.serveSignIn)))
	mux.Handle("POST /tablero/salir", secured(http.HandlerFunc(s.serveSignOut)))
	mux.Handle("GET /tablero", s.page(s.cumplimiento))
	mux.Handle("GET /tablero/{$}", s.page(s.cumplimiento))
	mux.Handle("GET /tablero/campanas", s.page(s.campanas))
	mux.Handle("GET /tablero/institucion/{clave}", s.page(s.institucion))
	mux.Handle("GET /tablero/reporte", s.page(s.reporte))
	mux.Handle("/tablero/", secured(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.message(w, http.StatusNotFound, "Página no encontrada", "Esta dirección no es una página del tablero.", "/tablero", "Ir al cumplimiento")
	})))
}

// secured adds the security headers of every dashboard answer: a strict
// Content-Security-Policy (only our own stylesheet, no script at all, no
// framing), no MIME sniffing, and no Referer, so a sign-in URL never leaks
// to another site.
func secured(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", ContentSecurityPolicy)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		if !strings.HasPrefix(r.URL.Path, "/tablero/static/") {
			hd.Set("Cache-Control", "no-store")
		}
		h.ServeHTTP(w, r)
	})
}

// ContentSecurityPolicy is the policy of every dashboard answer.
const ContentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; " +
	"frame-ancestors 'none'; base-uri 'none'"
