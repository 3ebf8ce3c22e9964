package portal

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/datosbot/datosbot"
)

// DefaultBudget is the longest a command waits for the portal: Slack
// allows 3 s for the whole answer.
const DefaultBudget = 2 * time.Second

// Checker resolves data URLs on the portal (DESIGN 2.4, data-URL check).
type Checker struct {
	Client *Client
	// Budget bounds a whole CheckData call, every URL included; default
	// DefaultBudget.
	Budget time.Duration
	Now    func() time.Time // default time.Now
	Logger *slog.Logger     // default slog.Default()
}

func (k *Checker) now() time.Time {
	if k.Now != nil {
		return k.Now()
	}
	return time.Now()
}

func (k *Checker) log() *slog.Logger {
	if k.Logger != nil {
		return k.Logger
	}
	return slog.Default()
}

// CheckData checks each URL against the portal for an institution whose
// organization on the portal is ckanOrg ("" when unknown: then nothing is
// of another institution). It returns within the budget: what the portal
// has not answered by then is pendiente.
func (k *Checker) CheckData(ctx context.Context, ckanOrg string, urls []string) []datosbot.DataCheck {
	budget := k.Budget
	if budget <= 0 {
		budget = DefaultBudget
	}
	ctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	out := make([]datosbot.DataCheck, len(urls))
	for i, u := range urls {
		out[i] = k.Check(ctx, ckanOrg, u)
	}
	return out
}

// Check checks one URL within ctx.
func (k *Checker) Check(ctx context.Context, ckanOrg, raw string) datosbot.DataCheck {
	c := datosbot.DataCheck{URL: raw, Status: datosbot.CheckPendiente, CheckedAt: k.now()}
	ref, err := Resolve(raw)
	if err != nil {
		c.Status = datosbot.CheckInexistente
		return c
	}
	pkg, found, err := k.lookup(ctx, ref)
	switch {
	case err != nil:
		if !Transient(err) && ctx.Err() == nil {
			// A 4xx other than not found is our bug or a portal change, not
			// the liaison's: keep the action and look again later.
			k.log().WarnContext(ctx, "portal: unexpected answer to a data check", "url", raw, "err", err)
		}
		return c
	case !found:
		c.Status = datosbot.CheckInexistente
		return c
	}
	c.Dataset, c.Title, c.Organization = pkg.Name, pkg.Title, pkg.Org()
	switch {
	case !pkg.Active():
		c.Status = datosbot.CheckInexistente
	case ref.Resource != "" && !hasResource(pkg, ref.Resource):
		c.Status = datosbot.CheckInexistente
	case ckanOrg != "" && !strings.EqualFold(pkg.Org(), ckanOrg):
		c.Status = datosbot.CheckOtraInstitucion
	default:
		c.Status = datosbot.CheckVerificada
	}
	return c
}

// lookup finds the dataset a Ref names: by resource id first (the dataset
// of an old URL may have been renamed), else by name or id.
func (k *Checker) lookup(ctx context.Context, ref Ref) (Package, bool, error) {
	id := ref.Dataset
	if ref.Resource != "" {
		r, err := k.Client.ResourceShow(ctx, ref.Resource)
		switch {
		case err == nil && r.PackageID != "":
			id = r.PackageID
		case IsNotFound(err) || Denied(err):
			return Package{}, false, nil
		case err != nil:
			return Package{}, false, err
		}
	}
	p, err := k.Client.PackageShow(ctx, id)
	if IsNotFound(err) {
		return p, false, nil
	}
	if Denied(err) {
		// CKAN answers a deleted (or private) dataset with its own 403: to
		// the public it does not exist.
		return p, false, nil
	}
	return p, err == nil, err
}

func hasResource(p Package, id string) bool {
	r, ok := p.Resource(id)
	return ok && (r.State == "" || r.State == "active")
}
