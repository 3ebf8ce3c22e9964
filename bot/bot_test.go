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

type metrics struct {
	mu   sync.Mutex
	seen []string
}

func (m *metrics) ObserveCommand(name, result string, d time.Duration) {
	m.mu.Lock()
	m.seen = append(m.seen, name+"="+result)
	m.mu.Unlock()
}

func TestDeliverRoutesByPlatform(t *testing.T) {
	sl := &fakeAdapter{platform: datosbot.Slack}
	wait := &datosbot.RateLimitError{RetryAfter: 2 * time.Second}
	tg := &fakeAdapter{platform: datosbot.Telegram, fail: []error{wait}}
	b := bot.New(bot.Config{Handler: bot.HandlerFunc(nil), Adapters: []bot.Adapter{sl, tg}})
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

func TestHandleRecoversAndMeasures(t *testing.T) {
	m := &metrics{}
	h := bot.HandlerFunc(func(ctx context.Context, req datosbot.Request) datosbot.Reply {
		switch req.Text {
		case "boom":
			panic("boom")
		case "no":
			return datosbot.Reply{Text: "no", Error: datosbot.EFORBIDDEN}
		}
		return datosbot.Reply{Text: "sí"}
	})
	b := bot.New(bot.Config{Handler: h, Metrics: m, CommandName: func(s string) string { return s }})
	if r := b.Handle(context.Background(), datosbot.Request{Text: "boom"}); r.Error != datosbot.EINTERNAL || r.Text == "" {
		t.Errorf("panicking handler reply = %+v, want an internal error with a message", r)
	}
	b.Handle(context.Background(), datosbot.Request{Text: "no"})
	b.Handle(context.Background(), datosbot.Request{Text: "ok"})
	want := []string{"boom=internal", "no=forbidden", "ok=ok"}
	if len(m.seen) != 3 || m.seen[0] != want[0] || m.seen[1] != want[1] || m.seen[2] != want[2] {
		t.Errorf("metrics = %v, want %v", m.seen, want)
	}
}
