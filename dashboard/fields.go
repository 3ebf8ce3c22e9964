package dashboard

import "github.com/datosbot/datosbot"

// The portal and evidence work add data checks and evidence to
// datosbot.Action. Until those fields exist, the dashboard shows no such
// columns; these functions are the only place that reads them.

// hasDataChecks and hasEvidence say whether datosbot.Action carries them.
const (
	hasDataChecks = true
	hasEvidence   = true
)

// checkView is one data URL's portal check, as the Institución page shows it.
type checkView struct{ URL, Status, Title string }

// dataChecks returns the portal checks of a's data URLs.
func dataChecks(a datosbot.Action) []checkView {
	out := make([]checkView, 0, len(a.DataChecks))
	for _, c := range a.DataChecks {
		title := c.Title
		if title == "" {
			title = c.Dataset
		}
		out = append(out, checkView{URL: c.URL, Status: string(c.Status), Title: title})
	}
	return out
}

// evidenceOf returns the evidence status of a ("verificada", "sin_mencion",
// …) and its detail; "" when unknown.
func evidenceOf(a datosbot.Action) (status, detail string) {
	if a.Evidence == nil {
		return "", ""
	}
	return string(a.Evidence.Status), a.Evidence.Detail
}

// evidenceVerified reports whether a's publication mentions its data URL.
func evidenceVerified(a datosbot.Action) bool {
	st, _ := evidenceOf(a)
	return st == "verificada"
}
