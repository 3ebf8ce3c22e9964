package storage

import (
	"context"
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
