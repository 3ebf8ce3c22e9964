package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/datosbot/datosbot"
)

// roleField is the field of a membership in userRolesKey.
func roleField(m datosbot.Membership) string { return string(m.Role) + "|" + m.Institution }

// memberField is the field of a membership in membersKey.
func memberField(m datosbot.Membership) string { return string(m.User) + "|" + string(m.Role) }

// validMembership checks the shape of a membership: a central role has no
// institution, an institutional one needs it.
func validMembership(m datosbot.Membership) error {
	if m.User == "" {
		return datosbot.Errorf(datosbot.EINVALID, "Falta la persona a quien se da el rol.")
	}
	if _, err := datosbot.ParseRole(string(m.Role)); err != nil {
		return err
	}
	if m.Role.Central() && m.Institution != "" {
		return datosbot.Errorf(datosbot.EINVALID, "El rol %s no pertenece a una institución; quite la institución %s.", m.Role, m.Institution)
	}
	if !m.Role.Central() {
		if m.Institution == "" {
			return datosbot.Errorf(datosbot.EINVALID, "El rol %s necesita una institución: indique su clave.", m.Role)
		}
		return datosbot.ValidateKey(m.Institution)
	}
	return nil
}

// grant queues the writes of a new membership (both indexes and the audit
// entry) on p. The caller has checked it is new.
func (s *Store) grant(ctx context.Context, p redis.Pipeliner, m datosbot.Membership, actor datosbot.UserID) {
	b := mustJSON(m)
	p.HSet(ctx, s.userRolesKey(m.User), roleField(m), b)
	p.HSet(ctx, s.membersKey(m.Institution), memberField(m), b)
	detail := string(m.Role)
	if m.Institution != "" {
		detail += " de " + m.Institution
	}
	s.audit(ctx, p, actor, "miembro.agregar", string(m.User), detail)
}

// AddMembership grants a role; granting the same one again is a no-op.
func (s *Store) AddMembership(ctx context.Context, m datosbot.Membership) error {
	if err := validMembership(m); err != nil {
		return err
	}
	if m.GrantedAt.IsZero() {
		m.GrantedAt = s.now()
	}
	uk := s.userRolesKey(m.User)
	return s.update(ctx, func(tx *redis.Tx) error {
		exists, err := tx.HExists(ctx, uk, roleField(m)).Result()
		if err != nil || exists {
			return err
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			s.grant(ctx, p, m, m.GrantedBy)
			return nil
		})
		return err
	}, uk)
}

// Memberships returns the roles of a person, central roles first, then by
// institution.
func (s *Store) Memberships(ctx context.Context, user datosbot.UserID) ([]datosbot.Membership, error) {
	return s.memberships(ctx, s.userRolesKey(user))
}

// Members returns the memberships in institution key, or the central
// memberships (unidad, coordinacion) for key "", sorted by person and role.
func (s *Store) Members(ctx context.Context, key string) ([]datosbot.Membership, error) {
	return s.memberships(ctx, s.membersKey(key))
}

func (s *Store) memberships(ctx context.Context, hashKey string) ([]datosbot.Membership, error) {
	vals, err := s.rdb.HGetAll(ctx, hashKey).Result()
	if err != nil {
		return nil, s.wrap(err)
	}
	return decodeMemberships(hashKey, vals)
}

// decodeMemberships decodes the fields of a membership hash, sorted.
func decodeMemberships(hashKey string, vals map[string]string) ([]datosbot.Membership, error) {
	out := make([]datosbot.Membership, 0, len(vals))
	for f, v := range vals {
		var m datosbot.Membership
		if err := json.Unmarshal([]byte(v), &m); err != nil {
			return nil, fmt.Errorf("storage: decode membership %s %s: %w", hashKey, f, err)
		}
		out = append(out, m)
	}
	sortMemberships(out)
	return out, nil
}

func sortMemberships(ms []datosbot.Membership) {
	sort.Slice(ms, func(i, j int) bool {
		a, b := ms[i], ms[j]
		if a.Institution != b.Institution {
			return a.Institution < b.Institution
		}
		if a.User != b.User {
			return a.User < b.User
		}
		return a.Role < b.Role
	})
}

// CreateInvitation stores a new invitation. ECONFLICT if the code exists.
func (s *Store) CreateInvitation(ctx context.Context, inv datosbot.Invitation) error {
	if inv.Code == "" {
		return datosbot.Errorf(datosbot.EINVALID, "Falta el código de la invitación.")
	}
	if err := validMembership(datosbot.Membership{User: "-", Role: inv.Role, Institution: inv.Institution}); err != nil {
		return err
	}
	if inv.CreatedAt.IsZero() {
		inv.CreatedAt = s.now()
	}
	if inv.ExpiresAt.IsZero() {
		inv.ExpiresAt = inv.CreatedAt.Add(datosbot.InvitationTTL)
	}
	k := s.invitationKey(inv.Code)
	return s.update(ctx, func(tx *redis.Tx) error {
		n, err := tx.Exists(ctx, k).Result()
		if err != nil {
			return err
		}
		if n > 0 {
			return datosbot.Errorf(datosbot.ECONFLICT, "Ya existe una invitación con el código %s. Genere otra.", inv.Code)
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, k, mustJSON(inv), 0)
			p.SAdd(ctx, s.invitationsKey(), inv.Code)
			detail := string(inv.Role)
			if inv.Institution != "" {
				detail += " de " + inv.Institution
			}
			s.audit(ctx, p, inv.CreatedBy, "invitacion.crear", inv.Code, detail)
			return nil
		})
		return err
	}, k)
}

// RedeemInvitation atomically marks the invitation used by user and grants
// its membership (a no-op grant when the person already has that role).
// ENOTFOUND for an unknown code; EINVALID when it expired or was used.
func (s *Store) RedeemInvitation(ctx context.Context, code string, user datosbot.UserID, now time.Time) (datosbot.Invitation, error) {
	k := s.invitationKey(code)
	uk := s.userRolesKey(user)
	var inv datosbot.Invitation
	err := s.update(ctx, func(tx *redis.Tx) error {
		inv = datosbot.Invitation{}
		if err := loadJSON(ctx, tx, k, &inv, datosbot.Errorf(datosbot.ENOTFOUND, "El código %s no existe. Revise que lo haya copiado completo, o pida una invitación nueva.", code)); err != nil {
			return err
		}
		if inv.UsedBy != "" {
			return datosbot.Errorf(datosbot.EINVALID, "El código %s ya fue usado. Cada invitación sirve una sola vez: pida una nueva a quien lo invitó.", code)
		}
		if !now.Before(inv.ExpiresAt) {
			return datosbot.Errorf(datosbot.EINVALID, "El código %s venció el %s. Pida una invitación nueva a quien lo invitó.", code,
				datosbot.DateOf(inv.ExpiresAt, time.UTC).LongDate())
		}
		m := datosbot.Membership{User: user, Role: inv.Role, Institution: inv.Institution, GrantedBy: inv.CreatedBy, GrantedAt: now}
		had, err := tx.HExists(ctx, uk, roleField(m)).Result()
		if err != nil {
			return err
		}
		inv.UsedBy, inv.UsedAt = user, now
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, k, mustJSON(inv), 0)
			s.audit(ctx, p, user, "invitacion.usar", code, "")
			if !had {
				s.grant(ctx, p, m, user)
			}
			return nil
		})
		return err
	}, k, uk)
	return inv, err
}
