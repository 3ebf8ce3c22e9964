package storage

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// parseURL translates a Redis URL of one of the forms in the package doc
// into go-redis universal options.
func parseURL(raw string) (*redis.UniversalOptions, error) {
	scheme, rest, ok := strings.Cut(strings.TrimSpace(raw), "://")
	if !ok || (scheme != "redis" && scheme != "rediss") {
		return nil, fmt.Errorf("the scheme must be redis:// or rediss://")
	}
	authority, tail := rest, ""
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority, tail = rest[:i], rest[i:]
	}
	userinfo, hostlist := "", authority
	if i := strings.LastIndex(authority, "@"); i >= 0 {
		userinfo, hostlist = authority[:i], authority[i+1:]
	}
	// Parse the URL with the first host only; the others are collected below.
	hosts := strings.Split(hostlist, ",")
	first := hosts[0]
	if userinfo != "" {
		first = userinfo + "@" + first
	}
	u, err := url.Parse(scheme + "://" + first + tail)
	if err != nil {
		return nil, fmt.Errorf("cannot parse it")
	}
	o := &redis.UniversalOptions{}
	for _, h := range hosts {
		addr, err := hostPort(h)
		if err != nil {
			return nil, err
		}
		o.Addrs = append(o.Addrs, addr)
	}
	if u.User != nil {
		o.Username = u.User.Username()
		o.Password, _ = u.User.Password()
	}
	if scheme == "rediss" {
		host, _, _ := net.SplitHostPort(o.Addrs[0])
		o.TLSConfig = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	}
	if p := strings.Trim(u.Path, "/"); p != "" {
		if o.DB, err = strconv.Atoi(p); err != nil || o.DB < 0 {
			return nil, fmt.Errorf("the database number %q is not a number", p)
		}
	}
	for name, values := range u.Query() {
		v := values[len(values)-1]
		var err error
		switch name {
		case "master_name":
			o.MasterName = v
		case "cluster":
			o.IsClusterMode, err = strconv.ParseBool(v)
		case "sentinel_username":
			o.SentinelUsername = v
		case "sentinel_password":
			o.SentinelPassword = v
		case "client_name":
			o.ClientName = v
		case "pool_size":
			o.PoolSize, err = strconv.Atoi(v)
		case "max_retries":
			o.MaxRetries, err = strconv.Atoi(v)
		case "dial_timeout":
			o.DialTimeout, err = time.ParseDuration(v)
		case "read_timeout":
			o.ReadTimeout, err = time.ParseDuration(v)
		case "write_timeout":
			o.WriteTimeout, err = time.ParseDuration(v)
		default:
			return nil, fmt.Errorf("unknown option %q", name)
		}
		if err != nil {
			return nil, fmt.Errorf("option %s=%q is not valid", name, v)
		}
	}
	if o.MasterName == "" && (len(o.Addrs) > 1 || o.IsClusterMode) && o.DB != 0 {
		return nil, fmt.Errorf("a Redis Cluster has only database 0")
	}
	return o, nil
}

// hostPort validates one host of the list and adds the default port.
func hostPort(h string) (string, error) {
	if h == "" {
		return "", fmt.Errorf("a host is missing")
	}
	host, port, err := net.SplitHostPort(h)
	if err != nil {
		host, port = strings.Trim(h, "[]"), "6379"
	}
	if host == "" || strings.ContainsAny(host, " /?#@") {
		return "", fmt.Errorf("the host %q is not valid", h)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("the port of %q is not valid", h)
	}
	return net.JoinHostPort(host, port), nil
}
