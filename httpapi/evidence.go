package httpapi

import "github.com/datosbot/datosbot"

// evidenceOf is a's evidence, empty when it was not checked yet (the CSV
// leaves its columns blank; JSON says null).
func evidenceOf(a datosbot.Action) datosbot.Evidence {
	if a.Evidence == nil {
		return datosbot.Evidence{}
	}
	return *a.Evidence
}
