// Package ckantest is a fake of datos.gob.mx's CKAN 2.11 Action API for
// tests (httptest). It is built from the portal's recorded shapes
// (shared/reference/portal_evidence_dashboard.md §1, ckanext-harvest's
// mock_ckan.py, CKAN's own dictization tests), not from what our client
// sends: an action, parameter or filter it does not know answers 400, so a
// client cannot come to rely on something the portal does not do.
//
// What it reproduces: the envelope {"help", "success", "result"|"error"};
// 404 Not Found Error, 403 Authorization Error (a deleted dataset), 409
// Validation Error whose error object is the field map, 400 Search Query
// Error, and the bare JSON string of an unknown action; naive UTC
// timestamps; optional keys absent rather than null; rows silently capped
// at 1000; fq clauses organization:, metadata_modified:[X TO *] and
// res_url:; sort=id asc; facet.field=["organization"]; and, on request, a
// dataset added between two pages of a search.
package ckantest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Org is an organization of the portal.
type Org struct {
	ID, Name, Title string
}

// Resource is a file of a dataset. A zero LastModified is absent from the
// answers, as in CKAN when the file was never replaced.
type Resource struct {
	ID, Name, Format, URL string
	Upload                bool // url_type "upload": URL is /dataset/<uuid>/resource/<id>/download/<file>
	Created, LastModified time.Time
}

// Dataset is a dataset of the portal. Empty optional fields are absent
// from the answers.
type Dataset struct {
	ID, Name, Title, Notes string
	Org                    string // organization name (slug)
	Created, Modified      time.Time
	Deleted, Private       bool
	Resources              []Resource
	Tags, Groups           []string
	Extras                 map[string]string
}

// Server is a running fake portal. Its methods are safe for concurrent use.
type Server struct {
	*httptest.Server

	mu       sync.Mutex
	now      func() time.Time
	orgs     map[string]Org
	datasets map[string]*Dataset // by id
	requests map[string]int      // by action
	log      []string            // every request, "action?query"
	hang     chan struct{}
	failCode int
	failLeft int
	between  func()
	paged    bool // a search page with start=0 was served since between was set
}

// New starts a fake portal; Close it when done. now is the clock of
// metadata_created and metadata_modified (nil: time.Now).
func New(now func() time.Time) *Server {
	if now == nil {
		now = time.Now
	}
	s := &Server{now: now, orgs: map[string]Org{}, datasets: map[string]*Dataset{}, requests: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// AddOrg adds an organization (its id is made up).
func (s *Server) AddOrg(name, title string) Org {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := Org{ID: newID(), Name: name, Title: title}
	s.orgs[name] = o
	return o
}

// Add publishes a dataset and returns it with its id and timestamps
// filled in (created and modified default to the clock).
func (s *Server) Add(d Dataset) Dataset {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d.ID == "" {
		d.ID = newID()
	}
	if d.Created.IsZero() {
		d.Created = s.now()
	}
	if d.Modified.IsZero() {
		d.Modified = d.Created
	}
	if _, ok := s.orgs[d.Org]; !ok && d.Org != "" {
		s.orgs[d.Org] = Org{ID: newID(), Name: d.Org, Title: strings.ToUpper(d.Org)}
	}
	for i := range d.Resources {
		r := &d.Resources[i]
		if r.ID == "" {
			r.ID = newID()
		}
		if r.Created.IsZero() {
			r.Created = d.Created
		}
		if r.URL == "" {
			r.Upload = true
			r.URL = fmt.Sprintf("%s/dataset/%s/resource/%s/download/%s.csv", s.URL, d.ID, r.ID, d.Name)
		}
	}
	cp := d
	s.datasets[d.ID] = &cp
	return d
}

// Edit changes a dataset through edit and stamps metadata_modified with
// the clock, as any CKAN update does.
func (s *Server) Edit(id string, edit func(*Dataset)) Dataset {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.datasets[id]
	edit(d)
	d.Modified = s.now()
	return *d
}

// Hang makes every request wait until the returned release is called (or
// the client gives up): a portal that does not answer.
func (s *Server) Hang() (release func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := make(chan struct{})
	s.hang = ch
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			if s.hang == ch {
				s.hang = nil
			}
			s.mu.Unlock()
			close(ch)
		})
	}
}

// Fail makes the next n requests answer status (403 as from the proxy, a
// 429, or a 5xx) instead of their answer; n < 0 means until Fail(0, 0).
func (s *Server) Fail(status, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failCode, s.failLeft = status, n
}

// BetweenPages runs f once, after the first page (start=0) of a paged
// search has been served and before the next page is: the harvester's
// "datasets_added" race.
func (s *Server) BetweenPages(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.between, s.paged = f, false
}

// Requests returns how many requests an action received ("" for all).
func (s *Server) Requests(action string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if action != "" {
		return s.requests[action]
	}
	n := 0
	for _, v := range s.requests {
		n += v
	}
	return n
}

// Log returns every request received, as "action?query".
func (s *Server) Log() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.log...)
}

var actionPath = regexp.MustCompile(`^/api/3/action/([a-z_]+)$`)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	// The portal's own clock, as every HTTP server sends it.
	w.Header().Set("Date", s.now().UTC().Format(http.TimeFormat))
	m := actionPath.FindStringSubmatch(r.URL.Path)
	if m == nil || r.Method != http.MethodGet {
		writeJSON(w, http.StatusBadRequest, "Mock CKAN does not recognize that call: "+r.Method+" "+r.URL.Path)
		return
	}
	action := m[1]
	s.mu.Lock()
	s.requests[action]++
	s.log = append(s.log, action+"?"+r.URL.RawQuery)
	hang := s.hang
	fail := 0
	if s.failLeft != 0 {
		fail = s.failCode
		if s.failLeft > 0 {
			s.failLeft--
		}
	}
	s.mu.Unlock()
	if hang != nil {
		select {
		case <-hang:
		case <-r.Context().Done():
			return
		}
	}
	if fail != 0 {
		if fail == http.StatusForbidden {
			// Akamai's refusal is HTML, not a CKAN envelope.
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(fail)
			w.Write([]byte("<HTML><HEAD><TITLE>Access Denied</TITLE></HEAD><BODY>You don't have permission to access this server.</BODY></HTML>"))
			return
		}
		if fail == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "1")
		}
		fail500(w, action, fail)
		return
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, "Mock CKAN cannot parse the query: "+err.Error())
		return
	}
	switch action {
	case "package_show":
		s.packageShow(w, action, q)
	case "resource_show":
		s.resourceShow(w, action, q)
	case "package_search":
		s.packageSearch(w, action, q)
	case "status_show":
		if !known(w, q) {
			return
		}
		ok(w, action, map[string]any{"site_title": "Datos Abiertos de México", "site_description": "",
			"site_url": "https://www.datos.gob.mx", "error_emails_to": nil, "locale_default": "es",
			"extensions": []string{"stats", "resource_proxy", "datastore", "xloader"}, "ckan_version": "2.11.2"})
	default:
		// CKAN answers an unknown action (e.g. the activity plugin off)
		// with a bare JSON string and no envelope.
		writeJSON(w, http.StatusBadRequest, "Bad request - Action name not known: "+action)
	}
}

// known answers 400 when q holds a parameter outside allowed.
func known(w http.ResponseWriter, q url.Values, allowed ...string) bool {
	for k := range q {
		found := false
		for _, a := range allowed {
			found = found || k == a
		}
		if !found {
			writeJSON(w, http.StatusBadRequest, fmt.Sprintf("Mock CKAN does not recognize parameter %q", k))
			return false
		}
	}
	return true
}

func (s *Server) packageShow(w http.ResponseWriter, action string, q url.Values) {
	if !known(w, q, "id", "use_default_schema", "include_tracking", "include_plugin_data") {
		return
	}
	id := q.Get("id")
	if id == "" {
		fail(w, action, http.StatusConflict, map[string]any{"name_or_id": []string{"Missing value"}, "__type": "Validation Error"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.find(id)
	switch {
	case d == nil:
		fail(w, action, http.StatusNotFound, map[string]any{"message": "Not found", "__type": "Not Found Error"})
	case d.Deleted || d.Private:
		fail(w, action, http.StatusForbidden, map[string]any{"message": "Access denied: User  not authorized to read package " + d.ID, "__type": "Authorization Error"})
	default:
		ok(w, action, s.dict(d))
	}
}

func (s *Server) resourceShow(w http.ResponseWriter, action string, q url.Values) {
	if !known(w, q, "id", "include_tracking") {
		return
	}
	id := q.Get("id")
	if id == "" {
		fail(w, action, http.StatusConflict, map[string]any{"id": []string{"Missing value"}, "__type": "Validation Error"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range s.datasets {
		for _, r := range d.Resources {
			if r.ID == id && !d.Deleted && !d.Private {
				ok(w, action, s.resourceDict(d, r))
				return
			}
		}
	}
	fail(w, action, http.StatusNotFound, map[string]any{"message": "Not found: Resource was not found.", "__type": "Not Found Error"})
}

// find looks a dataset up by id or name; the caller holds mu.
func (s *Server) find(ref string) *Dataset {
	if d, ok := s.datasets[ref]; ok {
		return d
	}
	for _, d := range s.datasets {
		if d.Name == ref {
			return d
		}
	}
	return nil
}

// clause is one fq filter the fake understands.
type clause struct {
	field, value string
	since        time.Time
}

var (
	fqOrg    = regexp.MustCompile(`^\+?organization:("(?:[^"\\]|\\.)*"|[A-Za-z0-9_-]+)$`)
	fqResURL = regexp.MustCompile(`^\+?res_url:"((?:[^"\\]|\\.)*)"$`)
	fqSince  = regexp.MustCompile(`^\+?metadata_modified:\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z) TO \*\]$`)
	fqToken  = regexp.MustCompile(`\+?[a-z_]+:(?:"(?:[^"\\]|\\.)*"|\[[^\]]*\]|\S+)`)
)

// parseFQ reads the fq clauses: organization:"slug", metadata_modified:[X
// TO *] and res_url:"url", each optionally required (+).
func parseFQ(fq string) ([]clause, error) {
	var out []clause
	rest := strings.TrimSpace(fq)
	for rest != "" {
		loc := fqToken.FindStringIndex(rest)
		if loc == nil || loc[0] != 0 {
			return nil, fmt.Errorf("cannot parse fq near %q", rest)
		}
		tok := rest[:loc[1]]
		rest = strings.TrimSpace(rest[loc[1]:])
		switch {
		case fqOrg.MatchString(tok):
			out = append(out, clause{field: "organization", value: unquote(fqOrg.FindStringSubmatch(tok)[1])})
		case fqResURL.MatchString(tok):
			out = append(out, clause{field: "res_url", value: unquote(`"` + fqResURL.FindStringSubmatch(tok)[1] + `"`)})
		case fqSince.MatchString(tok):
			t, err := time.Parse(time.RFC3339Nano, fqSince.FindStringSubmatch(tok)[1])
			if err != nil {
				return nil, err
			}
			out = append(out, clause{field: "metadata_modified", since: t})
		default:
			return nil, fmt.Errorf("unsupported fq clause %q", tok)
		}
	}
	return out, nil
}

func unquote(s string) string {
	if !strings.HasPrefix(s, `"`) {
		return s
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, `"`), `"`)
	return strings.NewReplacer(`\"`, `"`, `\\`, `\`).Replace(s)
}

func (s *Server) packageSearch(w http.ResponseWriter, action string, q url.Values) {
	if !known(w, q, "q", "fq", "sort", "rows", "start", "facet", "facet.field", "facet.mincount", "facet.limit", "include_private") {
		return
	}
	searchErr := func(msg string) {
		fail(w, action, http.StatusBadRequest, map[string]any{"message": "Search Query is invalid: " + strconv.Quote(msg), "__type": "Search Query Error"})
	}
	if v := q.Get("q"); v != "" && v != "*:*" {
		searchErr("this fake answers only q=*:*")
		return
	}
	clauses, err := parseFQ(q.Get("fq"))
	if err != nil {
		searchErr(err.Error())
		return
	}
	ints := map[string]int{"rows": 10, "start": 0, "facet.mincount": 0, "facet.limit": 50}
	for k := range ints {
		if v := q.Get(k); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 && k != "facet.limit" {
				fail(w, action, http.StatusConflict, map[string]any{k: []string{"Invalid integer"}, "__type": "Validation Error"})
				return
			}
			ints[k] = n
		}
	}
	rows := min(ints["rows"], 1000) // ckan.search.rows_max, silently
	sortBy := q.Get("sort")
	switch sortBy {
	case "":
		sortBy = "score desc, metadata_modified desc"
	case "id asc", "metadata_modified desc", "score desc, metadata_modified desc":
	default:
		searchErr("can not sort on " + sortBy)
		return
	}
	var facets []string
	if v := q.Get("facet.field"); v != "" {
		if err := json.Unmarshal([]byte(v), &facets); err != nil {
			fail(w, action, http.StatusConflict, map[string]any{"facet.field": []string{"Not a list"}, "__type": "Validation Error"})
			return
		}
		for _, f := range facets {
			if f != "organization" {
				searchErr("this fake facets only organization, not " + f)
				return
			}
		}
	}
	if f := q.Get("facet"); f != "" && f != "true" && f != "false" {
		searchErr("facet must be true or false")
		return
	}
	if q.Get("facet") == "false" {
		facets = nil
	}

	s.mu.Lock()
	if between := s.between; between != nil && ints["start"] > 0 && s.paged {
		s.between = nil
		s.mu.Unlock()
		between()
		s.mu.Lock()
	}
	if ints["start"] == 0 && rows > 0 && s.between != nil {
		s.paged = true
	}
	hits := s.hits(clauses, sortBy)
	result := map[string]any{"count": len(hits), "sort": sortBy, "facets": map[string]any{}, "search_facets": map[string]any{}}
	page := []any{}
	for i := ints["start"]; i < len(hits) && i < ints["start"]+rows; i++ {
		page = append(page, s.dict(hits[i]))
	}
	result["results"] = page
	if len(facets) > 0 {
		flat, items := s.organizationFacet(hits, ints["facet.mincount"], ints["facet.limit"])
		result["facets"] = map[string]any{"organization": flat}
		result["search_facets"] = map[string]any{"organization": map[string]any{"title": "organization", "items": items}}
	}
	s.mu.Unlock()
	ok(w, action, result)
}

// hits returns the public, active datasets that match every clause, in
// the order sortBy asks. The caller holds mu.
func (s *Server) hits(clauses []clause, sortBy string) []*Dataset {
	var hits []*Dataset
	for _, d := range s.datasets {
		if !d.Deleted && !d.Private && matches(d, clauses) {
			hits = append(hits, d)
		}
	}
	switch sortBy {
	case "id asc":
		sort.Slice(hits, func(i, j int) bool { return hits[i].ID < hits[j].ID })
	default:
		sort.Slice(hits, func(i, j int) bool {
			if !hits[i].Modified.Equal(hits[j].Modified) {
				return hits[i].Modified.After(hits[j].Modified)
			}
			return hits[i].ID < hits[j].ID
		})
	}
	return hits
}

// organizationFacet counts hits per organization, as Solr's facet does:
// items by count (then name), at least mincount each, at most limit
// (negative: all). The caller holds mu.
func (s *Server) organizationFacet(hits []*Dataset, mincount, limit int) (map[string]int, []map[string]any) {
	counts := map[string]int{}
	for _, d := range hits {
		counts[d.Org]++
	}
	items := []map[string]any{}
	flat := map[string]int{}
	for name, n := range counts {
		if n < mincount || name == "" {
			continue
		}
		flat[name] = n
		items = append(items, map[string]any{"name": name, "display_name": s.orgs[name].Title, "count": n})
	}
	sort.Slice(items, func(i, j int) bool {
		if items[i]["count"] != items[j]["count"] {
			return items[i]["count"].(int) > items[j]["count"].(int)
		}
		return items[i]["name"].(string) < items[j]["name"].(string)
	})
	if limit >= 0 && len(items) > limit {
		items = items[:limit]
	}
	return flat, items
}

func matches(d *Dataset, clauses []clause) bool {
	for _, c := range clauses {
		switch c.field {
		case "organization":
			if d.Org != c.value {
				return false
			}
		case "metadata_modified":
			if d.Modified.Before(c.since) {
				return false
			}
		case "res_url":
			found := false
			for _, r := range d.Resources {
				found = found || r.URL == c.value
			}
			if !found {
				return false
			}
		}
	}
	return true
}

// naive writes a timestamp as CKAN does: ISO 8601, UTC, no zone.
func naive(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000") }

// dict renders a dataset with the keys of CKAN 2.11's package dictization
// (ckan/tests/lib/dictization/test_model_dictize.py); optional keys that
// are empty are left out, not null. The caller holds mu.
func (s *Server) dict(d *Dataset) map[string]any {
	o := s.orgs[d.Org]
	m := map[string]any{
		"id": d.ID, "name": d.Name, "title": d.Title, "type": "dataset", "state": "active", "private": d.Private,
		"license_id": "cc-by-4.0", "license_title": "Creative Commons Attribution 4.0", "isopen": true,
		"metadata_created": naive(d.Created), "metadata_modified": naive(d.Modified),
		"num_resources": len(d.Resources), "num_tags": len(d.Tags), "owner_org": o.ID,
		"relationships_as_object": []any{}, "relationships_as_subject": []any{},
		"creator_user_id": "9f1b2c3d-0000-4000-8000-000000000001",
	}
	if d.Deleted {
		m["state"] = "deleted"
	}
	if d.Notes != "" {
		m["notes"] = d.Notes
	}
	if d.Org != "" {
		m["organization"] = map[string]any{"id": o.ID, "name": o.Name, "title": o.Title, "type": "organization",
			"description": "", "image_url": "", "created": "2025-03-01T18:00:00.000000", "is_organization": true,
			"approval_status": "approved", "state": "active"}
	}
	res := []any{}
	for i, r := range d.Resources {
		rd := s.resourceDict(d, r)
		rd["position"] = i
		res = append(res, rd)
	}
	m["resources"] = res
	tags := []any{}
	for _, t := range d.Tags {
		tags = append(tags, map[string]any{"id": newID(), "name": t, "display_name": t, "state": "active", "vocabulary_id": nil})
	}
	m["tags"] = tags
	groups := []any{}
	for _, g := range d.Groups {
		groups = append(groups, map[string]any{"id": newID(), "name": g, "title": g, "display_name": g, "description": "", "image_display_url": ""})
	}
	m["groups"] = groups
	extras := []any{}
	for _, k := range sortedKeys(d.Extras) {
		extras = append(extras, map[string]any{"key": k, "value": d.Extras[k]})
	}
	m["extras"] = extras
	return m
}

func (s *Server) resourceDict(d *Dataset, r Resource) map[string]any {
	rd := map[string]any{"id": r.ID, "package_id": d.ID, "name": r.Name, "format": r.Format, "url": r.URL,
		"state": "active", "created": naive(r.Created), "metadata_modified": naive(maxTime(r.Created, r.LastModified)),
		"description": "", "hash": "", "mimetype": nil, "cache_url": nil, "datastore_active": false}
	if r.Upload {
		rd["url_type"] = "upload"
	}
	if !r.LastModified.IsZero() {
		rd["last_modified"] = naive(r.LastModified)
	}
	return rd
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func ok(w http.ResponseWriter, action string, result any) {
	writeJSON(w, http.StatusOK, map[string]any{"help": helpURL(action), "success": true, "result": result})
}

func fail(w http.ResponseWriter, action string, status int, e map[string]any) {
	writeJSON(w, status, map[string]any{"help": helpURL(action), "success": false, "error": e})
}

func fail500(w http.ResponseWriter, action string, status int) {
	fail(w, action, status, map[string]any{"message": http.StatusText(status), "__type": "Internal Server Error"})
}

func helpURL(action string) string {
	return "https://www.datos.gob.mx/api/3/action/help_show?name=" + action
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func newID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
