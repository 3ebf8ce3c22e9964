package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/datosbot/datosbot"
)

// actionScore orders actions by registration time (Unix microseconds, exact
// in a float64 for centuries); equal scores fall back to the id.
func actionScore(a datosbot.Action) float64 { return float64(a.RegisteredAt.UnixMicro()) }

func actionNotFound(id string) error {
	return datosbot.Errorf(datosbot.ENOTFOUND, "No existe la acción %s. Revise el identificador con /datos acciones.", id)
}

// indexAction queues the writes that file a new action in every index
// (Import); addActionScript makes the same writes for AddAction.
func (s *Store) indexAction(ctx context.Context, p redis.Pipeliner, a datosbot.Action) {
	z := redis.Z{Score: actionScore(a), Member: a.ID}
	p.Set(ctx, s.actionKey(a.ID), mustJSON(a), 0)
	p.ZAdd(ctx, s.actionsKey(), z)
	p.ZAdd(ctx, s.institutionActionsKey(a.Institution), z)
	p.ZAdd(ctx, s.institutionBimesterActionsKey(a.Institution, a.Bimester), z)
	p.ZAdd(ctx, s.bimesterActionsKey(a.Bimester), z)
	if !a.Withdrawn {
		p.HSet(ctx, s.evidenceKey(a.Institution, a.Bimester), datosbot.NormalizeURL(a.EvidenceURL), a.ID)
	}
}

// AddAction stores an action unless a non-withdrawn action of the same
// institution and bimester has the same evidence URL (compared with
// datosbot.NormalizeURL); then it returns that one and created=false. The
// check and the write are one server-side script (addActionScript), one
// round trip. ECONFLICT if the ID exists.
// A zero Bimester is taken from PublishedOn; a zero RegisteredAt is now.
func (s *Store) AddAction(ctx context.Context, a datosbot.Action) (stored datosbot.Action, created bool, err error) {
	if a.ID == "" || a.Institution == "" || a.EvidenceURL == "" {
		return a, false, datosbot.Errorf(datosbot.EINVALID, "La acción está incompleta: necesita identificador, institución y URL de la publicación.")
	}
	if a.Bimester.IsZero() {
		if a.PublishedOn.IsZero() {
			return a, false, datosbot.Errorf(datosbot.EINVALID, "Falta la fecha de publicación de la acción: escríbala como fecha:AAAA-MM-DD.")
		}
		a.Bimester = datosbot.BimesterOfDate(a.PublishedOn)
	}
	if a.RegisteredAt.IsZero() {
		a.RegisteredAt = s.now()
	}
	if a.Withdrawn {
		return a, false, datosbot.Errorf(datosbot.EINVALID, "Una acción nueva no puede estar retirada.")
	}
	// One server-side script: the check and the write cannot interleave
	// with another writer's, and nobody retries (a WATCH would, under
	// concurrent registrations of one institution).
	return s.addAction(ctx, a, fmt.Sprintf("%s %s %s", a.Institution, a.Bimester, a.EvidenceURL))
}

// Action returns one action. ENOTFOUND.
func (s *Store) Action(ctx context.Context, id string) (datosbot.Action, error) {
	var a datosbot.Action
	return a, s.wrap(loadJSON(ctx, s.rdb, s.actionKey(id), &a, actionNotFound(id)))
}

// WithdrawAction marks an action withdrawn (it stays in the trail and the
// indexes) and frees its evidence URL for a new registration. ENOTFOUND;
// EINVALID if it was already withdrawn.
func (s *Store) WithdrawAction(ctx context.Context, id string, by datosbot.UserID, reason string, at time.Time) (datosbot.Action, error) {
	ak := s.actionKey(id)
	var a datosbot.Action
	err := s.update(ctx, func(tx *redis.Tx) error {
		a = datosbot.Action{}
		if err := loadJSON(ctx, tx, ak, &a, actionNotFound(id)); err != nil {
			return err
		}
		if a.Withdrawn {
			return datosbot.Errorf(datosbot.EINVALID, "La acción %s ya estaba retirada (el %s). No hay nada más que hacer; consulte /datos acciones.",
				id, datosbot.DateOf(a.WithdrawnAt, time.UTC).LongDate())
		}
		ek := s.evidenceKey(a.Institution, a.Bimester)
		if err := tx.Watch(ctx, ek).Err(); err != nil {
			return err
		}
		field := datosbot.NormalizeURL(a.EvidenceURL)
		owner, err := tx.HGet(ctx, ek, field).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
		a.Withdrawn, a.WithdrawnBy, a.WithdrawnAt, a.Reason = true, by, at, reason
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, ak, mustJSON(a), 0)
			if owner == id {
				p.HDel(ctx, ek, field)
			}
			s.audit(ctx, p, by, "accion.retirar", id, reason)
			return nil
		})
		return err
	}, ak)
	return a, err
}

// Actions returns the actions of institution key ("" for all) dated in
// bimester b (zero for all bimesters), oldest registration first. It reads
// the narrowest index, so one institution's bimester costs O(its actions).
func (s *Store) Actions(ctx context.Context, key string, b datosbot.Bimester) ([]datosbot.Action, error) {
	var index string
	switch {
	case key != "" && !b.IsZero():
		// One institution's bimester is small: one round trip.
		return records[datosbot.Action](ctx, s, s.institutionBimesterActionsKey(key, b), s.actionKey(""), false, "action")
	case key != "":
		index = s.institutionActionsKey(key)
	case !b.IsZero():
		index = s.bimesterActionsKey(b)
	default:
		index = s.actionsKey()
	}
	ids, err := s.rdb.ZRange(ctx, index, 0, -1).Result()
	if err != nil {
		return nil, s.wrap(err)
	}
	return s.actionsByID(ctx, ids)
}

// actionsByID reads actions in the given order, in batches.
func (s *Store) actionsByID(ctx context.Context, ids []string) ([]datosbot.Action, error) {
	return loadMany[datosbot.Action](ctx, s, ids, s.actionKey, "action")
}

// loadMany reads the JSON records of ids (at keyOf(id)) in order, in
// batches of MGET, skipping records deleted since their index was read.
func loadMany[T any](ctx context.Context, s *Store, ids []string, keyOf func(string) string, what string) ([]T, error) {
	out := make([]T, 0, len(ids))
	const batch = 500
	for start := 0; start < len(ids); start += batch {
		chunk := ids[start:min(start+batch, len(ids))]
		keys := make([]string, len(chunk))
		for i, id := range chunk {
			keys[i] = keyOf(id)
		}
		vals, err := s.rdb.MGet(ctx, keys...).Result()
		if err != nil {
			return nil, s.wrap(err)
		}
		for i, v := range vals {
			sv, ok := v.(string)
			if !ok {
				continue // deleted between the index read and this one
			}
			var rec T
			if err := json.Unmarshal([]byte(sv), &rec); err != nil {
				return nil, fmt.Errorf("storage: decode %s %s: %w", what, chunk[i], err)
			}
			out = append(out, rec)
		}
	}
	return out, nil
}
