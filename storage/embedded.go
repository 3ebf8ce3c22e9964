package storage

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/datosbot/datosbot"
)

// dataFileVersion is the format version of the embedded data file.
const dataFileVersion = 1

// dataFile is the embedded server's saved state.
type dataFile struct {
	Version int       `json:"version"`
	SavedAt time.Time `json:"saved_at"`
	Keys    []RawKey  `json:"keys"`
}

// RawKey is one Redis key in a type-generic form: the embedded data file
// and Snapshot.Extra are lists of them.
type RawKey struct {
	Key  string `json:"key"`
	Type string `json:"type"` // string, hash, list, set, zset or stream
	// ExpiresAt is the key's expiry in Unix milliseconds; 0 for none.
	ExpiresAt int64             `json:"expires_at_ms,omitempty"`
	String    *string           `json:"string,omitempty"`
	Hash      map[string]string `json:"hash,omitempty"`
	List      []string          `json:"list,omitempty"` // list in order; set sorted
	ZSet      []ZMember         `json:"zset,omitempty"` // by score, then member
	Stream    []StreamEntry     `json:"stream,omitempty"`
}

// ZMember is one member of a sorted set; the score keeps Redis' own text.
type ZMember struct {
	Member string `json:"member"`
	Score  string `json:"score"`
}

// StreamEntry is one entry of a stream: its id and field/value pairs.
type StreamEntry struct {
	ID     string   `json:"id"`
	Fields []string `json:"fields"`
}

// dumpScript returns every key named in KEYS, or every key of the database
// when KEYS is empty, as {name, type, pttl, value} in one atomic step, so a
// save never sees half of a transaction.
var dumpScript = redis.NewScript(`
local names = KEYS
if #names == 0 then names = redis.call('KEYS', '*') end
local out = {}
for _, k in ipairs(names) do
  local t = redis.call('TYPE', k)
  if type(t) == 'table' then t = t.ok or t['ok'] end
  local v = nil
  if t == 'string' then v = {redis.call('GET', k)}
  elseif t == 'hash' then v = redis.call('HGETALL', k)
  elseif t == 'list' then v = redis.call('LRANGE', k, 0, -1)
  elseif t == 'set' then v = redis.call('SMEMBERS', k)
  elseif t == 'zset' then v = redis.call('ZRANGE', k, 0, -1, 'WITHSCORES')
  elseif t == 'stream' then v = redis.call('XRANGE', k, '-', '+')
  end
  if v ~= nil then
    out[#out + 1] = {k, t, tostring(redis.call('PTTL', k)), v}
  end
end
return out
`)

// dumpKeys returns the named keys (all keys when names is empty) in
// generic form, sorted by name, with expiry times relative to now.
func (s *Store) dumpKeys(ctx context.Context, names []string) ([]RawKey, error) {
	res, err := dumpScript.Run(ctx, s.rdb, names).Slice()
	if err != nil {
		return nil, s.wrap(err)
	}
	now := time.Now()
	keys := make([]RawKey, 0, len(res))
	for _, item := range res {
		f, ok := item.([]any)
		if !ok || len(f) != 4 {
			return nil, fmt.Errorf("storage: unexpected dump item %T", item)
		}
		k := RawKey{Key: str(f[0]), Type: str(f[1])}
		if pttl, _ := strconv.ParseInt(str(f[2]), 10, 64); pttl > 0 {
			k.ExpiresAt = now.Add(time.Duration(pttl) * time.Millisecond).UnixMilli()
		}
		v, _ := f[3].([]any)
		switch k.Type {
		case "string":
			if len(v) == 1 {
				x := str(v[0])
				k.String = &x
			}
		case "hash":
			k.Hash = make(map[string]string, len(v)/2)
			for i := 0; i+1 < len(v); i += 2 {
				k.Hash[str(v[i])] = str(v[i+1])
			}
		case "list", "set":
			for _, x := range v {
				k.List = append(k.List, str(x))
			}
			if k.Type == "set" {
				sort.Strings(k.List)
			}
		case "zset":
			for i := 0; i+1 < len(v); i += 2 {
				k.ZSet = append(k.ZSet, ZMember{Member: str(v[i]), Score: str(v[i+1])})
			}
		case "stream":
			for _, e := range v {
				pair, _ := e.([]any)
				if len(pair) != 2 {
					continue
				}
				entry := StreamEntry{ID: str(pair[0])}
				fields, _ := pair[1].([]any)
				for _, x := range fields {
					entry.Fields = append(entry.Fields, str(x))
				}
				k.Stream = append(k.Stream, entry)
			}
		}
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].Key < keys[j].Key })
	return keys, nil
}

func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case []byte:
		return string(x)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

// restoreKeys writes keys, replacing any key of the same name. Keys whose
// expiry time has passed are skipped. rename maps a saved name to the name
// to write.
func (s *Store) restoreKeys(ctx context.Context, keys []RawKey, rename func(string) string) error {
	now := time.Now().UnixMilli()
	const batch = 500
	for start := 0; start < len(keys); start += batch {
		end := min(start+batch, len(keys))
		_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			for _, k := range keys[start:end] {
				if k.ExpiresAt != 0 && k.ExpiresAt <= now {
					continue
				}
				name := rename(k.Key)
				p.Del(ctx, name)
				switch k.Type {
				case "string":
					if k.String != nil {
						p.Set(ctx, name, *k.String, 0)
					}
				case "hash":
					if len(k.Hash) > 0 {
						p.HSet(ctx, name, k.Hash)
					}
				case "list":
					if len(k.List) > 0 {
						p.RPush(ctx, name, anys(k.List)...)
					}
				case "set":
					if len(k.List) > 0 {
						p.SAdd(ctx, name, anys(k.List)...)
					}
				case "zset":
					for _, m := range k.ZSet {
						p.Do(ctx, "ZADD", name, m.Score, m.Member)
					}
				case "stream":
					for _, e := range k.Stream {
						p.XAdd(ctx, &redis.XAddArgs{Stream: name, ID: e.ID, Values: e.Fields})
					}
				default:
					return fmt.Errorf("storage: key %s has unknown type %q", k.Key, k.Type)
				}
				if k.ExpiresAt != 0 {
					p.PExpireAt(ctx, name, time.UnixMilli(k.ExpiresAt))
				}
			}
			return nil
		})
		if err != nil {
			return s.wrap(err)
		}
	}
	return nil
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, x := range ss {
		out[i] = x
	}
	return out
}

// openEmbedded starts miniredis, connects to it, restores DataFile and
// starts the autosave loop.
func (s *Store) openEmbedded(ctx context.Context, cfg Config) error {
	s.dataFile, s.readOnly = cfg.DataFile, cfg.ReadOnly
	if s.dataFile == "" {
		s.dataFile = "datosbot-data.json"
	}
	interval := cfg.SaveInterval
	if interval <= 0 {
		interval = 30 * time.Second
	}
	m := miniredis.NewMiniRedis()
	// TTLs run with the wall clock, as on a real server: the autosave loop
	// fast-forwards miniredis once a second. (miniredis' ClockTTL would do it
	// per command, but it then scans every key on every command, which makes
	// each command slower as the data grows.)
	// The server listens on a loopback port; a random password keeps other
	// local processes out of the bot's data.
	secret := make([]byte, 24)
	rand.Read(secret)
	password := hex.EncodeToString(secret)
	m.RequireAuth(password)
	if err := m.Start(); err != nil {
		return fmt.Errorf("storage: start embedded redis: %w", err)
	}
	s.mini = m
	s.rdb = redis.NewClient(&redis.Options{Addr: m.Addr(), Password: password})
	s.rdb.AddHook(tripCounter{&s.trips})
	if err := s.load(ctx); err != nil {
		s.rdb.Close()
		m.Close()
		return err
	}
	if err := s.loadHotScripts(ctx); err != nil {
		s.rdb.Close()
		m.Close()
		return err
	}
	s.stop = make(chan struct{})
	s.done = make(chan struct{})
	go s.autosave(interval)
	return nil
}

// load restores the data file into the embedded server, if the file exists.
func (s *Store) load(ctx context.Context) error {
	b, err := os.ReadFile(s.dataFile)
	if errors.Is(err, fs.ErrNotExist) {
		if s.readOnly {
			return datosbot.Errorf(datosbot.ENOTFOUND, "No existe %s (DATOSBOT_DATA_FILE): no hay estado que leer. Indique el archivo del bot.", s.dataFile)
		}
		return nil
	}
	if err != nil {
		return datosbot.Errorf(datosbot.EINVALID, "No se puede leer %s (DATOSBOT_DATA_FILE): %v. Revise la ruta y sus permisos.", s.dataFile, err)
	}
	var df dataFile
	if err := json.Unmarshal(b, &df); err != nil || df.Version != dataFileVersion {
		return datosbot.Errorf(datosbot.EINVALID, "%s (DATOSBOT_DATA_FILE) no es un archivo de datos de datosbot válido. Restáurelo de un respaldo o indique otro archivo.", s.dataFile)
	}
	s.lastSave = b
	return s.restoreKeys(ctx, df.Keys, func(k string) string { return k })
}

// autosave saves every interval until Close, and lets time pass for the
// embedded server's TTLs once a second.
func (s *Store) autosave(interval time.Duration) {
	defer close(s.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	ttl := time.NewTicker(time.Second)
	defer ttl.Stop()
	last := time.Now()
	for {
		select {
		case <-s.stop:
			return
		case now := <-ttl.C:
			s.mini.FastForward(now.Sub(last))
			last = now
		case <-t.C:
			if s.readOnly {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), interval)
			if err := s.save(ctx); err != nil {
				s.log.Error("embedded store: save failed", "file", s.dataFile, "err", err)
			}
			cancel()
		}
	}
}

// save writes the whole keyspace to the data file atomically: a temporary
// file in the same directory, synced, then renamed over the old one.
func (s *Store) save(ctx context.Context) error {
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	keys, err := s.dumpKeys(ctx, nil)
	if err != nil {
		return err
	}
	df := dataFile{Version: dataFileVersion, SavedAt: time.Now().UTC(), Keys: keys}
	b, err := json.MarshalIndent(df, "", " ")
	if err != nil {
		return fmt.Errorf("storage: encode data file: %w", err)
	}
	b = append(b, '\n')
	if s.lastSave != nil && sameKeys(s.lastSave, keys) {
		return nil
	}
	if err := writeFileAtomic(s.dataFile, b); err != nil {
		return fmt.Errorf("storage: save %s: %w", s.dataFile, err)
	}
	s.lastSave = b
	return nil
}

// sameKeys reports whether the data file prev already holds keys, so that
// an idle bot does not rewrite its file every interval.
func sameKeys(prev []byte, keys []RawKey) bool {
	var df dataFile
	if json.Unmarshal(prev, &df) != nil {
		return false
	}
	a, _ := json.Marshal(df.Keys)
	b, _ := json.Marshal(keys)
	return bytes.Equal(a, b)
}

func writeFileAtomic(path string, b []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after the rename
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	// Sync the directory so the rename itself survives a crash.
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
