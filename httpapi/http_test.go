package httpapi_test

import (
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/httpapi"
	"github.com/datosbot/datosbot/storage"
)

const (
	token      = "tok-0123456789abcdef0123456789abcdef"
	otherToken = "tok-fedcba9876543210fedcba9876543210"
)

var mexico = mustLoc("America/Mexico_City")

func mustLoc(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// now is inside 2026-B6 (November–December).
var now = time.Date(2026, 12, 10, 12, 0, 0, 0, mexico)

// newServer returns the server's handler over store with the test tokens,
// clock and zone; edit changes the config first.
func newServer(t *testing.T, store httpapi.Store, edit func(*httpapi.Config)) http.Handler {
	t.Helper()
	cfg := httpapi.Config{
		Store:  store,
		Tokens: []string{otherToken, token},
		Now:    func() time.Time { return now },
		Loc:    mexico,
	}
	if edit != nil {
		edit(&cfg)
	}
	return httpapi.New(cfg).Handler()
}

// do serves one request; auth is the Authorization header ("" for none).
func do(t *testing.T, h http.Handler, method, target, auth string, body io.Reader) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, target, body)
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func bearer(tok string) string { return "Bearer " + tok }

type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// checkError checks that w is a JSON error with the given status and code.
func checkError(t *testing.T, w *httptest.ResponseRecorder, status int, code string) apiError {
	t.Helper()
	if w.Code != status {
		t.Errorf("status = %d; want %d (body %s)", w.Code, status, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q; want application/json", ct)
	}
	var e apiError
	if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil {
		t.Fatalf("error body %q is not JSON: %v", w.Body, err)
	}
	if e.Error.Code != code {
		t.Errorf("error code = %q; want %q", e.Error.Code, code)
	}
	if e.Error.Message == "" {
		t.Errorf("error message is empty")
	}
	return e
}

func decode[T any](t *testing.T, w *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatalf("body %q: %v", w.Body, err)
	}
	return v
}

type institutionList struct {
	Items   []datosbot.Institution `json:"items"`
	Count   int                    `json:"count"`
	Created int                    `json:"created"`
	Updated int                    `json:"updated"`
}

func TestAuth(t *testing.T) {
	store := openStore(t)
	h := newServer(t, store, nil)
	body := `{"key": "inegi", "name": "INEGI"}`

	for _, tt := range []struct {
		name, auth, invalid string
	}{
		{"NoHeader", "", ""},
		{"WrongToken", bearer("tok-wrong-wrong-wrong-wrong-wrong-wrong"), "invalid_token"},
		{"TokenPrefix", bearer(token[:len(token)-1]), "invalid_token"},
		{"TokenWithSuffix", bearer(token + "x"), "invalid_token"},
		{"BasicScheme", "Basic " + token, "invalid_token"},
		{"EmptyBearer", "Bearer ", "invalid_token"},
		{"NoScheme", token, "invalid_token"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, req := range []struct{ method, target string }{
				{"GET", "/api/v1/institutions"},
				{"POST", "/api/v1/institutions"},
				{"GET", "/api/v1/actions?format=csv"},
				{"GET", "/api/v1/compliance"},
				{"GET", "/api/v1/unknown"},
			} {
				w := do(t, h, req.method, req.target, tt.auth, strings.NewReader(body))
				checkError(t, w, http.StatusUnauthorized, datosbot.EUNAUTHORIZED)
				got := w.Header().Get("WWW-Authenticate")
				if !strings.HasPrefix(got, "Bearer") || !strings.Contains(got, tt.invalid) {
					t.Errorf("%s %s: WWW-Authenticate = %q; want Bearer with %q", req.method, req.target, got, tt.invalid)
				}
				if strings.Contains(w.Body.String(), token) {
					t.Errorf("%s %s: the answer echoes the token: %s", req.method, req.target, w.Body)
				}
			}
			if n := count(t, store); n != 0 {
				t.Errorf("after POSTs with a bad token, %d institutions are stored; want 0", n)
			}
		})
	}

	t.Run("EveryConfiguredTokenWorks", func(t *testing.T) {
		for _, tok := range []string{token, otherToken} {
			w := do(t, h, "GET", "/api/v1/institutions", bearer(tok), nil)
			if w.Code != http.StatusOK {
				t.Errorf("token %s…: status = %d; want 200 (%s)", tok[:8], w.Code, w.Body)
			}
			w = do(t, h, "GET", "/api/v1/institutions", "bearer  "+tok+" ", nil)
			if w.Code != http.StatusOK {
				t.Errorf("token %s… with lower-case scheme: status = %d; want 200", tok[:8], w.Code)
			}
		}
	})
}

func TestAPIOff(t *testing.T) {
	store := openStore(t)
	h := newServer(t, store, func(c *httpapi.Config) { c.Tokens = []string{"", "  "} })
	for _, target := range []string{"/api/v1/institutions", "/api/v1/actions", "/api/v1/compliance", "/api/v1/campaigns"} {
		for _, auth := range []string{"", bearer(token)} {
			w := do(t, h, "GET", target, auth, nil)
			e := checkError(t, w, http.StatusNotFound, datosbot.ENOTFOUND)
			if !strings.Contains(e.Error.Message, "desactivada") {
				t.Errorf("GET %s: message = %q; want it to say the API is off", target, e.Error.Message)
			}
		}
	}
	w := do(t, h, "POST", "/api/v1/institutions", bearer(token), strings.NewReader(`{"key":"inegi","name":"INEGI"}`))
	checkError(t, w, http.StatusNotFound, datosbot.ENOTFOUND)
	if n := count(t, store); n != 0 {
		t.Errorf("with the API off, %d institutions are stored; want 0", n)
	}
	if w := do(t, h, "GET", "/healthz", "", nil); w.Code != http.StatusOK {
		t.Errorf("GET /healthz with the API off: status = %d; want 200", w.Code)
	}
}

func TestPostInstitutions(t *testing.T) {
	store := openStore(t)
	h := newServer(t, store, nil)
	sum := sha256.Sum256([]byte(token))
	wantActor := datosbot.UserID("api:" + hex.EncodeToString(sum[:])[:6])

	steps := []struct {
		name             string
		body             string
		created, updated int
		wantKeys         []string // items of the answer
		wantStored       int
	}{
		{"One", `{"key": "inegi", "name": "Instituto Nacional de Estadística y Geografía"}`,
			1, 0, []string{"inegi"}, 1},
		{"List", `[{"key": "shcp", "name": "Hacienda", "ckan_org": "shcp"}, {"key": "INEGI ", "name": "INEGI"}]`,
			1, 1, []string{"shcp", "inegi"}, 2},
		{"ListAgain", `[{"key": "shcp", "name": "Hacienda", "ckan_org": "shcp"}, {"key": "inegi", "name": "INEGI"}]`,
			0, 2, []string{"shcp", "inegi"}, 2},
		{"Inactive", `{"key": "imss", "name": "IMSS", "active": false, "channels": ["slack:C1"], "created_at": "2026-01-01T00:00:00Z"}`,
			1, 0, []string{"imss"}, 3},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			w := do(t, h, "POST", "/api/v1/institutions", bearer(token), strings.NewReader(st.body))
			if w.Code != http.StatusOK {
				t.Fatalf("status = %d; want 200 (%s)", w.Code, w.Body)
			}
			got := decode[institutionList](t, w)
			if got.Created != st.created || got.Updated != st.updated || got.Count != len(st.wantKeys) {
				t.Errorf("created, updated, count = %d, %d, %d; want %d, %d, %d",
					got.Created, got.Updated, got.Count, st.created, st.updated, len(st.wantKeys))
			}
			var keys []string
			for _, in := range got.Items {
				keys = append(keys, in.Key)
			}
			if fmt.Sprint(keys) != fmt.Sprint(st.wantKeys) {
				t.Errorf("item keys = %v; want %v", keys, st.wantKeys)
			}
			if n := count(t, store); n != st.wantStored {
				t.Errorf("stored %d institutions; want %d", n, st.wantStored)
			}
		})
	}

	w := do(t, h, "GET", "/api/v1/institutions", bearer(token), nil)
	got := decode[institutionList](t, w)
	want := map[string]struct {
		name   string
		active bool
	}{
		"imss":  {"IMSS", false},
		"inegi": {"INEGI", true},
		"shcp":  {"Hacienda", true},
	}
	if got.Count != len(want) || len(got.Items) != len(want) {
		t.Fatalf("GET count = %d, %d items; want %d", got.Count, len(got.Items), len(want))
	}
	for _, in := range got.Items {
		if w, ok := want[in.Key]; !ok || w.name != in.Name || w.active != in.Active {
			t.Errorf("institution %s = %q active %v; want %q active %v", in.Key, in.Name, in.Active, w.name, w.active)
		}
		if in.Channels == nil {
			t.Errorf("institution %s: channels = null; want a list", in.Key)
		}
	}
	if !strings.Contains(w.Body.String(), `"ckan_org":"shcp"`) {
		t.Errorf("GET body %s; want snake_case ckan_org", w.Body)
	}
	writers := institutionWriters(t, store)
	if len(writers) == 0 {
		t.Errorf("the audit trail has no institution entries")
	}
	for _, by := range writers {
		if by != wantActor {
			t.Errorf("audit actor = %q; want %q", by, wantActor)
		}
	}
}

func TestPostInstitutionsInvalid(t *testing.T) {
	for _, tt := range []struct {
		name, body, want string // want is part of the message
	}{
		{"BadKeyInList", `[{"key": "inegi", "name": "INEGI"}, {"key": "SH CP!", "name": "Hacienda"}]`, "elemento 1 "},
		{"MissingName", `[{"key": "inegi", "name": "INEGI"}, {"key": "shcp", "name": "Hacienda"}, {"key": "imss"}]`, "elemento 2 "},
		{"MissingKey", `{"name": "INEGI"}`, "clave"},
		{"LongName", `{"key": "inegi", "name": "` + strings.Repeat("x", datosbot.MaxNameLen+1) + `"}`, "largo"},
		{"UnknownField", `[{"key": "inegi", "nombre": "INEGI"}]`, `"nombre"`},
		{"WrongType", `[{"key": "inegi", "name": 7}]`, `"name"`},
		{"DuplicateKey", `[{"key": "inegi", "name": "A"}, {"key": "inegi", "name": "B"}]`, "elemento 1 "},
		{"NotAnObject", `[{"key": "inegi", "name": "A"}, "shcp"]`, "elemento 1 "},
		{"EmptyList", `[]`, "vacía"},
		{"EmptyBody", ``, "vacío"},
		{"NotJSON", `key=inegi`, "JSON"},
		{"Truncated", `[{"key": "inegi", "name": "A"}`, "JSON"},
		{"TrailingData", `{"key": "inegi", "name": "A"} {"key": "shcp", "name": "B"}`, "JSON"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			store := openStore(t)
			h := newServer(t, store, nil)
			w := do(t, h, "POST", "/api/v1/institutions", bearer(token), strings.NewReader(tt.body))
			e := checkError(t, w, http.StatusBadRequest, datosbot.EINVALID)
			if !strings.Contains(e.Error.Message, tt.want) {
				t.Errorf("message = %q; want it to contain %q", e.Error.Message, tt.want)
			}
			if n := count(t, store); n != 0 {
				t.Errorf("stored %d institutions; want 0", n)
			}
		})
	}
}

func TestBodyTooLarge(t *testing.T) {
	big := `[` + strings.Repeat(`{"key": "inegi", "name": "INEGI"},`, 10) + `{"key": "shcp", "name": "Hacienda"}]`
	for _, tt := range []struct {
		name string
		body io.Reader
	}{
		{"ContentLength", strings.NewReader(big)},
		{"Chunked", io.MultiReader(strings.NewReader(big))}, // unknown length
	} {
		t.Run(tt.name, func(t *testing.T) {
			store := openStore(t)
			h := newServer(t, store, func(c *httpapi.Config) { c.MaxBody = 100 })
			w := do(t, h, "POST", "/api/v1/institutions", bearer(token), tt.body)
			checkError(t, w, http.StatusRequestEntityTooLarge, "too_large")
			if n := count(t, store); n != 0 {
				t.Errorf("stored %d institutions; want 0", n)
			}
		})
	}

	t.Run("DefaultLimitAcceptsSmallBodies", func(t *testing.T) {
		h := newServer(t, openStore(t), nil)
		w := do(t, h, "POST", "/api/v1/institutions", bearer(token), strings.NewReader(`{"key": "inegi", "name": "INEGI"}`))
		if w.Code != http.StatusOK {
			t.Errorf("status = %d; want 200 (%s)", w.Code, w.Body)
		}
		huge := strings.NewReader(`{"key": "inegi", "name": "` + strings.Repeat("x", httpapi.DefaultMaxBody) + `"}`)
		w = do(t, h, "POST", "/api/v1/institutions", bearer(token), huge)
		checkError(t, w, http.StatusRequestEntityTooLarge, "too_large")
	})
}

func TestMethodNotAllowed(t *testing.T) {
	h := newServer(t, openStore(t), nil)
	for _, tt := range []struct {
		method, target, auth, allow string
	}{
		{"DELETE", "/api/v1/institutions", bearer(token), "GET, HEAD, POST"},
		{"POST", "/api/v1/compliance", bearer(token), "GET, HEAD"},
		{"PUT", "/api/v1/actions", bearer(token), "GET, HEAD"},
		{"POST", "/healthz", "", "GET, HEAD"},
		{"POST", "/metrics", "", "GET, HEAD"},
	} {
		w := do(t, h, tt.method, tt.target, tt.auth, strings.NewReader("{}"))
		checkError(t, w, http.StatusMethodNotAllowed, "method_not_allowed")
		if got := w.Header().Get("Allow"); got != tt.allow {
			t.Errorf("%s %s: Allow = %q; want %q", tt.method, tt.target, got, tt.allow)
		}
	}
	// The API hides its methods from callers without a token.
	w := do(t, h, "DELETE", "/api/v1/institutions", "", nil)
	checkError(t, w, http.StatusUnauthorized, datosbot.EUNAUTHORIZED)
}

// seedReport stores three institutions (imss inactive) and actions of
// 2026-B5 and 2026-B6: inegi complies with B6, shcp only has a withdrawn
// action there.
func seedReport(t *testing.T, store *storage.Store) {
	t.Helper()
	ctx := context.Background()
	for _, in := range []datosbot.Institution{
		{Key: "inegi", Name: "Instituto Nacional de Estadística y Geografía", Active: true},
		{Key: "shcp", Name: "=HYPERLINK(\"x\")", Active: true},
		{Key: "imss", Name: "IMSS", Active: false},
	} {
		if _, err := store.PutInstitution(ctx, in, "sistema"); err != nil {
			t.Fatal(err)
		}
	}
	at := time.Date(2026, 12, 3, 17, 30, 0, 0, time.UTC)
	for i, a := range []datosbot.Action{
		{ID: "A1111", Institution: "inegi", PublishedOn: datosbot.Date{Year: 2026, Month: 12, Day: 2},
			DataURLs: []string{"https://www.datos.gob.mx/dataset/censo", "https://www.datos.gob.mx/dataset/enoe"}},
		{ID: "A2222", Institution: "shcp", PublishedOn: datosbot.Date{Year: 2026, Month: 11, Day: 20}},
		{ID: "A3333", Institution: "shcp", PublishedOn: datosbot.Date{Year: 2026, Month: 10, Day: 5}, Note: "-1+1"},
		{ID: "A4444", Institution: "imss", PublishedOn: datosbot.Date{Year: 2026, Month: 12, Day: 1}},
	} {
		a.EvidenceURL = "https://www.gob.mx/" + a.ID
		a.Medium, a.Type = datosbot.MediumWeb, datosbot.TypeUso
		a.RegisteredBy, a.RegisteredAt = "slack:U1", at.Add(time.Duration(i)*time.Second)
		if a.DataURLs == nil {
			a.DataURLs = []string{"https://www.datos.gob.mx/dataset/x"}
		}
		if _, _, err := store.AddAction(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := store.WithdrawAction(ctx, "A2222", "slack:U1", "duplicada", at); err != nil {
		t.Fatal(err)
	}
}

func readCSV(t *testing.T, w *httptest.ResponseRecorder) [][]string {
	t.Helper()
	if w.Code != http.StatusOK {
		t.Fatalf("status = %d; want 200 (%s)", w.Code, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Errorf("Content-Type = %q; want text/csv", ct)
	}
	rows, err := csv.NewReader(w.Body).ReadAll()
	if err != nil {
		t.Fatalf("CSV: %v", err)
	}
	return rows
}

func TestCompliance(t *testing.T) {
	store := openStore(t)
	seedReport(t, store)
	h := newServer(t, store, nil)

	t.Run("JSONCurrentBimester", func(t *testing.T) {
		w := do(t, h, "GET", "/api/v1/compliance", bearer(token), nil)
		if w.Code != http.StatusOK {
			t.Fatalf("status = %d; want 200 (%s)", w.Code, w.Body)
		}
		got := decode[struct {
			Items []map[string]any `json:"items"`
			Count int              `json:"count"`
		}](t, w)
		if got.Count != 2 || len(got.Items) != 2 {
			t.Fatalf("count = %d, %d items; want 2 (active institutions only): %s", got.Count, len(got.Items), w.Body)
		}
		inegi, shcp := got.Items[0], got.Items[1]
		for k, want := range map[string]any{"institution": "inegi", "bimester": "2026-B6", "compliant": true, "actions": 1.0, "last_action_at": "2026-12-03T17:30:00Z"} {
			if inegi[k] != want {
				t.Errorf("inegi %s = %v; want %v", k, inegi[k], want)
			}
		}
		for k, want := range map[string]any{"institution": "shcp", "bimester": "2026-B6", "compliant": false, "actions": 0.0, "last_action_at": nil} {
			if v, ok := shcp[k]; !ok || v != want {
				t.Errorf("shcp %s = %v; want %v", k, shcp[k], want)
			}
		}
	})

	t.Run("CSV", func(t *testing.T) {
		w := do(t, h, "GET", "/api/v1/compliance?bimester=2026-b6&format=csv", bearer(token), nil)
		got := readCSV(t, w)
		want := [][]string{
			{"institution", "name", "bimester", "compliant", "actions", "last_action_at", "verified_evidence"},
			{"inegi", "Instituto Nacional de Estadística y Geografía", "2026-B6", "true", "1", "2026-12-03T11:30:00-06:00", "0"},
			{"shcp", `'=HYPERLINK("x")`, "2026-B6", "false", "0", "", "0"},
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("CSV =\n%q\nwant\n%q", got, want)
		}
		if cd := w.Header().Get("Content-Disposition"); !strings.Contains(cd, "cumplimiento-2026-B6.csv") {
			t.Errorf("Content-Disposition = %q; want the bimester in the file name", cd)
		}
	})

	t.Run("OtherBimester", func(t *testing.T) {
		w := do(t, h, "GET", "/api/v1/compliance?bimester=2026-B5&format=csv", bearer(token), nil)
		got := readCSV(t, w)
		if len(got) != 3 || got[1][3] != "false" || got[2][0] != "shcp" || got[2][3] != "true" {
			t.Errorf("2026-B5 CSV = %q; want inegi false, shcp true", got)
		}
	})

	for _, target := range []string{"/api/v1/compliance?bimester=2026-B7", "/api/v1/compliance?format=xml"} {
		w := do(t, h, "GET", target, bearer(token), nil)
		checkError(t, w, http.StatusBadRequest, datosbot.EINVALID)
	}
}

func TestActions(t *testing.T) {
	store := openStore(t)
	seedReport(t, store)
	h := newServer(t, store, nil)

	t.Run("CSV", func(t *testing.T) {
		w := do(t, h, "GET", "/api/v1/actions?institution=shcp&format=csv", bearer(token), nil)
		got := readCSV(t, w)
		want := [][]string{
			{"id", "institution", "bimester", "data_urls", "evidence_url", "medium", "type", "published_on", "campaign", "note", "registered_by", "registered_at", "withdrawn", "data_checks", "evidence_status", "evidence_checked_at", "evidence_detail"},
			{"A2222", "shcp", "2026-B6", "https://www.datos.gob.mx/dataset/x", "https://www.gob.mx/A2222", "web", "uso", "2026-11-20", "", "", "slack:U1", "2026-12-03T17:30:01Z", "true", "", "", "", ""},
			{"A3333", "shcp", "2026-B5", "https://www.datos.gob.mx/dataset/x", "https://www.gob.mx/A3333", "web", "uso", "2026-10-05", "", "'-1+1", "slack:U1", "2026-12-03T17:30:02Z", "false", "", "", "", ""},
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("CSV =\n%q\nwant\n%q", got, want)
		}
	})

	t.Run("JSONFiltered", func(t *testing.T) {
		w := do(t, h, "GET", "/api/v1/actions?institution=inegi&bimester=2026-B6", bearer(token), nil)
		got := decode[struct {
			Items []datosbot.Action `json:"items"`
			Count int               `json:"count"`
		}](t, w)
		if got.Count != 1 || len(got.Items) != 1 || got.Items[0].ID != "A1111" || len(got.Items[0].DataURLs) != 2 {
			t.Errorf("actions = %+v; want A1111 with two data URLs", got)
		}
		for _, field := range []string{`"evidence_url"`, `"published_on":"2026-12-02"`, `"registered_by"`, `"withdrawn":false`} {
			if !strings.Contains(w.Body.String(), field) {
				t.Errorf("body %s; want %s", w.Body, field)
			}
		}
	})

	t.Run("AllBimesters", func(t *testing.T) {
		w := do(t, h, "GET", "/api/v1/actions", bearer(token), nil)
		if got := decode[institutionList](t, w).Count; got != 4 {
			t.Errorf("count = %d; want 4", got)
		}
	})

	t.Run("Empty", func(t *testing.T) {
		w := do(t, h, "GET", "/api/v1/actions?institution=inegi&bimester=2026-B1", bearer(token), nil)
		if body := strings.TrimSpace(w.Body.String()); body != `{"items":[],"count":0}` {
			t.Errorf("body = %s; want an empty list", body)
		}
	})

	for _, tt := range []struct {
		target string
		status int
		code   string
	}{
		{"/api/v1/actions?institution=sep", http.StatusNotFound, datosbot.ENOTFOUND},
		{"/api/v1/actions?institution=no%20valida", http.StatusBadRequest, datosbot.EINVALID},
		{"/api/v1/actions?bimester=B6", http.StatusBadRequest, datosbot.EINVALID},
	} {
		w := do(t, h, "GET", tt.target, bearer(token), nil)
		checkError(t, w, tt.status, tt.code)
	}
}

func TestHealthAndReady(t *testing.T) {
	var readyErr error
	h := newServer(t, openStore(t), func(c *httpapi.Config) {
		c.Ready = func(ctx context.Context) error { return readyErr }
	})
	if w := do(t, h, "GET", "/healthz", "", nil); w.Code != http.StatusOK || strings.TrimSpace(w.Body.String()) != "ok" {
		t.Errorf("GET /healthz = %d %q; want 200 ok", w.Code, w.Body)
	}
	if w := do(t, h, "GET", "/readyz", "", nil); w.Code != http.StatusOK {
		t.Errorf("GET /readyz while ready = %d; want 200", w.Code)
	}
	for _, tt := range []struct {
		name string
		err  error
	}{
		{"Plain", errors.New("dial tcp 10.0.0.1:6379: connection refused")},
		{"Unavailable", datosbot.Errorf(datosbot.EUNAVAILABLE, "Redis no responde.")},
		{"Other", datosbot.Errorf(datosbot.EINVALID, "x")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			readyErr = tt.err
			w := do(t, h, "GET", "/readyz", "", nil)
			e := checkError(t, w, http.StatusServiceUnavailable, datosbot.EUNAVAILABLE)
			if strings.Contains(e.Error.Message, "10.0.0.1") {
				t.Errorf("message %q leaks the internal error", e.Error.Message)
			}
		})
	}
}

func TestStoreDown(t *testing.T) {
	store := openStore(t)
	h := httpapi.New(httpapi.Config{Store: store, Tokens: []string{token}}).Handler()
	if w := do(t, h, "GET", "/readyz", "", nil); w.Code != http.StatusOK {
		t.Errorf("GET /readyz with the store up = %d; want 200 (%s)", w.Code, w.Body)
	}
	store.Close(context.Background())
	checkError(t, do(t, h, "GET", "/readyz", "", nil), http.StatusServiceUnavailable, datosbot.EUNAVAILABLE)
	checkError(t, do(t, h, "GET", "/api/v1/institutions", bearer(token), nil), http.StatusServiceUnavailable, datosbot.EUNAVAILABLE)
}

func TestWriteError(t *testing.T) {
	for _, tt := range []struct {
		name   string
		err    error
		status int
		code   string
	}{
		{"Invalid", datosbot.Errorf(datosbot.EINVALID, "mal"), 400, datosbot.EINVALID},
		{"Unauthorized", datosbot.Errorf(datosbot.EUNAUTHORIZED, "quién"), 401, datosbot.EUNAUTHORIZED},
		{"Forbidden", datosbot.Errorf(datosbot.EFORBIDDEN, "no"), 403, datosbot.EFORBIDDEN},
		{"NotFound", fmt.Errorf("campaign: %w", datosbot.Errorf(datosbot.ENOTFOUND, "no existe")), 404, datosbot.ENOTFOUND},
		{"Conflict", datosbot.Errorf(datosbot.ECONFLICT, "ya existe"), 409, datosbot.ECONFLICT},
		{"Unavailable", datosbot.Errorf(datosbot.EUNAVAILABLE, "Redis"), 503, datosbot.EUNAVAILABLE},
		{"Internal", datosbot.Errorf(datosbot.EINTERNAL, "secret detail"), 500, datosbot.EINTERNAL},
		{"Plain", errors.New("secret detail"), 500, datosbot.EINTERNAL},
		{"TooLarge", &http.MaxBytesError{Limit: 1 << 20}, 413, "too_large"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			httpapi.WriteError(w, httptest.NewRequest("GET", "/x", nil), tt.err)
			e := checkError(t, w, tt.status, tt.code)
			if strings.Contains(e.Error.Message, "secret") {
				t.Errorf("message %q leaks the internal error", e.Error.Message)
			}
		})
	}
}

func TestInternalErrorLogged(t *testing.T) {
	var logs strings.Builder
	h := newServer(t, failingStore{openStore(t)}, func(c *httpapi.Config) {
		c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	w := do(t, h, "GET", "/api/v1/institutions", bearer(token), nil)
	e := checkError(t, w, http.StatusInternalServerError, datosbot.EINTERNAL)
	if strings.Contains(e.Error.Message, "hunter2") || strings.Contains(e.Error.Message, "WRONGPASS") {
		t.Errorf("message %q leaks the internal error", e.Error.Message)
	}
	if !strings.Contains(logs.String(), "WRONGPASS") {
		t.Errorf("log %q; want the internal error", logs.String())
	}
	if strings.Contains(logs.String(), token) {
		t.Errorf("log %q contains the API token", logs.String())
	}
}

// TestAPIHelpers mounts a route the way a later /api/v1/campaigns does and
// checks that it gets the same guard, limits, 405 and JSON errors.
func TestAPIHelpers(t *testing.T) {
	srv := httpapi.New(httpapi.Config{Store: openStore(t), Tokens: []string{token}, MaxBody: 200})
	mux := http.NewServeMux()
	srv.Routes(mux)
	srv.API(mux, "/api/v1/campaigns", map[string]http.HandlerFunc{
		"POST": func(w http.ResponseWriter, r *http.Request) {
			var req struct {
				Title string `json:"title"`
			}
			if err := httpapi.ReadJSON(r, &req); err != nil {
				httpapi.WriteError(w, r, err)
				return
			}
			httpapi.WriteJSON(w, http.StatusCreated, map[string]string{"title": req.Title, "by": string(httpapi.Actor(r.Context()))})
		},
	})
	h := srv.Instrument(mux)

	w := do(t, h, "POST", "/api/v1/campaigns", bearer(token), strings.NewReader(`{"title": "Censo"}`))
	if w.Code != http.StatusCreated || !strings.Contains(w.Body.String(), `"by":"api:`) {
		t.Errorf("POST = %d %s; want 201 with the api actor", w.Code, w.Body)
	}
	for _, tt := range []struct {
		name, method, auth, body string
		status                   int
		code                     string
	}{
		{"NoToken", "POST", "", `{"title": "x"}`, 401, datosbot.EUNAUTHORIZED},
		{"Method", "GET", bearer(token), "", 405, "method_not_allowed"},
		{"UnknownField", "POST", bearer(token), `{"titulo": "x"}`, 400, datosbot.EINVALID},
		{"Trailing", "POST", bearer(token), `{"title": "x"} []`, 400, datosbot.EINVALID},
		{"WrongShape", "POST", bearer(token), `["x"]`, 400, datosbot.EINVALID},
		{"Empty", "POST", bearer(token), ` `, 400, datosbot.EINVALID},
		{"TooLarge", "POST", bearer(token), `{"title": "` + strings.Repeat("x", 300) + `"}`, 413, "too_large"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := do(t, h, tt.method, "/api/v1/campaigns", tt.auth, strings.NewReader(tt.body))
			checkError(t, w, tt.status, tt.code)
		})
	}
}
