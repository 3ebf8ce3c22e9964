package datosbot_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/datosbot/datosbot"
)

// TestValidateDataURLStoredForm pins what is stored for each accepted data
// URL and why each refused one is refused (the word the message must carry).
func TestValidateDataURLStoredForm(t *testing.T) {
	hosts := datosbot.DefaultDataHosts
	tests := []struct {
		name    string
		url     string
		want    string // stored form; "" means refused
		because string // a word of the refusal's message
	}{
		// Tracking parameters from shared links are dropped.
		{"utm from a tweet", "https://www.datos.gob.mx/dataset/accidentes_transito?utm_source=twitter&utm_medium=social",
			"https://www.datos.gob.mx/dataset/accidentes_transito", ""},
		{"utm with campaign and content", "https://datos.gob.mx/busca/dataset/informacion-referente-a-casos-covid-19-en-mexico?utm_source=newsletter&utm_medium=email&utm_campaign=b6&utm_content=boton",
			"https://datos.gob.mx/busca/dataset/informacion-referente-a-casos-covid-19-en-mexico", ""},
		{"fbclid from Facebook", "https://www.datos.gob.mx/dataset/codigos_postales_entidad_federativa?fbclid=IwAR2xYz_0aBcD-EfGh1234567890",
			"https://www.datos.gob.mx/dataset/codigos_postales_entidad_federativa", ""},
		{"gclid from an ad", "https://www.datos.gob.mx/dataset/accidentes_transito/?gclid=Cj0KCQiA&gclsrc=aw.ds",
			"https://www.datos.gob.mx/dataset/accidentes_transito/", ""},
		{"mailchimp", "https://www.datos.gob.mx/dataset/accidentes_transito?mc_cid=3f2a1b&mc_eid=9c8d7e",
			"https://www.datos.gob.mx/dataset/accidentes_transito", ""},
		{"instagram", "https://www.datos.gob.mx/dataset/accidentes_transito?igshid=MzRlODBiNWFlZA==",
			"https://www.datos.gob.mx/dataset/accidentes_transito", ""},
		{"upper-case tracking name", "https://www.datos.gob.mx/dataset/accidentes_transito?UTM_Source=X&FBCLID=1",
			"https://www.datos.gob.mx/dataset/accidentes_transito", ""},
		{"empty query", "https://www.datos.gob.mx/dataset/accidentes_transito?",
			"https://www.datos.gob.mx/dataset/accidentes_transito", ""},
		{"tracking on a resource download", "https://www.datos.gob.mx/dataset/d0074e50-d661-44d4-a1a3-73a89e671e1f/resource/575d6ced-44be-4df6-be2f-c8f6fad84bae/download/cp.csv?utm_source=whatsapp",
			"https://www.datos.gob.mx/dataset/d0074e50-d661-44d4-a1a3-73a89e671e1f/resource/575d6ced-44be-4df6-be2f-c8f6fad84bae/download/cp.csv", ""},
		{"tracking before the single-page route", "http://busca.datos.gob.mx/?fbclid=IwAR0#!/conjuntos/recursos-en-salud",
			"http://busca.datos.gob.mx/#!/conjuntos/recursos-en-salud", ""},
		{"tracking inside the single-page route", "http://busca.datos.gob.mx/#!/conjuntos/recursos-en-salud?utm_source=facebook",
			"http://busca.datos.gob.mx/#!/conjuntos/recursos-en-salud", ""},

		// Host case, a trailing dot and the default port are the same host.
		{"upper-case host", "https://WWW.DATOS.GOB.MX/dataset/accidentes_transito",
			"https://www.datos.gob.mx/dataset/accidentes_transito", ""},
		{"mixed-case host and scheme", "HTTPS://Datos.Gob.Mx/busca/dataset/asegurados-en-el-imss",
			"https://datos.gob.mx/busca/dataset/asegurados-en-el-imss", ""},
		{"trailing dot", "https://www.datos.gob.mx./dataset/accidentes_transito",
			"https://www.datos.gob.mx/dataset/accidentes_transito", ""},
		{"default port", "https://www.datos.gob.mx:443/dataset/accidentes_transito",
			"https://www.datos.gob.mx/dataset/accidentes_transito", ""},
		{"anchor on a dataset page is kept", "https://www.datos.gob.mx/dataset/accidentes_transito#resources",
			"https://www.datos.gob.mx/dataset/accidentes_transito#resources", ""},
		{"single-page route without slash", "http://busca.datos.gob.mx#!/conjuntos/recursos-en-salud",
			"http://busca.datos.gob.mx/#!/conjuntos/recursos-en-salud", ""},

		// Searches are still refused, also when tracking comes along.
		{"search q", "https://www.datos.gob.mx/dataset?q=salud", "", "búsqueda"},
		{"search by organization", "https://datos.gob.mx/busca/dataset?organization=shcp", "", "búsqueda"},
		{"search behind tracking", "https://www.datos.gob.mx/dataset/accidentes_transito?utm_source=x&q=salud", "", `"q"`},
		{"tags facet", "https://www.datos.gob.mx/dataset/accidentes_transito?tags=movilidad", "", `"tags"`},
		{"search in the single-page route", "http://busca.datos.gob.mx/#!/conjuntos/recursos-en-salud?q=salud", "", "búsqueda"},
		{"search before the single-page route", "http://busca.datos.gob.mx/?q=salud#!/conjuntos/recursos-en-salud", "", "búsqueda"},
		{"nameless parameter", "https://www.datos.gob.mx/dataset/accidentes_transito?=x", "", "búsqueda"},

		// Look-alike hosts are other hosts.
		{"long s folds to s", "https://datoſ.gob.mx/dataset/accidentes_transito", "", "sitio de datos"},
		{"long s percent-encoded", "https://dato%C5%BF.gob.mx/dataset/accidentes_transito", "", "sitio de datos"},
		{"Kelvin sign lower-cases to k", "https://\u212Aatalogo.datos.gob.mx/dataset/x", "", "sitio de datos"},
		{"full-width letters", "https://ｄａｔｏｓ.gob.mx/dataset/accidentes_transito", "", "sitio de datos"},
		{"punycode of a look-alike", "https://xn--dato-tbb.gob.mx/dataset/accidentes_transito", "", "sitio de datos"},
		{"two trailing dots", "https://datos.gob.mx../dataset/accidentes_transito", "", "sitio de datos"},
		{"suffix look-alike", "https://datos.gob.mx.evil.example/dataset/x", "", "sitio de datos"},

		// Dot segments, written or encoded.
		{"dot-dot", "https://www.datos.gob.mx/dataset/a/../accidentes_transito", "", "segmentos"},
		{"dot", "https://www.datos.gob.mx/dataset/./accidentes_transito", "", "segmentos"},
		{"encoded dot-dot", "https://www.datos.gob.mx/dataset/a/%2e%2e/accidentes_transito", "", "segmentos"},
		{"upper-case encoded dot-dot", "https://www.datos.gob.mx/dataset/a/%2E%2E/accidentes_transito", "", "segmentos"},
		{"half-encoded dot-dot", "https://www.datos.gob.mx/dataset/a/.%2e/accidentes_transito", "", "segmentos"},
		{"dot-dot after download", "https://www.datos.gob.mx/dataset/x/resource/y/download/..", "", "segmentos"},
		{"dot-dot between encoded slashes", "https://www.datos.gob.mx/dataset/a%2f..%2fb", "", "barra codificada"},
		{"backslash", `https://www.datos.gob.mx/dataset/a\..\b`, "", "barra invertida"},

		// A slash hidden in a segment: its own message, since the fix is
		// to write plain slashes, not to drop dot segments.
		{"encoded slash", "https://www.datos.gob.mx/dataset/a%2fb", "", "barra codificada (%2F o %5C)"},
		{"upper-case encoded slash", "https://www.datos.gob.mx/dataset/a%2Faccidentes_transito", "", "barras normales «/»"},
		{"encoded backslash", "https://www.datos.gob.mx/dataset/a%5caccidentes_transito", "", "barra codificada"},
		{"encoded slash in the single-page route", "http://busca.datos.gob.mx/#!/conjuntos%2finstituciones", "", "barra codificada"},
		{"dot-dot in the single-page route", "http://busca.datos.gob.mx/#!/conjuntos/../instituciones", "", "segmentos"},

		// Invisible characters, written or encoded.
		{"zero-width space", "https://www.datos.gob.mx/dataset/accidentes\u200b_transito", "", "invisibles"},
		{"encoded zero-width space", "https://www.datos.gob.mx/dataset/accidentes%E2%80%8B_transito", "", "invisibles"},
		{"zero-width joiner in host", "https://datos\u200d.gob.mx/dataset/accidentes_transito", "", "invisibles"},
		{"right-to-left override", "https://www.datos.gob.mx/dataset/\u202eotisnart_setnedicca", "", "invisibles"},
		{"left-to-right mark at the end", "https://www.datos.gob.mx/dataset/accidentes_transito\u200e", "", "invisibles"},
		{"byte order mark", "\ufeffhttps://www.datos.gob.mx/dataset/accidentes_transito", "", "invisibles"},
		{"no-break space", "https://www.datos.gob.mx/dataset/accidentes\u00a0transito", "", "invisibles"},
		{"invalid UTF-8", "https://www.datos.gob.mx/dataset/accidentes\xff_transito", "", "invisibles"},
		{"encoded invalid UTF-8", "https://www.datos.gob.mx/dataset/accidentes%FF_transito", "", "invisibles"},
		{"zero-width in the single-page route", "http://busca.datos.gob.mx/#!/conjuntos/recursos%E2%80%8Ben-salud", "", "invisibles"},
		{"bidi isolate in an anchor", "https://www.datos.gob.mx/dataset/accidentes_transito#\u2066x", "", "invisibles"},

		{"too long", "https://www.datos.gob.mx/dataset/" + strings.Repeat("a", 3000), "", "demasiado larga"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := datosbot.ValidateDataURL(tt.url, hosts)
			if tt.want != "" {
				if err != nil {
					t.Fatalf("ValidateDataURL(%q) refused: %v", tt.url, err)
				}
				if got != tt.want {
					t.Fatalf("ValidateDataURL(%q) = %q, want %q", tt.url, got, tt.want)
				}
				again, err := datosbot.ValidateDataURL(got, hosts)
				if err != nil || again != got {
					t.Errorf("stored form %q does not validate to itself: %q, %v", got, again, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("ValidateDataURL(%q) = %q, want a refusal", tt.url, got)
			}
			if datosbot.ErrorCode(err) != datosbot.EINVALID {
				t.Errorf("code = %q, want %q", datosbot.ErrorCode(err), datosbot.EINVALID)
			}
			if msg := datosbot.ErrorMessage(err); !strings.Contains(msg, tt.because) {
				t.Errorf("message %q does not say %q", msg, tt.because)
			}
		})
	}
}

func TestValidateDataURLConfiguredHosts(t *testing.T) {
	tests := []struct {
		name  string
		hosts []string
		url   string
		want  string
	}{
		{"configured upper-case with a dot", []string{"DATOS.Example.MX."}, "https://datos.example.mx/dataset/x", "https://datos.example.mx/dataset/x"},
		{"configured IDN, URL in Unicode", []string{"datos.méxico.mx"}, "https://datos.MÉXICO.mx/dataset/x", ""},
		{"configured IDN, URL in Unicode lower-case", []string{"datos.méxico.mx"}, "https://datos.méxico.mx/dataset/x", "https://datos.xn--mxico-bsa.mx/dataset/x"},
		{"configured IDN, URL in punycode", []string{"datos.méxico.mx"}, "https://datos.xn--mxico-bsa.mx/dataset/x", "https://datos.xn--mxico-bsa.mx/dataset/x"},
		{"configured ASCII, URL with long s", []string{"datos.example.mx"}, "https://datoſ.example.mx/dataset/x", ""},
		{"other port kept", []string{"datos.example.mx"}, "https://datos.example.mx:8443/dataset/x", "https://datos.example.mx:8443/dataset/x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := datosbot.ValidateDataURL(tt.url, tt.hosts)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("ValidateDataURL(%q, %q) = %q, want a refusal", tt.url, tt.hosts, got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ValidateDataURL(%q, %q) = %q, %v; want %q", tt.url, tt.hosts, got, err, tt.want)
			}
		})
	}
}

func TestValidateEvidenceURLInvisible(t *testing.T) {
	tests := []struct {
		name string
		url  string
		ok   bool
	}{
		{"tweet", "https://x.com/INEGI_INFORMA/status/1866221234567890123", true},
		{"tweet with share parameters", "https://x.com/INEGI_INFORMA/status/1866221234567890123?s=20&t=AbCdEf", true},
		{"Facebook post", "https://www.facebook.com/IMSSmx/posts/pfbid02Xyz", true},
		{"press note with accents", "https://www.gob.mx/inegi/prensa/publicación-de-datos-abiertos", true},
		{"text fragment with spaces", "https://www.gob.mx/inegi/prensa/nota#:~:text=datos%20abiertos", true},
		{"legacy Latin-1 encoding", "https://www.inegi.org.mx/contenidos/programas/ccpv/2020/doc/publicaci%F3n.pdf", true},
		{"zero-width space", "https://x.com/INEGI_INFORMA/status/18662212345\u200b67890123", false},
		{"encoded zero-width space", "https://x.com/INEGI_INFORMA/status/18662212345%E2%80%8B67890123", false},
		{"right-to-left override", "https://www.gob.mx/inegi/prensa/\u202efdp.aton", false},
		{"word joiner", "https://x.com/INEGI_INFORMA\u2060/status/1", false},
		{"invalid UTF-8", "https://x.com/INEGI_INFORMA/status/1\xc3", false},
		{"control character", "https://x.com/INEGI_INFORMA/status/1\x7f", false},
		{"not http", "javascript:alert(1)", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := datosbot.ValidateEvidenceURL(tt.url)
			if ok := err == nil; ok != tt.ok {
				t.Fatalf("ValidateEvidenceURL(%q) = %q, %v; want ok %v", tt.url, got, err, tt.ok)
			}
			if err != nil && datosbot.ErrorCode(err) != datosbot.EINVALID {
				t.Errorf("code = %q, want %q", datosbot.ErrorCode(err), datosbot.EINVALID)
			}
		})
	}
}

func TestSameURLHostForms(t *testing.T) {
	if !datosbot.SameURL("https://www.datos.gob.mx./dataset/x", "https://datos.gob.mx/dataset/x") {
		t.Error("a trailing dot in the host should not matter")
	}
	if !datosbot.SameURL("https://www.datos.gob.mx.:443/dataset/x", "https://datos.gob.mx:443/dataset/x") {
		t.Error("a trailing dot before a port should not matter")
	}
}

func TestIsTrackingParam(t *testing.T) {
	for name, want := range map[string]bool{
		"utm_source": true, "UTM_MEDIUM": true, "utm_": true, "fbclid": true, "gclid": true,
		"mc_cid": true, "igshid": true, "q": false, "organization": false, "id": false, "utm": false, "": false,
	} {
		if got := datosbot.IsTrackingParam(name); got != want {
			t.Errorf("IsTrackingParam(%q) = %v, want %v", name, got, want)
		}
	}
}

// realDataURLs returns n distinct real-shaped data URLs.
func realDataURLs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "https://www.datos.gob.mx/dataset/conjunto_" + strconv.Itoa(i) + "?utm_source=twitter"
	}
	return out
}

func TestValidateDataURLsRepeatsAndLimit(t *testing.T) {
	got, err := datosbot.ValidateDataURLs([]string{
		"https://www.datos.gob.mx/dataset/accidentes_transito?utm_source=twitter",
		"https://datos.gob.mx/busca/dataset/asegurados-en-el-imss",
		"https://WWW.DATOS.GOB.MX./dataset/accidentes_transito/",
		"http://datos.gob.mx/busca/dataset/asegurados-en-el-imss?fbclid=1",
	}, datosbot.DefaultDataHosts)
	want := []string{"https://www.datos.gob.mx/dataset/accidentes_transito", "https://datos.gob.mx/busca/dataset/asegurados-en-el-imss"}
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("ValidateDataURLs = %q, %v; want %q (repeats dropped, first form kept)", got, err, want)
	}
	if _, err := datosbot.ValidateDataURLs(realDataURLs(datosbot.MaxDataURLs), datosbot.DefaultDataHosts); err != nil {
		t.Errorf("%d URLs refused: %v", datosbot.MaxDataURLs, err)
	}
	_, err = datosbot.ValidateDataURLs(realDataURLs(datosbot.MaxDataURLs+1), datosbot.DefaultDataHosts)
	if datosbot.ErrorCode(err) != datosbot.EINVALID || !strings.Contains(datosbot.ErrorMessage(err), "máximo 10") {
		t.Errorf("%d URLs: err = %v, want the limit named", datosbot.MaxDataURLs+1, err)
	}
}

// TestValidateDataURLsRefusesLongListsBeforeWork: a list far over the limit
// (30,000 URLs fit in the API's 1 MiB body) costs what a shorter one over the
// limit costs, counted in allocations, and less than parsing one URL: no URL
// is parsed.
func TestValidateDataURLsRefusesLongListsBeforeWork(t *testing.T) {
	over, farOver := realDataURLs(1_000), realDataURLs(30_000)
	allocs := func(urls []string) float64 {
		return testing.AllocsPerRun(20, func() {
			if _, err := datosbot.ValidateDataURLs(urls, datosbot.DefaultDataHosts); err == nil {
				t.Fatal("over the limit and accepted")
			}
		})
	}
	one := testing.AllocsPerRun(20, func() { _, _ = datosbot.ValidateDataURL(over[0], datosbot.DefaultDataHosts) })
	// The slack of 2 is the race detector's own allocations.
	if a, b := allocs(over), allocs(farOver); b > a+2 || b >= one {
		t.Errorf("allocations: %v for %d URLs, %v for %d, %v to validate one URL; want the refusals equal and cheaper than one URL",
			a, len(over), b, len(farOver), one)
	}
}

func BenchmarkValidateDataURLsFarOverLimit(b *testing.B) {
	urls := realDataURLs(30_000)
	b.ReportAllocs()
	for b.Loop() {
		_, _ = datosbot.ValidateDataURLs(urls, datosbot.DefaultDataHosts)
	}
}

func BenchmarkValidateDataURLsAtLimit(b *testing.B) {
	urls := realDataURLs(datosbot.MaxDataURLs)
	b.ReportAllocs()
	for b.Loop() {
		_, _ = datosbot.ValidateDataURLs(urls, datosbot.DefaultDataHosts)
	}
}
