package storage

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/datosbot/datosbot"
)

// This file is the durable side of the delivery outbox and of the reminder
// scheduler (package reminders holds their logic). The outbox is a delay
// queue in the style of asynq: a sorted set of due message keys, a sorted
// set of claimed ones with a lease deadline, and a hash of keys ever
// finished, all moved by Lua scripts so that a message is claimed by one
// worker at a time and a key is enqueued at most once, forever.
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

// The scripts below name the outbox keys as KEYS[1]..KEYS[12] in the
// order of outboxKeys: due, inflight, msg, claim, posting, done, pace,
// failures, counters, order, starts, unsure.

// orderLua holds the functions of the scripts that keep each channel's
// order, in the fields of outboxOrderKey.
const orderLua = `
-- order_place returns the channel and ticket of message k, or nil.
local function order_place(k)
  local p = redis.call('HGET', KEYS[10], 'k:' .. k)
  if not p then return nil end
  local i = string.find(p, ' ', 1, true)
  return string.sub(p, 1, i - 1), tonumber(string.sub(p, i + 1))
end
-- order_add gives message k the next ticket of channel ch.
local function order_add(k, ch)
  local t = redis.call('HINCRBY', KEYS[10], 'n:' .. ch, 1)
  redis.call('HSET', KEYS[10], 't:' .. ch .. ' ' .. t, k, 'k:' .. k, ch .. ' ' .. t)
  redis.call('HSETNX', KEYS[10], 'h:' .. ch, t)
end
-- order_serve makes channel ch serve the first ticket from t on whose
-- message is queued or in flight, dropping the tickets before it, and
-- makes that message due at now if it is parked. With none left, ch is
-- forgotten.
local function order_serve(ch, t, now)
  local last = tonumber(redis.call('HGET', KEYS[10], 'n:' .. ch) or '0')
  while t <= last do
    local f = 't:' .. ch .. ' ' .. t
    local k = redis.call('HGET', KEYS[10], f)
    if k and redis.call('HEXISTS', KEYS[3], k) == 1 then
      redis.call('HSET', KEYS[10], 'h:' .. ch, t)
      local due = redis.call('ZSCORE', KEYS[1], k)
      if due and tonumber(due) > tonumber(now) then redis.call('ZADD', KEYS[1], now, k) end
      return
    end
    redis.call('HDEL', KEYS[10], f)
    if k and redis.call('HGET', KEYS[10], 'k:' .. k) == ch .. ' ' .. t then redis.call('HDEL', KEYS[10], 'k:' .. k) end
    t = t + 1
  end
  redis.call('HDEL', KEYS[10], 'h:' .. ch, 'n:' .. ch)
end
-- order_unlink removes message k from its channel's order; when the
-- channel served it, the next message is served. It returns the channel.
local function order_unlink(k, now)
  local ch, t = order_place(k)
  if not ch then return nil end
  redis.call('HDEL', KEYS[10], 'k:' .. k, 't:' .. ch .. ' ' .. t)
  if tonumber(redis.call('HGET', KEYS[10], 'h:' .. ch) or '0') == t then order_serve(ch, t + 1, now) end
  return ch
end
-- starts_done rescores the bucket entry of message k's post (see
-- postingScript) with now, the instant its outcome is recorded: the
-- platform counted the post somewhere between its start and now, and
-- counting it until now keeps a post whose request was slow from letting
-- the next ones arrive too close after it.
local function starts_done(k, now)
  local p = redis.call('HGET', KEYS[5], k)
  if not p then return end
  local i = string.find(p, ' ', 1, true)
  if not i or i == #p then return end
  redis.call('ZADD', KEYS[11], now, string.sub(p, i + 1) .. ' ' .. k .. ' ' .. string.sub(p, 1, i - 1))
end
-- mark_unsure records, when message k's post has started (KEYS[5]), that
-- the platform may have accepted it: KEYS[12] keeps the start of the
-- earliest such post, which bounds the search for it.
local function mark_unsure(k)
  local p = redis.call('HGET', KEYS[5], k)
  if not p then return end
  local i = string.find(p, ' ', 1, true)
  if i then p = string.sub(p, 1, i - 1) end
  redis.call('HSETNX', KEYS[12], k, p)
end
-- order_waits reports whether message k must wait for an earlier message
-- of its channel, queued or in flight.
local function order_waits(k, now)
  local ch, t = order_place(k)
  if not ch then return false end
  local h = tonumber(redis.call('HGET', KEYS[10], 'h:' .. ch) or '0')
  if h >= t then return false end
  local hk = redis.call('HGET', KEYS[10], 't:' .. ch .. ' ' .. h)
  if hk and redis.call('HEXISTS', KEYS[3], hk) == 1 then return true end
  order_serve(ch, h, now)
  h = tonumber(redis.call('HGET', KEYS[10], 'h:' .. ch) or '0')
  return h ~= 0 and h < t
end
`

// enqueueScript adds each (key, record, channel) triple unless the key is
// queued, in flight or finished, with the next ticket of its channel.
// ARGV: due µs, then key, record, channel triples.
var enqueueScript = redis.NewScript(orderLua + `
local added = 0
local total = 0
for i = 2, #ARGV, 3 do
  local k = ARGV[i]
  total = total + 1
  if redis.call('HEXISTS', KEYS[6], k) == 0 and redis.call('HEXISTS', KEYS[3], k) == 0 then
    redis.call('HSET', KEYS[3], k, ARGV[i+1])
    redis.call('ZADD', KEYS[1], ARGV[1], k)
    order_add(k, ARGV[i+2])
    added = added + 1
  end
end
if added > 0 then redis.call('HINCRBY', KEYS[9], 'enqueued', added) end
if total > added then redis.call('HINCRBY', KEYS[9], 'duplicates', total - added) end
return added
`)

// peekScript returns expired leases to the queue (a message whose post
// had started is marked unsure: its platform may have it), then lists up
// to ARGV[2] due keys with their records. ARGV: now µs, count.
var peekScript = redis.NewScript(orderLua + `
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, 1000)
for _, k in ipairs(expired) do
  redis.call('ZREM', KEYS[2], k)
  redis.call('HDEL', KEYS[4], k)
  mark_unsure(k)
  redis.call('HDEL', KEYS[5], k)
  if redis.call('HEXISTS', KEYS[3], k) == 1 and redis.call('HEXISTS', KEYS[6], k) == 0 then
    redis.call('ZADD', KEYS[1], ARGV[1], k)
  end
  redis.call('HINCRBY', KEYS[9], 'recovered', 1)
end
local keys = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for _, k in ipairs(keys) do
  out[#out+1] = k
  out[#out+1] = redis.call('HGET', KEYS[3], k) or ''
end
return out
`)

// claimScript claims candidates that are still due and served by their
// channel (a later one is parked until lease from now, see the top of
// this file), pacing them: a message's slot is the latest of now, its
// channel's next free instant and its bucket's; when the slot is within
// the horizon the message moves in flight (lease from its slot) and the
// channel and bucket advance, else it is rescheduled to when it could be
// claimed, so it stops hiding other channels' messages. ARGV: now µs,
// lease µs, horizon µs, token, limit, then per candidate: key, channel
// field, channel spacing µs, bucket field ("" for none), bucket spacing
// µs. Returns the earliest due score (-1 when nothing is queued) followed
// by key, slot, unsure triples (unsure: see mark_unsure, 0 for none).
var claimScript = redis.NewScript(orderLua + `
local now = tonumber(ARGV[1])
local lease = tonumber(ARGV[2])
local horizon = tonumber(ARGV[3])
local limit = tonumber(ARGV[5])
local out = {}
local n = 0
for i = 6, #ARGV, 5 do
  if n >= limit then break end
  local k, cf, ce, bf, be = ARGV[i], ARGV[i+1], tonumber(ARGV[i+2]), ARGV[i+3], tonumber(ARGV[i+4])
  local score = redis.call('ZSCORE', KEYS[1], k)
  if score and tonumber(score) <= now then
    if order_waits(k, now) then
      redis.call('ZADD', KEYS[1], now + lease, k)
    else
      local slot = now
      local cn = tonumber(redis.call('HGET', KEYS[7], cf) or '0')
      if cn > slot then slot = cn end
      if bf ~= '' then
        local bn = tonumber(redis.call('HGET', KEYS[7], bf) or '0')
        if bn > slot then slot = bn end
      end
      if slot > now + horizon then
        redis.call('ZADD', KEYS[1], slot - horizon, k)
      else
        if ce > 0 then redis.call('HSET', KEYS[7], cf, slot + ce) end
        if bf ~= '' and be > 0 then redis.call('HSET', KEYS[7], bf, slot + be) end
        redis.call('ZREM', KEYS[1], k)
        redis.call('ZADD', KEYS[2], slot + lease, k)
        redis.call('HSET', KEYS[4], k, ARGV[4])
        out[#out+1] = k
        out[#out+1] = slot
        out[#out+1] = tonumber(redis.call('HGET', KEYS[12], k) or '0')
        n = n + 1
      end
    end
  end
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local wake = -1
if first[2] then wake = tonumber(first[2]) end
table.insert(out, 1, wake)
return out
`)

// sentScript records a message as posted and lets its channel's next
// message go. A paced channel's last start ("s:<channel>") moves to now:
// the platform counted the post somewhere before now, so the channel's
// spacing is measured from now, however slow the request was. ARGV: key,
// "sent <µs>", channel, now µs, then the counters to increment besides
// "sent". It returns 0 when the key had already been recorded: a repeat.
var sentScript = redis.NewScript(orderLua + `
local k = ARGV[1]
starts_done(k, ARGV[4])
local sf = 's:' .. ARGV[3]
if redis.call('HEXISTS', KEYS[7], sf) == 1 then redis.call('HSET', KEYS[7], sf, ARGV[4]) end
redis.call('ZREM', KEYS[1], k)
redis.call('ZREM', KEYS[2], k)
redis.call('HDEL', KEYS[3], k)
redis.call('HDEL', KEYS[4], k)
redis.call('HDEL', KEYS[5], k)
redis.call('HDEL', KEYS[12], k)
redis.call('HDEL', KEYS[8], ARGV[3])
order_unlink(k, ARGV[4])
for i = 5, #ARGV do redis.call('HINCRBY', KEYS[9], ARGV[i], 1) end
if redis.call('HSETNX', KEYS[6], k, ARGV[2]) == 0 then
  redis.call('HINCRBY', KEYS[9], 'repeated', 1)
  return 0
end
redis.call('HINCRBY', KEYS[9], 'sent', 1)
return 1
`)

// requeueScript puts a claimed message back in the queue with a new
// record, if the caller's claim still holds it. A message whose channel
// changed (a chat's new id) leaves the old channel's order and takes the
// new one's next ticket. When ARGV[6] is "1" the post may have been
// accepted (it timed out): the message is marked unsure (see mark_unsure).
// ARGV: key, token, due µs, record, channel, unsure, then the counters to
// increment.
var requeueScript = redis.NewScript(orderLua + `
local k = ARGV[1]
if redis.call('HGET', KEYS[4], k) ~= ARGV[2] then return 0 end
local ch = order_place(k)
if ch and ch ~= ARGV[5] then
  order_unlink(k, ARGV[3])
  order_add(k, ARGV[5])
end
redis.call('ZREM', KEYS[2], k)
redis.call('HDEL', KEYS[4], k)
if ARGV[6] == '1' then mark_unsure(k) end
redis.call('HDEL', KEYS[5], k)
redis.call('HSET', KEYS[3], k, ARGV[4])
redis.call('ZADD', KEYS[1], ARGV[3], k)
for i = 7, #ARGV do redis.call('HINCRBY', KEYS[9], ARGV[i], 1) end
return 1
`)

// failScript finishes a claimed message as failed, records the failure
// of its channel and lets the channel's next message go, if the caller's
// claim still holds it. ARGV: key, token, "failed <µs>", channel, failure
// JSON, now µs.
var failScript = redis.NewScript(orderLua + `
local k = ARGV[1]
if redis.call('HGET', KEYS[4], k) ~= ARGV[2] then return 0 end
starts_done(k, ARGV[6])
redis.call('ZREM', KEYS[2], k)
redis.call('HDEL', KEYS[3], k)
order_unlink(k, ARGV[6])
redis.call('HDEL', KEYS[4], k)
redis.call('HDEL', KEYS[5], k)
redis.call('HDEL', KEYS[12], k)
redis.call('HSET', KEYS[6], k, ARGV[3])
redis.call('HSET', KEYS[8], ARGV[4], ARGV[5])
redis.call('HINCRBY', KEYS[9], 'failed', 1)
return 1
`)

// dropScript removes unreadable messages from the queue and from their
// channels' order. ARGV: now µs, then keys.
var dropScript = redis.NewScript(orderLua + `
for i = 2, #ARGV do
  redis.call('ZREM', KEYS[1], ARGV[i])
  redis.call('HDEL', KEYS[12], ARGV[i])
  order_unlink(ARGV[i], ARGV[1])
end
return 1
`)

// pauseScript moves pacing fields forward to ARGV[1] (µs), never back.
// ARGV: until, then fields.
var pauseScript = redis.NewScript(`
local till = tonumber(ARGV[1])
for i = 2, #ARGV do
  local cur = tonumber(redis.call('HGET', KEYS[7], ARGV[i]) or '0')
  if cur < till then redis.call('HSET', KEYS[7], ARGV[i], ARGV[1]) end
end
return 1
`)

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

// OutboxPace is how OutboxClaim paces one channel: at least Every between
// two posts into it, and at least BucketEvery between two posts of any
// channel sharing Bucket (a platform-wide limit; "" for none).
type OutboxPace = func(ch datosbot.ChannelID) (every time.Duration, bucket string, bucketEvery time.Duration)

// OutboxClaim claims up to limit due messages for one worker. It first
// returns to the queue the messages whose lease ended (a worker crashed or
// stalled). A claimed message gets a slot: the instant it may be posted,
// no later than now+horizon, given the pacing of its channel and bucket;
// its lease runs until slot+lease. claimed is called for each, with the
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
	pace func(ch datosbot.ChannelID) (every time.Duration, bucket string, bucketEvery time.Duration),
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
		every, bucket, bucketEvery := pace(rec.Message.Channel)
		bf := ""
		if bucket != "" {
			bf = "b:" + bucket
		}
		args = append(args, k, "c:"+string(rec.Message.Channel), ceilMicros(every), bf, ceilMicros(bucketEvery))
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

// postingScript starts the post of a claimed message, if the caller's
// claim still holds it and the post fits the limits counted at the
// instants posts actually start, across replicas: the channel's spacing
// after its last post ("s:<channel>" in the pace hash: its start, then the
// instant it was recorded as sent) and at most a bucket's limit of posts
// within its window (KEYS[11], members "<bucket> <key> <µs>", scored by
// the start and, once the post is recorded, by its end: see starts_done).
// When it fits, it records the start and marks the post as started
// ("<µs> <bucket>" in KEYS[5]). ARGV: key, token, now µs, channel, channel
// spacing µs, bucket ("" for none), bucket limit, bucket window µs.
// Returns -1 when the claim does not hold, 0 when started, else the µs to
// wait.
var postingScript = redis.NewScript(`
local k, now = ARGV[1], tonumber(ARGV[3])
if redis.call('HGET', KEYS[4], k) ~= ARGV[2] then return -1 end
local sf, every = 's:' .. ARGV[4], tonumber(ARGV[5])
local wait = 0
if every > 0 then
  local last = tonumber(redis.call('HGET', KEYS[7], sf) or '0')
  if last + every > now then wait = last + every - now end
end
local b, limit, window = ARGV[6], tonumber(ARGV[7]), tonumber(ARGV[8])
if b ~= '' and limit > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[11], '-inf', now - window)
  local recent = redis.call('ZRANGEBYSCORE', KEYS[11], '(' .. (now - window), '+inf', 'WITHSCORES')
  local n, oldest = 0, nil
  local p = b .. ' '
  for i = 1, #recent, 2 do
    if string.sub(recent[i], 1, #p) == p then
      n = n + 1
      if not oldest then oldest = tonumber(recent[i+1]) end
    end
  end
  if n >= limit and oldest + window - now + 1 > wait then wait = oldest + window - now + 1 end
end
if wait > 0 then return wait end
if every > 0 then
  redis.call('HSET', KEYS[7], sf, now)
  local cf = 'c:' .. ARGV[4]
  if tonumber(redis.call('HGET', KEYS[7], cf) or '0') < now + every then redis.call('HSET', KEYS[7], cf, now + every) end
end
if b ~= '' and limit > 0 then redis.call('ZADD', KEYS[11], now, b .. ' ' .. k .. ' ' .. now) end
redis.call('HSET', KEYS[5], k, now .. ' ' .. b)
return 0
`)

// OutboxPosting starts the post of a claimed message at now. The slots
// OutboxClaim gives are planned; a post may start late (a slow timer, a
// busy Redis) and the platform counts it when it arrives, so this gate
// measures from the instants posts really start, across replicas: when
// the post would come less than every after the channel's last one, or
// make more than bucketLimit starts of bucket ("" for none) within
// bucketWindow, it returns how long to wait and
// starts nothing. Otherwise it marks the post as started: if the lease of
// a message so marked expires before OutboxSent, the platform may have
// accepted it. It returns held false, doing nothing, when token no longer
// holds the message (its lease expired and it went back to the queue):
// the caller must not post it.
//
// Every bucket's members are dropped after the window of the post that
// starts, so the buckets must share one window (the outbox gives every
// platform-wide limit a window of about one second).
func (s *Store) OutboxPosting(ctx context.Context, key, token string, ch datosbot.ChannelID, now time.Time,
	every time.Duration, bucket string, bucketLimit int, bucketWindow time.Duration) (wait time.Duration, held bool, err error) {
	n, err := postingScript.Run(ctx, s.rdb, s.outboxKeys(), key, token, micros(now), string(ch), ceilMicros(every),
		bucket, bucketLimit, ceilMicros(bucketWindow)).Int64()
	if err != nil {
		return 0, false, s.wrap(err)
	}
	if n < 0 {
		return 0, false, nil
	}
	return time.Duration(n) * time.Microsecond, true, nil
}

// extendScript moves the lease of each claimed message forward to ARGV[1]
// (µs), never back, if the caller's claim still holds it. ARGV: until,
// then key, token pairs. It returns how many leases it holds.
var extendScript = redis.NewScript(`
local till = tonumber(ARGV[1])
local held = 0
for i = 2, #ARGV, 2 do
  local k = ARGV[i]
  if redis.call('HGET', KEYS[4], k) == ARGV[i+1] then
    local cur = tonumber(redis.call('ZSCORE', KEYS[2], k) or '0')
    if cur < till then redis.call('ZADD', KEYS[2], till, k) end
    held = held + 1
  end
end
return held
`)

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
// one to "sent" and to each of counters (e.g. "uncertain", "found"). It
// returns false when the key had already been recorded as finished, which
// means the message was posted twice (counted as "repeated").
func (s *Store) OutboxSent(ctx context.Context, key string, ch datosbot.ChannelID, now time.Time, counters ...string) (bool, error) {
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
// counters (e.g. "retried", "ratelimited", "moved", "released"). When
// maybePosted, its post started and may have been accepted (it timed
// out): OutboxClaim then reports it as unsure. It returns false, changing
// nothing, when token no longer holds the message (its lease expired and
// another worker claimed it).
func (s *Store) OutboxRequeue(ctx context.Context, m datosbot.Message, token string, attempts int, at time.Time,
	maybePosted bool, counters ...string) (bool, error) {
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
// outboxCountersKey) plus "queued" and "inflight", the current sizes of
// the queue.
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
	out := map[string]int64{"queued": due.Val(), "inflight": inflight.Val()}
	for k, v := range all.Val() {
		n, _ := strconv.ParseInt(v, 10, 64)
		out[k] = n
	}
	return out, nil
}

// ---- Reminder schedule ----

// SchedulerState reads, in one round trip, the scheduler's state (see
// schedulerKey: last, next, and seen, the number of campaigns when next
// was computed) and the current number of campaigns. Zero times mean the
// scheduler never ran.
func (s *Store) SchedulerState(ctx context.Context) (last, next time.Time, seen, campaigns int64, err error) {
	var (
		state *redis.SliceCmd
		card  *redis.IntCmd
	)
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		state = p.HMGet(ctx, s.schedulerKey(), "last", "next", "campaigns")
		card = p.ZCard(ctx, s.campaignsKey())
		return nil
	})
	if err != nil {
		return last, next, 0, 0, s.wrap(err)
	}
	num := func(v any) int64 {
		sv, _ := v.(string)
		n, _ := strconv.ParseInt(sv, 10, 64)
		return n
	}
	vals := state.Val()
	if n := num(vals[0]); n != 0 {
		last = time.UnixMicro(n)
	}
	if n := num(vals[1]); n != 0 {
		next = time.UnixMicro(n)
	}
	return last, next, num(vals[2]), card.Val(), nil
}

// SetSchedulerState writes the scheduler's state (see SchedulerState).
func (s *Store) SetSchedulerState(ctx context.Context, last, next time.Time, campaigns int64) error {
	return s.wrap(s.rdb.HSet(ctx, s.schedulerKey(), "last", micros(last), "next", micros(next), "campaigns", campaigns).Err())
}

// claimOccurrenceScript: "done" when finished, "claimed" after taking the
// lease, "busy" while another holder has it. ARGV: holder, ttl ms.
var claimOccurrenceScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v == false then
  redis.call('SET', KEYS[1], 'lease ' .. ARGV[1], 'PX', ARGV[2])
  return 'claimed'
end
if string.sub(v, 1, 5) == 'done ' then return 'done' end
if v == 'lease ' .. ARGV[1] then
  redis.call('SET', KEYS[1], v, 'PX', ARGV[2])
  return 'claimed'
end
return 'busy'
`)

// ClaimOccurrence takes the occurrence with key for holder for ttl, so
// that one scheduler at a time enqueues its messages. It returns "claimed",
// "busy" (another holder has it) or "done" (FinishOccurrence was called).
func (s *Store) ClaimOccurrence(ctx context.Context, key, holder string, ttl time.Duration) (string, error) {
	if holder == "" || ttl < time.Millisecond {
		return "", datosbot.Errorf(datosbot.EINVALID, "Reclamar una ocurrencia necesita un titular y una duración de al menos 1 ms.")
	}
	v, err := claimOccurrenceScript.Run(ctx, s.rdb, []string{s.occurrenceKey(key)}, holder, ttl.Milliseconds()).Text()
	return v, s.wrap(err)
}

// FinishOccurrence marks the occurrence with key done for good, with a
// short outcome ("sent 12", "stale").
func (s *Store) FinishOccurrence(ctx context.Context, key, outcome string) error {
	return s.wrap(s.rdb.Set(ctx, s.occurrenceKey(key), "done "+outcome, 0).Err())
}

// OccurrenceOutcome returns the outcome FinishOccurrence recorded for key,
// or "" when it is not done.
func (s *Store) OccurrenceOutcome(ctx context.Context, key string) (string, error) {
	v, err := s.rdb.Get(ctx, s.occurrenceKey(key)).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", s.wrap(err)
	}
	out, ok := strings.CutPrefix(v, "done ")
	if !ok {
		return "", nil
	}
	return out, nil
}

// LinkedSince returns the channels linked ("canal.vincular" in the audit
// trail) after since, with the time of their last link. It reads the trail
// backwards and stops at the first entry at or before since, so its cost
// follows the entries written since then, not the trail's length.
func (s *Store) LinkedSince(ctx context.Context, since time.Time) (map[datosbot.ChannelID]time.Time, error) {
	out := map[datosbot.ChannelID]time.Time{}
	const page = 500
	for end := int64(-1); ; end -= page {
		vals, err := s.rdb.LRange(ctx, s.auditKey(), end-page+1, end).Result()
		if err != nil {
			return nil, s.wrap(err)
		}
		for i := len(vals) - 1; i >= 0; i-- {
			var e datosbot.AuditEntry
			if err := json.Unmarshal([]byte(vals[i]), &e); err != nil {
				return nil, fmt.Errorf("storage: decode audit entry: %w", err)
			}
			if !e.At.After(since) {
				return out, nil
			}
			if e.Event == "canal.vincular" {
				if ch := datosbot.ChannelID(e.Target); out[ch].Before(e.At) {
					out[ch] = e.At
				}
			}
		}
		if len(vals) < page {
			return out, nil
		}
	}
}
