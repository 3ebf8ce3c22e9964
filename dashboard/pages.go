package dashboard

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/datosbot/datosbot"
)

// csvLink returns the page's own address with formato=csv: the CSV of
// exactly what the page shows.
func csvLink(r *http.Request) string {
	q := r.URL.Query()
	q.Set("formato", "csv")
	return r.URL.Path + "?" + q.Encode()
}

func wantsCSV(r *http.Request) bool { return r.URL.Query().Get("formato") == "csv" }

// cumplimiento is the heat map: one row per institution, one column per
// bimester of the previous and the current semester.
func (s *Server) cumplimiento(w http.ResponseWriter, r *http.Request, v *viewer) {
	hm, err := s.loadHeatMap(r.Context(), v)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if wantsCSV(r) {
		writeCSV(w, "cumplimiento-"+hm.Today.String()+".csv", heatMapCSV(hm))
		return
	}
	s.render(w, http.StatusOK, "cumplimiento", view{Title: "Cumplimiento por bimestre", Nav: "cumplimiento", Viewer: v, CSV: csvLink(r), Data: hm})
}

// campanas lists the campaigns with their progress.
func (s *Server) campanas(w http.ResponseWriter, r *http.Request, v *viewer) {
	cs, err := s.loadCampaigns(r.Context(), v)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if wantsCSV(r) {
		writeCSV(w, "campanas-"+s.today().String()+".csv", campaignsCSV(cs))
		return
	}
	s.render(w, http.StatusOK, "campanas", view{Title: "Campañas", Nav: "campanas", Viewer: v, CSV: csvLink(r), Data: cs})
}

// actionView is one action as the pages show it.
type actionView struct {
	datosbot.Action
	Checks         []checkView
	Evidence       string
	EvidenceDetail string
	Registered     string
}

func (s *Server) actionViews(as []datosbot.Action) []actionView {
	out := make([]actionView, len(as))
	for i, a := range as {
		st, detail := evidenceOf(a)
		out[i] = actionView{Action: a, Checks: dataChecks(a), Evidence: st, EvidenceDetail: detail, Registered: s.clock(a.RegisteredAt)}
	}
	return out
}

// failureView is one failed delivery as the Institución page shows it.
type failureView struct{ Channel, Reason, At string }

// campaignStatus is one open campaign of an institution.
type campaignStatus struct {
	ID, Title string
	Deadline  datosbot.Date
	Status    datosbot.TargetStatus
}

// institutionPage is the Institución page's data.
type institutionPage struct {
	Inst        datosbot.Institution
	Row         row
	Filter      datosbot.Bimester
	Actions     []actionView
	Failures    []failureView
	Campaigns   []campaignStatus
	HasChecks   bool
	HasEvidence bool
	Notices     []noticeView // what the portal watch saw, newest first
	HasNotices  bool
}

// institucion shows one institution: its bimesters, actions (with data
// checks and evidence), channels, failed deliveries and open campaigns.
// A liaison of another institution gets 403.
func (s *Server) institucion(w http.ResponseWriter, r *http.Request, v *viewer) {
	key := datosbot.Fold(r.PathValue("clave"))
	if !v.sees(key) {
		s.message(w, http.StatusForbidden, "Sin acceso a esta institución",
			"Usted es enlace de "+strings.Join(v.keys(), ", ")+" y solo puede ver su información.", "/tablero", "Ir a sus instituciones")
		return
	}
	var filter datosbot.Bimester
	if raw := r.URL.Query().Get("bimestre"); raw != "" {
		b, err := datosbot.ParseBimester(raw)
		if err != nil {
			s.message(w, http.StatusBadRequest, "Bimestre no válido", datosbot.ErrorMessage(err), "/tablero/institucion/"+url.PathEscape(key), "Ver todas sus acciones")
			return
		}
		filter = b
	}
	p, err := s.loadInstitution(r.Context(), key, filter)
	if datosbot.ErrorCode(err) == datosbot.ENOTFOUND {
		s.message(w, http.StatusNotFound, "Institución no encontrada", datosbot.InstitutionNotFound(key).Message, "/tablero", "Ir al cumplimiento")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if wantsCSV(r) {
		writeCSV(w, "institucion-"+key+".csv", institutionCSV(p))
		return
	}
	s.render(w, http.StatusOK, "institucion", view{Title: p.Inst.Name, Viewer: v, CSV: csvLink(r), Data: p})
}

func (s *Server) loadInstitution(ctx context.Context, key string, filter datosbot.Bimester) (institutionPage, error) {
	in, err := s.store.Institution(ctx, key)
	if err != nil {
		return institutionPage{}, err
	}
	today := s.today()
	bims := columns(today)
	all, err := s.store.Actions(ctx, key, datosbot.Bimester{})
	if err != nil {
		return institutionPage{}, err
	}
	perBim := make([][]datosbot.Action, len(bims))
	var shown []datosbot.Action
	for _, a := range all {
		inColumns := false
		for j, b := range bims {
			if b.Contains(a.PublishedOn) {
				perBim[j] = append(perBim[j], a)
				inColumns = true
			}
		}
		// Without a filter the page shows the heat map's two semesters;
		// with one, that bimester, even an older one.
		if filter.IsZero() && inColumns || !filter.IsZero() && filter.Contains(a.PublishedOn) {
			shown = append(shown, a)
		}
	}
	sort.SliceStable(shown, func(i, j int) bool { return shown[j].PublishedOn.Before(shown[i].PublishedOn) })
	hm := heatMapOf([]datosbot.Institution{in}, bims, perBim, today, s.grace, s.loc)
	p := institutionPage{Inst: in, Row: hm.Rows[0], Filter: filter, Actions: s.actionViews(shown),
		HasChecks: hasDataChecks, HasEvidence: hasEvidence}
	if s.failures != nil && len(in.Channels) > 0 {
		fs, err := s.failures(ctx, in.Channels)
		if err != nil {
			return p, err
		}
		for _, f := range fs {
			p.Failures = append(p.Failures, failureView{Channel: string(f.Channel), Reason: datosbot.DescribeFailure(f.Reason), At: s.clock(f.At)})
		}
	}
	if p.Notices, p.HasNotices, err = s.portalNotices(ctx, key, bims[0].Start(s.loc)); err != nil {
		return p, err
	}
	camps, err := s.store.Campaigns(ctx, true)
	if err != nil {
		return p, err
	}
	for _, c := range camps {
		if !targets(c, key) {
			continue
		}
		ts, err := s.store.CampaignTargets(ctx, c.ID)
		if err != nil {
			return p, err
		}
		for _, t := range ts {
			if t.Institution == key {
				p.Campaigns = append(p.Campaigns, campaignStatus{ID: c.ID, Title: c.Title, Deadline: c.Deadline, Status: t.Status})
			}
		}
	}
	return p, nil
}

// targets reports whether campaign c may target institution key (an empty
// list targets every institution; the stored targets decide).
func targets(c datosbot.Campaign, key string) bool {
	if len(c.Institutions) == 0 {
		return true
	}
	for _, k := range c.Institutions {
		if k == key {
			return true
		}
	}
	return false
}

// reportRow is one institution of the semester report.
type reportRow struct {
	Key, Name string
	Cells     []cell
	Complied  int // bimesters it complied with
	Full      bool
	Actions   []actionView
}

// reportPage is the Reporte semestral's data.
type reportPage struct {
	Semester, Prev, Next datosbot.Semester
	Bimesters            []datosbot.Bimester
	Rows                 []reportRow
	Full                 int
	HasEvidence          bool
}

// reporte is the semester report: per institution and bimester, whether it
// complied and with which actions; printable and as CSV.
func (s *Server) reporte(w http.ResponseWriter, r *http.Request, v *viewer) {
	sem := datosbot.BimesterOfDate(s.today()).Semester()
	if raw := r.URL.Query().Get("semestre"); raw != "" {
		var err error
		if sem, err = datosbot.ParseSemester(raw); err != nil {
			s.message(w, http.StatusBadRequest, "Semestre no válido", datosbot.ErrorMessage(err), "/tablero/reporte", "Ver el semestre actual")
			return
		}
	}
	p, err := s.loadReport(r.Context(), v, sem)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if wantsCSV(r) {
		writeCSV(w, "reporte-"+sem.String()+".csv", reportCSV(p))
		return
	}
	s.render(w, http.StatusOK, "reporte", view{Title: "Reporte semestral " + sem.String(), Nav: "reporte", Viewer: v, CSV: csvLink(r), Data: p})
}

func (s *Server) loadReport(ctx context.Context, v *viewer, sem datosbot.Semester) (reportPage, error) {
	insts, err := s.visible(ctx, v)
	if err != nil {
		return reportPage{}, err
	}
	bims := sem.Bimesters()
	actions, err := s.bimesterActions(ctx, v, insts, bims)
	if err != nil {
		return reportPage{}, err
	}
	hm := heatMapOf(insts, bims, actions, s.today(), s.grace, s.loc)
	p := reportPage{Semester: sem, Prev: prevSemester(sem), Next: nextSemester(sem), Bimesters: bims, HasEvidence: hasEvidence}
	index := map[string]int{}
	for i, hr := range hm.Rows {
		rr := reportRow{Key: hr.Key, Name: hr.Name, Cells: hr.Cells}
		for _, c := range hr.Cells {
			if c.State == cumplio {
				rr.Complied++
			}
		}
		rr.Full = rr.Complied == len(bims)
		if rr.Full {
			p.Full++
		}
		index[hr.Key] = i
		p.Rows = append(p.Rows, rr)
	}
	for j := range bims {
		for _, a := range actions[j] {
			if i, ok := index[a.Institution]; ok && !a.Withdrawn && bims[j].Contains(a.PublishedOn) {
				p.Rows[i].Actions = append(p.Rows[i].Actions, s.actionViews([]datosbot.Action{a})...)
			}
		}
	}
	for i := range p.Rows {
		as := p.Rows[i].Actions
		sort.SliceStable(as, func(a, b int) bool { return as[a].PublishedOn.Before(as[b].PublishedOn) })
	}
	return p, nil
}

func prevSemester(s datosbot.Semester) datosbot.Semester {
	if s.N == 1 {
		return datosbot.Semester{Year: s.Year - 1, N: 2}
	}
	return datosbot.Semester{Year: s.Year, N: 1}
}

func nextSemester(s datosbot.Semester) datosbot.Semester {
	if s.N == 2 {
		return datosbot.Semester{Year: s.Year + 1, N: 1}
	}
	return datosbot.Semester{Year: s.Year, N: 2}
}
