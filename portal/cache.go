package portal

import (
	"sort"
	"strings"
	"sync"
	"time"
)

// Cache keeps datasets by id and metadata_modified: a copy is replaced
// only by one at least as new, so a search page read before an edit
// cannot undo a package_show read after it. A copy answers lookups by id
// or name for TTL; after that the portal is asked again. It is safe for
// concurrent use, and a nil *Cache caches nothing.
type Cache struct {
	TTL time.Duration // default 10 minutes
	Max int           // most datasets kept; default 10,000
	Now func() time.Time

	mu     sync.Mutex
	byID   map[string]cached
	byName map[string]string // name → id
}

type cached struct {
	pkg     Package
	fetched time.Time
}

// NewCache returns an empty cache with the given TTL (0 for the default).
func NewCache(ttl time.Duration) *Cache {
	return &Cache{TTL: ttl, byID: map[string]cached{}, byName: map[string]string{}}
}

func (c *Cache) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// Get returns a fresh copy of the dataset with this id or name.
func (c *Cache) Get(idOrName string) (Package, bool) {
	if c == nil {
		return Package{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	key := strings.ToLower(idOrName)
	e, ok := c.byID[key]
	if !ok {
		if id, named := c.byName[key]; named {
			e, ok = c.byID[id]
		}
	}
	ttl := c.TTL
	if ttl <= 0 {
		ttl = 10 * time.Minute
	}
	if !ok || c.now().Sub(e.fetched) > ttl {
		return Package{}, false
	}
	return e.pkg, true
}

// Put stores p unless the cache holds a newer copy (by metadata_modified).
func (c *Cache) Put(p Package) {
	if c == nil || p.ID == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	id := strings.ToLower(p.ID)
	if old, ok := c.byID[id]; ok && old.pkg.Modified.After(p.Modified.Time) {
		return
	}
	limit := c.Max
	if limit <= 0 {
		limit = 10000
	}
	if _, ok := c.byID[id]; !ok && len(c.byID) >= limit {
		c.evictOldest(len(c.byID) / 10)
	}
	c.byID[id] = cached{pkg: p, fetched: c.now()}
	if p.Name != "" {
		c.byName[strings.ToLower(p.Name)] = id
	}
}

// Len returns how many datasets the cache holds.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.byID)
}

// evictOldest drops the n least recently fetched copies (at least one).
func (c *Cache) evictOldest(n int) {
	ids := make([]string, 0, len(c.byID))
	for id := range c.byID {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return c.byID[ids[i]].fetched.Before(c.byID[ids[j]].fetched) })
	for _, id := range ids[:max(n, 1)] {
		if name := strings.ToLower(c.byID[id].pkg.Name); c.byName[name] == id {
			delete(c.byName, name)
		}
		delete(c.byID, id)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
