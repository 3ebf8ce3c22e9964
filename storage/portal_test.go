package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/storage/storagetest"
)

// The watermark never moves back, and the first one is also the floor.
func TestPortalWatermark(t *testing.T) {
	ctx := context.Background()
	ts := storagetest.Open(t, nil)
	t0 := time.Date(2026, 12, 1, 16, 0, 0, 0, time.UTC)
	if mark, floor, err := ts.PortalWatermark(ctx); err != nil || !mark.IsZero() || !floor.IsZero() {
		t.Fatalf("fresh store: got %v %v %v, want zeros", mark, floor, err)
	}
	for _, step := range []struct {
		set, wantMark time.Time
	}{
		{t0, t0},
		{t0.Add(15 * time.Minute), t0.Add(15 * time.Minute)},
		{t0.Add(5 * time.Minute), t0.Add(15 * time.Minute)}, // a slow replica's older run
	} {
		if err := ts.SetPortalWatermark(ctx, step.set); err != nil {
			t.Fatal(err)
		}
		mark, floor, err := ts.PortalWatermark(ctx)
		if err != nil || !mark.Equal(step.wantMark) || !floor.Equal(t0) {
			t.Errorf("after %v: got mark %v floor %v (%v), want %v and %v", step.set, mark, floor, err, step.wantMark, t0)
		}
	}
}

// A claimed re-check is not given to another replica until its lease
// ends; a finished one is gone.
func TestDataRecheckClaims(t *testing.T) {
	ctx := context.Background()
	ts := storagetest.Open(t, nil)
	now := time.Date(2026, 12, 1, 16, 0, 0, 0, time.UTC)
	for _, id := range []string{"a", "b"} {
		if err := ts.AddDataRecheck(ctx, datosbot.DataRecheck{ID: id, Kind: "accion", URL: "https://www.datos.gob.mx/dataset/" + id}, now); err != nil {
			t.Fatal(err)
		}
	}
	if err := ts.AddDataRecheck(ctx, datosbot.DataRecheck{ID: "later"}, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, err := ts.ClaimDataRechecks(ctx, now, time.Minute, 10)
	if err != nil || len(got) != 2 || got[0].URL == "" {
		t.Fatalf("first claim: got %+v %v, want a and b", got, err)
	}
	if again, _ := ts.ClaimDataRechecks(ctx, now.Add(30*time.Second), time.Minute, 10); len(again) != 0 {
		t.Errorf("claim during the lease: got %+v, want none", again)
	}
	if err := ts.FinishDataRecheck(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	after, _ := ts.ClaimDataRechecks(ctx, now.Add(2*time.Minute), time.Minute, 10)
	if len(after) != 1 || after[0].ID != "b" {
		t.Errorf("claim after the lease: got %+v, want b again (a finished, later not due)", after)
	}
	if n, _ := ts.PendingDataRechecks(ctx); n != 2 {
		t.Errorf("pending: got %d, want 2 (b and later)", n)
	}
}

// A notice is recorded, and audited as publicar, once.
func TestRecordPortalNoticeOnce(t *testing.T) {
	ctx := context.Background()
	ts := storagetest.Open(t, nil)
	n := datosbot.PortalNotice{Key: "portal:inegi:d1:conjunto", Institution: "inegi", Kind: "conjunto", URL: "https://www.datos.gob.mx/dataset/x",
		ChangedAt: time.Date(2026, 12, 1, 16, 0, 0, 0, time.UTC)}
	for i, want := range []bool{true, false} {
		if created, err := ts.RecordPortalNotice(ctx, n); err != nil || created != want {
			t.Errorf("record %d: got %v %v, want %v", i, created, err, want)
		}
	}
	trail, _ := ts.Audit(ctx)
	count := 0
	for _, e := range trail {
		if e.Event == "publicar" && e.Target == "inegi" {
			count++
		}
	}
	if count != 1 {
		t.Errorf("got %d publicar entries, want 1", count)
	}
}
