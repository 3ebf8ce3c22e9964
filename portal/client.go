// Package portal puts datos.gob.mx, a CKAN 2.11 portal, in the loop: a small
// client of CKAN's Action API, the check of the data URLs liaisons register,
// and the watch that tells liaisons about newly published data (DESIGN 2.4).
//
// The client is our own rather than a Go CKAN library: the ones that exist
// have no context or timeout, do not escape ids, or build doubled paths
// (shared/reference/portal_evidence_dashboard.md §1.8). Its fake lives in
// portal/ckantest and is built from recorded shapes of the portal.
package portal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultURL is the base of datos.gob.mx's Action API.
const DefaultURL = "https://www.datos.gob.mx"

// DefaultUserAgent names the bot to the portal's operators: Akamai in front
// of datos.gob.mx answers 403 to anonymous tool user agents.
const DefaultUserAgent = "datosbot/1 (bot de la Política de Datos Abiertos, paso 4.3; +https://github.com/datosbot/datosbot)"

// MaxBody is the most of a response body the client reads. A package_search
// page of 1000 full datasets stays well below it.
const MaxBody = 32 << 20

// Config configures a Client. The zero value of each field means its
// documented default.
type Config struct {
	// URL is the portal's base URL (without /api/3); default DefaultURL.
	URL string
	// HTTPClient sends the requests; default one with Timeout.
	HTTPClient *http.Client
	// Timeout bounds one request; default 30 s. Callers with a tighter
	// budget (the data check's 2 s) pass a context deadline.
	Timeout time.Duration
	// UserAgent; default DefaultUserAgent.
	UserAgent string
	// RPS is the most requests per second (DATOSBOT_CKAN_RPS); 0 means 1,
	// a negative value means no pacing (benchmarks).
	RPS float64
	// Backoff is the first wait after a 403, 429 or 5xx, doubled (with
	// jitter) on each further one up to MaxBackoff; default 5 s and 10 min.
	Backoff, MaxBackoff time.Duration
	// Retries is how many times Do retries a request that met a backoff,
	// when its context allows the wait; default 3, negative for none.
	Retries int
	// Observe, when set, is told of every request: the action, the result
	// ("ok", the HTTP status, "timeout", "error" or "backoff") and how long
	// it took (for /metrics).
	Observe func(action, result string, d time.Duration)
	// Now is the clock of the backoff; default time.Now.
	Now func() time.Time
}

// Client calls a CKAN Action API. It sends one request at a time, at most
// RPS per second, and backs off after 403, 429 and 5xx answers: the portal
// publishes no rate limit, and proxies in front of CKAN portals answer
// overload with 403 or 429 (reference §1.6). It is safe for concurrent use.
type Client struct {
	base      string
	http      *http.Client
	ua        string
	interval  time.Duration
	backoff   time.Duration
	maxWait   time.Duration
	retries   int
	observe   func(action, result string, d time.Duration)
	now       func() time.Time
	Cache     *Cache
	slot      chan struct{} // one request in flight
	mu        sync.Mutex
	next      time.Time // earliest start of the next request (pacing)
	until     time.Time // no request before this instant (backoff)
	failures  int       // consecutive backoff answers
	requested int64     // requests sent, for benchmarks and tests
	served    time.Time // the Date of the portal's last answer
	servedAt  time.Time // when it came, on the real clock
}

// New returns a Client. It fails only on a base URL that is not absolute
// http(s).
func New(cfg Config) (*Client, error) {
	base := strings.TrimRight(strings.TrimSpace(cfg.URL), "/")
	if base == "" {
		base = DefaultURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%q no es una URL http(s) absoluta", cfg.URL)
	}
	c := &Client{base: base, http: cfg.HTTPClient, ua: cfg.UserAgent, backoff: cfg.Backoff, maxWait: cfg.MaxBackoff,
		retries: cfg.Retries, observe: cfg.Observe, now: cfg.Now, Cache: NewCache(0), slot: make(chan struct{}, 1)}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	if c.http == nil {
		c.http = &http.Client{Timeout: timeout}
	}
	if c.ua == "" {
		c.ua = DefaultUserAgent
	}
	switch rps := cfg.RPS; {
	case rps == 0:
		c.interval = time.Second
	case rps > 0:
		c.interval = time.Duration(float64(time.Second) / rps)
	}
	if c.backoff <= 0 {
		c.backoff = 5 * time.Second
	}
	if c.maxWait <= 0 {
		c.maxWait = 10 * time.Minute
	}
	switch {
	case c.retries == 0:
		c.retries = 3
	case c.retries < 0:
		c.retries = 0
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// URL returns the portal's base URL for logs: without the user and
// password a URL may carry (a token can be either), which never belong in
// a log.
func (c *Client) URL() string {
	u, err := url.Parse(c.base)
	if err != nil {
		return "(invalid URL)"
	}
	u.User = nil
	return u.String()
}

// PortalTime returns the portal's own clock now, as its last answer gave
// it (the HTTP Date header, to the second) plus the real time elapsed
// since; zero before any answer with one.
func (c *Client) PortalTime() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.served.IsZero() {
		return time.Time{}
	}
	return c.served.Add(time.Since(c.servedAt))
}

// Requests returns how many requests the client has sent.
func (c *Client) Requests() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.requested
}

// APIError is a failed call: the portal's HTTP status, CKAN's error type
// (error.__type, e.g. "Not Found Error"), its message and, for a 409
// Validation Error, the field map (e.g. {"name_or_id": ["Missing value"]}).
type APIError struct {
	Action  string
	Status  int
	Type    string
	Message string
	Fields  map[string][]string
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("ckan %s: HTTP %d", e.Action, e.Status)
	if e.Type != "" {
		s += " " + e.Type
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	for _, k := range sortedKeys(e.Fields) {
		s += fmt.Sprintf(" %s=%s", k, strings.Join(e.Fields[k], "; "))
	}
	return s
}

// NotFound reports whether the portal says the object does not exist.
func (e *APIError) NotFound() bool {
	return e.Status == http.StatusNotFound || e.Type == "Not Found Error"
}

// ErrBackoff is returned, wrapped, while the client waits out a 403, 429 or
// 5xx answer and the caller's context does not allow waiting.
var ErrBackoff = errors.New("ckan: backing off after the portal refused or failed")

// IsNotFound reports whether err is the portal saying "not found".
func IsNotFound(err error) bool {
	var e *APIError
	return errors.As(err, &e) && e.NotFound()
}

// Denied reports whether err is CKAN itself refusing access (its 403 with
// an "Authorization Error" envelope: a deleted or private dataset), as
// opposed to a proxy's 403, which is a rate limit.
func Denied(err error) bool {
	var e *APIError
	return errors.As(err, &e) && e.Status == http.StatusForbidden && e.Type == "Authorization Error"
}

// Transient reports whether err may go away by itself: a timeout, a
// network error, a backoff, a proxy's 403, 429 or 5xx. Not found, CKAN's
// own access denied and 4xx validation errors are permanent answers.
func Transient(err error) bool {
	if err == nil {
		return false
	}
	var e *APIError
	if errors.As(err, &e) {
		return backsOff(e)
	}
	return true
}

// backsOff reports whether an answer asks the client to slow down: 429,
// 5xx, or a 403 that is not CKAN's (proxies in front of CKAN portals
// rate-limit with 403, reference §1.6).
func backsOff(e *APIError) bool {
	switch {
	case e.Status == http.StatusTooManyRequests || e.Status >= 500:
		return true
	case e.Status == http.StatusForbidden:
		return e.Type != "Authorization Error"
	}
	return false
}

// envelope is CKAN's answer: {"help", "success", "result", "error"}.
type envelope struct {
	Success bool            `json:"success"`
	Result  json.RawMessage `json:"result"`
	Error   json.RawMessage `json:"error"`
}

// Do calls GET {base}/api/3/action/{action}?{params} and decodes the result
// into out (nil to discard it). A refusal of the portal is an *APIError.
// While a backoff is on, Do waits for it when ctx's deadline allows, up to
// Retries times, and otherwise returns ErrBackoff at once without asking.
func (c *Client) Do(ctx context.Context, action string, params url.Values, out any) error {
	for attempt := 0; ; attempt++ {
		err := c.do(ctx, action, params, out)
		var e *APIError
		retry := errors.Is(err, ErrBackoff) || errors.As(err, &e) && backsOff(e)
		if !retry || attempt >= c.retries {
			return err
		}
		wait := c.waitLeft()
		if dl, ok := ctx.Deadline(); ok && c.now().Add(wait).After(dl) {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.Join(err, ctx.Err())
		case <-t.C:
		}
	}
}

func (c *Client) waitLeft() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return max(c.until.Sub(c.now()), 0)
}

// do sends one request, paced, unless a backoff is on.
func (c *Client) do(ctx context.Context, action string, params url.Values, out any) error {
	if w := c.waitLeft(); w > 0 {
		c.report(action, "backoff", 0)
		return fmt.Errorf("%w (%s more)", ErrBackoff, w.Round(time.Millisecond))
	}
	if err := c.acquire(ctx); err != nil {
		return err
	}
	defer func() { <-c.slot }()
	if w := c.waitLeft(); w > 0 { // a request before ours met a backoff
		c.report(action, "backoff", 0)
		return fmt.Errorf("%w (%s more)", ErrBackoff, w.Round(time.Millisecond))
	}
	u := c.base + "/api/3/action/" + url.PathEscape(action)
	if len(params) > 0 {
		u += "?" + params.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", c.ua)
	req.Header.Set("Accept", "application/json")
	start := c.now()
	c.mu.Lock()
	c.requested++
	c.mu.Unlock()
	resp, err := c.http.Do(req)
	if err != nil {
		result := "error"
		if ctx.Err() != nil || isTimeout(err) {
			result = "timeout"
		}
		c.report(action, result, c.now().Sub(start))
		// net/http hides a password in the URL of its error, not a
		// user name, which may be a token: the error is logged.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			if u, perr := url.Parse(uerr.URL); perr == nil && u.User != nil {
				u.User = nil
				uerr.URL = u.String()
			}
		}
		return fmt.Errorf("ckan %s: %w", action, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody+1))
	if err == nil && len(body) > MaxBody {
		err = fmt.Errorf("the answer passes %d MiB", MaxBody>>20)
	}
	if err != nil {
		c.report(action, "error", c.now().Sub(start))
		return fmt.Errorf("ckan %s: read body: %w", action, err)
	}
	if d, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
		c.mu.Lock()
		c.served, c.servedAt = d, time.Now()
		c.mu.Unlock()
	}
	result := "ok"
	if resp.StatusCode != http.StatusOK {
		result = strconv.Itoa(resp.StatusCode)
	}
	c.report(action, result, c.now().Sub(start))
	err = decode(action, resp.StatusCode, body, out)
	c.settle(resp, err)
	return err
}

// acquire takes the one request slot and waits for the pacing interval.
func (c *Client) acquire(ctx context.Context) error {
	select {
	case c.slot <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("ckan: waiting for a turn: %w", ctx.Err())
	}
	c.mu.Lock()
	now := c.now()
	wait := c.next.Sub(now)
	start := c.next
	if now.After(start) {
		start = now
	}
	c.next = start.Add(c.interval)
	c.mu.Unlock()
	if wait <= 0 {
		return nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		<-c.slot
		return fmt.Errorf("ckan: waiting for a turn: %w", ctx.Err())
	}
}

// settle updates the backoff after an answer: a proxy's 403, 429 and 5xx
// start or lengthen it (honouring Retry-After), anything else ends it.
func (c *Client) settle(resp *http.Response, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var e *APIError
	if !errors.As(err, &e) || !backsOff(e) {
		c.failures = 0
		return
	}
	c.failures++
	wait := c.backoff << min(c.failures-1, 20)
	wait = min(wait, c.maxWait)
	// Full jitter on the upper half, so that replicas do not retry in step.
	wait = wait/2 + rand.N(wait/2+1)
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		wait = max(wait, min(time.Duration(s)*time.Second, c.maxWait))
	}
	c.until = c.now().Add(wait)
}

func (c *Client) report(action, result string, d time.Duration) {
	if c.observe != nil {
		c.observe(action, result, d)
	}
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// decode reads CKAN's envelope. Error bodies are decoded defensively: an
// unknown action answers 400 with a bare JSON string, a proxy answers
// HTML, and a 409 Validation Error is itself the field map.
func decode(action string, status int, body []byte, out any) error {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil || (env.Result == nil && env.Error == nil && !env.Success) {
		e := &APIError{Action: action, Status: status}
		var s string
		if json.Unmarshal(body, &s) == nil {
			e.Message = s
		} else {
			e.Message = snippet(body)
		}
		if status == http.StatusOK {
			e.Message = "not a CKAN answer: " + e.Message
		}
		return e
	}
	if !env.Success || status != http.StatusOK {
		e := &APIError{Action: action, Status: status}
		var fields map[string]json.RawMessage
		if json.Unmarshal(env.Error, &fields) == nil {
			for k, v := range fields {
				switch k {
				case "__type":
					json.Unmarshal(v, &e.Type)
				case "message":
					json.Unmarshal(v, &e.Message)
				default:
					var msgs []string
					if json.Unmarshal(v, &msgs) != nil {
						msgs = []string{snippet(v)}
					}
					if e.Fields == nil {
						e.Fields = map[string][]string{}
					}
					e.Fields[k] = msgs
				}
			}
		}
		return e
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(env.Result, out); err != nil {
		return fmt.Errorf("ckan %s: decode result: %w", action, err)
	}
	return nil
}

func snippet(b []byte) string {
	s := strings.Join(strings.Fields(string(bytes.ToValidUTF8(b, nil))), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// ResetBackoff ends a backoff at once (an operator's retry, tests).
func (c *Client) ResetBackoff() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.until, c.failures = time.Time{}, 0
}
