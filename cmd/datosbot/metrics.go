package main

import (
	"context"

	"github.com/datosbot/datosbot/httpapi"
	"github.com/datosbot/datosbot/reminders"
)

// outboxFigures are the outbox's figures on /metrics, read from the store
// at each scrape and so the same for every replica. Counts since the store
// was created are counters (…_total); the queue's size now is a gauge and
// keeps the name users may already chart.
var outboxFigures = []httpapi.Figure{
	{Name: "datosbot_outbox_queued", Help: "Posts waiting in the outbox, across replicas."},
	{Name: "datosbot_outbox_in_flight", Help: "Posts being delivered now, across replicas."},
	{Name: "datosbot_outbox_enqueued_total", Help: "Posts accepted by the outbox since the store was created.", Counter: true},
	{Name: "datosbot_outbox_duplicates_total", Help: "Posts skipped because their key was already enqueued or sent.", Counter: true},
	{Name: "datosbot_outbox_sent_total", Help: "Posts delivered.", Counter: true},
	{Name: "datosbot_outbox_retried_total", Help: "Transient delivery failures retried.", Counter: true},
	{Name: "datosbot_outbox_rate_limited_total", Help: "Posts the platform asked to delay (429).", Counter: true},
	{Name: "datosbot_outbox_moved_total", Help: "Posts redirected to a chat's new id.", Counter: true},
	{Name: "datosbot_outbox_failed_total", Help: "Posts given up: permanent errors or too many attempts.", Counter: true},
	{Name: "datosbot_outbox_released_total", Help: "Claimed posts returned by a stopping replica.", Counter: true},
	{Name: "datosbot_outbox_recovered_total", Help: "Claims whose lease expired (a replica died or stalled).", Counter: true},
	{Name: "datosbot_outbox_found_total", Help: "Posts that may have gone through, found on the platform and not posted again.", Counter: true},
	{Name: "datosbot_outbox_uncertain_total", Help: "Posts that may have gone out twice (crash between the platform's answer and the record).", Counter: true},
	{Name: "datosbot_outbox_repeated_total", Help: "Posts recorded twice: certain repeats.", Counter: true},
}

// outboxCollector reads the outbox's figures at each scrape.
func outboxCollector(o *reminders.Outbox) *httpapi.Figures {
	return httpapi.NewFigures(outboxFigures, 0, func(ctx context.Context) (map[string]float64, error) {
		st, err := o.Stats(ctx)
		if err != nil {
			return nil, err
		}
		return map[string]float64{
			"datosbot_outbox_queued":             float64(st.Queued),
			"datosbot_outbox_in_flight":          float64(st.InFlight),
			"datosbot_outbox_enqueued_total":     float64(st.Enqueued),
			"datosbot_outbox_duplicates_total":   float64(st.Duplicates),
			"datosbot_outbox_sent_total":         float64(st.Sent),
			"datosbot_outbox_retried_total":      float64(st.Retried),
			"datosbot_outbox_rate_limited_total": float64(st.RateLimited),
			"datosbot_outbox_moved_total":        float64(st.Moved),
			"datosbot_outbox_failed_total":       float64(st.Failed),
			"datosbot_outbox_released_total":     float64(st.Released),
			"datosbot_outbox_recovered_total":    float64(st.Recovered),
			"datosbot_outbox_found_total":        float64(st.Found),
			"datosbot_outbox_uncertain_total":    float64(st.Uncertain),
			"datosbot_outbox_repeated_total":     float64(st.Repeated),
		}, nil
	})
}
