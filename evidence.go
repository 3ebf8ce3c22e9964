package datosbot

import "time"

// EvidenceStatus is what the check of an action's publication found
// (DESIGN 2.5).
type EvidenceStatus string

// The outcomes of an evidence check.
const (
	// EvidenceVerified: the publication mentions one of the data URLs.
	EvidenceVerified EvidenceStatus = "verificada"
	// EvidenceNoMention: the publication was read and mentions none of
	// the data URLs; the institution's channel is told what to fix.
	EvidenceNoMention EvidenceStatus = "sin_mencion"
	// EvidenceUnreachable: the publication could not be read (4xx, 5xx,
	// timeout, an internal address); it is checked again for 24 hours.
	EvidenceUnreachable EvidenceStatus = "inaccesible"
	// EvidenceUnverifiable: the publication needs a login or JavaScript,
	// or is not a page; a person has to look at it.
	EvidenceUnverifiable EvidenceStatus = "no_verificable"
)

// Label is the status in words, for chat replies.
func (s EvidenceStatus) Label() string {
	switch s {
	case EvidenceVerified:
		return "verificada: cita la URL de los datos"
	case EvidenceNoMention:
		return "sin mención de la URL de los datos"
	case EvidenceUnreachable:
		return "inaccesible"
	case EvidenceUnverifiable:
		return "no verificable automáticamente"
	case "":
		return "por revisar"
	}
	return string(s)
}

// Evidence is the outcome of the last check of an action's publication.
// Actions not checked yet have none (null in JSON).
type Evidence struct {
	Status    EvidenceStatus `json:"status"`
	CheckedAt time.Time      `json:"checked_at"`
	Detail    string         `json:"detail"` // Spanish: what was found, and what to do
}
