package portal

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Time is a CKAN timestamp. CKAN writes naive ISO 8601 strings in UTC
// ("2026-01-29T22:30:08.783191", from datetime.utcnow().isoformat()); they
// are read as UTC, never as local time. A trailing Z or offset is accepted
// too.
type Time struct{ time.Time }

var naiveLayouts = []string{"2006-01-02T15:04:05.999999999", "2006-01-02T15:04:05", "2006-01-02"}

// ParseTime reads a CKAN timestamp as UTC.
func ParseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	for _, l := range naiveLayouts {
		if t, err := time.ParseInLocation(l, s, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("ckan: %q is not a timestamp", s)
}

// FormatTime writes t the way CKAN does: naive, UTC, microseconds.
func FormatTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000") }

// UnmarshalJSON accepts a timestamp string, null or "".
func (t *Time) UnmarshalJSON(b []byte) error {
	var s *string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	if s == nil || *s == "" {
		t.Time = time.Time{}
		return nil
	}
	v, err := ParseTime(*s)
	t.Time = v
	return err
}

// MarshalJSON writes CKAN's naive form, or null when zero.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(FormatTime(t.Time))
}

// Organization is the owner of a dataset.
type Organization struct {
	ID    string `json:"id"`
	Name  string `json:"name"` // the slug, as in fq=organization:"<name>"
	Title string `json:"title"`
}

// Tag, Group and Extra are the parts of a dataset a high-value rule reads.
type (
	Tag struct {
		Name string `json:"name"`
	}
	Group struct {
		Name string `json:"name"`
	}
	Extra struct {
		Key   string `json:"key"`
		Value string `json:"value"`
	}
)

// Resource is one file or link of a dataset. Many keys are optional in
// CKAN ("remove_if_not_provided") and may be absent.
type Resource struct {
	ID           string `json:"id"`
	PackageID    string `json:"package_id"`
	Name         string `json:"name"`
	Format       string `json:"format"`
	URL          string `json:"url"`
	State        string `json:"state"`
	Created      Time   `json:"created"`
	LastModified Time   `json:"last_modified"`
	Modified     Time   `json:"metadata_modified"`
}

// Changed returns when the resource's data last changed: last_modified,
// or created when the file was never replaced.
func (r Resource) Changed() time.Time {
	if r.LastModified.After(r.Created.Time) {
		return r.LastModified.Time
	}
	return r.Created.Time
}

// Package is a CKAN dataset, as package_show and package_search answer it.
// Fields the bot does not read are kept in Other (ckanext-scheming puts
// custom fields at the top level).
type Package struct {
	ID           string        `json:"id"`
	Name         string        `json:"name"`
	Title        string        `json:"title"`
	State        string        `json:"state"`
	Private      bool          `json:"private"`
	Type         string        `json:"type"`
	Organization *Organization `json:"organization"`
	OwnerOrg     string        `json:"owner_org"`
	Created      Time          `json:"metadata_created"`
	Modified     Time          `json:"metadata_modified"`
	Resources    []Resource    `json:"resources"`
	Tags         []Tag         `json:"tags"`
	Groups       []Group       `json:"groups"`
	Extras       []Extra       `json:"extras"`

	Other map[string]json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes the known fields and keeps the rest in Other.
func (p *Package) UnmarshalJSON(b []byte) error {
	type plain Package
	if err := json.Unmarshal(b, (*plain)(p)); err != nil {
		return err
	}
	if err := json.Unmarshal(b, &p.Other); err != nil {
		return err
	}
	// Keep only what the fields above do not hold: the cache keeps
	// thousands of datasets.
	for _, k := range modelled {
		delete(p.Other, k)
	}
	return nil
}

// modelled are the JSON keys of Package's fields.
var modelled = []string{"id", "name", "title", "state", "private", "type", "organization", "owner_org",
	"metadata_created", "metadata_modified", "resources", "tags", "groups", "extras"}

// Org returns the slug of the dataset's organization, or "".
func (p Package) Org() string {
	if p.Organization == nil {
		return ""
	}
	return p.Organization.Name
}

// Active reports whether the dataset is public and not deleted (an absent
// state is active: anonymous callers only ever see active datasets).
func (p Package) Active() bool { return (p.State == "" || p.State == "active") && !p.Private }

// Resource returns the resource with id, if the dataset has it.
func (p Package) Resource(id string) (Resource, bool) {
	for _, r := range p.Resources {
		if strings.EqualFold(r.ID, id) {
			return r, true
		}
	}
	return Resource{}, false
}

// Field returns a top-level string field the bot does not model (a
// scheming field), or "".
func (p Package) Field(key string) string {
	var s string
	if raw, ok := p.Other[key]; ok && json.Unmarshal(raw, &s) == nil {
		return s
	}
	return ""
}

// Status is status_show's answer.
type Status struct {
	SiteTitle   string   `json:"site_title"`
	SiteURL     string   `json:"site_url"`
	CKANVersion string   `json:"ckan_version"` // absent with ckan.hide_version
	Extensions  []string `json:"extensions"`
}

// FacetItem is one value of a search facet with its count.
type FacetItem struct {
	Name        string `json:"name"`
	DisplayName string `json:"display_name"`
	Count       int    `json:"count"`
}

// SearchResult is package_search's answer.
type SearchResult struct {
	Count        int       `json:"count"`
	Results      []Package `json:"results"`
	Sort         string    `json:"sort"`
	SearchFacets map[string]struct {
		Items []FacetItem `json:"items"`
	} `json:"search_facets"`
}

// Facet returns the items of one facet field.
func (r SearchResult) Facet(field string) []FacetItem { return r.SearchFacets[field].Items }

// MaxRows is CKAN's cap on rows (ckan.search.rows_max): more are silently
// cut to it.
const MaxRows = 1000

// Search is a package_search query. Filters are joined as required
// clauses of fq.
type Search struct {
	Organization string    // fq +organization:"<slug>"
	Since        time.Time // fq +metadata_modified:[<since>Z TO *]
	ResourceURL  string    // fq +res_url:"<url>"
	Sort         string    // e.g. "id asc"; "" is the portal's default
	Rows, Start  int
	// FacetOrganizations asks for the organization facet, every value with
	// at least one match (facet.limit=-1).
	FacetOrganizations bool
}

// params encodes the query. The space in " TO " is encoded once, as the
// harvester's fake requires ("+TO+" double-encoded is refused).
func (q Search) params() url.Values {
	var fq []string
	if q.Organization != "" {
		fq = append(fq, "+organization:"+quote(q.Organization))
	}
	if !q.Since.IsZero() {
		fq = append(fq, "+metadata_modified:["+q.Since.UTC().Format("2006-01-02T15:04:05Z")+" TO *]")
	}
	if q.ResourceURL != "" {
		fq = append(fq, "+res_url:"+quote(q.ResourceURL))
	}
	v := url.Values{}
	if len(fq) > 0 {
		v.Set("fq", strings.Join(fq, " "))
	}
	if q.Sort != "" {
		v.Set("sort", q.Sort)
	}
	v.Set("rows", strconv.Itoa(min(max(q.Rows, 0), MaxRows)))
	if q.Start > 0 {
		v.Set("start", strconv.Itoa(q.Start))
	}
	if q.FacetOrganizations {
		v.Set("facet", "true")
		v.Set("facet.field", `["organization"]`)
		v.Set("facet.mincount", "1")
		v.Set("facet.limit", "-1")
	}
	return v
}

// quote writes a Solr phrase: slugs may hold hyphens, URLs colons.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// PackageShow returns a dataset by name (slug) or id. A fresh cached copy
// answers without a request.
func (c *Client) PackageShow(ctx context.Context, id string) (Package, error) {
	if p, ok := c.Cache.Get(id); ok {
		return p, nil
	}
	var p Package
	if err := c.Do(ctx, "package_show", url.Values{"id": {id}}, &p); err != nil {
		return p, err
	}
	c.Cache.Put(p)
	return p, nil
}

// ResourceShow returns a resource by id.
func (c *Client) ResourceShow(ctx context.Context, id string) (Resource, error) {
	var r Resource
	return r, c.Do(ctx, "resource_show", url.Values{"id": {id}}, &r)
}

// PackageSearch runs one search. Results update the cache (a newer
// metadata_modified replaces an older copy).
func (c *Client) PackageSearch(ctx context.Context, q Search) (SearchResult, error) {
	var r SearchResult
	if err := c.Do(ctx, "package_search", q.params(), &r); err != nil {
		return r, err
	}
	for _, p := range r.Results {
		c.Cache.Put(p)
	}
	return r, nil
}

// StatusShow returns the portal's status (its CKAN version).
func (c *Client) StatusShow(ctx context.Context) (Status, error) {
	var s Status
	return s, c.Do(ctx, "status_show", nil, &s)
}
