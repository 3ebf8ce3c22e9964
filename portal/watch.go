package portal

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/datosbot/datosbot"
)

// WatchStore is what the new-data watch needs from storage. storage.Store
// implements it.
type WatchStore interface {
	Institutions(ctx context.Context) ([]datosbot.Institution, error)
	PortalWatermark(ctx context.Context) (mark, floor time.Time, err error)
	SetPortalWatermark(ctx context.Context, t time.Time) error
	RecordPortalNotice(ctx context.Context, n datosbot.PortalNotice) (created bool, err error)
	AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	ReleaseLease(ctx context.Context, name, holder string) error
}

// DefaultSiteURL is where the direct URLs of the watch's notices point.
const DefaultSiteURL = "https://www.datos.gob.mx"

// watchLease is the lease name: one replica runs the watch at a time.
const watchLease = "portal-watch"

// Watch finds what was published on the portal for the institutions that
// have a ckan: organization and tells their liaison channels (DESIGN 2.4,
// new-data watch). It follows ckanext-harvest's algorithm (reference
// §1.4): a watermark that moves only after a run without errors, a search
// from an hour before it (clocks drift), pages sorted by id and
// deduplicated by id; and it first asks one search faceted by
// organization, so that only the organizations that changed are paged.
type Watch struct {
	Client    *Client
	Store     WatchStore
	Poster    Poster
	HighValue HighValue
	// Holder names this replica for the lease (the one the Telegram poller
	// uses); required.
	Holder string
	// Interval between runs (DATOSBOT_CKAN_INTERVAL); default 15 minutes.
	Interval time.Duration
	// SiteURL is the portal's public base for the notices' dataset URLs;
	// default DefaultSiteURL (a host of DATOSBOT_DATA_HOSTS, so the
	// anunciar line can be copied as it is).
	SiteURL string
	// PageSize is the rows of each page; default 100, as the harvester.
	PageSize int
	// Overlap is how far before the watermark each search starts; default
	// 1 hour, as the harvester.
	Overlap time.Duration
	Now     func() time.Time // default time.Now
	Logger  *slog.Logger     // default slog.Default()
	// Observe, when set, is told of every run (for /metrics).
	Observe func(RunStats)

	mu   sync.Mutex
	last RunStats
}

// RunStats describes one run.
type RunStats struct {
	Start      time.Time
	Duration   time.Duration
	First      bool // the first run: the watermark was set, nothing posted
	Skipped    bool // another replica holds the lease
	Requests   int64
	Orgs       int // organizations paged
	Datasets   int // distinct datasets read
	Notices    int // notices recorded for the first time
	Watermark  time.Time
	Err        error
	Successful time.Time // the start of the last run without errors
}

func (w *Watch) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

func (w *Watch) log() *slog.Logger {
	if w.Logger != nil {
		return w.Logger
	}
	return slog.Default()
}

// Result names a run's outcome: ok, first, skipped or error.
func (st RunStats) Result() string {
	switch {
	case st.Err != nil:
		return "error"
	case st.Skipped:
		return "skipped"
	case st.First:
		return "first"
	}
	return "ok"
}

// Last returns the stats of the last run.
func (w *Watch) Last() RunStats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.last
}

// Run runs the watch every Interval until ctx is done.
func (w *Watch) Run(ctx context.Context) error {
	every := w.Interval
	if every <= 0 {
		every = 15 * time.Minute
	}
	t := time.NewTicker(every)
	defer t.Stop()
	// Stopping hands the watch to another replica at once.
	defer w.Store.ReleaseLease(context.WithoutCancel(ctx), watchLease, w.Holder)
	for {
		if st := w.Tick(ctx); st.Err != nil && ctx.Err() == nil {
			w.log().WarnContext(ctx, "portal: the new-data watch failed; the next run starts from the same watermark", "err", st.Err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Tick runs the watch once, if this replica holds the lease.
func (w *Watch) Tick(ctx context.Context) RunStats {
	st := RunStats{Start: w.now()}
	before := w.Client.Requests()
	err := w.tick(ctx, &st)
	st.Err, st.Duration, st.Requests = err, w.now().Sub(st.Start), w.Client.Requests()-before
	w.mu.Lock()
	if err == nil && !st.Skipped {
		st.Successful = st.Start
	} else {
		st.Successful = w.last.Successful
	}
	w.last = st
	w.mu.Unlock()
	if w.Observe != nil {
		w.Observe(st)
	}
	return st
}

func (w *Watch) tick(ctx context.Context, st *RunStats) error {
	if w.Holder == "" {
		return errors.New("portal: the watch needs a Holder for its lease")
	}
	// The lease outlives one interval, so the replica that holds it runs
	// every run; if it dies, another takes over about an interval later.
	ttl := w.interval() + time.Minute
	ok, err := w.Store.AcquireLease(ctx, watchLease, w.Holder, ttl)
	if err != nil || !ok {
		st.Skipped = err == nil
		return err
	}
	mark, floor, err := w.Store.PortalWatermark(ctx)
	if err != nil {
		return err
	}
	st.Watermark = mark
	if mark.IsZero() {
		// A fresh start: the whole catalogue is not news.
		st.First = true
		// One question, so that the watermark does not pass the portal's
		// own clock (markAt).
		if _, err := w.Client.StatusShow(ctx); err != nil {
			return fmt.Errorf("portal watch: first run: %w", err)
		}
		return w.Store.SetPortalWatermark(ctx, w.markAt(st.Start))
	}
	insts, err := w.Store.Institutions(ctx)
	if err != nil {
		return err
	}
	byOrg := map[string][]datosbot.Institution{}
	for _, in := range insts {
		if in.Active && in.CKANOrg != "" {
			org := strings.ToLower(in.CKANOrg)
			byOrg[org] = append(byOrg[org], in)
		}
	}
	if len(byOrg) > 0 {
		// The hour of overlap never reaches before the first run: what was
		// published before the bot watched is not news.
		since := mark.Add(-w.overlap())
		if since.Before(floor) {
			since = floor
		}
		if err := w.scan(ctx, st, since, byOrg, ttl); err != nil {
			return err
		}
	}
	return w.Store.SetPortalWatermark(ctx, w.markAt(st.Start))
}

// markAt is the watermark a run that started at start leaves: start, but
// never later than the portal's own clock (the Date of its last answer)
// or, with none, the real time. The bot's clock may be set ahead
// (DATOSBOT_NOW in a drill); a watermark ahead of the portal would make
// the watch miss everything published until the portal's clock catches
// up. Earlier is safe: the notices are taken once by key.
func (w *Watch) markAt(start time.Time) time.Time {
	limit := w.Client.PortalTime()
	if limit.IsZero() {
		limit = time.Now()
	}
	if start.After(limit) {
		return limit
	}
	return start
}

// scan asks which organizations changed since, then pages what changed:
// each of our organizations that changed, or, when that takes more
// requests, every change at once (a mass edit touches most
// organizations, and one search of all changes pages them in fewer
// requests than one search per organization).
func (w *Watch) scan(ctx context.Context, st *RunStats, since time.Time, byOrg map[string][]datosbot.Institution, ttl time.Duration) error {
	facet, err := w.Client.PackageSearch(ctx, Search{Since: since, FacetOrganizations: true})
	if err != nil {
		return fmt.Errorf("portal watch: organization facet: %w", err)
	}
	size := w.pageSize()
	var changed []string
	perOrg := 0
	for _, item := range facet.Facet("organization") {
		if _, ours := byOrg[strings.ToLower(item.Name)]; ours && item.Count > 0 {
			changed = append(changed, item.Name)
			perOrg += item.Count/size + 1 // the last page is short (maybe empty)
		}
	}
	sort.Strings(changed)
	st.Orgs = len(changed)
	batches := changed
	if len(changed) > 0 && facet.Count/size+1 < perOrg {
		batches = []string{""} // one search of every change
	}
	for _, org := range batches {
		pkgs, err := w.page(ctx, org, since)
		if err != nil {
			return err
		}
		for _, p := range pkgs {
			insts, ours := byOrg[strings.ToLower(p.Org())]
			if !ours {
				continue
			}
			st.Datasets++
			for _, in := range insts {
				n, err := w.announce(ctx, in, p, since)
				st.Notices += n
				if err != nil {
					return err
				}
			}
		}
		// Renew the lease between searches: a long run keeps it.
		if _, err := w.Store.AcquireLease(ctx, watchLease, w.Holder, ttl); err != nil {
			return err
		}
	}
	return nil
}

// page reads every dataset of org ("" for all) modified since, sorted by id and
// deduplicated by id: a dataset published while paging shifts the later
// pages (it is then read twice, or next run), and sorting by
// metadata_modified could loop forever on a page that shares a timestamp.
func (w *Watch) page(ctx context.Context, org string, since time.Time) ([]Package, error) {
	size := w.pageSize()
	seen := map[string]bool{}
	var out []Package
	var prev []string
	for start := 0; ; start += size {
		r, err := w.Client.PackageSearch(ctx, Search{Organization: org, Since: since, Sort: "id asc", Rows: size, Start: start})
		if err != nil {
			return nil, fmt.Errorf("portal watch: organization %s from %d: %w", org, start, err)
		}
		ids := make([]string, len(r.Results))
		for i, p := range r.Results {
			ids[i] = p.ID
			if !seen[p.ID] {
				seen[p.ID] = true
				out = append(out, p)
			}
		}
		if len(ids) > 0 && strings.Join(ids, ",") == strings.Join(prev, ",") {
			return nil, fmt.Errorf("portal watch: organization %s: two identical pages; the portal's paging does not seem to work", org)
		}
		if len(r.Results) < size {
			return out, nil
		}
		prev = ids
	}
}

// notices returns what a dataset modified since brings to an institution:
// one notice if the dataset is new, else one per resource added or whose
// file changed; nothing for an edit of the metadata only.
func (w *Watch) notices(in datosbot.Institution, p Package, since time.Time) []datosbot.PortalNotice {
	base := datosbot.PortalNotice{Institution: in.Key, DatasetID: p.ID, Dataset: p.Name, Title: p.Title,
		Organization: p.Org(), URL: w.datasetURL(p.Name), HighValue: w.HighValue.Match(p), SeenAt: w.now()}
	if !p.Created.Before(since) {
		n := base
		n.Kind, n.ChangedAt = "conjunto", p.Created.Time
		n.Key = "portal:" + in.Key + ":" + p.ID + ":conjunto"
		return []datosbot.PortalNotice{n}
	}
	var out []datosbot.PortalNotice
	for _, r := range p.Resources {
		if r.State != "" && r.State != "active" {
			continue
		}
		changed := r.Changed()
		if changed.Before(since) {
			continue
		}
		n := base
		n.Kind, n.ChangedAt, n.Resource, n.ResourceName = "recurso", changed, r.ID, r.Name
		n.Key = "portal:" + in.Key + ":" + p.ID + ":recurso:" + r.ID + ":" + FormatTime(changed)
		out = append(out, n)
	}
	return out
}

// announce records and posts the notices of one dataset for one
// institution. Posting again is safe: the outbox takes each key once, so
// a run interrupted after some posts repeats none and loses none.
func (w *Watch) announce(ctx context.Context, in datosbot.Institution, p Package, since time.Time) (int, error) {
	recorded := 0
	for _, n := range w.notices(in, p, since) {
		created, err := w.Store.RecordPortalNotice(ctx, n)
		if err != nil {
			return recorded, err
		}
		if created {
			recorded++
		}
		if w.Poster == nil || len(in.Channels) == 0 {
			continue
		}
		reply := noticeReply(in, n)
		msgs := make([]datosbot.Message, 0, len(in.Channels))
		for _, ch := range in.Channels {
			msgs = append(msgs, datosbot.Message{Key: n.Key + ":" + string(ch), Channel: ch, Reply: reply})
		}
		if err := w.Poster.Post(ctx, msgs...); err != nil {
			return recorded, err
		}
	}
	return recorded, nil
}

// noticeReply is the message in the liaison channels: what was published,
// its direct URL and a ready-to-copy anunciar line.
func noticeReply(in datosbot.Institution, n datosbot.PortalNotice) datosbot.Reply {
	title := "Nuevos datos abiertos en datos.gob.mx"
	if n.HighValue {
		title = "Nuevos datos abiertos de alto valor en datos.gob.mx"
	}
	name := n.Title
	if name == "" {
		name = n.Dataset
	}
	what := fmt.Sprintf("%s publicó el conjunto de datos «%s»: %s", in.Name, name, n.URL)
	if n.Kind == "recurso" {
		res := n.ResourceName
		if res == "" {
			res = n.Resource
		}
		what = fmt.Sprintf("%s agregó o actualizó el recurso «%s» del conjunto «%s»: %s", in.Name, res, name, n.URL)
	}
	if n.HighValue {
		what += "\nEs de alto valor."
	}
	return datosbot.Reply{Title: title, Public: true,
		Text:   what + "\nEnlaces de Comunicación Digital: comuníquenlo en los medios de la institución citando esta URL directa, y registren la acción copiando esta línea con la dirección de su publicación:",
		Fields: []datosbot.Field{{Label: "Para registrar", Value: "/datos anunciar " + n.URL + " <url-publicación>"}}}
}

func (w *Watch) datasetURL(name string) string {
	base := strings.TrimRight(w.SiteURL, "/")
	if base == "" {
		base = DefaultSiteURL
	}
	return base + "/dataset/" + name
}

func (w *Watch) pageSize() int {
	if w.PageSize <= 0 {
		return 100
	}
	return min(w.PageSize, MaxRows)
}

func (w *Watch) interval() time.Duration {
	if w.Interval > 0 {
		return w.Interval
	}
	return 15 * time.Minute
}

func (w *Watch) overlap() time.Duration {
	if w.Overlap > 0 {
		return w.Overlap
	}
	return time.Hour
}
