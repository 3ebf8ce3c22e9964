package datosbot

import (
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Institution is a federal institution bound by step 4.3.
type Institution struct {
	Key       string      `json:"key"` // lowercase slug, e.g. "inegi"
	Name      string      `json:"name"`
	CKANOrg   string      `json:"ckan_org"`
	Active    bool        `json:"active"` // false after "institucion baja"; history is kept
	Channels  []ChannelID `json:"channels"`
	CreatedAt time.Time   `json:"created_at"`
}

var keyPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}$`)

// ValidateKey checks an institution key (clave).
func ValidateKey(key string) error {
	if !keyPattern.MatchString(key) {
		return Errorf(EINVALID, "%q no es una clave válida: use minúsculas, números y guiones, de 1 a 40 caracteres (por ejemplo inegi o shcp).", key)
	}
	return nil
}

// InstitutionNotFound is the one refusal for an institution key that does
// not exist, wherever it is found (the store, a command's check): people
// read the same sentence everywhere. The HTTP API words its own, for
// programs.
func InstitutionNotFound(key string) *Error {
	return Errorf(ENOTFOUND, "No existe la institución %q. Revise la clave: la Unidad ve todas con /datos institucion lista y da de alta las que falten con /datos institucion alta.", Truncate(key, 40))
}

// Validate checks the fields of i that a caller supplies.
func (i Institution) Validate() error {
	if err := ValidateKey(i.Key); err != nil {
		return err
	}
	if strings.TrimSpace(i.Name) == "" {
		return Errorf(EINVALID, "Falta el nombre de la institución %s.", i.Key)
	}
	if utf8.RuneCountInString(i.Name) > MaxNameLen {
		return Errorf(EINVALID, "El nombre de la institución es demasiado largo (máximo %d caracteres).", MaxNameLen)
	}
	if i.CKANOrg != "" && !keyPattern.MatchString(i.CKANOrg) && !regexp.MustCompile(`^[a-z0-9_-]{1,100}$`).MatchString(i.CKANOrg) {
		return Errorf(EINVALID, "%q no es una organización CKAN válida: use el identificador en minúsculas de datos.gob.mx.", i.CKANOrg)
	}
	return nil
}

// Length limits of user text.
const (
	MaxNameLen = 200
	MaxNoteLen = 500
	MaxTextLen = 2000
)

// Role is what a person may do.
type Role string

// The roles, as shown to users.
const (
	RoleUnidad        Role = "unidad"
	RoleCoordinacion  Role = "coordinacion"
	RoleInstitucional Role = "institucional"
	RoleComunicacion  Role = "comunicacion"
)

// ParseRole accepts a role name, case- and accent-insensitive.
func ParseRole(s string) (Role, error) {
	switch Role(Fold(s)) {
	case RoleUnidad:
		return RoleUnidad, nil
	case RoleCoordinacion:
		return RoleCoordinacion, nil
	case RoleInstitucional:
		return RoleInstitucional, nil
	case RoleComunicacion:
		return RoleComunicacion, nil
	}
	return "", Errorf(EINVALID, "%q no es un rol: use unidad, coordinacion, institucional o comunicacion.", s)
}

// Central reports whether r is a central authority (not tied to an institution).
func (r Role) Central() bool { return r == RoleUnidad || r == RoleCoordinacion }

// Membership grants a role to a person, in one institution for the
// institutional roles and globally for the central ones.
type Membership struct {
	User        UserID    `json:"user"`
	Role        Role      `json:"role"`
	Institution string    `json:"institution,omitempty"` // empty for unidad and coordinacion
	GrantedBy   UserID    `json:"granted_by"`
	GrantedAt   time.Time `json:"granted_at"`
}

// InvitationTTL is how long an invitation code can be redeemed.
const InvitationTTL = 7 * 24 * time.Hour

// Invitation is a one-time code that grants a membership.
type Invitation struct {
	Code        string    `json:"code"`
	Role        Role      `json:"role"`
	Institution string    `json:"institution,omitempty"`
	CreatedBy   UserID    `json:"created_by"`
	CreatedAt   time.Time `json:"created_at"`
	ExpiresAt   time.Time `json:"expires_at"`
	UsedBy      UserID    `json:"used_by,omitempty"`
	UsedAt      time.Time `json:"used_at,omitzero"`
}

// AuditEntry records one state change.
type AuditEntry struct {
	At     time.Time `json:"at"`
	Actor  UserID    `json:"actor"`  // who; "sistema" for the bot itself, "api:<token-id>" for the API
	Event  string    `json:"event"`  // what, e.g. "accion.registrar"
	Target string    `json:"target"` // the id it concerns
	Detail string    `json:"detail,omitempty"`
}
