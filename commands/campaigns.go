package commands

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/datosbot/datosbot"
)

// CampaignStore is the part of Store that campaigns use. Mutating methods append to the audit trail.
type CampaignStore interface {
	// CreateCampaign stores the campaign and one pendiente target per
	// institution. With a non-empty idempotencyKey used before, it returns
	// that campaign and created=false. ECONFLICT if the id exists.
	CreateCampaign(ctx context.Context, c datosbot.Campaign, idempotencyKey string) (stored datosbot.Campaign, created bool, err error)
	// Campaign returns one campaign. ENOTFOUND.
	Campaign(ctx context.Context, id string) (datosbot.Campaign, error)
	// Campaigns returns every campaign, or only the open ones, newest first.
	Campaigns(ctx context.Context, openOnly bool) ([]datosbot.Campaign, error)
	// OpenCampaignsFor returns the open campaigns targeting institution key.
	OpenCampaignsFor(ctx context.Context, key string) ([]datosbot.Campaign, error)
	// CampaignTargets returns a campaign's targets sorted by institution.
	CampaignTargets(ctx context.Context, id string) ([]datosbot.CampaignTarget, error)
	// AcknowledgeCampaign moves a target from pendiente to enterado and
	// returns it; enterado and cumplida are left unchanged. ENOTFOUND when
	// the institution is not a target.
	AcknowledgeCampaign(ctx context.Context, id, key string, by datosbot.UserID, at time.Time) (datosbot.CampaignTarget, error)
	// CompleteCampaign marks a target cumplida by an action; the first
	// completion wins.
	CompleteCampaign(ctx context.Context, id, key, actionID string, at time.Time) (datosbot.CampaignTarget, error)
	// ReopenCampaignTarget undoes a completion by actionID (withdrawn).
	ReopenCampaignTarget(ctx context.Context, id, key, actionID string, by datosbot.UserID) (datosbot.CampaignTarget, bool, error)
	// CloseCampaign closes a campaign. ENOTFOUND.
	CloseCampaign(ctx context.Context, id string, by datosbot.UserID) error
}

// Campaigns runs the Unidad's ad-hoc campaigns: the campaña and enterado
// commands, what ties actions to campaigns (campaña: of anunciar,
// completion, open campaigns in estado), and the operations the HTTP API
// shares with the commands. Service.Campaigns returns it.
type Campaigns struct {
	svc   *Service
	store CampaignStore
}

// maxCampaignTitle bounds a campaign's title; datosbot.MaxDataURLs bounds
// its data URLs.
const maxCampaignTitle = 120

// CreateCampaign validates c, stores it with its targets and announces it
// at once in every target institution's channels. role is the caller's
// central role (unidad or coordinacion); c.RequestedBy defaults to it, and
// only the Unidad may request in the Unidad's name. Empty
// c.Institutions means every active institution. With an idempotencyKey
// used before, the first campaign is returned with created=false and is
// not announced again.
func (cc *Campaigns) CreateCampaign(ctx context.Context, actor datosbot.UserID, role datosbot.Role, c datosbot.Campaign, idempotencyKey string) (datosbot.Campaign, bool, error) {
	s := cc.svc
	if !role.Central() {
		return c, false, datosbot.Errorf(datosbot.EFORBIDDEN, "Las campañas las lanzan la Unidad y la Coordinación.")
	}
	if c.RequestedBy == "" {
		c.RequestedBy = role
	}
	if !c.RequestedBy.Central() {
		return c, false, datosbot.Errorf(datosbot.EINVALID, "%q no puede solicitar una campaña: use solicita:unidad o solicita:coordinacion.", c.RequestedBy)
	}
	if c.RequestedBy == datosbot.RoleUnidad && role != datosbot.RoleUnidad {
		return c, false, datosbot.Errorf(datosbot.EFORBIDDEN, "Solo la Unidad puede lanzar campañas a nombre de la Unidad; quite solicita:unidad o use solicita:coordinacion.")
	}
	c.Message = strings.TrimSpace(c.Message)
	if c.Message == "" {
		return c, false, datosbot.Errorf(datosbot.EINVALID, "Falta el mensaje de la campaña: escriba qué deben comunicar las instituciones.")
	}
	if len([]rune(c.Message)) > datosbot.MaxTextLen {
		return c, false, datosbot.Errorf(datosbot.EINVALID, "El mensaje es demasiado largo (máximo %d caracteres).", datosbot.MaxTextLen)
	}
	c.Title = strings.TrimSpace(c.Title)
	if c.Title == "" {
		c.Title = datosbot.Truncate(strings.SplitN(c.Message, "\n", 2)[0], 80)
	}
	if len([]rune(c.Title)) > maxCampaignTitle {
		return c, false, datosbot.Errorf(datosbot.EINVALID, "El título es demasiado largo (máximo %d caracteres).", maxCampaignTitle)
	}
	if c.Deadline.IsZero() {
		return c, false, datosbot.Errorf(datosbot.EINVALID, "Falta la fecha límite: escríbala como AAAA-MM-DD, por ejemplo %s.", s.today().AddDays(14))
	}
	if c.Deadline.Before(s.today()) {
		return c, false, datosbot.Errorf(datosbot.EINVALID, "La fecha límite %s ya pasó: use hoy (%s) o una fecha posterior.", c.Deadline, s.today())
	}
	urls, err := datosbot.ValidateDataURLs(c.DataURLs, s.hosts)
	if err != nil {
		return c, false, err
	}
	if len(urls) == 0 {
		return c, false, datosbot.Errorf(datosbot.EINVALID, "Falta la URL directa de los datos que deben comunicarse. %s", datosbot.URLRule)
	}
	c.DataURLs = urls
	// A campaign names data of any institution: only a URL the portal does
	// not know is refused.
	checks, err := s.checkData(ctx, datosbot.Institution{}, urls)
	if err != nil {
		return c, false, err
	}
	targets, err := cc.targets(ctx, c.Institutions)
	if err != nil {
		return c, false, err
	}
	c.Institutions = make([]string, len(targets))
	for i, t := range targets {
		c.Institutions[i] = t.Key
	}
	c.CreatedBy, c.CreatedAt, c.Closed = actor, s.now(), false

	var stored datosbot.Campaign
	var created bool
	_, err = withNewID("C", 3, func(id string) error {
		c.ID = id
		var err error
		stored, created, err = cc.store.CreateCampaign(ctx, c, idempotencyKey)
		return err
	})
	if err != nil || !created {
		return stored, false, err
	}
	if err := cc.announce(ctx, stored, targets); err != nil {
		// The campaign exists; the scheduler's reminders still reach the
		// channels, so the creator is not told it failed.
		s.log.ErrorContext(ctx, "campaign announcement failed", "campaign", stored.ID, "err", err)
	}
	s.followChecks(ctx, "campana", stored.ID, "", checks)
	return stored, true, nil
}

// CampaignStatus returns a campaign and its targets. ENOTFOUND.
func (cc *Campaigns) CampaignStatus(ctx context.Context, id string) (datosbot.Campaign, []datosbot.CampaignTarget, error) {
	id = campaignID(id)
	c, err := cc.store.Campaign(ctx, id)
	if err != nil {
		return c, nil, cc.notFound(err, id)
	}
	ts, err := cc.store.CampaignTargets(ctx, id)
	return c, ts, err
}

// targets resolves the requested institutions: each must exist and be
// active; none means every active institution.
func (cc *Campaigns) targets(ctx context.Context, keys []string) ([]datosbot.Institution, error) {
	all, err := cc.svc.store.Institutions(ctx)
	if err != nil {
		return nil, err
	}
	byKey := map[string]datosbot.Institution{}
	for _, in := range all {
		byKey[in.Key] = in
	}
	var out []datosbot.Institution
	if len(keys) == 0 {
		for _, in := range all {
			if in.Active {
				out = append(out, in)
			}
		}
		if len(out) == 0 {
			return nil, datosbot.Errorf(datosbot.EINVALID, "No hay instituciones activas a las que dirigir la campaña. Registre instituciones con /datos institucion alta <clave> <nombre>.")
		}
		return out, nil
	}
	seen := map[string]bool{}
	var unknown, inactive []string
	for _, k := range keys {
		k = datosbot.Fold(k)
		if k == "" || seen[k] {
			continue
		}
		seen[k] = true
		in, ok := byKey[k]
		switch {
		case !ok:
			unknown = append(unknown, k)
		case !in.Active:
			inactive = append(inactive, k)
		default:
			out = append(out, in)
		}
	}
	if len(unknown) > 0 {
		return nil, datosbot.Errorf(datosbot.EINVALID, "No existen las instituciones %s. Revise las claves con /datos institucion lista.", someKeys(unknown))
	}
	if len(inactive) > 0 {
		return nil, datosbot.Errorf(datosbot.EINVALID, "Las instituciones %s están dadas de baja; quítelas de la campaña.", someKeys(inactive))
	}
	if len(out) == 0 {
		return nil, datosbot.Errorf(datosbot.EINVALID, "Indique al menos una institución en instituciones:a,b, u omita la opción para dirigir la campaña a todas.")
	}
	return out, nil
}

// someKeys lists keys for a message, at most ten of them, so that a list
// of thousands (the API takes up to its body limit) gives a short reply.
func someKeys(keys []string) string {
	const most = 10
	if len(keys) <= most {
		return strings.Join(keys, ", ")
	}
	return fmt.Sprintf("%s y %d más", strings.Join(keys[:most], ", "), len(keys)-most)
}

// announce posts the campaign in every channel of its target institutions.
func (cc *Campaigns) announce(ctx context.Context, c datosbot.Campaign, targets []datosbot.Institution) error {
	if cc.svc.poster == nil {
		return nil
	}
	var msgs []datosbot.Message
	for _, in := range targets {
		for _, ch := range in.Channels {
			msgs = append(msgs, datosbot.Message{Key: "campana:" + c.ID + ":anuncio:" + string(ch), Channel: ch, Reply: Announcement(c)})
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	return cc.svc.poster.Post(ctx, msgs...)
}

// Announcement is the post that presents campaign c in a liaison channel,
// with its acknowledge button. The scheduler may reuse it.
func Announcement(c datosbot.Campaign) datosbot.Reply {
	message := c.Message + "\n\n"
	if c.Message == c.Title {
		message = "" // the title already says it
	}
	return datosbot.Reply{
		Title: fmt.Sprintf("Campaña %s: %s", c.ID, c.Title),
		Text: fmt.Sprintf("%s%s solicita comunicar estos datos abiertos en los medios de la institución, citando la URL directa de los datos, a más tardar el %s.\nAl publicar, regístrelo con:\n/datos anunciar %s <url-publicación> campaña:%s",
			message, requester(c.RequestedBy), c.Deadline.LongDate(), c.DataURLs[0], c.ID),
		Fields: []datosbot.Field{
			{Label: "Datos", Value: strings.Join(c.DataURLs, "\n")},
			{Label: "Fecha límite", Value: c.Deadline.LongDate()},
		},
		Buttons: []datosbot.Button{{Label: "Enterado", Command: "enterado " + c.ID}},
		Context: fmt.Sprintf("Confirme que la recibió con el botón Enterado o con /datos enterado %s.", c.ID),
		Public:  true,
	}
}

func requester(r datosbot.Role) string {
	if r == datosbot.RoleCoordinacion {
		return "La Coordinación"
	}
	return "La Unidad de Gobierno Digital"
}

// campaignID normalises what a person types as a campaign id.
func campaignID(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }

// notFound gives a missing campaign a message that says what to do.
func (cc *Campaigns) notFound(err error, id string) error {
	if datosbot.ErrorCode(err) == datosbot.ENOTFOUND {
		return datosbot.Errorf(datosbot.ENOTFOUND, "No existe la campaña %s. Revise el identificador en el anuncio de la campaña (por ejemplo C3M9).", datosbot.Truncate(id, 20))
	}
	return err
}

func (cc *Campaigns) campaign(ctx context.Context, c *Caller, in Invocation) (datosbot.Reply, error) {
	switch datosbot.Fold(arg(in, 0)) {
	case "nueva":
		return cc.create(ctx, c, in)
	case "lista":
		return cc.list(ctx)
	case "ver":
		if arg(in, 1) == "" {
			return datosbot.Reply{}, datosbot.Errorf(datosbot.EINVALID, "Indique la campaña: /datos campaña ver <id>. Vea los identificadores con /datos campaña lista.")
		}
		return cc.show(ctx, campaignID(arg(in, 1)))
	case "cerrar":
		if arg(in, 1) == "" {
			return datosbot.Reply{}, datosbot.Errorf(datosbot.EINVALID, "Indique la campaña: /datos campaña cerrar <id>. Vea los identificadores con /datos campaña lista.")
		}
		return cc.close(ctx, c, campaignID(arg(in, 1)))
	}
	return datosbot.Reply{}, datosbot.Errorf(datosbot.EINVALID,
		"Use /datos campaña nueva <fecha-límite> <url-datos> <mensaje…>, /datos campaña lista, /datos campaña ver <id> o /datos campaña cerrar <id>.")
}

func (cc *Campaigns) create(ctx context.Context, c *Caller, in Invocation) (datosbot.Reply, error) {
	const example = "Ejemplo: /datos campaña nueva 2026-12-15 https://www.datos.gob.mx/dataset/accidentes_transito Difundan los datos de accidentes de tránsito."
	if len(in.Args) < 3 {
		return datosbot.Reply{}, datosbot.Errorf(datosbot.EINVALID, "Faltan datos: escriba la fecha límite, la URL de los datos y el mensaje.\n%s", example)
	}
	deadline, err := datosbot.ParseDate(in.Args[1])
	if err != nil {
		return datosbot.Reply{}, datosbot.Errorf(datosbot.EINVALID, "%s Va primero la fecha límite.\n%s", datosbot.ErrorMessage(err), example)
	}
	var urls, words []string
	for _, a := range in.Args[2:] {
		if len(words) == 0 && looksLikeURL(a) {
			urls = append(urls, splitList(a)...)
		} else {
			words = append(words, a)
		}
	}
	if len(urls) == 0 {
		return datosbot.Reply{}, datosbot.Errorf(datosbot.EINVALID, "Después de la fecha límite va la URL directa de los datos (varias separadas por comas).\n%s", example)
	}
	role := datosbot.RoleCoordinacion
	if c.Unidad {
		role = datosbot.RoleUnidad
	}
	camp := datosbot.Campaign{Title: in.Opts["titulo"], Message: strings.Join(words, " "), DataURLs: urls, Deadline: deadline}
	if v, ok := in.Opts["solicita"]; ok {
		r, err := datosbot.ParseRole(v)
		if err != nil || !r.Central() {
			return datosbot.Reply{}, datosbot.Errorf(datosbot.EINVALID, "%q no puede solicitar una campaña: use solicita:unidad o solicita:coordinacion.", datosbot.Truncate(v, 40))
		}
		camp.RequestedBy = r
	}
	if v, ok := in.Opts["instituciones"]; ok {
		camp.Institutions = splitList(v)
		if len(camp.Institutions) == 0 {
			return datosbot.Reply{}, datosbot.Errorf(datosbot.EINVALID, "Escriba las claves separadas por comas, por ejemplo instituciones:inegi,shcp, u omita la opción para todas.")
		}
	}
	// The same command typed twice the same day (a double send, a retry
	// from another device) creates and announces one campaign.
	sum := sha256.Sum256([]byte(strings.Join([]string{string(c.User), cc.svc.today().String(), camp.Deadline.String(),
		strings.Join(camp.DataURLs, ","), strings.Join(camp.Institutions, ","), string(camp.RequestedBy), camp.Title, camp.Message}, "\x00")))
	stored, created, err := cc.CreateCampaign(ctx, c.User, role, camp, "chat:"+hex.EncodeToString(sum[:16]))
	if err != nil {
		return datosbot.Reply{}, err
	}
	if !created {
		return datosbot.Reply{Title: fmt.Sprintf("Campaña %s ya creada", stored.ID),
			Text:    fmt.Sprintf("Hoy ya lanzó esta misma campaña (%s); no se crea ni se anuncia otra vez.", stored.Title),
			Context: fmt.Sprintf("Siga su avance con /datos campaña ver %s.", stored.ID)}, nil
	}
	insts, err := cc.svc.store.Institutions(ctx)
	if err != nil {
		return datosbot.Reply{}, err
	}
	channels := map[string]int{}
	for _, i := range insts {
		channels[i.Key] = len(i.Channels)
	}
	sent, without := 0, []string{}
	for _, k := range stored.Institutions {
		sent += channels[k]
		if channels[k] == 0 {
			without = append(without, k)
		}
	}
	n := len(stored.Institutions)
	r := datosbot.Reply{Title: fmt.Sprintf("Campaña %s creada", stored.ID),
		Text: fmt.Sprintf("%s se dirige a %d %s y se anunció en %d %s de enlace.",
			stored.Title, n, plural(n, "institución", "instituciones"), sent, plural(sent, "canal", "canales")),
		Fields: []datosbot.Field{
			{Label: "Fecha límite", Value: stored.Deadline.LongDate()},
			{Label: "Datos", Value: strings.Join(stored.DataURLs, "\n")},
			{Label: "Solicita", Value: string(stored.RequestedBy)},
		},
		Context: fmt.Sprintf("Siga su avance con /datos campaña ver %s.", stored.ID)}
	if len(without) > 0 {
		r.Fields = append(r.Fields, datosbot.Field{Label: "Sin canal de enlace (no recibieron el anuncio)", Value: strings.Join(without, ", ")})
	}
	return r, nil
}

// progress counts a campaign's targets by status.
type progress struct{ pendiente, enterado, cumplida int }

func progressOf(ts []datosbot.CampaignTarget) progress {
	var p progress
	for _, t := range ts {
		switch t.Status {
		case datosbot.StatusCumplida:
			p.cumplida++
		case datosbot.StatusEnterado:
			p.enterado++
		default:
			p.pendiente++
		}
	}
	return p
}

// summary reads like "31/48 cumplidas".
func (p progress) summary() string {
	return fmt.Sprintf("%d/%d cumplidas", p.cumplida, p.pendiente+p.enterado+p.cumplida)
}

func (cc *Campaigns) list(ctx context.Context) (datosbot.Reply, error) {
	cs, err := cc.store.Campaigns(ctx, true)
	if err != nil {
		return datosbot.Reply{}, err
	}
	if len(cs) == 0 {
		return datosbot.Reply{Text: "No hay campañas abiertas. Lance una con /datos campaña nueva <fecha-límite> <url-datos> <mensaje…>."}, nil
	}
	today := cc.svc.today()
	var lines []string
	for _, c := range cs {
		ts, err := cc.store.CampaignTargets(ctx, c.ID)
		if err != nil {
			return datosbot.Reply{}, err
		}
		p := progressOf(ts)
		due := "vence " + c.Deadline.String()
		if c.Deadline.Before(today) {
			due = "venció " + c.Deadline.String()
		}
		lines = append(lines, fmt.Sprintf("%s · %s · %s · %s, %d enterada%s", c.ID, c.Title, due, p.summary(), p.enterado, plural(p.enterado, "", "s")))
	}
	return datosbot.Reply{Title: fmt.Sprintf("Campañas abiertas (%d)", len(cs)), Text: strings.Join(lines, "\n"),
		Context: "Detalle por institución: /datos campaña ver <id>."}, nil
}

func (cc *Campaigns) show(ctx context.Context, id string) (datosbot.Reply, error) {
	c, ts, err := cc.CampaignStatus(ctx, id)
	if err != nil {
		return datosbot.Reply{}, err
	}
	p := progressOf(ts)
	state := "abierta"
	switch {
	case c.Closed:
		state = "cerrada"
	case c.Deadline.Before(cc.svc.today()):
		state = "abierta, fecha límite vencida"
	}
	r := datosbot.Reply{Title: fmt.Sprintf("Campaña %s: %s (%s)", c.ID, c.Title, state),
		Text: c.Message,
		Fields: []datosbot.Field{
			{Label: "Avance", Value: fmt.Sprintf("%s · %d enterada%s · %d pendiente%s", p.summary(), p.enterado, plural(p.enterado, "", "s"), p.pendiente, plural(p.pendiente, "", "s"))},
			{Label: "Fecha límite", Value: c.Deadline.LongDate()},
			{Label: "Solicita", Value: string(c.RequestedBy)},
			{Label: "Datos", Value: strings.Join(c.DataURLs, "\n")},
		}}
	var missing, done []string
	for _, t := range ts {
		if t.Status == datosbot.StatusCumplida {
			done = append(done, fmt.Sprintf("%s (acción %s)", t.Institution, t.Action))
		} else {
			missing = append(missing, fmt.Sprintf("%s (%s)", t.Institution, t.Status))
		}
	}
	if len(missing) > 0 {
		r.Fields = append(r.Fields, datosbot.Field{Label: "Faltan", Value: strings.Join(missing, ", ")})
	}
	if len(done) > 0 {
		r.Fields = append(r.Fields, datosbot.Field{Label: "Cumplieron", Value: strings.Join(done, ", ")})
	}
	if !c.Closed {
		r.Context = fmt.Sprintf("Para cerrarla: /datos campaña cerrar %s.", c.ID)
	}
	return r, nil
}

func (cc *Campaigns) close(ctx context.Context, c *Caller, id string) (datosbot.Reply, error) {
	camp, ts, err := cc.CampaignStatus(ctx, id)
	if err != nil {
		return datosbot.Reply{}, err
	}
	p := progressOf(ts)
	if camp.Closed {
		return datosbot.Reply{Text: fmt.Sprintf("La campaña %s ya estaba cerrada (%s). Consulte el detalle con /datos campaña ver %s.", camp.ID, p.summary(), camp.ID)}, nil
	}
	if err := cc.store.CloseCampaign(ctx, camp.ID, c.User); err != nil {
		return datosbot.Reply{}, err
	}
	return datosbot.Reply{Text: fmt.Sprintf("La campaña %s quedó cerrada: ya no se recuerda a las instituciones ni se aceptan acciones con campaña:%s. Resultado final: %s.", camp.ID, camp.ID, p.summary())}, nil
}

// acknowledge runs enterado <id>.
func (cc *Campaigns) acknowledge(ctx context.Context, c *Caller, in Invocation) (datosbot.Reply, error) {
	id, explicit := campaignID(arg(in, 0)), in.Opts["institucion"]
	if id == "" {
		return datosbot.Reply{}, datosbot.Errorf(datosbot.EINVALID, "Indique la campaña: /datos enterado <id-campaña>, con el identificador del anuncio (por ejemplo C3M9).")
	}
	camp, ts, err := cc.CampaignStatus(ctx, id)
	if err != nil {
		return datosbot.Reply{}, err
	}
	byInst := map[string]datosbot.CampaignTarget{}
	for _, t := range ts {
		byInst[t.Institution] = t
	}
	// A liaison of several institutions who is not in one of their
	// channels acknowledges for the one the campaign targets, if only one.
	if explicit == "" && len(c.Roles) > 1 && !c.Member(c.ChannelInst) {
		var mine []string
		for _, k := range c.Institutions() {
			if _, ok := byInst[k]; ok {
				mine = append(mine, k)
			}
		}
		if len(mine) == 1 {
			explicit = mine[0]
		}
	}
	inst, err := cc.svc.institutionFor(ctx, c, explicit, false)
	if err != nil {
		return datosbot.Reply{}, err
	}
	if !c.Has(inst.Key, datosbot.RoleInstitucional) && !c.Has(inst.Key, datosbot.RoleComunicacion) {
		return datosbot.Reply{}, datosbot.Errorf(datosbot.EFORBIDDEN, "Confirman campañas los enlaces Institucional y de Comunicación Digital de %s.", inst.Key)
	}
	prev, ok := byInst[inst.Key]
	if !ok {
		return datosbot.Reply{}, datosbot.Errorf(datosbot.EFORBIDDEN, "La campaña %s no está dirigida a %s, así que no necesita confirmarla. Si cree que debería incluirla, avise a la Unidad.", camp.ID, inst.Key)
	}
	if camp.Closed {
		return datosbot.Reply{}, datosbot.Errorf(datosbot.EINVALID, "La campaña %s ya cerró; no hace falta confirmarla.", camp.ID)
	}
	switch prev.Status {
	case datosbot.StatusCumplida:
		return datosbot.Reply{Text: fmt.Sprintf("%s ya cumplió la campaña %s con la acción %s. ¡Gracias! No hace falta confirmarla.", inst.Key, camp.ID, prev.Action)}, nil
	case datosbot.StatusEnterado:
		return datosbot.Reply{Text: fmt.Sprintf("%s ya había confirmado la campaña %s el %s. Falta registrar la acción: /datos anunciar %s <url-publicación> campaña:%s",
			inst.Key, camp.ID, datosbot.DateOf(prev.AcknowledgedAt, cc.svc.loc).LongDate(), camp.DataURLs[0], camp.ID)}, nil
	}
	t, err := cc.store.AcknowledgeCampaign(ctx, camp.ID, inst.Key, c.User, cc.svc.now())
	if err != nil {
		return datosbot.Reply{}, err
	}
	if t.Status == datosbot.StatusCumplida {
		return datosbot.Reply{Text: fmt.Sprintf("%s ya cumplió la campaña %s con la acción %s. ¡Gracias!", inst.Key, camp.ID, t.Action)}, nil
	}
	return datosbot.Reply{Public: true, Title: fmt.Sprintf("Campaña %s: enterado", camp.ID),
		Text: fmt.Sprintf("%s confirmó la campaña %s (%s). Para cumplirla, comunique los datos citando su URL directa antes del %s y regístrelo con:\n/datos anunciar %s <url-publicación> campaña:%s",
			inst.Name, camp.ID, camp.Title, camp.Deadline.LongDate(), camp.DataURLs[0], camp.ID)}, nil
}

// checkCampaign validates the campaña: option of anunciar.
func (cc *Campaigns) checkCampaign(ctx context.Context, id, key string) (string, error) {
	id = campaignID(id)
	if id == "" {
		return "", datosbot.Errorf(datosbot.EINVALID, "Falta el identificador después de campaña: (por ejemplo campaña:C3M9), o quite la opción.")
	}
	c, err := cc.store.Campaign(ctx, id)
	if err != nil {
		return "", cc.notFound(err, id)
	}
	if c.Closed {
		return "", datosbot.Errorf(datosbot.EINVALID, "La campaña %s ya cerró. Registre la acción sin la opción campaña:.", c.ID)
	}
	targeted := false
	for _, k := range c.Institutions {
		targeted = targeted || k == key
	}
	if !targeted {
		return "", datosbot.Errorf(datosbot.EINVALID, "La campaña %s no está dirigida a %s. Registre la acción sin la opción campaña:.", c.ID, key)
	}
	return c.ID, nil
}

// afterAction completes every open campaign of the action's institution
// that the action completes. Failures are logged: the action is stored.
func (cc *Campaigns) afterAction(ctx context.Context, a datosbot.Action) {
	cs, err := cc.store.OpenCampaignsFor(ctx, a.Institution)
	if err != nil {
		cc.svc.log.ErrorContext(ctx, "reading open campaigns failed", "institution", a.Institution, "action", a.ID, "err", err)
		return
	}
	for _, c := range cs {
		if !c.Completes(a, cc.svc.loc) {
			continue
		}
		if _, err := cc.store.CompleteCampaign(ctx, c.ID, a.Institution, a.ID, cc.svc.now()); err != nil {
			cc.svc.log.ErrorContext(ctx, "completing campaign failed", "campaign", c.ID, "institution", a.Institution, "action", a.ID, "err", err)
		}
	}
}

// afterWithdraw reopens the open campaigns a withdrawn action had
// completed, and completes them again with another live action of the
// institution that also completes them, if there is one.
func (cc *Campaigns) afterWithdraw(ctx context.Context, a datosbot.Action) {
	cs, err := cc.store.OpenCampaignsFor(ctx, a.Institution)
	if err != nil {
		cc.svc.log.ErrorContext(ctx, "reading open campaigns failed", "institution", a.Institution, "action", a.ID, "err", err)
		return
	}
	var others []datosbot.Action
	loaded := false
	for _, c := range cs {
		_, reopened, err := cc.store.ReopenCampaignTarget(ctx, c.ID, a.Institution, a.ID, a.WithdrawnBy)
		if err != nil {
			cc.svc.log.ErrorContext(ctx, "reopening campaign failed", "campaign", c.ID, "institution", a.Institution, "action", a.ID, "err", err)
			continue
		}
		if !reopened {
			continue
		}
		if !loaded {
			if others, err = cc.svc.store.Actions(ctx, a.Institution, datosbot.Bimester{}); err != nil {
				cc.svc.log.ErrorContext(ctx, "reading actions failed", "institution", a.Institution, "err", err)
				return
			}
			loaded = true
		}
		for _, o := range others {
			if o.ID != a.ID && c.Completes(o, cc.svc.loc) {
				if _, err := cc.store.CompleteCampaign(ctx, c.ID, a.Institution, o.ID, cc.svc.now()); err != nil {
					cc.svc.log.ErrorContext(ctx, "completing campaign failed", "campaign", c.ID, "action", o.ID, "err", err)
				}
				break
			}
		}
	}
}

// campaignFields lists an institution's open campaigns in estado, with
// what it still has to do in each.
func campaignFields(cs []datosbot.CampaignProgress) []datosbot.Field {
	var out []datosbot.Field
	for _, p := range cs {
		c, status := p.Campaign, p.Target.Status
		if status == "" {
			status = datosbot.StatusPendiente
		}
		v := fmt.Sprintf("%s: %s, fecha límite %s", c.Title, status, c.Deadline.LongDate())
		switch status {
		case datosbot.StatusPendiente:
			v += fmt.Sprintf(". Confirme con /datos enterado %s", c.ID)
		case datosbot.StatusEnterado:
			v += fmt.Sprintf(". Registre con /datos anunciar <url-datos> <url-publicación> campaña:%s", c.ID)
		}
		out = append(out, datosbot.Field{Label: "Campaña " + c.ID, Value: v})
	}
	return out
}
