package commands_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/commands"
	"github.com/datosbot/datosbot/storage/storagetest"
)

// benchService returns a service over the real store with 50 institutions,
// one liaison ("console:ana" of inegi) and its linked channel.
func benchService(b *testing.B) *commands.Service {
	now := func() time.Time { return time.Date(2026, 11, 20, 10, 0, 0, 0, mexico) }
	store := storagetest.Open(b, now)
	svc := commands.New(commands.Config{Store: store, Now: now, Loc: mexico, Admins: []datosbot.UserID{admin}})
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
	return svc
}

// BenchmarkAnunciar measures registering an action (validation, idempotency
// check and write) end to end through the command language.
func BenchmarkAnunciar(b *testing.B) {
	svc := benchService(b)
	ctx := context.Background()
	b.ResetTimer()
	for i := range b.N {
		r := svc.Handle(ctx, datosbot.Request{User: "console:ana", Channel: canal,
			Text: fmt.Sprintf("anunciar %s https://x.com/INEGI_INFORMA/status/%d", dataURL, i)})
		if r.Error != "" {
			b.Fatal(r.Text)
		}
	}
}

// BenchmarkEstado measures the most frequent read.
func BenchmarkEstado(b *testing.B) {
	svc := benchService(b)
	ctx := context.Background()
	svc.Handle(ctx, datosbot.Request{User: "console:ana", Channel: canal, Text: "anunciar " + dataURL + " " + tweetURL})
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if r := svc.Handle(ctx, datosbot.Request{User: "console:ana", Channel: canal, Text: "estado"}); r.Error != "" {
				b.Fatal(r.Text)
			}
		}
	})
}

// BenchmarkReporte measures the compliance table over 50 institutions.
func BenchmarkReporte(b *testing.B) {
	svc := benchService(b)
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		if r := svc.Handle(ctx, datosbot.Request{User: admin, Channel: "console:general", Text: "reporte"}); r.Error != "" {
			b.Fatal(r.Text)
		}
	}
}
