package datosbot_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/datosbot/datosbot"
)

// TestUserTextExistsOnce checks that the sentences people read in several
// places are written once, in the root package, and that every other
// package uses that one (a copy drifts: today's three wordings of
// "institution not found" did).
func TestUserTextExistsOnce(t *testing.T) {
	for _, tt := range []struct {
		text, home string
	}{
		{"No existe la institución", "institution.go"},
	} {
		var found []string
		err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && strings.HasPrefix(d.Name(), ".") && path != "." {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if strings.Contains(string(b), tt.text) {
				found = append(found, path)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(found) != 1 || found[0] != tt.home {
			t.Errorf("%q is written in %v, want only in %s", tt.text, found, tt.home)
		}
	}
	if e := datosbot.InstitutionNotFound("sep"); e.Code != datosbot.ENOTFOUND || !strings.Contains(e.Message, `"sep"`) || !strings.Contains(e.Message, "/datos institucion lista") {
		t.Errorf("InstitutionNotFound(sep) = %+v, want a not-found error naming the key and where to see the keys", e)
	}
	if e := datosbot.InstitutionNotFound(strings.Repeat("x", 500)); len(e.Message) > 300 {
		t.Errorf("InstitutionNotFound echoes a long key whole: %d bytes", len(e.Message))
	}
}
