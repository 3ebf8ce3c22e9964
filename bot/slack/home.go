package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/bot"
)

// HomeSource tells what a person follows, for the Home tab;
// dashboard.Server implements it.
type HomeSource interface {
	Overview(ctx context.Context, user datosbot.UserID) (datosbot.Overview, error)
}

// Action ids of the Home tab's buttons.
const (
	homeAnunciar = "home_anunciar" // opens the anunciar form
	homeEnterado = "home_enterado" // value: the enterado command to run
	homeTablero  = "home_tablero"  // a link button; Slack still reports the press
)

// The Home tab's share of Block Kit's limits (the others are in
// render.go): 100 blocks at most, of which the institutions and the
// campaigns get a capped number each, so any Overview fits.
const (
	maxHomeBlocks     = 100
	homeInstitutions  = 40 // sections for institutions; the rest share one
	homeCampaigns     = 20 // sections for campaigns; the rest share one
	homePublishBudget = 10 * time.Second
)

// homeMetadata travels in the Home view's private_metadata: the person's
// direct-message channel with the app, where the form's reply goes.
type homeMetadata struct {
	Channel string `json:"c"`
}

// publishHome publishes user's Home tab (views.publish). dm is the app's
// direct-message channel with the person, when known.
func (a *Adapter) publishHome(ctx context.Context, user, dm string) {
	if a.home == nil {
		return
	}
	ov, err := a.home.Overview(ctx, datosbot.NewUserID(datosbot.Slack, user))
	if err != nil {
		a.log.Error("slack home: overview failed", "user", user, "err", err)
		return
	}
	_, err = a.api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: user, View: homeView(ov, dm)})
	if err != nil {
		a.log.Error("slack views.publish failed", "user", user, "err", err)
	}
}

// republishAfter refreshes the Home tab of the person who ran req when the
// command changed what it shows (an action, an acknowledgment, a new
// membership). It runs in the background: the reply never waits for it.
func (a *Adapter) republishAfter(req datosbot.Request, r datosbot.Reply) {
	if a.home == nil || r.Error != "" || req.User.Platform() != datosbot.Slack {
		return
	}
	name, _, _ := strings.Cut(datosbot.Fold(req.Text), " ")
	switch name {
	case "anunciar", "anuncio", "registrar", "enterado", "retirar", "unirme", "start":
	default:
		return
	}
	dm := "" // unknown: the form's reply then goes to the person's DM by user id
	if req.Private {
		dm = req.Channel.Local()
	}
	a.wg.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), homePublishBudget)
		defer cancel()
		a.publishHome(ctx, req.User.Local(), dm)
	})
}

// homeAction handles a press of a Home tab button; it reports false for
// any other button.
func (a *Adapter) homeAction(ctx context.Context, h bot.Handler, ic slack.InteractionCallback, key string) bool {
	var act *slack.BlockAction
	for _, x := range ic.ActionCallback.BlockActions {
		if x != nil && strings.HasPrefix(x.ActionID, "home_") {
			act = x
			break
		}
	}
	if act == nil {
		return false
	}
	var meta homeMetadata
	_ = json.Unmarshal([]byte(ic.View.PrivateMetadata), &meta)
	switch act.ActionID {
	case homeAnunciar:
		if err := a.openForm(ctx, ic.TriggerID, meta.Channel); err != nil {
			a.log.Error("slack views.open from the Home tab failed", "err", err)
		}
	case homeEnterado:
		if !strings.HasPrefix(act.Value, "enterado ") {
			return true
		}
		if ok, err := a.first(ctx, key); err != nil || !ok {
			return true
		}
		req := a.request(key, ic.User.ID, ic.User.Name, meta.Channel, act.Value)
		a.wg.Go(func() {
			hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.workFor)
			defer cancel()
			a.notify(hctx, meta.Channel, ic.User.ID, a.handle(hctx, h, req))
		})
	}
	return true
}

// homeView renders an Overview as a Home tab within Block Kit's limits,
// however many institutions and campaigns it has.
func homeView(ov datosbot.Overview, dm string) slack.HomeTabViewRequest {
	text := func(s string) *slack.TextBlockObject {
		return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
	}
	plain := func(s string, n int) *slack.TextBlockObject {
		return slack.NewTextBlockObject(slack.PlainTextType, cut(s, n), false, false)
	}
	section := func(s string) slack.Block { return slack.NewSectionBlock(text(cut(s, maxSectionText)), nil, nil) }

	b := ov.Bimester
	bs := []slack.Block{
		slack.NewHeaderBlock(plain("datosbot: comunicación de datos abiertos", maxHeader)),
		section(fmt.Sprintf("*Bimestre %s* (%s): %s.", b, b.Label(), daysLeft(ov.DaysLeft))),
	}
	if ov.Central {
		bs = append(bs, section(fmt.Sprintf("*%d de %d* instituciones cumplen este bimestre.", ov.Compliant, ov.Total)))
	}
	if !ov.Central && len(ov.Institutions) == 0 {
		bs = append(bs, section("Aún no es enlace de ninguna institución. Pida una invitación a su Enlace Institucional o a la Unidad y escriba `/datos unirme <código>`."))
	}
	var buttons []slack.BlockElement
	if len(ov.Institutions) > 0 {
		reg := slack.NewButtonBlockElement(homeAnunciar, "anunciar", plain("Registrar acción", maxButtonLabel))
		reg.Style = slack.StylePrimary
		buttons = append(buttons, reg)
	}
	if ov.DashboardURL != "" {
		link := slack.NewButtonBlockElement(homeTablero, "tablero", plain("Abrir el tablero", maxButtonLabel))
		link.URL = ov.DashboardURL
		buttons = append(buttons, link)
	}
	if len(buttons) > 0 {
		bs = append(bs, slack.NewActionBlock("home_actions", buttons...))
	}
	bs = append(bs, slack.NewContextBlock("", text("Para entrar al tablero escriba `/datos tablero`: le llega un enlace personal de un solo uso.")))

	if len(ov.Institutions) > 0 {
		bs = append(bs, slack.NewDividerBlock(), slack.NewHeaderBlock(plain("Sus instituciones", maxHeader)))
		for i, in := range ov.Institutions {
			if i == homeInstitutions {
				bs = append(bs, section(moreInstitutions(ov.Institutions[i:])))
				break
			}
			bs = append(bs, section(institutionLine(in, ov)))
		}
	}
	if len(ov.Campaigns) > 0 {
		bs = append(bs, slack.NewDividerBlock(), slack.NewHeaderBlock(plain("Campañas abiertas", maxHeader)))
		for i, c := range ov.Campaigns {
			if i == homeCampaigns {
				bs = append(bs, section(fmt.Sprintf("… y %d campañas más: véalas en el tablero.", len(ov.Campaigns)-i)))
				break
			}
			var acc *slack.Accessory
			if c.Institution != "" && c.Status == datosbot.StatusPendiente {
				cmd := "enterado " + c.ID + " institucion:" + c.Institution
				if len(cmd) <= maxButtonValue {
					acc = slack.NewAccessory(slack.NewButtonBlockElement(homeEnterado, cmd, plain("Enterado", maxButtonLabel)))
				}
			}
			bs = append(bs, slack.NewSectionBlock(text(cut(campaignLine(c), maxSectionText)), nil, acc))
		}
	}
	if len(bs) > maxHomeBlocks { // unreachable with the caps above; kept as the guarantee
		bs = bs[:maxHomeBlocks]
	}
	meta, _ := json.Marshal(homeMetadata{Channel: dm})
	return slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: bs}, PrivateMetadata: string(meta), CallbackID: "datos_home"}
}

func daysLeft(n int) string {
	if n == 1 {
		return "queda 1 día"
	}
	return "quedan " + strconv.Itoa(n) + " días"
}

// institutionLine is one institution's state: by emoji and by words.
func institutionLine(in datosbot.InstitutionOverview, ov datosbot.Overview) string {
	name := fmt.Sprintf("*%s* (%s)", escape(cut(in.Name, 200)), escape(in.Key))
	if in.Compliant {
		return fmt.Sprintf(":white_check_mark: %s: cumple %s con %d %s.", name, ov.Bimester, in.Actions, plural(in.Actions, "acción", "acciones"))
	}
	return fmt.Sprintf(":warning: %s: aún no cumple %s; %s. Registre una acción con el botón o con `/datos anunciar`.", name, ov.Bimester, daysLeft(ov.DaysLeft))
}

// moreInstitutions sums up the institutions past the Home tab's cap.
func moreInstitutions(rest []datosbot.InstitutionOverview) string {
	var ok, missing []string
	for _, in := range rest {
		if in.Compliant {
			ok = append(ok, escape(in.Key))
		} else {
			missing = append(missing, escape(in.Key))
		}
	}
	s := fmt.Sprintf("… y %d instituciones más (véalas en el tablero).", len(rest))
	if len(missing) > 0 {
		s += "\nAún no cumplen: " + strings.Join(missing, ", ")
	}
	if len(ok) > 0 {
		s += "\nCumplen: " + strings.Join(ok, ", ")
	}
	return s
}

func campaignLine(c datosbot.CampaignOverview) string {
	s := fmt.Sprintf("*%s* (%s) · fecha límite %s", escape(cut(c.Title, 200)), c.ID, c.Deadline)
	if c.Institution != "" {
		return s + fmt.Sprintf(" · %s: %s", escape(c.Institution), c.Status)
	}
	return s + fmt.Sprintf(" · %d de %d instituciones cumplieron", c.Done, c.Targets)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
