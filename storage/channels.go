package storage

import (
	"context"
	"errors"

	"github.com/redis/go-redis/v9"

	"github.com/datosbot/datosbot"
)

// LinkChannel makes ch a liaison channel of institution key. Linking it
// again to the same institution is a no-op; ECONFLICT when ch belongs to
// another institution; ENOTFOUND when the institution does not exist;
// EINVALID when it was given de baja.
func (s *Store) LinkChannel(ctx context.Context, ch datosbot.ChannelID, key string, by datosbot.UserID) error {
	ck, ik := s.channelKey(ch), s.institutionKey(key)
	return s.update(ctx, func(tx *redis.Tx) error {
		var in datosbot.Institution
		if err := loadJSON(ctx, tx, ik, &in, institutionNotFound(key)); err != nil {
			return err
		}
		if !in.Active {
			return datosbot.Errorf(datosbot.EINVALID, "La institución %s está dada de baja; no se le pueden vincular canales. Pida a la Unidad que la reactive.", key)
		}
		owner, err := tx.Get(ctx, ck).Result()
		switch {
		case errors.Is(err, redis.Nil):
		case err != nil:
			return err
		case owner == key:
			return nil
		default:
			return datosbot.Errorf(datosbot.ECONFLICT, "Este canal ya está vinculado a la institución %s. Primero desvincúlelo con /datos canal desvincular.", owner)
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, ck, key, 0)
			p.SAdd(ctx, s.institutionChannelsKey(key), string(ch))
			s.audit(ctx, p, by, "canal.vincular", string(ch), key)
			return nil
		})
		return err
	}, ck, ik)
}

func channelNotLinked(ch datosbot.ChannelID) error {
	return datosbot.Errorf(datosbot.ENOTFOUND, "Este canal (%s) no está vinculado a ninguna institución. Vincúlelo con /datos canal vincular <clave>.", ch)
}

// UnlinkChannel removes ch from its institution and returns the
// institution's key. ENOTFOUND when ch is not linked.
func (s *Store) UnlinkChannel(ctx context.Context, ch datosbot.ChannelID, by datosbot.UserID) (string, error) {
	ck := s.channelKey(ch)
	var key string
	err := s.update(ctx, func(tx *redis.Tx) error {
		var err error
		key, err = tx.Get(ctx, ck).Result()
		if errors.Is(err, redis.Nil) {
			return channelNotLinked(ch)
		}
		if err != nil {
			return err
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Del(ctx, ck)
			p.SRem(ctx, s.institutionChannelsKey(key), string(ch))
			s.audit(ctx, p, by, "canal.desvincular", string(ch), key)
			return nil
		})
		return err
	}, ck)
	return key, err
}

// ChannelInstitution returns the key of the institution ch belongs to.
// ENOTFOUND when it is not a liaison channel.
func (s *Store) ChannelInstitution(ctx context.Context, ch datosbot.ChannelID) (string, error) {
	key, err := s.rdb.Get(ctx, s.channelKey(ch)).Result()
	if errors.Is(err, redis.Nil) {
		return "", channelNotLinked(ch)
	}
	return key, s.wrap(err)
}

// MoveChannel records that chat from now has the id to (a Telegram group
// upgraded to a supergroup): the institution keeps the channel under its
// new id. ENOTFOUND when from is not linked; ECONFLICT when to is linked
// to another institution. Moving onto a channel already linked to the same
// institution just drops from.
func (s *Store) MoveChannel(ctx context.Context, from, to datosbot.ChannelID, by datosbot.UserID) error {
	fk, tk := s.channelKey(from), s.channelKey(to)
	return s.update(ctx, func(tx *redis.Tx) error {
		key, err := tx.Get(ctx, fk).Result()
		if errors.Is(err, redis.Nil) {
			return channelNotLinked(from)
		}
		if err != nil {
			return err
		}
		owner, err := tx.Get(ctx, tk).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
		if owner != "" && owner != key {
			return datosbot.Errorf(datosbot.ECONFLICT, "El canal %s ya está vinculado a la institución %s; no se puede mover ahí el canal de %s.", to, owner, key)
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Del(ctx, fk)
			p.SRem(ctx, s.institutionChannelsKey(key), string(from))
			p.Set(ctx, tk, key, 0)
			p.SAdd(ctx, s.institutionChannelsKey(key), string(to))
			s.audit(ctx, p, by, "canal.mover", string(to), string(from)+" → "+string(to)+" ("+key+")")
			return nil
		})
		return err
	}, fk, tk)
}
