package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/datosbot/datosbot"
)

// signInRecord is one dashboard sign-in link (signInKey).
type signInRecord struct {
	User    datosbot.UserID `json:"user"`
	Expires time.Time       `json:"expires"`
	UsedAt  time.Time       `json:"used_at,omitzero"`
}

// sessionRecord is one dashboard session (sessionKey).
type sessionRecord struct {
	User      datosbot.UserID `json:"user"`
	CreatedAt time.Time       `json:"created_at"`
}

// signInMemory is how long a sign-in record outlives its link, so that
// opening it later says "used" or "expired" instead of "not valid".
const signInMemory = 24 * time.Hour

// CreateSignIn stores a sign-in link for user by the digest of its token,
// valid until expires. ECONFLICT when the digest exists (a token drawn
// twice: draw another).
func (s *Store) CreateSignIn(ctx context.Context, digest string, user datosbot.UserID, expires time.Time) error {
	rec := mustJSON(signInRecord{User: user, Expires: expires})
	ttl := max(expires.Sub(s.now()), 0) + signInMemory
	ok, err := s.rdb.SetNX(ctx, s.signInKey(digest), rec, ttl).Result()
	if err != nil {
		return s.wrap(err)
	}
	if !ok {
		return datosbot.Errorf(datosbot.ECONFLICT, "sign-in token drawn twice")
	}
	return nil
}

// RedeemSignIn uses the sign-in link of digest at now, once: it returns
// the person it is bound to, when it expires and when it had been used
// before (zero the first time). The link is redeemed only when usedAt is
// zero and now is before expires; the caller tells the person which case
// it was. ENOTFOUND for a digest never issued (or forgotten a day after).
func (s *Store) RedeemSignIn(ctx context.Context, digest string, now time.Time) (user datosbot.UserID, expires, usedAt time.Time, err error) {
	k := s.signInKey(digest)
	err = s.update(ctx, func(tx *redis.Tx) error {
		var rec signInRecord
		if err := loadJSON(ctx, tx, k, &rec, datosbot.Errorf(datosbot.ENOTFOUND, "El enlace de acceso no es válido.")); err != nil {
			return err
		}
		user, expires, usedAt = rec.User, rec.Expires, rec.UsedAt
		if !rec.UsedAt.IsZero() || !now.Before(rec.Expires) {
			return nil
		}
		rec.UsedAt = now
		_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.SetArgs(ctx, k, mustJSON(rec), redis.SetArgs{KeepTTL: true})
			return nil
		})
		return err
	}, k)
	return user, expires, usedAt, err
}

// CreateSession stores a dashboard session for user by the digest of its
// cookie, for ttl.
func (s *Store) CreateSession(ctx context.Context, digest string, user datosbot.UserID, ttl time.Duration) error {
	rec := mustJSON(sessionRecord{User: user, CreatedAt: s.now()})
	return s.wrap(s.rdb.Set(ctx, s.sessionKey(digest), rec, ttl).Err())
}

// Session returns the person of the session of digest. ENOTFOUND when it
// never existed or has expired.
func (s *Store) Session(ctx context.Context, digest string) (datosbot.UserID, error) {
	var rec sessionRecord
	err := loadJSON(ctx, s.rdb, s.sessionKey(digest), &rec, datosbot.Errorf(datosbot.ENOTFOUND, "La sesión no existe o caducó."))
	return rec.User, s.wrap(err)
}

// DeleteSession ends the session of digest (signing out).
func (s *Store) DeleteSession(ctx context.Context, digest string) error {
	return s.wrap(s.rdb.Del(ctx, s.sessionKey(digest)).Err())
}

// ActionsIn returns the actions dated in each of bims, of every
// institution, indexed like bims: what a page of compliance over several
// bimesters needs, in one round trip for the indexes and batched MGETs for
// the records, never one call per institution. Records whose stored JSON
// was decoded before are not decoded again (see decoded); callers must not
// modify the actions' slices.
func (s *Store) ActionsIn(ctx context.Context, bims []datosbot.Bimester) ([][]datosbot.Action, error) {
	cmds := make([]*redis.StringSliceCmd, len(bims))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, b := range bims {
			cmds[i] = p.ZRange(ctx, s.bimesterActionsKey(b), 0, -1)
		}
		return nil
	})
	if err != nil {
		return nil, s.wrap(err)
	}
	out := make([][]datosbot.Action, len(bims))
	for i, c := range cmds {
		if out[i], err = s.decodedActions(ctx, c.Val()); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// InstitutionList returns every institution, active or not, sorted by key,
// without their channels: one SMEMBERS and batched MGETs, for pages that
// list thousands of institutions and show no channels.
func (s *Store) InstitutionList(ctx context.Context) ([]datosbot.Institution, error) {
	keys, err := s.rdb.SMembers(ctx, s.institutionsKey()).Result()
	if err != nil {
		return nil, s.wrap(err)
	}
	sort.Strings(keys)
	return loadMany[datosbot.Institution](ctx, s, keys, s.institutionKey, "institution")
}

// decodedActions reads the actions of ids like actionsByID, reusing the
// decoding of any record whose stored bytes it has decoded before.
func (s *Store) decodedActions(ctx context.Context, ids []string) ([]datosbot.Action, error) {
	out := make([]datosbot.Action, 0, len(ids))
	const batch = 500
	for start := 0; start < len(ids); start += batch {
		chunk := ids[start:min(start+batch, len(ids))]
		keys := make([]string, len(chunk))
		for i, id := range chunk {
			keys[i] = s.actionKey(id)
		}
		vals, err := s.rdb.MGet(ctx, keys...).Result()
		if err != nil {
			return nil, s.wrap(err)
		}
		for i, v := range vals {
			raw, ok := v.(string)
			if !ok {
				continue // deleted between the index read and this one
			}
			a, err := decoded.action(raw)
			if err != nil {
				return nil, fmt.Errorf("storage: decode action %s: %w", chunk[i], err)
			}
			out = append(out, a)
		}
	}
	return out, nil
}

// decoded remembers decoded actions by their exact stored JSON. Decoding
// is most of the cost of a page over thousands of actions, and the same
// bytes always decode to the same action, so the cache can never be
// stale: a changed record (withdrawn, checked) has other bytes and is
// decoded afresh. It is shared by every Store of the process and emptied
// when it grows past decodedMax entries (about 1 KiB each: some 40 MiB at
// most, enough for the two semesters of 3,000 institutions).
var decoded = &decodeCache{m: map[string]datosbot.Action{}}

const decodedMax = 40_000

type decodeCache struct {
	mu sync.Mutex
	m  map[string]datosbot.Action
}

func (c *decodeCache) action(raw string) (datosbot.Action, error) {
	c.mu.Lock()
	a, ok := c.m[raw]
	c.mu.Unlock()
	if ok {
		return a, nil
	}
	if err := json.Unmarshal([]byte(raw), &a); err != nil {
		return a, err
	}
	c.mu.Lock()
	if len(c.m) >= decodedMax {
		clear(c.m)
	}
	c.m[raw] = a
	c.mu.Unlock()
	return a, nil
}
