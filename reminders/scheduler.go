package reminders

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/datosbot/datosbot"
)

// Store is what the Scheduler reads and writes. storage.Store implements
// it: the domain reads, plus the scheduler's own state in Redis (see
// storage/outbox.go).
type Store interface {
	// Institutions returns all institutions with their channels.
	Institutions(ctx context.Context) ([]datosbot.Institution, error)
	// Actions returns the actions of institution key ("" for all) dated
	// in bimester b.
	Actions(ctx context.Context, key string, b datosbot.Bimester) ([]datosbot.Action, error)
	// Campaigns returns every campaign, or only the open ones.
	Campaigns(ctx context.Context, openOnly bool) ([]datosbot.Campaign, error)
	// CampaignTargets returns the targets of a campaign.
	CampaignTargets(ctx context.Context, id string) ([]datosbot.CampaignTarget, error)

	// SchedulerState reads in one round trip the instant up to which every
	// occurrence was handled, the next occurrence's instant, the number of
	// campaigns when it was computed, and the number of campaigns now.
	SchedulerState(ctx context.Context) (last, next time.Time, seen, campaigns int64, err error)
	// SetSchedulerState writes last, next and the number of campaigns.
	SetSchedulerState(ctx context.Context, last, next time.Time, campaigns int64) error
	// ClaimOccurrence takes an occurrence for holder for ttl (SET NX):
	// datosbot.OccurrenceClaimed, OccurrenceBusy (another holder has it)
	// or OccurrenceDone.
	ClaimOccurrence(ctx context.Context, key, holder string, ttl time.Duration) (datosbot.OccurrenceClaim, error)
	// FinishOccurrence marks an occurrence done for good.
	FinishOccurrence(ctx context.Context, key, outcome string) error
	// LinkedSince returns the channels linked after since.
	LinkedSince(ctx context.Context, since time.Time) (map[datosbot.ChannelID]time.Time, error)
}

// Poster enqueues the bot's own posts. *Outbox implements it (and so does
// commands.Poster's every implementation).
type Poster interface {
	Post(ctx context.Context, msgs ...datosbot.Message) error
}

// DefaultInterval is how often Scheduler.Run ticks.
const DefaultInterval = 30 * time.Second

// occurrenceLease is how long a scheduler holds an occurrence while it
// enqueues its messages; if it dies, another takes over after this.
const occurrenceLease = 5 * time.Minute

// Scheduler posts the reminders, overdue notices, Unidad summaries and
// campaign reminders when they are due. Its state lives in Redis (through
// Store), never only in memory, so any number of replicas may tick
// against one Redis and a restart resumes where the last tick stopped.
// Store and Outbox are required; every other zero field means the default
// beside it.
//
// # How each occurrence is sent once
//
// Each occurrence (Occurrence.Key) is claimed with SET NX before its
// messages are enqueued and marked done after; each message has the key
// "<occurrence key>:<channel>", and the Outbox never enqueues a key twice.
// Two replicas ticking together therefore enqueue every message once: the
// claim avoids the double work, the outbox key makes it harmless anyway.
//
// # Who receives it
//
// Recipients are decided when the occurrence is processed, not earlier:
// an institution that complies with the bimester by then (datosbot.Complies
// over its actions in that bimester) gets no reminder, so registering an
// action stops the later ones automatically; inactive institutions get
// nothing. A channel linked after the occurrence's instant is left out
// (the audit trail's "canal.vincular" entries after that instant are read
// through LinkedSince), so a late tick or a catch-up never sends a channel
// a reminder from before it was linked; linking answers with the current
// status instead.
//
// # Catch-up
//
// After downtime, the occurrences missed are handled once, in order, but
// only while relevant: of the missed reminders of a bimester only the
// latest is sent, and only if the bimester is still open (with the days
// left counted from the moment it is sent); the others are marked stale.
// Of several missed overdue notices only the latest is sent. A campaign's
// missed reminders are stale once its deadline passed; its summary is
// always sent. So nothing floods a channel. On the very first tick of a
// new deployment nothing before that instant is caught up.
type Scheduler struct {
	Store  Store
	Outbox Poster
	// Calendar says when occurrences are due. The zero Calendar is the
	// default (14, 7, 3 and 1 days before, at 10:00 in Mexico City).
	Calendar Calendar
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logger receives the errors of Run's ticks. Default slog.Default().
	Logger *slog.Logger
	// UnidadChannel receives the overdue and campaign summaries
	// (DATOSBOT_UNIDAD_CHANNEL). Empty: no summaries.
	UnidadChannel datosbot.ChannelID
	// Interval is how often Run ticks. Default DefaultInterval (30 s).
	Interval time.Duration
	// Holder names this replica in occurrence claims. Default a random id.
	Holder string

	once   sync.Once
	holder string
}

func (s *Scheduler) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

func (s *Scheduler) holderID() string {
	s.once.Do(func() {
		s.holder = s.Holder
		if s.holder == "" {
			b := make([]byte, 8)
			rand.Read(b)
			s.holder = hex.EncodeToString(b)
		}
	})
	return s.holder
}

// Run ticks at once and then every Interval until ctx is done. A failed
// tick is logged and retried at the next one.
func (s *Scheduler) Run(ctx context.Context) error {
	interval := s.Interval
	if interval <= 0 {
		interval = DefaultInterval
	}
	log := s.Logger
	if log == nil {
		log = slog.Default()
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := s.Tick(ctx); err != nil && ctx.Err() == nil {
			log.Error("scheduler tick failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// planned is one due occurrence and what to do with it.
type planned struct {
	o    Occurrence
	camp *datosbot.Campaign // for campaign occurrences
	send bool               // false: stale, mark it done without sending
}

// Tick handles the occurrences due since the last tick. When none is due
// and no campaign was created since, it costs one round trip to Redis,
// whatever the number of institutions.
func (s *Scheduler) Tick(ctx context.Context) error {
	now := s.now()
	last, next, seen, campaigns, err := s.Store.SchedulerState(ctx)
	if err != nil {
		return err
	}
	if !last.IsZero() && now.Before(next) && seen == campaigns {
		return nil // idle
	}
	open, err := s.Store.Campaigns(ctx, true)
	if err != nil {
		return err
	}
	if last.IsZero() {
		// A new deployment: nothing before now is caught up.
		return s.Store.SetSchedulerState(ctx, now, s.nextAfter(now, open), campaigns)
	}
	var pending []time.Time // occurrences another replica is handling
	for _, p := range s.plan(last, now, open) {
		key := p.o.Key()
		state, err := s.Store.ClaimOccurrence(ctx, key, s.holderID(), occurrenceLease)
		if err != nil {
			return err
		}
		switch state {
		case datosbot.OccurrenceDone:
			continue
		case datosbot.OccurrenceBusy:
			pending = append(pending, p.o.At)
			continue
		}
		outcome := "stale"
		if p.send {
			n, err := s.process(ctx, p, now, open)
			if err != nil {
				return err // the claim stays ours; the next tick retries
			}
			outcome = "sent " + strconv.Itoa(n)
		}
		if err := s.Store.FinishOccurrence(ctx, key, outcome); err != nil {
			return err
		}
	}
	newLast, newNext := now, s.nextAfter(now, open)
	if len(pending) > 0 {
		// Look at them again once their holder should be done (or dead).
		newLast = slices.MinFunc(pending, time.Time.Compare).Add(-time.Microsecond)
		newNext = now.Add(time.Minute)
	}
	return s.Store.SetSchedulerState(ctx, newLast, newNext, campaigns)
}

// nextAfter returns the first occurrence instant after now, of the
// bimesters or of the open campaigns.
func (s *Scheduler) nextAfter(now time.Time, open []datosbot.Campaign) time.Time {
	next := s.Calendar.Next(now).At
	for _, c := range open {
		for _, o := range s.Calendar.CampaignOccurrences(c) {
			if o.At.After(now) && o.At.Before(next) {
				next = o.At
			}
		}
	}
	return next
}

// plan lists the occurrences due in (last, now] in time order and decides
// which are still relevant (see Scheduler, Catch-up).
func (s *Scheduler) plan(last, now time.Time, open []datosbot.Campaign) []planned {
	loc := s.Calendar.Location()
	var out []planned
	due := s.Calendar.Due(last, now)
	latestReminder := map[datosbot.Bimester]time.Time{}
	var latestOverdue time.Time
	for _, o := range due {
		switch o.Kind {
		case KindReminder:
			if o.At.After(latestReminder[o.Bimester]) {
				latestReminder[o.Bimester] = o.At
			}
		case KindOverdue:
			if o.At.After(latestOverdue) {
				latestOverdue = o.At
			}
		}
	}
	for _, o := range due {
		send := true
		switch o.Kind {
		case KindReminder:
			send = o.At.Equal(latestReminder[o.Bimester]) && now.Before(o.Bimester.End(loc))
		case KindOverdue:
			send = o.At.Equal(latestOverdue)
		}
		out = append(out, planned{o: o, send: send})
	}
	for i := range open {
		c := &open[i]
		occs := s.Calendar.CampaignOccurrences(*c)
		var latest time.Time
		closed := false
		for _, o := range occs {
			if o.At.After(now) {
				continue
			}
			if o.Kind == KindCampaignSummary {
				closed = true
			} else if o.At.After(latest) {
				latest = o.At
			}
		}
		for _, o := range occs {
			if !o.At.After(last) || o.At.After(now) {
				continue
			}
			send := true
			if o.Kind == KindCampaignReminder {
				send = !closed && o.At.Equal(latest)
			}
			out = append(out, planned{o: o, camp: c, send: send})
		}
	}
	slices.SortStableFunc(out, func(a, b planned) int { return a.o.At.Compare(b.o.At) })
	return out
}

// process enqueues the messages of one occurrence and returns how many.
func (s *Scheduler) process(ctx context.Context, p planned, now time.Time, open []datosbot.Campaign) (int, error) {
	insts, err := s.Store.Institutions(ctx)
	if err != nil {
		return 0, err
	}
	late, err := s.Store.LinkedSince(ctx, p.o.At)
	if err != nil {
		return 0, err
	}
	var msgs []datosbot.Message
	add := func(in datosbot.Institution, r datosbot.Reply) {
		for _, ch := range in.Channels {
			if _, linkedLater := late[ch]; linkedLater {
				continue
			}
			msgs = append(msgs, datosbot.Message{Key: p.o.Key() + ":" + string(ch), Channel: ch, Reply: r})
		}
	}
	unidad := func(r datosbot.Reply) {
		if s.UnidadChannel != "" {
			msgs = append(msgs, datosbot.Message{Key: p.o.Key() + ":" + string(s.UnidadChannel), Channel: s.UnidadChannel, Reply: r})
		}
	}

	switch p.o.Kind {
	case KindReminder, KindOverdue:
		b := p.o.Bimester
		actions, err := s.Store.Actions(ctx, "", b)
		if err != nil {
			return 0, err
		}
		byInst := map[string][]datosbot.Action{}
		for _, a := range actions {
			byInst[a.Institution] = append(byInst[a.Institution], a)
		}
		var campaigns map[string][]datosbot.Campaign
		if p.o.Kind == KindReminder {
			if campaigns, err = s.pendingCampaigns(ctx, open, now); err != nil {
				return 0, err
			}
		}
		var complied, missed []string
		for _, in := range insts {
			if !in.Active {
				continue
			}
			if datosbot.Complies(byInst[in.Key], b) {
				complied = append(complied, in.Key)
				continue
			}
			missed = append(missed, in.Key)
			if p.o.Kind == KindReminder {
				add(in, s.reminderReply(in, b, now, campaigns[in.Key]))
			} else {
				add(in, overdueReply(in, b))
			}
		}
		if p.o.Kind == KindOverdue {
			unidad(summaryReply(b, complied, missed))
		}

	case KindCampaignReminder, KindCampaignSummary:
		c := p.camp
		targets, err := s.Store.CampaignTargets(ctx, c.ID)
		if err != nil {
			return 0, err
		}
		if p.o.Kind == KindCampaignSummary {
			unidad(campaignSummaryReply(*c, targets))
			break
		}
		byKey := map[string]datosbot.Institution{}
		for _, in := range insts {
			byKey[in.Key] = in
		}
		left := datosbot.DateOf(now, s.Calendar.Location()).DaysUntil(c.Deadline.AddDays(1))
		for _, t := range targets {
			in, ok := byKey[t.Institution]
			if !ok || !in.Active || t.Status == datosbot.StatusCumplida {
				continue
			}
			add(in, campaignReminderReply(*c, t, left))
		}
	}
	if len(msgs) == 0 {
		return 0, nil
	}
	return len(msgs), s.Outbox.Post(ctx, msgs...)
}

// pendingCampaigns maps each institution to the open campaigns, not past
// their deadline, that it has not completed.
func (s *Scheduler) pendingCampaigns(ctx context.Context, open []datosbot.Campaign, now time.Time) (map[string][]datosbot.Campaign, error) {
	today := datosbot.DateOf(now, s.Calendar.Location())
	out := map[string][]datosbot.Campaign{}
	for _, c := range open {
		if c.Deadline.Before(today) {
			continue
		}
		targets, err := s.Store.CampaignTargets(ctx, c.ID)
		if err != nil {
			return nil, err
		}
		for _, t := range targets {
			if t.Status != datosbot.StatusCumplida {
				out[t.Institution] = append(out[t.Institution], c)
			}
		}
	}
	return out, nil
}

// registerHint is the command that registers an action.
const registerHint = "/datos anunciar <url-datos> <url-publicación>"

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// reminderReply is the reminder to an institution that does not comply
// yet with bimester b. The days left are counted from now, so a catch-up
// after downtime tells the truth.
func (s *Scheduler) reminderReply(in datosbot.Institution, b datosbot.Bimester, now time.Time, campaigns []datosbot.Campaign) datosbot.Reply {
	left := datosbot.DateOf(now, s.Calendar.Location()).DaysUntil(b.Next().FirstDay())
	when := fmt.Sprintf("Quedan %s: el último es el %s.", plural(left, "día", "días"), b.LastDay().LongDate())
	if left <= 1 {
		when = fmt.Sprintf("Hoy, %s, es el último día del bimestre.", b.LastDay().LongDate())
	}
	r := datosbot.Reply{
		Title: fmt.Sprintf("Recordatorio: datos abiertos de %s", b.Label()),
		Text: fmt.Sprintf("%s aún no registra ninguna acción de comunicación de datos abiertos en el bimestre %s (%s). %s\n", in.Name, b, b.Label(), when) +
			"Qué cuenta: una publicación en el sitio web institucional, en redes sociales o una historia en datos.gob.mx que mencione la URL directa de los datos. " +
			datosbot.URLRule + "\n" +
			"Para registrarla escriba: " + registerHint,
		Context: "Al registrar una acción de este bimestre dejará de recibir estos recordatorios. Consulte su avance con /datos estado.",
	}
	for _, c := range campaigns {
		r.Fields = append(r.Fields, datosbot.Field{
			Label: fmt.Sprintf("Campaña abierta %s (vence el %s)", c.ID, c.Deadline.LongDate()),
			Value: datosbot.Truncate(c.Title, 200) + ". Regístrela con " + registerHint + " campaña:" + c.ID,
		})
	}
	return r
}

// overdueReply is the notice to an institution that did not comply with b.
func overdueReply(in datosbot.Institution, b datosbot.Bimester) datosbot.Reply {
	return datosbot.Reply{
		Title: fmt.Sprintf("Bimestre %s vencido sin acciones", b),
		Text: fmt.Sprintf("%s no registró ninguna acción de comunicación de datos abiertos en el bimestre %s (%s), que terminó el %s; la Unidad de Gobierno Digital recibe este resultado.\n",
			in.Name, b, b.Label(), b.LastDay().LongDate()) +
			"Si publicó algo en esas fechas, regístrelo ahora, mientras dure el periodo de gracia: " + registerHint + " fecha:AAAA-MM-DD\n" +
			fmt.Sprintf("El bimestre %s (%s) ya empezó: registre cada acción en cuanto la publique.", b.Next(), b.Next().Label()),
	}
}

// list joins institution keys, shortened for a chat message.
func list(keys []string) string {
	if len(keys) == 0 {
		return "ninguna"
	}
	return datosbot.Truncate(strings.Join(keys, ", "), 1500)
}

// summaryReply is the Unidad's summary of bimester b.
func summaryReply(b datosbot.Bimester, complied, missed []string) datosbot.Reply {
	total := len(complied) + len(missed)
	return datosbot.Reply{
		Title: fmt.Sprintf("Resumen del bimestre %s (%s)", b, b.Label()),
		Text: fmt.Sprintf("Cumplieron %d de %d instituciones activas. Las que no cumplieron recibieron un aviso en sus canales.",
			len(complied), total),
		Fields: []datosbot.Field{
			{Label: fmt.Sprintf("Cumplieron (%d)", len(complied)), Value: list(complied)},
			{Label: fmt.Sprintf("No cumplieron (%d)", len(missed)), Value: list(missed)},
		},
		Context: fmt.Sprintf("Tabla completa: /datos reporte %s", b),
	}
}

// requester names who asked for a campaign, at the start of a sentence.
func requester(r datosbot.Role) string {
	if r == datosbot.RoleCoordinacion {
		return "La Coordinación"
	}
	return "La Unidad de Gobierno Digital"
}

// campaignReminderReply reminds a target that has not completed campaign c.
func campaignReminderReply(c datosbot.Campaign, t datosbot.CampaignTarget, left int) datosbot.Reply {
	when := fmt.Sprintf("Quedan %s: vence el %s.", plural(left, "día", "días"), c.Deadline.LongDate())
	if left <= 1 {
		when = fmt.Sprintf("Vence hoy, %s.", c.Deadline.LongDate())
	}
	r := datosbot.Reply{
		Title: fmt.Sprintf("Recordatorio de campaña %s: %s", c.ID, datosbot.Truncate(c.Title, 150)),
		Text: fmt.Sprintf("%s pidió comunicar estos datos y su institución aún no registra la acción. %s\n", requester(c.RequestedBy), when) +
			datosbot.Truncate(c.Message, 800) + "\n" +
			"Mencione la URL de datos: " + strings.Join(c.DataURLs, ", ") + "\n" +
			"Después regístrela con " + registerHint + " campaña:" + c.ID,
	}
	if t.Status == datosbot.StatusPendiente || t.Status == "" {
		r.Buttons = []datosbot.Button{{Label: "Enterado", Command: "enterado " + c.ID}}
	}
	return r
}

// campaignSummaryReply is the Unidad's summary of campaign c at its deadline.
func campaignSummaryReply(c datosbot.Campaign, targets []datosbot.CampaignTarget) datosbot.Reply {
	by := map[datosbot.TargetStatus][]string{}
	for _, t := range targets {
		st := t.Status
		if st == "" {
			st = datosbot.StatusPendiente
		}
		by[st] = append(by[st], t.Institution)
	}
	done, ack, pend := by[datosbot.StatusCumplida], by[datosbot.StatusEnterado], by[datosbot.StatusPendiente]
	return datosbot.Reply{
		Title: fmt.Sprintf("Cierre de la campaña %s: %s", c.ID, datosbot.Truncate(c.Title, 150)),
		Text: fmt.Sprintf("La campaña vence hoy, %s. Cumplieron %d de %d instituciones; %d dieron enterado sin cumplir y %d siguen pendientes.",
			c.Deadline.LongDate(), len(done), len(targets), len(ack), len(pend)),
		Fields: []datosbot.Field{
			{Label: fmt.Sprintf("Cumplida (%d)", len(done)), Value: list(done)},
			{Label: fmt.Sprintf("Enterado (%d)", len(ack)), Value: list(ack)},
			{Label: fmt.Sprintf("Pendiente (%d)", len(pend)), Value: list(pend)},
		},
		Context: fmt.Sprintf("Detalle: /datos campaña ver %s. Ciérrela con /datos campaña cerrar %s.", c.ID, c.ID),
	}
}
