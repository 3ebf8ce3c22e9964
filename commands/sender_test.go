package commands_test

import (
	"context"
	"testing"

	"github.com/datosbot/datosbot"
)

// TestCommandWithoutUserRefused: a request that names no one runs nothing,
// whatever adapter or caller builds it.
func TestCommandWithoutUserRefused(t *testing.T) {
	h := newHarness(t)
	h.setup()
	for _, user := range []datosbot.UserID{"", "slack:", "telegram:", ":ana", "ana"} {
		r := h.svc.Handle(context.Background(), datosbot.Request{User: user, Channel: canal,
			Text: "anunciar " + dataURL + " " + tweetURL})
		if r.Error != datosbot.EUNAUTHORIZED {
			t.Errorf("user %q: error %q, want %q; reply %s", user, r.Error, datosbot.EUNAUTHORIZED, r.Text)
		}
	}
	if n := len(h.actions("")); n != 0 {
		t.Errorf("%d actions stored, want none", n)
	}
}
