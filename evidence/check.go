package evidence

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/datosbot/datosbot"
)

// DefaultOEmbedURL is X's oEmbed endpoint (DATOSBOT_OEMBED_URL).
const DefaultOEmbedURL = "https://publish.twitter.com/oembed"

// maxShortLinks bounds the short links resolved per publication: one
// request each.
const maxShortLinks = 20

// CheckerConfig configures a Checker. The zero value of each field means
// the documented default.
type CheckerConfig struct {
	// Fetcher gets the pages. Default NewFetcher(FetcherConfig{}).
	Fetcher *Fetcher
	// OEmbedURL is the oEmbed endpoint for X/Twitter posts. Default
	// DefaultOEmbedURL.
	OEmbedURL string
	// DataHosts are the hosts of direct data URLs. Default
	// datosbot.DefaultDataHosts.
	DataHosts []string
}

// Checker checks one action's publication for a mention of its data URLs.
type Checker struct {
	fetch  *Fetcher
	oembed string
	match  Matcher
}

// NewChecker returns a Checker.
func NewChecker(cfg CheckerConfig) *Checker {
	c := &Checker{fetch: cfg.Fetcher, oembed: cfg.OEmbedURL, match: Matcher{DataHosts: cfg.DataHosts}}
	if c.fetch == nil {
		c.fetch = NewFetcher(FetcherConfig{})
	}
	if c.oembed == "" {
		c.oembed = DefaultOEmbedURL
	}
	if len(c.match.DataHosts) == 0 {
		c.match.DataHosts = datosbot.DefaultDataHosts
	}
	return c
}

// Result is the outcome of one check.
type Result struct {
	Status datosbot.EvidenceStatus
	Detail string // Spanish, for the action's evidence
	// RetryAfter is the server's Retry-After on an inaccesible answer,
	// zero when it gave none: the queue waits at least that long.
	RetryAfter time.Duration
	// Final means the outcome will not change by checking again.
	Final bool
	// Busy, when not zero, means the check did not run because a host was
	// booked by the pacer: run it again after Busy, it was no attempt.
	Busy time.Duration
}

// Check fetches a's publication and looks for one of a's data URLs in it.
// It never fails: every problem is an outcome with a detail.
func (c *Checker) Check(ctx context.Context, a datosbot.Action) Result {
	if post, ok := xPost(a.EvidenceURL); ok {
		return c.checkPost(ctx, a, post)
	}
	return c.checkPage(ctx, a)
}

// xStatus matches the path of an X/Twitter post.
var xStatus = regexp.MustCompile(`^/(?:([A-Za-z0-9_]{1,15})/status(?:es)?|i/web/status|i/status)/([0-9]{1,25})`)

// xPost returns the twitter.com form of an X/Twitter post URL, the form
// the oEmbed endpoint has always accepted.
func xPost(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", false
	}
	switch strings.TrimPrefix(strings.TrimPrefix(strings.ToLower(u.Hostname()), "www."), "mobile.") {
	case "twitter.com", "x.com":
	default:
		return "", false
	}
	m := xStatus.FindStringSubmatch(u.Path)
	if m == nil {
		return "", false
	}
	user := m[1]
	if user == "" {
		user = "i"
	}
	return "https://twitter.com/" + user + "/status/" + m[2], true
}

// oEmbedAnswer is the part of an oEmbed answer the check reads: html holds
// the post's text with its links (as t.co links).
type oEmbedAnswer struct {
	HTML string `json:"html"`
}

func (c *Checker) checkPost(ctx context.Context, a datosbot.Action, post string) Result {
	endpoint, err := url.Parse(c.oembed)
	if err != nil {
		return Result{Status: datosbot.EvidenceUnverifiable, Detail: "El servicio oEmbed configurado (DATOSBOT_OEMBED_URL) no es una URL válida; avise a la Unidad."}
	}
	q := endpoint.Query()
	q.Set("url", post)
	q.Set("omit_script", "true")
	q.Set("dnt", "true")
	q.Set("lang", "es")
	endpoint.RawQuery = q.Encode()
	p, err := c.fetch.Get(ctx, endpoint.String())
	var se *StatusError
	switch {
	case errors.As(err, &se) && se.Code == http.StatusNotFound:
		return Result{Status: datosbot.EvidenceUnreachable, Detail: "X no encuentra el post (oEmbed respondió 404): puede haberse borrado o la URL tener un error. Revise la URL; si cambió, retire la acción y registre la correcta."}
	case errors.As(err, &se) && se.Code == http.StatusForbidden:
		return Result{Status: datosbot.EvidenceUnverifiable, Detail: "X no muestra el post a quien no ha iniciado sesión (cuenta protegida o post restringido); revíselo a mano."}
	case err != nil:
		return c.failed(err, "el servicio oEmbed de X", a.EvidenceURL)
	case p.Incomplete:
		return Result{Status: datosbot.EvidenceUnreachable, Detail: fmt.Sprintf("El servicio oEmbed de X no terminó de responder en %s.", seconds(c.fetch.Budget()))}
	}
	var ans oEmbedAnswer
	if err := json.Unmarshal(p.Body, &ans); err != nil || strings.TrimSpace(ans.HTML) == "" {
		return Result{Status: datosbot.EvidenceUnverifiable, Detail: "El servicio oEmbed de X no devolvió el texto del post; revíselo a mano."}
	}
	links := Links(ans.HTML, post, c.match.DataHosts)
	if r, ok := c.findMention(ctx, a, links); ok {
		return r
	}
	return Result{Status: datosbot.EvidenceNoMention, Detail: noMention(a, len(links), false)}
}

func (c *Checker) checkPage(ctx context.Context, a datosbot.Action) Result {
	p, err := c.fetch.Get(ctx, a.EvidenceURL)
	var se *StatusError
	if errors.As(err, &se) && se.Code == http.StatusUnauthorized {
		return Result{Status: datosbot.EvidenceUnverifiable, Detail: "La página pide iniciar sesión (HTTP 401), así que el bot no puede leerla; revísela a mano."}
	}
	if err != nil {
		return c.failed(err, "la página", a.EvidenceURL)
	}
	if !isText(p.ContentType) {
		return Result{Status: datosbot.EvidenceUnverifiable, Detail: fmt.Sprintf("La publicación es un archivo (%s), no una página; el bot no puede leerlo, revíselo a mano.", mediaType(p.ContentType))}
	}
	body := string(p.Body)
	links := Links(body, p.URL, c.match.DataHosts)
	if r, ok := c.findMention(ctx, a, links); ok {
		return r
	}
	switch {
	case loginWall(p.URL, body):
		return Result{Status: datosbot.EvidenceUnverifiable, Detail: "La página pide iniciar sesión para ver la publicación, así que el bot no puede leerla; revísela a mano."}
	case needsJavaScript(body):
		return Result{Status: datosbot.EvidenceUnverifiable, Detail: "La página solo muestra su contenido con JavaScript, así que el bot no puede leerla; revísela a mano."}
	case p.Incomplete:
		return Result{Status: datosbot.EvidenceUnreachable, Detail: fmt.Sprintf("La página no terminó de cargar en %s y lo que llegó no cita la URL de los datos.", seconds(c.fetch.Budget()))}
	}
	return Result{Status: datosbot.EvidenceNoMention, Detail: noMention(a, len(links), p.Truncated)}
}

// mentionTargets are the URLs whose mention counts for a: its data URLs
// and, where the portal named the dataset behind one (its data checks), the
// dataset's page by slug, so that a download URL by UUID is found as the
// /dataset/<slug> the publication links.
func (c *Checker) mentionTargets(a datosbot.Action) []string {
	out := append([]string(nil), a.DataURLs...)
	for _, dc := range a.DataChecks {
		if dc.Dataset != "" && len(c.match.DataHosts) > 0 {
			out = append(out, "https://"+c.match.DataHosts[0]+"/dataset/"+url.PathEscape(dc.Dataset))
		}
	}
	return out
}

// findMention matches links, then the targets of the short links among
// them (one request each, no body), against a's data URLs.
func (c *Checker) findMention(ctx context.Context, a datosbot.Action, links []string) (Result, bool) {
	targets := c.mentionTargets(a)
	if link, data, ok := c.match.Find(targets, links); ok {
		return Result{Status: datosbot.EvidenceVerified, Detail: verified(link, data, "", a.DataURLs)}, true
	}
	resolved := 0
	for _, l := range links {
		if !IsShortLink(l) || resolved >= maxShortLinks {
			continue
		}
		short, target := l, l
		for hop := 0; hop < 3 && IsShortLink(target) && resolved < maxShortLinks; hop++ {
			resolved++
			next, err := c.fetch.Resolve(ctx, target)
			var busy *BusyError
			if errors.As(err, &busy) {
				return Result{Busy: busy.Wait}, true
			}
			if err != nil || next == "" {
				break
			}
			target = next
		}
		if target == short {
			continue
		}
		if _, data, ok := c.match.Find(targets, []string{target}); ok {
			return Result{Status: datosbot.EvidenceVerified, Detail: verified(target, data, short, a.DataURLs)}, true
		}
	}
	return Result{}, false
}

// verified words a mention of data found as link (through short); the
// same URL only when data is one of the action's own data URLs, not the
// dataset page the portal named.
func verified(link, data, short string, dataURLs []string) string {
	link = datosbot.Truncate(link, 200) // it comes from the page
	via := ""
	if short != "" {
		via = " (a través del enlace corto " + short + ")"
	}
	if Normalize(link) == Normalize(data) && slices.Contains(dataURLs, data) {
		return "La publicación cita la URL de los datos" + via + ": " + link
	}
	return "La publicación cita el mismo conjunto de datos con otra dirección" + via + ": " + link
}

func noMention(a datosbot.Action, links int, truncated bool) string {
	where := "La publicación"
	if truncated {
		where = "El primer MiB de la publicación"
	}
	return fmt.Sprintf("%s no cita la URL directa de los datos (%s); se revisaron %d %s. Edite la publicación para incluirla o, si no se puede, retire la acción (/datos retirar %s) y registre la publicación correcta.",
		where, strings.Join(a.DataURLs, ", "), links, plural(links, "enlace", "enlaces"), a.ID)
}

// failed turns a fetch error into an outcome: inaccesible with what went
// wrong, or Busy for the pacer. publication is the URL the user
// registered: a name that does not resolve is the user's to fix only when
// it is that URL's own host, not the oEmbed service's or a redirect's.
func (c *Checker) failed(err error, what, publication string) Result {
	var (
		busy    *BusyError
		blocked *BlockedError
		status  *StatusError
		redir   *RedirectError
		dnsErr  *net.DNSError
	)
	r := Result{Status: datosbot.EvidenceUnreachable}
	switch {
	case errors.As(err, &busy):
		return Result{Busy: busy.Wait}
	case errors.As(err, &blocked):
		r.Final = true // the address will not become public by waiting
		r.Detail = fmt.Sprintf("El bot no consulta %s porque %s %s. Si la URL es correcta, la publicación no es pública: registre una dirección pública.", what, blocked.Addr, blocked.Reason)
	case errors.As(err, &status):
		r.RetryAfter = status.RetryAfter
		r.Detail = fmt.Sprintf("%s respondió HTTP %d: %s.", capitalize(what), status.Code, statusMeaning(status.Code))
		if status.Code == http.StatusNotFound || status.Code == http.StatusGone {
			r.Detail += " Revise que la URL de la publicación sea correcta."
		}
	case errors.As(err, &redir):
		r.Detail = fmt.Sprintf("%s no se pudo seguir: %s.", capitalize(what), redir.Reason)
	case errors.As(err, &dnsErr):
		r.Detail = c.nameNotFound(dnsErr.Name, what, publication)
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		r.Detail = fmt.Sprintf("%s no respondió en %s.", capitalize(what), seconds(c.fetch.Budget()))
	default:
		r.Detail = fmt.Sprintf("No se pudo leer %s (error de conexión).", what)
	}
	return r
}

// statusMeaning says in Spanish what an HTTP error status means for the
// check; the code itself goes beside it for whoever looks further.
func statusMeaning(code int) string {
	switch {
	case code == http.StatusBadRequest:
		return "el sitio rechazó la consulta del bot"
	case code == http.StatusUnauthorized:
		return "el sitio pide iniciar sesión"
	case code == http.StatusForbidden:
		return "el sitio no deja leerla al bot"
	case code == http.StatusNotFound:
		return "no existe la página"
	case code == http.StatusGone:
		return "la página ya no existe"
	case code == http.StatusTooManyRequests:
		return "el sitio pide consultarlo con menos frecuencia"
	case code == http.StatusServiceUnavailable:
		return "el sitio no está disponible por ahora"
	case code == http.StatusGatewayTimeout:
		return "el sitio tardó demasiado en responder"
	case code >= 500:
		return "el sitio falló"
	case code >= 400:
		return "el sitio rechazó la consulta"
	default:
		return "respuesta inesperada"
	}
}

// nameNotFound words a name that did not resolve.
func (c *Checker) nameNotFound(name, what, publication string) string {
	if u, err := url.Parse(publication); err == nil && sameHost(u.Hostname(), name) {
		return fmt.Sprintf("El nombre del sitio no existe o no responde (%s). Revise la URL de la publicación.", name)
	}
	who := capitalize(what) + " (" + name + ")"
	if what == "la página" {
		who = "El sitio al que lleva la publicación (" + name + ")"
	}
	return who + " no responde desde el servidor del bot: no se encontró su nombre. No es un problema de la URL de la publicación; el bot la revisará de nuevo automáticamente."
}

// sameHost compares host names as DNS does: without case or a trailing dot.
func sameHost(a, b string) bool {
	return strings.EqualFold(strings.TrimSuffix(a, "."), strings.TrimSuffix(b, "."))
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func seconds(d time.Duration) string {
	return fmt.Sprintf("%g s", d.Seconds())
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func mediaType(ct string) string {
	mt, _, _ := strings.Cut(ct, ";")
	if mt = strings.TrimSpace(mt); mt == "" {
		return "tipo desconocido"
	}
	return mt
}

// isText reports whether a Content-Type is something links can be read
// from; an absent one is taken as text.
func isText(ct string) bool {
	mt := strings.ToLower(mediaType(ct))
	return ct == "" || strings.HasPrefix(mt, "text/") || strings.Contains(mt, "html") || strings.Contains(mt, "xml") || strings.Contains(mt, "json")
}

var (
	passwordInput = regexp.MustCompile(`(?i)<input[^>]+type\s*=\s*["']?password`)
	loginPath     = regexp.MustCompile(`(?i)/(login|log-in|signin|sign-in|iniciar-sesion|accounts/login|i/flow/login|checkpoint|authwall|uas/login)(/|$|\?)`)
	scriptBlock   = regexp.MustCompile(`(?is)<(script|style|noscript|template)\b.*?</(script|style|noscript|template)\s*>`)
	noscriptJS    = regexp.MustCompile(`(?is)<noscript\b[^>]*>.*?javascript.*?</noscript\s*>`)
	anyTag        = regexp.MustCompile(`(?s)<[^>]*>`)
)

// loginWalledHosts show a login form instead of a post to visitors that
// have not signed in.
var loginWalledHosts = []string{"facebook.com", "instagram.com", "linkedin.com", "tiktok.com", "threads.net", "threads.com"}

// loginWall reports whether the page asks to sign in: a password field, a
// login path after the redirects, or a network that hides posts from
// visitors.
func loginWall(finalURL, body string) bool {
	if passwordInput.MatchString(body) {
		return true
	}
	u, err := url.Parse(finalURL)
	if err != nil {
		return false
	}
	if loginPath.MatchString(u.Path) {
		return true
	}
	host := normalHost(u)
	for _, h := range loginWalledHosts {
		if host == h || strings.HasSuffix(host, "."+h) {
			return true
		}
	}
	return false
}

// needsJavaScript reports whether the page shows (almost) nothing without
// running its scripts.
func needsJavaScript(body string) bool {
	visible := anyTag.ReplaceAllString(scriptBlock.ReplaceAllString(body, " "), " ")
	n := len(strings.Join(strings.Fields(visible), " "))
	hasScript := strings.Contains(strings.ToLower(body), "<script")
	return (noscriptJS.MatchString(body) && n < 500) || (hasScript && n < 100)
}
