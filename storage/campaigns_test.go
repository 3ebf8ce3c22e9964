package storage_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/storage"
)

// campaignBackends runs fn against a store on miniredis and, when
// DATOSBOT_TEST_REDIS_URL is set, on that real Redis too, each with a
// random key prefix.
func campaignBackends(t *testing.T, fn func(t *testing.T, s *storage.Store)) {
	open := func(t *testing.T, url string) *storage.Store {
		b := make([]byte, 6)
		rand.Read(b)
		s, err := storage.Open(context.Background(), storage.Config{URL: url, Prefix: "test-camp-" + hex.EncodeToString(b) + ":",
			Now: func() time.Time { return time.Date(2026, 11, 20, 16, 0, 0, 0, time.UTC) }})
		if err != nil {
			t.Fatalf("Open(%s): %v", url, err)
		}
		t.Cleanup(func() { s.Close(context.Background()) })
		return s
	}
	t.Run("miniredis", func(t *testing.T) {
		m := miniredis.RunT(t)
		fn(t, open(t, "redis://"+m.Addr()))
	})
	t.Run("redis", func(t *testing.T) {
		url := os.Getenv("DATOSBOT_TEST_REDIS_URL")
		if url == "" {
			t.Skip("DATOSBOT_TEST_REDIS_URL is not set")
		}
		fn(t, open(t, url))
	})
}

func campaignFixture(id string, created time.Time, insts ...string) datosbot.Campaign {
	return datosbot.Campaign{ID: id, Title: "Datos de " + id, Message: "Comuniquen estos datos.",
		DataURLs: []string{"https://www.datos.gob.mx/dataset/" + id}, Deadline: datosbot.Date{Year: 2026, Month: 12, Day: 15},
		RequestedBy: datosbot.RoleUnidad, CreatedBy: "console:ana", CreatedAt: created, Institutions: insts}
}

func wantErrCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := datosbot.ErrorCode(err); got != code {
		t.Fatalf("%s: got error code %q (%v), want %q", what, got, err, code)
	}
}

func TestCampaignLifecycle(t *testing.T) {
	campaignBackends(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		start := time.Date(2026, 11, 20, 16, 0, 0, 0, time.UTC)
		c, created, err := s.CreateCampaign(ctx, campaignFixture("C234", start, "shcp", "INEGI", "inegi"), "")
		if err != nil || !created {
			t.Fatalf("CreateCampaign: got created=%t err=%v, want created", created, err)
		}
		if got, want := c.Institutions, []string{"inegi", "shcp"}; !equalStrings(got, want) {
			t.Fatalf("institutions: got %v, want %v (folded, deduplicated, sorted)", got, want)
		}
		_, _, err = s.CreateCampaign(ctx, campaignFixture("C234", start, "imss"), "")
		wantErrCode(t, "same id again", err, datosbot.ECONFLICT)

		targets, err := s.CampaignTargets(ctx, "C234")
		if err != nil {
			t.Fatal(err)
		}
		if len(targets) != 2 || targets[0].Institution != "inegi" || targets[1].Institution != "shcp" {
			t.Fatalf("targets: got %+v, want inegi and shcp", targets)
		}
		for _, tg := range targets {
			if tg.Status != datosbot.StatusPendiente {
				t.Fatalf("target %s: got %s, want pendiente", tg.Institution, tg.Status)
			}
		}

		ackAt := start.Add(time.Hour)
		tg, err := s.AcknowledgeCampaign(ctx, "C234", "inegi", "slack:U1", ackAt)
		if err != nil || tg.Status != datosbot.StatusEnterado || !tg.AcknowledgedAt.Equal(ackAt) || tg.AcknowledgedBy != "slack:U1" {
			t.Fatalf("acknowledge: got %+v, %v; want enterado by slack:U1", tg, err)
		}
		tg, err = s.AcknowledgeCampaign(ctx, "C234", "inegi", "slack:U2", ackAt.Add(time.Hour))
		if err != nil || tg.AcknowledgedBy != "slack:U1" || !tg.AcknowledgedAt.Equal(ackAt) {
			t.Fatalf("acknowledge twice: got %+v, %v; want the first acknowledgement unchanged", tg, err)
		}
		_, err = s.AcknowledgeCampaign(ctx, "C234", "imss", "slack:U3", ackAt)
		wantErrCode(t, "acknowledge by a non-target", err, datosbot.ENOTFOUND)
		_, err = s.AcknowledgeCampaign(ctx, "C999", "inegi", "slack:U3", ackAt)
		wantErrCode(t, "acknowledge an unknown campaign", err, datosbot.ENOTFOUND)

		doneAt := start.Add(3 * time.Hour)
		tg, err = s.CompleteCampaign(ctx, "C234", "inegi", "A2222", doneAt)
		if err != nil || tg.Status != datosbot.StatusCumplida || tg.Action != "A2222" || tg.AcknowledgedBy != "slack:U1" {
			t.Fatalf("complete: got %+v, %v; want cumplida by A2222 keeping the acknowledgement", tg, err)
		}
		tg, err = s.CompleteCampaign(ctx, "C234", "inegi", "A3333", doneAt.Add(time.Hour))
		if err != nil || tg.Action != "A2222" || !tg.CompletedAt.Equal(doneAt) {
			t.Fatalf("complete twice: got %+v, %v; want the first completion kept", tg, err)
		}
		tg, err = s.AcknowledgeCampaign(ctx, "C234", "inegi", "slack:U2", doneAt.Add(time.Hour))
		if err != nil || tg.Status != datosbot.StatusCumplida {
			t.Fatalf("acknowledge after completion: got %+v, %v; want cumplida unchanged", tg, err)
		}
		tg, err = s.CompleteCampaign(ctx, "C234", "shcp", "A4444", doneAt)
		if err != nil || tg.Status != datosbot.StatusCumplida || !tg.AcknowledgedAt.IsZero() {
			t.Fatalf("complete from pendiente: got %+v, %v; want cumplida without acknowledgement", tg, err)
		}

		open, err := s.OpenCampaignsFor(ctx, "inegi")
		if err != nil || len(open) != 1 || open[0].ID != "C234" {
			t.Fatalf("OpenCampaignsFor(inegi): got %v, %v; want [C234]", ids(open), err)
		}
		if err := s.CloseCampaign(ctx, "C234", "console:ana"); err != nil {
			t.Fatal(err)
		}
		if err := s.CloseCampaign(ctx, "C234", "console:ana"); err != nil {
			t.Fatalf("close twice: got %v, want nil", err)
		}
		wantErrCode(t, "close unknown", s.CloseCampaign(ctx, "C999", "console:ana"), datosbot.ENOTFOUND)
		got, err := s.Campaign(ctx, "C234")
		if err != nil || !got.Closed {
			t.Fatalf("Campaign after close: got closed=%t, %v; want closed", got.Closed, err)
		}
		if open, _ := s.OpenCampaignsFor(ctx, "inegi"); len(open) != 0 {
			t.Fatalf("OpenCampaignsFor after close: got %v, want none", ids(open))
		}
		_, err = s.Campaign(ctx, "C999")
		wantErrCode(t, "unknown campaign", err, datosbot.ENOTFOUND)
		_, err = s.CampaignTargets(ctx, "C999")
		wantErrCode(t, "targets of unknown campaign", err, datosbot.ENOTFOUND)

		var events []string
		entries, err := s.Audit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.Target == "C234" {
				events = append(events, e.Event)
			}
		}
		want := []string{"campana.nueva", "campana.enterado", "campana.cumplida", "campana.cumplida", "campana.cerrar"}
		if !equalStrings(events, want) {
			t.Fatalf("audit of C234: got %v, want %v (no entry for changes that changed nothing)", events, want)
		}
	})
}

func TestCampaignIdempotencyKey(t *testing.T) {
	campaignBackends(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		start := time.Date(2026, 11, 20, 16, 0, 0, 0, time.UTC)
		first, created, err := s.CreateCampaign(ctx, campaignFixture("C234", start, "inegi"), "req-1")
		if err != nil || !created {
			t.Fatalf("first: created=%t err=%v", created, err)
		}
		again, created, err := s.CreateCampaign(ctx, campaignFixture("C567", start, "inegi", "shcp"), "req-1")
		if err != nil || created || again.ID != first.ID {
			t.Fatalf("repeat: got id %s created=%t err=%v; want %s, not created", again.ID, created, err, first.ID)
		}
		other, created, err := s.CreateCampaign(ctx, campaignFixture("C789", start.Add(time.Minute), "shcp"), "req-2")
		if err != nil || !created || other.ID != "C789" {
			t.Fatalf("other key: got id %s created=%t err=%v; want C789 created", other.ID, created, err)
		}
		all, err := s.Campaigns(ctx, false)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := ids(all), []string{"C789", "C234"}; !equalStrings(got, want) {
			t.Fatalf("Campaigns: got %v, want %v (newest first, no C567)", got, want)
		}
	})
}

func TestCampaignIdempotencyKeyConcurrent(t *testing.T) {
	campaignBackends(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		start := time.Date(2026, 11, 20, 16, 0, 0, 0, time.UTC)
		const n = 8
		var wg sync.WaitGroup
		results := make([]datosbot.Campaign, n)
		createdCount := make([]bool, n)
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				id := fmt.Sprintf("C%03d", i)
				results[i], createdCount[i], errs[i] = s.CreateCampaign(ctx, campaignFixture(id, start, "inegi"), "same-request")
			}()
		}
		wg.Wait()
		created := 0
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("request %d: %v", i, errs[i])
			}
			if createdCount[i] {
				created++
			}
			if results[i].ID != results[0].ID {
				t.Errorf("request %d: got id %s, want %s like the others", i, results[i].ID, results[0].ID)
			}
		}
		all, _ := s.Campaigns(ctx, false)
		if created != 1 || len(all) != 1 {
			t.Errorf("got %d created and %d stored, want 1 and 1", created, len(all))
		}
	})
}

func TestCampaignListsAndExport(t *testing.T) {
	campaignBackends(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		start := time.Date(2026, 11, 20, 16, 0, 0, 0, time.UTC)
		for i, c := range []datosbot.Campaign{
			campaignFixture("C222", start, "inegi"),
			campaignFixture("C333", start.Add(time.Hour), "inegi", "shcp"),
			campaignFixture("C444", start.Add(2*time.Hour), "shcp"),
		} {
			if _, _, err := s.CreateCampaign(ctx, c, ""); err != nil {
				t.Fatalf("create %d: %v", i, err)
			}
		}
		if err := s.CloseCampaign(ctx, "C444", "console:ana"); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name string
			get  func() ([]datosbot.Campaign, error)
			want []string
		}{
			{"all", func() ([]datosbot.Campaign, error) { return s.Campaigns(ctx, false) }, []string{"C444", "C333", "C222"}},
			{"open", func() ([]datosbot.Campaign, error) { return s.Campaigns(ctx, true) }, []string{"C333", "C222"}},
			{"open for inegi", func() ([]datosbot.Campaign, error) { return s.OpenCampaignsFor(ctx, "inegi") }, []string{"C333", "C222"}},
			{"open for shcp", func() ([]datosbot.Campaign, error) { return s.OpenCampaignsFor(ctx, "shcp") }, []string{"C333"}},
			{"open for imss", func() ([]datosbot.Campaign, error) { return s.OpenCampaignsFor(ctx, "imss") }, nil},
		} {
			got, err := tc.get()
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if !equalStrings(ids(got), tc.want) {
				t.Errorf("%s: got %v, want %v", tc.name, ids(got), tc.want)
			}
		}

		if _, err := s.CompleteCampaign(ctx, "C333", "shcp", "A2345", start); err != nil {
			t.Fatal(err)
		}
		snap, err := s.Export(ctx)
		if err != nil {
			t.Fatal(err)
		}
		m := miniredis.RunT(t)
		dst, err := storage.Open(ctx, storage.Config{URL: "redis://" + m.Addr(), Prefix: "other:"})
		if err != nil {
			t.Fatal(err)
		}
		defer dst.Close(ctx)
		if err := dst.Import(ctx, snap); err != nil {
			t.Fatal(err)
		}
		got, err := dst.Campaigns(ctx, true)
		if err != nil || !equalStrings(ids(got), []string{"C333", "C222"}) {
			t.Fatalf("imported open campaigns: got %v, %v; want [C333 C222]", ids(got), err)
		}
		targets, err := dst.CampaignTargets(ctx, "C333")
		if err != nil || len(targets) != 2 || targets[1].Status != datosbot.StatusCumplida || targets[1].Action != "A2345" {
			t.Fatalf("imported targets of C333: got %+v, %v; want shcp cumplida by A2345", targets, err)
		}
	})
}

func ids(cs []datosbot.Campaign) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
