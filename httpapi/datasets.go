package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/datosbot/datosbot"
)

// DatasetStore reads what the portal watch saw. storage.Store implements it.
type DatasetStore interface {
	// PortalNotices returns the notices of institution key ("" for all)
	// whose change happened at or after since, oldest first.
	PortalNotices(ctx context.Context, key string, since time.Time) ([]datosbot.PortalNotice, error)
}

// DatasetRoutes mounts GET /api/v1/datasets?institution=&since= (DESIGN
// 2.2): what the new-data watch saw on the portal, behind the bearer
// tokens; format=csv for CSV.
func (s *Server) DatasetRoutes(mux *http.ServeMux, store DatasetStore) {
	s.API(mux, "/api/v1/datasets", map[string]http.HandlerFunc{
		"GET": func(w http.ResponseWriter, r *http.Request) { s.handleDatasets(w, r, store) },
	})
}

func (s *Server) handleDatasets(w http.ResponseWriter, r *http.Request, store DatasetStore) {
	f, err := format(r)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	q := r.URL.Query()
	key, err := s.institutionParam(r)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	var since time.Time
	if v := strings.TrimSpace(q.Get("since")); v != "" {
		if d, err := datosbot.ParseDate(v); err == nil {
			since = time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, s.loc)
		} else if since, err = time.Parse(time.RFC3339, v); err != nil {
			WriteError(w, r, datosbot.Errorf(datosbot.EINVALID, "since=%q no es una fecha: use AAAA-MM-DD (por ejemplo 2026-12-01) o un instante RFC 3339.", datosbot.Truncate(v, 40)))
			return
		}
	}
	notices, err := store.PortalNotices(r.Context(), key, since)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	if f == "csv" {
		rows := [][]string{DatasetCSVHeader}
		for _, n := range notices {
			rows = append(rows, []string{n.Institution, n.Kind, n.Dataset, cell(n.Title), n.Organization, n.URL, n.Resource,
				cell(n.ResourceName), strconv.FormatBool(n.HighValue), timeString(n.ChangedAt, s.loc), timeString(n.SeenAt, s.loc)})
		}
		writeCSV(w, r, "conjuntos", rows)
		return
	}
	WriteJSON(w, http.StatusOK, NewList(notices))
}

// DatasetCSVHeader is the header row of the datasets CSV.
var DatasetCSVHeader = []string{"institution", "kind", "dataset", "title", "organization", "url", "resource",
	"resource_name", "high_value", "changed_at", "seen_at"}
