// Package commands parses and executes the command language ("/datos
// anunciar …") against the domain. It is platform-independent: it takes a
// datosbot.Request and returns a datosbot.Reply, and it imports neither a
// chat library nor go-redis.
package commands

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/datosbot/datosbot"
)

// Config configures a Service. The zero value of each field means the
// documented default.
type Config struct {
	Store  Store  // required
	Poster Poster // where publicar notices go; nil records them only

	// Now is the clock; default time.Now.
	Now func() time.Time
	// Loc is the time zone of bimesters; default America/Mexico_City.
	Loc *time.Location
	// DataHosts are the hosts of direct data URLs; default datosbot.DefaultDataHosts.
	DataHosts []string
	// GraceDays after a bimester's end in which actions dated inside it are
	// still accepted; 0 means the default 5, a negative value means none.
	GraceDays int
	// Admins are bootstrap unidad users (DATOSBOT_ADMINS).
	Admins []datosbot.UserID
	// TelegramBot is the bot's username, for t.me invitation links; empty
	// means no link.
	TelegramBot string
	// Diagnose, when set, returns Spanish warnings about a channel (e.g.
	// failed deliveries, missing permissions) shown in estado.
	Diagnose func(ctx context.Context, key string, channels []datosbot.ChannelID) []string
	// Metrics receives one observation per command; nil means none.
	Metrics Metrics
	// SignIn issues the dashboard's sign-in links for "tablero"; nil means
	// the command says the dashboard is off.
	SignIn SignIn
	// Logger logs one line per command and internal errors; default
	// slog.Default().
	Logger *slog.Logger
	// EvidenceChecks says that publications are checked (DATOSBOT_EVIDENCE),
	// so estado and acciones show "por revisar" before the first check.
	EvidenceChecks bool
	// DataChecker checks data URLs against the portal; nil checks their
	// shape only (DATOSBOT_CKAN_URL=off).
	DataChecker DataChecker
}

// Metrics receives one observation per command: its canonical name
// ("desconocido" when it is not one), its result ("ok" or an error code)
// and how long it took.
type Metrics interface {
	ObserveCommand(name, result string, d time.Duration)
}

// Service executes commands. It implements bot.Handler.
type Service struct {
	store     Store
	poster    Poster
	now       func() time.Time
	loc       *time.Location
	hosts     []string
	grace     int
	admins    map[datosbot.UserID]bool
	tgBot     string
	diagnose  func(ctx context.Context, key string, channels []datosbot.ChannelID) []string
	metrics   Metrics
	log       *slog.Logger
	evidence  bool
	checker   DataChecker
	campaigns *Campaigns
	signIn    SignIn
}

// New returns a Service.
func New(cfg Config) *Service {
	s := &Service{
		store:    cfg.Store,
		poster:   cfg.Poster,
		now:      cfg.Now,
		loc:      cfg.Loc,
		hosts:    cfg.DataHosts,
		grace:    cfg.GraceDays,
		admins:   map[datosbot.UserID]bool{},
		tgBot:    cfg.TelegramBot,
		diagnose: cfg.Diagnose,
		metrics:  cfg.Metrics,
		log:      cfg.Logger,
		evidence: cfg.EvidenceChecks,
		checker:  cfg.DataChecker,
		signIn:   cfg.SignIn,
	}
	s.campaigns = &Campaigns{svc: s, store: cfg.Store}
	if s.now == nil {
		s.now = time.Now
	}
	if s.loc == nil {
		loc, err := time.LoadLocation("America/Mexico_City")
		if err != nil {
			panic(err) // tzdata is embedded by the binary and the tests
		}
		s.loc = loc
	}
	if len(s.hosts) == 0 {
		s.hosts = datosbot.DefaultDataHosts
	}
	switch {
	case s.grace == 0:
		s.grace = 5
	case s.grace < 0:
		s.grace = 0
	}
	for _, a := range cfg.Admins {
		s.admins[a] = true
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	return s
}

// Now returns the service's clock reading.
func (s *Service) Now() time.Time { return s.now() }

// Location returns the time zone of bimesters.
func (s *Service) Location() *time.Location { return s.loc }

// Store returns the store the service uses.
func (s *Service) Store() Store { return s.store }

// Campaigns returns the campaign operations the HTTP API shares with the
// campaña command.
func (s *Service) Campaigns() *Campaigns { return s.campaigns }

// Handle runs one command and returns the reply; errors become refusals
// whose text says why and what to do. It parses the command line once, and
// that parse names the command in the metrics and in the one log line each
// command leaves. A panic in a command is an internal error, not a crash.
func (s *Service) Handle(ctx context.Context, req datosbot.Request) (reply datosbot.Reply) {
	start := time.Now()
	name := "desconocido"
	var in Invocation
	defer func() {
		if p := recover(); p != nil {
			s.log.ErrorContext(ctx, "command panicked", "command", name, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			reply = datosbot.Reply{Text: datosbot.ErrorMessage(errors.New("panic")), Error: datosbot.EINTERNAL}
		}
		s.record(ctx, req, name, in, reply, time.Since(start))
	}()
	var err error
	if len(req.Text) > datosbot.MaxTextLen {
		err = datosbot.Errorf(datosbot.EINVALID, "El comando es demasiado largo (máximo %d caracteres). Acorte la nota.", datosbot.MaxTextLen)
	} else if req.User.Platform() == "" || req.User.Local() == "" {
		// The adapters refuse such requests; this keeps any other caller
		// from running a command as nobody.
		err = datosbot.Errorf(datosbot.EUNAUTHORIZED, "No sé quién envió este comando. Escríbalo de nuevo desde Slack, Telegram o la consola.")
	} else {
		in = Parse(req.Text)
		if in.Name == "" {
			in.Name = "ayuda"
		}
		if cmd, ok := lookup(in.Name); ok {
			name = cmd.Name
			reply, err = s.run(ctx, cmd, req, in)
		} else {
			err = datosbot.Errorf(datosbot.EINVALID, "No conozco el subcomando %q. Escriba /datos ayuda para ver los que puede usar.", datosbot.Truncate(in.Name, 40))
		}
	}
	if err != nil {
		if datosbot.ErrorCode(err) == datosbot.EINTERNAL {
			s.log.ErrorContext(ctx, "command failed", "command", name, "user", req.User, "channel", req.Channel, "err", err)
		}
		return datosbot.Reply{Text: datosbot.ErrorMessage(err), Error: datosbot.ErrorCode(err)}
	}
	return reply
}

// record measures one command and logs it: one line at info, the
// request's detail at debug, never the user's text (it may hold personal
// data).
func (s *Service) record(ctx context.Context, req datosbot.Request, name string, in Invocation, reply datosbot.Reply, d time.Duration) {
	result := "ok"
	if reply.Error != "" {
		result = reply.Error
	}
	if s.metrics != nil {
		s.metrics.ObserveCommand(name, result, d)
	}
	s.log.InfoContext(ctx, "command", "command", name, "result", result, "user", req.User, "channel", req.Channel, "duration", d)
	if !s.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	keys := make([]string, 0, len(in.Opts))
	for k := range in.Opts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	s.log.DebugContext(ctx, "command detail", "command", name, "private", req.Private, "text_bytes", len(req.Text),
		"args", len(in.Args), "options", keys, "reply_fields", len(reply.Fields), "reply_buttons", len(reply.Buttons), "form", reply.Form)
}

// run checks that the caller may run cmd and runs it.
func (s *Service) run(ctx context.Context, cmd *Command, req datosbot.Request, in Invocation) (datosbot.Reply, error) {
	c, err := s.caller(ctx, req)
	if err != nil {
		return datosbot.Reply{}, err
	}
	if !cmd.Allowed(c) {
		return datosbot.Reply{}, datosbot.Errorf(datosbot.EFORBIDDEN, "No tiene permiso para usar %q. %s Escriba /datos ayuda para ver lo que sí puede hacer.", cmd.Name, cmd.WhoMay)
	}
	return cmd.Run(s, ctx, c, in)
}

// Caller is who runs a command and what they may do.
type Caller struct {
	User    datosbot.UserID
	Name    string
	Channel datosbot.ChannelID
	Private bool
	Unidad  bool
	Coord   bool
	// Roles maps an institution key to the caller's roles in it.
	Roles map[string][]datosbot.Role
	// ChannelInst is the institution the channel is linked to, or "".
	ChannelInst string
}

// Central reports whether the caller is unidad or coordinacion.
func (c *Caller) Central() bool { return c.Unidad || c.Coord }

// Member reports whether the caller holds any role in institution key.
func (c *Caller) Member(key string) bool { return len(c.Roles[key]) > 0 }

// Has reports whether the caller holds role r in institution key.
func (c *Caller) Has(key string, r datosbot.Role) bool {
	for _, x := range c.Roles[key] {
		if x == r {
			return true
		}
	}
	return false
}

// Liaison reports whether the caller is a liaison of some institution.
func (c *Caller) Liaison() bool { return len(c.Roles) > 0 }

// Institutional reports whether the caller is institucional anywhere.
func (c *Caller) Institutional() bool {
	for k := range c.Roles {
		if c.Has(k, datosbot.RoleInstitucional) {
			return true
		}
	}
	return false
}

// Institutions returns the keys the caller belongs to, sorted.
func (c *Caller) Institutions() []string {
	keys := make([]string, 0, len(c.Roles))
	for k := range c.Roles {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (s *Service) caller(ctx context.Context, req datosbot.Request) (*Caller, error) {
	c := &Caller{User: req.User, Name: req.Name, Channel: req.Channel, Private: req.Private,
		Unidad: s.admins[req.User], Roles: map[string][]datosbot.Role{}}
	ms, channelInst, err := s.store.Identify(ctx, req.User, req.Channel) // one round trip
	if err != nil {
		return nil, err
	}
	c.ChannelInst = channelInst
	for _, m := range ms {
		switch m.Role {
		case datosbot.RoleUnidad:
			c.Unidad = true
		case datosbot.RoleCoordinacion:
			c.Coord = true
		default:
			c.Roles[m.Institution] = append(c.Roles[m.Institution], m.Role)
		}
	}
	return c, nil
}

// institutionFor picks the institution a command acts on (see
// institutionKeyFor) and reads it.
func (s *Service) institutionFor(ctx context.Context, c *Caller, explicit string, central bool) (datosbot.Institution, error) {
	key, err := s.institutionKeyFor(c, explicit, central)
	if err != nil {
		return datosbot.Institution{}, err
	}
	return s.store.Institution(ctx, key) // ENOTFOUND: datosbot.InstitutionNotFound
}

// institutionKeyFor picks the key of the institution a command acts on:
// the explicit clave, else the channel's institution, else the caller's
// only one. The caller must belong to it, unless central is true and the
// caller is unidad or coordinacion. It reads nothing.
func (s *Service) institutionKeyFor(c *Caller, explicit string, central bool) (string, error) {
	key := datosbot.Fold(explicit)
	switch {
	case key != "":
	case c.ChannelInst != "" && (c.Member(c.ChannelInst) || central && c.Central()):
		key = c.ChannelInst
	case len(c.Roles) == 1:
		key = c.Institutions()[0]
	case len(c.Roles) > 1:
		return "", datosbot.Errorf(datosbot.EINVALID,
			"Usted es enlace de varias instituciones (%s): indique cuál con institucion:<clave>, o escriba el comando en el canal de enlace de la institución.",
			strings.Join(c.Institutions(), ", "))
	default:
		return "", datosbot.Errorf(datosbot.EINVALID, "Indique la institución con su clave (por ejemplo inegi) o con institucion:<clave>, o escriba el comando en el canal de enlace de la institución.")
	}
	if !c.Member(key) && !(central && c.Central()) {
		return "", datosbot.Errorf(datosbot.EFORBIDDEN, "No es enlace de %q. Si debería serlo, pida una invitación al Enlace Institucional o a la Unidad.", key)
	}
	return key, nil
}

// idAlphabet avoids letters and digits that are confused on a phone
// (0/O, 1/I/L).
const idAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

// NewID returns a short random id such as "A7K2Q": prefix plus n characters.
func NewID(prefix string, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	for i := range b {
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return prefix + string(b)
}

// withNewID retries create with fresh ids while the id collides.
func withNewID(prefix string, n int, create func(id string) error) (string, error) {
	for range 5 {
		id := NewID(prefix, n)
		err := create(id)
		var e *datosbot.Error
		if errors.As(err, &e) && e.Code == datosbot.ECONFLICT {
			continue
		}
		return id, err
	}
	return "", datosbot.Errorf(datosbot.EINTERNAL, "no free id")
}

func (s *Service) today() datosbot.Date { return datosbot.DateOf(s.now(), s.loc) }

func (s *Service) bimester() datosbot.Bimester { return datosbot.BimesterOf(s.now(), s.loc) }

// daysLeft counts the days left in b including today.
func (s *Service) daysLeft(b datosbot.Bimester) int {
	return s.today().DaysUntil(b.LastDay()) + 1
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
