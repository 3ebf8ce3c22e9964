// Command fanoutbench measures the delivery outbox and the reminder
// scheduler and prints a table:
//
//   - a campaign-like fan-out to 2,000 Telegram groups and 500 Slack
//     channels (3 posts each) through in-process fake platforms that answer
//     429 (a RateLimitError) whenever a documented limit would be exceeded:
//     Telegram 30 posts per second overall and 20 per minute per group,
//     Slack one post per second per channel. It reports the achieved rate
//     as a fraction of what the limits allow, the 429s received, and the
//     messages lost and duplicated;
//   - the cost of an idle scheduler tick (ns/op and Redis commands per
//     tick) for 100, 10,000 and 100,000 institutions.
//
// Usage:
//
//	go run ./cmd/fanoutbench                # about a minute
//	go run ./cmd/fanoutbench -scale 10      # limits ×10: faster, same fractions
//	go run ./cmd/fanoutbench -redis redis://127.0.0.1:6379/0   # fan-out on a real Redis
//
// The limits are scaled by -scale (default 4) so that the run stays short:
// with -scale 4 the fake Telegram accepts 120 posts per second and 80 per
// minute per group, and the outbox is paced accordingly. The fractions do
// not depend on the scale as long as Redis keeps up. Commands per tick are
// counted on the in-process server (miniredis).
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
		scale     = flag.Float64("scale", 4, "multiply every platform limit (and the outbox pacing) by this")
		redisURL  = flag.String("redis", "", "Redis URL for the fan-out; empty: in-process miniredis")
		instsFlag = flag.String("institutions", "100,10000,100000", "institution counts for the idle tick")
		ticks     = flag.Int("ticks", 2000, "idle ticks measured per institution count")
	)
	flag.Parse()
	ctx := context.Background()

	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "fan-out (limits ×%g)\tmessages\tseconds\tachieved/s\tlimit/s\tfraction\t429s\tlost\tduplicated\t\n", *scale)
	for _, r := range fanOut(ctx, *redisURL, *tgChats, *slackChs, *perSlack, *scale) {
		fmt.Fprintf(w, "%s\t%d\t%.2f\t%.1f\t%.1f\t%.3f\t%d\t%d\t%d\t\n",
			r.name, r.messages, r.elapsed.Seconds(), r.rate, r.limit, r.rate/r.limit, r.limited, r.lost, r.dupes)
	}
	w.Flush()
	fmt.Println()

	w = tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "idle tick\tinstitutions\tns/op\tRedis commands/tick\t\n")
	for _, f := range strings.Split(*instsFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			log.Fatalf("-institutions: %v", err)
		}
		ns, cmds := idleTick(ctx, n, *ticks)
		fmt.Fprintf(w, "\t%d\t%.0f\t%.1f\t\n", n, ns, cmds)
	}
	w.Flush()
}

// result is one platform's row of the fan-out table.
type result struct {
	name            string
	messages        int
	elapsed         time.Duration
	rate, limit     float64 // achieved and allowed, per second
	limited         int     // 429s answered
	lost, dupes     int
	expected        map[string]bool
	accepted        map[string]int
	first, last     time.Time
	window          []time.Time // Telegram: accepted times, for the global limit
	perChat         map[datosbot.ChannelID][]time.Time
	perChatN        int           // posts per chat allowed in perChatWindow
	perChatWindow   time.Duration //
	globalN         int           // posts allowed in globalWindow, 0 for none
	globalWindow    time.Duration
	mu              sync.Mutex
	idealPerChannel float64 // Slack: seconds the per-channel limit needs
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
		return &datosbot.RateLimitError{RetryAfter: wait}
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
// fits now.
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

func fanOut(ctx context.Context, url string, tgChats, slackChs, perSlack int, scale float64) []*result {
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
		globalN: int(30 * scale), globalWindow: time.Second, limit: 30 * scale}
	sl := &result{name: "slack", expected: map[string]bool{}, accepted: map[string]int{},
		perChat: map[datosbot.ChannelID][]time.Time{}, perChatN: 1, perChatWindow: sc(time.Second)}
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
	// Slack: each channel's posts need (perSlack-1) spacings of 1s/scale;
	// the workspace-wide limit is not published and not modelled.
	sl.idealPerChannel = float64(perSlack-1) / scale

	platform := &fakePlatform{byPlatform: map[datosbot.Platform]*result{datosbot.Telegram: tg, datosbot.Slack: sl}}
	ob := reminders.NewOutbox(reminders.OutboxConfig{Store: store, Sender: platform, Batch: 200, Concurrency: 64,
		Pace: map[datosbot.Platform]reminders.Pace{
			datosbot.Slack:    {Channel: sc(time.Second)},
			datosbot.Telegram: {Channel: sc(time.Second), Group: sc(3 * time.Second), Platform: sc(time.Second / 30)},
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
	// Achieved rate against what the limits allow: Telegram's global
	// limit binds (one post per group); Slack's per-channel limit binds.
	tg.rate = float64(tg.messages-1) / tg.elapsed.Seconds()
	sl.limit = float64(sl.messages) / sl.idealPerChannel
	sl.rate = float64(sl.messages) / sl.elapsed.Seconds()
	if st, err := ob.Stats(ctx); err == nil {
		fmt.Printf("outbox: sent %d, rate-limited %d, retried %d, failed %d, uncertain %d, repeated %d\n",
			st.Sent, st.RateLimited, st.Retried, st.Failed, st.Uncertain, st.Repeated)
	}
	return []*result{tg, sl}
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
