package commands

import (
	"context"
	"fmt"
	"strings"

	"github.com/datosbot/datosbot"
)

// DataChecker checks data URLs against the portal, datos.gob.mx (DESIGN
// 2.4). portal.Checks implements it; without one (DATOSBOT_CKAN_URL=off)
// data URLs are checked by their shape only.
type DataChecker interface {
	// CheckData returns one check per URL within the command's budget
	// (2 s): what the portal has not answered by then is pendiente.
	CheckData(ctx context.Context, inst datosbot.Institution, urls []string) []datosbot.DataCheck
	// Recheck has a pendiente URL checked again in the background until
	// the portal answers; a later inexistente is told in the channel.
	Recheck(ctx context.Context, r datosbot.DataRecheck) error
}

// checkData asks the portal about urls for inst. A URL the portal does not
// know refuses the whole command (EINVALID), so nothing is stored.
func (s *Service) checkData(ctx context.Context, inst datosbot.Institution, urls []string) ([]datosbot.DataCheck, error) {
	if s.checker == nil {
		return nil, nil
	}
	checks := s.checker.CheckData(ctx, inst, urls)
	for _, c := range checks {
		if c.Status == datosbot.CheckInexistente {
			return nil, datosbot.Errorf(datosbot.EINVALID,
				"El conjunto de datos %s no existe en datos.gob.mx (el portal no lo encuentra), así que no se guardó nada. %s",
				datosbot.Truncate(c.URL, 200), datosbot.CopyDataURLHint)
		}
	}
	return checks, nil
}

// followChecks queues the pendiente checks for the background. A failure
// to queue is logged: the command already succeeded and the URL stays
// pendiente where it is shown.
func (s *Service) followChecks(ctx context.Context, kind, actionID, inst string, checks []datosbot.DataCheck) {
	for _, c := range checks {
		if c.Status != datosbot.CheckPendiente {
			continue
		}
		r := datosbot.DataRecheck{Kind: kind, Action: actionID, Institution: inst, URL: c.URL, Since: c.CheckedAt}
		if err := s.checker.Recheck(ctx, r); err != nil {
			s.log.ErrorContext(ctx, "could not queue a data re-check", "url", c.URL, "err", err)
		}
	}
}

// checkFields shows what the portal said of each URL, one field per URL
// that is not plainly verified, or one summary when all are.
func checkFields(checks []datosbot.DataCheck) []datosbot.Field {
	if len(checks) == 0 {
		return nil
	}
	var lines []string
	for _, c := range checks {
		line := c.Describe()
		if len(checks) > 1 {
			line = c.URL + ": " + line
		}
		lines = append(lines, line)
	}
	return []datosbot.Field{{Label: "En datos.gob.mx", Value: strings.Join(lines, "\n")}}
}

// otherInstitutionNextStep returns " "+next when a check says the data
// are another institution's, so that the reply says what to do if the
// liaison meant their own; "" otherwise.
func otherInstitutionNextStep(checks []datosbot.DataCheck, next string) string {
	for _, c := range checks {
		if c.Status == datosbot.CheckOtraInstitucion {
			return " " + next
		}
	}
	return ""
}

// checkSuffix is the short form for one line of estado or acciones.
func checkSuffix(checks []datosbot.DataCheck) string {
	if s := datosbot.DataChecksSummary(checks); s != "" {
		return fmt.Sprintf(" · %s", s)
	}
	return ""
}
