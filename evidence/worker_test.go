package evidence

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/internal/fakeclock"
	"github.com/datosbot/datosbot/storage"
)

var _ Queue = (*storage.Store)(nil)

// queueBackends runs fn against the real store on miniredis and, when
// DATOSBOT_TEST_REDIS_URL is set, on that Redis too.
func queueBackends(t *testing.T, fn func(t *testing.T, s *storage.Store, clock *fakeclock.Clock)) {
	open := func(t *testing.T, url string) (*storage.Store, *fakeclock.Clock) {
		clock := fakeclock.New(time.Date(2026, 12, 3, 16, 0, 0, 0, time.UTC))
		b := make([]byte, 6)
		rand.Read(b)
		s, err := storage.Open(context.Background(), storage.Config{URL: url, Prefix: "test-evq-" + hex.EncodeToString(b) + ":", Now: clock.Now})
		if err != nil {
			t.Fatalf("Open(%s): %v", url, err)
		}
		t.Cleanup(func() { s.Close(context.Background()) })
		return s, clock
	}
	t.Run("miniredis", func(t *testing.T) {
		m := miniredis.RunT(t)
		s, c := open(t, "redis://"+m.Addr())
		fn(t, s, c)
	})
	t.Run("redis", func(t *testing.T) {
		url := os.Getenv("DATOSBOT_TEST_REDIS_URL")
		if url == "" {
			t.Skip("DATOSBOT_TEST_REDIS_URL is not set")
		}
		s, c := open(t, url)
		fn(t, s, c)
	})
}

// recordingPoster keeps what the worker posts, by outbox key.
type recordingPoster struct {
	mu   sync.Mutex
	msgs []datosbot.Message
}

func (p *recordingPoster) Post(_ context.Context, msgs ...datosbot.Message) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.msgs = append(p.msgs, msgs...)
	return nil
}

func (p *recordingPoster) keys() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]int{}
	for _, m := range p.msgs {
		out[m.Key]++
	}
	return out
}

type workerEnv struct {
	store  *storage.Store
	clock  *fakeclock.Clock
	web    *fakeWeb
	poster *recordingPoster
	worker *Worker
	seen   map[datosbot.EvidenceStatus]int
	n      int
}

func newWorkerEnv(t *testing.T, s *storage.Store, clock *fakeclock.Clock, web *fakeWeb, fcfg FetcherConfig) *workerEnv {
	t.Helper()
	ctx := context.Background()
	if err := s.CreateInstitution(ctx, datosbot.Institution{Key: "inegi", Name: "INEGI"}, "console:ana"); err != nil {
		t.Fatal(err)
	}
	if err := s.LinkChannel(ctx, "slack:C0INEGI", "inegi", "console:ana"); err != nil {
		t.Fatal(err)
	}
	e := &workerEnv{store: s, clock: clock, web: web, poster: &recordingPoster{}, seen: map[datosbot.EvidenceStatus]int{}}
	var mu sync.Mutex
	e.worker = NewWorker(WorkerConfig{Queue: s, Poster: e.poster, Now: clock.Now,
		Checker: NewChecker(CheckerConfig{Fetcher: NewFetcher(fcfg), OEmbedURL: web.oembed.URL + "/oembed"}),
		Observe: func(st datosbot.EvidenceStatus) { mu.Lock(); e.seen[st]++; mu.Unlock() }})
	return e
}

// register stores an action as anunciar does.
func (e *workerEnv) register(t *testing.T, evidenceURL string) datosbot.Action {
	t.Helper()
	e.n++
	a := datosbot.Action{ID: "A" + strings.Repeat("X", e.n), Institution: "inegi", DataURLs: []string{dataURL},
		EvidenceURL: evidenceURL, Medium: datosbot.MediumWeb, Type: datosbot.TypePublicacion,
		PublishedOn: datosbot.DateOf(e.clock.Now(), time.UTC), RegisteredBy: "slack:U1", RegisteredAt: e.clock.Now()}
	stored, created, err := e.store.AddAction(context.Background(), a)
	if err != nil || !created {
		t.Fatalf("AddAction: %v (created %v)", err, created)
	}
	return stored
}

func (e *workerEnv) evidence(t *testing.T, id string) *datosbot.Evidence {
	t.Helper()
	a, err := e.store.Action(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return a.Evidence
}

func wantEvidence(t *testing.T, ev *datosbot.Evidence, status datosbot.EvidenceStatus, detail string) {
	t.Helper()
	if ev == nil {
		t.Fatalf("no evidence recorded, want %s", status)
	}
	if ev.Status != status || !strings.Contains(ev.Detail, detail) {
		t.Fatalf("evidence %s %q, want %s with %q", ev.Status, ev.Detail, status, detail)
	}
}

func TestWorkerOutcomes(t *testing.T) {
	queueBackends(t, func(t *testing.T, s *storage.Store, clock *fakeclock.Clock) {
		ctx := context.Background()
		var appeared atomic.Bool
		web := newFakeWeb(t, map[string]http.HandlerFunc{
			"/con-enlace": page(`<p>` + strings.Repeat("Nota de prensa. ", 20) + `<a href="http://DATOS.gob.mx/dataset/accidentes_transito/?utm_source=boletin&amp;utm_medium=web">datos</a></p>`),
			"/portada":    page(`<p>` + strings.Repeat("Nota de prensa. ", 20) + `<a href="https://www.datos.gob.mx/">Portal de datos abiertos</a></p>`),
			"/login":      page(`<form method="post"><input name="u"><input type="password" name="p"></form>`),
			"/despues": func(w http.ResponseWriter, r *http.Request) {
				if !appeared.Load() {
					http.NotFound(w, r)
					return
				}
				page(`<p>`+strings.Repeat("Nota. ", 30)+` https://www.datos.gob.mx/dataset/accidentes_transito</p>`)(w, r)
			},
		})
		web.posts["https://twitter.com/INEGI_INFORMA/status/1866123456789012345"] = tweet(`Datos de accidentes <a href="https://t.co/Ab12Cd">https://t.co/Ab12Cd</a>`)
		e := newWorkerEnv(t, s, clock, web, web.fetcherConfig())

		linked := e.register(t, web.pages.URL+"/con-enlace")
		home := e.register(t, web.pages.URL+"/portada")
		login := e.register(t, web.pages.URL+"/login")
		later := e.register(t, web.pages.URL+"/despues")
		post := e.register(t, "https://x.com/INEGI_INFORMA/status/1866123456789012345")
		for _, a := range []datosbot.Action{linked, home, login, later, post} {
			if a.Evidence != nil {
				t.Fatalf("action %s has evidence before any check: %+v", a.ID, a.Evidence)
			}
		}

		e.worker.Tick(ctx)
		wantEvidence(t, e.evidence(t, linked.ID), datosbot.EvidenceVerified, "accidentes_transito")
		wantEvidence(t, e.evidence(t, home.ID), datosbot.EvidenceNoMention, "no cita")
		wantEvidence(t, e.evidence(t, login.ID), datosbot.EvidenceUnverifiable, "iniciar sesión")
		wantEvidence(t, e.evidence(t, later.ID), datosbot.EvidenceUnreachable, "HTTP 404")
		wantEvidence(t, e.evidence(t, post.ID), datosbot.EvidenceVerified, "t.co/Ab12Cd")
		if ev := e.evidence(t, linked.ID); !ev.CheckedAt.Equal(clock.Now()) {
			t.Errorf("checked_at %v, want the clock's %v", ev.CheckedAt, clock.Now())
		}

		keys := e.poster.keys()
		if len(keys) != 1 || keys["evidencia:"+home.ID+":slack:C0INEGI"] != 1 {
			t.Fatalf("posted %v, want one message for %s in the institution's channel", keys, home.ID)
		}
		msg := e.poster.msgs[0]
		if txt := msg.Reply.PlainText(); !strings.Contains(txt, "edite la publicación") || !strings.Contains(txt, "/datos retirar "+home.ID) || !strings.Contains(txt, dataURL) {
			t.Errorf("the notice does not say what to fix:\n%s", txt)
		}

		// The page appears; the next check after the backoff finds it.
		appeared.Store(true)
		clock.Advance(time.Minute)
		e.worker.Tick(ctx)
		wantEvidence(t, e.evidence(t, later.ID), datosbot.EvidenceVerified, "cita la URL")

		// sin_mencion is checked again (the liaison may edit the post),
		// but its channel is told only once.
		clock.Advance(time.Hour)
		e.worker.Tick(ctx)
		wantEvidence(t, e.evidence(t, home.ID), datosbot.EvidenceNoMention, "no cita")
		if keys := e.poster.keys(); len(keys) != 1 || len(e.poster.msgs) != 1 {
			t.Errorf("after the re-check: posted %v (%d messages), want still one", keys, len(e.poster.msgs))
		}
		if e.seen[datosbot.EvidenceVerified] != 3 || e.seen[datosbot.EvidenceNoMention] != 2 || e.seen[datosbot.EvidenceUnreachable] != 1 || e.seen[datosbot.EvidenceUnverifiable] != 1 {
			t.Errorf("observed %v", e.seen)
		}

		// Final outcomes are not checked again.
		hits := web.tcoHits.Load()
		clock.Advance(48 * time.Hour)
		e.worker.Tick(ctx)
		e.worker.Tick(ctx)
		if got := web.tcoHits.Load(); got != hits {
			t.Errorf("a verified post was checked again (%d t.co requests, want %d)", got, hits)
		}
		due, running, err := s.EvidenceQueued(ctx)
		if err != nil || due != 0 || running != 0 {
			t.Errorf("queue after 48 h: %d due, %d running, %v; want empty", due, running, err)
		}
	})
}

func TestWorkerRetriesUnreachableFor24Hours(t *testing.T) {
	queueBackends(t, func(t *testing.T, s *storage.Store, clock *fakeclock.Clock) {
		ctx := context.Background()
		web := newFakeWeb(t, map[string]http.HandlerFunc{
			"/caida": func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) },
		})
		var hits atomic.Int64
		web.pages.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			http.NotFound(w, r)
		})
		e := newWorkerEnv(t, s, clock, web, web.fetcherConfig())
		a := e.register(t, web.pages.URL+"/caida")
		start := clock.Now()
		for clock.Now().Before(start.Add(30 * time.Hour)) {
			e.worker.Tick(ctx)
			clock.Advance(5 * time.Minute)
		}
		ev := e.evidence(t, a.ID)
		wantEvidence(t, ev, datosbot.EvidenceUnreachable, "HTTP 404")
		if strings.Contains(ev.Detail, "de nuevo") {
			t.Errorf("the last detail still promises a re-check: %q", ev.Detail)
		}
		// Ticking every 5 minutes, the checks run at 0, 5m (due at 1m), 10m,
		// 25m, 55m, 1h55, 3h55, 7h55, 15h55, 23h55 and 24h (the backoff capped
		// at the end of the window), then never again.
		if n := hits.Load(); n != 11 {
			t.Errorf("the page was asked %d times in 30 h, want 11", n)
		}
		if last := ev.CheckedAt.Sub(start); last != 24*time.Hour {
			t.Errorf("last check %v after the first, want exactly 24h", last)
		}
	})
}

func TestWorkerNeverDialsInternalAddresses(t *testing.T) {
	queueBackends(t, func(t *testing.T, s *storage.Store, clock *fakeclock.Clock) {
		ctx := context.Background()
		inner := newCountingServer(t, page(`<a href="`+dataURL+`">datos</a>`))
		p := port(t, inner.Server)
		// The stand-in for a public page, the only address allowed, sends
		// the fetcher to the internal page.
		public := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, inner.URL+"/nota", http.StatusMovedPermanently)
		})}
		ln, err := net.Listen("tcp", "127.0.0.2:0")
		if err != nil {
			t.Fatal(err)
		}
		go public.Serve(ln)
		t.Cleanup(func() { public.Close() })
		web := newFakeWeb(t, nil)
		e := newWorkerEnv(t, s, clock, web, FetcherConfig{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}})
		var ids []string
		for _, u := range []string{"http://127.0.0.1:" + p + "/nota", "http://10.0.0.1/nota", "http://169.254.169.254/latest/meta-data/",
			"http://[::1]:" + p + "/nota", "http://localhost:" + p + "/nota", "http://" + ln.Addr().String() + "/boletin"} {
			ids = append(ids, e.register(t, u).ID)
		}
		e.worker.Tick(ctx)
		for _, id := range ids {
			wantEvidence(t, e.evidence(t, id), datosbot.EvidenceUnreachable, "no de Internet. Si la URL es correcta")
		}
		if n := inner.hits.Load(); n != 0 {
			t.Errorf("the internal page was requested %d times, want 0", n)
		}
	})
}

func TestWorkerSkipsWithdrawnActions(t *testing.T) {
	queueBackends(t, func(t *testing.T, s *storage.Store, clock *fakeclock.Clock) {
		ctx := context.Background()
		pageSrv := newCountingServer(t, page(`<a href="`+dataURL+`">datos</a>`))
		web := newFakeWeb(t, nil)
		e := newWorkerEnv(t, s, clock, web, web.fetcherConfig())
		a := e.register(t, pageSrv.URL+"/nota")
		if _, err := s.WithdrawAction(ctx, a.ID, "slack:U1", "error", clock.Now()); err != nil {
			t.Fatal(err)
		}
		e.worker.Tick(ctx)
		if n := pageSrv.hits.Load(); n != 0 {
			t.Errorf("the publication of a withdrawn action was fetched %d times", n)
		}
		if ev := e.evidence(t, a.ID); ev != nil {
			t.Errorf("withdrawn action got evidence %+v", ev)
		}
		if due, running, _ := s.EvidenceQueued(ctx); due+running != 0 {
			t.Errorf("the withdrawn action's check is still queued")
		}
	})
}

func TestWorkerFetchesAHostAtMostOncePerSecond(t *testing.T) {
	queueBackends(t, func(t *testing.T, s *storage.Store, clock *fakeclock.Clock) {
		ctx := context.Background()
		pageSrv := newCountingServer(t, page(`<p>`+strings.Repeat("Nota. ", 30)+`<a href="`+dataURL+`">datos</a></p>`))
		web := newFakeWeb(t, nil)
		cfg := web.fetcherConfig()
		cfg.Pace = HostPacer(s, clock.Now, time.Second, 0) // never wait: put the check back instead
		e := newWorkerEnv(t, s, clock, web, cfg)
		var ids []string
		for i := range 4 {
			ids = append(ids, e.register(t, pageSrv.URL+"/nota-"+string(rune('a'+i))).ID)
		}
		for step := int64(1); step <= 4; step++ {
			e.worker.Tick(ctx)
			e.worker.Tick(ctx) // nothing more is due within the same second
			if n := pageSrv.hits.Load(); n != step {
				t.Fatalf("after %d s of the clock: %d requests to the host, want %d", step-1, n, step)
			}
			clock.Advance(time.Second)
		}
		for _, id := range ids {
			wantEvidence(t, e.evidence(t, id), datosbot.EvidenceVerified, "cita")
		}
	})
}

func TestQueueClaimIsExclusiveAndLeasesExpire(t *testing.T) {
	queueBackends(t, func(t *testing.T, s *storage.Store, clock *fakeclock.Clock) {
		ctx := context.Background()
		web := newFakeWeb(t, nil)
		e := newWorkerEnv(t, s, clock, web, web.fetcherConfig())
		a := e.register(t, "https://www.gob.mx/inegi/prensa/nota")
		id, token, attempt, since, err := s.EvidenceClaim(ctx, clock.Now(), time.Minute)
		if err != nil || id != a.ID || attempt != 0 || !since.Equal(a.RegisteredAt) {
			t.Fatalf("claim = %q %d %v %v, want %s, attempt 0, since registration", id, attempt, since, err, a.ID)
		}
		if id2, _, _, _, _ := s.EvidenceClaim(ctx, clock.Now(), time.Minute); id2 != "" {
			t.Fatalf("a second replica claimed %s while it was leased", id2)
		}
		// This replica dies; after the lease another takes the check.
		clock.Advance(2 * time.Minute)
		id3, token3, _, _, _ := s.EvidenceClaim(ctx, clock.Now(), time.Minute)
		if id3 != a.ID {
			t.Fatalf("after the lease: claimed %q, want %s", id3, a.ID)
		}
		// The dead replica's late answer changes nothing.
		ok, err := s.EvidenceFinish(ctx, id, token, &datosbot.Evidence{Status: datosbot.EvidenceVerified}, time.Time{})
		if ok || err != nil {
			t.Fatalf("finish with a lost claim = %v, %v; want false", ok, err)
		}
		ok, err = s.EvidenceFinish(ctx, id3, token3, &datosbot.Evidence{Status: datosbot.EvidenceNoMention, CheckedAt: clock.Now()}, time.Time{})
		if !ok || err != nil {
			t.Fatalf("finish = %v, %v", ok, err)
		}
		if ev := e.evidence(t, a.ID); ev == nil || ev.Status != datosbot.EvidenceNoMention {
			t.Fatalf("evidence %+v, want sin_mencion", ev)
		}

		// Withdrawn while its check runs: the outcome is not recorded and
		// the check is not queued again.
		b := e.register(t, "https://www.gob.mx/inegi/prensa/otra")
		id, token, _, _, _ = s.EvidenceClaim(ctx, clock.Now(), time.Minute)
		if id != b.ID {
			t.Fatalf("claimed %q, want %s", id, b.ID)
		}
		if _, err := s.WithdrawAction(ctx, b.ID, "slack:U1", "error", clock.Now()); err != nil {
			t.Fatal(err)
		}
		ok, err = s.EvidenceFinish(ctx, id, token, &datosbot.Evidence{Status: datosbot.EvidenceUnreachable}, clock.Now().Add(time.Minute))
		if !ok || err != nil {
			t.Fatalf("finish = %v, %v", ok, err)
		}
		if ev := e.evidence(t, b.ID); ev != nil {
			t.Errorf("a withdrawn action got evidence %+v", ev)
		}
		if due, running, _ := s.EvidenceQueued(ctx); due+running != 0 {
			t.Errorf("queue holds %d due and %d running, want nothing", due, running)
		}
	})
}

func TestBackfillQueuesUncheckedActions(t *testing.T) {
	queueBackends(t, func(t *testing.T, s *storage.Store, clock *fakeclock.Clock) {
		ctx := context.Background()
		web := newFakeWeb(t, nil)
		e := newWorkerEnv(t, s, clock, web, web.fetcherConfig())
		checked := e.register(t, "https://www.gob.mx/inegi/prensa/revisada")
		old := e.register(t, "https://www.gob.mx/inegi/prensa/anterior")
		withdrawn := e.register(t, "https://www.gob.mx/inegi/prensa/retirada")
		queued := e.register(t, "https://www.gob.mx/inegi/prensa/en-cola")
		// checked gets its outcome; old and withdrawn lose their queued
		// check (as if registered before the checks existed).
		for range 4 {
			id, token, _, _, _ := s.EvidenceClaim(ctx, clock.Now(), time.Minute)
			switch id {
			case checked.ID:
				s.EvidenceFinish(ctx, id, token, &datosbot.Evidence{Status: datosbot.EvidenceVerified, CheckedAt: clock.Now()}, time.Time{})
			case old.ID, withdrawn.ID:
				s.EvidenceFinish(ctx, id, token, nil, time.Time{})
			default:
				s.EvidenceRelease(ctx, id, token, clock.Now().Add(time.Hour))
			}
		}
		if _, err := s.WithdrawAction(ctx, withdrawn.ID, "slack:U1", "error", clock.Now()); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Minute)
		for range 2 { // a second replica starting queues nothing more
			if _, err := s.EvidenceBackfill(ctx, clock.Now()); err != nil {
				t.Fatal(err)
			}
		}
		var got []string
		for {
			id, _, attempt, since, err := s.EvidenceClaim(ctx, clock.Now().Add(2*time.Hour), time.Minute)
			if err != nil || id == "" {
				break
			}
			if id == old.ID && (attempt != 0 || !since.Equal(clock.Now())) {
				t.Errorf("backfilled check: attempt %d since %v, want a first check from now", attempt, since)
			}
			got = append(got, id)
		}
		if fmt.Sprint(got) != fmt.Sprint([]string{old.ID, queued.ID}) {
			t.Errorf("queue after backfill = %v, want %s (backfilled, due now) and %s (already queued)", got, old.ID, queued.ID)
		}
	})
}

func TestQueuePaceBooksTurnsPerHost(t *testing.T) {
	queueBackends(t, func(t *testing.T, s *storage.Store, clock *fakeclock.Clock) {
		ctx := context.Background()
		now := clock.Now().Add(123 * time.Microsecond) // turns are exact to the microsecond
		for i, want := range []struct {
			host    string
			maxWait time.Duration
			wait    time.Duration
			ok      bool
		}{
			{"www.gob.mx", 3 * time.Second, 0, true},
			{"www.gob.mx", 3 * time.Second, time.Second, true},
			{"t.co", 3 * time.Second, 0, true}, // another host is not held up
			{"www.gob.mx", 1500 * time.Millisecond, 2 * time.Second, false},
			{"www.gob.mx", 3 * time.Second, 2 * time.Second, true}, // the refused turn was not booked
		} {
			wait, ok, err := s.EvidencePace(ctx, want.host, now, time.Second, want.maxWait)
			if err != nil || wait != want.wait || ok != want.ok {
				t.Errorf("turn %d on %s: wait %v ok %v (%v), want %v %v", i+1, want.host, wait, ok, err, want.wait, want.ok)
			}
		}
		// Long after, the host is free again.
		if wait, ok, _ := s.EvidencePace(ctx, "www.gob.mx", now.Add(time.Hour), time.Second, 0); wait != 0 || !ok {
			t.Errorf("an hour later: wait %v ok %v, want a turn at once", wait, ok)
		}
	})
}

// claimCountingQueue counts the claims the worker starts: it claims only
// with a free slot, so no claim beyond its Concurrency starts before a
// running check ends.
type claimCountingQueue struct {
	Queue
	claims atomic.Int64
}

func (q *claimCountingQueue) EvidenceClaim(ctx context.Context, now time.Time, lease time.Duration) (string, string, int, time.Time, error) {
	q.claims.Add(1)
	return q.Queue.EvidenceClaim(ctx, now, lease)
}

// TestWorkerRunsAtMostConcurrencyChecksAtOnce holds every page open until
// the test lets one go: the worker must have exactly its Concurrency
// fetches in flight while more checks wait in the queue, never more, and
// still finish them all.
func TestWorkerRunsAtMostConcurrencyChecksAtOnce(t *testing.T) {
	queueBackends(t, func(t *testing.T, s *storage.Store, clock *fakeclock.Clock) {
		ctx := context.Background()
		const limit = DefaultConcurrency
		const checks = 3 * limit
		var (
			mu       sync.Mutex
			inFlight int
			most     int
		)
		arrived := make(chan struct{}, checks)
		release := make(chan struct{}, checks)
		defer close(release) // a failed test lets every page go
		body := `<p>` + strings.Repeat("Nota. ", 30) + `<a href="` + dataURL + `">datos</a></p>`
		pageSrv := newCountingServer(t, func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			inFlight++
			most = max(most, inFlight)
			mu.Unlock()
			arrived <- struct{}{}
			<-release
			mu.Lock()
			inFlight--
			mu.Unlock()
			page(body)(w, r)
		})
		web := newFakeWeb(t, nil)
		e := newWorkerEnv(t, s, clock, web, web.fetcherConfig())
		q := &claimCountingQueue{Queue: s}
		e.worker = NewWorker(WorkerConfig{Queue: q, Poster: e.poster, Now: clock.Now,
			Checker: NewChecker(CheckerConfig{Fetcher: NewFetcher(web.fetcherConfig()), OEmbedURL: web.oembed.URL + "/oembed"})})
		var ids []string
		for i := range checks {
			ids = append(ids, e.register(t, fmt.Sprintf("%s/nota-%d", pageSrv.URL, i)).ID)
		}
		ticked := make(chan struct{})
		go func() { e.worker.Tick(ctx); close(ticked) }()
		// With every slot busy, a page arrives only after the test let one
		// go, and the worker has claimed no more than it has slots for.
		for range limit {
			<-arrived
		}
		for released := 0; released <= checks-limit; released++ {
			if n := q.claims.Load(); n > int64(limit+released) {
				t.Fatalf("%d claims with %d of %d checks ended, want at most %d", n, released, checks, limit+released)
			}
			if released == checks-limit {
				break
			}
			release <- struct{}{}
			<-arrived
		}
		for range limit {
			release <- struct{}{}
		}
		<-ticked
		mu.Lock()
		defer mu.Unlock()
		if most > limit {
			t.Errorf("%d fetches in flight at once, want at most %d", most, limit)
		}
		if most < limit {
			t.Errorf("at most %d fetches in flight at once, want the %d slots used", most, limit)
		}
		if n := pageSrv.hits.Load(); n != checks {
			t.Errorf("%d pages fetched, want %d", n, checks)
		}
		for _, id := range ids {
			wantEvidence(t, e.evidence(t, id), datosbot.EvidenceVerified, "cita")
		}
	})
}
