package storage

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/datosbot/datosbot"
)

// This file is the durable side of the delivery outbox (package reminders
// holds its logic; outbox_scripts.go its Lua scripts). The outbox is a
// delay queue in the style of asynq: a sorted set of due message keys, a
// sorted set of claimed ones with a lease deadline, and a hash of keys
// ever finished, all moved by Lua scripts so that a message is claimed by
// one worker at a time and a key is enqueued at most once, forever.
//
// A channel's messages are posted one at a time, in the order they were
// enqueued: each gets the channel's next ticket (outboxOrderKey), and only
// the message of the ticket the channel serves may be claimed. A later one
// found due is parked (rescheduled a lease ahead, so that it stops hiding
// other channels' messages) and is made due again when the one before it
// is sent, failed or moved to another chat. Each step is a few hash
// operations, no sorted-set range (which miniredis sorts in full). The
// parking time is only a safety net: a served ticket whose message is
// gone is skipped when met, so no channel stays blocked by it.
//
// Times are Unix microseconds: exact in a Lua number (a double) for
// centuries, and fine enough for Telegram's 30 posts per second.

func micros(t time.Time) int64 { return t.UnixMicro() }

// outboxRecord is a message queued or in flight.
type outboxRecord struct {
	Message  datosbot.Message `json:"m"`
	Attempts int              `json:"a,omitempty"` // transient failures so far
	Enqueued int64            `json:"q"`           // Unix µs it was last queued
}

// outboxFailure is the last permanent delivery failure of a channel.
type outboxFailure struct {
	Key    string    `json:"key"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// outboxKeys returns the outbox keys in the order every script declares them.
func (s *Store) outboxKeys() []string {
	return []string{s.outboxDueKey(), s.outboxInflightKey(), s.outboxMsgKey(), s.outboxClaimKey(),
		s.outboxPostingKey(), s.outboxDoneKey(), s.outboxPaceKey(), s.outboxFailuresKey(), s.outboxCountersKey(),
		s.outboxOrderKey(), s.outboxStartsKey(), s.outboxUnsureKey()}
}

// OutboxEnqueue queues msgs to be posted from at on. A message whose Key
// was ever enqueued (queued, in flight, sent or failed) is skipped, in the
// same atomic step, so the same key is posted at most once across replicas
// and restarts. It returns how many were new.
func (s *Store) OutboxEnqueue(ctx context.Context, at time.Time, msgs []datosbot.Message) (int, error) {
	added := 0
	const batch = 500
	for start := 0; start < len(msgs); start += batch {
		chunk := msgs[start:min(start+batch, len(msgs))]
		args := make([]any, 0, 1+3*len(chunk))
		args = append(args, micros(at))
		for _, m := range chunk {
			if m.Key == "" || m.Channel == "" || strings.ContainsAny(string(m.Channel), " \n") {
				return added, datosbot.Errorf(datosbot.EINVALID, "Un mensaje para la cola de envío necesita clave y canal válidos (clave %q, canal %q).", m.Key, m.Channel)
			}
			args = append(args, m.Key, mustJSON(outboxRecord{Message: m, Enqueued: micros(at)}), string(m.Channel))
		}
		n, err := enqueueScript.Run(ctx, s.rdb, s.outboxKeys(), args...).Int()
		if err != nil {
			return added, s.wrap(err)
		}
		added += n
	}
	return added, nil
}

// OutboxClaim claims up to limit due messages for one worker. It first
// returns to the queue the messages whose lease ended (a worker crashed or
// stalled). A claimed message gets a slot: the instant it may be posted,
// no later than now+horizon, given the pacing of its channel and bucket
// (pace: Every, BucketEvery, and ChatLimit in ChatWindow counted as
// OutboxPosting does); its lease runs until slot+lease. claimed is called for each, with the
// claim's token, the transient attempts so far and, when an earlier post
// of it may have been accepted by the platform (its lease expired after
// the post started, or the post timed out), the instant that post
// started; otherwise the zero time. OutboxClaim returns the
// earliest instant at which a queued message may be claimed, or the zero
// time when the queue is empty.
//
// A message whose channel or bucket is busy beyond the horizon is
// rescheduled to when it may be claimed, so one slow channel never hides
// the messages of others.
func (s *Store) OutboxClaim(ctx context.Context, now time.Time, limit int, lease, horizon time.Duration,
	pace func(ch datosbot.ChannelID) datosbot.PostPace,
	claimed func(m datosbot.Message, token string, attempts int, slot, unsure time.Time)) (time.Time, error) {
	if limit < 1 {
		limit = 1
	}
	keys := s.outboxKeys()
	peek, err := peekScript.Run(ctx, s.rdb, keys, micros(now), min(4*limit, 1000)).StringSlice()
	if err != nil {
		return time.Time{}, s.wrap(err)
	}
	token := newToken()
	args := []any{micros(now), lease.Microseconds(), horizon.Microseconds(), token, limit}
	records := make(map[string]outboxRecord, len(peek)/2)
	var orphans []string
	for i := 0; i+1 < len(peek); i += 2 {
		k, raw := peek[i], peek[i+1]
		var rec outboxRecord
		if raw == "" || json.Unmarshal([]byte(raw), &rec) != nil {
			orphans = append(orphans, k)
			continue
		}
		records[k] = rec
		pp := pace(rec.Message.Channel)
		bf := ""
		if pp.Bucket != "" {
			bf = "b:" + pp.Bucket
		}
		args = append(args, k, string(rec.Message.Channel), ceilMicros(pp.Every), bf, ceilMicros(pp.BucketEvery),
			pp.ChatLimit, ceilMicros(pp.ChatWindow))
	}
	if len(orphans) > 0 {
		if err := dropScript.Run(ctx, s.rdb, keys, append([]any{micros(now)}, anys(orphans)...)...).Err(); err != nil {
			return time.Time{}, s.wrap(err)
		}
	}
	res, err := claimScript.Run(ctx, s.rdb, keys, args...).Slice()
	if err != nil {
		return time.Time{}, s.wrap(err)
	}
	var wake time.Time
	if len(res) > 0 {
		if w, ok := res[0].(int64); ok && w >= 0 {
			wake = time.UnixMicro(w)
		}
	}
	for i := 1; i+2 < len(res); i += 3 {
		k, _ := res[i].(string)
		slot, _ := res[i+1].(int64)
		var unsure time.Time
		if u, _ := res[i+2].(int64); u > 0 {
			unsure = time.UnixMicro(u)
		}
		rec := records[k]
		claimed(rec.Message, token, rec.Attempts, time.UnixMicro(slot), unsure)
	}
	return wake, nil
}

// ceilMicros rounds d up to whole microseconds, so that pacing never runs
// faster than asked (1s/30 is 33334µs, not 33333µs).
func ceilMicros(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Microsecond - 1) / time.Microsecond)
}

func newToken() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// OutboxPosting starts the post of a claimed message at now. The slots
// OutboxClaim gives are planned; a post may start late (a slow timer, a
// busy Redis) and the platform counts it when it arrives, so this gate
// measures from the instants posts really start, across replicas: when
// the post would come less than pace.Every after the channel's last one,
// make more than pace.BucketLimit starts of pace.Bucket within
// pace.BucketWindow, or more than pace.ChatLimit posts into the channel
// within pace.ChatWindow, it returns how long to wait and starts nothing.
// Otherwise it marks the post as started: if the lease of a message so
// marked expires before OutboxSent, the platform may have accepted it. It
// returns held false, doing nothing, when token no longer holds the
// message (its lease expired and it went back to the queue): the caller
// must not post it.
//
// A post is counted from its start until its outcome is recorded (or its
// lease is found expired): the platform counted it somewhere in between.
// Every bucket's members are dropped after the window of the post that
// starts, so the buckets must share one window (the outbox gives every
// platform-wide limit a window of about one second); each channel keeps
// its own count.
func (s *Store) OutboxPosting(ctx context.Context, key, token string, ch datosbot.ChannelID, now time.Time,
	pace datosbot.PostPace) (wait time.Duration, held bool, err error) {
	n, err := postingScript.Run(ctx, s.rdb, s.outboxKeys(), key, token, micros(now), string(ch), ceilMicros(pace.Every),
		pace.Bucket, pace.BucketLimit, ceilMicros(pace.BucketWindow), pace.ChatLimit, ceilMicros(pace.ChatWindow)).Int64()
	if err != nil {
		return 0, false, s.wrap(err)
	}
	if n < 0 {
		return 0, false, nil
	}
	return time.Duration(n) * time.Microsecond, true, nil
}

// OutboxInFlight returns the messages claimed now, by any worker (posting,
// or waiting for their slot): message key → the claim's token, which a
// new claim of the same message changes.
func (s *Store) OutboxInFlight(ctx context.Context) (map[string]string, error) {
	var keys *redis.StringSliceCmd
	var claims *redis.MapStringStringCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		keys = p.ZRange(ctx, s.outboxInflightKey(), 0, -1)
		claims = p.HGetAll(ctx, s.outboxClaimKey())
		return nil
	})
	if err != nil {
		return nil, s.wrap(err)
	}
	held := make(map[string]string, len(keys.Val()))
	for _, k := range keys.Val() {
		held[k] = claims.Val()[k]
	}
	return held, nil
}

// OutboxExtend renews the leases of claimed messages (key → claim token)
// until until; it is the heartbeat of a live worker, so that a claim lasts
// while its worker does and a dead worker's claims return to the queue
// within one short lease. A message whose claim no longer holds (its lease
// expired and another worker may have it) is left alone. It returns how
// many of claims still hold.
func (s *Store) OutboxExtend(ctx context.Context, until time.Time, claims map[string]string) (int, error) {
	if len(claims) == 0 {
		return 0, nil
	}
	args := make([]any, 0, 1+2*len(claims))
	args = append(args, micros(until))
	for k, token := range claims {
		args = append(args, k, token)
	}
	n, err := extendScript.Run(ctx, s.rdb, s.outboxKeys(), args...).Int()
	if err != nil {
		return 0, s.wrap(err)
	}
	return n, nil
}

// OutboxSent records that the message with key was posted to ch, adding
// one to datosbot.OutboxSent and to each of counters (e.g. OutboxUncertain,
// OutboxFound). It
// returns false when the key had already been recorded as finished, which
// means the message was posted twice (counted as "repeated").
func (s *Store) OutboxSent(ctx context.Context, key string, ch datosbot.ChannelID, now time.Time, counters ...datosbot.OutboxCounter) (bool, error) {
	args := []any{key, "sent " + strconv.FormatInt(micros(now), 10), string(ch), micros(now)}
	for _, c := range counters {
		args = append(args, c)
	}
	n, err := sentScript.Run(ctx, s.rdb, s.outboxKeys(), args...).Int()
	if err != nil {
		return false, s.wrap(err)
	}
	return n == 1, nil
}

// OutboxRequeue puts a claimed message back in the queue, due at at, with
// its (possibly changed) channel and attempts, and adds one to each of
// counters (e.g. datosbot.OutboxRetried, OutboxRateLimited, OutboxMoved,
// OutboxReleased). When
// maybePosted, its post started and may have been accepted (it timed
// out): OutboxClaim then reports it as unsure. It returns false, changing
// nothing, when token no longer holds the message (its lease expired and
// another worker claimed it).
func (s *Store) OutboxRequeue(ctx context.Context, m datosbot.Message, token string, attempts int, at time.Time,
	maybePosted bool, counters ...datosbot.OutboxCounter) (bool, error) {
	rec := outboxRecord{Message: m, Attempts: attempts, Enqueued: micros(at)}
	unsure := "0"
	if maybePosted {
		unsure = "1"
	}
	args := []any{m.Key, token, micros(at), mustJSON(rec), string(m.Channel), unsure}
	for _, c := range counters {
		args = append(args, c)
	}
	n, err := requeueScript.Run(ctx, s.rdb, s.outboxKeys(), args...).Int()
	if err != nil {
		return false, s.wrap(err)
	}
	return n == 1, nil
}

// OutboxFail finishes a claimed message as failed (it is never posted
// again) and records reason as the last failure of its channel. It
// returns false, changing nothing, when token no longer holds it.
func (s *Store) OutboxFail(ctx context.Context, m datosbot.Message, token, reason string, now time.Time) (bool, error) {
	f := outboxFailure{Key: m.Key, Reason: reason, At: now}
	n, err := failScript.Run(ctx, s.rdb, s.outboxKeys(), m.Key, token, "failed "+strconv.FormatInt(micros(now), 10),
		string(m.Channel), mustJSON(f), micros(now)).Int()
	if err != nil {
		return false, s.wrap(err)
	}
	return n == 1, nil
}

// OutboxPause keeps channel ch, and bucket when not empty, from getting a
// slot before until (a platform's Retry-After). It never shortens a pause.
func (s *Store) OutboxPause(ctx context.Context, ch datosbot.ChannelID, bucket string, until time.Time) error {
	args := []any{micros(until), "c:" + string(ch)}
	if bucket != "" {
		args = append(args, "b:"+bucket)
	}
	return s.wrap(pauseScript.Run(ctx, s.rdb, s.outboxKeys(), args...).Err())
}

// OutboxFailures calls fn with the last permanent delivery failure of each
// of channels that has one (a later successful post clears it).
func (s *Store) OutboxFailures(ctx context.Context, channels []datosbot.ChannelID,
	fn func(ch datosbot.ChannelID, key, reason string, at time.Time)) error {
	if len(channels) == 0 {
		return nil
	}
	fields := make([]string, len(channels))
	for i, c := range channels {
		fields[i] = string(c)
	}
	vals, err := s.rdb.HMGet(ctx, s.outboxFailuresKey(), fields...).Result()
	if err != nil {
		return s.wrap(err)
	}
	for i, v := range vals {
		sv, ok := v.(string)
		if !ok {
			continue
		}
		var f outboxFailure
		if err := json.Unmarshal([]byte(sv), &f); err != nil {
			return fmt.Errorf("storage: decode delivery failure of %s: %w", channels[i], err)
		}
		fn(channels[i], f.Key, f.Reason, f.At)
	}
	return nil
}

// OutboxStats returns the cluster-wide delivery counters (see
// outboxCountersKey), by datosbot.OutboxCounter, plus OutboxQueued and
// OutboxInFlight, the current sizes of the queue.
func (s *Store) OutboxStats(ctx context.Context) (map[string]int64, error) {
	var (
		all           *redis.MapStringStringCmd
		due, inflight *redis.IntCmd
	)
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		all = p.HGetAll(ctx, s.outboxCountersKey())
		due = p.ZCard(ctx, s.outboxDueKey())
		inflight = p.ZCard(ctx, s.outboxInflightKey())
		return nil
	})
	if err != nil {
		return nil, s.wrap(err)
	}
	out := map[string]int64{datosbot.OutboxQueued: due.Val(), datosbot.OutboxInFlight: inflight.Val()}
	for k, v := range all.Val() {
		n, _ := strconv.ParseInt(v, 10, 64)
		out[k] = n
	}
	return out, nil
}
