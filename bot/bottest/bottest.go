// Package bottest has the test doubles shared by the tests of the bot's
// runtime and adapters.
package bottest

import (
	"context"
	"sync"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/bot"
)

var _ bot.Handler = (*Recorder)(nil)

// Recorder is a bot.Handler that records the requests it gets and answers
// with Reply, or "ok: <text>" when Reply is nil. It is safe for concurrent
// use.
type Recorder struct {
	Reply func(datosbot.Request) datosbot.Reply

	mu   sync.Mutex
	reqs []datosbot.Request
}

// Handle records req and answers it.
func (r *Recorder) Handle(_ context.Context, req datosbot.Request) datosbot.Reply {
	r.mu.Lock()
	r.reqs = append(r.reqs, req)
	r.mu.Unlock()
	if r.Reply != nil {
		return r.Reply(req)
	}
	return datosbot.Reply{Text: "ok: " + req.Text}
}

// Requests returns the requests handled so far, in order.
func (r *Recorder) Requests() []datosbot.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]datosbot.Request(nil), r.reqs...)
}
