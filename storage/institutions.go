package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/redis/go-redis/v9"

	"github.com/datosbot/datosbot"
)

// audit queues one audit entry on p, in the caller's transaction.
func (s *Store) audit(ctx context.Context, p redis.Pipeliner, actor datosbot.UserID, event, target, detail string) {
	b, _ := json.Marshal(datosbot.AuditEntry{At: s.now(), Actor: actor, Event: event, Target: target, Detail: detail})
	p.RPush(ctx, s.auditKey(), b)
}

// getJSON reads the JSON record at key into v; found is false when the key
// does not exist.
func getJSON(ctx context.Context, c redis.Cmdable, key string, v any) (found bool, err error) {
	b, err := c.Get(ctx, key).Bytes()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("storage: decode %s: %w", key, err)
	}
	return true, nil
}

// loadJSON decodes the JSON at key into v, or returns notFound when the
// key does not exist.
func loadJSON(ctx context.Context, c redis.Cmdable, key string, v any, notFound error) error {
	found, err := getJSON(ctx, c, key, v)
	if err == nil && !found {
		return notFound
	}
	return err
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // the records are plain structs
	}
	return b
}

// storedInstitution returns in as stored: without channels.
func storedInstitution(in datosbot.Institution) []byte {
	in.Channels = nil
	return mustJSON(in)
}

func institutionNotFound(key string) error { return datosbot.InstitutionNotFound(key) }

// CreateInstitution stores a new, active institution. ECONFLICT if the key
// exists, active or not.
func (s *Store) CreateInstitution(ctx context.Context, in datosbot.Institution, by datosbot.UserID) error {
	if err := in.Validate(); err != nil {
		return err
	}
	in.Active = true
	if in.CreatedAt.IsZero() {
		in.CreatedAt = s.now()
	}
	k := s.institutionKey(in.Key)
	return s.update(ctx, func(tx *redis.Tx) error {
		n, err := tx.Exists(ctx, k).Result()
		if err != nil {
			return err
		}
		if n > 0 {
			return datosbot.Errorf(datosbot.ECONFLICT, "La institución %q ya existe. Use otra clave, o consúltela con /datos institucion lista.", in.Key)
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, k, storedInstitution(in), 0)
			p.SAdd(ctx, s.institutionsKey(), in.Key)
			s.audit(ctx, p, by, "institucion.alta", in.Key, in.Name)
			return nil
		})
		return err
	}, k)
}

// PutInstitution creates the institution or updates its name, CKAN
// organization and Active flag, keeping its channels and creation time.
func (s *Store) PutInstitution(ctx context.Context, in datosbot.Institution, by datosbot.UserID) (created bool, err error) {
	if err := in.Validate(); err != nil {
		return false, err
	}
	k := s.institutionKey(in.Key)
	err = s.update(ctx, func(tx *redis.Tx) error {
		var old datosbot.Institution
		found, err := getJSON(ctx, tx, k, &old)
		if err != nil {
			return err
		}
		created = !found
		next := in
		event := "institucion.alta"
		if found {
			if old.Name == in.Name && old.CKANOrg == in.CKANOrg && old.Active == in.Active {
				return nil // nothing changes: no write, no audit entry
			}
			next = old
			next.Name, next.CKANOrg, next.Active = in.Name, in.CKANOrg, in.Active
			event = "institucion.actualizar"
		} else if next.CreatedAt.IsZero() {
			next.CreatedAt = s.now()
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, k, storedInstitution(next), 0)
			p.SAdd(ctx, s.institutionsKey(), in.Key)
			s.audit(ctx, p, by, event, in.Key, fmt.Sprintf("nombre=%q ckan=%q activa=%t", next.Name, next.CKANOrg, next.Active))
			return nil
		})
		return err
	}, k)
	return created, err
}

// Institution returns one institution with its channels. ENOTFOUND.
func (s *Store) Institution(ctx context.Context, key string) (datosbot.Institution, error) {
	var in datosbot.Institution
	var rec *redis.StringCmd
	var chans *redis.StringSliceCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error { // one round trip
		rec = p.Get(ctx, s.institutionKey(key))
		chans = p.SMembers(ctx, s.institutionChannelsKey(key))
		return nil
	})
	if errors.Is(err, redis.Nil) {
		return in, institutionNotFound(key)
	}
	if err != nil {
		return in, s.wrap(err)
	}
	if err := json.Unmarshal([]byte(rec.Val()), &in); err != nil {
		return in, fmt.Errorf("storage: decode institution %s: %w", key, err)
	}
	in.Channels = sortedChannels(chans.Val())
	return in, nil
}

func sortedChannels(chans []string) []datosbot.ChannelID {
	sort.Strings(chans)
	out := make([]datosbot.ChannelID, 0, len(chans))
	for _, c := range chans {
		out = append(out, datosbot.ChannelID(c))
	}
	return out
}

// Institutions returns all institutions, active or not, with their
// channels, sorted by key.
func (s *Store) Institutions(ctx context.Context) ([]datosbot.Institution, error) {
	keys, err := s.rdb.SMembers(ctx, s.institutionsKey()).Result()
	if err != nil {
		return nil, s.wrap(err)
	}
	sort.Strings(keys)
	recs := make([]*redis.StringCmd, len(keys))
	chans := make([]*redis.StringSliceCmd, len(keys))
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			recs[i] = p.Get(ctx, s.institutionKey(k))
			chans[i] = p.SMembers(ctx, s.institutionChannelsKey(k))
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, s.wrap(err)
	}
	out := make([]datosbot.Institution, 0, len(keys))
	for i, k := range keys {
		b, err := recs[i].Bytes()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			return nil, s.wrap(err)
		}
		var in datosbot.Institution
		if err := json.Unmarshal(b, &in); err != nil {
			return nil, fmt.Errorf("storage: decode institution %s: %w", k, err)
		}
		in.Channels = sortedChannels(chans[i].Val())
		out = append(out, in)
	}
	return out, nil
}

// SetInstitutionActive marks an institution active or inactive ("baja").
// ENOTFOUND. Its channels, members and actions are kept.
func (s *Store) SetInstitutionActive(ctx context.Context, key string, active bool, by datosbot.UserID) error {
	k := s.institutionKey(key)
	return s.update(ctx, func(tx *redis.Tx) error {
		var in datosbot.Institution
		if err := loadJSON(ctx, tx, k, &in, institutionNotFound(key)); err != nil {
			return err
		}
		if in.Active == active {
			return nil
		}
		in.Active = active
		event := "institucion.baja"
		if active {
			event = "institucion.reactivar"
		}
		_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, k, storedInstitution(in), 0)
			s.audit(ctx, p, by, event, key, "")
			return nil
		})
		return err
	}, k)
}
