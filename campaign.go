package datosbot

import "time"

// Campaign is an ad-hoc request of the Unidad or the Coordinación: every
// target institution must communicate the given data before the deadline.
type Campaign struct {
	ID           string    `json:"id"`
	Title        string    `json:"title"`
	Message      string    `json:"message"`
	DataURLs     []string  `json:"data_urls"`
	Deadline     Date      `json:"deadline"`
	RequestedBy  Role      `json:"requested_by"` // unidad or coordinacion
	CreatedBy    UserID    `json:"created_by"`
	CreatedAt    time.Time `json:"created_at"`
	Closed       bool      `json:"closed"`
	Institutions []string  `json:"target_institutions"`
}

// TargetStatus is where one institution stands in a campaign.
type TargetStatus string

// The states of a campaign target, in order.
const (
	StatusPendiente TargetStatus = "pendiente"
	StatusEnterado  TargetStatus = "enterado"
	StatusCumplida  TargetStatus = "cumplida"
)

// CampaignTarget is one institution's progress in a campaign.
type CampaignTarget struct {
	Institution    string       `json:"institution"`
	Status         TargetStatus `json:"status"`
	AcknowledgedAt time.Time    `json:"acknowledged_at,omitzero"`
	AcknowledgedBy UserID       `json:"acknowledged_by,omitempty"`
	CompletedAt    time.Time    `json:"completed_at,omitzero"`
	Action         string       `json:"action"`
}

// Completes reports whether action a completes campaign c for its
// institution: it names the campaign, or it mentions one of the campaign's
// data URLs and was published on or after the day the campaign started.
func (c Campaign) Completes(a Action, loc *time.Location) bool {
	if a.Withdrawn {
		return false
	}
	if a.Campaign == c.ID {
		return true
	}
	if a.PublishedOn.Before(DateOf(c.CreatedAt, loc)) {
		return false
	}
	for _, u := range a.DataURLs {
		for _, v := range c.DataURLs {
			if SameURL(u, v) {
				return true
			}
		}
	}
	return false
}
