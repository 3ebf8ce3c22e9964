package storage

import (
	"fmt"
	"testing"
	"time"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		name string
		url  string
		want string // summary of the options; empty when an error is wanted
	}{
		{"single", "redis://127.0.0.1:6399/2", "addrs=[127.0.0.1:6399] db=2 master= cluster=false tls=false user= pass="},
		{"default port", "redis://redis", "addrs=[redis:6379] db=0 master= cluster=false tls=false user= pass="},
		{"password and TLS", "rediss://bot:s%40cret@cache.example:6380/0", "addrs=[cache.example:6380] db=0 master= cluster=false tls=true user=bot pass=s@cret"},
		{"cluster seeds", "redis://a:7000,b:7001,c", "addrs=[a:7000 b:7001 c:6379] db=0 master= cluster=false tls=false user= pass="},
		{"cluster endpoint", "redis://cfg:7000?cluster=true", "addrs=[cfg:7000] db=0 master= cluster=true tls=false user= pass="},
		{"sentinel", "redis://:pw@s1:26379,s2:26379/1?master_name=mymaster&sentinel_password=spw", "addrs=[s1:26379 s2:26379] db=1 master=mymaster cluster=false tls=false user= pass=pw"},
		{"IPv6", "redis://[::1]:6379", "addrs=[[::1]:6379] db=0 master= cluster=false tls=false user= pass="},
		{"bad scheme", "http://localhost:6379", ""},
		{"no scheme", "localhost:6379", ""},
		{"unknown option", "redis://localhost?master=x", ""},
		{"bad db", "redis://localhost/x", ""},
		{"cluster with db", "redis://a,b/3", ""},
		{"empty host", "redis://a,,b", ""},
		{"bad port", "redis://a:99999", ""},
		{"bad timeout", "redis://a?dial_timeout=soon", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseURL(tt.url)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("parseURL(%q) = %+v, want an error", tt.url, o)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseURL(%q): %v", tt.url, err)
			}
			got := fmt.Sprintf("addrs=%v db=%d master=%s cluster=%t tls=%t user=%s pass=%s",
				o.Addrs, o.DB, o.MasterName, o.IsClusterMode, o.TLSConfig != nil, o.Username, o.Password)
			if got != tt.want {
				t.Errorf("parseURL(%q)\ngot  %s\nwant %s", tt.url, got, tt.want)
			}
		})
	}
	o, err := parseURL("redis://h?dial_timeout=2s&read_timeout=500ms&pool_size=7&sentinel_username=su&client_name=bot")
	if err != nil || o.DialTimeout != 2*time.Second || o.ReadTimeout != 500*time.Millisecond || o.PoolSize != 7 || o.SentinelUsername != "su" || o.ClientName != "bot" {
		t.Errorf("options: got %+v, %v", o, err)
	}
}
