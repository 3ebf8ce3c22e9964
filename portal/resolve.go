package portal

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// Ref is what a data URL names on the portal: a dataset by name or id,
// and maybe one of its resources.
type Ref struct {
	Dataset  string // name (slug) or UUID; "" when only the resource is known
	Resource string // resource UUID, or ""
}

var (
	// datasetPath covers every era of datos.gob.mx (reference domain.md
	// §4.1): /dataset/<slug>, /es/dataset/<slug>, /busca/dataset/<slug>,
	// each optionally followed by /resource/<id> and /download/<file>.
	datasetPath = regexp.MustCompile(`^(?:/[a-z]{2})?(?:/busca)?/dataset/([^/]+)(?:/resource/([^/]+)(?:/download(?:/[^/]*)?)?)?/?$`)
	// conjuntosFragment is the 2015 single-page app: #!/conjuntos/<slug>.
	conjuntosFragment = regexp.MustCompile(`^!?/conjuntos/([^/?]+)/?$`)
	uuidRE            = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
)

// Resolve reads what a data URL names. The URL's shape has already been
// validated (datosbot.ValidateDataURL); Resolve fails only on a URL that
// names no dataset.
//
// A resource path is resolved by its resource id (the dataset's slug in an
// old /busca URL may have been renamed since), a
// /dataset/<uuid>/resource/…/download/… path by the dataset's UUID, and
// the old busca.datos.gob.mx/#!/conjuntos/<slug> by the slug.
func Resolve(raw string) (Ref, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return Ref{}, err
	}
	if m := datasetPath.FindStringSubmatch(u.EscapedPath()); m != nil {
		ref := Ref{Dataset: unescape(m[1]), Resource: unescape(m[2])}
		return ref, nil
	}
	if u.Path == "" || u.Path == "/" {
		if m := conjuntosFragment.FindStringSubmatch(u.Fragment); m != nil {
			return Ref{Dataset: unescape(m[1])}, nil
		}
	}
	return Ref{}, fmt.Errorf("%s names no dataset", raw)
}

// IsUUID reports whether s is a CKAN id rather than a name.
func IsUUID(s string) bool { return uuidRE.MatchString(s) }

func unescape(s string) string {
	if v, err := url.PathUnescape(s); err == nil {
		return v
	}
	return s
}
