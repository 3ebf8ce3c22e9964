package commands

import (
	"context"
	"time"

	"github.com/datosbot/datosbot"
)

// Store is what the command language needs from storage. storage.Store
// implements it against Redis. Every mutating method appends an entry to the
// audit trail in the same transaction, with the given actor.
//
// Errors are *datosbot.Error: ENOTFOUND for a missing record, ECONFLICT for a
// duplicate, EUNAVAILABLE when Redis cannot be reached.
type Store interface {
	CampaignStore

	// CreateInstitution stores a new institution (Active true). ECONFLICT if
	// the key exists, active or not.
	CreateInstitution(ctx context.Context, in datosbot.Institution, by datosbot.UserID) error
	// PutInstitution creates the institution or updates its name, CKAN
	// organization and Active flag, keeping its channels and history.
	// created reports whether it was new.
	PutInstitution(ctx context.Context, in datosbot.Institution, by datosbot.UserID) (created bool, err error)
	// Institution returns one institution with its channels. ENOTFOUND.
	Institution(ctx context.Context, key string) (datosbot.Institution, error)
	// Institutions returns all institutions, active or not, sorted by key.
	Institutions(ctx context.Context) ([]datosbot.Institution, error)
	// SetInstitutionActive marks an institution active or inactive ("baja").
	SetInstitutionActive(ctx context.Context, key string, active bool, by datosbot.UserID) error

	// LinkChannel makes ch a liaison channel of institution key. Linking it
	// again to the same institution is a no-op; ECONFLICT when ch belongs
	// to another institution.
	LinkChannel(ctx context.Context, ch datosbot.ChannelID, key string, by datosbot.UserID) error
	// UnlinkChannel removes ch from its institution and returns the key.
	// ENOTFOUND when ch is not linked.
	UnlinkChannel(ctx context.Context, ch datosbot.ChannelID, by datosbot.UserID) (string, error)
	// Identify returns, in one round trip, the memberships of user and the
	// key of the institution ch is linked to ("" when none, or ch is "").
	Identify(ctx context.Context, user datosbot.UserID, ch datosbot.ChannelID) ([]datosbot.Membership, string, error)
	// InstitutionStatus returns, in one round trip, what estado shows of
	// institution key in bimester b: the institution with its channels,
	// its actions dated in b and its open campaigns with its own target.
	// ENOTFOUND.
	InstitutionStatus(ctx context.Context, key string, b datosbot.Bimester) (datosbot.InstitutionStatus, error)

	// ChannelInstitution returns the key of the institution ch belongs to.
	// ENOTFOUND when it is not a liaison channel.
	ChannelInstitution(ctx context.Context, ch datosbot.ChannelID) (string, error)

	// AddMembership grants a role; granting the same one again is a no-op.
	AddMembership(ctx context.Context, m datosbot.Membership) error
	// Memberships returns the roles of a person.
	Memberships(ctx context.Context, user datosbot.UserID) ([]datosbot.Membership, error)

	// CreateInvitation stores a new invitation. ECONFLICT if the code exists.
	CreateInvitation(ctx context.Context, inv datosbot.Invitation) error
	// RedeemInvitation atomically marks the invitation used by user and
	// grants its membership. ENOTFOUND for an unknown code, EINVALID (with a
	// Spanish message) when it is expired or already used.
	RedeemInvitation(ctx context.Context, code string, user datosbot.UserID, now time.Time) (datosbot.Invitation, error)

	// AddAction stores an action unless a non-withdrawn action of the same
	// institution and bimester has the same evidence URL (compared with
	// datosbot.NormalizeURL); then it returns that one and created=false.
	// The check and the write are atomic. ECONFLICT if the ID exists.
	AddAction(ctx context.Context, a datosbot.Action) (stored datosbot.Action, created bool, err error)
	// Action returns one action. ENOTFOUND.
	Action(ctx context.Context, id string) (datosbot.Action, error)
	// WithdrawAction marks an action withdrawn (it stays in the trail) and
	// frees its evidence URL for a new registration. EINVALID if it was
	// already withdrawn.
	WithdrawAction(ctx context.Context, id string, by datosbot.UserID, reason string, at time.Time) (datosbot.Action, error)
	// Actions returns the actions of institution key ("" for all) dated in
	// bimester b (zero for all bimesters), oldest registration first.
	Actions(ctx context.Context, key string, b datosbot.Bimester) ([]datosbot.Action, error)

	// AppendAudit appends one entry to the audit trail, for events that
	// change no other record (e.g. "publicar").
	AppendAudit(ctx context.Context, e datosbot.AuditEntry) error

	// Once reports true the first time key is seen within ttl, across
	// replicas (SET NX). It deduplicates inbound deliveries.
	Once(ctx context.Context, key string, ttl time.Duration) (bool, error)
}

// Poster sends the bot's own messages (publicar notices, campaign
// announcements) into channels.
type Poster interface {
	Post(ctx context.Context, msgs ...datosbot.Message) error
}
