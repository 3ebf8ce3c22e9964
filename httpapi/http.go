// Package httpapi is the bot's own HTTP surface: liveness, readiness,
// Prometheus metrics and the Bearer-token API that the Unidad's systems use
// to load institutions and read actions and compliance. Chat adapters mount
// their routes (Slack commands, the Telegram webhook) on the same mux.
package httpapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/datosbot/datosbot"
)

// Store is what the API needs from storage. storage.Store implements it; the
// signatures are those of commands.Store. A Store that also has a
// Ping(ctx) error method is used for /readyz when Config.Ready is nil.
type Store interface {
	// Institution returns one institution. ENOTFOUND.
	Institution(ctx context.Context, key string) (datosbot.Institution, error)
	// Institutions returns all institutions, active or not, sorted by key.
	Institutions(ctx context.Context) ([]datosbot.Institution, error)
	// PutInstitution creates or updates an institution, keeping its
	// channels and history. created reports whether it was new.
	PutInstitution(ctx context.Context, in datosbot.Institution, by datosbot.UserID) (created bool, err error)
	// Actions returns the actions of institution key ("" for all) dated in
	// bimester b (zero for all bimesters).
	Actions(ctx context.Context, key string, b datosbot.Bimester) ([]datosbot.Action, error)
}

// pinger is the optional readiness check of a Store.
type pinger interface {
	Ping(ctx context.Context) error
}

// DefaultMaxBody is the request body limit when Config.MaxBody is zero.
const DefaultMaxBody = 1 << 20

// readyTimeout bounds one readiness check, so a hung Redis fails the probe
// instead of hanging it.
const readyTimeout = 3 * time.Second

// Config configures a Server. The zero value of each field means its default.
type Config struct {
	// Store holds institutions and actions. Required for the API routes.
	Store Store
	// Tokens are the accepted API bearer tokens. Empty turns the API off:
	// its routes answer 404.
	Tokens []string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Loc is the time zone of bimesters; nil means America/Mexico_City
	// (UTC if the zone database is missing; import time/tzdata in main).
	Loc *time.Location
	// Metrics receives request counts and durations and is served on
	// /metrics; nil means a new, private set (NewMetrics). Figures read
	// from elsewhere (the outbox's in Redis) are registered on it as a
	// collector (NewFigures), read at each scrape.
	Metrics *Metrics
	// Logger logs internal errors; nil discards.
	Logger *slog.Logger
	// Ready reports whether the bot can serve (Redis reachable, adapters
	// connected); /readyz answers 503 while it returns an error. nil means
	// the Store's Ping when it has one, else always ready.
	Ready func(ctx context.Context) error
	// MaxBody limits request bodies in bytes; zero means DefaultMaxBody
	// (1 MiB). Larger bodies answer 413.
	MaxBody int64
}

// Server serves the bot's HTTP routes. Create it with New.
type Server struct {
	store   Store
	tokens  [][sha256.Size]byte
	now     func() time.Time
	loc     *time.Location
	metrics *Metrics
	logger  *slog.Logger
	ready   func(ctx context.Context) error
	scrape  http.Handler
	maxBody int64
}

// New returns a Server for cfg. Empty tokens are ignored; checking their
// length is the caller's configuration job.
func New(cfg Config) *Server {
	s := &Server{
		store:   cfg.Store,
		now:     cfg.Now,
		loc:     cfg.Loc,
		metrics: cfg.Metrics,
		logger:  cfg.Logger,
		ready:   cfg.Ready,
		maxBody: cfg.MaxBody,
	}
	for _, t := range cfg.Tokens {
		if t = strings.TrimSpace(t); t != "" {
			s.tokens = append(s.tokens, sha256.Sum256([]byte(t)))
		}
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.loc == nil {
		loc, err := time.LoadLocation("America/Mexico_City")
		if err != nil {
			loc = time.UTC
		}
		s.loc = loc
	}
	if s.metrics == nil {
		s.metrics = NewMetrics()
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	s.scrape = s.metrics.Handler(s.logger)
	if s.ready == nil {
		if p, ok := cfg.Store.(pinger); ok {
			s.ready = p.Ping
		} else {
			s.ready = func(context.Context) error { return nil }
		}
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBody
	}
	return s
}

// Metrics returns the metrics the server exposes on /metrics.
func (s *Server) Metrics() *Metrics { return s.metrics }

// Routes mounts the server's routes on mux. Each path also answers other
// methods with 405, and unknown /api/v1/ paths with a JSON 404.
func (s *Server) Routes(mux *http.ServeMux) {
	s.handle(mux, "/healthz", false, map[string]http.HandlerFunc{"GET": s.handleHealthz})
	s.handle(mux, "/readyz", false, map[string]http.HandlerFunc{"GET": s.handleReadyz})
	s.handle(mux, "/metrics", false, map[string]http.HandlerFunc{"GET": s.handleMetrics})

	s.handle(mux, "/api/v1/institutions", true, map[string]http.HandlerFunc{
		"GET":  s.handleListInstitutions,
		"POST": s.handlePutInstitutions,
	})
	s.handle(mux, "/api/v1/actions", true, map[string]http.HandlerFunc{"GET": s.handleActions})
	s.handle(mux, "/api/v1/compliance", true, map[string]http.HandlerFunc{"GET": s.handleCompliance})
	mux.Handle("/api/v1/", s.Protect(func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, r, datosbot.Errorf(datosbot.ENOTFOUND, "La ruta %s no existe. Rutas disponibles: /api/v1/institutions, /api/v1/actions, /api/v1/compliance y /api/v1/campaigns.", r.URL.Path))
	}))
}

// Handler returns the server's routes on a new mux, instrumented.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	s.Routes(mux)
	return s.Instrument(mux)
}

// API mounts a Bearer-protected API path on mux, one handler per method,
// with the same guard, 405 answer and JSON errors as the built-in routes.
// A later route (e.g. /api/v1/campaigns) mounts itself with it.
func (s *Server) API(mux *http.ServeMux, path string, byMethod map[string]http.HandlerFunc) {
	s.handle(mux, path, true, byMethod)
}

// handle registers one handler per method for path, and a catch-all that
// answers any other method with 405 and an Allow header. GET also serves
// HEAD. Protected paths check the token first, 405 included, so that
// callers without a token learn nothing about the API.
func (s *Server) handle(mux *http.ServeMux, path string, protected bool, byMethod map[string]http.HandlerFunc) {
	wrap := func(h http.HandlerFunc) http.Handler {
		if protected {
			return s.Protect(h)
		}
		return s.withLogger(h)
	}
	var allow []string
	for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
		h, ok := byMethod[m]
		if !ok {
			continue
		}
		mux.Handle(m+" "+path, wrap(h))
		allow = append(allow, m)
		if m == "GET" {
			allow = append(allow, "HEAD")
		}
	}
	mux.Handle(path, wrap(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		WriteError(w, r, errMethod(r.Method, allow))
	}))
}

// Instrument counts the requests h serves in Metrics, by route pattern and
// status code. Wrap the whole mux with it, adapters' routes included.
func (s *Server) Instrument(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, r)
		route := r.Pattern // set by ServeMux on this same request
		if route == "" {
			route = "unmatched" // keep unknown paths out of the label values
		}
		s.metrics.ObserveHTTP(route, sw.status, time.Since(start))
	})
}

type statusWriter struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Protect guards an API handler: it answers 404 while the API is off, 401
// unless the request carries a configured bearer token, and then limits the
// body to MaxBody and records the caller for Actor. Nothing is read from the
// request before the token is checked. It also gives WriteError the
// server's logger.
func (s *Server) Protect(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r = r.WithContext(context.WithValue(r.Context(), loggerKey, s.logger))
		if len(s.tokens) == 0 {
			WriteError(w, r, datosbot.Errorf(datosbot.ENOTFOUND, "La API está desactivada. Para activarla, configure DATOSBOT_API_TOKENS con al menos un token de 32 caracteres o más."))
			return
		}
		actor, ok := s.authenticate(r)
		if !ok {
			challenge := `Bearer realm="datosbot"`
			msg := "Falta el token. Envíe el encabezado Authorization: Bearer <token> con un token de DATOSBOT_API_TOKENS."
			if r.Header.Get("Authorization") != "" {
				challenge += `, error="invalid_token"`
				msg = "El token no es válido. Revise que sea uno de los configurados en DATOSBOT_API_TOKENS."
			}
			w.Header().Set("WWW-Authenticate", challenge)
			WriteError(w, r, datosbot.Errorf(datosbot.EUNAUTHORIZED, "%s", msg))
			return
		}
		if r.ContentLength > s.maxBody {
			WriteError(w, r, &http.MaxBytesError{Limit: s.maxBody})
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), actorKey, actor))
		r.Body = http.MaxBytesReader(w, r.Body, s.maxBody)
		h(w, r)
	}
}

// authenticate checks the bearer token against every configured token in
// constant time: both sides are hashed to the same length, and the loop
// never exits early, so timing reveals neither the token nor which one
// matched. The actor names the token by a short hash prefix, never by itself.
func (s *Server) authenticate(r *http.Request) (datosbot.UserID, bool) {
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		token = ""
	}
	token = strings.TrimSpace(token)
	sum := sha256.Sum256([]byte(token))
	match := 0
	for i := range s.tokens {
		match |= subtle.ConstantTimeCompare(sum[:], s.tokens[i][:])
	}
	if token == "" || match != 1 {
		return "", false
	}
	return datosbot.UserID("api:" + hex.EncodeToString(sum[:3])), true
}

type contextKey int

const (
	actorKey contextKey = iota
	loggerKey
)

// Actor returns who made an API request that passed Protect, as written in
// the audit trail: "api:" and the first 6 hex digits of the token's SHA-256.
func Actor(ctx context.Context) datosbot.UserID {
	a, _ := ctx.Value(actorKey).(datosbot.UserID)
	return a
}

// withLogger makes the server's logger available to WriteError.
func (s *Server) withLogger(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h(w, r.WithContext(context.WithValue(r.Context(), loggerKey, s.logger)))
	})
}

func loggerFrom(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}

// codeTooLarge and codeMethod are HTTP-only error codes, beside the
// datosbot ones.
const (
	codeTooLarge = "too_large"
	codeMethod   = "method_not_allowed"
)

// statuses maps datosbot error codes to HTTP statuses.
var statuses = map[string]int{
	datosbot.EINVALID:      http.StatusBadRequest,
	datosbot.EUNAUTHORIZED: http.StatusUnauthorized,
	datosbot.EFORBIDDEN:    http.StatusForbidden,
	datosbot.ENOTFOUND:     http.StatusNotFound,
	datosbot.ECONFLICT:     http.StatusConflict,
	datosbot.EUNAVAILABLE:  http.StatusServiceUnavailable,
}

type methodError struct {
	method string
	allow  []string
}

func (e *methodError) Error() string { return "method " + e.method + " not allowed" }

func errMethod(method string, allow []string) error { return &methodError{method, allow} }

// WriteError writes err as {"error": {"code", "message"}} with the status
// of its datosbot code. It is the one translation of application errors to
// HTTP. A body over the limit answers 413. Internal errors are logged and
// answer 500 with a generic message that leaks no detail.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	code, msg := datosbot.ErrorCode(err), datosbot.ErrorMessage(err)
	status, ok := statuses[code]
	var tooLarge *http.MaxBytesError
	var method *methodError
	switch {
	case errors.As(err, &tooLarge):
		code, status = codeTooLarge, http.StatusRequestEntityTooLarge
		msg = "El cuerpo de la solicitud es demasiado grande (máximo " + humanBytes(tooLarge.Limit) + "). Divida la carga en partes más pequeñas."
	case errors.As(err, &method):
		code, status = codeMethod, http.StatusMethodNotAllowed
		msg = "El método " + method.method + " no se admite en " + r.URL.Path + ". Use " + joinOr(method.allow) + "."
	case !ok:
		code, status = datosbot.EINTERNAL, http.StatusInternalServerError
		msg = datosbot.ErrorMessage(errors.New("")) // the generic message
		loggerFrom(r.Context()).ErrorContext(r.Context(), "http request failed",
			"method", r.Method, "path", r.URL.Path, "err", err)
	}
	type body struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	WriteJSON(w, status, map[string]body{"error": {code, msg}})
}

// WriteJSON writes v as JSON with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // the status is sent; a broken connection cannot be answered
}

// List is the JSON shape of every list answer.
type List[T any] struct {
	Items []T `json:"items"`
	Count int `json:"count"`
}

// NewList returns a List of items; nil becomes an empty JSON list.
func NewList[T any](items []T) List[T] {
	if items == nil {
		items = []T{}
	}
	return List[T]{Items: items, Count: len(items)}
}

// joinOr writes a list in Spanish: "GET, HEAD o POST".
func joinOr(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " o " + items[len(items)-1]
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return itoa(n>>20) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return itoa(n>>10) + " KiB"
	}
	return itoa(n) + " bytes"
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	if err := s.ready(ctx); err != nil {
		// Always 503, whatever the cause, so the balancer takes the
		// replica out; the cause goes to the log, not to the prober.
		s.logger.WarnContext(ctx, "not ready", "err", err)
		msg := "El bot no está listo: no puede alcanzar Redis o una plataforma. Revise REDIS_URL y los registros del servicio."
		if datosbot.ErrorCode(err) == datosbot.EUNAVAILABLE {
			msg = datosbot.ErrorMessage(err)
		}
		WriteError(w, r, datosbot.Errorf(datosbot.EUNAVAILABLE, "%s", msg))
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	s.scrape.ServeHTTP(w, r)
}
