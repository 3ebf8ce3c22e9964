// Command fanoutbench measures the delivery outbox and the reminder
// scheduler and prints a table:
//
//   - a campaign-like fan-out to 2,000 Telegram groups (one post each) and
//     500 Slack channels (3 posts each), both at once, through in-process
//     fake platforms that answer 429 (a RateLimitError) whenever a
//     documented limit would be exceeded: Telegram 30 posts per second
//     overall and 20 per minute per group, Slack one post per second per
//     channel. Like the real APIs, the fakes count a post when it arrives
//     and give Retry-After in whole seconds, rounded up. The binding limit
//     is Telegram's overall rate and Slack's per-channel rate (500
//     channels do not reach Slack's workspace-wide limit, which is not
//     published and not modelled), so the table reports Telegram's posts
//     per second overall and Slack's posts per second within each channel
//     (from each channel's first post to its last), as a fraction of the
//     limit, with the 429s answered and the messages lost and duplicated;
//   - the cost of an idle scheduler tick (µs and Redis commands per tick)
//     for 100, 10,000 and 100,000 institutions.
//
// Usage:
//
//	go run ./cmd/fanoutbench                # real limits: about 80 seconds
//	go run ./cmd/fanoutbench -scale 4       # time ×4: about 25 seconds
//	go run ./cmd/fanoutbench -redis redis://127.0.0.1:6379/0   # fan-out on a real Redis
//
// By default the fakes enforce the real limits on the real clock. -scale
// compresses time: with -scale 4 the fake Telegram accepts 30 posts in any
// 250 ms and 20 per 15 s per group, a Slack channel one post per 250 ms,
// Retry-After comes in multiples of 250 ms, and the outbox is paced
// accordingly. The table always shows rates in the platforms' own units
// (achieved per second divided by the scale). A larger scale makes timer
// jitter a larger part of each spacing, and needs 500×scale Slack posts
// per second from the outbox and its Redis; on the in-process miniredis
// with 2 cores that, not pacing, lowers Slack's fraction from -scale 4 on.
// Commands per tick are counted on the in-process server (miniredis).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/reminders"
	"github.com/datosbot/datosbot/storage"
)

func main() {
	var (
		tgChats   = flag.Int("telegram", 2000, "Telegram groups in the fan-out")
		slackChs  = flag.Int("slack", 500, "Slack channels in the fan-out")
		perSlack  = flag.Int("slack-posts", 3, "posts per Slack channel")
		scale     = flag.Float64("scale", 1, "compress time: multiply every platform limit (and the outbox pacing) by this")
		redisURL  = flag.String("redis", "", "Redis URL for the fan-out; empty: in-process miniredis")
		instsFlag = flag.String("institutions", "100,10000,100000", "institution counts for the idle tick")
		ticks     = flag.Int("ticks", 2000, "idle ticks measured per institution count")
	)
	flag.Parse()
	ctx := context.Background()

	results, st := fanOut(ctx, *redisURL, *tgChats, *slackChs, *perSlack, *scale)
	fmt.Printf("fan-out: %d Telegram groups × 1 post and %d Slack channels × %d posts at once, time ×%g\n",
		*tgChats, *slackChs, *perSlack, *scale)
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "platform\tmessages\tachieved\tlimit\tfraction\t429s\tlost\tduplicated\twall s\t\n")
	for _, r := range results {
		fmt.Fprintf(w, "%s\t%d\t%.2f/s %s\t%g/s %s\t%.3f\t%d\t%d\t%d\t%.1f\t\n",
			r.name, r.messages, r.rate, r.per, r.limit, r.per, r.rate/r.limit, r.limited, r.lost, r.dupes, r.elapsed.Seconds())
	}
	w.Flush()
	fmt.Printf("outbox counters: sent %d, rate-limited %d, retried %d, failed %d, uncertain %d, repeated %d\n\n",
		st.Sent, st.RateLimited, st.Retried, st.Failed, st.Uncertain, st.Repeated)

	w = tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "idle tick\tinstitutions\tµs/tick\tRedis commands/tick\t\n")
	for _, f := range strings.Split(*instsFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			log.Fatalf("-institutions: %v", err)
		}
		ns, cmds := idleTick(ctx, n, *ticks)
		fmt.Fprintf(w, "\t%d\t%.1f\t%.1f\t\n", n, ns/1e3, cmds)
	}
	w.Flush()
}

// result is one platform's fake API and its row of the fan-out table.
type result struct {
	name        string
	messages    int
	elapsed     time.Duration // from Post to the last accepted post
	rate, limit float64       // achieved and allowed, per platform second
	per         string        // what rate and limit count: "overall", "per channel"
	limited     int           // 429s answered
	lost, dupes int

	mu            sync.Mutex
	expected      map[string]bool
	accepted      map[string]int
	first, last   time.Time
	window        []time.Time // accepted times, for the global limit
	perChat       map[datosbot.ChannelID][]time.Time
	perChatN      int           // posts per chat allowed in perChatWindow
	perChatWindow time.Duration //
	globalN       int           // posts allowed in globalWindow, 0 for none
	globalWindow  time.Duration
	second        time.Duration // one platform second: Retry-After is a whole number of them
}

// fakePlatform is an in-process platform API that enforces sliding-window
// limits with 429s, like the real ones do.
type fakePlatform struct {
	byPlatform map[datosbot.Platform]*result
}

func (f *fakePlatform) Deliver(ctx context.Context, m datosbot.Message) error {
	r := f.byPlatform[m.Channel.Platform()]
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	if wait := r.wait(now, m.Channel); wait > 0 {
		r.limited++
		// Slack's Retry-After header and Telegram's retry_after are whole
		// seconds; a client that waits that long is never refused again
		// for the same limit.
		return &datosbot.RateLimitError{RetryAfter: (wait + r.second - 1) / r.second * r.second}
	}
	r.perChat[m.Channel] = append(r.perChat[m.Channel], now)
	if r.globalN > 0 {
		r.window = append(r.window, now)
	}
	r.accepted[m.Key]++
	if r.first.IsZero() {
		r.first = now
	}
	r.last = now
	return nil
}

// wait returns how long until a post to ch fits every limit; 0 if it
// fits now. The limits are sliding windows: at most perChatN posts into a
// chat in any perChatWindow, at most globalN in any globalWindow. For
// Slack that is at most one post into a channel in any second, the
// documented rate; Slack also allows "short bursts", which the fake
// refuses, so it is stricter than Slack, never laxer.
func (r *result) wait(now time.Time, ch datosbot.ChannelID) time.Duration {
	var wait time.Duration
	if ts := r.perChat[ch]; len(ts) >= r.perChatN {
		if d := ts[len(ts)-r.perChatN].Add(r.perChatWindow).Sub(now); d > wait {
			wait = d
		}
	}
	if r.globalN > 0 && len(r.window) >= r.globalN {
		if d := r.window[len(r.window)-r.globalN].Add(r.globalWindow).Sub(now); d > wait {
			wait = d
		}
	}
	return wait
}

func fanOut(ctx context.Context, url string, tgChats, slackChs, perSlack int, scale float64) ([]*result, reminders.Stats) {
	if url == "" {
		m, err := miniredis.Run()
		if err != nil {
			log.Fatal(err)
		}
		defer m.Close()
		url = "redis://" + m.Addr()
	}
	store, err := storage.Open(ctx, storage.Config{URL: url, Prefix: fmt.Sprintf("fanoutbench-%d:", time.Now().UnixNano())})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close(ctx)

	sc := func(d time.Duration) time.Duration { return time.Duration(float64(d) / scale) }
	tg := &result{name: "telegram", expected: map[string]bool{}, accepted: map[string]int{},
		perChat: map[datosbot.ChannelID][]time.Time{}, perChatN: 20, perChatWindow: sc(time.Minute),
		globalN: 30, globalWindow: sc(time.Second), second: sc(time.Second), limit: 30, per: "overall"}
	sl := &result{name: "slack", expected: map[string]bool{}, accepted: map[string]int{},
		perChat: map[datosbot.ChannelID][]time.Time{}, perChatN: 1, perChatWindow: sc(time.Second),
		second: sc(time.Second), limit: 1, per: "per channel"}
	var msgs []datosbot.Message
	for i := range tgChats {
		ch := datosbot.ChannelID(fmt.Sprintf("telegram:-100%07d", i))
		msgs = append(msgs, datosbot.Message{Key: "campana-anuncio:CB1:" + string(ch), Channel: ch,
			Reply: datosbot.Reply{Title: "Campaña CB1", Text: "Difundan el conjunto de datos."}})
		tg.expected[msgs[len(msgs)-1].Key] = true
	}
	for j := range perSlack {
		for i := range slackChs {
			ch := datosbot.ChannelID(fmt.Sprintf("slack:CB%05d", i))
			msgs = append(msgs, datosbot.Message{Key: fmt.Sprintf("campana-anuncio:CB%d:%s", j+1, ch), Channel: ch,
				Reply: datosbot.Reply{Title: "Campaña", Text: "Difundan el conjunto de datos."}})
			sl.expected[msgs[len(msgs)-1].Key] = true
		}
	}
	platform := &fakePlatform{byPlatform: map[datosbot.Platform]*result{datosbot.Telegram: tg, datosbot.Slack: sl}}
	ob := reminders.NewOutbox(reminders.OutboxConfig{Store: store, Sender: platform, Batch: 200, Concurrency: 64,
		Pace: map[datosbot.Platform]reminders.Pace{
			datosbot.Slack:    {Channel: sc(time.Second)},
			datosbot.Telegram: {Channel: sc(time.Second), GroupLimit: 20, GroupWindow: sc(time.Minute), Platform: sc(time.Second / 30), PlatformWindow: sc(time.Second)},
		}})
	start := time.Now()
	if err := ob.Post(ctx, msgs...); err != nil {
		log.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { ob.Run(runCtx); close(done) }()
	deadline := time.Now().Add(100 * time.Second)
	for time.Now().Before(deadline) {
		if complete(tg) && complete(sl) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // let late duplicates, if any, show up
	cancel()
	<-done

	for _, r := range []*result{tg, sl} {
		r.mu.Lock()
		for k := range r.expected {
			switch n := r.accepted[k]; {
			case n == 0:
				r.lost++
			case n > 1:
				r.dupes += n - 1
			}
		}
		r.messages = len(r.expected)
		r.elapsed = r.last.Sub(start)
		r.mu.Unlock()
	}
	// Achieved rates in platform seconds (wall seconds × scale). Telegram:
	// its overall limit binds (one post per group), from the first
	// accepted post to the last. Slack: the per-channel limit binds, so
	// the rate is the channels' posts after their first over the time
	// from their first post to their last, summed over channels.
	tg.rate = float64(tg.messages-1) / tg.last.Sub(tg.first).Seconds() / scale
	var spaced int
	var span time.Duration
	for _, ts := range sl.perChat {
		if len(ts) > 1 {
			spaced += len(ts) - 1
			span += ts[len(ts)-1].Sub(ts[0])
		}
	}
	if span > 0 {
		sl.rate = float64(spaced) / span.Seconds() / scale
	}
	st, err := ob.Stats(ctx)
	if err != nil {
		log.Fatal(err)
	}
	return []*result{tg, sl}, st
}

func complete(r *result) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.accepted) == len(r.expected)
}

// idleTick measures the scheduler's tick when nothing is due, with n
// institutions (each with one channel) in an in-process Redis.
func idleTick(ctx context.Context, n, ticks int) (nsPerTick, cmdsPerTick float64) {
	m, err := miniredis.Run()
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	store, err := storage.Open(ctx, storage.Config{URL: "redis://" + m.Addr(), Prefix: "bench:"})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close(ctx)
	snap := &storage.Snapshot{Version: storage.SnapshotVersion}
	created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		key := fmt.Sprintf("inst%06d", i)
		snap.Institutions = append(snap.Institutions, datosbot.Institution{Key: key, Name: "Institución " + key, Active: true,
			Channels: []datosbot.ChannelID{datosbot.ChannelID("slack:C" + key)}, CreatedAt: created})
	}
	if err := store.Import(ctx, snap); err != nil {
		log.Fatalf("import %d institutions: %v", n, err)
	}
	now := time.Date(2026, 12, 14, 15, 0, 0, 0, time.UTC)
	sched := &reminders.Scheduler{Store: store, Outbox: reminders.NewOutbox(reminders.OutboxConfig{Store: store}),
		Now: func() time.Time { return now }}
	if err := sched.Tick(ctx); err != nil { // the first tick records the schedule
		log.Fatal(err)
	}
	before := m.CommandCount()
	start := time.Now()
	for range ticks {
		if err := sched.Tick(ctx); err != nil {
			log.Fatal(err)
		}
	}
	elapsed := time.Since(start)
	cmds := float64(m.CommandCount()-before) / float64(ticks)
	return float64(elapsed.Nanoseconds()) / float64(ticks), cmds
}
