package datosbot

import (
	"sort"
	"time"
)

// ComplianceRow says whether an institution complies with a bimester: it
// does when it has at least one non-withdrawn action dated inside it.
type ComplianceRow struct {
	Institution  string     `json:"institution"`
	Name         string     `json:"name"`
	Bimester     Bimester   `json:"bimester"`
	Compliant    bool       `json:"compliant"`
	Actions      int        `json:"actions"`
	LastActionAt *time.Time `json:"last_action_at"` // null without actions
	// VerifiedEvidence counts the actions whose publication was checked
	// and mentions the data URL (Evidence verificada).
	VerifiedEvidence int `json:"verified_evidence"`
}

// Compliance computes one row per active institution for bimester b from
// the given actions (of any bimester), sorted by institution key.
func Compliance(insts []Institution, actions []Action, b Bimester) []ComplianceRow {
	rows := make([]ComplianceRow, 0, len(insts))
	index := make(map[string]int, len(insts))
	for _, in := range insts {
		if !in.Active {
			continue
		}
		index[in.Key] = len(rows)
		rows = append(rows, ComplianceRow{Institution: in.Key, Name: in.Name, Bimester: b})
	}
	for _, a := range actions {
		i, ok := index[a.Institution]
		if !ok || a.Withdrawn || !b.Contains(a.PublishedOn) {
			continue
		}
		r := &rows[i]
		r.Actions++
		r.Compliant = true
		if a.Evidence != nil && a.Evidence.Status == EvidenceVerified {
			r.VerifiedEvidence++
		}
		if r.LastActionAt == nil || a.RegisteredAt.After(*r.LastActionAt) {
			at := a.RegisteredAt
			r.LastActionAt = &at
		}
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Institution < rows[j].Institution })
	return rows
}

// Complies reports whether actions contain a non-withdrawn one dated in b.
func Complies(actions []Action, b Bimester) bool {
	for _, a := range actions {
		if !a.Withdrawn && b.Contains(a.PublishedOn) {
			return true
		}
	}
	return false
}
