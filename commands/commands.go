// Package commands parses and executes the command language ("/datos
// anunciar …") against the domain. It is platform-independent: it takes a
// datosbot.Request and returns a datosbot.Reply, and it imports neither a
// chat library nor go-redis.
package commands

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
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
	// Logger logs internal errors; default slog.Default().
	Logger *slog.Logger
	// EvidenceChecks says that publications are checked (DATOSBOT_EVIDENCE),
	// so estado and acciones show "por revisar" before the first check.
	EvidenceChecks bool
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
	log       *slog.Logger
	evidence  bool
	extension map[string]Command
	hooks     Hooks
}

// Hooks let a package that extends the language (campaigns) take part in
// the built-in commands.
type Hooks struct {
	// CheckCampaign validates the campaña: option of anunciar for
	// institution key and returns the canonical campaign id.
	CheckCampaign func(ctx context.Context, id, key string) (string, error)
	// AfterAction runs after an action is stored (e.g. to complete campaigns).
	AfterAction func(ctx context.Context, a datosbot.Action)
	// AfterWithdraw runs after an action is withdrawn (e.g. to reopen the
	// campaigns it had completed).
	AfterWithdraw func(ctx context.Context, a datosbot.Action)
	// StatusFields adds fields to estado (e.g. open campaigns).
	StatusFields func(ctx context.Context, inst datosbot.Institution) ([]datosbot.Field, error)
}

// SetHooks installs hooks; call it before serving.
func (s *Service) SetHooks(h Hooks) { s.hooks = h }

// Command is one sub-command.
type Command struct {
	Name    string // canonical, folded
	Usage   string // e.g. "anunciar <url-datos> <url-publicación> …"
	Summary string // one line in Spanish
	// Allowed reports whether the caller may see and run the command; the
	// command still checks permissions on its target.
	Allowed func(c *Caller) bool
	Run     func(s *Service, ctx context.Context, c *Caller, in Invocation) (datosbot.Reply, error)
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
		log:      cfg.Logger,
		evidence: cfg.EvidenceChecks,
	}
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

// Register adds a sub-command (used by packages that extend the language,
// such as campaigns).
func (s *Service) Register(c Command) {
	if s.extension == nil {
		s.extension = map[string]Command{}
	}
	s.extension[c.Name] = c
}

// Now returns the service's clock reading.
func (s *Service) Now() time.Time { return s.now() }

// Location returns the time zone of bimesters.
func (s *Service) Location() *time.Location { return s.loc }

// Store returns the store the service uses.
func (s *Service) Store() Store { return s.store }

// Handle runs one command and returns the reply; errors become refusals
// whose text says why and what to do.
func (s *Service) Handle(ctx context.Context, req datosbot.Request) datosbot.Reply {
	reply, err := s.handle(ctx, req)
	if err != nil {
		if datosbot.ErrorCode(err) == datosbot.EINTERNAL {
			s.log.ErrorContext(ctx, "command failed", "user", req.User, "channel", req.Channel, "err", err)
		}
		return datosbot.Reply{Text: datosbot.ErrorMessage(err), Error: datosbot.ErrorCode(err)}
	}
	return reply
}

// CommandName returns the canonical sub-command of a command line, for
// metrics ("desconocido" when it is not one).
func (s *Service) CommandName(text string) string {
	in := Parse(text)
	if _, ok := s.lookup(in.Name); ok {
		return in.Name
	}
	if in.Name == "" {
		return "ayuda"
	}
	return "desconocido"
}

func (s *Service) lookup(name string) (Command, bool) {
	if c, ok := builtin[name]; ok {
		return c, true
	}
	c, ok := s.extension[name]
	return c, ok
}

func (s *Service) handle(ctx context.Context, req datosbot.Request) (datosbot.Reply, error) {
	if len(req.Text) > datosbot.MaxTextLen {
		return datosbot.Reply{}, datosbot.Errorf(datosbot.EINVALID, "El comando es demasiado largo (máximo %d caracteres). Acorte la nota.", datosbot.MaxTextLen)
	}
	in := Parse(req.Text)
	if in.Name == "" {
		in.Name = "ayuda"
	}
	cmd, ok := s.lookup(in.Name)
	if !ok {
		return datosbot.Reply{}, datosbot.Errorf(datosbot.EINVALID, "No conozco el subcomando %q. Escriba /datos ayuda para ver los que puede usar.", datosbot.Truncate(in.Name, 40))
	}
	c, err := s.caller(ctx, req)
	if err != nil {
		return datosbot.Reply{}, err
	}
	if !cmd.Allowed(c) {
		return datosbot.Reply{}, datosbot.Errorf(datosbot.EFORBIDDEN, "No tiene permiso para usar %q. %s Escriba /datos ayuda para ver lo que sí puede hacer.", cmd.Name, whoMay[cmd.Name])
	}
	return cmd.Run(s, ctx, c, in)
}

// whoMay explains, per command, who may run it (used in refusals).
var whoMay = map[string]string{
	"institucion": "Solo la Unidad administra instituciones.",
	"canal":       "Vincular canales corresponde a la Unidad o al Enlace Institucional.",
	"invitar":     "Invitan la Unidad y, para su institución, el Enlace Institucional.",
	"anunciar":    "Registran acciones los enlaces Institucional y de Comunicación Digital; si es enlace, pida una invitación y use /datos unirme <código>.",
	"retirar":     "Retira una acción quien la registró, el Enlace Institucional o la Unidad.",
	"estado":      "El estado lo ven los enlaces de la institución, la Unidad y la Coordinación; si es enlace, pida una invitación.",
	"acciones":    "Las acciones las ven los enlaces de la institución, la Unidad y la Coordinación.",
	"publicar":    "Avisa de publicaciones el Enlace Institucional.",
	"reporte":     "Los reportes son para la Unidad y la Coordinación.",
	"campana":     "Las campañas las lanzan la Unidad y la Coordinación.",
	"enterado":    "Confirman campañas los enlaces de las instituciones.",
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
	ms, err := s.store.Memberships(ctx, req.User)
	if err != nil {
		return nil, err
	}
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
	if req.Channel != "" {
		key, err := s.store.ChannelInstitution(ctx, req.Channel)
		switch datosbot.ErrorCode(err) {
		case "":
			c.ChannelInst = key
		case datosbot.ENOTFOUND:
		default:
			return nil, err
		}
	}
	return c, nil
}

// institutionFor picks the institution a command acts on: the explicit
// clave, else the channel's institution, else the caller's only one. The
// caller must belong to it, unless central is true and the caller is
// unidad or coordinacion.
func (s *Service) institutionFor(ctx context.Context, c *Caller, explicit string, central bool) (datosbot.Institution, error) {
	key := datosbot.Fold(explicit)
	switch {
	case key != "":
	case c.ChannelInst != "" && (c.Member(c.ChannelInst) || central && c.Central()):
		key = c.ChannelInst
	case len(c.Roles) == 1:
		key = c.Institutions()[0]
	case len(c.Roles) > 1:
		return datosbot.Institution{}, datosbot.Errorf(datosbot.EINVALID,
			"Usted es enlace de varias instituciones (%s): indique cuál con institucion:<clave>, o escriba el comando en el canal de enlace de la institución.",
			strings.Join(c.Institutions(), ", "))
	default:
		return datosbot.Institution{}, datosbot.Errorf(datosbot.EINVALID, "Indique la institución con su clave (por ejemplo inegi) o con institucion:<clave>, o escriba el comando en el canal de enlace de la institución.")
	}
	if !c.Member(key) && !(central && c.Central()) {
		return datosbot.Institution{}, datosbot.Errorf(datosbot.EFORBIDDEN, "No es enlace de %q. Si debería serlo, pida una invitación al Enlace Institucional o a la Unidad.", key)
	}
	in, err := s.store.Institution(ctx, key)
	if datosbot.ErrorCode(err) == datosbot.ENOTFOUND {
		return in, datosbot.Errorf(datosbot.ENOTFOUND, "No existe la institución %q. La Unidad puede ver las claves con /datos institucion lista.", key)
	}
	return in, err
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
