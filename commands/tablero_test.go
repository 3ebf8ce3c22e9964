package commands_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/commands"
)

// signIns records the links the tablero command asked for.
type signIns struct{ users []datosbot.UserID }

func (s *signIns) SignInLink(_ context.Context, u datosbot.UserID) (string, time.Time, error) {
	s.users = append(s.users, u)
	return "https://datosbot.example/tablero/entrar?t=TOKEN", time.Date(2026, 11, 20, 10, 15, 0, 0, mexico), nil
}

func TestTableroGivesAPrivateLinkToItsCaller(t *testing.T) {
	h := newHarness(t)
	si := &signIns{}
	h.svc = commands.New(commands.Config{Store: h.store, Poster: h, Now: h.clock.Now, Loc: mexico, Admins: []datosbot.UserID{admin}, SignIn: si})
	h.ok(admin, canal, "institucion alta inegi INEGI")
	h.ok(admin, canal, "canal vincular inegi")
	liaison := datosbot.UserID("console:ana")
	if err := h.store.AddMembership(context.Background(), datosbot.Membership{User: liaison, Role: datosbot.RoleComunicacion, Institution: "inegi", GrantedBy: admin}); err != nil {
		t.Fatal(err)
	}

	for _, u := range []datosbot.UserID{admin, liaison} {
		r := h.ok(u, canal, "tablero")
		if !r.Secret || r.Public {
			t.Errorf("%s: reply Secret=%v Public=%v, want a secret, private reply", u, r.Secret, r.Public)
		}
		if !strings.Contains(r.Text, "https://datosbot.example/tablero/entrar?t=TOKEN") || !strings.Contains(r.Text, "10:15") {
			t.Errorf("%s: reply %q lacks the link or its expiry", u, r.Text)
		}
	}
	if len(si.users) != 2 || si.users[0] != admin || si.users[1] != liaison {
		t.Errorf("links bound to %v, want [admin ana]", si.users)
	}

	stranger := h.refused("console:nadie", canal, "tablero", datosbot.EFORBIDDEN)
	if !strings.Contains(stranger.Text, "unirme") {
		t.Errorf("refusal %q does not say how to get access", stranger.Text)
	}
	if len(si.users) != 2 {
		t.Error("a stranger got a link")
	}
	if help := h.ok(liaison, canal, "ayuda").PlainText(); !strings.Contains(help, "tablero") {
		t.Errorf("a liaison's help does not offer tablero:\n%s", help)
	}
}
