package bot

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"

	"github.com/datosbot/datosbot"
)

// Config configures a Bot. Handler is required.
type Config struct {
	Handler  Handler
	Adapters []Adapter
	Logger   *slog.Logger // default slog.Default()
}

// Bot runs the adapters, answers their commands with the handler, and
// routes the bot's own posts to the adapter of each channel's platform.
type Bot struct {
	handler  Handler
	adapters map[datosbot.Platform]Adapter
	order    []Adapter
	log      *slog.Logger
}

// New returns a Bot.
func New(cfg Config) *Bot {
	b := &Bot{handler: cfg.Handler, adapters: map[datosbot.Platform]Adapter{}, order: cfg.Adapters, log: cfg.Logger}
	for _, a := range cfg.Adapters {
		b.adapters[a.Platform()] = a
	}
	if b.log == nil {
		b.log = slog.Default()
	}
	return b
}

// Adapter returns the adapter of platform p, if it runs.
func (b *Bot) Adapter(p datosbot.Platform) (Adapter, bool) {
	a, ok := b.adapters[p]
	return a, ok
}

// Run runs every adapter until ctx is done, each answering its commands
// with the handler (which measures and logs them: commands.Service). An adapter that stops early
// (the console at end of input) does not stop the others.
func (b *Bot) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, a := range b.order {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := a.Run(ctx, b.handler); err != nil && ctx.Err() == nil {
				b.log.Error("adapter stopped", "platform", a.Platform(), "err", err)
			}
		}()
	}
	wg.Wait()
	return nil
}

// Routes mounts the HTTP routes of the adapters that have them.
func (b *Bot) Routes(mux *http.ServeMux) {
	for _, a := range b.order {
		if h, ok := a.(HTTPAdapter); ok {
			h.Routes(mux)
		}
	}
}

// Ready returns the first readiness error of the adapters that report one.
func (b *Bot) Ready() error {
	for _, a := range b.order {
		if r, ok := a.(ReadyAdapter); ok {
			if err := r.Ready(); err != nil {
				return fmt.Errorf("%s: %w", a.Platform(), err)
			}
		}
	}
	return nil
}

// Deliver posts one message through the adapter of its channel's platform.
// The durable outbox of package reminders calls it; the adapter's typed
// errors (rate limit, permanent, moved) pass through unchanged.
func (b *Bot) Deliver(ctx context.Context, m datosbot.Message) error {
	a, ok := b.adapters[m.Channel.Platform()]
	if !ok {
		return &datosbot.PermanentError{Channel: m.Channel, Reason: "la plataforma " + string(m.Channel.Platform()) + " no está configurada en este servidor"}
	}
	return a.Post(ctx, m)
}
