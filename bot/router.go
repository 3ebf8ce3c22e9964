package bot

import (
	"context"

	"github.com/datosbot/datosbot"
)

// Router sends the bot's own posts to the adapter of each channel's
// platform. It needs only the adapters, so it is built first: the outbox
// delivers through it, the commands post through the outbox, and the
// runtime that answers commands comes last, with no part waiting for
// another to exist.
type Router struct {
	adapters map[datosbot.Platform]Adapter
}

// NewRouter returns a Router over adapters, one per platform (a later
// adapter of the same platform replaces an earlier one).
func NewRouter(adapters ...Adapter) *Router {
	r := &Router{adapters: make(map[datosbot.Platform]Adapter, len(adapters))}
	for _, a := range adapters {
		r.adapters[a.Platform()] = a
	}
	return r
}

// Adapter returns the adapter of platform p, if it runs.
func (r *Router) Adapter(p datosbot.Platform) (Adapter, bool) {
	a, ok := r.adapters[p]
	return a, ok
}

// Deliver posts one message through the adapter of its channel's platform.
// The durable outbox of package reminders calls it; the adapter's typed
// errors (rate limit, permanent, moved) pass through unchanged.
func (r *Router) Deliver(ctx context.Context, m datosbot.Message) error {
	a, ok := r.adapters[m.Channel.Platform()]
	if !ok {
		return &datosbot.PermanentError{Channel: m.Channel, Reason: "la plataforma " + string(m.Channel.Platform()) + " no está configurada en este servidor"}
	}
	return a.Post(ctx, m)
}
