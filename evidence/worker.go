package evidence

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/datosbot/datosbot"
)

// Queue is the durable queue of checks. storage.Store implements it in
// Redis (see storage/evidence_queue.go for the semantics of each method).
type Queue interface {
	EvidenceClaim(ctx context.Context, now time.Time, lease time.Duration) (id, token string, attempt int, since time.Time, err error)
	EvidenceRelease(ctx context.Context, id, token string, at time.Time) (bool, error)
	EvidenceFinish(ctx context.Context, id, token string, ev *datosbot.Evidence, retryAt time.Time) (bool, error)
	EvidencePace(ctx context.Context, host string, now time.Time, every, maxWait time.Duration) (time.Duration, bool, error)
	Action(ctx context.Context, id string) (datosbot.Action, error)
	Institution(ctx context.Context, key string) (datosbot.Institution, error)
}

// Poster sends the bot's own messages through the outbox, which posts
// each key once.
type Poster interface {
	Post(ctx context.Context, msgs ...datosbot.Message) error
}

// Defaults of WorkerConfig.
const (
	DefaultConcurrency = 4
	DefaultInterval    = time.Second
	DefaultLease       = 3 * time.Minute
	DefaultRetryFor    = 24 * time.Hour
	DefaultHostEvery   = time.Second
	// checkBudget bounds one whole check (retry, redirects, short links),
	// well inside the lease.
	checkBudget = 2 * time.Minute
	// DefaultMaxPaceWait is the longest a request waits for its host's
	// turn; a longer wait puts the check back in the queue instead.
	DefaultMaxPaceWait = 3 * time.Second
)

// WorkerConfig configures a Worker. The zero value of each field means the
// documented default.
type WorkerConfig struct {
	Queue   Queue    // required
	Checker *Checker // required; its Fetcher paced by HostPacer
	// Poster receives the message to the institution's channels when a
	// publication does not mention the data URL. Nil sends none.
	Poster Poster
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Concurrency is how many checks run at once in this replica.
	// Default 4.
	Concurrency int
	// Interval is how often Run looks for due checks. Default 1 s.
	Interval time.Duration
	// Lease is how long a claimed check stays this replica's before
	// another may take it. Default 3 minutes.
	Lease time.Duration
	// RetryFor is how long an inaccesible or sin_mencion publication is
	// checked again, with backoff, from its first check. Default 24 h.
	RetryFor time.Duration
	// Observe, when set, is told each finished check's status (metrics).
	Observe func(status datosbot.EvidenceStatus)
	// Logger; default slog.Default().
	Logger *slog.Logger
}

// Worker runs the queued checks: after an action is stored its
// publication is fetched (never while the registration waits), checked,
// and the outcome stored on the action.
type Worker struct {
	cfg WorkerConfig
	sem chan struct{}
	wg  sync.WaitGroup
}

// NewWorker returns a Worker.
func NewWorker(cfg WorkerConfig) *Worker {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Lease <= 0 {
		cfg.Lease = DefaultLease
	}
	if cfg.RetryFor <= 0 {
		cfg.RetryFor = DefaultRetryFor
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Worker{cfg: cfg, sem: make(chan struct{}, cfg.Concurrency)}
}

// HostPacer returns the Pacer to give the Fetcher: one fetch per host
// every every (DefaultHostEvery) across replicas, booked in the queue; a
// request waits at most maxWait (DefaultMaxPaceWait) for its turn, else
// its check goes back to the queue until the host is free.
func HostPacer(q Queue, now func() time.Time, every, maxWait time.Duration) Pacer {
	if now == nil {
		now = time.Now
	}
	return queuePacer{q: q, now: now, every: every, maxWait: maxWait}
}

type queuePacer struct {
	q              Queue
	now            func() time.Time
	every, maxWait time.Duration
}

func (p queuePacer) Turn(ctx context.Context, host string) (time.Duration, bool, error) {
	return p.q.EvidencePace(ctx, host, p.now(), p.every, p.maxWait)
}

// Run checks due actions until ctx is done, at most Concurrency at once.
// Checks running when ctx ends go back to the queue, so that a restart
// finishes them.
func (w *Worker) Run(ctx context.Context) error {
	t := time.NewTicker(w.cfg.Interval)
	defer t.Stop()
	defer w.wg.Wait()
	for {
		w.claimFree(ctx, false)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Tick runs every check due now and waits for them: for tests and drills
// with a fake clock.
func (w *Worker) Tick(ctx context.Context) {
	w.claimFree(ctx, true)
	w.wg.Wait()
}

// claimFree claims due checks while a slot is free (or, with wait, while
// any is due, waiting for slots).
func (w *Worker) claimFree(ctx context.Context, wait bool) {
	for ctx.Err() == nil {
		if wait {
			select {
			case w.sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
		} else {
			select {
			case w.sem <- struct{}{}:
			default:
				return
			}
		}
		id, token, attempt, since, err := w.cfg.Queue.EvidenceClaim(ctx, w.cfg.Now(), w.cfg.Lease)
		if err != nil || id == "" {
			<-w.sem
			if err != nil && ctx.Err() == nil {
				w.cfg.Logger.Warn("evidence: cannot claim a check", "err", err)
			}
			return
		}
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			defer func() { <-w.sem }()
			w.run(ctx, id, token, attempt, since)
		}()
	}
}

// run performs one claimed check.
func (w *Worker) run(ctx context.Context, id, token string, attempt int, since time.Time) {
	log := w.cfg.Logger.With("action", id)
	// Whatever happens to ctx, the queue must learn how the check ended.
	store := context.WithoutCancel(ctx)
	a, err := w.cfg.Queue.Action(ctx, id)
	switch {
	case datosbot.ErrorCode(err) == datosbot.ENOTFOUND:
		w.cfg.Queue.EvidenceFinish(store, id, token, nil, time.Time{})
		return
	case err != nil && ctx.Err() != nil:
		w.cfg.Queue.EvidenceRelease(store, id, token, w.cfg.Now()) // shutting down
		return
	case err != nil:
		log.Warn("evidence: cannot read the action", "err", err)
		w.cfg.Queue.EvidenceRelease(store, id, token, w.cfg.Now().Add(time.Minute))
		return
	case a.Withdrawn:
		w.cfg.Queue.EvidenceFinish(store, id, token, nil, time.Time{}) // a withdrawn action is not checked
		return
	}
	cctx, cancel := context.WithTimeout(ctx, checkBudget)
	r := w.cfg.Checker.Check(cctx, a)
	cancel()
	if ctx.Err() != nil {
		// Shutting down: the check did not end, so it is not an attempt.
		w.cfg.Queue.EvidenceRelease(store, id, token, w.cfg.Now())
		return
	}
	now := w.cfg.Now()
	if r.Busy > 0 {
		w.cfg.Queue.EvidenceRelease(store, id, token, now.Add(r.Busy))
		return
	}
	retryAt := w.retryAt(r, attempt, since, now)
	ev := &datosbot.Evidence{Status: r.Status, CheckedAt: now, Detail: r.Detail}
	if !retryAt.IsZero() && r.Status == datosbot.EvidenceUnreachable {
		ev.Detail += " Se revisará de nuevo automáticamente durante 24 horas."
	}
	if r.Status == datosbot.EvidenceNoMention && (a.Evidence == nil || a.Evidence.Status != datosbot.EvidenceNoMention) {
		// Before recording the outcome: if this replica dies in between, the
		// check runs again and the outbox takes each key once.
		if err := w.notify(store, a, r); err != nil {
			log.Warn("evidence: cannot queue the notice", "err", err)
			w.cfg.Queue.EvidenceRelease(store, id, token, now.Add(time.Minute))
			return
		}
	}
	ok, err := w.cfg.Queue.EvidenceFinish(store, id, token, ev, retryAt)
	if err != nil {
		log.Warn("evidence: cannot record the outcome", "err", err)
		return // the lease expires and the check runs again
	}
	if !ok {
		log.Info("evidence: lost the claim of a check; another replica has it")
		return
	}
	log.Debug("evidence checked", "status", r.Status, "attempt", attempt+1)
	if w.cfg.Observe != nil {
		w.cfg.Observe(r.Status)
	}
}

// backoff is the wait before the next check of an inaccesible
// publication, by the number of checks so far.
var backoff = []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 4 * time.Hour, 8 * time.Hour}

// noMentionBackoff is the wait before checking again a publication that
// did not mention the data URL: the liaison may edit it.
var noMentionBackoff = []time.Duration{time.Hour, 3 * time.Hour, 8 * time.Hour, 12 * time.Hour}

// retryAt says when to check again, or zero when the outcome is final:
// inaccesible and sin_mencion are checked again until RetryFor after the
// first check, the last time at that instant.
func (w *Worker) retryAt(r Result, attempt int, since, now time.Time) time.Time {
	var steps []time.Duration
	switch r.Status {
	case datosbot.EvidenceUnreachable:
		steps = backoff
	case datosbot.EvidenceNoMention:
		steps = noMentionBackoff
	default:
		return time.Time{}
	}
	if r.Final {
		return time.Time{}
	}
	end := since.Add(w.cfg.RetryFor)
	if !now.Before(end) {
		return time.Time{}
	}
	next := now.Add(steps[min(attempt, len(steps)-1)])
	if r.RetryAfter > 0 && now.Add(r.RetryAfter).After(next) {
		next = now.Add(r.RetryAfter)
	}
	if next.After(end) {
		next = end
	}
	return next
}

// notify tells the institution's channels, once per action, that its
// publication does not mention the data URL and what to do about it.
func (w *Worker) notify(ctx context.Context, a datosbot.Action, r Result) error {
	if w.cfg.Poster == nil {
		return nil
	}
	inst, err := w.cfg.Queue.Institution(ctx, a.Institution)
	if err != nil {
		return err
	}
	if len(inst.Channels) == 0 {
		return nil // estado shows the outcome; there is nowhere to post
	}
	notice := NoMentionNotice(a)
	var msgs []datosbot.Message
	for _, ch := range inst.Channels {
		msgs = append(msgs, datosbot.Message{Key: "evidencia:" + a.ID + ":" + string(ch), Channel: ch, Reply: notice})
	}
	return w.cfg.Poster.Post(ctx, msgs...)
}

// NoMentionNotice is the message to an institution's channels when the
// publication of action a does not mention its data URL.
func NoMentionNotice(a datosbot.Action) datosbot.Reply {
	return datosbot.Reply{
		Title: fmt.Sprintf("La publicación de la acción %s no cita la URL de los datos", a.ID),
		Text: fmt.Sprintf("La guía pide que cada comunicación mencione la URL directa de los datos abiertos. "+
			"El bot leyó %s y no encontró %s.\n"+
			"Qué hacer: edite la publicación para incluir esa URL (el bot la revisará de nuevo durante 24 horas), "+
			"o retire la acción con /datos retirar %s <motivo> y registre la publicación correcta con /datos anunciar.",
			a.EvidenceURL, strings.Join(a.DataURLs, " ni "), a.ID),
		Fields: []datosbot.Field{{Label: "Acción", Value: a.ID}, {Label: "Publicación", Value: a.EvidenceURL},
			{Label: "Datos", Value: strings.Join(a.DataURLs, "\n")}},
		Public: true,
	}
}
