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

// Finder is implemented by a Sender that can tell whether its platform
// already has a message: the Slack adapter looks the message's outbox key
// up in the channel's recent history (the key travels in each post's
// metadata). FindPosted reports whether m was posted into its channel
// since since; it returns *datosbot.RateLimitError when the platform asks
// to wait, an error wrapping errors.ErrUnsupported when the platform
// offers no lookup, and any other error when it cannot tell (a missing
// scope, a failed request).
type Finder interface {
	FindPosted(ctx context.Context, m datosbot.Message, since time.Time) (bool, error)
}

// lookupSkew widens the search for a post that may have been accepted:
// the bound is taken on the clock of the replica that started the post,
// and the platform stamps the message with its own.
const lookupSkew = time.Minute

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
		pace func(ch datosbot.ChannelID) datosbot.PostPace,
		claimed func(m datosbot.Message, token string, attempts int, slot, unsure time.Time)) (time.Time, error)
	OutboxPosting(ctx context.Context, key, token string, ch datosbot.ChannelID, now time.Time,
		pace datosbot.PostPace) (wait time.Duration, held bool, err error)
	OutboxExtend(ctx context.Context, until time.Time, claims map[string]string) (int, error)
	OutboxSent(ctx context.Context, key string, ch datosbot.ChannelID, now time.Time, counters ...datosbot.OutboxCounter) (bool, error)
	OutboxRequeue(ctx context.Context, m datosbot.Message, token string, attempts int, at time.Time, maybePosted bool, counters ...datosbot.OutboxCounter) (bool, error)
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
	// GroupLimit, when not zero, is the most posts one group chat may get
	// within any GroupWindow (Telegram: 20 a minute), counted across
	// replicas from the instant each post starts until it is recorded. It
	// is a count, not a spacing: a group whose posts were held up (a
	// crashed worker's lease, a pause) catches up within the window instead
	// of carrying the delay to every later post. Default window one minute.
	GroupLimit  int
	GroupWindow time.Duration
	// Platform is the least time between two posts of the whole platform
	// (all replicas together). Zero means no limit.
	Platform time.Duration
	// PlatformWindow is the window in which the platform counts its
	// overall limit: at most PlatformWindow/Platform posts within any
	// PlatformWindow (Telegram: 30 in any second). Default one second, or
	// Platform when longer.
	PlatformWindow time.Duration
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

// PlatformMargin replaces PaceMargin for the spacing planned under a
// platform-wide limit (Pace.Platform). That limit is a count (Telegram's 30
// posts in any second), and the store enforces the count itself when each
// post starts, counting every post from its start until its outcome is
// recorded, which covers the instant the platform counted it: no jitter
// can make it exceed the count. The plan then only needs to stay a little
// under the count, so that posts seldom wait at that gate.
const PlatformMargin = 0.01

// widen returns d stretched by PaceMargin.
func widen(d time.Duration) time.Duration {
	return d + time.Duration(float64(d)*PaceMargin)
}

// DefaultPace returns the documented limits: Slack one post per second
// per channel (its workspace-wide limit is not published); Telegram 30
// posts per second in all, one per second per chat and at most 20 in any
// minute per group; the console unlimited.
func DefaultPace() map[datosbot.Platform]Pace {
	return map[datosbot.Platform]Pace{
		datosbot.Slack:    {Channel: time.Second},
		datosbot.Telegram: {Channel: time.Second, GroupLimit: 20, GroupWindow: time.Minute, Platform: time.Second / 30},
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
	// after its slot or its worker's last heartbeat; if the worker dies,
	// the message returns to the queue when the lease ends. Default 8
	// seconds.
	Lease time.Duration
	// Heartbeat is how often a running worker renews the leases of the
	// messages it holds (see Outbox.Heartbeat). Default a quarter of Lease.
	Heartbeat time.Duration
	// SendTimeout bounds one post. Default 30 seconds.
	SendTimeout time.Duration
	// Horizon is how far ahead Run claims paced slots, then waits for each
	// slot: a longer horizon smooths the rate, a shorter one holds fewer
	// messages in flight. Default 250 ms (about 8 posts of Telegram's 30
	// per second). DeliverOnce claims only what may be posted at once.
	Horizon time.Duration
	// Batch is the most messages one claim takes. Default 100.
	Batch int
	// Concurrency is the most posts in progress at once. Default 32. Run
	// holds at most Concurrency + Batch messages, posting or waiting for
	// their slot.
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
// in-flight set with a lease, so two workers never hold it at once. A
// lease is a few seconds (Lease) and the live worker renews it with a
// heartbeat (asynq's model), so a slow platform never lets a live worker's
// claim expire, while a dead worker's messages return to the queue within
// one lease and are posted by another worker (or by the restarted one,
// which needs nothing from its former self). A worker whose lease was lost
// anyway (it stalled past a lease) does not start the post: another worker
// holds the message.
// Stopping Run (ctx cancelled) lets posts already started finish and be
// recorded, and returns the messages still waiting for their slot.
//
// The only window for a repeat is a post the platform accepted whose
// record the bot never wrote: the process crashed (or lost Redis) between
// the platform's answer and the sent mark, or the post timed out after the
// platform had accepted it. Such a message is marked unsure (its lease
// expired after its post started, or the post timed out). Where the
// platform can be asked (a Sender that is a Finder: Slack, through the
// outbox key each post carries in its metadata), the next worker looks it
// up first, from when that post started, and records it as sent when the
// platform has it (Stats.Found); it posts it when the platform has not.
// Where it cannot ask (Telegram) or the lookup fails, it posts it again:
// Stats.Uncertain counts those posts, each a possible repeat, and
// Stats.Repeated counts sent marks that found the key already sent, each
// a certain repeat. Because a worker holds only its next slot window, the
// window is the few posts in progress at the instant of a crash.
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
	heartbeat   time.Duration
	sendTimeout time.Duration
	horizon     time.Duration
	batch       int
	concurrency int
	poll        time.Duration
	observe     func(datosbot.Platform, string)
	log         *slog.Logger
	wake        chan struct{}
	holding     holdings
}

// NewOutbox returns an Outbox with cfg's defaults filled in.
func NewOutbox(cfg OutboxConfig) *Outbox {
	o := &Outbox{store: cfg.Store, sender: cfg.Sender, now: cfg.Now, unidad: cfg.UnidadChannel, onMove: cfg.OnMove,
		pace: cfg.Pace, maxAttempts: cfg.MaxAttempts, backoff: cfg.Backoff, maxBackoff: cfg.MaxBackoff,
		lease: cfg.Lease, heartbeat: cfg.Heartbeat, sendTimeout: cfg.SendTimeout, horizon: cfg.Horizon, batch: cfg.Batch,
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
	def(&o.lease, 8*time.Second)
	def(&o.heartbeat, o.lease/4)
	def(&o.sendTimeout, 30*time.Second)
	def(&o.horizon, 250*time.Millisecond)
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

// paceOf returns how channel ch is paced: the least time between two
// posts into ch (PaceMargin included); the bucket of its platform-wide
// limit ("" for none), with the least time between two posts planned in
// it (PlatformMargin included) and the most posts it may have within its
// window; and, for a group chat, the group's own count (Pace.GroupLimit).
// A spacing of Pace.Platform under a PlatformWindow becomes a count in it
// (Telegram's 1s/30: 30 in any second), which lets a post that started
// late be followed at once by the next without ever exceeding the
// platform's count. The counts need no margin: the store counts each post
// from its start until its outcome is recorded, which covers the instant
// the platform counted it.
func (o *Outbox) paceOf(ch datosbot.ChannelID) datosbot.PostPace {
	p := o.pace[ch.Platform()]
	every := p.Channel
	if p.Group > 0 && isGroup(ch) {
		every = p.Group
	}
	pp := datosbot.PostPace{Every: widen(every)}
	if p.Platform > 0 {
		pp.Bucket = string(ch.Platform())
		pp.BucketEvery = p.Platform + time.Duration(float64(p.Platform)*PlatformMargin)
		w := p.PlatformWindow
		if w <= 0 {
			w = max(time.Second, p.Platform)
		}
		pp.BucketLimit = max(1, int(w/p.Platform))
		pp.BucketWindow = time.Duration(pp.BucketLimit) * p.Platform
	}
	if p.GroupLimit > 0 && isGroup(ch) {
		pp.ChatLimit, pp.ChatWindow = p.GroupLimit, p.GroupWindow
		if pp.ChatWindow <= 0 {
			pp.ChatWindow = time.Minute
		}
	}
	return pp
}

// isGroup reports whether ch is a group chat: a Telegram chat id below
// zero.
func isGroup(ch datosbot.ChannelID) bool {
	return ch.Platform() == datosbot.Telegram && strings.HasPrefix(ch.Local(), "-")
}

// claimed is one message held by this worker.
type claimed struct {
	m        datosbot.Message
	token    string
	attempts int
	slot     time.Time
	unsure   time.Time // when not zero, an earlier post that started then may have been accepted
}

// claim claims up to limit messages whose slot is within horizon and
// holds them (see holdings) until they are handled or released.
func (o *Outbox) claim(ctx context.Context, limit int, horizon time.Duration) ([]claimed, time.Time, error) {
	var batch []claimed
	wake, err := o.store.OutboxClaim(ctx, o.now(), limit, o.lease, horizon, o.paceOf,
		func(m datosbot.Message, token string, attempts int, slot, unsure time.Time) {
			c := claimed{m, token, attempts, slot, unsure}
			// A post may start as late as the end of its channel's turn
			// (Horizon after its slot), after a lookup of up to
			// SendTimeout, and last SendTimeout; past that (and the time
			// to record it) the worker is stuck, as good as dead, and its
			// claim is no longer renewed.
			o.holding.add(c, slot.Add(o.horizon+2*o.sendTimeout+30*time.Second))
			batch = append(batch, c)
		})
	return batch, wake, err
}

// holdings are the claims of this worker whose leases its heartbeat
// renews: message key → claim token and the instant after which the
// claim is no longer renewed.
type holdings struct {
	mu    sync.Mutex
	claim map[string]holding
}

type holding struct {
	token string
	until time.Time
}

func (h *holdings) add(c claimed, until time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.claim == nil {
		h.claim = map[string]holding{}
	}
	h.claim[c.m.Key] = holding{c.token, until}
}

func (h *holdings) drop(c claimed) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.claim[c.m.Key].token == c.token {
		delete(h.claim, c.m.Key)
	}
}

// live returns the claims still renewed at now.
func (h *holdings) live(now time.Time) map[string]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make(map[string]string, len(h.claim))
	for k, c := range h.claim {
		if now.Before(c.until) {
			out[k] = c.token
		}
	}
	return out
}

// Heartbeat renews, Lease from now, the leases of the messages this worker
// holds and is still working on; Run calls it every Heartbeat. A worker
// that stops calling it (it died, or hangs past a post's SendTimeout)
// loses its claims one Lease later, and another worker posts them.
func (o *Outbox) Heartbeat(ctx context.Context) error {
	now := o.now()
	claims := o.holding.live(now)
	if len(claims) == 0 {
		return nil
	}
	_, err := o.store.OutboxExtend(ctx, now.Add(o.lease), claims)
	return err
}

// beat runs Heartbeat every o.heartbeat until ctx is done.
func (o *Outbox) beat(ctx context.Context) {
	t := time.NewTicker(o.heartbeat)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			if err := o.Heartbeat(ctx); err != nil && ctx.Err() == nil {
				o.log.Warn("outbox: renewing the leases of claimed messages failed; they return to the queue if it keeps failing", "err", err)
			}
		case <-ctx.Done():
			return
		}
	}
}

// DeliverOnce claims the messages that may be posted now, without waiting
// for any pacing slot, posts them and records the outcomes. It returns how
// many it handled. Tests drive it with a fake clock; Run is the loop. It
// runs no heartbeat of its own: a test that holds claims across fake
// seconds calls Heartbeat, as Run does every Heartbeat.
func (o *Outbox) DeliverOnce(ctx context.Context) (int, error) {
	batch, _, err := o.claim(ctx, o.batch, 0)
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
// A worker holds no more than it can post within its next slot window:
// only messages whose slot is within Horizon, and at most Concurrency +
// Batch unfinished at once (posting, or waiting for a slot), so a crash
// strands only the posts of that instant, and the rest of the queue stays
// free for the other replicas. A message waiting for its slot does not
// take one of the Concurrency posts: with Telegram's 30 posts per second,
// the slots within the horizon would otherwise fill them and hold back
// every other channel.
func (o *Outbox) Run(ctx context.Context) error {
	// The heartbeat outlives ctx until the posts in progress are recorded.
	bctx, stopBeat := context.WithCancel(context.WithoutCancel(ctx))
	go o.beat(bctx)
	defer stopBeat()
	var wg sync.WaitGroup
	defer wg.Wait()
	unfinished := make(chan struct{}, o.concurrency+o.batch)
	posting := make(chan struct{}, o.concurrency)
	finished := make(chan struct{}, 1)
	for ctx.Err() == nil {
		free := cap(unfinished) - len(unfinished)
		if free <= 0 {
			select {
			case <-finished:
			case <-ctx.Done():
			}
			continue
		}
		limit := min(o.batch, free)
		batch, wake, err := o.claim(ctx, limit, o.horizon)
		if err != nil && ctx.Err() == nil {
			o.log.Error("outbox: claim failed", "err", err)
		}
		for _, c := range batch {
			unfinished <- struct{}{} // never blocks: len(batch) <= free
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() {
					<-unfinished
					select {
					case finished <- struct{}{}:
					default:
					}
				}()
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
		case len(batch) >= limit:
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

// start begins the post of c, checking in the store the limits counted at
// the instants posts really start, across replicas (see
// storage.Store.OutboxPosting): a planned slot is only the earliest
// instant, and a post that starts late (a slow timer, a busy Redis) would
// leave the next one, on time, too close to it for the platform. When the
// post must wait, start waits (if wait and the wait is within Horizon) or
// puts c back in the queue for then. It reports whether the post started;
// an error means it did not, and the lease returns c to the queue.
func (o *Outbox) start(ctx, hctx context.Context, c claimed, wait bool) (bool, error) {
	pace := o.paceOf(c.m.Channel)
	for {
		now := o.now()
		d, held, err := o.store.OutboxPosting(hctx, c.m.Key, c.token, c.m.Channel, now, pace)
		if err != nil {
			return false, err
		}
		if !held {
			return false, nil // the lease was lost: another worker may hold the message now
		}
		if d <= 0 {
			return true, nil
		}
		if !wait || d > o.horizon || ctx.Err() != nil {
			if _, err := o.store.OutboxRequeue(hctx, c.m, c.token, c.attempts, now.Add(d), false); err != nil {
				o.log.Error("outbox: putting back a message for a busy channel failed; its lease will return it", "key", c.m.Key, "err", err)
			}
			o.nudge()
			return false, nil
		}
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
	}
}

// release returns claimed messages that were not posted to the queue,
// without counting an attempt.
func (o *Outbox) release(ctx context.Context, cs []claimed) {
	bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	for _, c := range cs {
		o.holding.drop(c)
		if _, err := o.store.OutboxRequeue(bctx, c.m, c.token, c.attempts, o.now(), false, datosbot.OutboxReleased); err != nil {
			o.log.Error("outbox: releasing a message failed; its lease will return it", "key", c.m.Key, "err", err)
		}
	}
}

// handle posts one claimed message and records the outcome; when wait is
// false, a post whose channel or platform is busy goes back to the queue
// at once instead of waiting its turn (see start). The post and the record
// are not interrupted by ctx: a post that started is finished and
// recorded, so stopping never causes a repeat.
func (o *Outbox) handle(ctx context.Context, c claimed, wait bool) error {
	defer o.holding.drop(c) // after the outcome is recorded
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*o.sendTimeout+30*time.Second)
	defer cancel()
	var sent []datosbot.OutboxCounter // counters besides OutboxSent if the post succeeds
	if !c.unsure.IsZero() {
		done, absent, err := o.lookUp(hctx, c)
		if done || err != nil {
			return err
		}
		if !absent {
			sent = append(sent, datosbot.OutboxUncertain)
		}
	}
	started, err := o.start(ctx, hctx, c, wait)
	if err != nil || !started {
		return err
	}
	ctx = hctx
	sctx, scancel := context.WithTimeout(ctx, o.sendTimeout)
	err = o.sender.Deliver(sctx, c.m)
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
		_, err := o.store.OutboxSent(ctx, c.m.Key, c.m.Channel, now, sent...)
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
			bucket = o.paceOf(c.m.Channel).Bucket
			if bucket == "" {
				bucket = string(platform)
			}
		}
		until := now.Add(wait)
		if err := o.store.OutboxPause(ctx, c.m.Channel, bucket, until); err != nil {
			return err
		}
		_, err := o.store.OutboxRequeue(ctx, c.m, c.token, c.attempts, until, false, datosbot.OutboxRateLimited)
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
		_, err := o.store.OutboxRequeue(ctx, m, c.token, c.attempts, now, false, datosbot.OutboxMoved)
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
	// A post that timed out may have been accepted: the next attempt
	// looks for it first, where the platform allows.
	_, rerr := o.store.OutboxRequeue(ctx, c.m, c.token, attempts, now.Add(o.backoffFor(attempts)), timedOut, datosbot.OutboxRetried)
	o.nudge()
	return rerr
}

// lookUp asks the platform whether it already has c, a message an
// earlier post of which may have been accepted (see Finder). Found, c is
// recorded as sent without posting it again (counted as "found"); a rate
// limit puts c back for when the platform allows. done reports either.
// Otherwise the caller posts c; absent reports that the platform said it
// has not got it. When the lookup failed or the platform offers none, the
// post counts as "uncertain" (a possible repeat).
func (o *Outbox) lookUp(ctx context.Context, c claimed) (done, absent bool, err error) {
	f, ok := o.sender.(Finder)
	if !ok {
		return false, false, nil
	}
	lctx, cancel := context.WithTimeout(ctx, o.sendTimeout)
	found, ferr := f.FindPosted(lctx, c.m, c.unsure.Add(-lookupSkew))
	cancel()
	now := o.now()
	var rl *datosbot.RateLimitError
	switch {
	case ferr == nil && found:
		o.observe(c.m.Channel.Platform(), "found")
		_, err := o.store.OutboxSent(ctx, c.m.Key, c.m.Channel, now, datosbot.OutboxFound)
		o.nudge()
		return true, false, err
	case errors.As(ferr, &rl):
		wait := max(rl.RetryAfter, time.Second)
		_, err := o.store.OutboxRequeue(ctx, c.m, c.token, c.attempts, now.Add(wait), false, datosbot.OutboxRateLimited)
		o.nudge()
		return true, false, err
	case errors.Is(ferr, errors.ErrUnsupported):
		return false, false, nil
	case ferr != nil:
		o.log.Warn("outbox: could not look up a message that may have been posted; posting it again may repeat it",
			"key", c.m.Key, "channel", c.m.Channel, "err", ferr)
		return false, false, nil
	}
	return false, true, nil
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
	Found            int64 // posts that may have been accepted, found on the platform and not posted again
	Uncertain        int64 // posts that may have been posted twice (see Outbox)
	Repeated         int64 // posts recorded twice: certain repeats
}

// Stats reads the counters; cmd/datosbot exports them as metrics.
func (o *Outbox) Stats(ctx context.Context) (Stats, error) {
	m, err := o.store.OutboxStats(ctx)
	if err != nil {
		return Stats{}, err
	}
	return Stats{Queued: m[datosbot.OutboxQueued], InFlight: m[datosbot.OutboxInFlight], Enqueued: m[datosbot.OutboxEnqueued],
		Duplicates: m[datosbot.OutboxDuplicates], Sent: m[datosbot.OutboxSent], Retried: m[datosbot.OutboxRetried],
		RateLimited: m[datosbot.OutboxRateLimited], Moved: m[datosbot.OutboxMoved], Failed: m[datosbot.OutboxFailed],
		Released: m[datosbot.OutboxReleased], Recovered: m[datosbot.OutboxRecovered], Found: m[datosbot.OutboxFound],
		Uncertain: m[datosbot.OutboxUncertain], Repeated: m[datosbot.OutboxRepeated]}, nil
}
