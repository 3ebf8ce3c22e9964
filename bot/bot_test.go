package bot_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/bot"
)

// fakeAdapter records posts and can fail them.
type fakeAdapter struct {
	platform datosbot.Platform
	mu       sync.Mutex
	posts    []datosbot.Message
	fail     []error // returned by the next posts, in order
}

func (f *fakeAdapter) Platform() datosbot.Platform { return f.platform }

func (f *fakeAdapter) Run(ctx context.Context, h bot.Handler) error {
	<-ctx.Done()
	return nil
}

func (f *fakeAdapter) Post(ctx context.Context, m datosbot.Message) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.fail) > 0 {
		err := f.fail[0]
		f.fail = f.fail[1:]
		return err
	}
	f.posts = append(f.posts, m)
	return nil
}

func TestDeliverRoutesByPlatform(t *testing.T) {
	sl := &fakeAdapter{platform: datosbot.Slack}
	wait := &datosbot.RateLimitError{RetryAfter: 2 * time.Second}
	tg := &fakeAdapter{platform: datosbot.Telegram, fail: []error{wait}}
	b := bot.NewRouter(sl, tg)
	ctx := context.Background()
	if err := b.Deliver(ctx, datosbot.Message{Key: "1", Channel: "slack:C1"}); err != nil {
		t.Fatal(err)
	}
	var rl *datosbot.RateLimitError
	if err := b.Deliver(ctx, datosbot.Message{Key: "2", Channel: "telegram:-100"}); !errors.As(err, &rl) || rl.RetryAfter != 2*time.Second {
		t.Errorf("adapter rate limit: err = %v, want it passed through", err)
	}
	if err := b.Deliver(ctx, datosbot.Message{Key: "2", Channel: "telegram:-100"}); err != nil {
		t.Fatal(err)
	}
	if len(sl.posts) != 1 || sl.posts[0].Key != "1" || len(tg.posts) != 1 || tg.posts[0].Key != "2" {
		t.Errorf("slack got %v, telegram got %v; want one each", sl.posts, tg.posts)
	}
	var perm *datosbot.PermanentError
	if err := b.Deliver(ctx, datosbot.Message{Key: "3", Channel: "console:x"}); !errors.As(err, &perm) {
		t.Errorf("post to a platform that is not running: err = %v, want a PermanentError", err)
	}
}
