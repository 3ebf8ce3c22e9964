package reminders

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/datosbot/datosbot"
)

// Sender posts one message through its platform. bot.Router.Deliver
// implements it. It returns *datosbot.RateLimitError when the platform asks
// to wait, *datosbot.PermanentError when the post can never succeed and
// *datosbot.ChannelMovedError when the chat changed its id; any other
// error is transient.
type Sender interface {
	Deliver(ctx context.Context, m datosbot.Message) error
}

// OutboxStore is the durable queue under an Outbox. storage.Store
// implements it in Redis (see storage/outbox.go for the semantics of each
// method).
type OutboxStore interface {
	OutboxEnqueue(ctx context.Context, at time.Time, msgs []datosbot.Message) (int, error)
	OutboxClaim(ctx context.Context, now time.Time, limit int, lease, horizon time.Duration,
		pace func(ch datosbot.ChannelID) (every time.Duration, bucket string, bucketEvery time.Duration),
		claimed func(m datosbot.Message, token string, attempts int, slot time.Time)) (time.Time, error)
	OutboxPosting(ctx context.Context, key string, now time.Time) error
	OutboxSent(ctx context.Context, key string, ch datosbot.ChannelID, now time.Time) (bool, error)
	OutboxRequeue(ctx context.Context, m datosbot.Message, token string, attempts int, at time.Time, counters ...string) (bool, error)
	OutboxFail(ctx context.Context, m datosbot.Message, token, reason string, now time.Time) (bool, error)
	OutboxPause(ctx context.Context, ch datosbot.ChannelID, bucket string, until time.Time) error
	OutboxFailures(ctx context.Context, channels []datosbot.ChannelID,
		fn func(ch datosbot.ChannelID, key, reason string, at time.Time)) error
	OutboxStats(ctx context.Context) (map[string]int64, error)
}

// Pace is how fast the outbox may post on one platform: the platform's
// limits. The outbox paces PaceMargin under them.
type Pace struct {
	// Channel is the least time between two posts into one chat. Zero
	// means no limit.
	Channel time.Duration
	// Group, when not zero, replaces Channel for group chats (Telegram chat
	// ids below zero).
	Group time.Duration
	// Platform is the least time between two posts of the whole platform
	// (all replicas together). Zero means no limit.
	Platform time.Duration
	// PausePlatform makes a rate limit on one chat pause the whole
	// platform, not only that chat. Off by default: a paused chat then
	// never delays the others.
	PausePlatform bool
}

// PaceMargin is how much wider than asked the outbox spaces posts: every
// spacing of a Pace is stretched by this fraction. A platform counts a
// post when the request arrives, and the arrival of two posts sent exactly
// one limit apart may fall inside the limit through timer and network
// jitter; each such post costs a 429 and a pause. Five percent of Slack's
// one second per channel is 50 ms.
const PaceMargin = 0.05

// widen returns d stretched by PaceMargin.
func widen(d time.Duration) time.Duration {
	return d + time.Duration(float64(d)*PaceMargin)
}

// DefaultPace returns the documented limits: Slack one post per second
// per channel (its workspace-wide limit is not published); Telegram 30
// posts per second in all, 20 per minute per group and one per second per
// private chat; the console unlimited.
func DefaultPace() map[datosbot.Platform]Pace {
	return map[datosbot.Platform]Pace{
		datosbot.Slack:    {Channel: time.Second},
		datosbot.Telegram: {Channel: time.Second, Group: 3 * time.Second, Platform: time.Second / 30},
		datosbot.Console:  {},
	}
}

// OutboxConfig configures NewOutbox. Store is required, and Sender for
// Run and DeliverOnce; every other zero field means the default beside it.
type OutboxConfig struct {
	Store  OutboxStore
	Sender Sender
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// UnidadChannel receives one report per channel and day when a post
	// fails for good (DATOSBOT_UNIDAD_CHANNEL). Empty: no reports.
	UnidadChannel datosbot.ChannelID
	// OnMove is called when a chat changed its id (a Telegram group became
	// a supergroup), before the message is posted again to the new id;
	// wire it to storage.Store.MoveChannel. Nil: the message is still
	// posted to the new id.
	OnMove func(ctx context.Context, from, to datosbot.ChannelID) error
	// Pace per platform. Nil means DefaultPace(); a platform missing from
	// a non-nil map is not paced.
	Pace map[datosbot.Platform]Pace
	// MaxAttempts is how many transient failures a message may have before
	// it is recorded as failed. Default 8. Rate limits do not count.
	MaxAttempts int
	// Backoff is the wait after the first transient failure; it doubles
	// after each, up to MaxBackoff, with jitter (between half and all of
	// it). Defaults 5 seconds and 10 minutes.
	Backoff, MaxBackoff time.Duration
	// Lease is how long a claimed message stays reserved for its worker
	// after its slot; if the worker dies, the message returns to the queue
	// when the lease ends. Default 2 minutes; keep it above SendTimeout.
	Lease time.Duration
	// SendTimeout bounds one post. Default 30 seconds.
	SendTimeout time.Duration
	// Horizon is how far ahead Run claims paced slots, then waits for each
	// slot: a longer horizon smooths the rate, a shorter one holds fewer
	// messages in flight. Default 1 second. DeliverOnce claims only what
	// may be posted at once.
	Horizon time.Duration
	// Batch is the most messages one claim takes. Default 100.
	Batch int
	// Concurrency is the most posts in progress at once. Default 32.
	Concurrency int
	// PollInterval is how often Run looks for work queued by other
	// replicas when it has none. Default 1 second.
	PollInterval time.Duration
	// Observe, if set, receives one result per delivery attempt ("ok",
	// "retry", "ratelimited", "moved", "permanent", "failed"), for metrics.
	Observe func(platform datosbot.Platform, result string)
	// Logger receives errors of Run's loop. Default slog.Default().
	Logger *slog.Logger
}

// Outbox is the durable delivery queue of the bot's own posts. Post only
// enqueues, in Redis; Run (on every replica) claims due messages, paces
// them per platform and posts them through the Sender.
//
// # Delivery guarantee
//
// A message Key is enqueued at most once, forever: enqueueing a key that
// is queued, in flight, sent or failed is a no-op (counted as a duplicate
// avoided). A claim moves a message atomically from the queue to the
// in-flight set with a lease, so two workers never hold it at once, and a
// crashed worker's messages return to the queue when their lease ends.
// Stopping Run (ctx cancelled) lets posts already started finish and be
// recorded, and returns the messages still waiting for their slot.
//
// The only window for a repeat is a post the platform accepted whose
// record the bot never wrote: the process crashed (or lost Redis) between
// the platform's answer and the sent mark, or the post timed out after the
// platform had accepted it. Both are measured: Stats.Uncertain counts
// leases that expired after their post had started and posts that timed
// out, each a possible repeat; Stats.Repeated counts sent marks that found
// the key already sent, each a certain repeat.
//
// # Order
//
// The messages of one channel are posted in the order they were enqueued,
// one at a time across all replicas: a message is claimed only once every
// message enqueued before it into the same channel is sent or given up
// (see storage/outbox.go). A rate limit, a transient failure's backoff or
// a worker's crash therefore holds back the channel's later messages, up
// to the message being given up after MaxAttempts, but never another
// channel's. A message that fails for good lets the next one go. A
// message moved to a chat's new id goes after those already queued for
// the new id.
type Outbox struct {
	store       OutboxStore
	sender      Sender
	now         func() time.Time
	unidad      datosbot.ChannelID
	onMove      func(ctx context.Context, from, to datosbot.ChannelID) error
	pace        map[datosbot.Platform]Pace
	maxAttempts int
	backoff     time.Duration
	maxBackoff  time.Duration
	lease       time.Duration
	sendTimeout time.Duration
	horizon     time.Duration
	batch       int
	concurrency int
	poll        time.Duration
	observe     func(datosbot.Platform, string)
	log         *slog.Logger
	wake        chan struct{}
	gates       channelGates
}

// NewOutbox returns an Outbox with cfg's defaults filled in.
func NewOutbox(cfg OutboxConfig) *Outbox {
	o := &Outbox{store: cfg.Store, sender: cfg.Sender, now: cfg.Now, unidad: cfg.UnidadChannel, onMove: cfg.OnMove,
		pace: cfg.Pace, maxAttempts: cfg.MaxAttempts, backoff: cfg.Backoff, maxBackoff: cfg.MaxBackoff,
		lease: cfg.Lease, sendTimeout: cfg.SendTimeout, horizon: cfg.Horizon, batch: cfg.Batch,
		concurrency: cfg.Concurrency, poll: cfg.PollInterval, observe: cfg.Observe, log: cfg.Logger,
		wake: make(chan struct{}, 1)}
	if o.now == nil {
		o.now = time.Now
	}
	if o.pace == nil {
		o.pace = DefaultPace()
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.backoff, 5*time.Second)
	def(&o.maxBackoff, 10*time.Minute)
	def(&o.lease, 2*time.Minute)
	def(&o.sendTimeout, 30*time.Second)
	def(&o.horizon, time.Second)
	def(&o.poll, time.Second)
	if o.maxAttempts <= 0 {
		o.maxAttempts = 8
	}
	if o.batch <= 0 {
		o.batch = 100
	}
	if o.concurrency <= 0 {
		o.concurrency = 32
	}
	if o.observe == nil {
		o.observe = func(datosbot.Platform, string) {}
	}
	if o.log == nil {
		o.log = slog.Default()
	}
	return o
}

// Post enqueues msgs for delivery and returns; it implements
// commands.Poster. Messages whose Key was ever enqueued are skipped.
func (o *Outbox) Post(ctx context.Context, msgs ...datosbot.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	n, err := o.store.OutboxEnqueue(ctx, o.now(), msgs)
	if n > 0 {
		o.nudge()
	}
	return err
}

// nudge makes Run look at the queue again now: something was queued, or
// put back with a new due time that its current sleep may overshoot.
func (o *Outbox) nudge() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// paceOf returns how channel ch is paced, PaceMargin included: the least
// time between two posts into ch, and the bucket of its platform-wide
// limit ("" for none) with the least time between two posts in it.
func (o *Outbox) paceOf(ch datosbot.ChannelID) (time.Duration, string, time.Duration) {
	p := o.pace[ch.Platform()]
	every := p.Channel
	if p.Group > 0 && ch.Platform() == datosbot.Telegram && strings.HasPrefix(ch.Local(), "-") {
		every = p.Group
	}
	bucket := ""
	if p.Platform > 0 {
		bucket = string(ch.Platform())
	}
	return widen(every), bucket, widen(p.Platform)
}

// claimed is one message held by this worker.
type claimed struct {
	m        datosbot.Message
	token    string
	attempts int
	slot     time.Time
}

func (o *Outbox) claim(ctx context.Context, horizon time.Duration) ([]claimed, time.Time, error) {
	var batch []claimed
	wake, err := o.store.OutboxClaim(ctx, o.now(), o.batch, o.lease, horizon, o.paceOf,
		func(m datosbot.Message, token string, attempts int, slot time.Time) {
			batch = append(batch, claimed{m, token, attempts, slot})
		})
	return batch, wake, err
}

// DeliverOnce claims the messages that may be posted now, without waiting
// for any pacing slot, posts them and records the outcomes. It returns how
// many it handled. Tests drive it with a fake clock; Run is the loop.
func (o *Outbox) DeliverOnce(ctx context.Context) (int, error) {
	batch, _, err := o.claim(ctx, 0)
	if err != nil {
		return 0, err
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		sem  = make(chan struct{}, o.concurrency)
	)
	for _, c := range batch {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := o.handle(ctx, c, false); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return len(batch), errors.Join(errs...)
}

// Run delivers queued messages until ctx is done: it claims what is due
// (with pacing slots up to Horizon ahead), posts each at its slot with up
// to Concurrency posts at once, and sleeps until the next message is due,
// PollInterval at most, or until Post enqueues something. It returns after
// the posts in progress are recorded.
//
// A message waiting for its slot does not take one of the Concurrency
// posts: with Telegram's 30 posts per second, a second of slots would
// otherwise fill them all and hold back every other channel. Claimed
// messages not yet finished are bounded apart, by Concurrency + 4×Batch.
func (o *Outbox) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	posting := make(chan struct{}, o.concurrency)
	held := make(chan struct{}, o.concurrency+4*o.batch)
	for ctx.Err() == nil {
		batch, wake, err := o.claim(ctx, o.horizon)
		if err != nil && ctx.Err() == nil {
			o.log.Error("outbox: claim failed", "err", err)
		}
		for i, c := range batch {
			select {
			case held <- struct{}{}:
			case <-ctx.Done():
				o.release(ctx, batch[i:])
				return nil
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-held }()
				if err := o.waitSlot(ctx, c); err != nil {
					return
				}
				select {
				case posting <- struct{}{}:
				case <-ctx.Done():
					o.release(ctx, []claimed{c})
					return
				}
				defer func() { <-posting }()
				if err := o.handle(ctx, c, true); err != nil {
					o.log.Error("outbox: recording a delivery failed", "key", c.m.Key, "err", err)
				}
			}()
		}
		d := o.poll
		switch {
		case len(batch) >= o.batch:
			d = 0
		case !wake.IsZero():
			d = min(d, max(wake.Sub(o.now()), time.Millisecond))
		}
		if d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-o.wake:
			case <-ctx.Done():
			}
			t.Stop()
		}
	}
	return nil
}

// waitSlot waits until c's slot; when ctx ends first it returns c to the
// queue and an error.
func (o *Outbox) waitSlot(ctx context.Context, c claimed) error {
	d := c.slot.Sub(o.now())
	if d <= 0 {
		if ctx.Err() != nil {
			o.release(ctx, []claimed{c})
			return ctx.Err()
		}
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		o.release(ctx, []claimed{c})
		return ctx.Err()
	}
}

// waitTurn waits until this process may post into c's channel: the
// channel's spacing after the previous post into it actually started, and
// the end of a rate limit the platform answered. It reports whether c may
// be posted now; if not, c is back in the queue (ctx ended, or the channel
// is busy for longer than Horizon, as after a long Retry-After).
//
// The store's slots space the posts of every replica, but a slot is only
// the earliest instant: a post that starts late (a slow timer, a busy
// Redis) leaves the next one, on time, too close to it, and the platform
// answers 429. This gate, per process and right before the post, measures
// the spacing from the actual start instead.
func (o *Outbox) waitTurn(ctx context.Context, c claimed) bool {
	every, _, _ := o.paceOf(c.m.Channel)
	if every <= 0 {
		return true
	}
	for {
		now := o.now()
		d := o.gates.take(c.m.Channel, now, every)
		if d <= 0 {
			return true
		}
		if d > o.horizon {
			bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			_, err := o.store.OutboxRequeue(bctx, c.m, c.token, c.attempts, now.Add(d))
			cancel()
			if err != nil {
				o.log.Error("outbox: putting back a message for a busy channel failed; its lease will return it", "key", c.m.Key, "err", err)
			}
			o.nudge()
			return false
		}
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			o.release(ctx, []claimed{c})
			return false
		}
	}
}

// channelGates holds, per channel, the instant from which this process
// may post into it again.
type channelGates struct {
	mu    sync.Mutex
	free  map[datosbot.ChannelID]time.Time
	sweep int // size of free that triggers the next removal of past entries
}

// take returns how long until ch is free at now; when it is free already,
// take returns 0 and holds ch for every from now.
func (g *channelGates) take(ch datosbot.ChannelID, now time.Time, every time.Duration) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	if f := g.free[ch]; now.Before(f) {
		return f.Sub(now)
	}
	g.set(ch, now.Add(every), now)
	return 0
}

// hold keeps ch busy until t at least (a platform's Retry-After).
func (g *channelGates) hold(ch datosbot.ChannelID, t, now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.free[ch].Before(t) {
		g.set(ch, t, now)
	}
}

// set records that ch is free from t, and forgets the channels already
// free at now whenever the map doubled, so it holds only busy channels.
func (g *channelGates) set(ch datosbot.ChannelID, t, now time.Time) {
	if g.free == nil {
		g.free = map[datosbot.ChannelID]time.Time{}
	}
	g.free[ch] = t
	if len(g.free) > g.sweep {
		for k, f := range g.free {
			if !f.After(now) {
				delete(g.free, k)
			}
		}
		g.sweep = max(1024, 2*len(g.free))
	}
}

// release returns claimed messages that were not posted to the queue,
// without counting an attempt.
func (o *Outbox) release(ctx context.Context, cs []claimed) {
	bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	for _, c := range cs {
		if _, err := o.store.OutboxRequeue(bctx, c.m, c.token, c.attempts, o.now(), "released"); err != nil {
			o.log.Error("outbox: releasing a message failed; its lease will return it", "key", c.m.Key, "err", err)
		}
	}
}

// handle posts one claimed message and records the outcome; when gated,
// it first waits for its channel's turn (see waitTurn). The post and the
// record are not interrupted by ctx: a post that started is finished and
// recorded, so stopping never causes a repeat.
func (o *Outbox) handle(ctx context.Context, c claimed, gated bool) error {
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.sendTimeout+30*time.Second)
	defer cancel()
	if err := o.store.OutboxPosting(hctx, c.m.Key, o.now()); err != nil {
		return err // not posted; the lease returns it to the queue
	}
	if gated && !o.waitTurn(ctx, c) {
		return nil // back in the queue
	}
	ctx = hctx
	sctx, scancel := context.WithTimeout(ctx, o.sendTimeout)
	err := o.sender.Deliver(sctx, c.m)
	timedOut := sctx.Err() != nil && err != nil
	scancel()
	now := o.now()
	platform := c.m.Channel.Platform()

	var (
		rl    *datosbot.RateLimitError
		perm  *datosbot.PermanentError
		moved *datosbot.ChannelMovedError
	)
	switch {
	case err == nil:
		o.observe(platform, "ok")
		_, err := o.store.OutboxSent(ctx, c.m.Key, c.m.Channel, now)
		o.nudge() // the channel's next message is due
		return err

	case errors.As(err, &rl):
		o.observe(platform, "ratelimited")
		wait := rl.RetryAfter
		if wait <= 0 {
			wait = time.Second
		}
		bucket := ""
		if p := o.pace[platform]; p.PausePlatform {
			_, bucket, _ = o.paceOf(c.m.Channel)
			if bucket == "" {
				bucket = string(platform)
			}
		}
		until := now.Add(wait)
		o.gates.hold(c.m.Channel, until, now)
		if err := o.store.OutboxPause(ctx, c.m.Channel, bucket, until); err != nil {
			return err
		}
		_, err := o.store.OutboxRequeue(ctx, c.m, c.token, c.attempts, until, "ratelimited")
		o.nudge() // Run may be asleep past until
		return err

	case errors.As(err, &moved) && moved.To != "" && moved.To != c.m.Channel:
		o.observe(platform, "moved")
		if o.onMove != nil {
			if merr := o.onMove(ctx, c.m.Channel, moved.To); merr != nil {
				o.log.Warn("outbox: could not record a moved channel", "from", c.m.Channel, "to", moved.To, "err", merr)
			}
		}
		m := c.m
		m.Channel = moved.To
		_, err := o.store.OutboxRequeue(ctx, m, c.token, c.attempts, now, "moved")
		o.nudge()
		return err

	case errors.As(err, &perm):
		o.observe(platform, "permanent")
		reason := perm.Reason
		if reason == "" {
			reason = perm.Error()
		}
		return o.fail(ctx, c, reason, now)
	}

	attempts := c.attempts + 1
	if attempts >= o.maxAttempts {
		o.observe(platform, "failed")
		return o.fail(ctx, c, "falló "+strconv.Itoa(attempts)+" veces: "+datosbot.Truncate(err.Error(), 200), now)
	}
	o.observe(platform, "retry")
	counters := []string{"retried"}
	if timedOut {
		counters = append(counters, "uncertain")
	}
	_, rerr := o.store.OutboxRequeue(ctx, c.m, c.token, attempts, now.Add(o.backoffFor(attempts)), counters...)
	o.nudge()
	return rerr
}

// backoffFor returns the wait after the n-th transient failure: Backoff
// doubled n-1 times, at most MaxBackoff, then a random part of it between
// half and all (jitter, so that many failed posts do not retry together).
func (o *Outbox) backoffFor(n int) time.Duration {
	d := o.backoff
	for i := 1; i < n && d < o.maxBackoff; i++ {
		d *= 2
	}
	d = min(d, o.maxBackoff)
	return d/2 + rand.N(d/2+1)
}

// fail records a message as failed for good and reports it to the Unidad.
func (o *Outbox) fail(ctx context.Context, c claimed, reason string, now time.Time) error {
	ok, err := o.store.OutboxFail(ctx, c.m, c.token, reason, now)
	o.nudge() // the channel's next message is due
	if err != nil || !ok || o.unidad == "" || c.m.Channel == o.unidad {
		return err
	}
	day := now.UTC().Format(time.DateOnly)
	return o.Post(ctx, datosbot.Message{
		Key:     "falla:" + string(c.m.Channel) + ":" + day + ":" + string(o.unidad),
		Channel: o.unidad,
		Reply: datosbot.Reply{
			Title: "Falla de entrega del bot",
			Text: "No se pudo publicar un mensaje del bot en el canal " + string(c.m.Channel) + " y no se volverá a intentar. " +
				"Revise que el canal exista y que el bot siga en él; si la institución usa otro canal, vincúlelo con /datos canal vincular <clave>. " +
				"La falla aparece también en /datos estado de la institución.",
			Fields: []datosbot.Field{{Label: "Canal", Value: string(c.m.Channel)}, {Label: "Motivo", Value: datosbot.Truncate(datosbot.DescribeFailure(reason), 300)},
				{Label: "Mensaje", Value: c.m.Key}},
		},
	})
}

// Failure is the last permanent delivery failure of a channel.
type Failure struct {
	Channel datosbot.ChannelID
	Key     string // the message that failed
	Reason  string // the platform's reason, e.g. "channel_not_found"
	At      time.Time
}

// DeliveryFailures returns the last permanent failure of each of channels
// that has one, in the order of channels; a later successful post to a
// channel clears it. commands' estado shows them.
func (o *Outbox) DeliveryFailures(ctx context.Context, channels []datosbot.ChannelID) ([]Failure, error) {
	var out []Failure
	err := o.store.OutboxFailures(ctx, channels, func(ch datosbot.ChannelID, key, reason string, at time.Time) {
		out = append(out, Failure{Channel: ch, Key: key, Reason: reason, At: at})
	})
	return out, err
}

// Stats are the outbox's counters across every replica, since the store
// was created, and the current size of the queue.
type Stats struct {
	Queued, InFlight int64 // now
	Enqueued         int64 // messages accepted by Post
	Duplicates       int64 // messages Post skipped because their key was already enqueued or sent
	Sent             int64
	Retried          int64 // transient failures retried
	RateLimited      int64 // posts the platform asked to delay (not attempts)
	Moved            int64 // posts redirected to a chat's new id
	Failed           int64 // messages given up: permanent errors or MaxAttempts reached
	Released         int64 // claimed messages returned by a stopping worker
	Recovered        int64 // claims whose lease expired (a worker died or stalled)
	Uncertain        int64 // posts that may have been posted twice (see Outbox)
	Repeated         int64 // posts recorded twice: certain repeats
}

// Stats reads the counters; cmd/datosbot exports them as metrics.
func (o *Outbox) Stats(ctx context.Context) (Stats, error) {
	m, err := o.store.OutboxStats(ctx)
	if err != nil {
		return Stats{}, err
	}
	return Stats{Queued: m["queued"], InFlight: m["inflight"], Enqueued: m["enqueued"], Duplicates: m["duplicates"],
		Sent: m["sent"], Retried: m["retried"], RateLimited: m["ratelimited"], Moved: m["moved"], Failed: m["failed"],
		Released: m["released"], Recovered: m["recovered"], Uncertain: m["uncertain"], Repeated: m["repeated"]}, nil
}
