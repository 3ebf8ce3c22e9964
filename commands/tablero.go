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

// RegisterTablero adds the "tablero" command: a private sign-in link to
// the dashboard, for the Unidad, the Coordinación and the liaisons.
func RegisterTablero(s *Service, si SignIn) {
	s.Register(Command{Name: "tablero", Usage: "tablero",
		Summary: "le envía en privado un enlace de acceso al tablero web (un solo uso, 15 minutos)",
		Allowed: func(c *Caller) bool { return c.Central() || c.Liaison() },
		Run: func(s *Service, ctx context.Context, c *Caller, in Invocation) (datosbot.Reply, error) {
			link, expires, err := si.SignInLink(ctx, c.User)
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
		}})
}
