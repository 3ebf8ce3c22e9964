package commands

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/datosbot/datosbot"
)

// The fuzz targets of the command language. `go test` runs their seeds and
// the corpus in testdata/fuzz; scripts/test.sh fuzzes each for a few
// seconds; the README says how to run them longer.

var parseSeeds = []string{
	"anunciar https://www.datos.gob.mx/dataset/x https://x.com/a/status/1 medio:redes “nota libre”",
	"anunciar datos:https://datos.gob.mx/busca/dataset/a,https://www.datos.gob.mx/dataset/b?utm_source=x https://x.com/a/status/1 nota:«dos: palabras»",
	"Campaña nueva 2026-12-15 https://www.datos.gob.mx/dataset/x instituciones:inegi,SHCP titulo:\"Accidentes\" Difundan.",
	"anunciar \"https://www.datos.gob.mx/dataset/x\" 'https://x.com/a' fecha:2026-11-20 tipo:uso",
	"anunciar https://www.datos.gob.mx/dataset/x,,https://www.datos.gob.mx/dataset/x https://x.com/a/status/1",
	"anunciar „https://www.datos.gob.mx/dataset/\u200bx“ https://x.com/a/status/1",
	"retirar A7K2Q motivo:duplicada",
	"/datos ayuda anunciar",
	"\xff\xfe anunciar :",
	"",
}

// FuzzParse: any text parses without a crash into a folded command name,
// folded option keys the command declares, and positional arguments that
// each come from the text.
func FuzzParse(f *testing.F) {
	for _, s := range parseSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		in := Parse(text)
		if in.Name != datosbot.Fold(in.Name) {
			t.Errorf("name %q is not folded", in.Name)
		}
		cmd, known := lookup(in.Name)
		for k := range in.Opts {
			if k != datosbot.Fold(k) {
				t.Errorf("option key %q is not folded", k)
			}
			if !known || !isOptionKey(cmd.Options, k) {
				t.Errorf("option %q is not one of %q's", k, in.Name)
			}
		}
		for _, a := range in.Args {
			if strings.ContainsFunc(a, func(r rune) bool { return r == '\n' }) && !strings.ContainsAny(text, "\"'“”„‘’«»‹›") {
				t.Errorf("argument %q spans lines in unquoted text", a)
			}
		}
	})
}

// FuzzParseAnnouncement: whatever anunciar is given, an accepted action
// holds one to datosbot.MaxDataURLs data URLs, each in its stored form (on
// a data host exactly, no query, valid to itself), no repeats, and a
// publication URL that is not one of them.
func FuzzParseAnnouncement(f *testing.F) {
	for _, s := range parseSeeds {
		f.Add(s)
	}
	hosts := datosbot.DefaultDataHosts
	today := datosbot.Date{Year: 2026, Month: 11, Day: 20}
	f.Fuzz(func(t *testing.T, text string) {
		if len(text) > datosbot.MaxTextLen {
			return // refused before parsing
		}
		in := Parse(text)
		a, err := parseAnnouncement(in, hosts, today)
		if err != nil {
			if datosbot.ErrorCode(err) != datosbot.EINVALID {
				t.Fatalf("%q: error %v, want invalid", text, err)
			}
			return
		}
		if n := len(a.DataURLs); n == 0 || n > datosbot.MaxDataURLs {
			t.Fatalf("%q: %d data URLs", text, n)
		}
		seen := map[string]bool{}
		for _, d := range a.DataURLs {
			checkStoredDataURL(t, d, hosts)
			if seen[datosbot.NormalizeURL(d)] {
				t.Errorf("%q: data URL %q twice", text, d)
			}
			seen[datosbot.NormalizeURL(d)] = true
			if datosbot.SameURL(d, a.EvidenceURL) {
				t.Errorf("%q: publication %q is a data URL", text, a.EvidenceURL)
			}
		}
		if !utf8.ValidString(a.EvidenceURL) {
			t.Errorf("%q: publication URL %q is not UTF-8", text, a.EvidenceURL)
		}
	})
}

// checkStoredDataURL fails t unless d is what a data URL is stored as.
func checkStoredDataURL(t *testing.T, d string, hosts []string) {
	t.Helper()
	u, err := url.Parse(d)
	if err != nil {
		t.Fatalf("stored %q does not parse: %v", d, err)
	}
	if u.RawQuery != "" || u.ForceQuery || u.User != nil || (u.Scheme != "http" && u.Scheme != "https") {
		t.Errorf("stored %q has a query, user info or another scheme", d)
	}
	host := u.Hostname()
	found := false
	for _, h := range hosts {
		found = found || h == host
	}
	if !found {
		t.Errorf("stored %q: host %q is not exactly one of %q", d, host, hosts)
	}
	if again, err := datosbot.ValidateDataURL(d, hosts); err != nil || again != d {
		t.Errorf("stored %q validates to %q, %v", d, again, err)
	}
}
