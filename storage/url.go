package storage

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// redisOptions is a parsed REDIS_URL: exactly one of the three is set.
type redisOptions struct {
	single   *redis.Options
	cluster  *redis.ClusterOptions
	failover *redis.FailoverOptions
}

// client returns the go-redis client of the parsed form.
func (o redisOptions) client() redis.UniversalClient {
	switch {
	case o.cluster != nil:
		return redis.NewClusterClient(o.cluster)
	case o.failover != nil:
		return redis.NewFailoverClient(o.failover)
	}
	return redis.NewClient(o.single)
}

// CheckURL reports whether raw is a Redis URL of one of the forms in the
// package doc, without connecting, so that a bad REDIS_URL stops the start
// at configuration. The error says what is wrong in Spanish and never
// repeats the URL, which may hold a password.
func CheckURL(raw string) error {
	_, err := parseURL(raw)
	return err
}

// parseURL reads a Redis URL of one of the forms in the package doc with
// go-redis' own parsers (ParseURL, ParseClusterURL, ParseFailoverURL). Our
// part is only what those parsers do not take: a comma-separated host list
// (they take extra hosts as addr= options), cluster=true, and a Sentinel
// URL's user and password being the primary's (go-redis reads them as the
// sentinels').
func parseURL(raw string) (redisOptions, error) {
	raw = strings.TrimSpace(raw)
	scheme, rest, ok := strings.Cut(raw, "://")
	switch {
	case !ok:
		return redisOptions{}, fmt.Errorf("falta el esquema: empiece con redis://, rediss:// o unix://")
	case scheme == "unix":
		o, err := redis.ParseURL(raw)
		if err != nil {
			return redisOptions{}, libraryError(err)
		}
		return redisOptions{single: o}, nil
	case scheme != "redis" && scheme != "rediss":
		return redisOptions{}, fmt.Errorf("el esquema debe ser redis://, rediss:// (TLS) o unix:// (socket local)")
	}

	authority, tail := rest, ""
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority, tail = rest[:i], rest[i:]
	}
	userinfo, hostlist := "", authority
	if i := strings.LastIndex(authority, "@"); i >= 0 {
		userinfo, hostlist = authority[:i], authority[i+1:]
	}
	var hosts []string
	for _, h := range strings.Split(hostlist, ",") {
		addr, err := hostPort(h)
		if err != nil {
			return redisOptions{}, err
		}
		hosts = append(hosts, addr)
	}
	// Parse the URL with the first host only, so url.Parse sees one
	// authority; it also splits the path and the query for us.
	first := hosts[0]
	if userinfo != "" {
		first = userinfo + "@" + first
	}
	u, err := url.Parse(scheme + "://" + first + tail)
	if err != nil {
		return redisOptions{}, fmt.Errorf("no se puede leer como URL (revise que la contraseña lleve %%40 en lugar de @ y %%2F en lugar de /)")
	}
	q := u.Query()
	for _, h := range hosts[1:] {
		q.Add("addr", h)
	}
	clusterMode := false
	if v := q.Get("cluster"); q.Has("cluster") {
		if clusterMode, err = strconv.ParseBool(v); err != nil {
			return redisOptions{}, fmt.Errorf("la opción cluster debe ser true o false")
		}
		q.Del("cluster")
	}

	switch {
	case q.Get("master_name") != "":
		// go-redis reads the URL's user and password as the sentinels'
		// and username=/password= as the primary's; ours are the other
		// way round (package doc), so swap them.
		user, pass := q.Get("sentinel_username"), q.Get("sentinel_password")
		q.Del("sentinel_username")
		q.Del("sentinel_password")
		if u.User != nil {
			if name := u.User.Username(); name != "" {
				q.Set("username", name)
			}
			if p, ok := u.User.Password(); ok {
				q.Set("password", p)
			}
		}
		u.User = nil
		if user != "" || pass != "" {
			u.User = url.UserPassword(user, pass)
		}
		u.RawQuery = q.Encode()
		o, err := redis.ParseFailoverURL(u.String())
		if err != nil {
			return redisOptions{}, libraryError(err)
		}
		return redisOptions{failover: o}, nil

	case clusterMode || len(hosts) > 1:
		if db := strings.Trim(u.Path, "/"); db != "" && db != "0" {
			return redisOptions{}, fmt.Errorf("un Redis Cluster solo tiene la base de datos 0: quite /%s", db)
		}
		u.Path = ""
		u.RawQuery = q.Encode()
		o, err := redis.ParseClusterURL(u.String())
		if err != nil {
			return redisOptions{}, libraryError(err)
		}
		return redisOptions{cluster: o}, nil
	}
	for _, k := range []string{"sentinel_username", "sentinel_password"} {
		if q.Has(k) {
			return redisOptions{}, fmt.Errorf("la opción %s solo vale con master_name (Sentinel)", k)
		}
	}
	u.RawQuery = q.Encode()
	o, err := redis.ParseURL(u.String())
	if err != nil {
		return redisOptions{}, libraryError(err)
	}
	return redisOptions{single: o}, nil
}

// libraryError words a go-redis parser's refusal (an unknown option, a
// duration or number that is not one) for the operator. The parsers never
// repeat the password, only option names and values.
func libraryError(err error) error {
	return fmt.Errorf("go-redis no la acepta: %s", strings.TrimPrefix(err.Error(), "redis: "))
}

// hostPort validates one host of the list and adds the default port.
func hostPort(h string) (string, error) {
	if h == "" {
		return "", fmt.Errorf("falta un servidor en la lista (¿una coma de más?)")
	}
	host, port, err := net.SplitHostPort(h)
	if err != nil {
		host, port = strings.Trim(h, "[]"), "6379"
	}
	if host == "" || strings.ContainsAny(host, " /?#@") {
		return "", fmt.Errorf("el servidor %q no es válido", h)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("el puerto de %q no es válido (1 a 65535)", h)
	}
	return net.JoinHostPort(host, port), nil
}
