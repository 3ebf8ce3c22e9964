package datosbot

import (
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Medium is where a communication action was published.
type Medium string

// The media of step 4.3.
const (
	MediumWeb      Medium = "web"      // institutional web site
	MediumRedes    Medium = "redes"    // social networks
	MediumHistoria Medium = "historia" // story on datos.gob.mx
	MediumOtro     Medium = "otro"
)

// ParseMedium accepts a medium name, case- and accent-insensitive.
func ParseMedium(s string) (Medium, error) {
	switch m := Medium(Fold(s)); m {
	case MediumWeb, MediumRedes, MediumHistoria, MediumOtro:
		return m, nil
	}
	return "", Errorf(EINVALID, "%q no es un medio: use web, redes, historia u otro.", s)
}

// ActionType is what an action communicates.
type ActionType string

// The types of action.
const (
	TypePublicacion ActionType = "publicacion" // publication of (high-value) data
	TypeDataton     ActionType = "dataton"
	TypeUso         ActionType = "uso" // use of open data
)

// ParseActionType accepts a type name, case- and accent-insensitive.
func ParseActionType(s string) (ActionType, error) {
	switch t := ActionType(Fold(s)); t {
	case TypePublicacion, TypeDataton, TypeUso:
		return t, nil
	}
	return "", Errorf(EINVALID, "%q no es un tipo: use publicacion, dataton o uso.", s)
}

// Action is a communication action registered by a liaison.
type Action struct {
	ID           string     `json:"id"`
	Institution  string     `json:"institution"`
	Bimester     Bimester   `json:"bimester"`
	DataURLs     []string   `json:"data_urls"`
	EvidenceURL  string     `json:"evidence_url"`
	Medium       Medium     `json:"medium"`
	Type         ActionType `json:"type"`
	PublishedOn  Date       `json:"published_on"`
	Campaign     string     `json:"campaign"`
	Note         string     `json:"note,omitempty"`
	RegisteredBy UserID     `json:"registered_by"`
	RegisteredAt time.Time  `json:"registered_at"`
	Withdrawn    bool       `json:"withdrawn"`
	WithdrawnBy  UserID     `json:"withdrawn_by,omitempty"`
	WithdrawnAt  time.Time  `json:"withdrawn_at,omitzero"`
	Reason       string     `json:"withdraw_reason,omitempty"`
	// DataChecks are the portal's answers about DataURLs (datacheck.go);
	// absent when the portal checks are off.
	DataChecks []DataCheck `json:"data_checks,omitempty"`
	// Evidence is what the last check of the publication found; nil
	// until the first check (DESIGN 2.5).
	Evidence *Evidence `json:"evidence"`
}

// DefaultDataHosts are the hosts of direct data URLs (DATOSBOT_DATA_HOSTS).
var DefaultDataHosts = []string{"datos.gob.mx", "www.datos.gob.mx", "busca.datos.gob.mx",
	"catalogo.datos.gob.mx", "historico.datos.gob.mx"}

// URLRule explains, in Spanish, which data URLs count.
const URLRule = "La URL de datos debe ser la dirección directa de un conjunto de datos o de un recurso en datos.gob.mx, " +
	"no la página de inicio ni una búsqueda. Ejemplos: https://www.datos.gob.mx/dataset/accidentes_transito, " +
	"https://datos.gob.mx/busca/dataset/<conjunto>/resource/<id>."

var (
	slug = `[A-Za-z0-9][A-Za-z0-9._~%-]*`
	// dataPaths are the URL paths that name a dataset or a resource, in every
	// era of datos.gob.mx (see shared/reference/domain.md §4.1).
	dataPaths = []*regexp.Regexp{
		regexp.MustCompile(`^(/[a-z]{2})?(/busca)?/dataset/` + slug + `(/resource/` + slug + `(/download(/[^/]+)?)?)?/?$`),
	}
	// dataFragments are the single-page-app routes of busca.datos.gob.mx.
	dataFragment = regexp.MustCompile(`^!?/conjuntos/` + slug + `/?$`)
)

var socialHosts = []string{"twitter.com", "x.com", "t.co", "facebook.com", "fb.com", "fb.watch", "instagram.com",
	"youtube.com", "youtu.be", "linkedin.com", "lnkd.in", "tiktok.com", "threads.net", "threads.com",
	"t.me", "bsky.app", "mastodon.social", "whatsapp.com", "flickr.com"}

// InferMedium guesses the medium from the publication URL: social networks
// are redes, the blog and stories of datos.gob.mx are historia, other
// *.gob.mx sites are web, anything else is otro.
func InferMedium(evidenceURL string) Medium {
	u, err := url.Parse(evidenceURL)
	if err != nil {
		return MediumOtro
	}
	host := strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
	host = strings.TrimPrefix(host, "m.")
	for _, s := range socialHosts {
		if host == s || strings.HasSuffix(host, "."+s) {
			return MediumRedes
		}
	}
	if host == "datos.gob.mx" {
		p := strings.ToLower(u.Path)
		for _, prefix := range []string{"/blog", "/historias", "/impacto", "/historia"} {
			if strings.HasPrefix(p, prefix) {
				return MediumHistoria
			}
		}
	}
	if host == "gob.mx" || strings.HasSuffix(host, ".gob.mx") {
		return MediumWeb
	}
	return MediumOtro
}

// SameURL reports whether two URLs are the same for idempotency: scheme and
// host case, a trailing dot in the host, a trailing slash and a "www." prefix
// do not matter.
func SameURL(a, b string) bool { return NormalizeURL(a) == NormalizeURL(b) }

// NormalizeURL returns the comparison form of a URL (see SameURL).
func NormalizeURL(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return strings.TrimSpace(raw)
	}
	host := strings.TrimPrefix(strings.ToLower(u.Host), "www.")
	if h, port, ok := strings.Cut(host, ":"); ok && !strings.HasPrefix(host, "[") {
		host = strings.TrimSuffix(h, ".") + ":" + port
	} else {
		host = strings.TrimSuffix(host, ".")
	}
	return host + strings.TrimSuffix(u.EscapedPath(), "/") + q(u.RawQuery) + f(u.Fragment)
}

func q(s string) string {
	if s == "" {
		return ""
	}
	return "?" + s
}

func f(s string) string {
	if s == "" {
		return ""
	}
	return "#" + s
}
