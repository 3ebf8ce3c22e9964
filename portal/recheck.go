package portal

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/datosbot/datosbot"
)

// RecheckStore is what background re-checks need from storage.
// storage.Store implements it.
type RecheckStore interface {
	AddDataRecheck(ctx context.Context, r datosbot.DataRecheck, due time.Time) error
	AddDataRecheckIfAbsent(ctx context.Context, r datosbot.DataRecheck, due time.Time) (bool, error)
	ActionsWithPendingDataChecks(ctx context.Context) ([]datosbot.Action, error)
	ClaimDataRechecks(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]datosbot.DataRecheck, error)
	FinishDataRecheck(ctx context.Context, id string) error
	SetActionDataCheck(ctx context.Context, id string, c datosbot.DataCheck) (datosbot.Action, error)
	Institution(ctx context.Context, key string) (datosbot.Institution, error)
}

// Poster queues the bot's own messages (the outbox).
type Poster interface {
	Post(ctx context.Context, msgs ...datosbot.Message) error
}

// Checks checks data URLs for the commands (commands.DataChecker): at
// once within the budget, then in the background for what came back
// pendiente, with backoff, until the portal answers. A background answer
// of inexistente is told once in the institution's liaison channels.
type Checks struct {
	Checker *Checker
	Store   RecheckStore
	Poster  Poster
	Now     func() time.Time
	Logger  *slog.Logger
	// Interval is how often Run looks for due re-checks; default 10 s.
	Interval time.Duration
	// FirstDelay is the wait before the first re-check, doubled (with
	// jitter) after each pendiente up to MaxDelay; default 30 s and 1 h.
	FirstDelay, MaxDelay time.Duration
	// GiveUp is how long a URL stays pendiente before the re-checks stop
	// (it stays pendiente on the action); default 7 days.
	GiveUp time.Duration
	// Budget bounds one background check; default 30 s.
	Budget time.Duration
	// UnidadChannel is told when a campaign's data URL turns out not to
	// exist (DATOSBOT_UNIDAD_CHANNEL); empty: only the log says it.
	UnidadChannel datosbot.ChannelID
}

func (c *Checks) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Checks) log() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.Default()
}

// CheckData checks urls for an institution within the command's budget.
func (c *Checks) CheckData(ctx context.Context, inst datosbot.Institution, urls []string) []datosbot.DataCheck {
	return c.Checker.CheckData(ctx, inst.CKANOrg, urls)
}

// Recheck queues a pendiente URL for the background.
func (c *Checks) Recheck(ctx context.Context, r datosbot.DataRecheck) error {
	if r.Since.IsZero() {
		r.Since = c.now()
	}
	if r.ID == "" {
		r.ID = recheckID(r)
	}
	return c.Store.AddDataRecheck(ctx, r, c.now().Add(c.delay(0)))
}

func recheckID(r datosbot.DataRecheck) string {
	sum := sha256.Sum256([]byte(r.Kind + "\x00" + r.Action + "\x00" + r.Institution + "\x00" + r.URL))
	return hex.EncodeToString(sum[:12])
}

// Backfill queues, due now, a re-check for every pendiente data check of
// an action that has none queued. The commands queue it in a write after
// the action's; a crash between the two would otherwise leave the URL
// pendiente for good. Run at start-up; a queued re-check is left alone.
func (c *Checks) Backfill(ctx context.Context) (int, error) {
	actions, err := c.Store.ActionsWithPendingDataChecks(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, a := range actions {
		for _, check := range a.DataChecks {
			if check.Status != datosbot.CheckPendiente {
				continue
			}
			r := datosbot.DataRecheck{Kind: "accion", Action: a.ID, Institution: a.Institution, URL: check.URL, Since: check.CheckedAt}
			if r.Since.IsZero() {
				r.Since = a.RegisteredAt
			}
			r.ID = recheckID(r)
			added, err := c.Store.AddDataRecheckIfAbsent(ctx, r, c.now())
			if err != nil {
				return n, err
			}
			if added {
				n++
			}
		}
	}
	return n, nil
}

// delay is the wait after n pendiente answers: exponential, with jitter
// on its upper half.
func (c *Checks) delay(n int) time.Duration {
	first, most := c.FirstDelay, c.MaxDelay
	if first <= 0 {
		first = 30 * time.Second
	}
	if most <= 0 {
		most = time.Hour
	}
	d := min(first<<min(n, 20), most)
	return d/2 + rand.N(d/2+1)
}

// Run re-checks due URLs every Interval until ctx is done.
func (c *Checks) Run(ctx context.Context) error {
	every := c.Interval
	if every <= 0 {
		every = 10 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := c.Tick(ctx); err != nil && ctx.Err() == nil {
			c.log().WarnContext(ctx, "portal: data re-checks failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Tick re-checks the URLs due now.
func (c *Checks) Tick(ctx context.Context) error {
	budget := c.Budget
	if budget <= 0 {
		budget = 30 * time.Second
	}
	jobs, err := c.Store.ClaimDataRechecks(ctx, c.now(), 2*budget+time.Minute, 20)
	if err != nil {
		return err
	}
	for _, job := range jobs {
		if err := c.recheck(ctx, job, budget); err != nil {
			c.log().WarnContext(ctx, "portal: data re-check failed", "url", job.URL, "err", err)
		}
	}
	return nil
}

func (c *Checks) recheck(ctx context.Context, job datosbot.DataRecheck, budget time.Duration) error {
	var inst datosbot.Institution // a campaign's URLs belong to no institution
	if job.Institution != "" {
		var err error
		if inst, err = c.Store.Institution(ctx, job.Institution); err != nil {
			return err
		}
	}
	cctx, cancel := context.WithTimeout(ctx, budget)
	check := c.Checker.Check(cctx, inst.CKANOrg, job.URL)
	cancel()
	if check.Status == datosbot.CheckPendiente {
		if c.now().Sub(job.Since) > c.giveUp() {
			c.log().WarnContext(ctx, "portal: giving up a data re-check; the URL stays pendiente", "url", job.URL, "since", job.Since)
			return c.Store.FinishDataRecheck(ctx, job.ID)
		}
		job.Attempts++
		return c.Store.AddDataRecheck(ctx, job, c.now().Add(c.delay(job.Attempts)))
	}
	if job.Kind == "accion" {
		a, err := c.Store.SetActionDataCheck(ctx, job.Action, check)
		if datosbot.ErrorCode(err) == datosbot.ENOTFOUND {
			return c.Store.FinishDataRecheck(ctx, job.ID)
		}
		if err != nil {
			return err
		}
		if a.Withdrawn {
			return c.Store.FinishDataRecheck(ctx, job.ID)
		}
	}
	if check.Status == datosbot.CheckInexistente && c.Poster != nil {
		var msgs []datosbot.Message
		notice := inexistenteNotice(job)
		channels := inst.Channels
		if job.Kind == "campana" {
			c.log().WarnContext(ctx, "portal: a campaign names a dataset that does not exist", "campaign", job.Action, "url", job.URL)
			channels = nil
			if c.UnidadChannel != "" {
				channels = []datosbot.ChannelID{c.UnidadChannel}
			}
		}
		for _, ch := range channels {
			// The key makes the notice once per channel, even if this
			// re-check runs again after a crash.
			msgs = append(msgs, datosbot.Message{Key: "datacheck:" + job.ID + ":" + string(ch), Channel: ch, Reply: notice})
		}
		if len(msgs) > 0 {
			if err := c.Poster.Post(ctx, msgs...); err != nil {
				return err
			}
		}
	}
	return c.Store.FinishDataRecheck(ctx, job.ID)
}

func (c *Checks) giveUp() time.Duration {
	if c.GiveUp > 0 {
		return c.GiveUp
	}
	return 7 * 24 * time.Hour
}

// inexistenteNotice tells the liaisons that a data URL accepted while the
// portal was unreachable names no dataset, and how to fix it.
func inexistenteNotice(job datosbot.DataRecheck) datosbot.Reply {
	r := datosbot.Reply{Title: "Una URL de datos no existe en datos.gob.mx", Public: true}
	how := datosbot.CopyDataURLHint
	switch job.Kind {
	case "campana":
		r.Text = fmt.Sprintf("La campaña %s cita %s, pero datos.gob.mx no tiene ese conjunto de datos (cuando se creó, el portal no respondió y quedó por verificar).\n%s Avise a las instituciones con la URL correcta: cierre la campaña con /datos campaña cerrar %s y lance otra.",
			job.Action, job.URL, how, job.Action)
	case "accion":
		r.Text = fmt.Sprintf("La acción %s cita %s, pero datos.gob.mx no tiene ese conjunto de datos (cuando se registró, el portal no respondió y quedó por verificar).\n%s Después retire la acción con /datos retirar %s y regístrela de nuevo con la URL correcta.",
			job.Action, job.URL, how, job.Action)
	default:
		r.Text = fmt.Sprintf("El aviso de publicación citó %s, pero datos.gob.mx no tiene ese conjunto de datos (cuando se envió, el portal no respondió).\n%s Si el aviso era para otros datos, envíelo de nuevo con /datos publicar <url-datos>.", job.URL, how)
	}
	return r
}
