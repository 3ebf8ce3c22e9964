package httpapi_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/httpapi"
	"github.com/datosbot/datosbot/storage"
)

var _ httpapi.Store = (*storage.Store)(nil)

// openStore opens the real store: embedded (in-process Redis), or on
// DATOSBOT_TEST_REDIS_URL under a random key prefix when it is set.
func openStore(t *testing.T) *storage.Store { return openStoreB(t) }

func openStoreB(t testing.TB) *storage.Store {
	t.Helper()
	cfg := storage.Config{
		DataFile: filepath.Join(t.TempDir(), "datosbot-data.json"),
		Now:      func() time.Time { return now },
	}
	if url := os.Getenv("DATOSBOT_TEST_REDIS_URL"); url != "" {
		b := make([]byte, 6)
		rand.Read(b)
		cfg.URL, cfg.Prefix = url, "test-httpapi-"+hex.EncodeToString(b)+":"
	}
	s, err := storage.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("storage.Open: %v", err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	return s
}

// count returns how many institutions store holds.
func count(t *testing.T, store httpapi.Store) int {
	t.Helper()
	insts, err := store.Institutions(context.Background())
	if err != nil {
		t.Fatalf("Institutions: %v", err)
	}
	return len(insts)
}

// institutionWriters returns the actors of the institution entries of the
// audit trail.
func institutionWriters(t *testing.T, store *storage.Store) []datosbot.UserID {
	t.Helper()
	entries, err := store.Audit(context.Background())
	if err != nil {
		t.Fatalf("Audit: %v", err)
	}
	var out []datosbot.UserID
	for _, e := range entries {
		if strings.HasPrefix(e.Event, "institucion.") {
			out = append(out, e.Actor)
		}
	}
	return out
}

// failingStore fails every listing with an internal error that names a
// secret, which the real store cannot be made to do.
type failingStore struct{ httpapi.Store }

func (failingStore) Institutions(ctx context.Context) ([]datosbot.Institution, error) {
	return nil, errors.New("redis: WRONGPASS at redis://:hunter2@10.0.0.1")
}
