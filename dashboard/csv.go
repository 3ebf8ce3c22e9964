package dashboard

import (
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"
)

// writeCSV answers records as a CSV download. A UTF-8 byte order mark
// comes first so that spreadsheet programs read the accents right.
func writeCSV(w http.ResponseWriter, filename string, records [][]string) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+filename+`"`)
	w.Write([]byte("\ufeff"))
	cw := csv.NewWriter(w)
	for _, rec := range records {
		for i, f := range rec {
			rec[i] = csvSafe(f)
		}
	}
	cw.WriteAll(records)
}

// csvSafe keeps a field that a spreadsheet would run as a formula (=, +,
// -, @ first) as text: user input must not become a formula.
func csvSafe(f string) string {
	if f != "" && strings.ContainsRune("=+-@\t\r", rune(f[0])) {
		return "'" + f
	}
	return f
}

func itoa(n int) string { return strconv.Itoa(n) }

func heatMapCSV(hm heatMap) [][]string {
	out := [][]string{{"institucion", "nombre", "bimestre", "estado", "acciones", "evidencias_verificadas"}}
	for _, r := range hm.Rows {
		for _, c := range r.Cells {
			out = append(out, []string{r.Key, r.Name, c.B.String(), c.State.Word(), itoa(c.Actions), itoa(c.Verified)})
		}
	}
	return out
}

func campaignsCSV(cs []campaignView) [][]string {
	out := [][]string{{"campana", "titulo", "fecha_limite", "cerrada", "institucion", "nombre", "estado"}}
	for _, c := range cs {
		for _, t := range c.Targets {
			out = append(out, []string{c.ID, c.Title, c.Deadline.String(), strconv.FormatBool(c.Closed), t.Key, t.Name, string(t.Status)})
		}
	}
	return out
}

func institutionCSV(p institutionPage) [][]string {
	out := [][]string{{"institucion", "accion", "bimestre", "fecha", "medio", "tipo", "urls_datos", "url_publicacion", "verificacion_portal", "evidencia", "campana", "registro", "registrada", "retirada"}}
	for _, a := range p.Actions {
		var checks []string
		for _, c := range a.Checks {
			checks = append(checks, c.Status)
		}
		out = append(out, []string{p.Inst.Key, a.ID, a.Bimester.String(), a.PublishedOn.String(), string(a.Medium), string(a.Type),
			strings.Join(a.DataURLs, " "), a.EvidenceURL, strings.Join(checks, " "), a.Evidence, a.Campaign,
			string(a.RegisteredBy), a.Registered, strconv.FormatBool(a.Withdrawn)})
	}
	return out
}

func reportCSV(p reportPage) [][]string {
	out := [][]string{{"semestre", "institucion", "nombre", "bimestre", "estado", "acciones", "accion", "fecha", "medio", "tipo", "urls_datos", "url_publicacion", "evidencia"}}
	for _, r := range p.Rows {
		for _, c := range r.Cells {
			base := []string{p.Semester.String(), r.Key, r.Name, c.B.String(), c.State.Word(), itoa(c.Actions)}
			n := 0
			for _, a := range r.Actions {
				if !c.B.Contains(a.PublishedOn) {
					continue
				}
				n++
				out = append(out, append(append([]string{}, base...), a.ID, a.PublishedOn.String(), string(a.Medium), string(a.Type),
					strings.Join(a.DataURLs, " "), a.EvidenceURL, a.Evidence))
			}
			if n == 0 {
				out = append(out, append(base, "", "", "", "", "", "", ""))
			}
		}
	}
	return out
}
