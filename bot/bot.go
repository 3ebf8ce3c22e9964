package bot

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
)

// Config configures a Bot. Handler is required.
type Config struct {
	Handler  Handler
	Adapters []Adapter
	Logger   *slog.Logger // default slog.Default()
}

// Bot runs the adapters and answers their commands with the handler. The
// bot's own posts go through a Router instead.
type Bot struct {
	handler Handler
	order   []Adapter
	log     *slog.Logger
}

// New returns a Bot.
func New(cfg Config) *Bot {
	b := &Bot{handler: cfg.Handler, order: cfg.Adapters, log: cfg.Logger}
	if b.log == nil {
		b.log = slog.Default()
	}
	return b
}

// Run runs every adapter until ctx is done, each answering its commands
// with the handler (commands.Service, which also measures and logs them).
// An adapter that stops early (the console at end of input) does not stop
// the others.
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
