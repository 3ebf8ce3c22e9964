package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/httpapi"
)

// BenchmarkCompliance measures GET /api/v1/compliance over 300 institutions
// with one action each, authentication included.
func BenchmarkCompliance(b *testing.B) {
	store := openStoreB(b)
	ctx := context.Background()
	for i := range 300 {
		key := fmt.Sprintf("inst-%03d", i)
		if _, err := store.PutInstitution(ctx, datosbot.Institution{Key: key, Name: "Institución " + key, Active: true}, "sistema"); err != nil {
			b.Fatal(err)
		}
		a := datosbot.Action{ID: fmt.Sprintf("A%04d", i), Institution: key, PublishedOn: datosbot.Date{Year: 2026, Month: 12, Day: 1},
			EvidenceURL: "https://www.gob.mx/" + key, DataURLs: []string{"https://www.datos.gob.mx/dataset/x"}}
		if _, _, err := store.AddAction(ctx, a); err != nil {
			b.Fatal(err)
		}
	}
	h := httpapi.New(httpapi.Config{Store: store, Tokens: []string{token}, Now: func() time.Time { return now }, Loc: mexico}).Handler()
	for _, format := range []string{"json", "csv"} {
		b.Run(format, func(b *testing.B) {
			for b.Loop() {
				r := httptest.NewRequest("GET", "/api/v1/compliance?format="+format, nil)
				r.Header.Set("Authorization", bearer(token))
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d", w.Code)
				}
			}
		})
	}
}

// BenchmarkObserveCommand measures one command observation under contention.
func BenchmarkObserveCommand(b *testing.B) {
	m := httpapi.NewMetrics()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.ObserveCommand("anunciar", "ok", 30*time.Millisecond)
		}
	})
}

// BenchmarkMetricsWrite measures one /metrics scrape with 20 commands
// observed, the runtime and process collectors included.
func BenchmarkMetricsWrite(b *testing.B) {
	m := httpapi.NewMetrics()
	for i := range 20 {
		m.ObserveCommand(fmt.Sprint("cmd", i), "ok", time.Duration(i)*time.Millisecond)
	}
	h := m.Handler(nil)
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	}
}
