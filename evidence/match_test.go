package evidence

import (
	"slices"
	"strings"
	"testing"

	"github.com/datosbot/datosbot"
)

func TestMatcherSame(t *testing.T) {
	m := Matcher{DataHosts: datosbot.DefaultDataHosts}
	const (
		accidentes = "https://www.datos.gob.mx/dataset/accidentes_transito"
		covid      = "https://datos.gob.mx/busca/dataset/informacion-referente-a-casos-covid-19-en-mexico"
		gasolina   = "https://datos.gob.mx/busca/dataset/ubicacion-de-gasolineras-y-precios-comerciales-de-gasolina-y-diesel-por-estacion/resource/575d6ced-44be-4df6-be2f-c8f6fad84bae"
		download   = "https://www.datos.gob.mx/dataset/d0074e50-d661-44d4-a1a3-73a89e671e1f/resource/3c1b2a55-6f0e-4d1c-9a7b-2f4e5d6c7b8a/download/cp_aguascalientes.zip"
		conjuntos  = "http://busca.datos.gob.mx/#!/conjuntos/indice-de-peligro-a-nivel-municipal"
	)
	for _, tc := range []struct {
		name, data, link string
		same             bool
	}{
		{"identical", accidentes, accidentes, true},
		{"http and no www", accidentes, "http://datos.gob.mx/dataset/accidentes_transito", true},
		{"host case", accidentes, "https://WWW.Datos.Gob.MX/dataset/accidentes_transito", true},
		{"trailing slash", accidentes, accidentes + "/", true},
		{"trailing dot in the host", accidentes, "https://www.datos.gob.mx./dataset/accidentes_transito", true},
		{"default port", accidentes, "https://www.datos.gob.mx:443/dataset/accidentes_transito", true},
		{"utm parameters", accidentes, accidentes + "?utm_source=twitter&utm_medium=social&utm_campaign=b6", true},
		{"fbclid", accidentes, accidentes + "/?fbclid=IwAR2xYz_abc123", true},
		{"gclid and utm mixed case", accidentes, accidentes + "?UTM_Source=x&gclid=Cj0KCQ", true},
		{"language prefix", accidentes, "https://www.datos.gob.mx/es/dataset/accidentes_transito", true},
		{"busca era of the same dataset", accidentes, "https://datos.gob.mx/busca/dataset/accidentes_transito", true},
		{"catalogo era of the same dataset", accidentes, "http://catalogo.datos.gob.mx/dataset/accidentes_transito", true},
		{"resource of the dataset", covid, "https://datos.gob.mx/busca/dataset/informacion-referente-a-casos-covid-19-en-mexico/resource/9a1b2c3d-0000-4000-8000-000000000001", true},
		{"dataset of a resource", gasolina, "https://www.datos.gob.mx/dataset/ubicacion-de-gasolineras-y-precios-comerciales-de-gasolina-y-diesel-por-estacion", true},
		{"download URL by UUID", download, "https://www.datos.gob.mx/dataset/d0074e50-d661-44d4-a1a3-73a89e671e1f", true},
		{"busca single-page route", conjuntos, "https://datos.gob.mx/busca/dataset/indice-de-peligro-a-nivel-municipal", true},
		{"busca route with #/", conjuntos, "http://busca.datos.gob.mx/#/conjuntos/indice-de-peligro-a-nivel-municipal/", true},
		{"slug case", accidentes, "https://datos.gob.mx/dataset/Accidentes_Transito", true},

		{"portal home", accidentes, "https://www.datos.gob.mx/", false},
		{"dataset list", accidentes, "https://www.datos.gob.mx/dataset/", false},
		{"search for the dataset", accidentes, "https://www.datos.gob.mx/dataset?q=accidentes_transito", false},
		{"organization page", accidentes, "https://www.datos.gob.mx/organization/inegi", false},
		{"another dataset", accidentes, "https://www.datos.gob.mx/dataset/accidentes_transito_2020", false},
		{"a dataset whose slug starts the same", covid, "https://datos.gob.mx/busca/dataset/informacion-referente-a-casos-covid-19", false},
		{"same path on another portal", accidentes, "https://datos.cdmx.gob.mx/dataset/accidentes_transito", false},
		{"institution site with the slug", accidentes, "https://www.inegi.org.mx/dataset/accidentes_transito", false},
		{"busca route of another dataset", conjuntos, "http://busca.datos.gob.mx/#!/conjuntos/atlas-de-riesgos", false},
		{"busca home", conjuntos, "http://busca.datos.gob.mx/", false},
		{"slug vs uuid of the dataset (needs the portal)", download, "https://www.datos.gob.mx/dataset/codigos-postales", false},
		{"not a URL", accidentes, "datos abiertos de accidentes", false},
		{"a meaningful query parameter", "https://datos.gob.mx/busca/dataset/x#!/conjuntos/y", "https://datos.gob.mx/busca/dataset?q=x", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := m.Same(tc.data, tc.link); got != tc.same {
				t.Errorf("Same(%s, %s) = %v, want %v (normalized %q and %q)", tc.data, tc.link, got, tc.same, Normalize(tc.data), Normalize(tc.link))
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://www.datos.gob.mx/dataset/a/", "datos.gob.mx/dataset/a"},
		{"HTTP://Datos.Gob.Mx/dataset/a?b=2&a=1&utm_source=x", "datos.gob.mx/dataset/a?a=1&b=2"},
		{"https://datos.gob.mx:8443/x", "datos.gob.mx:8443/x"},
		{"https://datos.gob.mx/x#section-2", "datos.gob.mx/x"},
		{"http://busca.datos.gob.mx/#!/conjuntos/a/", "busca.datos.gob.mx#/conjuntos/a"},
		{"https://datos.gob.mx/dataset/caf%C3%A9", "datos.gob.mx/dataset/caf%C3%A9"},
		{"https://datos.gob.mx/dataset/%7Ea", "datos.gob.mx/dataset/~a"},
		{"ftp://datos.gob.mx/a", ""},
		{"/dataset/a", ""},
	} {
		if got := Normalize(tc.in); got != tc.want {
			t.Errorf("Normalize(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestLinks(t *testing.T) {
	doc := `<html><head><meta property="og:url" content="https://www.gob.mx/inegi/prensa/nota-1"><meta name="viewport" content="width=device-width"></head><body>
<p>Consulte los datos en <a href="/dataset/relativo">el portal</a> y en
<a href='https://datos.gob.mx/busca/dataset/x?utm_source=a&amp;utm_medium=b'>este enlace</a>.</p>
<p>También en datos.gob.mx/dataset/sin_esquema, o https://t.co/AbC123.</p>
<script>var u = "https:\/\/www.datos.gob.mx\/dataset\/en_json";</script>
<a href="mailto:datos@inegi.org.mx">correo</a> <a href="https://t.co/AbC123">dup</a>
</body></html>`
	got := Links(doc, "https://www.datos.gob.mx/blog/nota", datosbot.DefaultDataHosts)
	for _, want := range []string{
		"https://www.gob.mx/inegi/prensa/nota-1",
		"https://www.datos.gob.mx/dataset/relativo",
		"https://datos.gob.mx/busca/dataset/x?utm_source=a&utm_medium=b",
		"https://datos.gob.mx/dataset/sin_esquema",
		"https://t.co/AbC123",
		"https://www.datos.gob.mx/dataset/en_json",
	} {
		if !slices.Contains(got, want) {
			t.Errorf("Links missed %s; got %q", want, got)
		}
	}
	n := 0
	for _, l := range got {
		if l == "https://t.co/AbC123" {
			n++
		}
		if l == "mailto:datos@inegi.org.mx" || strings.Contains(l, "width=device-width") {
			t.Errorf("Links kept %s, which is not a web link", l)
		}
	}
	if n != 1 {
		t.Errorf("https://t.co/AbC123 appears %d times, want once", n)
	}
}

func TestIsShortLink(t *testing.T) {
	for in, want := range map[string]bool{
		"https://t.co/AbC123":         true,
		"http://bit.ly/3xYz":          true,
		"https://t.co/":               false,
		"https://twitter.com/a":       false,
		"https://www.datos.gob.mx/x":  false,
		"https://lnkd.in/eAbCdEf":     true,
		"https://tinyurl.com/2p8abcd": true,
	} {
		if got := IsShortLink(in); got != want {
			t.Errorf("IsShortLink(%s) = %v, want %v", in, got, want)
		}
	}
}

func TestLoginWallAndJavaScript(t *testing.T) {
	for _, tc := range []struct {
		name, url, body string
		login, js       bool
	}{
		{"password form", "https://intranet.example.mx/nota", `<form><input name="u"><input type="password" name="p"></form>`, true, false},
		{"redirected to a login path", "https://www.example.mx/accounts/login?next=/nota", `<p>Bienvenido</p>`, true, false},
		{"facebook", "https://www.facebook.com/INEGI/posts/123", `<div>Facebook</div>`, true, false},
		{"an app shell", "https://app.example.mx/nota", `<html><body><div id="root"></div><script src="/app.js"></script></body></html>`, false, true},
		{"noscript asking for JavaScript", "https://app.example.mx/nota", `<noscript>Habilite JavaScript para ver esta página.</noscript><div id="app"></div><script>boot()</script>`, false, true},
		{"an ordinary page", "https://www.gob.mx/inegi/prensa/nota", `<html><body><h1>Nota</h1><p>` + repeat("Texto de la nota de prensa con datos abiertos. ", 20) + `</p><script>ga()</script></body></html>`, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := loginWall(tc.url, tc.body); got != tc.login {
				t.Errorf("loginWall = %v, want %v", got, tc.login)
			}
			if got := needsJavaScript(tc.body); got != tc.js {
				t.Errorf("needsJavaScript = %v, want %v", got, tc.js)
			}
		})
	}
}

func repeat(s string, n int) string {
	out := ""
	for range n {
		out += s
	}
	return out
}

func TestXPost(t *testing.T) {
	for in, want := range map[string]string{
		"https://x.com/INEGI_INFORMA/status/1866123456789012345":              "https://twitter.com/INEGI_INFORMA/status/1866123456789012345",
		"https://twitter.com/SHCP_mx/status/1866123456789012345?s=20&t=abc":   "https://twitter.com/SHCP_mx/status/1866123456789012345",
		"https://mobile.twitter.com/imss/status/123/photo/1":                  "https://twitter.com/imss/status/123",
		"https://x.com/i/web/status/1866123456789012345":                      "https://twitter.com/i/status/1866123456789012345",
		"https://x.com/INEGI_INFORMA":                                         "",
		"https://www.facebook.com/INEGI/posts/1866123456789012345":            "",
		"https://x.com.evil.example/INEGI_INFORMA/status/1866123456789012345": "",
	} {
		got, ok := xPost(in)
		if got != want || ok != (want != "") {
			t.Errorf("xPost(%s) = %q, %v; want %q", in, got, ok, want)
		}
	}
}
