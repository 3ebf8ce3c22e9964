package dashboard

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/internal/fakeclock"
	"github.com/datosbot/datosbot/storage/storagetest"
)

// benchFixture loads n institutions over the six bimesters of the heat
// map: two of every three institution-bimesters have one action, every
// seventh has two more, so a Cumplimiento page of n rows reads about
// 4.6 n actions.
func benchFixture(b testing.TB, n int) *env {
	b.Helper()
	e := &env{clock: fakeclock.New(testNow)}
	st := storagetest.Open(b, e.clock.Now)
	e.store = st
	ctx := context.Background()
	early := time.Date(2025, 12, 1, 9, 0, 0, 0, mexico)
	bims := columns(datosbot.DateOf(testNow, mexico))
	seq := 0
	for i := range n {
		key := fmt.Sprintf("inst-%04d", i)
		if err := st.CreateInstitution(ctx, datosbot.Institution{Key: key, Name: fmt.Sprintf("Institución de prueba número %d", i), CreatedAt: early}, byAdmin); err != nil {
			b.Fatal(err)
		}
		for j, bim := range bims {
			if (i+j)%3 == 2 {
				continue
			}
			count := 1
			if (i*6+j)%7 == 0 {
				count = 3
			}
			for k := range count {
				seq++
				day := bim.FirstDay().AddDays(3 + 7*k)
				if bim == bims[len(bims)-1] {
					day = bim.FirstDay().AddDays(k) // before testNow in the open bimester
				}
				a := datosbot.Action{ID: fmt.Sprintf("A%06d", seq), Institution: key, DataURLs: []string{"https://www.datos.gob.mx/dataset/" + key},
					EvidenceURL: fmt.Sprintf("https://x.com/%s/status/%d", key, seq), Medium: datosbot.MediumRedes, Type: datosbot.TypePublicacion,
					PublishedOn: day, RegisteredBy: ana}
				if _, _, err := st.AddAction(ctx, a); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	return e
}

// BenchmarkCumplimiento measures the Cumplimiento page server-side, from
// the request with its session to the last byte of HTML: the session and
// roles, the institutions (one pipelined read), the actions of the six
// bimesters (one index read and batched MGETs per bimester, not per
// institution), the heat map and the template.
func BenchmarkCumplimiento(b *testing.B) {
	for _, n := range []int{300, 3000} {
		b.Run(fmt.Sprintf("%d_institutions", n), func(b *testing.B) {
			e := benchFixture(b, n)
			srv, err := New(Config{Store: e.store, Admins: []datosbot.UserID{unidad}, Now: e.clock.Now, Loc: mexico})
			if err != nil {
				b.Fatal(err)
			}
			mux := http.NewServeMux()
			srv.Routes(mux)
			link, _, err := srv.SignInLink(context.Background(), unidad)
			if err != nil {
				b.Fatal(err)
			}
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, link, nil))
			cookie := w.Result().Cookies()[0]
			b.ReportAllocs()
			var size int
			cpu0 := cpuTime()
			for b.Loop() {
				r := httptest.NewRequest(http.MethodGet, "/tablero", nil)
				r.AddCookie(cookie)
				w := httptest.NewRecorder()
				mux.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d", w.Code)
				}
				size = w.Body.Len()
			}
			b.ReportMetric(float64(size)/1024, "KiB/page")
			// CPU time of the whole process (handler, store client and the
			// in-process miniredis) per page: unlike ns/op it does not grow
			// when other processes share the machine's cores.
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
		})
	}
}

// BenchmarkHeatMapRender measures building and rendering the heat map
// alone, without the store, to show where the time of a page goes.
func BenchmarkHeatMapRender(b *testing.B) {
	for _, n := range []int{300, 3000} {
		b.Run(fmt.Sprintf("%d_institutions", n), func(b *testing.B) {
			today := datosbot.DateOf(testNow, mexico)
			bims := columns(today)
			insts := make([]datosbot.Institution, n)
			actions := make([][]datosbot.Action, len(bims))
			for i := range insts {
				insts[i] = datosbot.Institution{Key: fmt.Sprintf("inst-%04d", i), Name: fmt.Sprintf("Institución de prueba número %d", i), Active: true}
				for j, bim := range bims {
					if (i+j)%3 != 2 {
						actions[j] = append(actions[j], datosbot.Action{Institution: insts[i].Key, PublishedOn: bim.FirstDay()})
					}
				}
			}
			srv := &Server{now: func() time.Time { return testNow }, loc: mexico, log: slog.Default()}
			b.ReportAllocs()
			for b.Loop() {
				hm := heatMapOf(insts, bims, actions, today, 5, mexico)
				w := httptest.NewRecorder()
				srv.render(w, http.StatusOK, "cumplimiento", view{Title: "Cumplimiento", Data: hm})
			}
		})
	}
}

// cpuTime is the CPU time (user and system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
