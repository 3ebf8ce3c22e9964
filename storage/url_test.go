package storage

import (
	"context"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
)

// summary describes parsed options in one line, whichever client they are for.
func (o redisOptions) summary() string {
	switch {
	case o.cluster != nil:
		c := o.cluster
		return fmt.Sprintf("cluster addrs=%v tls=%t user=%s pass=%s", c.Addrs, c.TLSConfig != nil, c.Username, c.Password)
	case o.failover != nil:
		f := o.failover
		return fmt.Sprintf("sentinel master=%s addrs=%v db=%d tls=%t user=%s pass=%s sentinel_user=%s sentinel_pass=%s",
			f.MasterName, f.SentinelAddrs, f.DB, f.TLSConfig != nil, f.Username, f.Password, f.SentinelUsername, f.SentinelPassword)
	}
	s := o.single
	return fmt.Sprintf("single %s addr=%s db=%d tls=%t user=%s pass=%s", s.Network, s.Addr, s.DB, s.TLSConfig != nil, s.Username, s.Password)
}

// TestParseURL checks every form of the package doc, as go-redis' parsers
// read them, and the refusals.
func TestParseURL(t *testing.T) {
	tests := []struct {
		name    string
		url     string
		want    string // summary; empty when an error is wanted
		wantErr string // a piece of the error
	}{
		{name: "single", url: "redis://127.0.0.1:6399/2", want: "single tcp addr=127.0.0.1:6399 db=2 tls=false user= pass="},
		{name: "default port", url: "redis://redis", want: "single tcp addr=redis:6379 db=0 tls=false user= pass="},
		{name: "password and TLS", url: "rediss://bot:s%40cret@cache.example:6380/0", want: "single tcp addr=cache.example:6380 db=0 tls=true user=bot pass=s@cret"},
		{name: "password only", url: "redis://:pw@h:6379", want: "single tcp addr=h:6379 db=0 tls=false user= pass=pw"},
		{name: "cluster seeds", url: "redis://a:7000,b:7001,c", want: "cluster addrs=[a:7000 b:7001 c:6379] tls=false user= pass="},
		{name: "cluster seeds with db 0 and a password", url: "redis://u:p@a:7000,b:7001/0", want: "cluster addrs=[a:7000 b:7001] tls=false user=u pass=p"},
		{name: "cluster endpoint", url: "redis://cfg:7000?cluster=true", want: "cluster addrs=[cfg:7000] tls=false user= pass="},
		{name: "cluster=false is a single node", url: "redis://cfg:7000?cluster=false", want: "single tcp addr=cfg:7000 db=0 tls=false user= pass="},
		{name: "sentinel", url: "redis://:pw@s1:26379,s2:26379/1?master_name=mymaster&sentinel_password=spw",
			want: "sentinel master=mymaster addrs=[s1:26379 s2:26379] db=1 tls=false user= pass=pw sentinel_user= sentinel_pass=spw"},
		{name: "sentinel with users on both sides", url: "rediss://app:apw@s1:26379?master_name=m&sentinel_username=sen&sentinel_password=spw",
			want: "sentinel master=m addrs=[s1:26379] db=0 tls=true user=app pass=apw sentinel_user=sen sentinel_pass=spw"},
		{name: "IPv6", url: "redis://[::1]:6379", want: "single tcp addr=[::1]:6379 db=0 tls=false user= pass="},
		{name: "unix socket", url: "unix:///run/redis/redis.sock?db=3", want: "single unix addr=/run/redis/redis.sock db=3 tls=false user= pass="},
		{name: "unix socket with password", url: "unix://:pw@/run/redis.sock", want: "single unix addr=/run/redis.sock db=0 tls=false user= pass=pw"},
		{name: "bad scheme", url: "http://localhost:6379", wantErr: "esquema"},
		{name: "no scheme", url: "localhost:6379", wantErr: "esquema"},
		{name: "unix without a path", url: "unix://", wantErr: "unix"},
		{name: "unknown option", url: "redis://localhost?master=x", wantErr: "master"},
		{name: "bad db", url: "redis://localhost/x", wantErr: "database"},
		{name: "cluster with db", url: "redis://a,b/3", wantErr: "Cluster"},
		{name: "empty host", url: "redis://a,,b", wantErr: "falta un servidor"},
		{name: "bad port", url: "redis://a:99999", wantErr: "puerto"},
		{name: "bad timeout", url: "redis://a?dial_timeout=soon", wantErr: "dial_timeout"},
		{name: "bad cluster flag", url: "redis://a?cluster=quizá", wantErr: "cluster"},
		{name: "sentinel option without master_name", url: "redis://a?sentinel_password=x", wantErr: "master_name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseURL(tt.url)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("parseURL(%q) = %s, want an error", tt.url, o.summary())
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("parseURL(%q) error = %q, want it to mention %q", tt.url, err, tt.wantErr)
				}
				if CheckURL(tt.url) == nil {
					t.Errorf("CheckURL(%q) = nil, want the same refusal", tt.url)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseURL(%q): %v", tt.url, err)
			}
			if got := o.summary(); got != tt.want {
				t.Errorf("parseURL(%q)\ngot  %s\nwant %s", tt.url, got, tt.want)
			}
		})
	}
	o, err := parseURL("redis://h?dial_timeout=2s&read_timeout=500ms&pool_size=7&client_name=bot&max_retries=4&write_timeout=3")
	if err != nil {
		t.Fatal(err)
	}
	if s := o.single; s.DialTimeout != 2*time.Second || s.ReadTimeout != 500*time.Millisecond || s.WriteTimeout != 3*time.Second ||
		s.PoolSize != 7 || s.ClientName != "bot" || s.MaxRetries != 4 {
		t.Errorf("options: got %+v", s)
	}
}

// TestParseURLNeverEchoesThePassword checks that no refusal repeats the
// password, since the message reaches the operator's terminal and logs.
func TestParseURLNeverEchoesThePassword(t *testing.T) {
	for _, raw := range []string{
		"redis://user:hunter2secret@a:99999",
		"redis://user:hunter2secret@a?bogus=1",
		"redis://user:hunter2secret@a,b/4",
		"redis://user:hunter2secret@a?master_name=m&dial_timeout=x",
		"redis://user:hunter2secret@host name",
		"redis://user:hunter2secret@a/%zz",
	} {
		err := CheckURL(raw)
		if err == nil {
			t.Errorf("CheckURL(%q) = nil, want an error", raw)
			continue
		}
		if strings.Contains(err.Error(), "hunter2secret") {
			t.Errorf("CheckURL error %q repeats the password", err)
		}
	}
}

// TestOpenUnixSocket opens the store through a unix:// URL: a socket that
// forwards to an in-process Redis, so the test needs no redis-server.
func TestOpenUnixSocket(t *testing.T) {
	mr := miniredis.RunT(t)
	sock := filepath.Join(t.TempDir(), "redis.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Skipf("unix sockets unavailable here: %v", err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				up, err := net.Dial("tcp", mr.Addr())
				if err != nil {
					return
				}
				defer up.Close()
				go io.Copy(up, c)
				io.Copy(c, up)
			}()
		}
	}()
	ctx := context.Background()
	s, err := Open(ctx, Config{URL: "unix://" + sock + "?db=0", Prefix: "unix-test:"})
	if err != nil {
		t.Fatalf("Open(unix://…): %v", err)
	}
	defer s.Close(ctx)
	first, err := s.Once(ctx, "k", time.Minute)
	if err != nil || !first {
		t.Fatalf("Once through the socket = %v, %v; want true, nil", first, err)
	}
	if !mr.Exists(s.onceKey("k")) {
		t.Errorf("the key %s was not written through the socket; keys: %v", s.onceKey("k"), mr.Keys())
	}
	if again, err := s.Once(ctx, "k", time.Minute); err != nil || again {
		t.Errorf("second Once = %v, %v; want false, nil", again, err)
	}
}
