package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/datosbot/datosbot"
)

// SnapshotVersion is the format version Export writes and Import accepts.
const SnapshotVersion = 1

// Snapshot is the whole state of the bot in a portable, deterministic form:
// every list is sorted, so exporting the same state twice gives the same
// JSON bytes, and Export → Import into an empty Redis → Export gives
// identical JSON. It carries no export time for that reason.
type Snapshot struct {
	Version      int                    `json:"version"`
	Institutions []datosbot.Institution `json:"institutions"` // by key, channels sorted
	Memberships  []datosbot.Membership  `json:"memberships"`  // by institution, person, role
	Invitations  []datosbot.Invitation  `json:"invitations"`  // by code
	Actions      []datosbot.Action      `json:"actions"`      // oldest registration first
	Audit        []datosbot.AuditEntry  `json:"audit"`        // in the order recorded
	// Extra holds every other key under the prefix (reminder schedules,
	// outbox, campaigns…) in generic form, named without the prefix, except
	// short-lived deduplication keys and leases. A key with a TTL keeps its
	// absolute expiry time.
	Extra []RawKey `json:"extra"`
}

// Export reads the whole state. It is not one transaction: run it when
// the bot is quiet for a consistent copy.
func (s *Store) Export(ctx context.Context) (*Snapshot, error) {
	snap := &Snapshot{Version: SnapshotVersion}
	var err error
	if snap.Institutions, err = s.Institutions(ctx); err != nil {
		return nil, err
	}
	if snap.Memberships, err = s.allMemberships(ctx); err != nil {
		return nil, err
	}
	if snap.Invitations, err = s.invitations(ctx); err != nil {
		return nil, err
	}
	if snap.Actions, err = s.Actions(ctx, "", datosbot.Bimester{}); err != nil {
		return nil, err
	}
	if snap.Audit, err = s.Audit(ctx); err != nil {
		return nil, err
	}
	if snap.Extra, err = s.extraKeys(ctx); err != nil {
		return nil, err
	}
	return snap, nil
}

// Import writes a snapshot into a store that has no institutions yet
// (ECONFLICT otherwise). It writes no audit entry of its own, so that the
// trail is the exported one.
func (s *Store) Import(ctx context.Context, snap *Snapshot) error {
	if snap == nil || snap.Version != SnapshotVersion {
		return datosbot.Errorf(datosbot.EINVALID, "El respaldo no tiene el formato esperado (versión %d). Exporte de nuevo con esta versión del bot.", SnapshotVersion)
	}
	n, err := s.rdb.SCard(ctx, s.institutionsKey()).Result()
	if err != nil {
		return s.wrap(err)
	}
	if n > 0 {
		return datosbot.Errorf(datosbot.ECONFLICT, "La base de datos ya tiene %d instituciones; solo se puede importar en una base vacía. Use otra base o prefijo.", n)
	}
	var writes []func(redis.Pipeliner)
	for _, in := range snap.Institutions {
		writes = append(writes, func(p redis.Pipeliner) {
			p.Set(ctx, s.institutionKey(in.Key), storedInstitution(in), 0)
			p.SAdd(ctx, s.institutionsKey(), in.Key)
			for _, ch := range in.Channels {
				p.Set(ctx, s.channelKey(ch), in.Key, 0)
				p.SAdd(ctx, s.institutionChannelsKey(in.Key), string(ch))
			}
		})
	}
	for _, m := range snap.Memberships {
		writes = append(writes, func(p redis.Pipeliner) {
			b := mustJSON(m)
			p.HSet(ctx, s.userRolesKey(m.User), roleField(m), b)
			p.HSet(ctx, s.membersKey(m.Institution), memberField(m), b)
		})
	}
	for _, inv := range snap.Invitations {
		writes = append(writes, func(p redis.Pipeliner) {
			p.Set(ctx, s.invitationKey(inv.Code), mustJSON(inv), 0)
			p.SAdd(ctx, s.invitationsKey(), inv.Code)
		})
	}
	for _, a := range snap.Actions {
		writes = append(writes, func(p redis.Pipeliner) { s.indexAction(ctx, p, a) })
	}
	for _, e := range snap.Audit {
		writes = append(writes, func(p redis.Pipeliner) { p.RPush(ctx, s.auditKey(), mustJSON(e)) })
	}
	const batch = 200
	for start := 0; start < len(writes); start += batch {
		_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			for _, w := range writes[start:min(start+batch, len(writes))] {
				w(p)
			}
			return nil
		})
		if err != nil {
			return s.wrap(err)
		}
	}
	base := s.key()
	return s.restoreKeys(ctx, snap.Extra, func(k string) string { return base + k })
}

// allMemberships returns every membership, sorted.
func (s *Store) allMemberships(ctx context.Context) ([]datosbot.Membership, error) {
	keys, err := s.scanKeys(ctx, s.key("user", "*"))
	if err != nil {
		return nil, err
	}
	out := []datosbot.Membership{}
	for _, k := range keys {
		if !strings.HasSuffix(k, ":roles") {
			continue
		}
		ms, err := s.memberships(ctx, k)
		if err != nil {
			return nil, err
		}
		out = append(out, ms...)
	}
	sortMemberships(out)
	return out, nil
}

// invitations returns every invitation, sorted by code.
func (s *Store) invitations(ctx context.Context) ([]datosbot.Invitation, error) {
	codes, err := s.rdb.SMembers(ctx, s.invitationsKey()).Result()
	if err != nil {
		return nil, s.wrap(err)
	}
	sort.Strings(codes)
	out := make([]datosbot.Invitation, 0, len(codes))
	for _, c := range codes {
		var inv datosbot.Invitation
		found, err := getJSON(ctx, s.rdb, s.invitationKey(c), &inv)
		if err != nil {
			return nil, s.wrap(err)
		}
		if found {
			out = append(out, inv)
		}
	}
	return out, nil
}

// extraKeys dumps the keys under the prefix that are neither domain
// records nor short-lived, named without the prefix.
func (s *Store) extraKeys(ctx context.Context) ([]RawKey, error) {
	base := s.key()
	all, err := s.scanKeys(ctx, base+"*")
	if err != nil {
		return nil, err
	}
	var names []string
	for _, k := range all {
		family, _, _ := strings.Cut(strings.TrimPrefix(k, base), ":")
		if !domainFamilies[family] && !ephemeralFamilies[family] {
			names = append(names, k)
		}
	}
	out := []RawKey{}
	if len(names) == 0 {
		return out, nil
	}
	// Every name shares the hash tag, so one script may read them all,
	// also on a Cluster.
	keys, err := s.dumpKeys(ctx, names)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		k.Key = strings.TrimPrefix(k.Key, base)
		out = append(out, k)
	}
	return out, nil
}

// scanKeys returns the keys matching pattern, sorted, from every primary
// of a Cluster or from the one server.
func (s *Store) scanKeys(ctx context.Context, pattern string) ([]string, error) {
	var (
		mu   sync.Mutex
		seen = map[string]bool{}
	)
	scan := func(ctx context.Context, c redis.Cmdable) error {
		it := c.Scan(ctx, 0, pattern, 1000).Iterator()
		for it.Next(ctx) {
			mu.Lock()
			seen[it.Val()] = true
			mu.Unlock()
		}
		return it.Err()
	}
	var err error
	if cc, ok := s.rdb.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return scan(ctx, c) })
	} else {
		err = scan(ctx, s.rdb)
	}
	if err != nil {
		return nil, s.wrap(err)
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out, nil
}

// String summarizes a snapshot for logs.
func (snap *Snapshot) String() string {
	return fmt.Sprintf("snapshot v%d: %d institutions, %d memberships, %d invitations, %d actions, %d audit entries, %d other keys",
		snap.Version, len(snap.Institutions), len(snap.Memberships), len(snap.Invitations), len(snap.Actions), len(snap.Audit), len(snap.Extra))
}

// MarshalIndent returns the snapshot as indented JSON, for files.
func (snap *Snapshot) MarshalIndent() ([]byte, error) { return json.MarshalIndent(snap, "", "  ") }
