package telegram

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"
	"time"
)

// redactor removes the bot token from text. The token sits in every Bot
// API URL (/bot<token>/method), so any error that mentions a URL carries it.
type redactor struct {
	r *strings.Replacer
}

func newRedactor(token string) *redactor {
	var pairs []string
	add := func(s string) {
		if len(s) >= 8 { // never replace short fragments such as a bare id
			pairs = append(pairs, s, "<token>")
		}
	}
	add(token)
	add(url.PathEscape(token))
	add(url.QueryEscape(token))
	if _, secret, ok := strings.Cut(token, ":"); ok {
		add(secret) // the secret half alone, however the URL was re-encoded
	}
	return &redactor{r: strings.NewReplacer(pairs...)}
}

// String returns s without the token.
func (r *redactor) String(s string) string { return r.r.Replace(s) }

// Error returns err with the token removed from its message. The chain is
// kept for errors.Is and errors.As.
func (r *redactor) Error(err error) error {
	if err == nil {
		return nil
	}
	var re *redactedError
	if errors.As(err, &re) && re.msg == err.Error() {
		return err
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		ue.URL = r.String(ue.URL)
	}
	return &redactedError{msg: r.String(err.Error()), err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// memoryDeduper is the default Deduper: it remembers the last keys in
// process memory, which protects a single replica only.
type memoryDeduper struct {
	mu    sync.Mutex
	max   int
	seen  map[string]struct{}
	order []string
}

func newMemoryDeduper(max int) *memoryDeduper {
	return &memoryDeduper{max: max, seen: make(map[string]struct{})}
}

func (d *memoryDeduper) Once(_ context.Context, key string, _ time.Duration) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.seen[key]; ok {
		return false, nil
	}
	d.seen[key] = struct{}{}
	d.order = append(d.order, key)
	if len(d.order) > d.max {
		delete(d.seen, d.order[0])
		d.order = d.order[1:]
	}
	return true, nil
}

func (d *memoryDeduper) Forget(_ context.Context, key string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.seen, key)
	return nil
}
