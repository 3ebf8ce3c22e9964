package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/datosbot/datosbot"
)

// SetActionDataCheck records the portal's later answer about one data URL
// of an action (a background re-check), replacing the check of that URL.
// ENOTFOUND.
func (s *Store) SetActionDataCheck(ctx context.Context, id string, c datosbot.DataCheck) (datosbot.Action, error) {
	ak := s.actionKey(id)
	var a datosbot.Action
	err := s.update(ctx, func(tx *redis.Tx) error {
		a = datosbot.Action{}
		if err := loadJSON(ctx, tx, ak, &a, actionNotFound(id)); err != nil {
			return err
		}
		replaced := false
		for i := range a.DataChecks {
			if a.DataChecks[i].URL == c.URL {
				a.DataChecks[i], replaced = c, true
			}
		}
		if !replaced {
			a.DataChecks = append(a.DataChecks, c)
		}
		_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, ak, mustJSON(a), 0)
			s.audit(ctx, p, "sistema", "accion.datos", id, string(c.Status)+" "+c.URL)
			return nil
		})
		return err
	}, ak)
	return a, err
}

// AddDataRecheck queues a data URL to be checked again at due.
func (s *Store) AddDataRecheck(ctx context.Context, r datosbot.DataRecheck, due time.Time) error {
	if r.ID == "" {
		return datosbot.Errorf(datosbot.EINVALID, "Falta el identificador de la verificación.")
	}
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, s.recheckJobsKey(), r.ID, mustJSON(r))
		p.ZAdd(ctx, s.recheckDueKey(), redis.Z{Score: float64(due.UnixMicro()), Member: r.ID})
		return nil
	})
	return s.wrap(err)
}

// addRecheckIfAbsentScript queues a re-check (KEYS[1] the jobs, KEYS[2]
// the due times) unless its id is queued already, whose attempts and due
// time it then leaves alone. Returns 1 when it queued it.
var addRecheckIfAbsentScript = redis.NewScript(`
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then
  return 0
end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
return 1
`)

// AddDataRecheckIfAbsent queues r at due unless a re-check with its id is
// queued already (the start-up catch-up, which must not reset one).
func (s *Store) AddDataRecheckIfAbsent(ctx context.Context, r datosbot.DataRecheck, due time.Time) (bool, error) {
	if r.ID == "" {
		return false, datosbot.Errorf(datosbot.EINVALID, "Falta el identificador de la verificación.")
	}
	n, err := addRecheckIfAbsentScript.Run(ctx, s.rdb, []string{s.recheckJobsKey(), s.recheckDueKey()},
		r.ID, mustJSON(r), due.UnixMicro()).Int()
	return n == 1, s.wrap(err)
}

// ActionsWithPendingDataChecks returns the actions, not withdrawn, with at
// least one data check still pendiente.
func (s *Store) ActionsWithPendingDataChecks(ctx context.Context) ([]datosbot.Action, error) {
	ids, err := s.rdb.ZRange(ctx, s.actionsKey(), 0, -1).Result()
	if err != nil {
		return nil, s.wrap(err)
	}
	actions, err := s.actionsByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	var out []datosbot.Action
	for _, a := range actions {
		if !a.Withdrawn && slices.ContainsFunc(a.DataChecks, func(c datosbot.DataCheck) bool { return c.Status == datosbot.CheckPendiente }) {
			out = append(out, a)
		}
	}
	return out, nil
}

// claimRechecksScript moves up to ARGV[3] due jobs (score ≤ ARGV[1]) to
// ARGV[2], so that another replica does not take them while they are
// checked, and returns their records.
var claimRechecksScript = redis.NewScript(`
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, id in ipairs(ids) do
  local rec = redis.call('HGET', KEYS[2], id)
  if rec then
    redis.call('ZADD', KEYS[1], ARGV[2], id)
    table.insert(out, rec)
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return out
`)

// ClaimDataRechecks returns up to limit re-checks due at now and holds
// them until now+lease: one that is neither rescheduled nor finished by
// then (its replica died) is due again.
func (s *Store) ClaimDataRechecks(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]datosbot.DataRecheck, error) {
	vals, err := claimRechecksScript.Run(ctx, s.rdb, []string{s.recheckDueKey(), s.recheckJobsKey()},
		now.UnixMicro(), now.Add(lease).UnixMicro(), limit).StringSlice()
	if err != nil {
		return nil, s.wrap(err)
	}
	out := make([]datosbot.DataRecheck, 0, len(vals))
	for _, v := range vals {
		var r datosbot.DataRecheck
		if err := json.Unmarshal([]byte(v), &r); err != nil {
			return nil, fmt.Errorf("storage: decode data recheck: %w", err)
		}
		out = append(out, r)
	}
	return out, nil
}

// FinishDataRecheck removes a re-check whose answer is known (or given up).
func (s *Store) FinishDataRecheck(ctx context.Context, id string) error {
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.ZRem(ctx, s.recheckDueKey(), id)
		p.HDel(ctx, s.recheckJobsKey(), id)
		return nil
	})
	return s.wrap(err)
}

// PendingDataRechecks counts the queued re-checks (for /metrics).
func (s *Store) PendingDataRechecks(ctx context.Context) (int64, error) {
	n, err := s.rdb.ZCard(ctx, s.recheckDueKey()).Result()
	return n, s.wrap(err)
}

// ---- the new-data watch ----

// PortalWatermark returns the watch's watermark and its floor, the start
// of its first run (both zero before it).
func (s *Store) PortalWatermark(ctx context.Context) (mark, floor time.Time, err error) {
	vals, err := s.rdb.HMGet(ctx, s.portalWatermarkKey(), "mark", "floor").Result()
	if err != nil {
		return mark, floor, s.wrap(err)
	}
	read := func(v any) (time.Time, error) {
		sv, ok := v.(string)
		if !ok {
			return time.Time{}, nil
		}
		us, err := strconv.ParseInt(sv, 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("storage: portal watermark %q: %w", sv, err)
		}
		return time.UnixMicro(us).UTC(), nil
	}
	if mark, err = read(vals[0]); err != nil {
		return
	}
	floor, err = read(vals[1])
	return
}

// SetPortalWatermark moves the watermark to t, never backwards; the first
// time it also sets the floor.
func (s *Store) SetPortalWatermark(ctx context.Context, t time.Time) error {
	k := s.portalWatermarkKey()
	return s.update(ctx, func(tx *redis.Tx) error {
		v, err := tx.HGet(ctx, k, "mark").Int64()
		if err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
		first := errors.Is(err, redis.Nil)
		if !first && v >= t.UnixMicro() {
			return nil
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.HSet(ctx, k, "mark", t.UnixMicro())
			if first {
				p.HSet(ctx, k, "floor", t.UnixMicro())
			}
			return nil
		})
		return err
	}, k)
}

// RecordPortalNotice stores what the watch saw, once per notice key, with
// a "publicar" entry in the audit trail in the same transaction (a notice
// counts as publicar). created is false when the key was recorded before.
func (s *Store) RecordPortalNotice(ctx context.Context, n datosbot.PortalNotice) (created bool, err error) {
	if n.Key == "" || n.Institution == "" {
		return false, datosbot.Errorf(datosbot.EINVALID, "El aviso del portal necesita clave e institución.")
	}
	hk := s.portalNoticesKey()
	err = s.update(ctx, func(tx *redis.Tx) error {
		exists, err := tx.HExists(ctx, hk, n.Key).Result()
		if err != nil || exists {
			created = false
			return err
		}
		score := float64(n.ChangedAt.UnixMicro())
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.HSet(ctx, hk, n.Key, mustJSON(n))
			p.ZAdd(ctx, s.portalNoticesByTimeKey(""), redis.Z{Score: score, Member: n.Key})
			p.ZAdd(ctx, s.portalNoticesByTimeKey(n.Institution), redis.Z{Score: score, Member: n.Key})
			detail := n.URL
			if n.HighValue {
				detail += " alto-valor"
			}
			s.audit(ctx, p, "sistema:portal", "publicar", n.Institution, detail+" (aviso del portal: "+n.Kind+")")
			return nil
		})
		created = err == nil
		return err
	}, hk)
	return created, err
}

// PortalNotices returns what the watch saw for institution key ("" for
// all) that changed on the portal at or after since, oldest first.
func (s *Store) PortalNotices(ctx context.Context, key string, since time.Time) ([]datosbot.PortalNotice, error) {
	lo := "-inf"
	if !since.IsZero() {
		lo = strconv.FormatInt(since.UnixMicro(), 10)
	}
	keys, err := s.rdb.ZRangeByScore(ctx, s.portalNoticesByTimeKey(key), &redis.ZRangeBy{Min: lo, Max: "+inf"}).Result()
	if err != nil {
		return nil, s.wrap(err)
	}
	out := make([]datosbot.PortalNotice, 0, len(keys))
	const batch = 500
	for start := 0; start < len(keys); start += batch {
		chunk := keys[start:min(start+batch, len(keys))]
		vals, err := s.rdb.HMGet(ctx, s.portalNoticesKey(), chunk...).Result()
		if err != nil {
			return nil, s.wrap(err)
		}
		for _, v := range vals {
			sv, ok := v.(string)
			if !ok {
				continue
			}
			var n datosbot.PortalNotice
			if err := json.Unmarshal([]byte(sv), &n); err != nil {
				return nil, fmt.Errorf("storage: decode portal notice: %w", err)
			}
			out = append(out, n)
		}
	}
	return out, nil
}
