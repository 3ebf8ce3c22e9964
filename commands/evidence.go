package commands

import "github.com/datosbot/datosbot"

// evidenceNote is what estado and acciones say about the check of a's
// publication, starting with a separator; "" when nothing is known and
// nothing is checked. With detail, an outcome that needs the liaison's
// attention carries its explanation.
func (s *Service) evidenceNote(a datosbot.Action, detail bool) string {
	if a.Withdrawn {
		return ""
	}
	if a.Evidence == nil {
		if !s.evidence {
			return ""
		}
		return " · evidencia " + datosbot.EvidenceStatus("").Label()
	}
	note := " · evidencia " + a.Evidence.Status.Label()
	if detail && a.Evidence.Status != datosbot.EvidenceVerified && a.Evidence.Detail != "" {
		note += ": " + a.Evidence.Detail
	}
	return note
}
