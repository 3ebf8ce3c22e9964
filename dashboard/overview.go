package dashboard

import (
	"context"
	"sort"

	"github.com/datosbot/datosbot"
)

// Overview returns what user follows, for the Slack Home tab: their
// institutions' state in the current bimester and the open campaigns. A
// person without any role gets an Overview without institutions. Reading
// it costs one store call per institution of the person (a liaison has a
// few) plus one per open campaign, or one per bimester for central people.
func (s *Server) Overview(ctx context.Context, user datosbot.UserID) (datosbot.Overview, error) {
	v, err := s.viewerOf(ctx, user)
	if err != nil {
		return datosbot.Overview{}, err
	}
	today := s.today()
	b := datosbot.BimesterOfDate(today)
	ov := datosbot.Overview{User: user, Central: v.Central, Bimester: b,
		DaysLeft: today.DaysUntil(b.LastDay()) + 1, DashboardURL: s.URL("/tablero")}
	all, err := s.store.InstitutionList(ctx)
	if err != nil {
		return ov, err
	}
	var mine []datosbot.Institution
	active := map[string]bool{}
	for _, in := range all {
		if !in.Active {
			continue
		}
		active[in.Key] = true
		if len(v.Roles[in.Key]) > 0 {
			mine = append(mine, in)
		}
	}
	sort.Slice(mine, func(i, j int) bool { return mine[i].Key < mine[j].Key })
	liaison := &viewer{User: user, Roles: v.Roles} // their own institutions, even for central people
	counts, err := s.bimesterActions(ctx, liaison, mine, []datosbot.Bimester{b})
	if err != nil {
		return ov, err
	}
	n := map[string]int{}
	for _, a := range counts[0] {
		if !a.Withdrawn && b.Contains(a.PublishedOn) {
			n[a.Institution]++
		}
	}
	for _, in := range mine {
		ov.Institutions = append(ov.Institutions, datosbot.InstitutionOverview{Key: in.Key, Name: in.Name,
			Roles: v.Roles[in.Key], Compliant: n[in.Key] > 0, Actions: n[in.Key]})
	}
	if v.Central {
		acts, err := s.store.Actions(ctx, "", b)
		if err != nil {
			return ov, err
		}
		done := map[string]bool{}
		for _, a := range acts {
			if !a.Withdrawn && active[a.Institution] && b.Contains(a.PublishedOn) {
				done[a.Institution] = true
			}
		}
		ov.Compliant, ov.Total = len(done), len(active)
	}
	camps, err := s.store.Campaigns(ctx, true)
	if err != nil {
		return ov, err
	}
	for _, c := range camps {
		if !v.Central && !anyTarget(c, v) {
			continue
		}
		ts, err := s.store.CampaignTargets(ctx, c.ID)
		if err != nil {
			return ov, err
		}
		if v.Central {
			co := datosbot.CampaignOverview{ID: c.ID, Title: c.Title, Deadline: c.Deadline, Targets: len(ts)}
			for _, t := range ts {
				if t.Status == datosbot.StatusCumplida {
					co.Done++
				}
			}
			ov.Campaigns = append(ov.Campaigns, co)
			continue
		}
		for _, t := range ts {
			if len(v.Roles[t.Institution]) > 0 {
				ov.Campaigns = append(ov.Campaigns, datosbot.CampaignOverview{ID: c.ID, Title: c.Title, Deadline: c.Deadline,
					Institution: t.Institution, Status: t.Status})
			}
		}
	}
	return ov, nil
}

// anyTarget reports whether campaign c may target one of the viewer's
// institutions.
func anyTarget(c datosbot.Campaign, v *viewer) bool {
	for k := range v.Roles {
		if targets(c, k) {
			return true
		}
	}
	return false
}
