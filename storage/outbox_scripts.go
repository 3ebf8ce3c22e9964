package storage

import (
	"github.com/redis/go-redis/v9"

	"github.com/datosbot/datosbot"
)

// The Lua scripts of the delivery outbox (storage/outbox.go runs them).

// The scripts below name the outbox keys as KEYS[1]..KEYS[12] in the
// order of outboxKeys: due, inflight, msg, claim, posting, done, pace,
// failures, counters, order, starts, unsure.

// orderLua holds the functions the scripts share: those that keep each
// channel's order (in the fields of outboxOrderKey), mark a post unsure,
// and keep the counts posts are paced by.
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
-- post_start returns the start of message k's post (see postingScript)
-- and its bucket, or nil when its post has not started.
local function post_start(k)
  local p = redis.call('HGET', KEYS[5], k)
  if not p then return nil end
  local i = string.find(p, ' ', 1, true)
  if not i then return nil end
  return string.sub(p, 1, i - 1), string.sub(p, i + 1)
end
-- chat_done moves the start of message k's post in its channel ch's own
-- count ("w:<ch>" in the pace hash, when ch keeps one) to now.
local function chat_done(k, now, ch)
  local start = post_start(k)
  if not start or not ch then return end
  local wf = 'w:' .. ch
  local log = redis.call('HGET', KEYS[7], wf)
  if not log then return end
  local out, moved = {}, false
  for t in string.gmatch(log, '%S+') do
    if not moved and t == start then t, moved = now, true end
    out[#out+1] = t
  end
  redis.call('HSET', KEYS[7], wf, table.concat(out, ' '))
end
-- chat_live returns the entries of channel ch's own count ("w:<ch>" in
-- the pace hash: the starts, or ends once recorded, of its posts, µs)
-- still within window of now, as the strings stored and as numbers.
local function chat_live(ch, now, window)
  local kept, live = {}, {}
  for t in string.gmatch(redis.call('HGET', KEYS[7], 'w:' .. ch) or '', '%S+') do
    if tonumber(t) > now - window then
      kept[#kept+1] = t
      live[#live+1] = tonumber(t)
    end
  end
  return kept, live
end
-- chat_free returns the instant from which channel ch may have one more
-- post under its own limit of climit posts within any cwindow µs (0 when
-- it may now, or keeps no count).
local function chat_free(ch, now, climit, cwindow)
  if climit <= 0 then return 0 end
  local _, live = chat_live(ch, now, cwindow)
  if #live < climit then return 0 end
  table.sort(live)
  return live[#live - climit + 1] + cwindow + 1
end
-- starts_done rescores the counts of message k's post (see postingScript)
-- with now, the instant its outcome is recorded: the platform counted the
-- post somewhere between its start and now, and counting it until now
-- keeps a post whose request was slow from letting the next ones arrive
-- too close after it. The counts are its bucket's entry and its channel
-- ch's own (chat_done).
local function starts_done(k, now, ch)
  local start, b = post_start(k)
  if not start then return end
  if b ~= '' then redis.call('ZADD', KEYS[11], now, b .. ' ' .. k .. ' ' .. start) end
  chat_done(k, now, ch)
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
if added > 0 then redis.call('HINCRBY', KEYS[9], '` + datosbot.OutboxEnqueued + `', added) end
if total > added then redis.call('HINCRBY', KEYS[9], '` + datosbot.OutboxDuplicates + `', total - added) end
return added
`)

// peekScript returns expired leases to the queue, then lists up to
// ARGV[2] due keys with their records. A recovered message was claimed
// before anything still queued, so it goes to the front, in the order the
// leases ended, and is marked recovered ("r:<key>" in the order hash)
// until it is claimed again: held back by its platform's pace, it keeps
// its place (see claimScript) instead of waiting behind a fan-out's whole
// backlog. A message whose post had started is marked unsure: its
// platform may have it, and its channel's own count keeps it until now,
// when its worker is surely dead; the platform-wide bucket, a second
// long, is left alone: the post, if it arrived at all, arrived a lease
// ago. ARGV: now µs, count.
var peekScript = redis.NewScript(orderLua + `
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, 1000)
local front = tonumber(ARGV[1])
if #expired > 0 then
  local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  if first[2] and tonumber(first[2]) < front then front = tonumber(first[2]) end
  front = front - #expired
end
for i, k in ipairs(expired) do
  redis.call('ZREM', KEYS[2], k)
  redis.call('HDEL', KEYS[4], k)
  mark_unsure(k)
  chat_done(k, ARGV[1], (order_place(k)))
  redis.call('HDEL', KEYS[5], k)
  if redis.call('HEXISTS', KEYS[3], k) == 1 and redis.call('HEXISTS', KEYS[6], k) == 0 then
    redis.call('ZADD', KEYS[1], front + i - 1, k)
    redis.call('HSET', KEYS[10], 'r:' .. k, 1)
  end
  redis.call('HINCRBY', KEYS[9], '` + datosbot.OutboxRecovered + `', 1)
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
// channel's next free instant ("c:<channel>" in the pace hash), the
// instant its channel's own count lets one more post start (see
// chat_free) and its bucket's next free instant; when the slot is within
// the horizon the message moves in flight (lease from its slot) and the
// channel and bucket advance, else it is rescheduled to when it could be
// claimed, so it stops hiding other channels' messages and takes no slot
// it cannot use; a recovered message (see peekScript) a microsecond
// before the others held back until the same instant, so that it is
// claimed first when that instant comes (with equal scores Redis orders
// members by key, and a recovered message could wait behind the whole
// backlog). ARGV: now µs, lease µs, horizon µs, token, limit, then
// per candidate: key, channel, channel spacing µs, bucket field ("" for
// none), bucket spacing µs, channel limit (0 for none), channel window
// µs. Returns the earliest due score (-1 when nothing is queued) followed
// by key, slot, unsure triples (unsure: see mark_unsure, 0 for none).
var claimScript = redis.NewScript(orderLua + `
local now = tonumber(ARGV[1])
local lease = tonumber(ARGV[2])
local horizon = tonumber(ARGV[3])
local limit = tonumber(ARGV[5])
local out = {}
local n = 0
for i = 6, #ARGV, 7 do
  if n >= limit then break end
  local k, ch, ce, bf, be = ARGV[i], ARGV[i+1], tonumber(ARGV[i+2]), ARGV[i+3], tonumber(ARGV[i+4])
  local cf = 'c:' .. ch
  local score = redis.call('ZSCORE', KEYS[1], k)
  if score and tonumber(score) <= now then
    if order_waits(k, now) then
      redis.call('ZADD', KEYS[1], now + lease, k)
    else
      local slot = now
      local cn = tonumber(redis.call('HGET', KEYS[7], cf) or '0')
      if cn > slot then slot = cn end
      local free = chat_free(ch, now, tonumber(ARGV[i+5]), tonumber(ARGV[i+6]))
      if free > slot then slot = free end
      if bf ~= '' then
        local bn = tonumber(redis.call('HGET', KEYS[7], bf) or '0')
        if bn > slot then slot = bn end
      end
      if slot > now + horizon then
        local again = slot - horizon
        if redis.call('HEXISTS', KEYS[10], 'r:' .. k) == 1 then again = again - 1 end
        redis.call('ZADD', KEYS[1], again, k)
      else
        if ce > 0 then redis.call('HSET', KEYS[7], cf, slot + ce) end
        if bf ~= '' and be > 0 then redis.call('HSET', KEYS[7], bf, slot + be) end
        redis.call('ZREM', KEYS[1], k)
        redis.call('ZADD', KEYS[2], slot + lease, k)
        redis.call('HSET', KEYS[4], k, ARGV[4])
        redis.call('HDEL', KEYS[10], 'r:' .. k)
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
starts_done(k, ARGV[4], ARGV[3])
local sf = 's:' .. ARGV[3]
if redis.call('HEXISTS', KEYS[7], sf) == 1 then redis.call('HSET', KEYS[7], sf, ARGV[4]) end
redis.call('ZREM', KEYS[1], k)
redis.call('ZREM', KEYS[2], k)
redis.call('HDEL', KEYS[3], k)
redis.call('HDEL', KEYS[4], k)
redis.call('HDEL', KEYS[5], k)
redis.call('HDEL', KEYS[12], k)
redis.call('HDEL', KEYS[10], 'r:' .. k)
redis.call('HDEL', KEYS[8], ARGV[3])
order_unlink(k, ARGV[4])
for i = 5, #ARGV do redis.call('HINCRBY', KEYS[9], ARGV[i], 1) end
if redis.call('HSETNX', KEYS[6], k, ARGV[2]) == 0 then
  redis.call('HINCRBY', KEYS[9], '` + datosbot.OutboxRepeated + `', 1)
  return 0
end
redis.call('HINCRBY', KEYS[9], '` + datosbot.OutboxSent + `', 1)
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
starts_done(k, ARGV[6], ARGV[4])
redis.call('ZREM', KEYS[2], k)
redis.call('HDEL', KEYS[3], k)
order_unlink(k, ARGV[6])
redis.call('HDEL', KEYS[4], k)
redis.call('HDEL', KEYS[5], k)
redis.call('HDEL', KEYS[12], k)
redis.call('HDEL', KEYS[10], 'r:' .. k)
redis.call('HSET', KEYS[6], k, ARGV[3])
redis.call('HSET', KEYS[8], ARGV[4], ARGV[5])
redis.call('HINCRBY', KEYS[9], '` + datosbot.OutboxFailed + `', 1)
return 1
`)

// dropScript removes unreadable messages from the queue and from their
// channels' order. ARGV: now µs, then keys.
var dropScript = redis.NewScript(orderLua + `
for i = 2, #ARGV do
  redis.call('ZREM', KEYS[1], ARGV[i])
  redis.call('HDEL', KEYS[12], ARGV[i])
  redis.call('HDEL', KEYS[10], 'r:' .. ARGV[i])
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

// postingScript starts the post of a claimed message, if the caller's
// claim still holds it and the post fits the limits counted at the
// instants posts actually start, across replicas: the channel's spacing
// after its last post ("s:<channel>" in the pace hash: its start, then the
// instant it was recorded as sent), at most a bucket's limit of posts
// within its window (KEYS[11], members "<bucket> <key> <µs>", scored by
// the start and, once the post is recorded, by its end: see starts_done)
// and at most the channel's own limit within its window ("w:<channel>" in
// the pace hash: the starts, or ends once recorded, of its posts in the
// window, in µs). When it fits, it records the start and marks the post as
// started ("<µs> <bucket>" in KEYS[5]). The start is kept as the string
// the caller sent: a Lua number of 16 digits would be written rounded.
// ARGV: key, token, now µs, channel, channel spacing µs, bucket ("" for
// none), bucket limit, bucket window µs, channel limit (0 for none),
// channel window µs. Returns -1 when the claim does not hold, 0 when
// started, else the µs to wait.
var postingScript = redis.NewScript(orderLua + `
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
local climit, cwindow = tonumber(ARGV[9]), tonumber(ARGV[10])
local free = chat_free(ARGV[4], now, climit, cwindow)
if free - now > wait then wait = free - now end
if wait > 0 then return wait end
if every > 0 then
  redis.call('HSET', KEYS[7], sf, ARGV[3])
  local cf = 'c:' .. ARGV[4]
  if tonumber(redis.call('HGET', KEYS[7], cf) or '0') < now + every then redis.call('HSET', KEYS[7], cf, now + every) end
end
if climit > 0 then
  local kept = chat_live(ARGV[4], now, cwindow)
  kept[#kept+1] = ARGV[3]
  redis.call('HSET', KEYS[7], 'w:' .. ARGV[4], table.concat(kept, ' '))
end
if b ~= '' and limit > 0 then redis.call('ZADD', KEYS[11], ARGV[3], b .. ' ' .. k .. ' ' .. ARGV[3]) end
redis.call('HSET', KEYS[5], k, ARGV[3] .. ' ' .. b)
return 0
`)

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
