package ckantest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 2, 17, 30, 8, 783191000, time.UTC)

func get(t *testing.T, s *Server, action, rawQuery string) (int, []byte) {
	t.Helper()
	u := s.URL + "/api/3/action/" + action
	if rawQuery != "" {
		u += "?" + rawQuery
	}
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

type envelope struct {
	Help    string          `json:"help"`
	Success bool            `json:"success"`
	Result  json.RawMessage `json:"result"`
	Error   map[string]any  `json:"error"`
}

func decode(t *testing.T, b []byte) envelope {
	t.Helper()
	var e envelope
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("not an envelope: %s", b)
	}
	return e
}

func TestErrorShapes(t *testing.T) {
	s := New(func() time.Time { return t0 })
	defer s.Close()
	s.Add(Dataset{Name: "borrado", Org: "sep", Deleted: true})
	for _, tc := range []struct {
		name, action, query string
		status              int
		bare                string // a bare JSON string body
		errType, field      string
	}{
		{"unknown action", "recently_changed_packages_activity_list", "", 400, "Bad request - Action name not known: recently_changed_packages_activity_list", "", ""},
		{"missing id", "package_show", "", 409, "", "Validation Error", "name_or_id"},
		{"not found", "package_show", "id=no-existe", 404, "", "Not Found Error", ""},
		{"deleted", "package_show", "id=borrado", 403, "", "Authorization Error", ""},
		{"resource not found", "resource_show", "id=abc", 404, "", "Not Found Error", ""},
		{"unknown parameter", "package_show", "id=x&foo=1", 400, "", "", ""},
		{"bad solr syntax", "package_search", "fq=" + url.QueryEscape("title:(x"), 400, "", "Search Query Error", ""},
		{"double-encoded TO", "package_search", "fq=" + url.QueryEscape("metadata_modified:[2026-01-01T00:00:00Z+TO+*]"), 400, "", "Search Query Error", ""},
		{"unknown sort", "package_search", "sort=views_recent+desc", 400, "", "Search Query Error", ""},
		{"bad rows", "package_search", "rows=muchas", 409, "", "Validation Error", "rows"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, b := get(t, s, tc.action, tc.query)
			if status != tc.status {
				t.Fatalf("got %d %s, want %d", status, b, tc.status)
			}
			if tc.bare != "" {
				var str string
				if err := json.Unmarshal(b, &str); err != nil || str != tc.bare {
					t.Fatalf("got %s, want the bare string %q", b, tc.bare)
				}
				return
			}
			if tc.errType == "" {
				return
			}
			e := decode(t, b)
			if e.Success || e.Error["__type"] != tc.errType || !strings.Contains(e.Help, "help_show") {
				t.Errorf("got %s, want success false and __type %q", b, tc.errType)
			}
			if tc.field != "" {
				if _, ok := e.Error[tc.field].([]any); !ok {
					t.Errorf("got %s, want the field map with %q", b, tc.field)
				}
			}
		})
	}
}

func TestPackageShowShape(t *testing.T) {
	s := New(func() time.Time { return t0 })
	defer s.Close()
	d := s.Add(Dataset{Name: "accidentes_transito", Title: "Accidentes de tránsito", Org: "sict",
		Resources: []Resource{{Name: "2025", Format: "CSV"}}})
	for _, ref := range []string{d.Name, d.ID} {
		status, b := get(t, s, "package_show", "id="+ref)
		if status != 200 {
			t.Fatalf("got %d %s", status, b)
		}
		var p map[string]any
		json.Unmarshal(decode(t, b).Result, &p)
		if p["metadata_modified"] != "2026-11-02T17:30:08.783191" {
			t.Errorf("metadata_modified: got %v, want a naive UTC timestamp", p["metadata_modified"])
		}
		if _, ok := p["notes"]; ok {
			t.Error("got notes, want the optional key absent")
		}
		r := p["resources"].([]any)[0].(map[string]any)
		if _, ok := r["last_modified"]; ok {
			t.Error("got last_modified on a file never replaced, want it absent")
		}
		if want := fmt.Sprintf("/dataset/%s/resource/%s/download/", d.ID, d.Resources[0].ID); !strings.Contains(r["url"].(string), want) || r["url_type"] != "upload" {
			t.Errorf("got url %v, want an upload URL with %s", r["url"], want)
		}
		if p["organization"].(map[string]any)["name"] != "sict" {
			t.Errorf("got %v, want organization sict", p["organization"])
		}
	}
}

type searchResult struct {
	Count   int `json:"count"`
	Results []struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"results"`
	Sort         string `json:"sort"`
	SearchFacets map[string]struct {
		Items []struct {
			Name  string `json:"name"`
			Count int    `json:"count"`
		} `json:"items"`
	} `json:"search_facets"`
}

func search(t *testing.T, s *Server, q url.Values) searchResult {
	t.Helper()
	status, b := get(t, s, "package_search", q.Encode())
	if status != 200 {
		t.Fatalf("package_search %s: got %d %s", q.Encode(), status, b)
	}
	var r searchResult
	if err := json.Unmarshal(decode(t, b).Result, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestSearch(t *testing.T) {
	now := t0
	s := New(func() time.Time { return now })
	defer s.Close()
	for i := range 1005 {
		s.Add(Dataset{Name: fmt.Sprintf("d%04d", i), Org: "inegi"})
	}
	now = t0.Add(time.Hour)
	a := s.Add(Dataset{Name: "nuevo-sep", Org: "sep", Resources: []Resource{{URL: "https://sep.gob.mx/datos/x.csv"}}})
	s.Add(Dataset{Name: "nuevo-imss", Org: "imss"})
	s.Add(Dataset{Name: "nuevo-imss-2", Org: "imss"})

	if r := search(t, s, url.Values{"rows": {"5000"}}); len(r.Results) != 1000 || r.Count != 1008 {
		t.Errorf("rows=5000: got %d results of %d, want 1000 (the cap) of 1008", len(r.Results), r.Count)
	}
	since := url.Values{"fq": {"metadata_modified:[" + t0.Add(30*time.Minute).Format("2006-01-02T15:04:05Z") + " TO *]"}, "rows": {"0"},
		"facet.field": {`["organization"]`}, "facet.mincount": {"1"}, "facet.limit": {"-1"}}
	r := search(t, s, since)
	items := r.SearchFacets["organization"].Items
	if r.Count != 3 || len(items) != 2 || items[0].Name != "imss" || items[0].Count != 2 || items[1].Name != "sep" {
		t.Errorf("facet since: got count %d items %+v, want 3: imss 2, sep 1", r.Count, items)
	}
	r = search(t, s, url.Values{"fq": {`+organization:"imss" +metadata_modified:[2026-01-01T00:00:00Z TO *]`}, "sort": {"id asc"}, "rows": {"10"}})
	if r.Count != 2 || r.Sort != "id asc" || r.Results[0].ID > r.Results[1].ID {
		t.Errorf("organization imss sorted by id: got %+v", r)
	}
	r = search(t, s, url.Values{"fq": {`res_url:"https://sep.gob.mx/datos/x.csv"`}})
	if r.Count != 1 || r.Results[0].ID != a.ID {
		t.Errorf("res_url: got %+v, want %s", r, a.Name)
	}
	if r := search(t, s, url.Values{}); r.Sort != "score desc, metadata_modified desc" || len(r.Results) != 10 {
		t.Errorf("defaults: got sort %q and %d rows, want the portal's default sort and 10 rows", r.Sort, len(r.Results))
	}
}

// The harvester's datasets_added race: a dataset published between page 1
// and page 2 of an id-sorted search shifts page 2.
func TestBetweenPages(t *testing.T) {
	s := New(func() time.Time { return t0 })
	defer s.Close()
	for i := range 4 {
		s.Add(Dataset{ID: fmt.Sprintf("5%07d-0000-4000-8000-000000000000", i), Name: fmt.Sprintf("d%d", i), Org: "sep"})
	}
	s.BetweenPages(func() { s.Add(Dataset{ID: "00000000-0000-4000-8000-000000000000", Name: "nuevo", Org: "sep"}) })
	q := url.Values{"fq": {`organization:"sep"`}, "sort": {"id asc"}, "rows": {"2"}}
	var names []string
	for start := 0; ; start += 2 {
		q.Set("start", fmt.Sprint(start))
		r := search(t, s, q)
		if len(r.Results) == 0 {
			break
		}
		for _, d := range r.Results {
			names = append(names, d.Name)
		}
	}
	sort.Strings(names)
	if got := strings.Join(names, ","); got != "d0,d1,d1,d2,d3" {
		t.Errorf("got %s, want d1 twice (shifted onto page 2) and nuevo missed until the next run", got)
	}
}

func TestHangAndFail(t *testing.T) {
	s := New(nil)
	defer s.Close()
	s.Fail(http.StatusTooManyRequests, 2)
	for want := range []int{429, 429, 200} {
		status, _ := get(t, s, "status_show", "")
		if w := []int{429, 429, 200}[want]; status != w {
			t.Errorf("request %d: got %d, want %d", want, status, w)
		}
	}
	release := s.Hang()
	done := make(chan int)
	go func() {
		status, _ := get(t, s, "status_show", "")
		done <- status
	}()
	select {
	case <-done:
		t.Fatal("got an answer from a hanging portal")
	case <-time.After(50 * time.Millisecond):
	}
	release()
	if status := <-done; status != 200 {
		t.Errorf("after release: got %d, want 200", status)
	}
	if n := s.Requests("status_show"); n != 4 {
		t.Errorf("got %d requests counted, want 4", n)
	}
}
