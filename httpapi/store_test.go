package httpapi_test

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/httpapi"
)

// memStore is an in-memory httpapi.Store that records who wrote.
type memStore struct {
	mu      sync.Mutex
	insts   map[string]datosbot.Institution
	actions []datosbot.Action
	writers []datosbot.UserID
}

var _ httpapi.Store = (*memStore)(nil)

func newMemStore() *memStore { return &memStore{insts: map[string]datosbot.Institution{}} }

func (m *memStore) Institution(ctx context.Context, key string) (datosbot.Institution, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	in, ok := m.insts[key]
	if !ok {
		return in, datosbot.Errorf(datosbot.ENOTFOUND, "No existe la institución %s.", key)
	}
	return in, nil
}

func (m *memStore) Institutions(ctx context.Context) ([]datosbot.Institution, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []datosbot.Institution
	for _, in := range m.insts {
		out = append(out, in)
	}
	slices.SortFunc(out, func(a, b datosbot.Institution) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

func (m *memStore) PutInstitution(ctx context.Context, in datosbot.Institution, by datosbot.UserID) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.writers = append(m.writers, by)
	old, ok := m.insts[in.Key]
	if ok {
		in.Channels, in.CreatedAt = old.Channels, old.CreatedAt
	}
	m.insts[in.Key] = in
	return !ok, nil
}

func (m *memStore) Actions(ctx context.Context, key string, b datosbot.Bimester) ([]datosbot.Action, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []datosbot.Action
	for _, a := range m.actions {
		if (key == "" || a.Institution == key) && (b.IsZero() || a.Bimester == b) {
			out = append(out, a)
		}
	}
	return out, nil
}

func (m *memStore) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.insts)
}
