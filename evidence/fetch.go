package evidence

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Defaults of FetcherConfig (DESIGN 2.5).
const (
	DefaultBudget       = 10 * time.Second
	DefaultMaxBytes     = 1 << 20
	DefaultMaxRedirects = 5
	DefaultUserAgent    = "datosbot/1 (verificador de evidencias de datos abiertos; +https://github.com/datosbot/datosbot)"
	// DefaultMaxRetryWait is the longest Retry-After the fetcher waits for
	// before its one retry; a longer one is left to the queue's backoff.
	DefaultMaxRetryWait = 10 * time.Second
)

// FetcherConfig configures a Fetcher. The zero value of each field means
// the documented default.
type FetcherConfig struct {
	// Allow are the ranges dialed besides public addresses, on any port
	// (DATOSBOT_FETCH_ALLOW). Default none.
	Allow []netip.Prefix
	// Budget is the time one request may take, redirects and body
	// included. Default 10 s.
	Budget time.Duration
	// MaxBytes is how much of a body is read. Default 1 MiB.
	MaxBytes int64
	// UserAgent is sent with every request. Default DefaultUserAgent.
	UserAgent string
	// MaxRetryWait caps the Retry-After waited for before the one retry.
	// Default 10 s.
	MaxRetryWait time.Duration
	// Pace, when set, is asked before every request (redirects included)
	// for a turn on the request's host; see Pacer.
	Pace Pacer
	// Sleep waits d or until ctx is done; default a timer. Tests make the
	// retry wait instant.
	Sleep func(ctx context.Context, d time.Duration) error

	// Tests only: dial these "host:port" at another address (still through
	// the guard) with this TLS configuration, so that a fake t.co can
	// answer on loopback.
	rewrite   map[string]string
	tlsConfig *tls.Config
}

// Pacer spaces requests to one host (at most one per second across
// replicas). Turn returns how long to wait before the request may go; ok
// false means the host is booked further ahead than is worth waiting for,
// and the check should be tried again at now+wait.
type Pacer interface {
	Turn(ctx context.Context, host string) (wait time.Duration, ok bool, err error)
}

// Fetcher gets publication pages without letting a user-supplied URL reach
// the bot's own network (see Guard): no proxy from the environment, every
// connection checked where it is dialed, every redirect counted.
type Fetcher struct {
	client       *http.Client
	noRedirect   *http.Client
	budget       time.Duration
	maxBytes     int64
	ua           string
	maxRetryWait time.Duration
	sleep        func(ctx context.Context, d time.Duration) error
}

// NewFetcher returns a Fetcher.
func NewFetcher(cfg FetcherConfig) *Fetcher {
	f := &Fetcher{budget: cfg.Budget, maxBytes: cfg.MaxBytes, ua: cfg.UserAgent, maxRetryWait: cfg.MaxRetryWait, sleep: cfg.Sleep}
	if f.budget <= 0 {
		f.budget = DefaultBudget
	}
	if f.maxBytes <= 0 {
		f.maxBytes = DefaultMaxBytes
	}
	if f.ua == "" {
		f.ua = DefaultUserAgent
	}
	if f.maxRetryWait <= 0 {
		f.maxRetryWait = DefaultMaxRetryWait
	}
	if f.sleep == nil {
		f.sleep = sleep
	}
	guard := &Guard{Allow: cfg.Allow}
	dialer := &net.Dialer{Timeout: f.budget, Control: guard.Control}
	transport := &http.Transport{
		// Proxy stays nil on purpose: through a proxy the guard would only
		// see the proxy's address, and HTTP(S)_PROXY from the environment
		// must not redirect the checks.
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if to, ok := cfg.rewrite[addr]; ok {
				addr = to
			}
			return dialer.DialContext(ctx, network, addr)
		},
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           20,
		IdleConnTimeout:        30 * time.Second,
		TLSHandshakeTimeout:    f.budget,
		ResponseHeaderTimeout:  f.budget,
		MaxResponseHeaderBytes: 64 << 10,
	}
	if cfg.tlsConfig != nil {
		transport.TLSClientConfig = cfg.tlsConfig
	}
	var rt http.RoundTripper = transport
	if cfg.Pace != nil {
		rt = &pacedTransport{next: transport, pace: cfg.Pace}
	}
	f.client = &http.Client{Transport: rt, CheckRedirect: checkRedirect}
	f.noRedirect = &http.Client{Transport: rt, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	return f
}

// Budget is the time one request may take.
func (f *Fetcher) Budget() time.Duration { return f.budget }

// MaxBytes is how much of a body is read.
func (f *Fetcher) MaxBytes() int64 { return f.maxBytes }

// UserAgent is the User-Agent sent.
func (f *Fetcher) UserAgent() string { return f.ua }

// checkRedirect follows at most DefaultMaxRedirects redirects, only to
// http(s). The address of each hop is checked by the Guard when it is
// dialed.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > DefaultMaxRedirects {
		return &RedirectError{Reason: fmt.Sprintf("más de %d redirecciones", DefaultMaxRedirects)}
	}
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return &RedirectError{Reason: "redirige a una dirección que no es http(s)"}
	}
	return nil
}

// RedirectError is returned when a redirect is not followed.
type RedirectError struct{ Reason string }

func (e *RedirectError) Error() string { return e.Reason }

// StatusError is an HTTP answer of 400 or more.
type StatusError struct {
	Code int
	// RetryAfter is the server's Retry-After, zero when absent.
	RetryAfter time.Duration
}

func (e *StatusError) Error() string { return fmt.Sprintf("HTTP %d", e.Code) }

// BusyError means the pacer booked the host too far ahead: try again
// after Wait.
type BusyError struct {
	Host string
	Wait time.Duration
}

func (e *BusyError) Error() string {
	return fmt.Sprintf("%s ocupado, reintentar en %s", e.Host, e.Wait)
}

// Page is what a GET returned.
type Page struct {
	URL         string // after redirects
	Status      int
	ContentType string
	Body        []byte // at most MaxBytes
	// Truncated means the body went on beyond MaxBytes.
	Truncated bool
	// Incomplete means the budget ran out while the body was read: Body
	// holds what arrived in time.
	Incomplete bool
}

// Get fetches rawURL, following redirects, and retries once on 408, 429 or
// 5xx after the server's Retry-After (when it is not longer than
// MaxRetryWait). A status of 400 or more returns the page and a
// *StatusError; a refused address a *BlockedError inside the error chain.
func (f *Fetcher) Get(ctx context.Context, rawURL string) (*Page, error) {
	p, err := f.get(ctx, rawURL)
	var se *StatusError
	if !errors.As(err, &se) || !retryable(se.Code) {
		return p, err
	}
	wait := se.RetryAfter
	if wait == 0 {
		wait = time.Second
	}
	if wait > f.maxRetryWait {
		return p, err
	}
	if serr := f.sleep(ctx, wait); serr != nil {
		return p, err
	}
	return f.get(ctx, rawURL)
}

func retryable(code int) bool {
	return code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500
}

func (f *Fetcher) get(ctx context.Context, rawURL string) (*Page, error) {
	ctx, cancel := context.WithTimeout(ctx, f.budget)
	defer cancel()
	req, err := f.newRequest(ctx, rawURL)
	if err != nil {
		return nil, err
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	p := &Page{URL: resp.Request.URL.String(), Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type")}
	body, err := io.ReadAll(io.LimitReader(resp.Body, f.maxBytes+1))
	if int64(len(body)) > f.maxBytes {
		body, p.Truncated = body[:f.maxBytes], true
	}
	p.Body = body
	if err != nil {
		if ctx.Err() == nil {
			return p, err
		}
		p.Incomplete = true
	}
	if resp.StatusCode >= 400 {
		return p, &StatusError{Code: resp.StatusCode, RetryAfter: retryAfter(resp.Header.Get("Retry-After"), time.Now())}
	}
	return p, nil
}

// Resolve makes one request to a short link (t.co and the like) without
// following it or reading its body, and returns where it points (its
// Location), or "" when it does not redirect.
func (f *Fetcher) Resolve(ctx context.Context, rawURL string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, f.budget)
	defer cancel()
	req, err := f.newRequest(ctx, rawURL)
	if err != nil {
		return "", err
	}
	resp, err := f.noRedirect.Do(req)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	if resp.StatusCode < 300 || resp.StatusCode >= 400 {
		if resp.StatusCode >= 400 {
			return "", &StatusError{Code: resp.StatusCode}
		}
		return "", nil
	}
	loc, err := resp.Location()
	if err != nil {
		return "", nil
	}
	return loc.String(), nil
}

func (f *Fetcher) newRequest(ctx context.Context, rawURL string) (*http.Request, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%q no es una URL http(s)", rawURL)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", f.ua)
	req.Header.Set("Accept", "text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.5")
	req.Header.Set("Accept-Language", "es-MX,es;q=0.9")
	return req, nil
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// pacedTransport asks the Pacer for a turn before every request.
type pacedTransport struct {
	next http.RoundTripper
	pace Pacer
}

func (t *pacedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	host := strings.ToLower(req.URL.Hostname())
	wait, ok, err := t.pace.Turn(req.Context(), host)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, &BusyError{Host: host, Wait: wait}
	}
	if wait > 0 {
		if err := sleep(req.Context(), wait); err != nil {
			return nil, err
		}
	}
	return t.next.RoundTrip(req)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func splitComma(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
