package evidence

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/datosbot/datosbot"
)

const dataURL = "https://www.datos.gob.mx/dataset/accidentes_transito"

// fakeWeb is the outside world of a check, on loopback: publication pages,
// X's oEmbed endpoint and t.co (over TLS, reached by rewriting t.co:443).
type fakeWeb struct {
	pages  *httptest.Server
	oembed *httptest.Server
	tco    *httptest.Server
	// posts are the oEmbed html of each post URL (twitter.com form).
	posts map[string]string
	// tcoHits counts requests to the fake t.co.
	tcoHits atomic.Int64
	// oembedQueries records the url= each oEmbed request asked for.
	oembedQueries []string
}

func newFakeWeb(t *testing.T, pages map[string]http.HandlerFunc) *fakeWeb {
	t.Helper()
	w := &fakeWeb{posts: map[string]string{}}
	mux := http.NewServeMux()
	for path, h := range pages {
		mux.HandleFunc(path, h)
	}
	w.pages = httptest.NewServer(mux)
	t.Cleanup(w.pages.Close)
	// The shape of publish.twitter.com/oembed's answer (a "rich" type
	// whose html is the post as a blockquote with t.co links).
	w.oembed = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		u := r.URL.Query().Get("url")
		w.oembedQueries = append(w.oembedQueries, u)
		body, ok := w.posts[u]
		if !ok {
			http.Error(rw, "", http.StatusNotFound)
			return
		}
		rw.Header().Set("Content-Type", "application/json; charset=utf-8")
		json.NewEncoder(rw).Encode(map[string]any{
			"url": u, "author_name": "INEGI Informa", "author_url": "https://twitter.com/INEGI_INFORMA",
			"html": body, "width": 550, "height": nil, "type": "rich", "cache_age": "3153600000",
			"provider_name": "Twitter", "provider_url": "https://twitter.com", "version": "1.0",
		})
	}))
	t.Cleanup(w.oembed.Close)
	w.tco = httptest.NewTLSServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.tcoHits.Add(1)
		switch r.URL.Path {
		case "/Ab12Cd":
			rw.Header().Set("Location", "http://datos.gob.mx/dataset/accidentes_transito?utm_source=twitter&utm_medium=social")
		case "/Zz99Yy":
			rw.Header().Set("Location", "https://www.datos.gob.mx/")
		default:
			http.NotFound(rw, r)
			return
		}
		rw.WriteHeader(http.StatusMovedPermanently)
	}))
	t.Cleanup(w.tco.Close)
	return w
}

func (w *fakeWeb) fetcherConfig() FetcherConfig {
	return FetcherConfig{
		Allow:   []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
		rewrite: map[string]string{"t.co:443": w.tco.Listener.Addr().String()},
		// The fake's certificate names 127.0.0.1, not t.co.
		tlsConfig: &tls.Config{InsecureSkipVerify: true},
	}
}

func (w *fakeWeb) checker() *Checker {
	return NewChecker(CheckerConfig{Fetcher: NewFetcher(w.fetcherConfig()), OEmbedURL: w.oembed.URL + "/oembed"})
}

func tweet(text string) string {
	return `<blockquote class="twitter-tweet"><p lang="es" dir="ltr">` + text +
		`</p>&mdash; INEGI Informa (@INEGI_INFORMA) <a href="https://twitter.com/INEGI_INFORMA/status/1866123456789012345?ref_src=twsrc%5Etfw">December 1, 2026</a></blockquote>` + "\n"
}

func page(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, body)
	}
}

func TestCheckOutcomes(t *testing.T) {
	article := func(links string) string {
		return `<!doctype html><html><head><title>Boletín</title></head><body><article><h1>Publicamos datos de accidentes</h1><p>` +
			strings.Repeat("El INEGI publica las estadísticas de accidentes de tránsito terrestre en zonas urbanas. ", 5) +
			`</p>` + links + `</article></body></html>`
	}
	web := newFakeWeb(t, map[string]http.HandlerFunc{
		"/boletin-con-enlace": page(article(`<a href="http://datos.gob.mx/dataset/accidentes_transito/?utm_source=boletin&amp;fbclid=IwAR0">Datos</a>`)),
		"/boletin-otra-era":   page(article(`<a href="https://datos.gob.mx/busca/dataset/accidentes_transito/resource/9a1b2c3d">CSV</a>`)),
		"/boletin-texto":      page(article(`<p>Consulte datos.gob.mx/dataset/accidentes_transito.</p>`)),
		"/boletin-portada":    page(article(`<a href="https://www.datos.gob.mx/">Portal de datos</a> <a href="https://www.inegi.org.mx/">INEGI</a>`)),
		"/boletin-corto":      page(article(`<a href="https://t.co/Ab12Cd">https://t.co/Ab12Cd</a>`)),
		"/login":              page(`<html><body><form action="/session" method="post"><input name="usuario"><input type="password" name="clave"><button>Entrar</button></form></body></html>`),
		"/privado": func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/login?next=/privado", http.StatusFound)
		},
		"/app":       page(`<!doctype html><html><head><script src="/static/app.js"></script></head><body><div id="root"></div></body></html>`),
		"/no-existe": func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) },
		"/error": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "120")
			w.WriteHeader(http.StatusServiceUnavailable)
		},
		"/informe.pdf": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/pdf")
			fmt.Fprint(w, "%PDF-1.7")
		},
	})
	web.posts["https://twitter.com/INEGI_INFORMA/status/1866123456789012345"] = tweet(`Ya están los datos de accidentes de tránsito <a href="https://t.co/Ab12Cd">https://t.co/Ab12Cd</a>`)
	web.posts["https://twitter.com/INEGI_INFORMA/status/1866123456789000000"] = tweet(`Visite el portal <a href="https://t.co/Zz99Yy">https://t.co/Zz99Yy</a>`)
	web.posts["https://twitter.com/INEGI_INFORMA/status/1866123456789011111"] = tweet(`Datos en datos.gob.mx/dataset/accidentes_transito`)
	c := web.checker()

	for _, tc := range []struct {
		name, evidence string
		want           datosbot.EvidenceStatus
		detail         string
	}{
		{"link with tracking parameters and http", web.pages.URL + "/boletin-con-enlace", datosbot.EvidenceVerified, "accidentes_transito"},
		{"another era's URL of the dataset", web.pages.URL + "/boletin-otra-era", datosbot.EvidenceVerified, "mismo conjunto"},
		{"URL written in the text without scheme", web.pages.URL + "/boletin-texto", datosbot.EvidenceVerified, "cita la URL"},
		{"short link in the page", web.pages.URL + "/boletin-corto", datosbot.EvidenceVerified, "t.co/Ab12Cd"},
		{"only the portal's home", web.pages.URL + "/boletin-portada", datosbot.EvidenceNoMention, "Edite la publicación"},
		{"404", web.pages.URL + "/no-existe", datosbot.EvidenceUnreachable, "HTTP 404"},
		{"503 with Retry-After", web.pages.URL + "/error", datosbot.EvidenceUnreachable, "HTTP 503"},
		{"login form", web.pages.URL + "/login", datosbot.EvidenceUnverifiable, "iniciar sesión"},
		{"redirected to a login", web.pages.URL + "/privado", datosbot.EvidenceUnverifiable, "iniciar sesión"},
		{"JavaScript-only page", web.pages.URL + "/app", datosbot.EvidenceUnverifiable, "JavaScript"},
		{"a PDF", web.pages.URL + "/informe.pdf", datosbot.EvidenceUnverifiable, "application/pdf"},
		{"X post whose t.co link redirects to the data URL", "https://x.com/INEGI_INFORMA/status/1866123456789012345?s=20", datosbot.EvidenceVerified, "t.co/Ab12Cd"},
		{"X post with the URL in its text", "https://twitter.com/INEGI_INFORMA/status/1866123456789011111", datosbot.EvidenceVerified, "cita la URL"},
		{"X post linking the portal's home", "https://x.com/INEGI_INFORMA/status/1866123456789000000", datosbot.EvidenceNoMention, "no cita"},
		{"deleted X post", "https://x.com/INEGI_INFORMA/status/1", datosbot.EvidenceUnreachable, "404"},
		{"internal address", "http://169.254.169.254/latest/meta-data/", datosbot.EvidenceUnreachable, "no consulta"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := datosbot.Action{ID: "A7K2", Institution: "inegi", DataURLs: []string{dataURL}, EvidenceURL: tc.evidence}
			r := c.Check(context.Background(), a)
			if r.Status != tc.want || !strings.Contains(r.Detail, tc.detail) {
				t.Errorf("Check(%s) = %s %q; want %s with %q", tc.evidence, r.Status, r.Detail, tc.want, tc.detail)
			}
			if tc.want == datosbot.EvidenceUnreachable && tc.detail == "HTTP 503" && r.RetryAfter.Seconds() != 120 {
				t.Errorf("RetryAfter = %v, want the server's 120 s", r.RetryAfter)
			}
		})
	}
	for _, q := range web.oembedQueries {
		if !strings.HasPrefix(q, "https://twitter.com/INEGI_INFORMA/status/") || strings.Contains(q, "?") {
			t.Errorf("oEmbed asked for %q, want the post's twitter.com URL without parameters", q)
		}
	}
}

func TestCheckResolvesEachShortLinkOnce(t *testing.T) {
	web := newFakeWeb(t, map[string]http.HandlerFunc{
		"/hilo": page(`<p>` + strings.Repeat("Texto de la nota. ", 20) + `</p><a href="https://t.co/Zz99Yy">uno</a> https://t.co/Zz99Yy <a href="https://t.co/Ab12Cd">dos</a>`),
	})
	r := web.checker().Check(context.Background(), datosbot.Action{DataURLs: []string{dataURL}, EvidenceURL: web.pages.URL + "/hilo"})
	if r.Status != datosbot.EvidenceVerified {
		t.Fatalf("status %s %q, want verificada", r.Status, r.Detail)
	}
	if n := web.tcoHits.Load(); n != 2 {
		t.Errorf("t.co was asked %d times, want 2 (one request per distinct short link)", n)
	}
}

func TestCheckFindsTheDatasetThePortalNamed(t *testing.T) {
	web := newFakeWeb(t, map[string]http.HandlerFunc{
		"/nota": page(`<p>` + strings.Repeat("Nota de prensa. ", 20) + `<a href="https://datos.gob.mx/dataset/codigos-postales">Códigos postales</a></p>`),
	})
	download := "https://www.datos.gob.mx/dataset/d0074e50-d661-44d4-a1a3-73a89e671e1f/resource/3c1b2a55-6f0e-4d1c-9a7b-2f4e5d6c7b8a/download/cp.zip"
	a := datosbot.Action{ID: "A7K2", DataURLs: []string{download}, EvidenceURL: web.pages.URL + "/nota"}
	if r := web.checker().Check(context.Background(), a); r.Status != datosbot.EvidenceNoMention {
		t.Fatalf("without the portal's answer: %s %q, want sin_mencion (a UUID is not a slug)", r.Status, r.Detail)
	}
	a.DataChecks = []datosbot.DataCheck{{URL: download, Status: datosbot.CheckVerificada, Dataset: "codigos-postales"}}
	if r := web.checker().Check(context.Background(), a); r.Status != datosbot.EvidenceVerified || !strings.Contains(r.Detail, "mismo conjunto") {
		t.Errorf("with the portal's dataset: %s %q, want verificada", r.Status, r.Detail)
	}
}

// dnsFailure is the error the HTTP client returns when a name does not
// resolve, wrapped as it is on the way out of a request.
func dnsFailure(rawURL, name string) error {
	return &url.Error{Op: "Get", URL: rawURL, Err: &net.OpError{Op: "dial", Net: "tcp",
		Err: &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}}}
}

func TestUnresolvedNameBlamesTheUserOnlyForThePublicationsOwnHost(t *testing.T) {
	c := NewChecker(CheckerConfig{})
	const post = "https://x.com/INEGI_INFORMA/status/1866123456789012345"
	for _, tc := range []struct {
		name, what, publication, host string
		wantURLAdvice                 bool
	}{
		{"oEmbed service", "el servicio oEmbed de X", post, "publish.twitter.com", false},
		{"redirect to another site", "la página", "https://www.inegi.org.mx/boletin", "cdn.inegi-externo.mx", false},
		{"the publication's own host", "la página", "https://www.inegi.org.mx/boletin", "www.inegi.org.mx", true},
		{"own host, other case and trailing dot", "la página", "https://WWW.inegi.org.mx/boletin", "www.inegi.org.mx.", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := c.failed(dnsFailure(tc.publication, tc.host), tc.what, tc.publication)
			if r.Status != datosbot.EvidenceUnreachable || r.Final {
				t.Fatalf("status %q final %v, want inaccesible and checked again", r.Status, r.Final)
			}
			if !strings.Contains(r.Detail, tc.host) {
				t.Errorf("detail %q does not name the host %s", r.Detail, tc.host)
			}
			if got := strings.Contains(r.Detail, "Revise la URL"); got != tc.wantURLAdvice {
				t.Errorf("detail %q: tells the user to check the URL = %v, want %v", r.Detail, got, tc.wantURLAdvice)
			}
			if !tc.wantURLAdvice && (!strings.Contains(r.Detail, "no responde desde el servidor del bot") || !strings.Contains(r.Detail, "automáticamente")) {
				t.Errorf("detail %q does not say the service fails from the bot's server and is checked again", r.Detail)
			}
			if tc.what == "el servicio oEmbed de X" && !strings.Contains(r.Detail, "oEmbed de X") {
				t.Errorf("detail %q does not name the oEmbed service", r.Detail)
			}
		})
	}
}

func TestUnreachableDetailSaysTheStatusInSpanishWithItsCode(t *testing.T) {
	c := NewChecker(CheckerConfig{})
	for _, tc := range []struct {
		code int
		want string
	}{
		{http.StatusNotFound, "HTTP 404: no existe la página"},
		{http.StatusForbidden, "HTTP 403: el sitio no deja leerla al bot"},
		{http.StatusGone, "HTTP 410: la página ya no existe"},
		{http.StatusTooManyRequests, "HTTP 429: el sitio pide consultarlo con menos frecuencia"},
		{http.StatusInternalServerError, "HTTP 500: el sitio falló"},
		{http.StatusBadGateway, "HTTP 502: el sitio falló"},
		{http.StatusServiceUnavailable, "HTTP 503: el sitio no está disponible por ahora"},
		{http.StatusGatewayTimeout, "HTTP 504: el sitio tardó demasiado en responder"},
		{418, "HTTP 418: el sitio rechazó la consulta"},
	} {
		r := c.failed(&StatusError{Code: tc.code}, "la página", "https://www.inegi.org.mx/boletin")
		if r.Status != datosbot.EvidenceUnreachable || !strings.Contains(r.Detail, tc.want) {
			t.Errorf("HTTP %d: %q %q, want inaccesible with %q", tc.code, r.Status, r.Detail, tc.want)
		}
		if english := http.StatusText(tc.code); strings.Contains(r.Detail, english) {
			t.Errorf("HTTP %d: detail %q carries the English %q", tc.code, r.Detail, english)
		}
	}
}
