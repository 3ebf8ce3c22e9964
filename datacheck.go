package datosbot

import (
	"fmt"
	"strings"
	"time"
)

// CheckStatus is what the portal (datos.gob.mx) says of a data URL.
type CheckStatus string

// The outcomes of a data check (DESIGN 2.4).
const (
	// CheckVerificada: the dataset (and resource) exists and is active.
	CheckVerificada CheckStatus = "verificada"
	// CheckOtraInstitucion: it exists but belongs to another organization
	// than the institution's ckan: one. Accepted, and the reply says so.
	CheckOtraInstitucion CheckStatus = "otra_institucion"
	// CheckInexistente: the portal answers not found. Refused at
	// registration; told to the channel when a background check finds it.
	CheckInexistente CheckStatus = "inexistente"
	// CheckPendiente: the portal did not answer in time (or answered 5xx,
	// 403 or 429). Accepted and re-checked in the background.
	CheckPendiente CheckStatus = "pendiente"
)

// CopyDataURLHint tells a liaison how to get the direct URL of a dataset
// (shown when the portal does not know the one given).
const CopyDataURLHint = "Abra el conjunto en https://www.datos.gob.mx, búsquelo por su nombre y copie la dirección de la barra del navegador: https://www.datos.gob.mx/dataset/<nombre> (o la de su recurso)."

// DataCheck is the portal's answer about one data URL of an action.
type DataCheck struct {
	URL          string      `json:"url"`
	Status       CheckStatus `json:"status"`
	Dataset      string      `json:"dataset"`      // the dataset's name (slug) on the portal
	Title        string      `json:"title"`        // its title
	Organization string      `json:"organization"` // the slug of the organization that owns it
	CheckedAt    time.Time   `json:"checked_at"`
}

// Describe says in Spanish, in one line, what the check found.
func (c DataCheck) Describe() string {
	name := c.Title
	if name == "" {
		name = c.Dataset
	}
	switch c.Status {
	case CheckVerificada:
		return fmt.Sprintf("verificada en datos.gob.mx: %s (%s)", name, c.Organization)
	case CheckOtraInstitucion:
		return fmt.Sprintf("de otra institución: %s es de %s en datos.gob.mx; se acepta (comunicar datos de otra institución está permitido), pero no son datos propios", name, c.Organization)
	case CheckInexistente:
		return "no existe en datos.gob.mx"
	case CheckPendiente:
		return "pendiente: datos.gob.mx no respondió a tiempo; se verificará en segundo plano"
	}
	return string(c.Status)
}

// DataChecksSummary says in Spanish, in a few words, where an action's data checks
// stand ("" when it has none).
func DataChecksSummary(checks []DataCheck) string {
	if len(checks) == 0 {
		return ""
	}
	var parts []string
	seen := map[CheckStatus]bool{}
	for _, s := range []CheckStatus{CheckInexistente, CheckPendiente, CheckOtraInstitucion, CheckVerificada} {
		for _, c := range checks {
			if c.Status == s && !seen[s] {
				seen[s] = true
				parts = append(parts, map[CheckStatus]string{CheckVerificada: "datos verificados",
					CheckOtraInstitucion: "datos de otra institución", CheckInexistente: "datos inexistentes",
					CheckPendiente: "datos por verificar"}[s])
			}
		}
	}
	return strings.Join(parts, ", ")
}

// DataRecheck is a data URL whose check came back pendiente: it is checked
// again in the background, with backoff, until the portal answers.
type DataRecheck struct {
	ID          string `json:"id"`
	Kind        string `json:"kind"`   // "accion", "publicar" or "campana"
	Action      string `json:"action"` // the action whose data_checks it updates, or the campaign's id
	Institution string `json:"institution"`
	URL         string `json:"url"`
	Attempts    int    `json:"attempts"`
	// Since is when the first check came back pendiente.
	Since time.Time `json:"since"`
}

// PortalNotice is one change the new-data watch saw on the portal and told
// an institution's liaison channels about: a new dataset, or a new or
// updated resource of one.
type PortalNotice struct {
	// Key identifies the change: the dataset's id and the timestamp that
	// made it news (and the resource's id), so it is told once.
	Key          string    `json:"key"`
	Institution  string    `json:"institution"`
	Kind         string    `json:"kind"` // "conjunto" (a new dataset) or "recurso"
	DatasetID    string    `json:"dataset_id"`
	Dataset      string    `json:"dataset"` // name (slug)
	Title        string    `json:"title"`
	Organization string    `json:"organization"`
	URL          string    `json:"url"` // the dataset's direct URL, ready for anunciar
	Resource     string    `json:"resource,omitempty"`
	ResourceName string    `json:"resource_name,omitempty"`
	HighValue    bool      `json:"high_value"`
	ChangedAt    time.Time `json:"changed_at"` // when the portal says it happened
	SeenAt       time.Time `json:"seen_at"`
}
