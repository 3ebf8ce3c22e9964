package dashboard

import (
	"net/http"
	"sort"
	"strings"
)

// The pages come in the next commit; until then each shows which
// institutions the signed-in person may see.
func (s *Server) cumplimiento(w http.ResponseWriter, r *http.Request, v *viewer) {
	all, err := s.store.Institutions(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var keys []string
	for _, in := range all {
		if in.Active && v.sees(in.Key) {
			keys = append(keys, in.Key)
		}
	}
	sort.Strings(keys)
	s.message(w, http.StatusOK, "Tablero", "Instituciones que puede ver: "+strings.Join(keys, ", ")+".", "", "")
}

func (s *Server) campanas(w http.ResponseWriter, r *http.Request, v *viewer) { s.cumplimiento(w, r, v) }
func (s *Server) reporte(w http.ResponseWriter, r *http.Request, v *viewer)  { s.cumplimiento(w, r, v) }

func (s *Server) institucion(w http.ResponseWriter, r *http.Request, v *viewer) {
	key := r.PathValue("clave")
	if !v.sees(key) {
		s.message(w, http.StatusForbidden, "Sin acceso a esta institución",
			"Usted es enlace de "+strings.Join(v.keys(), ", ")+" y solo puede ver su información.", "/tablero", "Ir a sus instituciones")
		return
	}
	s.message(w, http.StatusOK, "Institución "+key, "Canales y acciones de "+key+".", "", "")
}
