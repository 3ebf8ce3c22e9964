package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/datosbot/datosbot/bot"
)

const (
	minPollBackoff   = 100 * time.Millisecond
	maxPollBackoff   = 5 * time.Second
	maxUpdateRetries = 3 // an update that keeps failing is skipped after this many attempts
	failuresNotReady = 3 // consecutive getUpdates failures before Ready reports an error
)

// poll receives updates with getUpdates until ctx is done. With a Lease,
// only the replica holding it polls; the others stand by and take over
// within the lease TTL when the holder stops or dies.
func (a *Adapter) poll(ctx context.Context, h bot.Handler) error {
	defer a.setReady(errors.New("telegram: stopped"))
	if a.cfg.Lease == nil {
		a.setReady(nil)
		a.pollLoop(ctx, context.WithoutCancel(ctx), h)
		return nil
	}
	name := "telegram:poll:" + strconv.FormatInt(a.me.ID, 10)
	interval := a.cfg.LeaseTTL / 3
	for {
		held, err := a.cfg.Lease.AcquireLease(ctx, name, a.cfg.Holder, a.cfg.LeaseTTL)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			err = a.redact.Error(err)
			a.setReady(fmt.Errorf("telegram: polling lease unavailable: %w", err))
			a.log.Warn("telegram: could not acquire the polling lease", "err", err)
		case held:
			a.setReady(nil)
			a.holdAndPoll(ctx, h, name, interval)
		default:
			a.setReady(nil) // standing by: another replica polls
		}
		if !sleep(ctx, interval) {
			return nil
		}
	}
}

// holdAndPoll polls while renewing the lease every interval. It stops at
// once (aborting the poll in flight) when a renewal fails, since another
// replica may take over when the lease expires. When ctx is done it lets
// the poll in flight finish, so that two replicas never poll at the same
// time, and releases the lease for the next replica.
func (a *Adapter) holdAndPoll(ctx context.Context, h bot.Handler, name string, interval time.Duration) {
	alive, lose := context.WithCancel(context.WithoutCancel(ctx))
	defer lose()
	stopRenew := make(chan struct{})
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-stopRenew:
				return
			case <-t.C:
			}
			rctx, cancel := context.WithTimeout(alive, interval)
			held, err := a.cfg.Lease.AcquireLease(rctx, name, a.cfg.Holder, a.cfg.LeaseTTL)
			cancel()
			if err != nil || !held {
				a.log.Warn("telegram: lost the polling lease; polling stops", "err", a.redact.Error(err))
				lose()
				return
			}
		}
	}()
	a.pollLoop(ctx, alive, h)
	close(stopRenew)
	<-renewed
	if alive.Err() != nil {
		return // lost: not ours to release
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := a.cfg.Lease.ReleaseLease(rctx, name, a.cfg.Holder); err != nil {
		a.log.Warn("telegram: could not release the polling lease; another replica takes over when it expires", "err", a.redact.Error(err))
	}
}

// pollLoop calls getUpdates and handles each update in order. stop ends
// the loop between polls; abort also cancels the poll in flight. An update
// is confirmed (by the next poll's offset) only after it was handled.
func (a *Adapter) pollLoop(stop, abort context.Context, h bot.Handler) {
	var offset int64
	var backoff time.Duration
	failures := 0
	attempts := map[int64]int{}
	done := func() bool { return stop.Err() != nil || abort.Err() != nil }
	for !done() {
		if backoff > 0 && !a.pause(stop, abort, backoff) {
			return
		}
		updates, err := a.getUpdates(abort, offset)
		if err != nil {
			if abort.Err() != nil {
				return
			}
			failures++
			if failures >= failuresNotReady {
				a.setReady(fmt.Errorf("telegram: getUpdates keeps failing: %w", err))
			}
			var apiErr *apiError
			switch {
			case errors.As(err, &apiErr) && apiErr.RetryAfter > 0:
				backoff = time.Duration(apiErr.RetryAfter) * time.Second
			case errors.As(err, &apiErr) && apiErr.Code == http.StatusConflict && strings.Contains(strings.ToLower(apiErr.Description), "webhook"):
				a.log.Warn("telegram: a webhook is set while polling; deleting it (set TELEGRAM_WEBHOOK_SECRET to use the webhook instead)")
				if _, derr := a.api.DeleteWebhook(abort, &tgbot.DeleteWebhookParams{}); derr != nil {
					a.log.Warn("telegram: deleteWebhook failed", "err", a.redact.Error(derr))
				}
				backoff = nextBackoff(backoff)
			default:
				backoff = nextBackoff(backoff)
			}
			a.log.Warn("telegram getUpdates failed", "err", err, "retry_in", backoff)
			continue
		}
		if failures > 0 {
			a.setReady(nil)
		}
		failures, backoff = 0, 0
		for _, u := range updates {
			if done() {
				return // neither handled nor confirmed: the next poller gets it
			}
			if err := a.handleUpdate(context.WithoutCancel(stop), h, u); err != nil {
				attempts[u.ID]++
				if attempts[u.ID] < maxUpdateRetries {
					a.log.Warn("telegram: update not handled; it will be retried", "update_id", u.ID, "err", err)
					backoff = nextBackoff(backoff)
					break
				}
				a.log.Error("telegram: update skipped after repeated failures", "update_id", u.ID, "err", err)
			}
			delete(attempts, u.ID)
			offset = u.ID + 1
		}
	}
}

// apiError is an unsuccessful Bot API answer to our own getUpdates call.
type apiError struct {
	Code        int
	Description string
	RetryAfter  int
}

func (e *apiError) Error() string {
	return fmt.Sprintf("telegram getUpdates: %d %s", e.Code, e.Description)
}

// getUpdates calls the Bot API directly: the library's poller can neither
// be stopped between polls nor honours retry_after, and it confirms
// updates before they are handled.
func (a *Adapter) getUpdates(ctx context.Context, offset int64) ([]*models.Update, error) {
	body, err := json.Marshal(struct {
		Offset         int64    `json:"offset,omitempty"`
		Timeout        int      `json:"timeout"`
		AllowedUpdates []string `json:"allowed_updates"`
	}{offset, int(a.cfg.PollTimeout / time.Second), allowedUpdates})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, a.cfg.PollTimeout+15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.cfg.APIURL+"/bot"+a.cfg.Token+"/getUpdates", bytes.NewReader(body))
	if err != nil {
		return nil, a.redact.Error(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.client.Do(req)
	if err != nil {
		return nil, a.redact.Error(err)
	}
	defer resp.Body.Close()
	var r struct {
		OK          bool             `json:"ok"`
		Result      []*models.Update `json:"result"`
		Description string           `json:"description"`
		ErrorCode   int              `json:"error_code"`
		Parameters  struct {
			RetryAfter int `json:"retry_after"`
		} `json:"parameters"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&r); err != nil {
		return nil, fmt.Errorf("telegram getUpdates: HTTP %d, unreadable answer: %w", resp.StatusCode, a.redact.Error(err))
	}
	if !r.OK {
		return nil, &apiError{Code: r.ErrorCode, Description: a.redact.String(r.Description), RetryAfter: r.Parameters.RetryAfter}
	}
	return r.Result, nil
}

func nextBackoff(d time.Duration) time.Duration {
	if d < minPollBackoff {
		return minPollBackoff
	}
	return min(2*d, maxPollBackoff)
}

// sleep waits d or until ctx is done; it reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func sleep2(a, b context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-a.Done():
		return false
	case <-b.Done():
		return false
	case <-t.C:
		return true
	}
}
