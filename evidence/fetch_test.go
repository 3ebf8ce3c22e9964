package evidence

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// countingServer is a page that counts the requests that reach it.
type countingServer struct {
	*httptest.Server
	hits atomic.Int64
}

func newCountingServer(t *testing.T, h http.HandlerFunc) *countingServer {
	t.Helper()
	cs := &countingServer{}
	cs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cs.hits.Add(1)
		h(w, r)
	}))
	t.Cleanup(cs.Close)
	return cs
}

func port(t *testing.T, s *httptest.Server) string {
	t.Helper()
	_, p, err := net.SplitHostPort(s.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestGuardRanges(t *testing.T) {
	g := &Guard{}
	for _, tc := range []struct {
		addr    string
		allowed bool
		reason  string // a part of the reason when refused
	}{
		{"93.184.215.14:443", true, ""},
		{"200.57.0.1:80", true, ""},
		{"[2606:4700::1111]:443", true, ""},
		{"93.184.215.14:8080", false, "puerto 8080; solo"},
		{"93.184.215.14:22", false, "puerto 22"},
		{"127.0.0.1:80", false, "loopback"},
		{"127.8.9.10:443", false, "loopback"},
		{"10.0.0.1:80", false, "privada"},
		{"172.20.1.1:443", false, "privada"},
		{"192.168.1.1:80", false, "privada"},
		{"169.254.169.254:80", false, "metadatos"},
		{"100.64.0.1:80", false, "CGNAT"},
		{"0.0.0.0:80", false, "esta red"},
		{"224.0.0.1:80", false, "multicast"},
		{"255.255.255.255:80", false, "reservada"},
		{"198.18.0.1:80", false, "rendimiento"},
		{"192.0.2.10:80", false, "documentación"},
		{"168.63.129.16:80", false, "Azure"},
		{"[::1]:80", false, "loopback"},
		{"[::]:80", false, "no especificada"},
		{"[::ffff:127.0.0.1]:80", false, "loopback"},
		{"[::ffff:169.254.169.254]:80", false, "metadatos"},
		{"[64:ff9b::a9fe:a9fe]:80", false, "NAT64"},
		{"[2002:7f00:1::]:80", false, "6to4"},
		{"[2001:0:4136:e378::1]:80", false, "Teredo"},
		{"[2001:db8::1]:443", false, "documentación"},
		{"[fc00::1]:443", false, "privada"},
		{"[fd12:3456::1]:443", false, "privada"},
		{"[fe80::1%25eth0]:443", false, "link-local"},
		{"[ff02::1]:443", false, "multicast"},
		{"[4000::1]:443", false, "unicast global"},
	} {
		t.Run(tc.addr, func(t *testing.T) {
			addr := strings.Replace(tc.addr, "%25", "%", 1)
			network := "tcp4"
			if strings.HasPrefix(addr, "[") {
				network = "tcp6"
			}
			err := g.Control(network, addr, nil)
			if tc.allowed {
				if err != nil {
					t.Fatalf("Control(%s) = %v, want allowed", addr, err)
				}
				return
			}
			var be *BlockedError
			if !errors.As(err, &be) {
				t.Fatalf("Control(%s) = %v, want a *BlockedError", addr, err)
			}
			if !strings.Contains(be.Reason, tc.reason) {
				t.Errorf("reason %q, want it to mention %q", be.Reason, tc.reason)
			}
		})
	}
	if err := g.Control("udp4", "93.184.215.14:443", nil); err == nil {
		t.Error("udp was allowed")
	}
}

func TestGuardAllowListOpensRangeOnAnyPort(t *testing.T) {
	allow, err := ParseAllow("127.0.0.1/32, 10.20.0.0/16,::1")
	if err != nil {
		t.Fatal(err)
	}
	g := &Guard{Allow: allow}
	for _, addr := range []string{"127.0.0.1:34567", "10.20.3.4:8443", "[::1]:9000", "[::ffff:127.0.0.1]:80"} {
		if err := g.Control("tcp4", addr, nil); err != nil {
			t.Errorf("Control(%s) = %v, want allowed by the allow-list", addr, err)
		}
	}
	for _, addr := range []string{"127.0.0.2:80", "10.21.0.1:80", "169.254.169.254:80"} {
		if err := g.Control("tcp4", addr, nil); err == nil {
			t.Errorf("Control(%s) allowed, want refused (outside the allow-list)", addr)
		}
	}
}

func TestParseAllow(t *testing.T) {
	for _, bad := range []string{"127.0.0.1/33", "localhost", "10.0.0.0/8,nope", "10.0.0.0-10.0.0.9"} {
		if _, err := ParseAllow(bad); err == nil {
			t.Errorf("ParseAllow(%q) accepted", bad)
		}
	}
	got, err := ParseAllow("")
	if err != nil || len(got) != 0 {
		t.Errorf("ParseAllow(\"\") = %v, %v; want nothing", got, err)
	}
	got, _ = ParseAllow("10.1.2.3/8")
	if want := netip.MustParsePrefix("10.0.0.0/8"); len(got) != 1 || got[0] != want {
		t.Errorf("ParseAllow(10.1.2.3/8) = %v, want %v", got, want)
	}
}

func TestFetcherNeverDialsInternalAddresses(t *testing.T) {
	page := newCountingServer(t, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "<a href='https://www.datos.gob.mx/dataset/x'>datos</a>")
	})
	p := port(t, page.Server)
	// A stand-in for a public page: 127.0.0.2 is the only range allowed,
	// and it redirects to the page on 127.0.0.1, which is not.
	public := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusFound)
	})}
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatalf("listen on 127.0.0.2: %v", err)
	}
	go public.Serve(ln)
	t.Cleanup(func() { public.Close() })
	publicURL := "http://" + ln.Addr().String() + "/nota?to="

	cases := []struct {
		name, url, reason string
		allow             string
	}{
		{"loopback v4", "http://127.0.0.1:" + p + "/nota", "loopback", ""},
		{"private", "http://10.0.0.1/nota", "privada", ""},
		{"cloud metadata", "http://169.254.169.254/latest/meta-data/", "metadatos", ""},
		{"loopback v6", "http://[::1]:" + p + "/nota", "loopback", ""},
		{"name resolving to loopback", "http://localhost:" + p + "/nota", "loopback", ""},
		{"public page redirecting to loopback", publicURL + "http://127.0.0.1:" + p + "/nota", "loopback", "127.0.0.2/32"},
		{"public page redirecting to metadata", publicURL + "http://169.254.169.254/", "metadatos", "127.0.0.2/32"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			allow, err := ParseAllow(tc.allow)
			if err != nil {
				t.Fatal(err)
			}
			f := NewFetcher(FetcherConfig{Allow: allow, Budget: 2 * time.Second})
			_, err = f.Get(context.Background(), tc.url)
			var be *BlockedError
			if !errors.As(err, &be) {
				t.Fatalf("Get(%s) error = %v, want a *BlockedError", tc.url, err)
			}
			if !strings.Contains(be.Reason, tc.reason) {
				t.Errorf("reason %q, want it to mention %q", be.Reason, tc.reason)
			}
			if n := page.hits.Load(); n != 0 {
				t.Fatalf("the internal page was requested %d times, want 0", n)
			}
			if tc.allow != "" {
				return // Resolve does not follow redirects, so it dials only the first hop
			}
			if _, err := f.Resolve(context.Background(), tc.url); !errors.As(err, &be) {
				t.Errorf("Resolve(%s) error = %v, want a *BlockedError", tc.url, err)
			}
		})
	}
	if n := page.hits.Load(); n != 0 {
		t.Errorf("the internal page was requested %d times, want 0", n)
	}
}

func TestFetcherTransportIgnoresProxyVariables(t *testing.T) {
	t.Setenv("HTTP_PROXY", "http://10.9.9.9:3128")
	t.Setenv("HTTPS_PROXY", "http://10.9.9.9:3128")
	f := NewFetcher(FetcherConfig{})
	for name, c := range map[string]*http.Client{"client": f.client, "noRedirect": f.noRedirect} {
		tr, ok := c.Transport.(*http.Transport)
		if !ok {
			t.Fatalf("%s transport is %T", name, c.Transport)
		}
		if tr.Proxy != nil {
			t.Errorf("%s transport has a Proxy function; it must dial directly so the guard sees the real address", name)
		}
	}
}

func TestFetcherDefaults(t *testing.T) {
	f := NewFetcher(FetcherConfig{})
	if got := f.Budget(); got != 10*time.Second {
		t.Errorf("Budget() = %v, want 10s", got)
	}
	if got := f.MaxBytes(); got != 1<<20 {
		t.Errorf("MaxBytes() = %d, want 1 MiB", got)
	}
	if got := f.UserAgent(); !strings.Contains(got, "datosbot") || !strings.Contains(got, "+https://") {
		t.Errorf("UserAgent() = %q, want one that names the bot and where to learn about it", got)
	}
}

func loopbackFetcher(cfg FetcherConfig) *Fetcher {
	cfg.Allow = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	return NewFetcher(cfg)
}

func TestFetcherReadsOnlyTheFirstMiB(t *testing.T) {
	var written atomic.Int64
	page := newCountingServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		chunk := []byte(strings.Repeat("<p>relleno sin enlaces</p>\n", 1024))
		for written.Load() < 50<<20 {
			n, err := w.Write(chunk)
			written.Add(int64(n))
			if err != nil {
				return
			}
		}
	})
	f := loopbackFetcher(FetcherConfig{})
	p, err := f.Get(context.Background(), page.URL+"/grande")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Body) != 1<<20 || !p.Truncated {
		t.Errorf("read %d bytes (truncated %v), want exactly 1 MiB and truncated", len(p.Body), p.Truncated)
	}
	page.Close() // waits for the handler, which stops when the client hangs up
	if n := written.Load(); n >= 50<<20 {
		t.Errorf("the server wrote the whole 50 MiB (%d bytes): the client kept reading", n)
	}
}

func TestFetcherCutsAPageThatNeverFinishes(t *testing.T) {
	page := newCountingServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<html><body><a href='https://datos.gob.mx/dataset/a'>a</a>")
		w.(http.Flusher).Flush()
		<-r.Context().Done() // never finishes on its own
	})
	f := loopbackFetcher(FetcherConfig{Budget: 300 * time.Millisecond})
	p, err := f.Get(context.Background(), page.URL)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Incomplete || !strings.Contains(string(p.Body), "dataset/a") {
		t.Errorf("page incomplete=%v body %q; want it cut with what arrived in time", p.Incomplete, p.Body)
	}

	silent := newCountingServer(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	if _, err := f.Get(context.Background(), silent.URL); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a server that never answers: error %v, want the budget's deadline", err)
	}
}

func TestFetcherRetriesOnceHonouringRetryAfter(t *testing.T) {
	var waits []time.Duration
	sleepRec := func(ctx context.Context, d time.Duration) error { waits = append(waits, d); return nil }
	for _, tc := range []struct {
		name       string
		statuses   []int
		retryAfter string
		wantHits   int64
		wantWaits  []time.Duration
		wantStatus int // 0: success
	}{
		{"503 then ok", []int{503, 200}, "2", 2, []time.Duration{2 * time.Second}, 0},
		{"429 then ok, no header", []int{429, 200}, "", 2, []time.Duration{time.Second}, 0},
		{"408 twice", []int{408, 408}, "1", 2, []time.Duration{time.Second}, 408},
		{"500 with a long Retry-After is left to the queue", []int{500, 200}, "3600", 1, nil, 500},
		{"404 is not retried", []int{404, 200}, "", 1, nil, 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			waits = nil
			var n atomic.Int64
			var ua string
			page := newCountingServer(t, func(w http.ResponseWriter, r *http.Request) {
				ua = r.UserAgent()
				i := n.Add(1) - 1
				if tc.retryAfter != "" {
					w.Header().Set("Retry-After", tc.retryAfter)
				}
				w.WriteHeader(tc.statuses[i])
			})
			f := loopbackFetcher(FetcherConfig{Sleep: sleepRec})
			p, err := f.Get(context.Background(), page.URL)
			if got := page.hits.Load(); got != tc.wantHits {
				t.Errorf("%d requests, want %d", got, tc.wantHits)
			}
			if fmt.Sprint(waits) != fmt.Sprint(tc.wantWaits) {
				t.Errorf("waited %v, want %v", waits, tc.wantWaits)
			}
			var se *StatusError
			switch {
			case tc.wantStatus == 0 && err != nil:
				t.Errorf("error %v, want success", err)
			case tc.wantStatus != 0 && (!errors.As(err, &se) || se.Code != tc.wantStatus || p.Status != tc.wantStatus):
				t.Errorf("error %v, want HTTP %d", err, tc.wantStatus)
			}
			if tc.retryAfter == "3600" && (se == nil || se.RetryAfter != time.Hour) {
				t.Errorf("RetryAfter = %v, want 1h for the queue's backoff", se)
			}
			if ua != DefaultUserAgent {
				t.Errorf("User-Agent %q, want %q", ua, DefaultUserAgent)
			}
		})
	}
}

func TestFetcherFollowsAtMostFiveRedirects(t *testing.T) {
	var page *countingServer
	page = newCountingServer(t, func(w http.ResponseWriter, r *http.Request) {
		var left int
		fmt.Sscan(strings.TrimPrefix(r.URL.Path, "/"), &left)
		if left > 0 {
			http.Redirect(w, r, fmt.Sprintf("/%d", left-1), http.StatusMovedPermanently)
			return
		}
		fmt.Fprint(w, "fin")
	})
	f := loopbackFetcher(FetcherConfig{})
	p, err := f.Get(context.Background(), page.URL+"/5")
	if err != nil || string(p.Body) != "fin" || !strings.HasSuffix(p.URL, "/0") {
		t.Fatalf("5 redirects: page %+v, error %v; want the final page", p, err)
	}
	_, err = f.Get(context.Background(), page.URL+"/6")
	var re *RedirectError
	if !errors.As(err, &re) {
		t.Fatalf("6 redirects: error %v, want a *RedirectError", err)
	}
}

func TestResolveReadsLocationWithoutFollowing(t *testing.T) {
	target := newCountingServer(t, func(w http.ResponseWriter, r *http.Request) {})
	short := newCountingServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", target.URL+"/destino")
		w.WriteHeader(http.StatusMovedPermanently)
		fmt.Fprint(w, strings.Repeat("x", 1<<16))
	})
	f := loopbackFetcher(FetcherConfig{})
	loc, err := f.Resolve(context.Background(), short.URL+"/abc")
	if err != nil || loc != target.URL+"/destino" {
		t.Fatalf("Resolve = %q, %v; want %s/destino", loc, err, target.URL)
	}
	if short.hits.Load() != 1 || target.hits.Load() != 0 {
		t.Errorf("short link requested %d times, target %d; want 1 and 0", short.hits.Load(), target.hits.Load())
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"", 0}, {"5", 5 * time.Second}, {"-1", 0}, {"mañana", 0},
		{"Thu, 03 Dec 2026 10:00:30 GMT", 30 * time.Second},
		{"Thu, 03 Dec 2026 09:00:00 GMT", 0},
	} {
		if got := retryAfter(tc.in, now); got != tc.want {
			t.Errorf("retryAfter(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
