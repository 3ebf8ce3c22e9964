package commands_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/commands"
	"github.com/datosbot/datosbot/storage/storagetest"
)

// benchService returns a service over the real store with 50 institutions,
// one liaison ("console:ana" of inegi) and its linked channel, and the
// store, whose RoundTrips the benchmarks report per command.
func benchService(b testing.TB, edit ...func(*commandsConfig)) (*commands.Service, *storagetest.Store) {
	now := func() time.Time { return time.Date(2026, 11, 20, 10, 0, 0, 0, mexico) }
	store := storagetest.Open(b, now)
	cfg := commands.Config{Store: store, Now: now, Loc: mexico, Admins: []datosbot.UserID{admin}, Logger: slog.New(slog.DiscardHandler)}
	for _, e := range edit {
		e(&cfg)
	}
	svc := commands.New(cfg)
	ctx := context.Background()
	do := func(user datosbot.UserID, ch datosbot.ChannelID, text string) datosbot.Reply {
		r := svc.Handle(ctx, datosbot.Request{User: user, Channel: ch, Text: text})
		if r.Error != "" {
			b.Fatalf("%q: %s", text, r.Text)
		}
		return r
	}
	for i := range 49 {
		do(admin, "console:general", fmt.Sprintf("institucion alta inst%02d Institución %d", i, i))
	}
	do(admin, "console:general", "institucion alta inegi INEGI")
	do(admin, canal, "canal vincular inegi")
	r := do(admin, "console:general", "invitar inegi comunicacion")
	code := codePattern.FindStringSubmatch(r.Text)[1]
	do("console:ana", "console:general", "unirme "+code)
	return svc, store
}

type commandsConfig = commands.Config

// actionsOf returns every action of institution key.
func actionsOf(t testing.TB, store *storagetest.Store, key string) []datosbot.Action {
	t.Helper()
	as, err := store.Actions(context.Background(), key, datosbot.Bimester{})
	if err != nil {
		t.Fatal(err)
	}
	return as
}

// measure runs the benchmark loop body and reports the round trips to
// Redis and the allocations of one command.
func measure(b *testing.B, store *storagetest.Store, parallel bool, body func(i int)) {
	b.ReportAllocs()
	start := store.RoundTrips()
	b.ResetTimer()
	if parallel {
		var next atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				body(int(next.Add(1)))
			}
		})
	} else {
		for i := range b.N {
			body(i)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(store.RoundTrips()-start)/float64(b.N), "roundtrips/op")
}

// BenchmarkAnunciar measures registering an action (validation, idempotency
// check and write) end to end through the command language.
func BenchmarkAnunciar(b *testing.B) {
	svc, store := benchService(b)
	ctx := context.Background()
	measure(b, store, false, func(i int) {
		r := svc.Handle(ctx, datosbot.Request{User: "console:ana", Channel: canal,
			Text: fmt.Sprintf("anunciar %s https://x.com/INEGI_INFORMA/status/%d", dataURL, i)})
		if r.Error != "" {
			b.Fatal(r.Text)
		}
	})
}

// BenchmarkAnunciarConcurrent registers actions of one institution from
// many goroutines at once: the write must not retry under contention.
func BenchmarkAnunciarConcurrent(b *testing.B) {
	svc, store := benchService(b)
	ctx := context.Background()
	b.SetParallelism(8) // 8 writers per core
	measure(b, store, true, func(i int) {
		r := svc.Handle(ctx, datosbot.Request{User: "console:ana", Channel: canal,
			Text: fmt.Sprintf("anunciar %s https://x.com/INEGI_INFORMA/status/%d", dataURL, i)})
		if r.Error != "" {
			b.Error(r.Text)
		}
	})
}

// BenchmarkEstado measures the most frequent read.
func BenchmarkEstado(b *testing.B) {
	svc, store := benchService(b)
	ctx := context.Background()
	svc.Handle(ctx, datosbot.Request{User: "console:ana", Channel: canal, Text: "anunciar " + dataURL + " " + tweetURL})
	measure(b, store, true, func(int) {
		if r := svc.Handle(ctx, datosbot.Request{User: "console:ana", Channel: canal, Text: "estado"}); r.Error != "" {
			b.Error(r.Text)
		}
	})
}

// BenchmarkReporte measures the compliance table over 50 institutions.
func BenchmarkReporte(b *testing.B) {
	svc, store := benchService(b)
	ctx := context.Background()
	measure(b, store, false, func(int) {
		if r := svc.Handle(ctx, datosbot.Request{User: admin, Channel: "console:general", Text: "reporte"}); r.Error != "" {
			b.Fatal(r.Text)
		}
	})
}
