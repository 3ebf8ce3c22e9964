package bot

import (
	"context"
	"errors"
	"time"

	"github.com/datosbot/datosbot"
)

// PostFinder is an Adapter that can tell whether its platform already has
// one of the bot's posts (the Slack adapter, by the outbox key each post
// carries in its message metadata). The outbox asks before posting again a
// message whose earlier post may have been accepted.
type PostFinder interface {
	FindPosted(ctx context.Context, m datosbot.Message, since time.Time) (bool, error)
}

// FindPosted asks the adapter of m's platform whether m was posted into
// its channel since since. It returns an error wrapping
// errors.ErrUnsupported when that adapter cannot tell (Telegram offers no
// such lookup).
func (r *Router) FindPosted(ctx context.Context, m datosbot.Message, since time.Time) (bool, error) {
	f, ok := r.adapters[m.Channel.Platform()].(PostFinder)
	if !ok {
		return false, errLookupUnsupported
	}
	return f.FindPosted(ctx, m, since)
}

var errLookupUnsupported = errors.Join(errors.ErrUnsupported, errors.New("bot: this platform offers no lookup of posted messages"))
