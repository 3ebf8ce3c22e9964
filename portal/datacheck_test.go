package portal_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/commands"
	"github.com/datosbot/datosbot/portal"
	"github.com/datosbot/datosbot/portal/ckantest"
	"github.com/datosbot/datosbot/storage/storagetest"
)

var mexico, _ = time.LoadLocation("America/Mexico_City")

const (
	admin  = datosbot.UserID("console:admin")
	ines   = datosbot.UserID("console:ines")
	canal  = datosbot.ChannelID("console:canal-inegi")
	tweet  = "https://x.com/INEGI_INFORMA/status/1866"
	tweet2 = "https://x.com/INEGI_INFORMA/status/1867"
)

// recorder is the outbox as the commands see it: each key taken once.
type recorder struct {
	mu    sync.Mutex
	posts []datosbot.Message
}

func (r *recorder) Post(ctx context.Context, msgs ...datosbot.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range msgs {
		if !slices.ContainsFunc(r.posts, func(p datosbot.Message) bool { return p.Key == m.Key }) {
			r.posts = append(r.posts, m)
		}
	}
	return nil
}

func (r *recorder) Posts() []datosbot.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]datosbot.Message(nil), r.posts...)
}

// checkEnv is a bot with the portal checks on, against a fake portal that
// has INEGI's dataset, SICT's dataset, and a resource of INEGI's.
type checkEnv struct {
	t      *testing.T
	ckan   *ckantest.Server
	client *portal.Client
	checks *portal.Checks
	svc    *commands.Service
	store  *storagetest.Store
	posts  *recorder
	inegi  ckantest.Dataset
	sict   ckantest.Dataset
}

func newCheckEnv(t *testing.T) *checkEnv {
	t.Helper()
	e := &checkEnv{t: t, ckan: ckantest.New(nil), posts: &recorder{}}
	t.Cleanup(e.ckan.Close)
	e.inegi = e.ckan.Add(ckantest.Dataset{Name: "censo_2020", Title: "Censo de Población 2020", Org: "inegi",
		Resources: []ckantest.Resource{{Name: "Tabulados", Format: "CSV"}}})
	e.sict = e.ckan.Add(ckantest.Dataset{Name: "accidentes_transito", Title: "Accidentes de tránsito", Org: "sict"})
	var err error
	e.client, err = portal.New(portal.Config{URL: e.ckan.URL, RPS: -1, Backoff: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return time.Date(2026, 11, 20, 10, 0, 0, 0, mexico).Add(time.Since(start)) }
	e.store = storagetest.Open(t, now)
	e.checks = &portal.Checks{Checker: &portal.Checker{Client: e.client}, Store: e.store, Poster: e.posts,
		FirstDelay: 20 * time.Millisecond, MaxDelay: 50 * time.Millisecond, Interval: 10 * time.Millisecond}
	e.svc = commands.New(commands.Config{Store: e.store, Poster: e.posts, Now: now, Loc: mexico,
		Admins: []datosbot.UserID{admin}, DataChecker: e.checks})
	e.ok(admin, "console:general", "institucion alta inegi Instituto Nacional de Estadística y Geografía ckan:inegi")
	e.ok(admin, canal, "canal vincular inegi")
	r := e.ok(admin, "console:general", "invitar inegi institucional")
	code := regexp.MustCompile(`Código para [^:]+: ([A-Z0-9]{6})`).FindStringSubmatch(r.Text)
	if code == nil {
		t.Fatalf("no code in %q", r.Text)
	}
	e.ok(ines, "console:general", "unirme "+code[1])
	return e
}

var start = time.Now()

func (e *checkEnv) do(user datosbot.UserID, ch datosbot.ChannelID, text string) datosbot.Reply {
	return e.svc.Handle(context.Background(), datosbot.Request{User: user, Channel: ch, Text: text})
}

func (e *checkEnv) ok(user datosbot.UserID, ch datosbot.ChannelID, text string) datosbot.Reply {
	e.t.Helper()
	r := e.do(user, ch, text)
	if r.Error != "" {
		e.t.Fatalf("%q refused: %s", text, r.PlainText())
	}
	return r
}

func (e *checkEnv) actions() []datosbot.Action {
	e.t.Helper()
	as, err := e.store.Actions(context.Background(), "inegi", datosbot.Bimester{})
	if err != nil {
		e.t.Fatal(err)
	}
	return as
}

func TestAnunciarChecksTheDataURL(t *testing.T) {
	e := newCheckEnv(t)
	res := e.inegi.Resources[0]
	for _, tc := range []struct {
		name, url string
		want      datosbot.CheckStatus
		reply     string // in the reply
	}{
		{"own dataset", "https://www.datos.gob.mx/dataset/censo_2020", datosbot.CheckVerificada, "verificada en datos.gob.mx: Censo de Población 2020 (inegi)"},
		{"another institution's", "https://www.datos.gob.mx/dataset/accidentes_transito", datosbot.CheckOtraInstitucion, "de otra institución: Accidentes de tránsito es de sict"},
		{"resource path", "https://datos.gob.mx/busca/dataset/censo-viejo/resource/" + res.ID, datosbot.CheckVerificada, "verificada"},
		{"uuid download", fmt.Sprintf("https://www.datos.gob.mx/dataset/%s/resource/%s/download/censo.csv", e.inegi.ID, res.ID), datosbot.CheckVerificada, "verificada"},
		{"old busca fragment", "http://busca.datos.gob.mx/#!/conjuntos/censo_2020", datosbot.CheckVerificada, "verificada"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.ok(ines, canal, "anunciar "+tc.url+" https://x.com/INEGI_INFORMA/status/"+strings.ReplaceAll(tc.name, " ", "_"))
			if !strings.Contains(r.PlainText(), tc.reply) {
				t.Errorf("reply: got\n%s\nwant it to contain %q", r.PlainText(), tc.reply)
			}
			as := e.actions()
			a := as[len(as)-1]
			nextStep := "Si quería registrar datos de su institución, retire la acción con /datos retirar " + a.ID
			if got := strings.Contains(r.PlainText(), nextStep); got != (tc.want == datosbot.CheckOtraInstitucion) {
				t.Errorf("reply: got\n%s\nwant the next step %q only for otra_institucion", r.PlainText(), nextStep)
			}
			if len(a.DataChecks) != 1 || a.DataChecks[0].Status != tc.want || a.DataChecks[0].URL != tc.url {
				t.Fatalf("stored checks: got %+v, want %s for %s", a.DataChecks, tc.want, tc.url)
			}
			if c := a.DataChecks[0]; c.Dataset != "censo_2020" && c.Dataset != "accidentes_transito" || c.CheckedAt.IsZero() {
				t.Errorf("got %+v, want the dataset's name and the time of the check", c)
			}
		})
	}
	if got := e.ok(ines, canal, "acciones").PlainText(); !strings.Contains(got, "datos verificados") || !strings.Contains(got, "datos de otra institución") {
		t.Errorf("acciones: got\n%s\nwant the data checks on each line", got)
	}
	if got := e.ok(ines, canal, "estado").PlainText(); !strings.Contains(got, "datos verificados") {
		t.Errorf("estado: got\n%s\nwant the data checks", got)
	}
}

// A data URL the portal does not know is refused and nothing is stored;
// the reply says the dataset does not exist and how to copy the right URL.
func TestAnunciarRefusesAMissingDataset(t *testing.T) {
	e := newCheckEnv(t)
	for _, url := range []string{
		"https://www.datos.gob.mx/dataset/censo_2030",
		"https://datos.gob.mx/busca/dataset/censo_2020/resource/00000000-0000-4000-8000-000000000000",
		"http://busca.datos.gob.mx/#!/conjuntos/no-existe",
	} {
		r := e.do(ines, canal, "anunciar "+url+" "+tweet)
		if r.Error != datosbot.EINVALID || !strings.Contains(r.Text, "no existe en datos.gob.mx") || !strings.Contains(r.Text, "copie la dirección") {
			t.Errorf("%s: got %q %q, want a refusal saying the dataset does not exist and how to copy its URL", url, r.Error, r.Text)
		}
	}
	if as := e.actions(); len(as) != 0 {
		t.Errorf("got %d actions stored, want none", len(as))
	}
	r := e.do(admin, "console:general", "campaña nueva 2026-12-15 https://www.datos.gob.mx/dataset/censo_2030 Difundan el censo.")
	if r.Error != datosbot.EINVALID || !strings.Contains(r.Text, "no existe") {
		t.Errorf("campaña nueva: got %q %q, want the missing dataset refused", r.Error, r.Text)
	}
	r = e.do(ines, canal, "publicar https://www.datos.gob.mx/dataset/censo_2030")
	if r.Error != datosbot.EINVALID || len(e.posts.Posts()) != 0 {
		t.Errorf("publicar: got %q and %d posts, want the missing dataset refused and nothing posted", r.Error, len(e.posts.Posts()))
	}
}

// A hanging portal gives pendiente within the 2-second budget; the
// background re-check then makes it verificada with no other command.
func TestHangingPortalIsPendienteThenVerificada(t *testing.T) {
	e := newCheckEnv(t)
	release := e.ckan.Hang()
	began := time.Now()
	r := e.ok(ines, canal, "anunciar https://www.datos.gob.mx/dataset/censo_2020 "+tweet)
	if took := time.Since(began); took > portal.DefaultBudget+500*time.Millisecond {
		t.Errorf("the reply took %v, want at most the 2 s budget", took)
	}
	if !strings.Contains(r.PlainText(), "pendiente") {
		t.Errorf("reply: got\n%s\nwant the check pendiente", r.PlainText())
	}
	a := e.actions()[0]
	if a.DataChecks[0].Status != datosbot.CheckPendiente {
		t.Fatalf("stored: got %+v, want pendiente", a.DataChecks)
	}
	release()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.checks.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if a, _ := e.store.Action(context.Background(), a.ID); a.DataChecks[0].Status == datosbot.CheckVerificada {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("the action stayed %+v, want verificada after the background re-check", e.actions()[0].DataChecks)
}

// A URL accepted as pendiente that turns out not to exist is told once in
// the institution's channel.
func TestLaterInexistenteIsToldOnce(t *testing.T) {
	e := newCheckEnv(t)
	e.ckan.Fail(http.StatusServiceUnavailable, 1)
	e.ok(ines, canal, "anunciar https://www.datos.gob.mx/dataset/censo_2030 "+tweet)
	a := e.actions()[0]
	if a.DataChecks[0].Status != datosbot.CheckPendiente {
		t.Fatalf("got %+v, want pendiente after a 503", a.DataChecks)
	}
	e.client.ResetBackoff()
	for range 3 {
		time.Sleep(30 * time.Millisecond)
		if err := e.checks.Tick(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	a, _ = e.store.Action(context.Background(), a.ID)
	if a.DataChecks[0].Status != datosbot.CheckInexistente {
		t.Errorf("got %+v, want inexistente after the portal answered", a.DataChecks)
	}
	posts := e.posts.Posts()
	if len(posts) != 1 || posts[0].Channel != canal || !strings.Contains(posts[0].Reply.Text, "datos.gob.mx no tiene ese conjunto") ||
		!strings.Contains(posts[0].Reply.Text, "/datos retirar "+a.ID) {
		t.Errorf("got posts %+v, want one notice in %s saying the dataset does not exist and how to fix it", posts, canal)
	}
}

// A portal answering 429 or a proxy's 403 is backed off: the commands
// after the first go pendiente without asking it again.
func TestRateLimitedPortalIsNotHammered(t *testing.T) {
	for _, status := range []int{http.StatusTooManyRequests, http.StatusForbidden} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			e := newCheckEnv(t)
			before := e.ckan.Requests("")
			e.ckan.Fail(status, -1)
			for i := range 5 {
				r := e.ok(ines, canal, fmt.Sprintf("anunciar https://www.datos.gob.mx/dataset/censo_2020 %s%d", tweet, i))
				if !strings.Contains(r.PlainText(), "pendiente") {
					t.Errorf("reply %d: got %s, want pendiente", i, r.PlainText())
				}
			}
			for range 3 {
				e.checks.Tick(context.Background())
			}
			if got := e.ckan.Requests("") - before; got != 1 {
				t.Errorf("got %d requests for 5 commands and 3 re-check rounds, want 1 and then a backoff", got)
			}
		})
	}
}

func TestPublicarAndCampaignAPIChecks(t *testing.T) {
	e := newCheckEnv(t)
	r := e.ok(ines, canal, "publicar https://www.datos.gob.mx/dataset/accidentes_transito")
	if !strings.Contains(r.PlainText(), "de otra institución") || !strings.Contains(r.PlainText(), "envíe el aviso con /datos publicar") {
		t.Errorf("publicar: got %s, want it to say the data are another institution's and what to do", r.PlainText())
	}
	cc := e.svc.Campaigns()
	_, _, err := cc.CreateCampaign(context.Background(), admin, datosbot.RoleUnidad,
		datosbot.Campaign{Message: "Difundan", DataURLs: []string{"https://www.datos.gob.mx/dataset/no_hay"}, Deadline: datosbot.Date{Year: 2026, Month: 12, Day: 15}}, "")
	if datosbot.ErrorCode(err) != datosbot.EINVALID || !strings.Contains(datosbot.ErrorMessage(err), "no existe") {
		t.Errorf("campaign API: got %v, want the missing dataset refused", err)
	}
	_, created, err := cc.CreateCampaign(context.Background(), admin, datosbot.RoleUnidad,
		datosbot.Campaign{Message: "Difundan", DataURLs: []string{"https://www.datos.gob.mx/dataset/censo_2020"}, Deadline: datosbot.Date{Year: 2026, Month: 12, Day: 15}}, "")
	if err != nil || !created {
		t.Errorf("campaign API with an existing dataset: got %v %v, want it created", created, err)
	}
}

// A campaign accepted while the portal failed, whose dataset turns out
// not to exist, is told once in the Unidad's channel.
func TestCampaignLaterInexistenteGoesToTheUnidad(t *testing.T) {
	e := newCheckEnv(t)
	const unidad = datosbot.ChannelID("console:unidad")
	e.checks.UnidadChannel = unidad
	e.ckan.Fail(http.StatusBadGateway, 1)
	camp, created, err := e.svc.Campaigns().CreateCampaign(context.Background(), admin, datosbot.RoleUnidad,
		datosbot.Campaign{Message: "Difundan", DataURLs: []string{"https://www.datos.gob.mx/dataset/no_hay"}, Deadline: datosbot.Date{Year: 2026, Month: 12, Day: 15}}, "")
	if err != nil || !created {
		t.Fatalf("got %v %v, want the campaign created while the portal fails", created, err)
	}
	e.client.ResetBackoff()
	for range 3 {
		time.Sleep(30 * time.Millisecond)
		e.checks.Tick(context.Background())
	}
	var told []datosbot.Message
	for _, p := range e.posts.Posts() {
		if p.Channel == unidad {
			told = append(told, p)
		}
	}
	if len(told) != 1 || !strings.Contains(told[0].Reply.Text, "La campaña "+camp.ID) {
		t.Errorf("got %+v in the Unidad's channel, want one notice about campaign %s", told, camp.ID)
	}
}

// A data URL copied from a social post is checked, and stored, without
// its tracking parameters.
func TestTrackingParametersAreCheckedAndStoredWithout(t *testing.T) {
	e := newCheckEnv(t)
	r := e.ok(ines, canal, "anunciar https://www.datos.gob.mx/dataset/censo_2020?utm_source=twitter&utm_medium=social "+tweet)
	if !strings.Contains(r.PlainText(), "verificada") {
		t.Errorf("reply: got %s, want verificada", r.PlainText())
	}
	a := e.actions()[0]
	if a.DataURLs[0] != "https://www.datos.gob.mx/dataset/censo_2020" || a.DataChecks[0].URL != a.DataURLs[0] {
		t.Errorf("stored: got %v %+v, want the URL without utm_* in both", a.DataURLs, a.DataChecks)
	}
}

// A deleted dataset (CKAN's own 403 to the public) does not exist for a
// liaison: refused, and the portal is not backed off for it.
func TestDeletedDatasetIsInexistente(t *testing.T) {
	e := newCheckEnv(t)
	gone := e.ckan.Add(ckantest.Dataset{Name: "retirado", Org: "inegi", Deleted: true, Resources: []ckantest.Resource{{Name: "x"}}})
	for _, url := range []string{"https://www.datos.gob.mx/dataset/retirado", "https://www.datos.gob.mx/dataset/retirado/resource/" + gone.Resources[0].ID} {
		if r := e.do(ines, canal, "anunciar "+url+" "+tweet); r.Error != datosbot.EINVALID || !strings.Contains(r.Text, "no existe") {
			t.Errorf("%s: got %q %q, want it refused as inexistente", url, r.Error, r.Text)
		}
	}
	if r := e.ok(ines, canal, "anunciar https://www.datos.gob.mx/dataset/censo_2020 "+tweet); !strings.Contains(r.PlainText(), "verificada") {
		t.Errorf("after a deleted dataset: got %s, want the next check answered (no backoff)", r.PlainText())
	}
}

// Backfill queues only the re-checks that are missing: a queued one keeps
// its attempts and due time.
func TestBackfillQueuesOnlyMissingRechecks(t *testing.T) {
	e := newCheckEnv(t)
	e.ckan.Fail(http.StatusServiceUnavailable, 1)
	e.ok(ines, canal, "anunciar https://www.datos.gob.mx/dataset/censo_2020 "+tweet)
	ctx := context.Background()
	if n, err := e.checks.Backfill(ctx); err != nil || n != 0 {
		t.Errorf("with the re-check queued: got %d %v, want nothing queued", n, err)
	}
	jobs, err := e.store.ClaimDataRechecks(ctx, time.Now().AddDate(1, 0, 0), time.Hour, 10)
	if err != nil || len(jobs) != 1 {
		t.Fatalf("got %d jobs (%v), want 1", len(jobs), err)
	}
	e.store.FinishDataRecheck(ctx, jobs[0].ID)
	if n, err := e.checks.Backfill(ctx); err != nil || n != 1 {
		t.Errorf("with the re-check lost: got %d %v, want it queued again", n, err)
	}
	if n, err := e.checks.Backfill(ctx); err != nil || n != 0 {
		t.Errorf("a second backfill: got %d %v, want nothing more", n, err)
	}
}
