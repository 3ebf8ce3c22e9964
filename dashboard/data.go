package dashboard

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/datosbot/datosbot"
)

// column is one bimester of the heat map with its totals.
type column struct {
	B       datosbot.Bimester
	Current bool
	Count   [len(states)]int // institutions per state
	Actions int
	// Verified counts the actions whose evidence is verified.
	Verified int
}

// Cumplio, EnRiesgo, NoCumplio and SinDatos are the column's totals.
func (c column) Cumplio() int   { return c.Count[cumplio] }
func (c column) EnRiesgo() int  { return c.Count[enRiesgo] }
func (c column) NoCumplio() int { return c.Count[noCumplio] }
func (c column) SinDatos() int  { return c.Count[sinDatos] }

// row is one institution of the heat map.
type row struct {
	Key, Name string
	Cells     []cell
}

// cell is one institution in one bimester.
type cell struct {
	B        datosbot.Bimester
	State    state
	Actions  int
	Verified int
}

// heatMap is the Cumplimiento page's data.
type heatMap struct {
	Columns []column
	Rows    []row
	Today   datosbot.Date
	// Evidence says whether actions carry a verified-evidence status, so
	// that the counts of verified evidence mean something.
	Evidence bool
}

func (s *Server) today() datosbot.Date { return datosbot.DateOf(s.now(), s.loc) }

// visible returns the active institutions the viewer may see, sorted by name.
func (s *Server) visible(ctx context.Context, v *viewer) ([]datosbot.Institution, error) {
	all, err := s.store.InstitutionList(ctx)
	if err != nil {
		return nil, err
	}
	type named struct {
		folded string
		in     datosbot.Institution
	}
	shown := make([]named, 0, len(all))
	for _, in := range all {
		if in.Active && v.sees(in.Key) {
			shown = append(shown, named{datosbot.Fold(in.Name), in})
		}
	}
	// By name, as people read them (folded once, not in every comparison);
	// the key breaks ties.
	sort.Slice(shown, func(i, j int) bool {
		a, b := shown[i], shown[j]
		return a.folded < b.folded || a.folded == b.folded && a.in.Key < b.in.Key
	})
	out := make([]datosbot.Institution, len(shown))
	for i, n := range shown {
		out[i] = n.in
	}
	return out, nil
}

// bimesterActions reads the actions of bims for the viewer: for central
// people with ActionsIn (a few round trips for every institution), for a
// liaison, who sees a few, one call per institution and bimester, run
// concurrently. The result is indexed like bims.
func (s *Server) bimesterActions(ctx context.Context, v *viewer, insts []datosbot.Institution, bims []datosbot.Bimester) ([][]datosbot.Action, error) {
	if v.Central {
		return s.store.ActionsIn(ctx, bims)
	}
	out := make([][]datosbot.Action, len(bims))
	errs := make([]error, len(bims)*len(insts))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i, b := range bims {
		for j, in := range insts {
			wg.Go(func() {
				as, err := s.store.Actions(ctx, in.Key, b)
				errs[i*len(insts)+j] = err
				mu.Lock()
				out[i] = append(out[i], as...)
				mu.Unlock()
			})
		}
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// heatMapOf builds the heat map of insts over bims from their actions
// (indexed like bims). It is pure: the benchmark and the tests call it.
func heatMapOf(insts []datosbot.Institution, bims []datosbot.Bimester, actions [][]datosbot.Action, today datosbot.Date, grace int, loc *time.Location) heatMap {
	hm := heatMap{Today: today, Evidence: hasEvidence, Columns: make([]column, len(bims)), Rows: make([]row, len(insts))}
	index := make(map[string]int, len(insts))
	cells := make([]cell, len(insts)*len(bims)) // one allocation for every cell
	for i, in := range insts {
		index[in.Key] = i
		hm.Rows[i] = row{Key: in.Key, Name: in.Name, Cells: cells[i*len(bims) : (i+1)*len(bims)]}
	}
	cur := datosbot.BimesterOfDate(today)
	for j, b := range bims {
		hm.Columns[j] = column{B: b, Current: b == cur}
		for _, a := range actions[j] {
			i, ok := index[a.Institution]
			if !ok || a.Withdrawn || !b.Contains(a.PublishedOn) {
				continue
			}
			c := &hm.Rows[i].Cells[j]
			c.Actions++
			if evidenceVerified(a) {
				c.Verified++
			}
		}
	}
	for i, in := range insts {
		created := datosbot.Date{}
		if !in.CreatedAt.IsZero() {
			created = datosbot.DateOf(in.CreatedAt, loc)
		}
		for j, b := range bims {
			c := &hm.Rows[i].Cells[j]
			c.B = b
			c.State = cellState(b, today, created, grace, c.Actions)
			col := &hm.Columns[j]
			col.Count[c.State]++
			col.Actions += c.Actions
			col.Verified += c.Verified
		}
	}
	return hm
}

// loadHeatMap reads and builds the viewer's heat map.
func (s *Server) loadHeatMap(ctx context.Context, v *viewer) (heatMap, error) {
	today := s.today()
	insts, err := s.visible(ctx, v)
	if err != nil {
		return heatMap{}, err
	}
	bims := columns(today)
	actions, err := s.bimesterActions(ctx, v, insts, bims)
	if err != nil {
		return heatMap{}, err
	}
	return heatMapOf(insts, bims, actions, today, s.grace, s.loc), nil
}

// campaignView is one campaign on the Campañas page: its targets that the
// viewer may see and their progress.
type campaignView struct {
	datosbot.Campaign
	Targets                       []targetView
	Cumplida, Enterado, Pendiente int
	Overdue                       bool // past its deadline and still open
}

// targetView is one institution of a campaign.
type targetView struct {
	Key, Name string
	Status    datosbot.TargetStatus
}

// N is the number of targets shown.
func (c campaignView) N() int { return len(c.Targets) }

// Missing are the targets not yet cumplida.
func (c campaignView) Missing() []targetView {
	var out []targetView
	for _, t := range c.Targets {
		if t.Status != datosbot.StatusCumplida {
			out = append(out, t)
		}
	}
	return out
}

// Widths returns the percentages of the bar's three segments (cumplida,
// enterado, pendiente), rounded so that they add up to 100.
func (c campaignView) Widths() [3]int {
	n := c.N()
	if n == 0 {
		return [3]int{0, 0, 100}
	}
	a := (200*c.Cumplida + n) / (2 * n)
	b := (200*(c.Cumplida+c.Enterado)+n)/(2*n) - a
	return [3]int{a, b, 100 - a - b}
}

// loadCampaigns reads every campaign that targets an institution the
// viewer sees, open ones first, each newest first.
func (s *Server) loadCampaigns(ctx context.Context, v *viewer) ([]campaignView, error) {
	insts, err := s.store.InstitutionList(ctx)
	if err != nil {
		return nil, err
	}
	names := make(map[string]string, len(insts))
	for _, in := range insts {
		names[in.Key] = in.Name
	}
	camps, err := s.store.Campaigns(ctx, false)
	if err != nil {
		return nil, err
	}
	today := s.today()
	views := make([]campaignView, 0, len(camps))
	for _, c := range camps {
		targets, err := s.store.CampaignTargets(ctx, c.ID)
		if err != nil {
			return nil, err
		}
		cv := campaignView{Campaign: c, Overdue: !c.Closed && c.Deadline.Before(today)}
		for _, t := range targets {
			if !v.sees(t.Institution) {
				continue
			}
			cv.Targets = append(cv.Targets, targetView{Key: t.Institution, Name: names[t.Institution], Status: t.Status})
			switch t.Status {
			case datosbot.StatusCumplida:
				cv.Cumplida++
			case datosbot.StatusEnterado:
				cv.Enterado++
			default:
				cv.Pendiente++
			}
		}
		if len(cv.Targets) > 0 {
			views = append(views, cv)
		}
	}
	sort.SliceStable(views, func(i, j int) bool { return !views[i].Closed && views[j].Closed })
	return views, nil
}
