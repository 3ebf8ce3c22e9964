package storage

import (
	"strings"

	"github.com/datosbot/datosbot"
)

// The key schema. Every key is Config.Prefix (default "datosbot:") followed
// by the hash tag "{d}:" and then the parts below joined with ":".
//
// Why the hash tag: Redis Cluster spreads keys over slots by hashing them,
// and MULTI/EXEC, WATCH and Lua scripts may only touch keys of one slot.
// Several operations here must be atomic across keys (an action, its
// indexes, its evidence entry and its audit entry; an invitation and the
// membership it grants). When a key contains "{…}" only the text between
// the braces is hashed, so every key of the bot lands in the same slot and
// those transactions work on a Cluster exactly as on a single server. The
// data set is small (institutions, liaisons, actions), so one slot is no
// capacity problem.
//
// Code added to this package must build its keys with s.key and list them
// here, with a doc comment, so that the whole schema stays in one file.
// Families not listed in domainFamilies or ephemeralFamilies are carried in
// Snapshot.Extra by Export and Import.

// hashTag is the Cluster hash tag shared by every key (see above).
const hashTag = "{d}"

// key returns the full Redis key for parts: prefix + "{d}:" + parts joined
// with ":".
func (s *Store) key(parts ...string) string {
	return s.prefix + hashTag + ":" + strings.Join(parts, ":")
}

// institutionKey is a string with the JSON of one datosbot.Institution,
// without its channels (they live in institutionChannelsKey).
func (s *Store) institutionKey(key string) string { return s.key("inst", key) }

// institutionsKey is a set of every institution key, active or not.
func (s *Store) institutionsKey() string { return s.key("insts") }

// institutionChannelsKey is a set of the ChannelIDs linked to an institution.
func (s *Store) institutionChannelsKey(key string) string { return s.key("inst", key, "channels") }

// channelKey is a string with the key of the institution a channel is
// linked to. It is the reverse of institutionChannelsKey and changes with
// it in one transaction.
func (s *Store) channelKey(ch datosbot.ChannelID) string { return s.key("chan", string(ch)) }

// userRolesKey is a hash of one person's memberships: field
// "<role>|<institution>" → JSON datosbot.Membership.
func (s *Store) userRolesKey(u datosbot.UserID) string { return s.key("user", string(u), "roles") }

// membersKey is a hash of the memberships of one institution, or of the
// central roles (unidad, coordinacion) for institution "": field
// "<user>|<role>" → JSON datosbot.Membership. It mirrors userRolesKey.
func (s *Store) membersKey(institution string) string {
	if institution == "" {
		return s.key("central", "members")
	}
	return s.key("inst", institution, "members")
}

// invitationKey is a string with the JSON of one datosbot.Invitation. Used
// invitations are kept for the audit trail.
func (s *Store) invitationKey(code string) string { return s.key("invite", code) }

// invitationsKey is a set of every invitation code, for Export.
func (s *Store) invitationsKey() string { return s.key("invites") }

// actionKey is a string with the JSON of one datosbot.Action, withdrawn or not.
func (s *Store) actionKey(id string) string { return s.key("action", id) }

// actionsKey is a sorted set of every action id, scored by registration
// time in Unix microseconds (ties ordered by id).
func (s *Store) actionsKey() string { return s.key("actions") }

// institutionActionsKey is a sorted set of one institution's action ids,
// scored like actionsKey.
func (s *Store) institutionActionsKey(key string) string { return s.key("inst", key, "actions") }

// institutionBimesterActionsKey is a sorted set of the ids of one
// institution's actions dated in bimester b, scored like actionsKey, so
// that reading one institution's bimester costs O(its actions).
func (s *Store) institutionBimesterActionsKey(key string, b datosbot.Bimester) string {
	return s.key("inst", key, "actions", b.String())
}

// bimesterActionsKey is a sorted set of the ids of every action dated in
// bimester b, scored like actionsKey (reports of one bimester).
func (s *Store) bimesterActionsKey(b datosbot.Bimester) string {
	return s.key("bim", b.String(), "actions")
}

// evidenceKey is a hash of one institution's non-withdrawn actions of
// bimester b by evidence URL: field datosbot.NormalizeURL(evidence) →
// action id. AddAction checks and writes it atomically; WithdrawAction
// removes the field so the URL may be registered again.
func (s *Store) evidenceKey(key string, b datosbot.Bimester) string {
	return s.key("inst", key, "evidence", b.String())
}

// auditKey is a list of JSON datosbot.AuditEntry, appended (RPUSH) in the
// same transaction as the change it records, never rewritten.
func (s *Store) auditKey() string { return s.key("audit") }

// onceKey is a string set with NX and a TTL by Once: inbound deduplication.
func (s *Store) onceKey(k string) string { return s.key("once", k) }

// leaseKey is a string holding the holder of a named lease, with the
// lease's TTL (AcquireLease, ReleaseLease).
func (s *Store) leaseKey(name string) string { return s.key("lease", name) }

// domainFamilies are the first key parts of the records Export writes in
// typed form.
var domainFamilies = map[string]bool{
	"inst": true, "insts": true, "chan": true, "user": true, "central": true,
	"invite": true, "invites": true, "action": true, "actions": true, "bim": true, "audit": true,
}

// ephemeralFamilies are the first key parts of short-lived keys that
// Export leaves out.
var ephemeralFamilies = map[string]bool{"once": true, "lease": true, "signin": true, "session": true}

// ---- Campaigns (storage/campaigns.go) ----
//
// The campaign families ("camp", "camps") are not in domainFamilies, so
// Export and Import carry them in Snapshot.Extra.

// campaignKey is a string with the JSON of one datosbot.Campaign, open or
// closed.
func (s *Store) campaignKey(id string) string { return s.key("camp", id) }

// campaignTargetsKey is a hash of one campaign's targets: field
// institution key → JSON datosbot.CampaignTarget. It is written with the
// campaign in one transaction and only ever moves a target forward
// (pendiente → enterado → cumplida).
func (s *Store) campaignTargetsKey(id string) string { return s.key("camp", id, "targets") }

// campaignsKey is a sorted set of every campaign id, scored by creation
// time in Unix microseconds.
func (s *Store) campaignsKey() string { return s.key("camps") }

// institutionCampaignsKey is a sorted set of the ids of the campaigns that
// target one institution, scored like campaignsKey.
func (s *Store) institutionCampaignsKey(key string) string { return s.key("camps", "inst", key) }

// campaignIdempotencyKey is a string with the id of the campaign created
// with one Idempotency-Key. digest is the key's SHA-256 in hex (see
// idempotencyDigest), so any client text is safe and short.
func (s *Store) campaignIdempotencyKey(digest string) string { return s.key("camps", "idem", digest) }

// ---- end of campaigns ----

// ---- Outbox (storage/outbox.go, storage/outbox_scripts.go) and reminder schedule (storage/schedule.go) ----
//
// The families "outbox" and "sched" are not in domainFamilies, so Export
// and Import carry them in Snapshot.Extra. Every outbox key is fixed (no
// per-message key names), so each Lua script declares all the keys it
// touches, as Redis Cluster requires.

// outboxDueKey is a sorted set of the keys of queued messages, scored by
// the earliest time each may be posted (Unix microseconds).
func (s *Store) outboxDueKey() string { return s.key("outbox", "due") }

// outboxInflightKey is a sorted set of the keys of claimed messages, scored
// by the end of the claim's lease (Unix microseconds). An expired lease
// puts the message back in outboxDueKey.
func (s *Store) outboxInflightKey() string { return s.key("outbox", "inflight") }

// outboxMsgKey is a hash of the messages queued or in flight: field message
// key → JSON outboxRecord (the message and its attempts).
func (s *Store) outboxMsgKey() string { return s.key("outbox", "msg") }

// outboxDoneKey is a hash of every message key ever finished: field message
// key → "sent <µs>" or "failed <µs>". It is never trimmed, so enqueueing a
// finished key again is a no-op forever.
func (s *Store) outboxDoneKey() string { return s.key("outbox", "done") }

// outboxClaimKey is a hash of the messages in flight: field message key →
// token of the claim that holds it.
func (s *Store) outboxClaimKey() string { return s.key("outbox", "claim") }

// outboxPostingKey is a hash of the messages whose post has started and is
// not yet recorded: field message key → "<Unix µs> <pace bucket>". A lease
// that expires with this field set marks the message unsure
// (outboxUnsureKey): its platform may have accepted the post.
func (s *Store) outboxPostingKey() string { return s.key("outbox", "posting") }

// outboxPaceKey is a hash of pacing state: field "c:<channel>" or
// "b:<bucket>" → the earliest Unix microsecond of the next post there;
// "s:<channel>" → the Unix microsecond its last post started.
func (s *Store) outboxPaceKey() string { return s.key("outbox", "pace") }

// outboxFailuresKey is a hash of the last permanent delivery failure per
// channel: field ChannelID → JSON outboxFailure. A later successful post
// to the channel removes it.
func (s *Store) outboxFailuresKey() string { return s.key("outbox", "failures") }

// outboxCountersKey is a hash of cluster-wide delivery counters (enqueued,
// duplicates, sent, retried, ratelimited, moved, failed, recovered,
// uncertain, repeated) → integer.
func (s *Store) outboxCountersKey() string { return s.key("outbox", "counters") }

// outboxOrderKey is a hash of each channel's order of posts, a ticket per
// message queued or in flight: field "n:<channel>" → the channel's last
// ticket given; "h:<channel>" → the ticket it serves now (only that
// message may be claimed); "t:<channel> <ticket>" → message key; and
// "k:<message key>" → "<channel> <ticket>"; "r:<message key>" → 1 while a
// message recovered from an expired lease waits to be claimed again (it
// goes before the others, see peekScript). Finishing a message removes
// its fields, and a channel's own fields go when its last message does.
func (s *Store) outboxOrderKey() string { return s.key("outbox", "order") }

// outboxStartsKey is a sorted set of the posts started within the last
// window of a platform-wide limit: member "<bucket> <message key> <µs>",
// scored by the Unix microsecond the post started (OutboxPosting). Older
// members are removed as posts start.
func (s *Store) outboxStartsKey() string { return s.key("outbox", "starts") }

// outboxUnsureKey is a hash of the queued or claimed messages whose
// platform may already have accepted an earlier post (its lease expired
// after the post started, or the post timed out): field message key →
// the Unix microsecond that post started, the bound for looking it up.
func (s *Store) outboxUnsureKey() string { return s.key("outbox", "unsure") }

// schedulerKey is a hash of the reminder scheduler's state: "last" (Unix
// µs up to which every occurrence was handled), "next" (Unix µs of the
// next occurrence) and "campaigns" (the number of campaigns when "next"
// was computed).
func (s *Store) schedulerKey() string { return s.key("sched", "state") }

// occurrenceKey is a string per scheduled occurrence (reminders.Occurrence
// Key): "lease <holder>" with a TTL while a scheduler enqueues its
// messages, then "done <outcome>" without a TTL.
func (s *Store) occurrenceKey(k string) string { return s.key("sched", "occ", k) }

// ---- end of outbox and reminder schedule ----

// ---- The portal: data re-checks and the new-data watch (storage/portal.go) ----
//
// The families "datacheck" and "portal" are not in domainFamilies, so
// Export and Import carry them in Snapshot.Extra.

// recheckJobsKey is a hash of the data URLs waiting for a background
// re-check: field DataRecheck.ID → JSON datosbot.DataRecheck.
func (s *Store) recheckJobsKey() string { return s.key("datacheck", "jobs") }

// recheckDueKey is a sorted set of DataRecheck ids scored by when each is
// due (Unix microseconds); a claim pushes the score past its lease.
func (s *Store) recheckDueKey() string { return s.key("datacheck", "due") }

// portalWatermarkKey is a hash of the watch's watermark: "mark" (Unix
// microseconds), the start of its last run without errors, and "floor",
// the start of its first run, before which nothing is news.
func (s *Store) portalWatermarkKey() string { return s.key("portal", "watermark") }

// portalNoticesKey is a hash of what the watch saw: field notice key (per
// dataset and change) → JSON datosbot.PortalNotice. It is never trimmed,
// so a change is recorded (and audited as publicar) once.
func (s *Store) portalNoticesKey() string { return s.key("portal", "notices") }

// portalNoticesByTimeKey is a sorted set of notice keys of one institution
// (or of all, for ""), scored by when the portal says the change happened.
func (s *Store) portalNoticesByTimeKey(institution string) string {
	if institution == "" {
		return s.key("portal", "seen")
	}
	return s.key("portal", "seen", institution)
}

// ---- end of the portal ----
// ---- Dashboard sign-in and sessions (storage/dashboard.go) ----
//
// Both families hold only SHA-256 digests of the secrets the browser
// carries, never the secrets themselves, so a copy of Redis cannot sign
// anyone in. They are short-lived and listed in ephemeralFamilies: Export
// leaves them out.

// signInKey is a string with the JSON of one dashboard sign-in link
// (signInRecord), by the digest of its token. It outlives the link's 15
// minutes by a day so that a used or expired link is told apart from a
// forged one.
func (s *Store) signInKey(digest string) string { return s.key("signin", digest) }

// sessionKey is a string with the JSON of one dashboard session
// (sessionRecord), by the digest of its cookie, with the session's TTL.
func (s *Store) sessionKey(digest string) string { return s.key("session", digest) }

// ---- end of dashboard ----

// ---- Evidence checks (storage/evidence_queue.go) ----
//
// The family "evq" is not in domainFamilies, so Export and Import carry
// it in Snapshot.Extra: a restored store goes on with its queued checks.
// The outcome of a check is the action's Evidence, in actionKey.

// evidenceDueKey is a sorted set of the ids of actions whose publication
// is to be checked, scored by when (Unix microseconds). AddAction's script
// adds the action's id with the action.
func (s *Store) evidenceDueKey() string { return s.key("evq", "due") }

// evidenceLeaseKey is a sorted set of the ids of checks running now,
// scored by the end of the claim's lease (Unix microseconds). An expired
// lease puts the check back in evidenceDueKey.
func (s *Store) evidenceLeaseKey() string { return s.key("evq", "lease") }

// evidenceJobKey is a hash of the checks queued or running: field action
// id → "<attempts so far> <Unix µs of the first queueing>[ <claim token>]".
func (s *Store) evidenceJobKey() string { return s.key("evq", "job") }

// evidencePaceKey is a string per host evidence checks fetch from: the
// Unix microsecond of its next free turn (one fetch per host per second
// across replicas), expiring a second after it.
func (s *Store) evidencePaceKey(host string) string { return s.key("evq", "pace", host) }

// ---- end of evidence checks ----
