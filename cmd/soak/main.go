// Command soak runs a campaign fan-out across several replica processes
// against a real redis-server and kills replicas with SIGKILL while it
// runs, then prints what reached the platforms:
//
//   - it starts redis-server on a free port (or uses -redis), and fake
//     Slack and Telegram Web APIs in this process that enforce the
//     documented limits with 429s, counting a post when it arrives:
//     Telegram 30 posts in any second overall and 20 per minute per group,
//     Slack one post per second per channel (conversations.history reads
//     back what was posted, with its metadata);
//   - it starts -replicas copies of itself as replica processes, each the
//     bot's delivery path (the outbox, the Router, the real Slack and
//     Telegram adapters) on that Redis;
//   - it enqueues the fan-out: -telegram groups, -telegram-busy of them
//     with -telegram-busy-posts posts each (more than 20, so that the
//     per-group limit of 20 a minute is exercised) and the rest with one,
//     and -slack channels with -slack-posts posts each (1,000 channels by
//     default);
//   - at -kills random instants between -calm and -kill-window it SIGKILLs
//     one replica and starts it again at once; the first -calm seconds
//     have no kill;
//   - when every message arrived (or -timeout after the last restart) it
//     prints, per platform, the messages lost and duplicated, the 429s, the
//     achieved rate against the limit over the whole run, in the opening
//     seconds without kills and in every calm second (no kill in it or the
//     second before) after which at least a second's worth (30) of posts
//     into one-post groups was still to come, with how many seconds each
//     figure measured (-per-second prints every second's count), the time
//     from the last restart to the last post, how many messages were in
//     flight at the kills and how long the longest of them waited for
//     another worker (see stranded), and the outbox's counters (found in
//     Slack's history, uncertain, repeated).
//
// Usage:
//
//	go run ./cmd/soak                   # about 70 s
//	go run ./cmd/soak -kills 0          # the same fan-out without kills
//	go run ./cmd/soak -redis redis://127.0.0.1:6379/0
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/bot"
	"github.com/datosbot/datosbot/bot/slack"
	"github.com/datosbot/datosbot/bot/telegram"
	"github.com/datosbot/datosbot/reminders"
	"github.com/datosbot/datosbot/storage"
)

const (
	telegramToken = "123456:soak"
	slackToken    = "xoxb-soak"
)

func main() {
	if os.Getenv("SOAK_REPLICA") != "" {
		runReplica()
		return
	}
	var (
		tgChats    = flag.Int("telegram", 700, "Telegram groups")
		tgBusy     = flag.Int("telegram-busy", 10, "of the Telegram groups, those with -telegram-busy-posts posts each (the rest have one)")
		tgBusyPost = flag.Int("telegram-busy-posts", 22, "posts per busy Telegram group, in order (over 20: the per-group limit of 20 a minute applies)")
		slackChs   = flag.Int("slack", 300, "Slack channels")
		slackPosts = flag.Int("slack-posts", 10, "posts per Slack channel, in order")
		replicas   = flag.Int("replicas", 3, "replica processes")
		kills      = flag.Int("kills", 20, "SIGKILLs of a random replica, each restarted at once")
		calm       = flag.Duration("calm", 10*time.Second, "no kill in this time from the start (the rate is measured without kills)")
		killWindow = flag.Duration("kill-window", 55*time.Second, "the kills happen at random instants between -calm and this time from the start")
		timeout    = flag.Duration("timeout", 2*time.Minute, "give up this long after the last restart")
		redisURL   = flag.String("redis", "", "Redis URL; empty: start redis-server on a free port")
		perSecond  = flag.Bool("per-second", false, "also print the Telegram posts in each second (up to the last kill or the last one-post group), marking the ones the calm rate measures")
		seed       = flag.Uint64("seed", uint64(time.Now().UnixNano()), "seed of the kill instants")
	)
	flag.Parse()
	var seconds io.Writer
	if *perSecond {
		seconds = os.Stdout
	}
	rng := rand.New(rand.NewPCG(*seed, 1))
	work, err := os.MkdirTemp("", "datosbot-soak-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(work)

	url := *redisURL
	if url == "" {
		stop, u := startRedis(work)
		defer stop()
		url = u
	}
	ctx := context.Background()
	prefix := fmt.Sprintf("soak-%d:", time.Now().UnixNano()) // a run of its own on a shared Redis
	store, err := storage.Open(ctx, storage.Config{URL: url, Prefix: prefix})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close(ctx)

	fake := newPlatforms()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go http.Serve(l, fake)
	apiBase := "http://" + l.Addr().String()

	self, err := os.Executable()
	if err != nil {
		log.Fatal(err)
	}
	procs := make([]*exec.Cmd, *replicas)
	start := func(i int) {
		logf, err := os.OpenFile(filepath.Join(work, fmt.Sprintf("replica%d.log", i)), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			log.Fatal(err)
		}
		cmd := exec.Command(self)
		cmd.Env = append(os.Environ(), "SOAK_REPLICA=1", "REDIS_URL="+url, "SOAK_PREFIX="+prefix, "SOAK_API="+apiBase)
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			log.Fatal(err)
		}
		logf.Close()
		procs[i] = cmd
	}
	for i := range procs {
		start(i)
	}
	defer func() {
		for _, p := range procs {
			p.Process.Signal(syscall.SIGTERM)
			p.Wait()
		}
	}()

	*tgBusy = min(*tgBusy, *tgChats)
	msgs := fanOut(*tgChats, *tgBusy, *tgBusyPost, *slackChs, *slackPosts, fake)
	ob := reminders.NewOutbox(reminders.OutboxConfig{Store: store})
	began := time.Now()
	if err := ob.Post(ctx, msgs...); err != nil {
		log.Fatal(err)
	}

	instants := make([]time.Duration, *kills)
	for i := range instants {
		instants[i] = *calm + time.Duration(rng.Int64N(int64(max(*killWindow-*calm, 1))))
	}
	sort.Slice(instants, func(i, j int) bool { return instants[i] < instants[j] })
	var (
		killedAt []time.Time
		strands  []map[string]string // the claims in flight at each kill
	)
	lastRestart := began
	for _, at := range instants {
		time.Sleep(time.Until(began.Add(at)))
		i := rng.IntN(len(procs))
		procs[i].Process.Kill()
		procs[i].Wait()
		killedAt = append(killedAt, time.Now())
		held, err := store.OutboxInFlight(ctx)
		if err != nil {
			log.Fatal(err)
		}
		strands = append(strands, held)
		start(i)
		lastRestart = time.Now()
	}
	deadline := lastRestart.Add(*timeout)
	for !fake.complete() && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // let late repeats show up
	st, err := ob.Stats(ctx)
	if err != nil {
		log.Fatal(err)
	}
	report(os.Stdout, fake, st, reportInfo{began: began, lastRestart: lastRestart, kills: killedAt, strands: strands, replicas: *replicas,
		tgChats: *tgChats, tgBusy: *tgBusy, tgBusyPost: *tgBusyPost, slackChs: *slackChs, slackPost: *slackPosts, seed: *seed, seconds: seconds})
}

// fanOut returns the campaign's messages and tells the fake platforms to
// expect them. Each message's key is in its text, so that the fakes can
// count it on either platform.
func fanOut(tgChats, tgBusy, tgBusyPosts, slackChs, slackPosts int, fake *platforms) []datosbot.Message {
	var msgs []datosbot.Message
	add := func(key string, ch datosbot.ChannelID) {
		msgs = append(msgs, datosbot.Message{Key: key, Channel: ch,
			Reply: datosbot.Reply{Title: "Campaña de difusión", Text: "Difundan el conjunto de datos. soak-key:" + key}})
		fake.expect(ch.Platform(), key)
	}
	for i := range tgChats {
		ch := datosbot.ChannelID(fmt.Sprintf("telegram:-100%07d", i))
		if i >= tgBusy {
			add("campana-anuncio:SOAK:"+string(ch), ch)
			fake.single["tg"+ch.Local()] = true
		}
	}
	for j := range tgBusyPosts {
		for i := range tgBusy {
			ch := datosbot.ChannelID(fmt.Sprintf("telegram:-100%07d", i))
			add(fmt.Sprintf("campana-%d:SOAK:%s", j+1, ch), ch)
		}
	}
	for j := range slackPosts {
		for i := range slackChs {
			ch := datosbot.ChannelID(fmt.Sprintf("slack:CS%05d", i))
			add(fmt.Sprintf("campana-%d:SOAK:%s", j+1, ch), ch)
		}
	}
	return msgs
}

// runReplica is one replica process: the bot's delivery path, until
// SIGTERM (or SIGKILL).
func runReplica() {
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer cancel()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	api := os.Getenv("SOAK_API")
	store, err := storage.Open(ctx, storage.Config{URL: os.Getenv("REDIS_URL"), Prefix: os.Getenv("SOAK_PREFIX"), Logger: logger})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close(context.Background())
	sa, err := slack.New(slack.Config{BotToken: slackToken, SigningSecret: "soak", APIURL: api + "/api/", Logger: logger})
	if err != nil {
		log.Fatal(err)
	}
	ta, err := telegram.New(ctx, telegram.Config{Token: telegramToken, APIURL: api, Logger: logger})
	if err != nil {
		log.Fatal(err)
	}
	ob := reminders.NewOutbox(reminders.OutboxConfig{Store: store, Sender: bot.NewRouter(sa, ta), Logger: logger})
	if err := ob.Run(ctx); err != nil {
		log.Fatal(err)
	}
}

// startRedis starts redis-server without persistence on a free port.
func startRedis(dir string) (stop func(), url string) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	cmd := exec.Command("redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		log.Fatalf("redis-server: %v (install Debian's redis-server, or pass -redis)", err)
	}
	url = "redis://127.0.0.1:" + port + "/0"
	for i := 0; ; i++ {
		c, err := net.Dial("tcp", "127.0.0.1:"+port)
		if err == nil {
			c.Close()
			break
		}
		if i > 100 {
			log.Fatal("redis-server did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return func() { cmd.Process.Kill(); cmd.Wait() }, url
}

// platforms is the fake Slack Web API (under /api/) and Telegram Bot API
// (under /bot<token>/).
type platforms struct {
	mu       sync.Mutex
	expected map[datosbot.Platform]map[string]bool
	accepted map[datosbot.Platform]map[string]int
	times    map[datosbot.Platform][]time.Time // accepted posts
	limited  map[datosbot.Platform]int
	perChat  map[string][]time.Time // accepted posts per chat or channel
	first    map[string]time.Time   // each message's first accepted post
	single   map[string]bool        // the Telegram groups with one post ("tg"+chat id)
	bulkEnd  time.Time              // the last post into a group of single
	singles  []time.Time            // the posts into the groups of a single post
	tgAll    []time.Time
	history  map[string][]map[string]any // Slack channel → messages, oldest first
	seq      int
}

func newPlatforms() *platforms {
	p := &platforms{expected: map[datosbot.Platform]map[string]bool{}, accepted: map[datosbot.Platform]map[string]int{},
		times: map[datosbot.Platform][]time.Time{}, limited: map[datosbot.Platform]int{}, perChat: map[string][]time.Time{},
		history: map[string][]map[string]any{}, single: map[string]bool{}, first: map[string]time.Time{}}
	for _, pl := range []datosbot.Platform{datosbot.Slack, datosbot.Telegram} {
		p.expected[pl] = map[string]bool{}
		p.accepted[pl] = map[string]int{}
	}
	return p
}

func (p *platforms) expect(pl datosbot.Platform, key string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.expected[pl][key] = true
}

func (p *platforms) complete() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for pl, keys := range p.expected {
		for k := range keys {
			if p.accepted[pl][k] == 0 {
				return false
			}
		}
	}
	return true
}

var keyRE = regexp.MustCompile(`soak-key:(\S+)`)

// within counts the times in ts after now-window.
func within(ts []time.Time, now time.Time, window time.Duration) (n int, oldest time.Time) {
	for i := len(ts) - 1; i >= 0 && now.Sub(ts[i]) < window; i-- {
		n, oldest = n+1, ts[i]
	}
	return n, oldest
}

// retryAfter is the wait until oldest leaves the window, in whole seconds
// rounded up, as the platforms answer it.
func retryAfter(oldest, now time.Time, window time.Duration) int {
	return int((oldest.Add(window).Sub(now) + time.Second - 1) / time.Second)
}

func (p *platforms) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if method, ok := strings.CutPrefix(r.URL.Path, "/bot"+telegramToken+"/"); ok {
		p.telegram(w, r, method)
		return
	}
	if method, ok := strings.CutPrefix(r.URL.Path, "/api/"); ok {
		r.ParseForm()
		switch method {
		case "chat.postMessage":
			p.slackPost(w, r)
		case "conversations.history":
			p.slackHistory(w, r)
		default:
			io.WriteString(w, `{"ok":true}`)
		}
		return
	}
	http.NotFound(w, r)
}

func (p *platforms) telegram(w http.ResponseWriter, r *http.Request, method string) {
	switch method {
	case "getMe":
		io.WriteString(w, `{"ok":true,"result":{"id":1,"is_bot":true,"first_name":"datosbot","username":"datosbot_soak_bot","can_read_all_group_messages":true}}`)
		return
	case "sendMessage":
	default:
		io.WriteString(w, `{"ok":true,"result":true}`)
		return
	}
	params := readParams(r)
	chat := params["chat_id"]
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	wait := 0
	if n, oldest := within(p.tgAll, now, time.Second); n >= 30 {
		wait = retryAfter(oldest, now, time.Second)
	}
	if strings.HasPrefix(chat, "-") {
		if n, oldest := within(p.perChat["tg"+chat], now, time.Minute); n >= 20 {
			wait = max(wait, retryAfter(oldest, now, time.Minute))
		}
	}
	if wait > 0 {
		p.limited[datosbot.Telegram]++
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprintf(w, `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after %d","parameters":{"retry_after":%d}}`, wait, wait)
		return
	}
	p.tgAll = append(p.tgAll, now)
	p.perChat["tg"+chat] = append(p.perChat["tg"+chat], now)
	if p.single["tg"+chat] {
		p.bulkEnd = now
		p.singles = append(p.singles, now)
	}
	p.accept(datosbot.Telegram, params["text"], now)
	p.seq++
	fmt.Fprintf(w, `{"ok":true,"result":{"message_id":%d,"date":%d,"chat":{"id":%s,"type":"supergroup"},"text":"ok"}}`, p.seq, now.Unix(), chat)
}

func (p *platforms) accept(pl datosbot.Platform, text string, now time.Time) {
	if m := keyRE.FindStringSubmatch(text); m != nil {
		p.accepted[pl][m[1]]++
		if _, ok := p.first[m[1]]; !ok {
			p.first[m[1]] = now
		}
	}
	p.times[pl] = append(p.times[pl], now)
}

func (p *platforms) slackPost(w http.ResponseWriter, r *http.Request) {
	ch := r.Form.Get("channel")
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if n, oldest := within(p.perChat["sl"+ch], now, time.Second); n >= 1 {
		p.limited[datosbot.Slack]++
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter(oldest, now, time.Second)))
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, `{"ok":false,"error":"ratelimited"}`)
		return
	}
	p.perChat["sl"+ch] = append(p.perChat["sl"+ch], now)
	p.accept(datosbot.Slack, r.Form.Get("text"), now)
	p.seq++
	ts := fmt.Sprintf("%d.%06d", now.Unix(), p.seq%1000000)
	msg := map[string]any{"type": "message", "bot_id": "B0SOAK", "text": r.Form.Get("text"), "ts": ts}
	if md := r.Form.Get("metadata"); md != "" {
		var v map[string]any
		if json.Unmarshal([]byte(md), &v) == nil {
			msg["metadata"] = v
		}
	}
	p.history[ch] = append(p.history[ch], msg)
	fmt.Fprintf(w, `{"ok":true,"channel":%q,"ts":%q}`, ch, ts)
}

// slackHistory answers conversations.history: newest first, from oldest
// on, a page of limit at a time, metadata only with include_all_metadata.
func (p *platforms) slackHistory(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	oldest, _ := strconv.ParseFloat(r.Form.Get("oldest"), 64)
	limit, _ := strconv.Atoi(r.Form.Get("limit"))
	skip, _ := strconv.Atoi(r.Form.Get("cursor"))
	all := p.history[r.Form.Get("channel")]
	page := []map[string]any{}
	next := ""
	for i := len(all) - 1 - skip; i >= 0; i-- {
		ts, _ := strconv.ParseFloat(all[i]["ts"].(string), 64)
		if ts < oldest {
			break
		}
		if limit > 0 && len(page) == limit {
			next = strconv.Itoa(len(all) - 1 - i)
			break
		}
		m := map[string]any{}
		for k, v := range all[i] {
			if k != "metadata" || r.Form.Get("include_all_metadata") == "1" {
				m[k] = v
			}
		}
		page = append(page, m)
	}
	json.NewEncoder(w).Encode(map[string]any{"ok": true, "messages": page, "has_more": next != "",
		"response_metadata": map[string]any{"next_cursor": next}})
}

// readParams reads a Bot API request's parameters (multipart or JSON).
func readParams(r *http.Request) map[string]string {
	out := map[string]string{}
	ct := r.Header.Get("Content-Type")
	switch {
	case strings.HasPrefix(ct, "multipart/form-data"):
		if err := r.ParseMultipartForm(1 << 20); err == nil {
			for k, v := range r.MultipartForm.Value {
				out[k] = v[0]
			}
		}
	case strings.HasPrefix(ct, "application/json"):
		var m map[string]any
		json.NewDecoder(r.Body).Decode(&m)
		for k, v := range m {
			if s, ok := v.(string); ok {
				out[k] = s
				continue
			}
			b, _ := json.Marshal(v)
			out[k] = string(b)
		}
	default:
		r.ParseForm()
		for k := range r.Form {
			out[k] = r.Form.Get(k)
		}
	}
	return out
}

type reportInfo struct {
	began, lastRestart          time.Time
	kills                       []time.Time
	strands                     []map[string]string // per kill, the claims in flight right after it
	replicas                    int
	tgChats, tgBusy, tgBusyPost int
	slackChs, slackPost         int
	seconds                     io.Writer // nil, or where to print the Telegram posts per second
	seed                        uint64
}

// report prints the soak's table.
func report(out io.Writer, p *platforms, st reminders.Stats, info reportInfo) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(out, "soak: %d channels (%d Telegram groups × 1 post, %d Telegram groups × %d posts, %d Slack channels × %d posts), %d replicas, %d SIGKILLs (seed %d)\n",
		info.tgChats+info.slackChs, info.tgChats-info.tgBusy, info.tgBusy, info.tgBusyPost, info.slackChs, info.slackPost,
		info.replicas, len(info.kills), info.seed)
	if len(info.kills) > 0 {
		fmt.Fprintf(out, "kills from %.1f s to %.1f s after the start\n", info.kills[0].Sub(info.began).Seconds(),
			info.kills[len(info.kills)-1].Sub(info.began).Seconds())
	}
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "platform\tmessages\tlost\tduplicated\t429s\tachieved\tbefore kills\tcalm seconds\tlimit\tfraction\t\n")
	var lastPost time.Time
	for _, pl := range []datosbot.Platform{datosbot.Telegram, datosbot.Slack} {
		lost, dupes := 0, 0
		for k := range p.expected[pl] {
			switch n := p.accepted[pl][k]; {
			case n == 0:
				lost++
			case n > 1:
				dupes += n - 1
			}
		}
		ts := p.times[pl]
		if len(ts) > 0 && ts[len(ts)-1].After(lastPost) {
			lastPost = ts[len(ts)-1]
		}
		achieved, opening, calm, limit, per := 0.0, "", "", 0.0, ""
		fraction := 0.0
		switch pl {
		case datosbot.Telegram:
			limit, per = 30, "/s overall"
			if len(ts) > 1 {
				achieved = float64(len(ts)-1) / ts[len(ts)-1].Sub(ts[0]).Seconds()
			}
			var kills []time.Time
			end := p.bulkEnd
			if len(info.kills) > 0 {
				kills = info.kills
				end = minTime(end, info.kills[len(info.kills)-1])
			}
			r, n := calmRate(ts, p.singles, kills, minTime(end, info.began.Add(time.Hour)), int(limit), info.seconds)
			if len(info.kills) > 0 {
				r0, n0 := calmRate(ts, p.singles, nil, minTime(end, info.kills[0]), int(limit), nil)
				opening = fmt.Sprintf("%.2f/s in %d s", r0, n0)
			} else {
				opening = fmt.Sprintf("%.2f/s in %d s", r, n)
			}
			calm, fraction = fmt.Sprintf("%.2f/s in %d s", r, n), r/limit
		case datosbot.Slack:
			limit, per = 1, "/s per channel"
			achieved = perChannelRate(p.perChat)
			opening, calm, fraction = "-", fmt.Sprintf("%.2f%s", achieved, per), achieved/limit
		}
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%d\t%.2f%s\t%s\t%s\t%g%s\t%.3f\t\n", pl, len(p.expected[pl]), lost, dupes, p.limited[pl],
			achieved, per, opening, calm, limit, per, fraction)
	}
	w.Flush()
	fmt.Fprintf(out, "last restart %.1f s after the start; last post %.1f s after the last restart (%.1f s after the start)\n",
		info.lastRestart.Sub(info.began).Seconds(), lastPost.Sub(info.lastRestart).Seconds(), lastPost.Sub(info.began).Seconds())
	if len(info.kills) > 0 {
		n, worst, which := stranded(p.first, info.kills, info.strands)
		fmt.Fprintf(out, "in flight at the kills and not posted yet: %d messages; the longest wait for another worker %.1f s after its kill (%s)\n",
			n, worst.Seconds(), which)
	}
	fmt.Fprintf(out, "outbox: sent %d, found in Slack's history %d, uncertain %d, repeated %d, recovered %d, rate-limited %d, retried %d\n",
		st.Sent, st.Found, st.Uncertain, st.Repeated, st.Recovered, st.RateLimited, st.Retried)
}

// stranded counts the messages in flight right after a kill (held by the
// killed replica or by a live one) that no platform had yet, and returns
// the longest wait of one claim of them: from the first kill after which
// the claim was seen to the message's first post, or, when a later kill
// found the message claimed anew, to that kill (an upper bound of when
// another worker took it). So a message the killed replica held counts
// until another worker posted or took it, and one taken by a replica that
// was killed in turn counts again from that kill; which is the message
// that waited longest. first is each key's
// first post; strands, per kill, the claims (key → token) in flight.
func stranded(first map[string]time.Time, kills []time.Time, strands []map[string]string) (n int, worst time.Duration, which string) {
	type claim struct{ key, token string }
	seen := map[claim]time.Time{} // each claim's first kill
	messages := map[string]bool{}
	for i, held := range strands {
		for k, token := range held {
			if at, ok := first[k]; ok && at.Before(kills[i]) {
				continue // posted before the kill, not yet recorded: a possible repeat, not a wait
			}
			messages[k] = true
			c := claim{k, token}
			if _, ok := seen[c]; ok {
				continue
			}
			seen[c] = kills[i]
			for old, since := range seen { // an earlier claim of k ended by this kill at the latest
				if old.key == k && old.token != token && since.Before(kills[i]) {
					if d := kills[i].Sub(since); d > worst {
						worst, which = d, k
					}
					delete(seen, old)
				}
			}
		}
	}
	for c, since := range seen {
		if at, ok := first[c.key]; ok && at.Sub(since) > worst { // never posted: counted as lost
			worst, which = at.Sub(since), c.key
		}
	}
	return len(messages), worst, which
}

func minTime(a, b time.Time) time.Time {
	if a.IsZero() || b.Before(a) {
		return b
	}
	return a
}

// calmRate is the Telegram rate in the whole seconds (from the first post
// on, before end) with no kill in them or in the second before, and how
// many seconds it measured: the pace the outbox keeps while no replica is
// dying. end is the last kill or the last post into a one-post group,
// whichever is first: after the last kill the queue runs dry while the
// dead replicas' last claims wait for their leases, and after the one-post
// groups only the busy groups remain, held by their limit of 20 a minute,
// so those seconds tell nothing of the platform-wide pace. -1 when none.
//
// Nor does a second after which fewer than limit posts into one-post
// groups were still to come (singles: their times): the last of those are
// the stragglers a kill stranded, back one by one as their leases end, so
// in such a second the queue had less than a second's worth of posts to
// give and a low count says nothing of the pace either. (end alone, the
// last straggler, let those seconds in: 8, 3, 4, 5 posts in seconds that
// counted as calm.) The rule looks only at the posts still to come, not at
// the second's own count, so it cannot pick the fast seconds.
//
// When seconds is not nil, calmRate writes there each second's count,
// marking the measured ones.
func calmRate(ts, singles, kills []time.Time, end time.Time, limit int, seconds io.Writer) (float64, int) {
	if len(ts) < 2 {
		return -1, 0
	}
	first := ts[0]
	buckets := int(minTime(ts[len(ts)-1], end).Sub(first) / time.Second) // whole seconds only
	if buckets <= 0 {
		return -1, 0
	}
	counts := make([]int, buckets)
	for _, t := range ts {
		if b := int(t.Sub(first) / time.Second); b < buckets {
			counts[b]++
		}
	}
	disturbed := make([]bool, buckets)
	for _, k := range kills {
		b := int(k.Sub(first) / time.Second)
		for _, d := range []int{b, b + 1} {
			if d >= 0 && d < buckets {
				disturbed[d] = true
			}
		}
	}
	for b := range buckets {
		after := first.Add(time.Duration(b+1) * time.Second)
		left := 0
		for _, t := range singles {
			if !t.Before(after) {
				left++
			}
		}
		if left < limit {
			disturbed[b] = true
		}
	}
	if seconds != nil {
		fmt.Fprintf(seconds, "telegram posts per second from the first (* measured):")
		for b, c := range counts {
			mark := ""
			if !disturbed[b] {
				mark = "*"
			}
			fmt.Fprintf(seconds, " %d%s", c, mark)
		}
		fmt.Fprintln(seconds)
	}
	n, sum := 0, 0
	for b, c := range counts {
		if !disturbed[b] {
			n++
			sum += c
		}
	}
	if n == 0 {
		return -1, 0
	}
	return float64(sum) / float64(n), n
}

// perChannelRate is the Slack posts per second within each channel (from
// its first post to its last), over the channels with more than one.
func perChannelRate(perChat map[string][]time.Time) float64 {
	spaced, span := 0, time.Duration(0)
	for ch, ts := range perChat {
		if strings.HasPrefix(ch, "sl") && len(ts) > 1 {
			spaced += len(ts) - 1
			span += ts[len(ts)-1].Sub(ts[0])
		}
	}
	if span == 0 {
		return 0
	}
	return float64(spaced) / span.Seconds()
}
