package storage

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/datosbot/datosbot"
)

// This file is the durable queue of evidence checks (package evidence
// holds their logic). Like the outbox it is a delay queue: a sorted set of
// due action ids, a sorted set of claimed ones with a lease deadline, and
// a hash of each queued check's state, moved by Lua scripts so that one
// replica at a time checks a given action. AddAction queues the check in
// the script that stores the action, so no stored action misses its
// check, whatever crashes when. Times are Unix microseconds.

// evidenceKeys returns the queue's keys in the order the scripts declare
// them.
func (s *Store) evidenceKeys() []string {
	return []string{s.evidenceDueKey(), s.evidenceLeaseKey(), s.evidenceJobKey()}
}

// queueEvidence queues the first check of an action, due at its
// registration. addActionScript does the same in Lua, with dueµs and
// firstJob.
func (s *Store) queueEvidence(ctx context.Context, p redis.Pipeliner, a datosbot.Action) {
	p.ZAddNX(ctx, s.evidenceDueKey(), redis.Z{Score: float64(dueµs(a)), Member: a.ID})
	p.HSetNX(ctx, s.evidenceJobKey(), a.ID, firstJob(a))
}

// dueµs is when the first check of a is due: at its registration.
func dueµs(a datosbot.Action) int64 { return a.RegisteredAt.UnixMicro() }

// firstJob is the state of a's check before it ran: no attempt yet, queued
// at its registration.
func firstJob(a datosbot.Action) string { return fmt.Sprintf("0 %d", dueµs(a)) }

// evidenceClaimScript returns expired leases to the queue (a replica died
// mid-check), then claims the earliest due check: it moves to the lease
// set and the job records the claim's token. It returns {id, job} or nil.
var evidenceClaimScript = redis.NewScript(`
local now, leaseEnd, token = tonumber(ARGV[1]), ARGV[2], ARGV[3]
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 100)
for _, id in ipairs(expired) do
  redis.call('ZREM', KEYS[2], id)
  redis.call('ZADD', KEYS[1], now, id)
end
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, 1)
if #ids == 0 then return false end
local id = ids[1]
local job = redis.call('HGET', KEYS[3], id)
redis.call('ZREM', KEYS[1], id)
if not job then return {id, ''} end
local attempt, since = string.match(job, '^(%d+) (%d+)')
redis.call('ZADD', KEYS[2], leaseEnd, id)
redis.call('HSET', KEYS[3], id, attempt .. ' ' .. since .. ' ' .. token)
return {id, job}
`)

// evidenceReleaseScript puts a claimed check back in the queue at ARGV[3]
// with its attempt count unchanged, if the claim is still ARGV[2]'s.
var evidenceReleaseScript = redis.NewScript(`
local job = redis.call('HGET', KEYS[3], ARGV[1])
if not job then return 0 end
local attempt, since, token = string.match(job, '^(%d+) (%d+) ?(%S*)')
if token ~= ARGV[2] then return 0 end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
redis.call('HSET', KEYS[3], ARGV[1], attempt .. ' ' .. since)
return 1
`)

// EvidenceClaim claims the earliest check due at now for lease, and
// returns its action id, the claim's token, how many checks of it have
// already run and when its first was queued. id is "" when none is due.
func (s *Store) EvidenceClaim(ctx context.Context, now time.Time, lease time.Duration) (id, token string, attempt int, since time.Time, err error) {
	token = evidenceToken()
	res, err := evidenceClaimScript.Run(ctx, s.rdb, s.evidenceKeys(), now.UnixMicro(), now.Add(lease).UnixMicro(), token).StringSlice()
	if errors.Is(err, redis.Nil) {
		return "", "", 0, time.Time{}, nil
	}
	if err != nil {
		return "", "", 0, time.Time{}, s.wrap(err)
	}
	if res[1] == "" {
		return "", "", 0, time.Time{}, nil // a due id without state: dropped by the script
	}
	attempt, sinceµs := parseEvidenceJob(res[1])
	return res[0], token, attempt, time.UnixMicro(sinceµs), nil
}

func parseEvidenceJob(job string) (attempt int, since int64) {
	f := strings.Fields(job)
	if len(f) >= 2 {
		attempt, _ = strconv.Atoi(f[0])
		since, _ = strconv.ParseInt(f[1], 10, 64)
	}
	return attempt, since
}

// EvidenceRelease puts a claimed check back in the queue, due at at,
// without counting an attempt (shutdown, a busy host). It reports false
// when the claim was lost (the lease expired and another replica took it).
func (s *Store) EvidenceRelease(ctx context.Context, id, token string, at time.Time) (bool, error) {
	n, err := evidenceReleaseScript.Run(ctx, s.rdb, s.evidenceKeys(), id, token, at.UnixMicro()).Int()
	return n == 1, s.wrap(err)
}

// EvidenceFinish records the outcome of a claimed check. With ev nil, or
// when the action is gone or withdrawn by now, the check is dropped and
// the action left as it is. Otherwise ev becomes the action's Evidence and, when retryAt
// is not zero, the check is queued again at retryAt with one more attempt;
// when it is zero the check is over. It reports false, changing nothing,
// when the claim was lost. The action and the queue change in one
// transaction.
func (s *Store) EvidenceFinish(ctx context.Context, id, token string, ev *datosbot.Evidence, retryAt time.Time) (bool, error) {
	ak, jk := s.actionKey(id), s.evidenceJobKey()
	var ok bool
	err := s.update(ctx, func(tx *redis.Tx) error {
		ok = false
		job, err := tx.HGet(ctx, jk, id).Result()
		if errors.Is(err, redis.Nil) {
			return nil
		}
		if err != nil {
			return err
		}
		f := strings.Fields(job)
		if len(f) < 3 || f[2] != token {
			return nil
		}
		attempt, since := parseEvidenceJob(job)
		var a datosbot.Action
		found, err := getJSON(ctx, tx, ak, &a)
		if err != nil {
			return err
		}
		if a.Withdrawn {
			ev = nil // withdrawn while it was being checked: not checked
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.ZRem(ctx, s.evidenceLeaseKey(), id)
			if ev != nil && found {
				a.Evidence = ev
				p.Set(ctx, ak, mustJSON(a), 0)
			}
			if ev != nil && found && !retryAt.IsZero() {
				p.HSet(ctx, jk, id, fmt.Sprintf("%d %d", attempt+1, since))
				p.ZAdd(ctx, s.evidenceDueKey(), redis.Z{Score: float64(retryAt.UnixMicro()), Member: id})
			} else {
				p.HDel(ctx, jk, id)
			}
			return nil
		})
		ok = err == nil
		return err
	}, ak, jk)
	return ok, err
}

// EvidenceQueued returns how many checks are waiting and how many are
// being run now, across replicas.
func (s *Store) EvidenceQueued(ctx context.Context) (due, running int64, err error) {
	due, err = s.rdb.ZCard(ctx, s.evidenceDueKey()).Result()
	if err != nil {
		return 0, 0, s.wrap(err)
	}
	running, err = s.rdb.ZCard(ctx, s.evidenceLeaseKey()).Result()
	return due, running, s.wrap(err)
}

// evidencePaceScript books the next turn on a host (KEYS[1]): the turn is
// the later of now and the host's next free instant, and the instant after
// it moves ARGV[2] further. A turn further than ARGV[3] ahead is not
// booked; the script then returns minus the host's next free instant. The
// key expires a second after that instant, so hosts checked once do not
// stay in Redis.
var evidencePaceScript = redis.NewScript(`
local now, every, maxWait = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local nextFree = tonumber(redis.call('GET', KEYS[1]) or '0')
local turn = math.max(now, nextFree)
if turn - now > maxWait then return -nextFree end
redis.call('SET', KEYS[1], string.format('%.0f', turn + every), 'PX', math.floor((turn + every - now) / 1000) + 1000)
return turn
`)

// EvidencePace books a turn to fetch from host, at most one every every
// across replicas. wait is how long until the turn; ok false means the
// host is booked more than maxWait ahead (then nothing is booked and wait
// is how long until it frees up).
func (s *Store) EvidencePace(ctx context.Context, host string, now time.Time, every, maxWait time.Duration) (wait time.Duration, ok bool, err error) {
	n, err := evidencePaceScript.Run(ctx, s.rdb, []string{s.evidencePaceKey(host)}, now.UnixMicro(),
		every.Microseconds(), maxWait.Microseconds()).Int64()
	if err != nil {
		return 0, false, s.wrap(err)
	}
	if n < 0 {
		return time.UnixMicro(-n).Sub(now), false, nil
	}
	return time.UnixMicro(n).Sub(now), true, nil
}

func evidenceToken() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// EvidenceBackfill queues, due at now, the check of every action that is
// not withdrawn, has no evidence and no queued check: actions registered
// before the checks existed, or imported without the queue. It returns how
// many it queued. Queueing is idempotent, so replicas starting together
// queue each once; an action checked meanwhile is checked once more.
func (s *Store) EvidenceBackfill(ctx context.Context, now time.Time) (int, error) {
	ids, err := s.rdb.ZRange(ctx, s.actionsKey(), 0, -1).Result()
	if err != nil {
		return 0, s.wrap(err)
	}
	actions, err := s.actionsByID(ctx, ids)
	if err != nil {
		return 0, err
	}
	queued, err := s.rdb.HKeys(ctx, s.evidenceJobKey()).Result()
	if err != nil {
		return 0, s.wrap(err)
	}
	inQueue := make(map[string]bool, len(queued))
	for _, id := range queued {
		inQueue[id] = true
	}
	n := 0
	p := s.rdb.Pipeline()
	for _, a := range actions {
		if a.Withdrawn || a.Evidence != nil || inQueue[a.ID] {
			continue
		}
		a.RegisteredAt = now // due now; the 24-hour window starts now
		s.queueEvidence(ctx, p, a)
		n++
	}
	if n > 0 {
		if _, err := p.Exec(ctx); err != nil {
			return 0, s.wrap(err)
		}
	}
	return n, nil
}
