package datosbot_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/datosbot/datosbot"
)

// The fuzz targets of the URL rules. `go test` runs their seeds and the
// corpus in testdata/fuzz; scripts/test.sh fuzzes each for a few seconds;
// the README says how to run them longer.

var urlSeeds = []string{
	"https://www.datos.gob.mx/dataset/accidentes_transito?utm_source=twitter&utm_medium=social",
	"HTTPS://WWW.DATOS.GOB.MX./dataset/accidentes_transito/",
	"https://datos.gob.mx/busca/dataset/x/resource/575d6ced-44be-4df6-be2f-c8f6fad84bae/download/cp.csv?fbclid=1",
	"http://busca.datos.gob.mx/?gclid=1#!/conjuntos/recursos-en-salud?utm_source=x",
	"https://datoſ.gob.mx/dataset/x",
	"https://www.datos.gob.mx/dataset/a/%2e%2e/x",
	"https://www.datos.gob.mx/dataset/a%2f..%2fb",
	"https://www.datos.gob.mx/dataset/x\u200b",
	"https://www.datos.gob.mx/dataset?q=salud",
	"https://www.datos.gob.mx:443/es/dataset/x#recursos",
	"https://x.com/INEGI_INFORMA/status/1866?s=20",
	"https://www.gob.mx/inegi/prensa/nota#:~:text=datos%20abiertos",
}

// FuzzValidateDataURL: an accepted data URL is stored on exactly one of the
// data hosts, with no query, no user info, no dot segment and nothing
// invisible, even percent-decoded, and validates to itself.
func FuzzValidateDataURL(f *testing.F) {
	for _, s := range urlSeeds {
		f.Add(s)
	}
	hosts := datosbot.DefaultDataHosts
	f.Fuzz(func(t *testing.T, raw string) {
		stored, err := datosbot.ValidateDataURL(raw, hosts)
		if err != nil {
			if datosbot.ErrorCode(err) != datosbot.EINVALID {
				t.Fatalf("%q: error %v, want invalid", raw, err)
			}
			return
		}
		u, err := url.Parse(stored)
		if err != nil {
			t.Fatalf("%q stored as %q, which does not parse: %v", raw, stored, err)
		}
		if u.RawQuery != "" || u.ForceQuery || u.User != nil || (u.Scheme != "http" && u.Scheme != "https") {
			t.Errorf("%q stored as %q: a query, user info or another scheme", raw, stored)
		}
		if !slices.Contains(hosts, u.Hostname()) {
			t.Errorf("%q stored as %q: host %q is not exactly one of %q", raw, stored, u.Hostname(), hosts)
		}
		path, err := url.PathUnescape(u.EscapedPath())
		if err != nil {
			t.Fatalf("%q stored as %q: path does not decode: %v", raw, stored, err)
		}
		for _, seg := range strings.Split(path, "/") {
			if seg == "." || seg == ".." || strings.Contains(seg, `\`) {
				t.Errorf("%q stored as %q: dot segment or backslash", raw, stored)
			}
		}
		frag, _ := url.PathUnescape(u.EscapedFragment())
		for _, s := range []string{stored, path, frag} {
			if visibleProblem(s) {
				t.Errorf("%q stored as %q: an invisible or invalid character", raw, stored)
			}
		}
		if again, err := datosbot.ValidateDataURL(stored, hosts); err != nil || again != stored {
			t.Errorf("%q stored as %q, which validates to %q, %v", raw, stored, again, err)
		}
	})
}

// FuzzValidateEvidenceURL: an accepted publication URL is http(s), trimmed,
// and has nothing invisible, written or percent-encoded.
func FuzzValidateEvidenceURL(f *testing.F) {
	for _, s := range urlSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := datosbot.ValidateEvidenceURL(raw)
		if err != nil {
			return
		}
		if got != strings.TrimSpace(got) || visibleProblem(got) {
			t.Errorf("%q accepted as %q, with white space or an invisible character", raw, got)
		}
		u, err := url.Parse(got)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			t.Fatalf("%q accepted as %q: %v", raw, got, err)
		}
		for _, part := range []string{u.EscapedPath(), u.EscapedFragment()} {
			d, _ := url.PathUnescape(part)
			if strings.ContainsFunc(d, func(r rune) bool { return unicode.In(r, unicode.Cf, unicode.Cc) }) {
				t.Errorf("%q accepted with an invisible character percent-encoded", raw)
			}
		}
	})
}

// visibleProblem reports invalid UTF-8 or a control, format or non-ASCII
// space character, as a reader would not see it.
func visibleProblem(s string) bool {
	return !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool {
		return unicode.In(r, unicode.Cc, unicode.Cf) || (unicode.IsSpace(r) && r != ' ')
	})
}
