package datosbot_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The import rules of DESIGN.md §4, as data. They name what matters (our
// packages by place, the platform libraries by module) so that a package
// added later is bound by them without editing this file.

const module = "github.com/datosbot/datosbot"

// platformLibraries maps each platform library to the only part of the tree
// that may import it directly.
var platformLibraries = []struct{ library, owner string }{
	{"github.com/slack-go/slack", module + "/bot/slack"},
	{"github.com/go-telegram/bot", module + "/bot/telegram"},
	{"github.com/redis/go-redis", module + "/storage"},
}

// adapters are wired by cmd only: nothing else may import them.
var adapters = []string{module + "/bot/slack", module + "/bot/telegram", module + "/bot/console"}

// within reports whether pkg is path or below it.
func within(pkg, path string) bool { return pkg == path || strings.HasPrefix(pkg, path+"/") }

func isStandard(pkg string) bool { return !strings.Contains(strings.SplitN(pkg, "/", 2)[0], ".") }

func isPlatformLibrary(pkg string) bool {
	return slices.ContainsFunc(platformLibraries, func(p struct{ library, owner string }) bool { return within(pkg, p.library) })
}

// importRule forbids the packages for which binds is true to import what
// forbids matches (given the importing package, which is an intermediate
// one when transitive): directly, or also through our other packages when
// transitive.
type importRule struct {
	why        string
	binds      func(pkg string) bool
	forbids    func(importer, imp string) bool
	transitive bool
}

var importRules = []importRule{
	{
		why:   "the root package is the domain vocabulary: standard library and golang.org/x only, nothing of ours, no platform library",
		binds: func(pkg string) bool { return pkg == module },
		forbids: func(_, imp string) bool {
			return !isStandard(imp) && !strings.HasPrefix(imp, "golang.org/x/")
		},
	},
	{
		why:        "commands and reminders are platform-independent: no platform library or go-redis, not even through another package",
		binds:      func(pkg string) bool { return within(pkg, module+"/commands") || within(pkg, module+"/reminders") },
		forbids:    func(_, imp string) bool { return isPlatformLibrary(imp) },
		transitive: true,
	},
	{
		why:        "storage sits below commands and bot: it never imports them",
		binds:      func(pkg string) bool { return within(pkg, module+"/storage") },
		forbids:    func(_, imp string) bool { return within(imp, module+"/commands") || within(imp, module+"/bot") },
		transitive: true,
	},
	{
		why:     "a platform library is imported only by its adapter (slack-go by bot/slack, go-telegram by bot/telegram, go-redis by storage)",
		binds:   func(string) bool { return true },
		forbids: func(importer, imp string) bool { return !ownerOK(importer, imp) },
	},
	{
		why: "adapters are wired by cmd only",
		binds: func(pkg string) bool {
			return !within(pkg, module+"/cmd") && !slices.ContainsFunc(adapters, func(a string) bool { return within(pkg, a) })
		},
		forbids: func(_, imp string) bool {
			return slices.ContainsFunc(adapters, func(a string) bool { return within(imp, a) })
		},
	},
}

// ownerOK reports whether pkg may import the platform library imp.
func ownerOK(pkg, imp string) bool {
	for _, p := range platformLibraries {
		if within(imp, p.library) {
			return within(pkg, p.owner)
		}
	}
	return true
}

// violations checks a package graph (each of our packages with its direct
// imports) against rules and returns one line per broken rule and package,
// with the chain of imports that breaks it.
func violations(graph map[string][]string, rules []importRule) []string {
	var out []string
	pkgs := make([]string, 0, len(graph))
	for p := range graph {
		pkgs = append(pkgs, p)
	}
	slices.Sort(pkgs)
	for i, r := range rules {
		for _, pkg := range pkgs {
			if !r.binds(pkg) {
				continue
			}
			chain := findImport(graph, pkg, r.transitive, r.forbids)
			if chain != nil {
				out = append(out, "rule "+strconv.Itoa(i+1)+" ("+r.why+"): "+strings.Join(chain, " → "))
			}
		}
	}
	return out
}

// findImport returns the first chain of imports from pkg to an import bad
// accepts, following our own packages when transitive, or nil.
func findImport(graph map[string][]string, pkg string, transitive bool, bad func(from, imp string) bool) []string {
	seen := map[string]bool{pkg: true}
	var walk func(p string, chain []string) []string
	walk = func(p string, chain []string) []string {
		for _, imp := range graph[p] {
			if bad(p, imp) {
				return append(slices.Clone(chain), imp)
			}
		}
		if !transitive {
			return nil
		}
		for _, imp := range graph[p] {
			if _, ours := graph[imp]; ours && !seen[imp] {
				seen[imp] = true
				if c := walk(imp, append(chain, imp)); c != nil {
					return c
				}
			}
		}
		return nil
	}
	return walk(pkg, []string{pkg})
}

// TestImportRulesCatchForbiddenImports runs the checker on synthetic
// listings: each forbidden import is caught, each allowed one passes.
func TestImportRulesCatchForbiddenImports(t *testing.T) {
	clean := func() map[string][]string {
		return map[string][]string{
			module:                    {"strings", "net/url", "golang.org/x/net/idna"},
			module + "/commands":      {"context", module},
			module + "/reminders":     {module, module + "/commands"},
			module + "/storage":       {module, "github.com/redis/go-redis/v9", "github.com/alicebob/miniredis/v2"},
			module + "/httpapi":       {module, module + "/commands", module + "/storage"},
			module + "/bot":           {module},
			module + "/bot/slack":     {module, module + "/bot", module + "/commands", "github.com/slack-go/slack", "github.com/slack-go/slack/socketmode"},
			module + "/bot/telegram":  {module, module + "/bot", "github.com/go-telegram/bot", "github.com/go-telegram/bot/models"},
			module + "/bot/console":   {module, module + "/bot"},
			module + "/portal":        {module, "net/http"},
			module + "/evidence":      {module, module + "/storage"},
			module + "/cmd/datosbot":  {module + "/bot/slack", module + "/bot/telegram", module + "/bot/console", module + "/storage", module + "/httpapi"},
			module + "/bot/slack/kit": {"github.com/slack-go/slack"},
		}
	}
	tests := []struct {
		name string
		pkg  string
		add  []string // imports added to pkg in the clean graph
		want string   // part of a violation (several rules may catch one import); "" for none
	}{
		{"clean tree", "", nil, ""},
		{"root imports commands", module, []string{module + "/commands"}, "rule 1"},
		{"root imports slack-go", module, []string{"github.com/slack-go/slack"}, "rule 1"},
		{"root imports another module", module, []string{"github.com/google/uuid"}, "rule 1"},
		{"commands imports go-redis", module + "/commands", []string{"github.com/redis/go-redis/v9"}, "rule 2"},
		{"commands imports storage, which imports go-redis", module + "/commands", []string{module + "/storage"},
			module + "/commands → " + module + "/storage → github.com/redis/go-redis/v9"},
		{"reminders imports go-telegram models", module + "/reminders", []string{"github.com/go-telegram/bot/models"}, "rule 2"},
		{"reminders imports the Slack adapter", module + "/reminders", []string{module + "/bot/slack"}, "rule 2"},
		{"storage imports commands", module + "/storage", []string{module + "/commands"}, "rule 3"},
		{"storage imports bot", module + "/storage", []string{module + "/bot"}, "rule 3"},
		{"a new package imports go-redis", module + "/portal", []string{"github.com/redis/go-redis/v9"}, "rule 4"},
		{"httpapi imports slack-go", module + "/httpapi", []string{"github.com/slack-go/slack"}, "rule 4"},
		{"the Telegram adapter imports slack-go", module + "/bot/telegram", []string{"github.com/slack-go/slack"}, "rule 4"},
		{"a new package imports an adapter", module + "/dashboard", []string{module + "/bot/slack"}, "rule 5"},
		{"a new package imports storage", module + "/dashboard", []string{module + "/storage", module + "/commands"}, ""},
		{"an adapter imports bot", module + "/bot/console", []string{module + "/bot"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := clean()
			if tt.pkg != "" {
				g[tt.pkg] = append(g[tt.pkg], tt.add...)
			}
			got := violations(g, importRules)
			if tt.want == "" {
				if len(got) != 0 {
					t.Fatalf("violations = %q, want none", got)
				}
				return
			}
			if !slices.ContainsFunc(got, func(v string) bool { return strings.Contains(v, tt.want) }) {
				t.Fatalf("violations = %q, want one that says %q", got, tt.want)
			}
		})
	}
}

// TestImportRules checks the real tree. Test files are left out: tests use
// the real store and the fakes wherever they are cheapest.
func TestImportRules(t *testing.T) {
	graph := sourceImports(t, ".")
	for _, p := range []string{module, module + "/commands", module + "/storage", module + "/bot/slack"} {
		if _, ok := graph[p]; !ok {
			t.Fatalf("package %s not found in the tree; found %d packages", p, len(graph))
		}
	}
	if !slices.ContainsFunc(graph[module+"/storage"], func(imp string) bool { return within(imp, "github.com/redis/go-redis") }) {
		t.Fatalf("storage's imports %q do not include go-redis: the listing is wrong", graph[module+"/storage"])
	}
	for _, v := range violations(graph, importRules) {
		t.Error(v)
	}
}

// sourceImports lists the imports of the non-test Go files of each package
// under root, by import path.
func sourceImports(t *testing.T, root string) map[string][]string {
	t.Helper()
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if first, _, _ := strings.Cut(string(mod), "\n"); strings.TrimSpace(first) != "module "+module {
		t.Fatalf("go.mod starts with %q, want module %s", first, module)
	}
	graph := map[string][]string{}
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		pkg := module
		if dir := filepath.ToSlash(filepath.Dir(path)); dir != "." {
			pkg += "/" + dir
		}
		for _, s := range f.Imports {
			imp, err := strconv.Unquote(s.Path.Value)
			if err != nil {
				return err
			}
			if !slices.Contains(graph[pkg], imp) {
				graph[pkg] = append(graph[pkg], imp)
			}
		}
		if _, ok := graph[pkg]; !ok {
			graph[pkg] = nil
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return graph
}
