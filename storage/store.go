package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/datosbot/datosbot"
)

// Config configures Open. The zero value opens an embedded store that saves
// to datosbot-data.json in the working directory.
type Config struct {
	// URL of the Redis server (REDIS_URL); see the package doc for the
	// single-node, Sentinel and Cluster forms. Empty starts the embedded
	// in-process server.
	URL string
	// DataFile is where the embedded server's state is restored from and
	// saved to. Ignored with a URL. Default "datosbot-data.json".
	DataFile string
	// Prefix starts every key. Default "datosbot:". Tests use a random one.
	Prefix string
	// Now returns the current time for the records' timestamps. Default
	// time.Now.
	Now func() time.Time
	// SaveInterval is how often the embedded server saves DataFile. Default
	// 30 seconds. Ignored with a URL.
	SaveInterval time.Duration
	// Logger receives the embedded server's save failures. Default
	// slog.Default().
	Logger *slog.Logger
	// ReadOnly, in embedded mode, never writes DataFile (no autosave, no
	// save at Close): `datosbot export` reads the file of a bot that may be
	// running and must not write over it.
	ReadOnly bool
	// WaitReplicas (DATOSBOT_REDIS_WAIT), when above zero, makes every
	// write of a record (update) wait until that many replicas have it
	// (Redis WAIT), so that a failover right after the answer cannot lose
	// it. Ignored in embedded mode.
	WaitReplicas int
	// WaitTimeout bounds that wait. Default 2 seconds.
	WaitTimeout time.Duration
}

// Store keeps the bot's state in Redis. It implements commands.Store. It
// is safe for concurrent use.
type Store struct {
	rdb    redis.UniversalClient
	prefix string
	clock  func() time.Time
	log    *slog.Logger

	// Embedded mode only.
	mini     *miniredis.Miniredis
	dataFile string
	stop     chan struct{}
	done     chan struct{}
	saveMu   sync.Mutex // serializes saves
	lastSave []byte     // bytes of the last successful save, to skip identical writes
	closed   sync.Once
	trips    atomic.Int64 // round trips to Redis (RoundTrips)
	readOnly bool

	waitReplicas int           // see Config.WaitReplicas
	waitTimeout  time.Duration //
}

// Open connects to Redis (cfg.URL) or starts the embedded store, and checks
// that it answers.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	quietGoRedis() // before this process's first client
	s := &Store{prefix: cfg.Prefix, clock: cfg.Now, log: cfg.Logger, waitReplicas: cfg.WaitReplicas, waitTimeout: cfg.WaitTimeout}
	if s.waitTimeout <= 0 {
		s.waitTimeout = 2 * time.Second
	}
	if s.prefix == "" {
		s.prefix = "datosbot:"
	}
	if s.clock == nil {
		s.clock = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if cfg.URL == "" {
		if err := s.openEmbedded(ctx, cfg); err != nil {
			return nil, err
		}
		return s, nil
	}
	opts, err := parseURL(cfg.URL)
	if err != nil {
		return nil, datosbot.Errorf(datosbot.EINVALID, "REDIS_URL no es válida: %v. Use por ejemplo redis://host:6379/0.", err)
	}
	s.rdb = opts.client()
	s.rdb.AddHook(tripCounter{&s.trips})
	if err := s.Ping(ctx); err != nil {
		s.rdb.Close()
		return nil, err
	}
	if err := s.loadHotScripts(ctx); err != nil {
		s.rdb.Close()
		return nil, err
	}
	return s, nil
}

// Ping reports whether Redis answers; EUNAVAILABLE when it does not. It is
// the readiness check.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		return unavailable(err)
	}
	return nil
}

// Close stops the store. In embedded mode it saves the state first; a
// failed save is returned and the server is stopped anyway.
func (s *Store) Close(ctx context.Context) error {
	var err error
	s.closed.Do(func() {
		if s.mini != nil {
			close(s.stop)
			<-s.done
			if !s.readOnly {
				err = s.save(ctx)
			}
		}
		if cerr := s.rdb.Close(); err == nil && cerr != nil && !errors.Is(cerr, redis.ErrClosed) {
			err = cerr
		}
		if s.mini != nil {
			s.mini.Close()
		}
	})
	return err
}

// now returns the store's current time.
func (s *Store) now() time.Time { return s.clock() }

// maxTxAttempts bounds the optimistic retries of update. Each failed
// attempt means another writer committed, so contention of n writers needs
// at most n attempts.
const maxTxAttempts = 200

// update runs fn as an optimistic transaction: keys are WATCHed, fn reads
// through tx and queues its writes with tx.TxPipelined; when a watched key
// changed in between, fn runs again. With Config.WaitReplicas, a committed
// transaction then waits for the replicas (see waitReplicated).
func (s *Store) update(ctx context.Context, fn func(tx *redis.Tx) error, keys ...string) error {
	if s.waitReplicas > 0 && s.mini == nil {
		inner := fn
		fn = func(tx *redis.Tx) error {
			if err := inner(tx); err != nil {
				return err
			}
			return s.waitReplicated(ctx, tx)
		}
	}
	for range maxTxAttempts {
		err := s.rdb.Watch(ctx, fn, keys...)
		if errors.Is(err, redis.TxFailedErr) {
			continue
		}
		return s.wrap(err)
	}
	return datosbot.Errorf(datosbot.EUNAVAILABLE, "La base de datos está muy ocupada en este momento. Intente de nuevo en unos segundos.")
}

// wrap translates an error from go-redis into the application's errors:
// *datosbot.Error passes through, redis.Nil becomes ENOTFOUND, connection
// failures EUNAVAILABLE; anything else stays an internal error.
func (s *Store) wrap(err error) error {
	if err == nil {
		return nil
	}
	var appErr *datosbot.Error
	if errors.As(err, &appErr) {
		return err
	}
	if errors.Is(err, redis.Nil) {
		return datosbot.Errorf(datosbot.ENOTFOUND, "No se encontró el registro solicitado.")
	}
	if isUnavailable(err) {
		return unavailable(err)
	}
	return fmt.Errorf("storage: %w", err)
}

// unavailable wraps err in an EUNAVAILABLE *datosbot.Error while keeping
// the cause in the chain for logs.
func unavailable(err error) error {
	var appErr *datosbot.Error
	if errors.As(err, &appErr) {
		return err
	}
	return fmt.Errorf("storage: %w: %w", datosbot.Errorf(datosbot.EUNAVAILABLE,
		"No se puede consultar la base de datos (Redis) en este momento. Intente de nuevo en unos minutos; si persiste, avise a la Unidad."), err)
}

// isUnavailable reports whether err means Redis cannot serve requests now.
func isUnavailable(err error) bool {
	var netErr net.Error
	switch {
	case errors.As(err, &netErr),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, redis.ErrClosed), errors.Is(err, redis.ErrPoolTimeout), errors.Is(err, redis.ErrPoolExhausted),
		errors.Is(err, context.DeadlineExceeded),
		redis.IsLoadingError(err), redis.IsReadOnlyError(err), redis.IsClusterDownError(err),
		redis.IsTryAgainError(err), redis.IsMasterDownError(err), redis.IsMaxClientsError(err):
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "connection refused") || strings.Contains(msg, "connection reset") ||
		strings.Contains(msg, "broken pipe") || strings.Contains(msg, "i/o timeout")
}
