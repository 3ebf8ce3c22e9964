package commands

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/datosbot/datosbot"
)

// announce registers a communication action. Every check runs before the
// store is touched, so a refused action stores nothing.
func (s *Service) announce(ctx context.Context, c *Caller, in Invocation) (datosbot.Reply, error) {
	if len(in.Args) == 0 && in.Opts["datos"] == "" {
		return datosbot.Reply{Form: "anunciar", Text: "Uso: /datos " + usageOf("anunciar") + "\n\n" + datosbot.URLRule}, nil
	}
	inst, err := s.institutionFor(ctx, c, in.Opts["institucion"], false)
	if err != nil {
		return datosbot.Reply{}, err
	}
	if !inst.Active {
		return datosbot.Reply{}, datosbot.Errorf(datosbot.EINVALID, "La institución %s está dada de baja; no se registran acciones.", inst.Key)
	}

	a, err := parseAnnouncement(in, s.hosts, s.today())
	if err != nil {
		return datosbot.Reply{}, err
	}
	if err := s.checkDate(a.PublishedOn); err != nil {
		return datosbot.Reply{}, err
	}
	a.Institution, a.Bimester = inst.Key, datosbot.BimesterOfDate(a.PublishedOn)
	a.RegisteredBy, a.RegisteredAt = c.User, s.now()
	if id, ok := in.Opts["campana"]; ok {
		if a.Campaign, err = s.campaigns.checkCampaign(ctx, id, inst.Key); err != nil {
			return datosbot.Reply{}, err
		}
	}
	if a.DataChecks, err = s.checkData(ctx, inst, a.DataURLs); err != nil {
		return datosbot.Reply{}, err
	}

	var stored datosbot.Action
	var created bool
	_, err = withNewID("A", 4, func(id string) error {
		a.ID = id
		var err error
		stored, created, err = s.store.AddAction(ctx, a)
		return err
	})
	if err != nil {
		return datosbot.Reply{}, err
	}
	if !created {
		return datosbot.Reply{Title: "Acción ya registrada",
			Text: fmt.Sprintf("Esa publicación ya estaba registrada como la acción %s de %s (%s, %s); no se cuenta dos veces.",
				stored.ID, inst.Key, stored.Bimester, stored.PublishedOn)}, nil
	}
	s.followChecks(ctx, "accion", stored.ID, inst.Key, stored.DataChecks)
	s.campaigns.afterAction(ctx, stored)
	r := datosbot.Reply{Title: fmt.Sprintf("Acción %s registrada", stored.ID),
		Fields: []datosbot.Field{
			{Label: "Institución", Value: instLabel(inst)},
			{Label: "Bimestre", Value: stored.Bimester.String() + " (" + stored.Bimester.Label() + ")"},
			{Label: "Datos", Value: strings.Join(stored.DataURLs, "\n")},
			{Label: "Publicación", Value: stored.EvidenceURL},
			{Label: "Medio", Value: string(stored.Medium)},
			{Label: "Tipo", Value: string(stored.Type)},
			{Label: "Fecha", Value: stored.PublishedOn.String()},
		}}
	if stored.Campaign != "" {
		r.Fields = append(r.Fields, datosbot.Field{Label: "Campaña", Value: stored.Campaign})
	}
	r.Fields = append(r.Fields, checkFields(stored.DataChecks)...)
	r.Text = fmt.Sprintf("%s cumple el bimestre %s.", inst.Name, stored.Bimester) +
		otherInstitutionNextStep(stored.DataChecks, fmt.Sprintf(
			"Los datos citados son de otra institución. Si quería registrar datos de su institución, retire la acción con /datos retirar %s <motivo> y registre la URL de su propio conjunto.", stored.ID))
	r.Context = fmt.Sprintf("Si fue un error: /datos retirar %s <motivo>", stored.ID)
	return r, nil
}

// parseAnnouncement reads what an anunciar line asks for, without the store
// or the clock: the data URLs (validated against hosts), the publication
// URL, medium, type, date (today when not given) and note. The positional
// arguments are the leading URLs, data first and the publication last (or
// only the publication when datos: gives the data), then the note's words.
// Institution, bimester, campaign and who registers it are left to the
// caller.
func parseAnnouncement(in Invocation, hosts []string, today datosbot.Date) (datosbot.Action, error) {
	var urls, note []string
	for _, a := range in.Args {
		if len(note) == 0 && looksLikeURL(a) {
			urls = append(urls, a)
		} else {
			note = append(note, a)
		}
	}
	var dataRaw []string
	if d := in.Opts["datos"]; d != "" {
		dataRaw = splitList(d)
		if len(urls) > 0 {
			urls, dataRaw = urls[len(urls)-1:], append(dataRaw, urls[:len(urls)-1]...)
		}
	} else if len(urls) >= 2 {
		for _, u := range urls[:len(urls)-1] {
			dataRaw = append(dataRaw, splitList(u)...)
		}
		urls = urls[len(urls)-1:]
	}
	if len(dataRaw) == 0 || len(urls) != 1 {
		return datosbot.Action{}, datosbot.Errorf(datosbot.EINVALID,
			"Faltan URLs: escriba primero la URL directa de los datos y luego la URL de la publicación.\nEjemplo: /datos anunciar https://www.datos.gob.mx/dataset/accidentes_transito https://x.com/mi_institucion/status/123\n%s", datosbot.URLRule)
	}
	data, err := datosbot.ValidateDataURLs(dataRaw, hosts)
	if err != nil {
		return datosbot.Action{}, err
	}
	evidence, err := datosbot.ValidateEvidenceURL(urls[0])
	if err != nil {
		return datosbot.Action{}, err
	}
	for _, d := range data {
		if datosbot.SameURL(d, evidence) {
			return datosbot.Action{}, datosbot.Errorf(datosbot.EINVALID, "La URL de la publicación debe ser distinta de la URL de los datos: es la dirección del tuit, nota o página donde comunicó los datos.")
		}
	}

	a := datosbot.Action{DataURLs: data, EvidenceURL: evidence,
		Medium: datosbot.InferMedium(evidence), Type: datosbot.TypePublicacion, PublishedOn: today}
	if m, ok := in.Opts["medio"]; ok {
		if a.Medium, err = datosbot.ParseMedium(m); err != nil {
			return datosbot.Action{}, err
		}
	}
	if t, ok := in.Opts["tipo"]; ok {
		if a.Type, err = datosbot.ParseActionType(t); err != nil {
			return datosbot.Action{}, err
		}
	}
	if f, ok := in.Opts["fecha"]; ok {
		if a.PublishedOn, err = datosbot.ParseDate(f); err != nil {
			return datosbot.Action{}, err
		}
	}
	a.Note = strings.TrimSpace(strings.Join(note, " "))
	if n, ok := in.Opts["nota"]; ok {
		a.Note = strings.TrimSpace(n + " " + a.Note)
	}
	if len([]rune(a.Note)) > datosbot.MaxNoteLen {
		return datosbot.Action{}, datosbot.Errorf(datosbot.EINVALID, "La nota es demasiado larga (máximo %d caracteres).", datosbot.MaxNoteLen)
	}
	return a, nil
}

// checkDate refuses future dates and dates in a closed bimester after the
// grace period.
func (s *Service) checkDate(d datosbot.Date) error {
	today := s.today()
	if today.Before(d) {
		return datosbot.Errorf(datosbot.EINVALID, "La fecha %s está en el futuro. Registre la acción el día que se publique, o use la fecha real de publicación.", d)
	}
	b := datosbot.BimesterOfDate(d)
	cur := s.bimester()
	if b == cur {
		return nil
	}
	deadline := b.LastDay().AddDays(s.grace)
	if b == cur.Prev() && !deadline.Before(today) {
		return nil
	}
	if s.grace == 0 {
		return datosbot.Errorf(datosbot.EINVALID, "La fecha %s cae en el bimestre %s, que ya cerró. Solo se aceptan acciones del bimestre actual (%s).", d, b, cur)
	}
	return datosbot.Errorf(datosbot.EINVALID, "La fecha %s cae en el bimestre %s, que ya cerró: se aceptaban acciones hasta el %s (%d días de gracia). Registre acciones del bimestre actual (%s).",
		d, b, deadline.LongDate(), s.grace, cur)
}

func looksLikeURL(s string) bool {
	l := strings.ToLower(s)
	return strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://") || strings.Contains(l, ",http")
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (s *Service) withdraw(ctx context.Context, c *Caller, in Invocation) (datosbot.Reply, error) {
	id := strings.ToUpper(arg(in, 0))
	if id == "" {
		return datosbot.Reply{}, usage("retirar")
	}
	a, err := s.store.Action(ctx, id)
	if datosbot.ErrorCode(err) == datosbot.ENOTFOUND {
		return datosbot.Reply{}, datosbot.Errorf(datosbot.ENOTFOUND, "No existe la acción %s. Vea los identificadores con /datos acciones.", datosbot.Truncate(id, 20))
	} else if err != nil {
		return datosbot.Reply{}, err
	}
	if !c.Unidad && a.RegisteredBy != c.User && !c.Has(a.Institution, datosbot.RoleInstitucional) {
		return datosbot.Reply{}, datosbot.Errorf(datosbot.EFORBIDDEN, "Solo quien registró la acción %s, el Enlace Institucional de %s o la Unidad pueden retirarla.", a.ID, a.Institution)
	}
	reason := strings.TrimSpace(strings.Join(in.Args[1:], " ") + " " + in.Opts["motivo"])
	if len([]rune(reason)) > datosbot.MaxNoteLen {
		return datosbot.Reply{}, datosbot.Errorf(datosbot.EINVALID, "El motivo es demasiado largo (máximo %d caracteres).", datosbot.MaxNoteLen)
	}
	a, err = s.store.WithdrawAction(ctx, a.ID, c.User, reason, s.now())
	if err != nil {
		return datosbot.Reply{}, err
	}
	s.campaigns.afterWithdraw(ctx, a)
	actions, err := s.store.Actions(ctx, a.Institution, a.Bimester)
	if err != nil {
		return datosbot.Reply{}, err
	}
	text := fmt.Sprintf("La acción %s quedó retirada (se conserva en la bitácora).", a.ID)
	if datosbot.Complies(actions, a.Bimester) {
		text += fmt.Sprintf(" %s sigue cumpliendo el bimestre %s.", a.Institution, a.Bimester)
	} else {
		text += fmt.Sprintf(" Atención: %s ya no tiene acciones en el bimestre %s; registre una con /datos anunciar.", a.Institution, a.Bimester)
	}
	return datosbot.Reply{Text: text}, nil
}

func (s *Service) status(ctx context.Context, c *Caller, in Invocation) (datosbot.Reply, error) {
	explicit := arg(in, 0)
	if v, ok := in.Opts["institucion"]; ok {
		explicit = v
	}
	if explicit == "" && c.Central() && c.ChannelInst == "" && len(c.Roles) == 0 {
		return s.report(ctx, c, Invocation{})
	}
	key, err := s.institutionKeyFor(c, explicit, true)
	if err != nil {
		return datosbot.Reply{}, err
	}
	return s.statusReply(ctx, key)
}

// statusReply describes institution key's current bimester. It reads the
// store once (InstitutionStatus), plus what Diagnose reads.
func (s *Service) statusReply(ctx context.Context, key string) (datosbot.Reply, error) {
	b := s.bimester()
	st, err := s.store.InstitutionStatus(ctx, key, b)
	if err != nil {
		return datosbot.Reply{}, err
	}
	inst := st.Institution
	var live []datosbot.Action
	for _, a := range st.Actions {
		if !a.Withdrawn {
			live = append(live, a)
		}
	}
	left := s.daysLeft(b)
	r := datosbot.Reply{Title: fmt.Sprintf("%s: bimestre %s (%s)", inst.Name, b, b.Label())}
	if len(live) > 0 {
		r.Text = fmt.Sprintf("Cumple: %d %s registrada%s este bimestre.", len(live), plural(len(live), "acción", "acciones"), plural(len(live), "", "s"))
	} else {
		r.Text = fmt.Sprintf("Todavía NO cumple: faltan %d %s para que cierre el bimestre (%s) y no hay acciones registradas.\nPublique sus datos abiertos en su sitio o redes, citando la URL directa de los datos, y regístrelo con /datos anunciar <url-datos> <url-publicación>.",
			left, plural(left, "día", "días"), b.LastDay().LongDate())
	}
	r.Fields = append(r.Fields, datosbot.Field{Label: "Días restantes", Value: fmt.Sprint(left)})
	for i, a := range live {
		if i == 5 {
			r.Fields = append(r.Fields, datosbot.Field{Label: "…", Value: fmt.Sprintf("y %d más: /datos acciones %s", len(live)-5, inst.Key)})
			break
		}
		r.Fields = append(r.Fields, datosbot.Field{Label: "Acción " + a.ID, Value: fmt.Sprintf("%s, %s, %s%s", a.PublishedOn, a.Medium, a.EvidenceURL, checkSuffix(a.DataChecks)) + s.evidenceNote(a, true)})
	}
	if len(inst.Channels) == 0 {
		r.Context = fmt.Sprintf("La institución no tiene canal de enlace: en el chat del equipo escriba /datos canal vincular %s para recibir recordatorios.", inst.Key)
	}
	r.Fields = append(r.Fields, campaignFields(st.Campaigns)...)
	if s.diagnose != nil {
		for _, w := range s.diagnose(ctx, inst.Key, inst.Channels) {
			r.Fields = append(r.Fields, datosbot.Field{Label: "Aviso", Value: w})
		}
	}
	return r, nil
}

func (s *Service) actions(ctx context.Context, c *Caller, in Invocation) (datosbot.Reply, error) {
	b := s.bimester()
	if v, ok := in.Opts["bimestre"]; ok {
		var err error
		if b, err = datosbot.ParseBimester(v); err != nil {
			return datosbot.Reply{}, err
		}
	}
	explicit := arg(in, 0)
	if v, ok := in.Opts["institucion"]; ok {
		explicit = v
	}
	inst, err := s.institutionFor(ctx, c, explicit, true)
	if err != nil {
		return datosbot.Reply{}, err
	}
	actions, err := s.store.Actions(ctx, inst.Key, b)
	if err != nil {
		return datosbot.Reply{}, err
	}
	r := datosbot.Reply{Title: fmt.Sprintf("Acciones de %s en %s (%s)", inst.Key, b, b.Label())}
	if len(actions) == 0 {
		r.Text = "No hay acciones registradas en ese bimestre."
		return r, nil
	}
	var lines []string
	for _, a := range actions {
		line := fmt.Sprintf("%s · %s · %s · %s · %s", a.ID, a.PublishedOn, a.Medium, a.Type, a.EvidenceURL)
		if a.Campaign != "" {
			line += " · campaña " + a.Campaign
		}
		line += checkSuffix(a.DataChecks)
		line += s.evidenceNote(a, false)
		if a.Withdrawn {
			line += " · RETIRADA"
		}
		lines = append(lines, line)
	}
	r.Text = strings.Join(lines, "\n")
	return r, nil
}

func (s *Service) publish(ctx context.Context, c *Caller, in Invocation) (datosbot.Reply, error) {
	if len(in.Args) == 0 {
		return datosbot.Reply{}, usage("publicar")
	}
	inst, err := s.institutionFor(ctx, c, in.Opts["institucion"], false)
	if err != nil {
		return datosbot.Reply{}, err
	}
	if !c.Has(inst.Key, datosbot.RoleInstitucional) {
		return datosbot.Reply{}, datosbot.Errorf(datosbot.EFORBIDDEN, "Solo el Enlace Institucional de %s puede avisar de publicaciones.", inst.Key)
	}
	if !inst.Active {
		return datosbot.Reply{}, datosbot.Errorf(datosbot.EINVALID, "La institución %s está dada de baja; no se envían avisos a sus canales. Si debe volver a operar, pida a la Unidad que la reactive con /datos institucion alta.", inst.Key)
	}
	data, err := datosbot.ValidateDataURL(in.Args[0], s.hosts)
	if err != nil {
		return datosbot.Reply{}, err
	}
	rest := in.Args[1:]
	high := false
	if len(rest) > 0 && datosbot.Fold(rest[0]) == "alto-valor" {
		high, rest = true, rest[1:]
	}
	note := strings.TrimSpace(strings.Join(rest, " ") + " " + in.Opts["nota"])
	if len([]rune(note)) > datosbot.MaxNoteLen {
		return datosbot.Reply{}, datosbot.Errorf(datosbot.EINVALID, "La nota es demasiado larga (máximo %d caracteres).", datosbot.MaxNoteLen)
	}
	if len(inst.Channels) == 0 {
		return datosbot.Reply{}, datosbot.Errorf(datosbot.EINVALID, "%s no tiene canales de enlace donde avisar. Vincule uno con /datos canal vincular %s.", inst.Key, inst.Key)
	}
	checks, err := s.checkData(ctx, inst, []string{data})
	if err != nil {
		return datosbot.Reply{}, err
	}
	// The same dataset announced twice the same day (a double send, a retry
	// from another device) is one notice: its id, and so the outbox keys of
	// its posts, come from what it announces.
	sum := sha256.Sum256([]byte(strings.Join([]string{inst.Key, s.today().String(), datosbot.NormalizeURL(data), strconv.FormatBool(high)}, "\x00")))
	id := "P" + hex.EncodeToString(sum[:8])
	title := "Nuevos datos abiertos publicados"
	if high {
		title = "Nuevos datos abiertos de alto valor publicados"
	}
	notice := datosbot.Reply{Title: title,
		Text:   fmt.Sprintf("%s publicó datos abiertos: %s\nEnlaces de Comunicación Digital: comuníquenlos en los medios de la institución citando esta URL directa, y registren la acción con /datos anunciar %s <url-publicación>.", inst.Name, data, data),
		Public: true}
	if note != "" {
		notice.Fields = []datosbot.Field{{Label: "Nota", Value: note}}
	}
	sent := 0
	if s.poster != nil {
		var msgs []datosbot.Message
		for _, ch := range inst.Channels {
			msgs = append(msgs, datosbot.Message{Key: "publicar:" + id + ":" + string(ch), Channel: ch, Reply: notice})
		}
		// Posting again after a failure is safe: the outbox takes each key once.
		if err := s.poster.Post(ctx, msgs...); err != nil {
			return datosbot.Reply{}, err
		}
		sent = len(msgs)
	}
	first, err := s.store.Once(ctx, "publicar:"+id, 48*time.Hour)
	if err != nil {
		return datosbot.Reply{}, err
	}
	if !first {
		return datosbot.Reply{Text: fmt.Sprintf("Hoy ya avisó de estos datos a los canales de enlace de %s; el aviso no se repite.", inst.Key)}, nil
	}
	detail := data
	if high {
		detail += " alto-valor"
	}
	if err := s.store.AppendAudit(ctx, datosbot.AuditEntry{At: s.now(), Actor: c.User, Event: "publicar", Target: inst.Key, Detail: detail + " " + note}); err != nil {
		return datosbot.Reply{}, err
	}
	s.followChecks(ctx, "publicar", "", inst.Key, checks)
	return datosbot.Reply{Text: fmt.Sprintf("Aviso enviado a %d %s de enlace de %s.", sent, plural(sent, "canal", "canales"), inst.Key) +
		otherInstitutionNextStep(checks, "Los datos citados son de otra institución. Si quería avisar de datos de su institución, envíe el aviso con /datos publicar <url-de-su-propio-conjunto>."),
		Fields: checkFields(checks)}, nil
}
