package commands

import (
	"context"
	"time"

	"github.com/datosbot/datosbot"
)

// SignIn issues the dashboard's one-use sign-in links; dashboard.Server
// implements it.
type SignIn interface {
	// SignInLink returns a link that signs user in once, until expires.
	SignInLink(ctx context.Context, user datosbot.UserID) (link string, expires time.Time, err error)
}

// tablero answers a private sign-in link to the dashboard.
func (s *Service) tablero(ctx context.Context, c *Caller, in Invocation) (datosbot.Reply, error) {
	if s.signIn == nil {
		return datosbot.Reply{}, datosbot.Errorf(datosbot.EUNAVAILABLE, "El tablero no está activo en este servidor. Avise a la Unidad.")
	}
	link, expires, err := s.signIn.SignInLink(ctx, c.User)
	if err != nil {
		return datosbot.Reply{}, err
	}
	return datosbot.Reply{
		Title: "Su enlace al tablero",
		Text: "Ábralo en su navegador: " + link + "\n" +
			"Es personal, sirve una sola vez y vence a las " + expires.In(s.loc).Format("15:04") + " (15 minutos). No lo comparta.",
		Context: "Si vence, escriba otra vez /datos tablero.",
		Secret:  true,
	}, nil
}
