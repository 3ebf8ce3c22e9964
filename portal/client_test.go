package portal

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Bodies as CKAN 2.11 writes them (ckan/views/api.py; reference §1.1).
const (
	okBody       = `{"help": "https://www.datos.gob.mx/api/3/action/help_show?name=package_show", "success": true, "result": {"id": "d0074e50-d661-44d4-a1a3-73a89e671e1f", "name": "codigos_postales_entidad_federativa", "title": "Códigos postales", "metadata_modified": "2026-01-29T22:30:08.783191", "organization": {"name": "sepomex", "title": "Servicio Postal Mexicano"}, "resources": []}}`
	notFoundBody = `{"help": "https://www.datos.gob.mx/api/3/action/help_show?name=package_show", "success": false, "error": {"message": "Not found", "__type": "Not Found Error"}}`
	missingBody  = `{"help": "https://www.datos.gob.mx/api/3/action/help_show?name=package_show", "success": false, "error": {"name_or_id": ["Missing value"], "__type": "Validation Error"}}`
	deniedBody   = `{"help": "https://www.datos.gob.mx/api/3/action/help_show?name=package_show", "success": false, "error": {"message": "Access denied: User  not authorized to read package d0074e50", "__type": "Authorization Error"}}`
	unknownBody  = `"Bad request - Action name not known: recently_changed_packages_activity_list"`
	akamaiBody   = "<HTML><HEAD>\n<TITLE>Access Denied</TITLE>\n</HEAD><BODY>You don't have permission to access this server.</BODY></HTML>"
	solrBody     = `{"help": "https://www.datos.gob.mx/api/3/action/help_show?name=package_search", "success": false, "error": {"message": "Search Query is invalid: \"Invalid search parameters: ['foo']\"", "__type": "Search Query Error"}}`
)

func serve(t *testing.T, status int, body string) (*Client, *int64) {
	t.Helper()
	var n int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		atomic.AddInt64(&n, 1)
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
		w.WriteHeader(status)
		w.Write([]byte(body))
	}))
	t.Cleanup(ts.Close)
	c, err := New(Config{URL: ts.URL, RPS: -1, Retries: -1, Backoff: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return c, &n
}

func TestDoDecodesEveryAnswerShape(t *testing.T) {
	for _, tc := range []struct {
		name      string
		status    int
		body      string
		wantErr   bool
		wantType  string
		wantMsg   string
		wantField string
		notFound  bool
		transient bool
	}{
		{name: "success envelope", status: 200, body: okBody},
		{name: "404 not found", status: 404, body: notFoundBody, wantErr: true, wantType: "Not Found Error", wantMsg: "Not found", notFound: true},
		{name: "409 field map", status: 409, body: missingBody, wantErr: true, wantType: "Validation Error", wantField: "name_or_id=Missing value"},
		{name: "403 authorization", status: 403, body: deniedBody, wantErr: true, wantType: "Authorization Error", wantMsg: "Access denied"},
		{name: "400 bare string for an unknown action", status: 400, body: unknownBody, wantErr: true, wantMsg: "Action name not known"},
		{name: "400 search query error", status: 400, body: solrBody, wantErr: true, wantType: "Search Query Error", wantMsg: "Invalid search parameters"},
		{name: "403 HTML from the proxy", status: 403, body: akamaiBody, wantErr: true, wantMsg: "Access Denied", transient: true},
		{name: "500 without a body", status: 500, body: "", wantErr: true, transient: true},
		{name: "200 that is not CKAN", status: 200, body: "<html>mantenimiento</html>", wantErr: true, wantMsg: "not a CKAN answer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := serve(t, tc.status, tc.body)
			var p Package
			err := c.Do(context.Background(), "package_show", url.Values{"id": {"x"}}, &p)
			if !tc.wantErr {
				if err != nil {
					t.Fatalf("got %v, want no error", err)
				}
				if p.Name != "codigos_postales_entidad_federativa" || p.Org() != "sepomex" {
					t.Errorf("got %+v, want the decoded dataset", p)
				}
				if got := p.Modified.Format(time.RFC3339Nano); got != "2026-01-29T22:30:08.783191Z" {
					t.Errorf("metadata_modified: got %s, want the naive time read as UTC", got)
				}
				return
			}
			var e *APIError
			if !errors.As(err, &e) {
				t.Fatalf("got %v (%T), want *APIError", err, err)
			}
			if e.Status != tc.status || e.Type != tc.wantType || !strings.Contains(e.Message, tc.wantMsg) {
				t.Errorf("got status %d type %q message %q, want %d %q containing %q", e.Status, e.Type, e.Message, tc.status, tc.wantType, tc.wantMsg)
			}
			if tc.wantField != "" && !strings.Contains(e.Error(), tc.wantField) {
				t.Errorf("got %q, want the field map %q", e.Error(), tc.wantField)
			}
			if IsNotFound(err) != tc.notFound || Transient(err) != tc.transient {
				t.Errorf("got NotFound %v Transient %v, want %v %v", IsNotFound(err), Transient(err), tc.notFound, tc.transient)
			}
		})
	}
}

func TestDoSendsAUserAgentAndEscapesParameters(t *testing.T) {
	var ua, query, path string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ua, query, path = r.UserAgent(), r.URL.Query().Get("id"), r.URL.Path
		w.Write([]byte(okBody))
	}))
	defer ts.Close()
	c, _ := New(Config{URL: ts.URL + "/", RPS: -1})
	if _, err := c.PackageShow(context.Background(), "a b&c=d"); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(ua, "datosbot/") || !strings.Contains(ua, "+https://") {
		t.Errorf("User-Agent: got %q, want a descriptive datosbot/… with a contact URL", ua)
	}
	if query != "a b&c=d" || path != "/api/3/action/package_show" {
		t.Errorf("got path %q id %q, want /api/3/action/package_show and the id intact", path, query)
	}
}

func TestDoLimitsTheBody(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"success": true, "result": "`))
		chunk := strings.Repeat("x", 1<<20)
		for range MaxBody>>20 + 1 {
			w.Write([]byte(chunk))
		}
		w.Write([]byte(`"}`))
	}))
	defer ts.Close()
	c, _ := New(Config{URL: ts.URL, RPS: -1})
	err := c.Do(context.Background(), "status_show", nil, nil)
	if err == nil || !strings.Contains(err.Error(), "passes") {
		t.Fatalf("got %v, want the body refused as too large", err)
	}
}

func TestDoTimesOut(t *testing.T) {
	release := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer ts.Close()
	defer close(release)
	var results []string
	var mu sync.Mutex
	c, _ := New(Config{URL: ts.URL, RPS: -1, Timeout: 100 * time.Millisecond, Observe: func(a, r string, d time.Duration) {
		mu.Lock()
		results = append(results, a+" "+r)
		mu.Unlock()
	}})
	err := c.Do(context.Background(), "status_show", nil, nil)
	if err == nil || !Transient(err) {
		t.Fatalf("got %v, want a transient timeout", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(results) != 1 || results[0] != "status_show timeout" {
		t.Errorf("observed %v, want one status_show timeout", results)
	}
}

// A portal that answers 429 (or 403, 5xx) is not asked again until the
// backoff has passed: callers that cannot wait get ErrBackoff at once.
func TestBackoffStopsHammering(t *testing.T) {
	for _, status := range []int{403, 429, 503} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			var n int64
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				atomic.AddInt64(&n, 1)
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(status)
			}))
			defer ts.Close()
			c, _ := New(Config{URL: ts.URL, RPS: -1, Backoff: time.Minute})
			for range 20 {
				ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
				err := c.Do(ctx, "package_show", url.Values{"id": {"x"}}, nil)
				cancel()
				if err == nil {
					t.Fatal("got success, want an error")
				}
			}
			if got := atomic.LoadInt64(&n); got != 1 {
				t.Errorf("got %d requests for 20 calls, want 1 and then a backoff", got)
			}
		})
	}
}

// A caller that can wait (the watch) retries after the backoff and gets
// the answer once the portal recovers.
func TestBackoffRetriesWhenTheCallerCanWait(t *testing.T) {
	var n int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if atomic.AddInt64(&n, 1) <= 2 {
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.Write([]byte(okBody))
	}))
	defer ts.Close()
	c, _ := New(Config{URL: ts.URL, RPS: -1, Backoff: 20 * time.Millisecond})
	if _, err := c.PackageShow(context.Background(), "x"); err != nil {
		t.Fatalf("got %v, want success after two 429s", err)
	}
	if got := atomic.LoadInt64(&n); got != 3 {
		t.Errorf("got %d requests, want 3", got)
	}
}

func TestPacingSpacesRequests(t *testing.T) {
	c, n := serve(t, 200, okBody)
	c.interval = 50 * time.Millisecond
	start := time.Now()
	for range 5 {
		if err := c.Do(context.Background(), "status_show", nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	if got := time.Since(start); got < 200*time.Millisecond {
		t.Errorf("5 requests at 20/s took %v, want at least 200ms", got)
	}
	if *n != 5 {
		t.Errorf("got %d requests, want 5", *n)
	}
}

func TestCacheKeepsTheNewestCopy(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	c := NewCache(time.Minute)
	c.Now = func() time.Time { return now }
	t1 := Time{now.Add(-time.Hour)}
	t2 := Time{now}
	c.Put(Package{ID: "ID1", Name: "uno", Title: "nuevo", Modified: t2})
	c.Put(Package{ID: "id1", Name: "uno", Title: "viejo", Modified: t1})
	for _, key := range []string{"id1", "uno", "UNO"} {
		if p, ok := c.Get(key); !ok || p.Title != "nuevo" {
			t.Errorf("Get(%q): got %q %v, want the newer copy", key, p.Title, ok)
		}
	}
	now = now.Add(2 * time.Minute)
	if _, ok := c.Get("uno"); ok {
		t.Error("got a copy older than the TTL, want a miss")
	}
}

func TestPackageShowUsesTheCache(t *testing.T) {
	c, n := serve(t, 200, okBody)
	for _, id := range []string{"codigos_postales_entidad_federativa", "d0074e50-d661-44d4-a1a3-73a89e671e1f", "codigos_postales_entidad_federativa"} {
		if _, err := c.PackageShow(context.Background(), id); err != nil {
			t.Fatal(err)
		}
	}
	if *n != 1 {
		t.Errorf("got %d requests, want 1 (then the cache by name and by id)", *n)
	}
}

func TestParseTime(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"2026-01-29T22:30:08.783191", "2026-01-29T22:30:08.783191Z"},
		{"2026-01-29T22:30:08", "2026-01-29T22:30:08Z"},
		{"2026-01-29T22:30:08Z", "2026-01-29T22:30:08Z"},
		{"2026-01-29T16:30:08-06:00", "2026-01-29T22:30:08Z"},
	} {
		got, err := ParseTime(tc.in)
		if err != nil || got.Format(time.RFC3339Nano) != tc.want {
			t.Errorf("ParseTime(%q): got %v %v, want %s", tc.in, got, err, tc.want)
		}
	}
	if _, err := ParseTime("ayer"); err == nil {
		t.Error("ParseTime(ayer): got no error")
	}
}

func TestSearchParams(t *testing.T) {
	q := Search{Organization: "sep", Since: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Sort: "id asc", Rows: 5000, Start: 100}
	v := q.params()
	if got := v.Get("fq"); got != `+organization:"sep" +metadata_modified:[2026-01-01T00:00:00Z TO *]` {
		t.Errorf("fq: got %s", got)
	}
	if v.Get("rows") != "1000" || v.Get("start") != "100" || v.Get("sort") != "id asc" {
		t.Errorf("got %v, want rows capped at 1000, start 100, sort id asc", v)
	}
	if enc := v.Encode(); strings.Contains(enc, "%2BTO%2B") || !strings.Contains(enc, "+TO+") {
		t.Errorf("got %s, want the space of TO encoded once", enc)
	}
	f := Search{FacetOrganizations: true}.params()
	if f.Get("facet.field") != `["organization"]` || f.Get("facet.limit") != "-1" || f.Get("rows") != "0" {
		t.Errorf("got %v, want the organization facet with rows=0", f)
	}
}

// A base URL with credentials (refused by the configuration, but a Client
// may be built by other code) never shows them: not in URL(), which the
// start-up log prints, nor in the error of a failed request.
func TestURLAndErrorsHideCredentials(t *testing.T) {
	ts := httptest.NewServer(http.NotFoundHandler())
	addr := strings.TrimPrefix(ts.URL, "http://")
	ts.Close() // nothing listens there now: the request fails
	for _, base := range []string{"http://bot:s3cr3t-pw@" + addr, "http://s3cr3t-pw@" + addr} {
		c, err := New(Config{URL: base, RPS: -1, Retries: -1, Timeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if got := c.URL(); strings.Contains(got, "s3cr3t-pw") || got != "http://"+addr {
			t.Errorf("URL(): got %q, want %q without the credentials", got, "http://"+addr)
		}
		_, err = c.StatusShow(context.Background())
		if err == nil || strings.Contains(err.Error(), "s3cr3t-pw") {
			t.Errorf("StatusShow: got %v, want an error without the credentials", err)
		}
	}
}
