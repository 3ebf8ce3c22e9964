package slack

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"

	"github.com/slack-go/slack"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/bot"
)

// formAnunciar is the Reply.Form value that opens the "anunciar" form.
const formAnunciar = "anunciar"

// The form's callback and block ids. Every input's action id is "value".
const (
	formCallbackID = "datos_anunciar"
	fieldDatos     = "datos"
	fieldPub       = "publicacion"
	fieldMedio     = "medio"
	fieldTipo      = "tipo"
	fieldFecha     = "fecha"
	fieldCampana   = "campana"
	fieldNota      = "nota"
	inputAction    = "value"
)

// formMetadata travels in the view's private_metadata: the channel where
// /datos was typed, where the reply goes after a submission.
type formMetadata struct {
	Channel string `json:"c"`
}

// openForm opens the "anunciar" modal with views.open.
func (a *Adapter) openForm(ctx context.Context, triggerID, channel string) error {
	_, err := a.api.OpenViewContext(ctx, triggerID, anunciarView(channel))
	return err
}

func anunciarView(channel string) slack.ModalViewRequest {
	meta, _ := json.Marshal(formMetadata{Channel: channel})
	text := func(s string) *slack.TextBlockObject {
		return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
	}
	option := func(v, label string) *slack.OptionBlockObject { return slack.NewOptionBlockObject(v, text(label), nil) }

	datos := slack.NewPlainTextInputBlockElement(text("https://www.datos.gob.mx/dataset/…"), inputAction)
	datos.Multiline = true
	datos.MaxLength = 2000
	pub := slack.NewURLTextInputBlockElement(text("https://x.com/…/status/…"), inputAction)
	medio := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, text("Se deduce de la URL"), inputAction,
		option("web", "Sitio web institucional"), option("redes", "Redes sociales"),
		option("historia", "Historia en datos.gob.mx"), option("otro", "Otro"))
	tipo := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, text("Publicación de datos"), inputAction,
		option("publicacion", "Publicación de datos"), option("dataton", "Datatón"), option("uso", "Uso de datos abiertos"))
	campana := slack.NewPlainTextInputBlockElement(text("C3M9"), inputAction)
	campana.MaxLength = 20
	nota := slack.NewPlainTextInputBlockElement(text("Opcional"), inputAction)
	nota.Multiline = true
	nota.MaxLength = datosbot.MaxNoteLen

	optional := func(b *slack.InputBlock) *slack.InputBlock { b.Optional = true; return b }
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      formCallbackID,
		Title:           text("Registrar acción"),
		Submit:          text("Registrar"),
		Close:           text("Cancelar"),
		PrivateMetadata: string(meta),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewInputBlock(fieldDatos, text("URL(s) de datos"), text("Dirección directa del conjunto o recurso en datos.gob.mx; varias separadas por comas."), datos),
			slack.NewInputBlock(fieldPub, text("URL de la publicación"), text("El tuit, nota o página donde comunicó los datos."), pub),
			optional(slack.NewInputBlock(fieldMedio, text("Medio"), text("Si lo deja vacío, se deduce de la URL de la publicación."), medio)),
			optional(slack.NewInputBlock(fieldTipo, text("Tipo"), nil, tipo)),
			optional(slack.NewInputBlock(fieldFecha, text("Fecha de publicación"), text("Si la deja vacía, es hoy."), slack.NewDatePickerBlockElement(inputAction))),
			optional(slack.NewInputBlock(fieldCampana, text("Campaña"), text("Identificador de la campaña que atiende, si aplica."), campana)),
			optional(slack.NewInputBlock(fieldNota, text("Nota"), nil, nota)),
		}},
	}
}

// formValue reads one input of a submitted view.
func formValue(v slack.View, block string) string {
	if v.State == nil {
		return ""
	}
	act, ok := v.State.Values[block][inputAction]
	if !ok {
		return ""
	}
	switch {
	case act.SelectedOption.Value != "":
		return strings.TrimSpace(act.SelectedOption.Value)
	case act.SelectedDate != "":
		return strings.TrimSpace(act.SelectedDate)
	}
	return strings.TrimSpace(act.Value)
}

// anunciarCommand validates a submitted form and builds the equivalent
// command text, or returns Spanish errors keyed by block id.
func anunciarCommand(v slack.View, hosts []string) (string, map[string]string) {
	errs := map[string]string{}
	// ValidateDataURLs checks the count before any URL, and drops repeats.
	data, err := datosbot.ValidateDataURLs(strings.FieldsFunc(formValue(v, fieldDatos), func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' }), hosts)
	if err != nil {
		errs[fieldDatos] = fieldError(err)
	}
	if len(data) == 0 && errs[fieldDatos] == "" {
		errs[fieldDatos] = "Escriba la URL directa de los datos. " + datosbot.URLRule
	}
	pub, err := datosbot.ValidateEvidenceURL(formValue(v, fieldPub))
	if err != nil {
		errs[fieldPub] = fieldError(err)
	}
	if len(errs) > 0 {
		return "", errs
	}
	parts := []string{"anunciar", strings.Join(data, ","), pub}
	for _, o := range []struct{ key, block string }{{"medio", fieldMedio}, {"tipo", fieldTipo}, {"fecha", fieldFecha}, {"campaña", fieldCampana}} {
		if val := strings.Join(strings.Fields(formValue(v, o.block)), ""); val != "" {
			parts = append(parts, o.key+":"+val)
		}
	}
	if n := strings.Join(strings.Fields(formValue(v, fieldNota)), " "); n != "" {
		// «» quote the note: the parser keeps it whole, colons and all.
		parts = append(parts, "nota:«"+strings.ReplaceAll(n, "»", "\"")+"»")
	}
	return strings.Join(parts, " "), nil
}

// fieldError is the text of an error shown under a form field.
func fieldError(err error) string {
	return datosbot.Truncate(datosbot.ErrorMessage(err), 1000)
}

// refusalField picks the form field a refusal is about: the field whose
// value the message quotes, else the one its words name, else the data URL.
func refusalField(v slack.View, msg string) string {
	fields := []string{fieldPub, fieldDatos, fieldFecha, fieldMedio, fieldTipo, fieldCampana, fieldNota}
	for _, f := range fields {
		if val := formValue(v, f); len(val) > 2 && strings.Contains(msg, val) {
			return f
		}
	}
	folded := datosbot.Fold(msg)
	for _, kw := range []struct{ word, field string }{
		{"publicacion", fieldPub}, {"fecha", fieldFecha}, {"medio", fieldMedio}, {"tipo", fieldTipo},
		{"campana", fieldCampana}, {"nota", fieldNota},
	} {
		if strings.Contains(folded, kw.word) {
			return kw.field
		}
	}
	return fieldDatos
}

// submit handles a view_submission of the "anunciar" form: field errors
// for invalid URLs, else the equivalent command runs once; a refusal is
// shown on the form, a success closes it and reaches the person privately.
func (a *Adapter) submit(ctx context.Context, h bot.Handler, ic slack.InteractionCallback) any {
	text, errs := anunciarCommand(ic.View, a.hosts)
	if len(errs) > 0 {
		return slack.NewErrorsViewSubmissionResponse(errs)
	}
	var meta formMetadata
	_ = json.Unmarshal([]byte(ic.View.PrivateMetadata), &meta)
	// The same form submitted twice with the same content has one effect;
	// a corrected resubmission after a refusal is new.
	sum := sha256.Sum256([]byte(ic.View.ID + "\n" + ic.User.ID + "\n" + text))
	key := "slack:form:" + hex.EncodeToString(sum[:16])
	if ok, err := a.first(ctx, key); err != nil {
		return slack.NewErrorsViewSubmissionResponse(map[string]string{fieldDatos: unavailableReply.Text})
	} else if !ok {
		return slack.NewClearViewSubmissionResponse()
	}
	req := a.request(key, ic.User.ID, ic.User.Name, meta.Channel, text)
	channel, user := meta.Channel, ic.User.ID
	reply, inTime := a.call(ctx, h, req, func(ctx context.Context, r datosbot.Reply) {
		a.notify(ctx, channel, user, r)
	})
	if !inTime {
		return slack.NewClearViewSubmissionResponse() // the reply follows privately
	}
	if reply.Error != "" {
		// A refusal changed nothing: the same content may be submitted
		// again and is refused again, rather than closing as a duplicate.
		if f, ok := a.dedupe.(Forgetter); ok {
			if err := f.Forget(ctx, key); err != nil {
				a.log.Error("slack dedupe forget failed", "err", err)
			}
		}
		msg := strings.TrimSpace(reply.Text)
		if msg == "" {
			msg = reply.PlainText()
		}
		return slack.NewErrorsViewSubmissionResponse(map[string]string{refusalField(ic.View, msg): datosbot.Truncate(msg, 1000)})
	}
	a.wg.Go(func() {
		nctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.workFor)
		defer cancel()
		a.notify(nctx, channel, user, reply)
	})
	return slack.NewClearViewSubmissionResponse()
}
