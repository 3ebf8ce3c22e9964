package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/datosbot/datosbot"
)

// This file is the durable side of the reminder scheduler (package
// reminders holds its logic): its state, the claims of its occurrences and
// the channels linked since an instant.

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

// claimOccurrenceScript: OccurrenceDone when finished, OccurrenceClaimed
// after taking the lease, OccurrenceBusy while another holder has it.
// ARGV: holder, ttl ms.
var claimOccurrenceScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v == false then
  redis.call('SET', KEYS[1], 'lease ' .. ARGV[1], 'PX', ARGV[2])
  return '` + datosbot.OccurrenceClaimed + `'
end
if string.sub(v, 1, 5) == 'done ' then return '` + datosbot.OccurrenceDone + `' end
if v == 'lease ' .. ARGV[1] then
  redis.call('SET', KEYS[1], v, 'PX', ARGV[2])
  return '` + datosbot.OccurrenceClaimed + `'
end
return '` + datosbot.OccurrenceBusy + `'
`)

// ClaimOccurrence takes the occurrence with key for holder for ttl, so
// that one scheduler at a time enqueues its messages. It returns
// datosbot.OccurrenceClaimed, OccurrenceBusy (another holder has it) or
// OccurrenceDone (FinishOccurrence was called).
func (s *Store) ClaimOccurrence(ctx context.Context, key, holder string, ttl time.Duration) (datosbot.OccurrenceClaim, error) {
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
