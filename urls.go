package datosbot

import (
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// maxURLLen bounds a URL before anything parses it.
const maxURLLen = 2000

// ValidateDataURL checks that raw is a direct URL of a dataset or a resource
// on one of hosts and returns the form to store: the host in lower-case ASCII
// without a trailing dot or a default port, and without tracking parameters
// (utm_*, fbclid, gclid…), which social networks add when a link is shared.
// Any other query is a search and refused, as are dot segments in the path
// ("/dataset/a/../b", also written %2e%2e) and invisible characters (zero-width
// spaces, bidi controls, invalid UTF-8), so what is stored is what a reader
// sees.
//
// Hosts are compared in ASCII after IDNA without Unicode mapping, never with
// case folding: "datoſ.gob.mx" (U+017F, which folds to "s") is not
// "datos.gob.mx".
func ValidateDataURL(raw string, hosts []string) (string, error) {
	raw = strings.TrimSpace(raw)
	shown := Truncate(raw, 100)
	if len(raw) > maxURLLen {
		return "", Errorf(EINVALID, "La URL de datos es demasiado larga (máximo %d caracteres). %s", maxURLLen, URLRule)
	}
	if hasInvisible(raw, false) {
		return "", invisibleError(raw)
	}
	u, err := parseHTTPURL(raw)
	if err != nil {
		return "", Errorf(EINVALID, "%q no es una URL válida. %s", shown, URLRule)
	}
	host, ok := matchHost(u, hosts)
	if !ok {
		return "", Errorf(EINVALID, "%s no está en un sitio de datos abiertos reconocido (%s). %s", shown, strings.Join(hosts, ", "), URLRule)
	}
	path, err := url.PathUnescape(u.EscapedPath())
	if err != nil || hasInvisible(path, false) {
		return "", invisibleError(raw)
	}
	if err := pathSegmentError(u.EscapedPath(), shown); err != nil {
		return "", err
	}
	if search := searchParam(u.RawQuery); search != "" {
		return "", Errorf(EINVALID, "%s es una búsqueda (parámetro %q), no un conjunto de datos. %s", shown, search, URLRule)
	}
	stored := url.URL{Scheme: u.Scheme, Host: host, Path: u.Path, RawPath: u.RawPath}

	// The single-page app of busca.datos.gob.mx routes in the fragment,
	// where a shared link may carry its own query.
	if u.Path == "" || u.Path == "/" {
		route, query, _ := strings.Cut(u.EscapedFragment(), "?")
		decoded, err := url.PathUnescape(route)
		if err != nil || hasInvisible(decoded, false) {
			return "", invisibleError(raw)
		}
		if err := pathSegmentError(route, shown); err != nil {
			return "", err
		}
		if search := searchParam(query); search != "" {
			return "", Errorf(EINVALID, "%s es una búsqueda (parámetro %q), no un conjunto de datos. %s", shown, search, URLRule)
		}
		if dataFragment.MatchString(decoded) {
			stored.Path, stored.RawPath, stored.Fragment, stored.RawFragment = "/", "", decoded, route
			return stored.String(), nil
		}
	} else if frag, err := url.PathUnescape(u.EscapedFragment()); err != nil || hasInvisible(frag, true) {
		return "", invisibleError(raw)
	}
	for _, p := range dataPaths {
		if p.MatchString(u.EscapedPath()) {
			// An anchor on a dataset page is kept: it is what the liaison
			// copied and it does not change the dataset.
			stored.Fragment, stored.RawFragment = u.Fragment, u.RawFragment
			return stored.String(), nil
		}
	}
	return "", Errorf(EINVALID, "%s no señala un conjunto de datos ni un recurso (parece una página de inicio, de búsqueda o de institución). %s", shown, URLRule)
}

// ValidateEvidenceURL checks the URL of the publication itself and returns it
// trimmed. Invisible characters are refused, written or percent-encoded;
// legacy sites that percent-encode Latin-1 bytes are accepted.
func ValidateEvidenceURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if len(raw) <= maxURLLen && hasInvisible(raw, false) {
		return "", invisibleError(raw)
	}
	u, err := parseHTTPURL(raw)
	if err != nil {
		return "", Errorf(EINVALID, "%q no es una URL válida de la publicación: escriba la dirección completa del tuit, la nota o la página, empezando con https://.", Truncate(raw, 100))
	}
	for _, part := range []string{u.EscapedPath(), u.EscapedFragment()} {
		if decoded, err := url.PathUnescape(part); err != nil || hasInvisible(decoded, true) {
			return "", invisibleError(raw)
		}
	}
	return raw, nil
}

func parseHTTPURL(raw string) (*url.URL, error) {
	if len(raw) > maxURLLen || strings.ContainsAny(raw, " \t\n<>\"") {
		return nil, Errorf(EINVALID, "bad url")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return nil, Errorf(EINVALID, "bad url")
	}
	return u, nil
}

func invisibleError(raw string) error {
	return Errorf(EINVALID, "La URL %+q tiene caracteres invisibles o dañados (espacios de ancho cero, marcas de dirección del texto o bytes que no son texto), "+
		"casi siempre por copiarla de una publicación. Cópiela de nuevo desde la barra de direcciones del navegador o escríbala a mano.", Truncate(raw, 100))
}

// CanonicalHost returns the form in which hosts are compared: ASCII letters
// lower-cased, one trailing dot dropped, then IDNA to ASCII without Unicode
// mapping. ok is false for a host that is not a valid domain name, which
// then equals no host.
func CanonicalHost(h string) (string, bool) {
	h = strings.TrimSuffix(asciiLower(strings.TrimSpace(h)), ".")
	if h == "" {
		return "", false
	}
	a, err := idna.Registration.ToASCII(h)
	if err != nil {
		return "", false
	}
	return a, true
}

// matchHost returns u's host in its canonical form, with the port unless it
// is the scheme's default, when it is one of hosts.
func matchHost(u *url.URL, hosts []string) (string, bool) {
	h, ok := CanonicalHost(u.Hostname())
	if !ok || !containsHost(hosts, h) {
		return "", false
	}
	switch p := u.Port(); {
	case p == "", u.Scheme == "https" && p == "443", u.Scheme == "http" && p == "80":
		return h, true
	default:
		return h + ":" + p, true
	}
}

// containsHost reports whether the canonical host h is one of hosts.
func containsHost(hosts []string, h string) bool {
	for _, x := range hosts {
		if c, ok := CanonicalHost(x); ok && c == h {
			return true
		}
	}
	return false
}

func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// hasInvisible reports whether s holds a character a reader cannot see or
// that is not text: controls, format characters (zero-width spaces and
// joiners, bidi controls, the BOM), other default-ignorable code points,
// spaces other than ASCII's, U+FFFD and, unless allowInvalid, invalid UTF-8.
func hasInvisible(s string, allowInvalid bool) bool {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if r == utf8.RuneError && size == 1 {
			if allowInvalid {
				continue
			}
			return true
		}
		if r == utf8.RuneError || (r != ' ' && unicode.In(r, unicode.Cc, unicode.Cf, unicode.Z,
			unicode.Variation_Selector, unicode.Other_Default_Ignorable_Code_Point)) {
			return true
		}
	}
	return false
}

// pathSegmentError refuses an escaped path with a "." or ".." segment,
// written or percent-encoded, or with a slash or backslash hidden in a
// segment (%2F, %5C, or a backslash written as is), which a browser or
// server may resolve as another folder. Each gets its own message, since
// what the user must fix differs. nil when the path has none.
func pathSegmentError(escaped, shown string) error {
	for _, seg := range strings.Split(escaped, "/") {
		d, err := url.PathUnescape(seg)
		switch {
		case err != nil || d == "." || d == "..":
			return Errorf(EINVALID, "%s tiene segmentos «.» o «..» en la ruta. Escriba la dirección directa del conjunto de datos, sin ellos. %s", shown, URLRule)
		case strings.ContainsAny(d, `/\`):
			return Errorf(EINVALID, "%s tiene en la ruta una barra codificada (%%2F o %%5C) o una barra invertida «\\». "+
				"Escriba la dirección con barras normales «/», tal como aparece en la barra de direcciones del navegador al abrir el conjunto de datos. %s", shown, URLRule)
		}
	}
	return nil
}

// searchParam returns the name of the first parameter of a raw query that is
// not a tracking parameter, or "" when every one is (or there is none).
func searchParam(rawQuery string) string {
	for _, kv := range strings.Split(rawQuery, "&") {
		if kv == "" {
			continue
		}
		k, _, _ := strings.Cut(kv, "=")
		name, err := url.QueryUnescape(k)
		if err != nil {
			return k
		}
		if !IsTrackingParam(name) {
			if name == "" {
				return kv
			}
			return name
		}
	}
	return ""
}

// trackingParams are the query parameters that social networks, ad and
// mailing platforms add to a shared link to follow who clicked; they never
// change the page. From the lists browsers strip (Firefox's query
// stripping, Brave's) and the platforms' own documentation.
var trackingParams = map[string]bool{
	"fbclid": true, "gclid": true, "gclsrc": true, "dclid": true, "gbraid": true, "wbraid": true,
	"msclkid": true, "twclid": true, "ttclid": true, "li_fat_id": true, "yclid": true,
	"mc_cid": true, "mc_eid": true, "igshid": true, "igsh": true, "_ga": true, "_gl": true,
	"mkt_tok": true, "_hsenc": true, "_hsmi": true, "oly_anon_id": true, "oly_enc_id": true,
	"vero_id": true, "ref_src": true, "ref_url": true, "s_cid": true, "wickedid": true,
}

// IsTrackingParam reports whether a query parameter name (decoded) only
// tracks a click: utm_* and the names in trackingParams, in any case.
func IsTrackingParam(name string) bool {
	name = asciiLower(name)
	return strings.HasPrefix(name, "utm_") || trackingParams[name]
}

// MaxDataURLs bounds the data URLs of one action or campaign.
const MaxDataURLs = 10

// ValidateDataURLs validates a list of data URLs (see ValidateDataURL) and
// returns their stored forms in order, each once (SameURL). The length is
// checked before any URL is parsed, so a list far over the limit costs
// nothing, and repeats are found with a map, so the cost is linear.
func ValidateDataURLs(raws []string, hosts []string) ([]string, error) {
	if len(raws) > MaxDataURLs {
		return nil, Errorf(EINVALID, "Son demasiadas URLs de datos: %d (máximo %d). Deje solo las de los conjuntos de datos que se comunican, o divida en varias.", len(raws), MaxDataURLs)
	}
	out := make([]string, 0, len(raws))
	seen := make(map[string]bool, len(raws))
	for _, raw := range raws {
		u, err := ValidateDataURL(raw, hosts)
		if err != nil {
			return nil, err
		}
		if k := NormalizeURL(u); !seen[k] {
			seen[k] = true
			out = append(out, u)
		}
	}
	return out, nil
}
