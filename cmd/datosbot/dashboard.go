package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/dashboard"
	"github.com/datosbot/datosbot/reminders"
	"github.com/datosbot/datosbot/storage"
)

var _ dashboard.Store = (*storage.Store)(nil)

// publicURL checks DATOSBOT_PUBLIC_URL; empty means http://localhost:8080.
func publicURL(v string) (string, error) {
	if v == "" {
		return "http://localhost:8080", nil
	}
	u, err := dashboard.ParsePublicURL(v)
	if err != nil {
		return "", err
	}
	return u.String(), nil
}

// newDashboard builds the dashboard over the store; its failed deliveries
// come from the outbox, which exists by the time a page is served.
func newDashboard(cfg Config, store *storage.Store, admins []datosbot.UserID, now func() time.Time,
	outbox func() *reminders.Outbox, logger *slog.Logger) (*dashboard.Server, error) {
	board, err := dashboard.New(dashboard.Config{Store: store, PublicURL: cfg.PublicURL, Admins: admins, Now: now,
		Loc: cfg.Loc, GraceDays: graceDays(cfg.GraceDays), Logger: logger,
		Failures: func(ctx context.Context, chs []datosbot.ChannelID) ([]dashboard.Failure, error) {
			fs, err := outbox().DeliveryFailures(ctx, chs)
			out := make([]dashboard.Failure, len(fs))
			for i, f := range fs {
				out[i] = dashboard.Failure{Channel: f.Channel, Reason: f.Reason, At: f.At}
			}
			return out, err
		}})
	if err != nil {
		return nil, fmt.Errorf("configuración inválida: DATOSBOT_PUBLIC_URL: %v", err)
	}
	return board, nil
}
