package storage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/datosbot/datosbot"
)

// campaignScore orders campaigns by creation time (Unix microseconds).
func campaignScore(c datosbot.Campaign) float64 { return float64(c.CreatedAt.UnixMicro()) }

// idempotencyDigest is the stored form of an Idempotency-Key.
func idempotencyDigest(idem string) string {
	sum := sha256.Sum256([]byte(idem))
	return hex.EncodeToString(sum[:])
}

func campaignNotFound(id string) error {
	return datosbot.Errorf(datosbot.ENOTFOUND, "No existe la campaña %s. Revise el identificador en el anuncio de la campaña.", id)
}

func notATarget(id, key string) error {
	return datosbot.Errorf(datosbot.ENOTFOUND, "La campaña %s no está dirigida a %s.", id, key)
}

// targetInstitutions returns the campaign's institutions folded, without
// duplicates, sorted.
func targetInstitutions(keys []string) []string {
	seen := map[string]bool{}
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		k = datosbot.Fold(k)
		if k != "" && !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// CreateCampaign stores a campaign and one pendiente target per
// institution in c.Institutions, in one transaction with its audit entry.
// When idempotencyKey is not empty and a campaign was already created with
// it, that campaign is returned with created=false and nothing is written.
// ECONFLICT if the id exists; EINVALID without an id or institutions. A
// zero CreatedAt is now.
func (s *Store) CreateCampaign(ctx context.Context, c datosbot.Campaign, idempotencyKey string) (stored datosbot.Campaign, created bool, err error) {
	c.Institutions = targetInstitutions(c.Institutions)
	if c.ID == "" || len(c.Institutions) == 0 {
		return c, false, datosbot.Errorf(datosbot.EINVALID, "La campaña está incompleta: necesita identificador y al menos una institución.")
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = s.now()
	}
	ck := s.campaignKey(c.ID)
	watched := []string{ck}
	var ik string
	if idempotencyKey != "" {
		ik = s.campaignIdempotencyKey(idempotencyDigest(idempotencyKey))
		watched = append(watched, ik)
	}
	err = s.update(ctx, func(tx *redis.Tx) error {
		stored, created = c, false
		if ik != "" {
			prev, err := tx.Get(ctx, ik).Result()
			if err != nil && !errors.Is(err, redis.Nil) {
				return err
			}
			if prev != "" {
				found, err := getJSON(ctx, tx, s.campaignKey(prev), &stored)
				if err != nil {
					return err
				}
				if found {
					return nil
				}
				stored = c // a dangling idempotency entry: create anew
			}
		}
		n, err := tx.Exists(ctx, ck).Result()
		if err != nil {
			return err
		}
		if n > 0 {
			return datosbot.Errorf(datosbot.ECONFLICT, "Ya existe una campaña con el identificador %s. Intente crearla de nuevo.", c.ID)
		}
		z := redis.Z{Score: campaignScore(c), Member: c.ID}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, ck, mustJSON(c), 0)
			targets := make([]any, 0, 2*len(c.Institutions))
			for _, k := range c.Institutions {
				targets = append(targets, k, mustJSON(datosbot.CampaignTarget{Institution: k, Status: datosbot.StatusPendiente}))
				p.ZAdd(ctx, s.institutionCampaignsKey(k), z)
			}
			p.HSet(ctx, s.campaignTargetsKey(c.ID), targets...)
			p.ZAdd(ctx, s.campaignsKey(), z)
			if ik != "" {
				p.Set(ctx, ik, c.ID, 0)
			}
			s.audit(ctx, p, c.CreatedBy, "campana.nueva", c.ID,
				fmt.Sprintf("%s vence %s; %d instituciones", c.Title, c.Deadline, len(c.Institutions)))
			return nil
		})
		created = err == nil
		return err
	}, watched...)
	return stored, created, err
}

// Campaign returns one campaign. ENOTFOUND.
func (s *Store) Campaign(ctx context.Context, id string) (datosbot.Campaign, error) {
	var c datosbot.Campaign
	return c, s.wrap(loadJSON(ctx, s.rdb, s.campaignKey(id), &c, campaignNotFound(id)))
}

// Campaigns returns every campaign, or only the open ones, newest first.
func (s *Store) Campaigns(ctx context.Context, openOnly bool) ([]datosbot.Campaign, error) {
	return s.campaignsIn(ctx, s.campaignsKey(), openOnly)
}

// OpenCampaignsFor returns the open campaigns that target institution key,
// newest first.
func (s *Store) OpenCampaignsFor(ctx context.Context, key string) ([]datosbot.Campaign, error) {
	all, err := records[datosbot.Campaign](ctx, s, s.institutionCampaignsKey(key), s.campaignKey(""), true, "campaign")
	if err != nil {
		return nil, err
	}
	out := []datosbot.Campaign{}
	for _, c := range all {
		if !c.Closed {
			out = append(out, c)
		}
	}
	return out, nil
}

// campaignsIn reads the campaigns of an index, newest first.
func (s *Store) campaignsIn(ctx context.Context, index string, openOnly bool) ([]datosbot.Campaign, error) {
	ids, err := s.rdb.ZRevRange(ctx, index, 0, -1).Result()
	if err != nil {
		return nil, s.wrap(err)
	}
	all, err := loadMany[datosbot.Campaign](ctx, s, ids, s.campaignKey, "campaign")
	if err != nil {
		return nil, err
	}
	out := []datosbot.Campaign{}
	for _, c := range all {
		if !openOnly || !c.Closed {
			out = append(out, c)
		}
	}
	return out, nil
}

// CampaignTargets returns the targets of a campaign sorted by institution.
// ENOTFOUND when the campaign does not exist.
func (s *Store) CampaignTargets(ctx context.Context, id string) ([]datosbot.CampaignTarget, error) {
	var (
		exists *redis.IntCmd
		all    *redis.MapStringStringCmd
	)
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		exists = p.Exists(ctx, s.campaignKey(id))
		all = p.HGetAll(ctx, s.campaignTargetsKey(id))
		return nil
	})
	if err != nil {
		return nil, s.wrap(err)
	}
	if exists.Val() == 0 {
		return nil, campaignNotFound(id)
	}
	out := make([]datosbot.CampaignTarget, 0, len(all.Val()))
	for k, v := range all.Val() {
		var t datosbot.CampaignTarget
		if err := json.Unmarshal([]byte(v), &t); err != nil {
			return nil, fmt.Errorf("storage: decode target %s of campaign %s: %w", k, id, err)
		}
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Institution < out[j].Institution })
	return out, nil
}

// AcknowledgeCampaign moves institution key's target from pendiente to
// enterado. A target already enterado or cumplida is left as it is and
// returned (pressing the button twice is harmless). ENOTFOUND when the
// campaign does not exist or does not target key.
func (s *Store) AcknowledgeCampaign(ctx context.Context, id, key string, by datosbot.UserID, at time.Time) (datosbot.CampaignTarget, error) {
	return s.advanceTarget(ctx, id, key, func(t *datosbot.CampaignTarget) (string, datosbot.UserID, bool) {
		if t.Status != datosbot.StatusPendiente {
			return "", "", false
		}
		t.Status, t.AcknowledgedAt, t.AcknowledgedBy = datosbot.StatusEnterado, at, by
		return "campana.enterado", by, true
	})
}

// CompleteCampaign marks institution key's target cumplida by action
// actionID. The first completion wins: a target already cumplida is left
// as it is and returned. ENOTFOUND as AcknowledgeCampaign.
func (s *Store) CompleteCampaign(ctx context.Context, id, key, actionID string, at time.Time) (datosbot.CampaignTarget, error) {
	return s.advanceTarget(ctx, id, key, func(t *datosbot.CampaignTarget) (string, datosbot.UserID, bool) {
		if t.Status == datosbot.StatusCumplida {
			return "", "", false
		}
		t.Status, t.CompletedAt, t.Action = datosbot.StatusCumplida, at, actionID
		return "campana.cumplida", "sistema", true
	})
}

// ReopenCampaignTarget undoes the completion of a target by actionID (the
// action was withdrawn): the target goes back to enterado when it had been
// acknowledged, else to pendiente. reopened is false when the target was
// not completed by that action.
func (s *Store) ReopenCampaignTarget(ctx context.Context, id, key, actionID string, by datosbot.UserID) (t datosbot.CampaignTarget, reopened bool, err error) {
	t, err = s.advanceTarget(ctx, id, key, func(t *datosbot.CampaignTarget) (string, datosbot.UserID, bool) {
		if t.Status != datosbot.StatusCumplida || t.Action != actionID {
			return "", "", false
		}
		t.Status = datosbot.StatusPendiente
		if !t.AcknowledgedAt.IsZero() {
			t.Status = datosbot.StatusEnterado
		}
		t.CompletedAt, t.Action = time.Time{}, ""
		reopened = true
		return "campana.reabrir", by, true
	})
	return t, reopened, err
}

// advanceTarget applies change to one target in a transaction; change
// reports the audit event and actor, and false when nothing changes.
func (s *Store) advanceTarget(ctx context.Context, id, key string,
	change func(t *datosbot.CampaignTarget) (event string, actor datosbot.UserID, changed bool)) (datosbot.CampaignTarget, error) {
	key = datosbot.Fold(key)
	tk := s.campaignTargetsKey(id)
	var t datosbot.CampaignTarget
	err := s.update(ctx, func(tx *redis.Tx) error {
		t = datosbot.CampaignTarget{}
		b, err := tx.HGet(ctx, tk, key).Bytes()
		if errors.Is(err, redis.Nil) {
			n, err := tx.Exists(ctx, s.campaignKey(id)).Result()
			if err != nil {
				return err
			}
			if n == 0 {
				return campaignNotFound(id)
			}
			return notATarget(id, key)
		}
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, &t); err != nil {
			return fmt.Errorf("storage: decode target %s of campaign %s: %w", key, id, err)
		}
		event, actor, changed := change(&t)
		if !changed {
			return nil
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.HSet(ctx, tk, key, mustJSON(t))
			detail := key
			if t.Action != "" && event == "campana.cumplida" {
				detail += " " + t.Action
			}
			if event == "campana.reabrir" {
				detail += " acción retirada"
			}
			s.audit(ctx, p, actor, event, id, detail)
			return nil
		})
		return err
	}, tk)
	return t, err
}

// CloseCampaign marks a campaign closed: it stays readable but is no
// longer open. Closing a closed campaign changes nothing. ENOTFOUND.
func (s *Store) CloseCampaign(ctx context.Context, id string, by datosbot.UserID) error {
	ck := s.campaignKey(id)
	return s.update(ctx, func(tx *redis.Tx) error {
		var c datosbot.Campaign
		if err := loadJSON(ctx, tx, ck, &c, campaignNotFound(id)); err != nil {
			return err
		}
		if c.Closed {
			return nil
		}
		c.Closed = true
		_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, ck, mustJSON(c), 0)
			s.audit(ctx, p, by, "campana.cerrar", id, "")
			return nil
		})
		return err
	}, ck)
}
