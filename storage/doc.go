// Package storage keeps the bot's state in Redis. It is the only package
// that imports go-redis.
//
// There is one implementation. Open with a Config.URL connects to a Redis
// server (single node, Sentinel or Cluster); Open without one starts an
// in-process Redis-compatible server (miniredis) and runs the same code
// against it, saving the whole keyspace to Config.DataFile.
//
// # Redis URL forms
//
// Config.URL (REDIS_URL) takes one of these forms; the scheme is redis://
// for plain TCP, rediss:// for TLS or unix:// for a local socket:
//
//	redis://[user:password@]host:6379[/db][?options]
//	    one server.
//	unix://[user:password@]/path/to/redis.sock[?db=N&options]
//	    one server on a unix socket.
//	redis://[user:password@]host1:7000,host2:7001,host3:7002[?options]
//	    a Redis Cluster: two or more comma-separated seed nodes (db must be 0).
//	redis://[user:password@]host:7000?cluster=true
//	    a Redis Cluster reached through one address (a configuration endpoint).
//	redis://[user:password@]sentinel1:26379,sentinel2:26379[/db]?master_name=mymaster
//	    a Sentinel-managed primary: the hosts are the sentinels; the user and
//	    password are the primary's, sentinel_username and sentinel_password
//	    those of the sentinels.
//
// go-redis' own parsers read them (ParseURL for one server, ParseClusterURL,
// ParseFailoverURL); parseURL only turns the comma-separated hosts into their
// addr= options, drops cluster=, and swaps a Sentinel URL's credentials into
// the places ParseFailoverURL expects. So the options are those parsers'
// (their doc lists them): master_name, sentinel_username and
// sentinel_password (Sentinel only), client_name, pool_size, max_retries,
// dial_timeout, read_timeout and write_timeout (Go durations such as 3s or
// 500ms, or plain seconds), among others. An unknown option is an error, so
// that a typo does not go unnoticed; CheckURL finds every such error at
// configuration, without connecting.
//
// # Errors
//
// Every error returned is, or wraps, a *datosbot.Error: ENOTFOUND for a
// missing record (redis.Nil never escapes), ECONFLICT, EINVALID, and
// EUNAVAILABLE when Redis cannot be reached.
//
// # Embedded mode
//
// Without a URL the whole keyspace (strings, hashes, lists, sets, sorted
// sets and stream entries, with their expiry times) is captured atomically
// by a Lua script and written to DataFile every SaveInterval and on Close:
// to a temporary file in the same directory, synced, then renamed over the
// old one, so a crash leaves either the old or the new state. Open restores
// it. Keys written by any code (reminder schedules, outbox) survive a
// restart without this package knowing about them. Stream consumer groups
// are not saved.
package storage
