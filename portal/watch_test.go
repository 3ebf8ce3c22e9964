package portal_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/portal"
	"github.com/datosbot/datosbot/portal/ckantest"
	"github.com/datosbot/datosbot/storage/storagetest"
)

var t0 = time.Date(2026, 11, 20, 16, 0, 0, 0, time.UTC)

const (
	chanA1 = datosbot.ChannelID("console:inegi-1")
	chanA2 = datosbot.ChannelID("console:inegi-2")
	chanB  = datosbot.ChannelID("console:sep")
)

// clock is a settable clock shared by the fake portal, the store and the
// watch.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// watchEnv is a portal with INEGI (institution A, two channels) and SEP
// (institution B, one channel), each with an old catalogue.
type watchEnv struct {
	t     *testing.T
	clock *clock
	ckan  *ckantest.Server
	store *storagetest.Store
	posts *recorder
	old   map[string]ckantest.Dataset // by name
}

func newWatchEnv(t *testing.T) *watchEnv {
	t.Helper()
	e := &watchEnv{t: t, clock: &clock{t: t0.AddDate(0, -1, 0)}, posts: &recorder{}, old: map[string]ckantest.Dataset{}}
	e.ckan = ckantest.New(e.clock.Now)
	t.Cleanup(e.ckan.Close)
	e.store = storagetest.Open(t, e.clock.Now)
	ctx := context.Background()
	for _, in := range []datosbot.Institution{
		{Key: "inegi", Name: "INEGI", CKANOrg: "inegi", Active: true},
		{Key: "sep", Name: "SEP", CKANOrg: "sep", Active: true},
		{Key: "imss", Name: "IMSS", Active: true}, // no ckan: organization
	} {
		if _, err := e.store.PutInstitution(ctx, in, admin); err != nil {
			t.Fatal(err)
		}
	}
	for ch, key := range map[datosbot.ChannelID]string{chanA1: "inegi", chanA2: "inegi", chanB: "sep"} {
		if err := e.store.LinkChannel(ctx, ch, key, admin); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []ckantest.Dataset{
		{Name: "censo_2020", Title: "Censo 2020", Org: "inegi", Resources: []ckantest.Resource{{Name: "Tabulados"}}},
		{Name: "enoe", Title: "ENOE", Org: "inegi", Tags: []string{"alto-valor"}},
		{Name: "escuelas", Title: "Escuelas", Org: "sep", Resources: []ckantest.Resource{{Name: "Padrón"}}},
		{Name: "otra", Title: "De otra", Org: "shcp"},
	} {
		e.old[d.Name] = e.ckan.Add(d)
	}
	e.clock.Set(t0)
	return e
}

func (e *watchEnv) watch(holder string) *portal.Watch {
	e.t.Helper()
	client, err := portal.New(portal.Config{URL: e.ckan.URL, RPS: -1, Retries: -1})
	if err != nil {
		e.t.Fatal(err)
	}
	hv, _ := portal.ParseHighValue("tag:alto-valor")
	return &portal.Watch{Client: client, Store: e.store, Poster: e.posts, HighValue: hv, Holder: holder,
		Now: e.clock.Now, PageSize: 2}
}

// run runs the watch at now+d and fails the test on an error.
func (e *watchEnv) run(w *portal.Watch, at time.Duration) portal.RunStats {
	e.t.Helper()
	e.clock.Set(t0.Add(at))
	st := w.Tick(context.Background())
	if st.Err != nil {
		e.t.Fatalf("run at %v: %v", at, st.Err)
	}
	return st
}

// postsIn returns the notices posted in ch.
func (e *watchEnv) postsIn(ch datosbot.ChannelID) []datosbot.Message {
	var out []datosbot.Message
	for _, p := range e.posts.Posts() {
		if p.Channel == ch {
			out = append(out, p)
		}
	}
	return out
}

func (e *watchEnv) publicarAudits() int {
	e.t.Helper()
	trail, err := e.store.Audit(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	n := 0
	for _, a := range trail {
		if a.Event == "publicar" && a.Actor == "sistema:portal" {
			n++
		}
	}
	return n
}

func TestWatchFirstRunPostsNothing(t *testing.T) {
	e := newWatchEnv(t)
	e.clock.Set(t0.Add(-10 * time.Minute))
	e.ckan.Add(ckantest.Dataset{Name: "recien", Org: "inegi"}) // new, but before the bot watched
	w := e.watch("r1")
	st := e.run(w, 0)
	if !st.First || len(e.posts.Posts()) != 0 {
		t.Fatalf("first run: got %+v and %d posts, want the watermark set and nothing posted", st, len(e.posts.Posts()))
	}
	if mark, _, _ := e.store.PortalWatermark(context.Background()); !mark.Equal(t0) {
		t.Errorf("watermark: got %v, want %v", mark, t0)
	}
	st = e.run(w, 15*time.Minute)
	if len(e.posts.Posts()) != 0 || st.Requests == 0 {
		t.Errorf("second run: got %d posts (%d requests), want nothing from before the first run", len(e.posts.Posts()), st.Requests)
	}
}

// Two new datasets and one updated resource of A's organization are three
// notices in each of A's channels and none in B's; metadata-only edits
// (of A's and of B's datasets) post nothing.
func TestWatchNoticesGoToTheOrganizationsInstitution(t *testing.T) {
	e := newWatchEnv(t)
	w := e.watch("r1")
	e.run(w, 0)

	e.clock.Set(t0.Add(5 * time.Minute))
	e.ckan.Add(ckantest.Dataset{Name: "ingresos_hogares", Title: "Ingresos de los hogares", Org: "inegi", Tags: []string{"alto-valor"}})
	e.ckan.Add(ckantest.Dataset{Name: "mortalidad", Title: "Mortalidad", Org: "inegi"})
	e.ckan.Edit(e.old["censo_2020"].ID, func(d *ckantest.Dataset) { d.Resources[0].LastModified = t0.Add(5 * time.Minute) })
	e.ckan.Edit(e.old["enoe"].ID, func(d *ckantest.Dataset) { d.Title = "ENOE (nuevo título)" })
	e.ckan.Edit(e.old["escuelas"].ID, func(d *ckantest.Dataset) { d.Notes = "descripción corregida" })
	e.ckan.Add(ckantest.Dataset{Name: "deuda", Org: "shcp"}) // no institution of ours

	st := e.run(w, 15*time.Minute)
	if st.Notices != 3 || st.Orgs != 2 {
		t.Errorf("run: got %+v, want 3 notices after paging inegi and sep only", st)
	}
	for _, ch := range []datosbot.ChannelID{chanA1, chanA2} {
		posts := e.postsIn(ch)
		if len(posts) != 3 {
			t.Fatalf("%s: got %d notices, want 3: %+v", ch, len(posts), posts)
		}
		text := ""
		for _, p := range posts {
			text += p.Reply.PlainText() + "\n"
		}
		for _, want := range []string{
			"«Ingresos de los hogares»: https://www.datos.gob.mx/dataset/ingresos_hogares",
			"/datos anunciar https://www.datos.gob.mx/dataset/mortalidad <url-publicación>",
			"actualizó el recurso «Tabulados» del conjunto «Censo 2020»",
			"alto valor",
		} {
			if !strings.Contains(text, want) {
				t.Errorf("%s: got\n%s\nwant %q", ch, text, want)
			}
		}
		if strings.Contains(text, "ENOE") {
			t.Errorf("%s: got a notice for a metadata-only edit:\n%s", ch, text)
		}
	}
	if posts := e.postsIn(chanB); len(posts) != 0 {
		t.Errorf("B's channel: got %d notices, want none (a metadata-only edit): %+v", len(posts), posts)
	}
	if n := e.publicarAudits(); n != 3 {
		t.Errorf("audit: got %d publicar entries, want 3 (a notice counts as publicar)", n)
	}
	// The next run overlaps the last by an hour and repeats nothing.
	if st := e.run(w, 30*time.Minute); st.Notices != 0 || len(e.posts.Posts()) != 6 {
		t.Errorf("next run: got %d new notices and %d posts in all, want 0 and still 6", st.Notices, len(e.posts.Posts()))
	}
	seen, err := e.store.PortalNotices(context.Background(), "inegi", t0)
	if err != nil || len(seen) != 3 {
		t.Errorf("PortalNotices(inegi): got %d %v, want 3", len(seen), err)
	}
	if seen, _ := e.store.PortalNotices(context.Background(), "sep", time.Time{}); len(seen) != 0 {
		t.Errorf("PortalNotices(sep): got %+v, want none", seen)
	}
}

// A dataset published while the watch pages shifts the later pages: the
// dataset read twice is one notice, and the one published is told (next
// run) once.
func TestWatchDatasetAddedBetweenPagesIsSeenOnce(t *testing.T) {
	e := newWatchEnv(t)
	w := e.watch("r1")
	e.run(w, 0)
	e.clock.Set(t0.Add(5 * time.Minute))
	for i := range 4 {
		e.ckan.Add(ckantest.Dataset{ID: fmt.Sprintf("5%07d-0000-4000-8000-000000000000", i), Name: fmt.Sprintf("serie_%d", i), Org: "inegi"})
	}
	e.ckan.BetweenPages(func() {
		e.ckan.Add(ckantest.Dataset{ID: "00000000-0000-4000-8000-000000000000", Name: "entre_paginas", Org: "inegi"})
	})
	st := e.run(w, 15*time.Minute)
	if st.Datasets != 4 || st.Notices != 4 {
		t.Errorf("run with the race: got %d datasets and %d notices, want 4 and 4 (one read twice, deduplicated)", st.Datasets, st.Notices)
	}
	e.run(w, 30*time.Minute)
	count := map[string]int{}
	for _, p := range e.postsIn(chanA1) {
		count[p.Key]++
	}
	if len(count) != 5 {
		t.Errorf("got %d notices in %s, want 5 (the four and the one published between pages): %v", len(count), chanA1, count)
	}
	if n := e.publicarAudits(); n != 5 {
		t.Errorf("audit: got %d publicar entries, want 5", n)
	}
}

// stopAfter is an outbox that accepts n posts and then cancels the run,
// as a replica killed in the middle of one.
type stopAfter struct {
	*recorder
	n      int
	cancel context.CancelFunc
}

func (s *stopAfter) Post(ctx context.Context, msgs ...datosbot.Message) error {
	if err := s.recorder.Post(ctx, msgs...); err != nil {
		return err
	}
	if s.n--; s.n == 0 {
		s.cancel()
	}
	return nil
}

// A restart in the middle of a run loses and repeats nothing: the
// watermark stays, the next run posts what was missing, and the outbox
// keys and the notice records keep the rest once.
func TestWatchRestartMidRunLosesAndRepeatsNothing(t *testing.T) {
	e := newWatchEnv(t)
	w := e.watch("r1")
	e.run(w, 0)
	e.clock.Set(t0.Add(5 * time.Minute))
	e.ckan.Add(ckantest.Dataset{Name: "uno", Org: "inegi"})
	e.ckan.Add(ckantest.Dataset{Name: "dos", Org: "inegi"})
	e.ckan.Add(ckantest.Dataset{Name: "tres", Org: "sep"})

	ctx, cancel := context.WithCancel(context.Background())
	w.Poster = &stopAfter{recorder: e.posts, n: 1, cancel: cancel}
	e.clock.Set(t0.Add(15 * time.Minute))
	if st := w.Tick(ctx); st.Err == nil {
		t.Fatal("the interrupted run reported no error")
	}
	if mark, _, _ := e.store.PortalWatermark(context.Background()); !mark.Equal(t0) {
		t.Errorf("watermark after the interrupted run: got %v, want it unmoved at %v", mark, t0)
	}
	before := len(e.posts.Posts())
	if before == 0 || before >= 5 {
		t.Fatalf("the interrupted run posted %d, want some but not all of 5", before)
	}

	restarted := e.watch("r1") // the same replica, restarted
	st := e.run(restarted, 20*time.Minute)
	if st.Err != nil {
		t.Fatal(st.Err)
	}
	want := map[datosbot.ChannelID]int{chanA1: 2, chanA2: 2, chanB: 1}
	for ch, n := range want {
		if got := len(e.postsIn(ch)); got != n {
			t.Errorf("%s: got %d notices, want %d", ch, got, n)
		}
	}
	if n := e.publicarAudits(); n != 3 {
		t.Errorf("audit: got %d publicar entries, want 3 (none lost, none twice)", n)
	}
	if mark, _, _ := e.store.PortalWatermark(context.Background()); !mark.Equal(t0.Add(20 * time.Minute)) {
		t.Errorf("watermark: got %v, want the start of the completed run", mark)
	}
}

// One replica at a time: while r1 holds the lease, r2's runs do nothing.
func TestWatchOneReplicaAtATime(t *testing.T) {
	e := newWatchEnv(t)
	r1, r2 := e.watch("r1"), e.watch("r2")
	e.run(r1, 0)
	e.ckan.Add(ckantest.Dataset{Name: "nuevo", Org: "inegi"})
	if st := e.run(r2, 15*time.Minute); !st.Skipped || st.Requests != 0 {
		t.Errorf("r2: got %+v, want it skipped without asking the portal", st)
	}
	if st := e.run(r1, 15*time.Minute); st.Skipped || st.Notices != 1 {
		t.Errorf("r1: got %+v, want it to run and find the new dataset", st)
	}
}

// A failed search leaves the watermark where it was.
func TestWatchErrorKeepsTheWatermark(t *testing.T) {
	e := newWatchEnv(t)
	w := e.watch("r1")
	e.run(w, 0)
	e.ckan.Fail(500, 1)
	e.clock.Set(t0.Add(15 * time.Minute))
	if st := w.Tick(context.Background()); st.Err == nil {
		t.Fatal("got no error from a run whose search failed")
	}
	if mark, _, _ := e.store.PortalWatermark(context.Background()); !mark.Equal(t0) {
		t.Errorf("watermark: got %v, want %v", mark, t0)
	}
}

// When one search of every change takes fewer requests than one per
// organization, the watch pages all changes at once and still tells each
// institution only its own, and nobody of another organization's.
func TestWatchPagesEveryChangeAtOnceWhenCheaper(t *testing.T) {
	e := newWatchEnv(t)
	w := e.watch("r1")
	w.PageSize = 10
	e.run(w, 0)
	e.clock.Set(t0.Add(5 * time.Minute))
	e.ckan.Add(ckantest.Dataset{Name: "nuevo_inegi", Org: "inegi"})
	e.ckan.Add(ckantest.Dataset{Name: "nuevo_sep", Org: "sep"})
	e.ckan.Add(ckantest.Dataset{Name: "nuevo_shcp", Org: "shcp"})
	before := len(e.ckan.Log())
	st := e.run(w, 15*time.Minute)
	if st.Requests != 2 || st.Orgs != 2 || st.Notices != 2 {
		t.Errorf("got %+v, want 2 requests (the facet and one page of every change) for 2 organizations and 2 notices", st)
	}
	for _, q := range e.ckan.Log()[before:] {
		if strings.Contains(q, "organization%3A") {
			t.Errorf("got a search by organization %s, want one search of every change", q)
		}
	}
	for ch, want := range map[datosbot.ChannelID]string{chanA1: "nuevo_inegi", chanA2: "nuevo_inegi", chanB: "nuevo_sep"} {
		posts := e.postsIn(ch)
		if len(posts) != 1 || !strings.Contains(posts[0].Reply.PlainText(), want) {
			t.Errorf("%s: got %+v, want one notice of %s", ch, posts, want)
		}
	}
}

// A bot whose clock runs ahead of the portal (DATOSBOT_NOW set in a drill)
// never leaves a watermark past the portal's own time: what the portal
// publishes after the first run is still announced.
func TestWatchWatermarkFollowsThePortalsClock(t *testing.T) {
	e := newWatchEnv(t)
	w := e.watch("r1")
	ahead := t0.AddDate(0, 1, 0) // the bot's clock; the portal's stays at t0
	w.Now = func() time.Time { return ahead }
	ctx := context.Background()
	if st := w.Tick(ctx); st.Err != nil || !st.First {
		t.Fatalf("first run: got %+v, want the watermark set", st)
	}
	mark, floor, err := e.store.PortalWatermark(ctx)
	if err != nil || mark.After(t0.Add(time.Second)) || floor.After(t0.Add(time.Second)) {
		t.Fatalf("after the first run: watermark %v, floor %v (%v), want neither past the portal's clock %v", mark, floor, err, t0)
	}
	e.clock.Set(t0.Add(5 * time.Minute))
	e.ckan.Add(ckantest.Dataset{Name: "nuevo", Title: "Nuevo", Org: "inegi"})
	ahead = ahead.Add(15 * time.Minute)
	if st := w.Tick(ctx); st.Err != nil || st.Notices != 1 {
		t.Fatalf("second run: got %+v, want the new dataset announced", st)
	}
	mark, _, _ = e.store.PortalWatermark(ctx)
	if portalNow := e.clock.Now(); mark.After(portalNow.Add(time.Second)) {
		t.Errorf("watermark %v is past the portal's clock %v", mark, portalNow)
	}
	if got := len(e.postsIn(chanA1)); got != 1 {
		t.Errorf("got %d notices in %s, want 1", got, chanA1)
	}
}
