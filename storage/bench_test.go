package storage_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/storage"
)

func benchStore(b *testing.B) *storage.Store {
	m := miniredis.RunT(b)
	s, err := storage.Open(ctx, storage.Config{URL: "redis://" + m.Addr()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close(ctx) })
	return s
}

// BenchmarkAddAction measures one registration (WATCH, checks, MULTI with
// four index writes and the audit entry) against miniredis.
func BenchmarkAddAction(b *testing.B) {
	s := benchStore(b)
	b.ResetTimer()
	for i := range b.N {
		a := action(fmt.Sprintf("B%d", i), "inegi", fmt.Sprintf("https://x.com/%d", i), nov20, testClock)
		if _, _, err := s.AddAction(ctx, a); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkActionsOfInstitutionBimester reads one institution's bimester
// while 50 institutions × 20 actions are stored: the cost follows the
// institution's own actions, not the total.
func BenchmarkActionsOfInstitutionBimester(b *testing.B) {
	s := benchStore(b)
	for i := range 50 {
		for j := range 20 {
			a := action(fmt.Sprintf("I%dA%d", i, j), fmt.Sprintf("inst%d", i), fmt.Sprintf("https://x.com/%d/%d", i, j), nov20, testClock.Add(time.Duration(j)*time.Second))
			if _, _, err := s.AddAction(ctx, a); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ResetTimer()
	for range b.N {
		acts, err := s.Actions(ctx, "inst7", datosbot.Bimester{Year: 2026, N: 6})
		if err != nil || len(acts) != 20 {
			b.Fatalf("got %d actions, %v", len(acts), err)
		}
	}
}
