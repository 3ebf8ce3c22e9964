// Package bot is the runtime that connects chat adapters to the command
// language: adapters turn platform events into datosbot.Request values, the
// Handler answers them, and the bot's own posts are routed to the adapter
// of the channel's platform.
package bot

import (
	"context"
	"net/http"

	"github.com/datosbot/datosbot"
)

// Handler answers one command. commands.Service implements it.
type Handler interface {
	Handle(ctx context.Context, req datosbot.Request) datosbot.Reply
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, req datosbot.Request) datosbot.Reply

// Handle calls f.
func (f HandlerFunc) Handle(ctx context.Context, req datosbot.Request) datosbot.Reply {
	return f(ctx, req)
}

// Adapter connects one chat platform.
type Adapter interface {
	// Platform names the platform of the channels this adapter posts to.
	Platform() datosbot.Platform
	// Run receives commands and answers them with h until ctx is done.
	Run(ctx context.Context, h Handler) error
	// Post sends one message into a channel of this platform. It returns
	// *datosbot.RateLimitError when the platform asks to wait,
	// *datosbot.PermanentError when the post can never succeed and
	// *datosbot.ChannelMovedError when the chat changed its id.
	Post(ctx context.Context, m datosbot.Message) error
}

// HTTPAdapter is an Adapter that receives requests over HTTP (Slack
// commands, Telegram webhook). The runtime mounts its routes on the bot's
// HTTP server.
type HTTPAdapter interface {
	Adapter
	Routes(mux *http.ServeMux)
}

// ReadyAdapter is an Adapter that can tell whether it is connected (Slack
// Socket Mode, Telegram polling); /readyz fails while Ready returns an error.
type ReadyAdapter interface {
	Adapter
	Ready() error
}
