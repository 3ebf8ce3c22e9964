package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/datosbot/datosbot"
)

// The reads and the write of the most frequent commands, each in one round
// trip to Redis (see the README's figures and commands' benchmarks).

// Identify reads who runs a command in one round trip: the person's
// memberships and the institution the channel is linked to ("" when it is
// not a liaison channel, or ch is empty).
func (s *Store) Identify(ctx context.Context, user datosbot.UserID, ch datosbot.ChannelID) ([]datosbot.Membership, string, error) {
	var roles *redis.MapStringStringCmd
	var inst *redis.StringCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		roles = p.HGetAll(ctx, s.userRolesKey(user))
		if ch != "" {
			inst = p.Get(ctx, s.channelKey(ch))
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, "", s.wrap(err)
	}
	ms, err := decodeMemberships(s.userRolesKey(user), roles.Val())
	if err != nil {
		return nil, "", err
	}
	key := ""
	if inst != nil {
		key = inst.Val()
	}
	return ms, key, nil
}

// statusScript returns, for one institution and bimester: the
// institution's JSON (false when it does not exist), its channels, the
// JSON of its actions dated in the bimester in registration order, and for
// each campaign targeting it, newest first, the campaign's JSON and the
// institution's target JSON (the caller keeps the open ones).
//
// KEYS: institution, its channels, its bimester's action index, its
// campaign index. ARGV: action key prefix, campaign key prefix, the
// institution key (its field in a campaign's targets).
var statusScript = redis.NewScript(`
local inst = redis.call('GET', KEYS[1])
if not inst then return {false} end
local actions = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[3], 0, -1)) do
  local a = redis.call('GET', ARGV[1] .. id)
  if a then actions[#actions + 1] = a end
end
local camps = {}
for _, id in ipairs(redis.call('ZREVRANGE', KEYS[4], 0, -1)) do
  local c = redis.call('GET', ARGV[2] .. id)
  local t = redis.call('HGET', ARGV[2] .. id .. ':targets', ARGV[3])
  if c and t then
    camps[#camps + 1] = c
    camps[#camps + 1] = t
  end
end
return {inst, redis.call('SMEMBERS', KEYS[2]), actions, camps}
`)

// InstitutionStatus reads in one round trip what estado shows of
// institution key in bimester b. ENOTFOUND: datosbot.InstitutionNotFound.
func (s *Store) InstitutionStatus(ctx context.Context, key string, b datosbot.Bimester) (datosbot.InstitutionStatus, error) {
	var st datosbot.InstitutionStatus
	res, err := statusScript.Run(ctx, s.rdb,
		[]string{s.institutionKey(key), s.institutionChannelsKey(key), s.institutionBimesterActionsKey(key, b), s.institutionCampaignsKey(key)},
		s.actionKey(""), s.campaignKey(""), key).Slice()
	if err != nil {
		return st, s.wrap(err)
	}
	raw, ok := res[0].(string)
	if !ok {
		return st, institutionNotFound(key)
	}
	if err := json.Unmarshal([]byte(raw), &st.Institution); err != nil {
		return st, fmt.Errorf("storage: decode institution %s: %w", key, err)
	}
	st.Institution.Channels = sortedChannels(scriptStrings(res[1]))
	for _, a := range scriptStrings(res[2]) {
		var action datosbot.Action
		if err := json.Unmarshal([]byte(a), &action); err != nil {
			return st, fmt.Errorf("storage: decode action of %s: %w", key, err)
		}
		st.Actions = append(st.Actions, action)
	}
	camps := scriptStrings(res[3])
	for i := 0; i+1 < len(camps); i += 2 {
		var p datosbot.CampaignProgress
		if err := json.Unmarshal([]byte(camps[i]), &p.Campaign); err != nil {
			return st, fmt.Errorf("storage: decode campaign of %s: %w", key, err)
		}
		if err := json.Unmarshal([]byte(camps[i+1]), &p.Target); err != nil {
			return st, fmt.Errorf("storage: decode target of %s in %s: %w", key, p.Campaign.ID, err)
		}
		if !p.Campaign.Closed {
			st.Campaigns = append(st.Campaigns, p)
		}
	}
	return st, nil
}

// scriptStrings returns the strings of a script's array reply.
func scriptStrings(v any) []string {
	vs, _ := v.([]any)
	out := make([]string, 0, len(vs))
	for _, x := range vs {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// addActionScript is AddAction's check and write, atomic without WATCH,
// so writers to one institution never retry each other. It returns {1}
// when it stored the action, {0, json} with the live action that already
// has the evidence URL, or {2} when the id is taken.
//
// KEYS: evidence hash, action key, every index (all, institution,
// institution and bimester, bimester), audit list, the evidence-check
// queue's due set and jobs. ARGV: evidence field, action JSON, score, id,
// audit entry JSON, action key prefix, the check's due time and job
// (evidenceQueueArgs): the publication's check is queued with the action.
var addActionScript = redis.NewScript(`
local existing = redis.call('HGET', KEYS[1], ARGV[1])
if existing then
  local old = redis.call('GET', ARGV[6] .. existing)
  if old and not cjson.decode(old).withdrawn then return {0, old} end
end
if redis.call('EXISTS', KEYS[2]) == 1 then return {2} end
redis.call('SET', KEYS[2], ARGV[2])
for i = 3, 6 do redis.call('ZADD', KEYS[i], ARGV[3], ARGV[4]) end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[4])
redis.call('RPUSH', KEYS[7], ARGV[5])
redis.call('ZADD', KEYS[8], 'NX', ARGV[7], ARGV[4])
redis.call('HSETNX', KEYS[9], ARGV[4], ARGV[8])
return {1}
`)

// addAction runs addActionScript for a (complete, not withdrawn).
func (s *Store) addAction(ctx context.Context, a datosbot.Action, auditDetail string) (stored datosbot.Action, created bool, err error) {
	entry, _ := json.Marshal(datosbot.AuditEntry{At: s.now(), Actor: a.RegisteredBy, Event: "accion.registrar", Target: a.ID, Detail: auditDetail})
	var res []any
	err = s.durably(ctx, s.evidenceKey(a.Institution, a.Bimester), func(c redis.Scripter) error {
		var err error
		res, err = addActionScript.Run(ctx, c,
			[]string{s.evidenceKey(a.Institution, a.Bimester), s.actionKey(a.ID),
				s.actionsKey(), s.institutionActionsKey(a.Institution), s.institutionBimesterActionsKey(a.Institution, a.Bimester), s.bimesterActionsKey(a.Bimester),
				s.auditKey(), s.evidenceDueKey(), s.evidenceJobKey()},
			datosbot.NormalizeURL(a.EvidenceURL), mustJSON(a), actionScore(a), a.ID, entry, s.actionKey(""), dueµs(a), firstJob(a)).Slice()
		return err
	})
	if err != nil {
		return a, false, s.wrap(err)
	}
	switch code, _ := res[0].(int64); code {
	case 1:
		return a, true, nil
	case 2:
		return a, false, datosbot.Errorf(datosbot.ECONFLICT, "Ya existe una acción con el identificador %s. Intente registrar de nuevo.", a.ID)
	}
	old, _ := res[1].(string)
	if err := json.Unmarshal([]byte(old), &stored); err != nil {
		return a, false, fmt.Errorf("storage: decode action: %w", err)
	}
	return stored, false, nil
}

// recordsScript reads the records of a sorted-set index in one round
// trip: the JSON at ARGV[1]..id for each id of KEYS[1], in score order
// (reversed when ARGV[2] is "rev"), skipping records deleted since.
var recordsScript = redis.NewScript(`
local ids
if ARGV[2] == 'rev' then ids = redis.call('ZREVRANGE', KEYS[1], 0, -1) else ids = redis.call('ZRANGE', KEYS[1], 0, -1) end
local out = {}
for _, id in ipairs(ids) do
  local v = redis.call('GET', ARGV[1] .. id)
  if v then out[#out + 1] = v end
end
return out
`)

// records decodes the records of a narrow index (one institution's) read
// by recordsScript. Wide indexes (every action) are read in MGET batches
// instead, so that no script holds Redis for long.
func records[T any](ctx context.Context, s *Store, index, recordPrefix string, newestFirst bool, what string) ([]T, error) {
	order := ""
	if newestFirst {
		order = "rev"
	}
	vals, err := recordsScript.Run(ctx, s.rdb, []string{index}, recordPrefix, order).StringSlice()
	if err != nil {
		return nil, s.wrap(err)
	}
	out := make([]T, 0, len(vals))
	for _, v := range vals {
		var rec T
		if err := json.Unmarshal([]byte(v), &rec); err != nil {
			return nil, fmt.Errorf("storage: decode %s in %s: %w", what, index, err)
		}
		out = append(out, rec)
	}
	return out, nil
}

// hotScripts are loaded when the store opens, so that the first command
// after a start pays no NOSCRIPT round trip (go-redis still falls back to
// EVAL after a server restart or failover empties the script cache).
var hotScripts = []*redis.Script{statusScript, addActionScript, recordsScript}

func (s *Store) loadHotScripts(ctx context.Context) error {
	for _, sc := range hotScripts {
		if err := sc.Load(ctx, s.rdb).Err(); err != nil {
			return s.wrap(err)
		}
	}
	return nil
}
