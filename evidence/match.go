package evidence

import (
	"html"
	"net/url"
	"regexp"
	"sort"
	"strings"
)

// trackingParams are query parameters that say where a click came from,
// never what the page is; they are dropped before comparing URLs.
var trackingParams = map[string]bool{
	"fbclid": true, "gclid": true, "dclid": true, "gbraid": true, "wbraid": true, "msclkid": true,
	"yclid": true, "igshid": true, "igsh": true, "mc_cid": true, "mc_eid": true, "_ga": true, "_gl": true,
	"ref_src": true, "ref_url": true, "s": true, "t": true, "si": true, "mkt_tok": true, "twclid": true,
	"li_fat_id": true, "ttclid": true, "spm": true, "share": true,
}

// trackingPrefixes are families of tracking parameters (utm_source, …).
var trackingPrefixes = []string{"utm_", "hsa_", "pk_", "mtm_"}

func isTracking(param string) bool {
	p := strings.ToLower(param)
	if trackingParams[p] {
		return true
	}
	for _, pre := range trackingPrefixes {
		if strings.HasPrefix(p, pre) {
			return true
		}
	}
	return false
}

// Normalize returns the comparison form of a URL for finding mentions:
// without scheme (http and https are the same page), host in lower case
// without "www.", a trailing dot or a default port, path without a
// trailing slash, query without tracking parameters and in a fixed order,
// fragment only when it is a single-page-app route ("#!/conjuntos/…").
// It returns "" for what is not an absolute http(s) URL.
func Normalize(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "" && !strings.EqualFold(u.Scheme, "http") && !strings.EqualFold(u.Scheme, "https")) || u.Host == "" {
		return ""
	}
	host := normalHost(u)
	path := u.EscapedPath()
	if p, err := url.PathUnescape(path); err == nil {
		path = (&url.URL{Path: p}).EscapedPath() // one escaping for %7E and ~ alike
	}
	path = strings.TrimRight(path, "/")
	var kept []string
	for _, kv := range strings.Split(u.RawQuery, "&") {
		if kv == "" {
			continue
		}
		name, _, _ := strings.Cut(kv, "=")
		if n, err := url.QueryUnescape(name); err == nil {
			name = n
		}
		if !isTracking(name) {
			kept = append(kept, kv)
		}
	}
	sort.Strings(kept)
	out := host + path
	if len(kept) > 0 {
		out += "?" + strings.Join(kept, "&")
	}
	if f := u.Fragment; strings.HasPrefix(f, "!/") || strings.HasPrefix(f, "/") {
		out += "#" + strings.TrimRight(strings.TrimPrefix(f, "!"), "/")
	}
	return out
}

// normalHost is u's host in lower case without "www.", a trailing dot or a
// default port.
func normalHost(u *url.URL) string {
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	host = strings.TrimPrefix(host, "www.")
	if p := u.Port(); p != "" && p != "80" && p != "443" {
		host += ":" + p
	}
	return host
}

// Dataset names the dataset a URL on a data host points at: its slug or
// UUID as it appears in the URL, and the resource when there is one.
type Dataset struct {
	ID       string // slug or UUID, lower case
	Resource string // resource UUID, lower case; may be empty
}

var (
	datasetPath  = regexp.MustCompile(`(?i)^(?:/[a-z]{2})?(?:/busca)?/dataset/([^/?#]+)(?:/resource/([^/?#]+))?`)
	datasetRoute = regexp.MustCompile(`(?i)^!?/conjuntos/([^/?#]+)`)
)

// DatasetOf returns the dataset raw names when it is a URL on one of the
// data hosts (any of them: the portal's eras share one catalogue), and
// false otherwise. The forms are /dataset/<slug>, /<lang>/dataset/<slug>,
// /busca/dataset/<slug>, …/resource/<id>[/download/<file>],
// /dataset/<uuid>/resource/… and busca's #!/conjuntos/<slug>.
func DatasetOf(raw string, dataHosts []string) (Dataset, bool) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || !isDataHost(normalHost(u), dataHosts) {
		return Dataset{}, false
	}
	if m := datasetPath.FindStringSubmatch(u.EscapedPath()); m != nil {
		id, _ := url.PathUnescape(m[1])
		return Dataset{ID: strings.ToLower(id), Resource: strings.ToLower(m[2])}, id != ""
	}
	if m := datasetRoute.FindStringSubmatch(u.Fragment); m != nil && (u.Path == "" || u.Path == "/") {
		return Dataset{ID: strings.ToLower(m[1])}, true
	}
	return Dataset{}, false
}

func isDataHost(host string, dataHosts []string) bool {
	for _, h := range dataHosts {
		if strings.TrimPrefix(strings.ToLower(strings.TrimSpace(h)), "www.") == host {
			return true
		}
	}
	return false
}

// Matcher decides whether a link found in a publication mentions one of an
// action's data URLs.
type Matcher struct {
	DataHosts []string // the hosts of direct data URLs (DATOSBOT_DATA_HOSTS)
}

// Same reports whether link mentions data: the same URL after Normalize,
// or another URL of the same dataset on a data host (another era's form,
// the dataset of a resource, a resource of the dataset).
func (m Matcher) Same(data, link string) bool {
	nd, nl := Normalize(data), Normalize(link)
	if nd == "" || nl == "" {
		return false
	}
	if nd == nl {
		return true
	}
	dd, ok1 := DatasetOf(data, m.DataHosts)
	dl, ok2 := DatasetOf(link, m.DataHosts)
	return ok1 && ok2 && dd.ID == dl.ID
}

// Find returns the first of links that mentions one of data, and the data
// URL it mentions.
func (m Matcher) Find(data, links []string) (link, mentioned string, ok bool) {
	for _, l := range links {
		for _, d := range data {
			if m.Same(d, l) {
				return l, d, true
			}
		}
	}
	return "", "", false
}

// Links returns the URLs found in an HTML page or text: link and meta
// attributes (href and src resolved against base), URLs written in the
// text, and data URLs written without a scheme ("datos.gob.mx/dataset/…").
// Duplicates are removed, first occurrence first. It scans with plain
// string searches rather than regular expressions: a 1 MiB page costs a
// few milliseconds (BenchmarkFindInOneMiB).
func Links(doc, base string, dataHosts []string) []string {
	doc = strings.ReplaceAll(doc, `\/`, "/") // URLs inside JSON in scripts
	b, _ := url.Parse(base)
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		s = strings.TrimRight(html.UnescapeString(strings.TrimSpace(s)), ".,;:!?)]}»”'\"")
		if s == "" || seen[s] {
			return
		}
		seen[s] = true
		out = append(out, s)
	}
	lower := asciiLower(doc)
	for _, attr := range []string{"href", "src", "content", "data-url", "data-href"} {
		relative := attr == "href" || attr == "src" // meta content is not a link unless absolute
		eachIndex(lower, attr, func(i int) {
			if i > 0 && isNameByte(lower[i-1]) {
				return
			}
			v, ok := attrValue(doc, i+len(attr))
			if !ok {
				return
			}
			v = html.UnescapeString(v)
			if b != nil && relative {
				if r, err := b.Parse(strings.TrimSpace(v)); err == nil && (r.Scheme == "http" || r.Scheme == "https") {
					add(r.String())
				}
				return
			}
			if l := asciiLower(v); strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://") {
				add(v)
			}
		})
	}
	text := html.UnescapeString(doc)
	lowerText := asciiLower(text)
	eachIndex(lowerText, "http", func(i int) {
		if strings.HasPrefix(lowerText[i:], "http://") || strings.HasPrefix(lowerText[i:], "https://") {
			add(text[i : i+urlLen(text[i:])])
		}
	})
	for _, h := range dataHosts {
		h = strings.TrimPrefix(strings.ToLower(strings.TrimSpace(h)), "www.")
		if h == "" {
			continue
		}
		eachIndex(lowerText, h+"/", func(i int) {
			start := i
			if start >= 4 && lowerText[start-4:start] == "www." {
				start -= 4
			}
			if start > 0 && strings.IndexByte("abcdefghijklmnopqrstuvwxyz0123456789./:-", lowerText[start-1]) >= 0 {
				return // part of a longer host, or of a URL with a scheme (found above)
			}
			add("https://" + text[start:start+urlLen(text[start:])])
		})
	}
	return out
}

// eachIndex calls fn with each index of needle in s.
func eachIndex(s, needle string, fn func(i int)) {
	for off := 0; ; {
		j := strings.Index(s[off:], needle)
		if j < 0 {
			return
		}
		fn(off + j)
		off += j + len(needle)
	}
}

// attrValue reads an attribute's value after its name ends at i: spaces,
// "=", spaces, then a quoted or bare value.
func attrValue(doc string, i int) (string, bool) {
	i = skipSpace(doc, i)
	if i >= len(doc) || doc[i] != '=' {
		return "", false
	}
	i = skipSpace(doc, i+1)
	if i >= len(doc) {
		return "", false
	}
	if q := doc[i]; q == '"' || q == '\'' {
		end := strings.IndexByte(doc[i+1:], q)
		if end < 0 {
			return "", false
		}
		return doc[i+1 : i+1+end], true
	}
	end := i
	for end < len(doc) && !isSpace(doc[end]) && strings.IndexByte("\"'>", doc[end]) < 0 {
		end++
	}
	return doc[i:end], end > i
}

func skipSpace(s string, i int) int {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == ':'
}

// urlLen is the length of the URL at the start of s: up to a space or a
// character URLs do not carry unescaped.
func urlLen(s string) int {
	for i := 0; i < len(s); i++ {
		if isSpace(s[i]) || s[i] == '\v' || strings.IndexByte("\"'<>\\^`{|}", s[i]) >= 0 {
			return i
		}
	}
	return len(s)
}

// asciiLower lower-cases ASCII letters only, so that indexes stay those of
// s.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// shortenerHosts are link shorteners whose links are resolved (one request
// each, no body) before matching.
var shortenerHosts = map[string]bool{
	"t.co": true, "bit.ly": true, "bitly.com": true, "ow.ly": true, "buff.ly": true, "tinyurl.com": true,
	"goo.gl": true, "lnkd.in": true, "fb.me": true, "is.gd": true, "cutt.ly": true, "rebrand.ly": true,
	"shorturl.at": true, "acortar.link": true, "tiny.cc": true, "dlvr.it": true, "trib.al": true,
	"s.gob.mx": true, "bit.do": true, "t.ly": true, "rb.gy": true,
}

// IsShortLink reports whether raw is on a known link shortener.
func IsShortLink(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Path == "" || u.Path == "/" {
		return false
	}
	return shortenerHosts[normalHost(u)]
}
