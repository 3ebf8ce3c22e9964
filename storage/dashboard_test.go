package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/storage/storagetest"
)

func TestSignInRecords(t *testing.T) {
	now := time.Date(2026, 11, 20, 16, 0, 0, 0, time.UTC)
	s := storagetest.Open(t, func() time.Time { return now })
	ctx := context.Background()
	expires := now.Add(15 * time.Minute)
	if err := s.CreateSignIn(ctx, "d1", admin, expires); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSignIn(ctx, "d1", ana, expires); datosbot.ErrorCode(err) != datosbot.ECONFLICT {
		t.Errorf("a digest drawn twice: %v, want ECONFLICT", err)
	}
	u, exp, used, err := s.RedeemSignIn(ctx, "d1", now.Add(time.Minute))
	if err != nil || u != admin || !exp.Equal(expires) || !used.IsZero() {
		t.Fatalf("first redeem = %v %v %v %v", u, exp, used, err)
	}
	u, _, used, err = s.RedeemSignIn(ctx, "d1", now.Add(2*time.Minute))
	if err != nil || u != admin || !used.Equal(now.Add(time.Minute)) {
		t.Errorf("second redeem = %v used %v %v, want it reported used at the first", u, used, err)
	}
	if err := s.CreateSignIn(ctx, "d2", ana, expires); err != nil {
		t.Fatal(err)
	}
	if _, _, used, err := s.RedeemSignIn(ctx, "d2", expires); err != nil || !used.IsZero() {
		t.Errorf("expired redeem = used %v %v", used, err)
	}
	// Expired, it is still not redeemed: a second try says the same.
	if _, _, used, _ := s.RedeemSignIn(ctx, "d2", expires.Add(time.Hour)); !used.IsZero() {
		t.Error("an expired link was marked used")
	}
	if _, _, _, err := s.RedeemSignIn(ctx, "nunca", now); datosbot.ErrorCode(err) != datosbot.ENOTFOUND {
		t.Errorf("unknown digest: %v, want ENOTFOUND", err)
	}

	if err := s.CreateSession(ctx, "s1", ana, time.Hour); err != nil {
		t.Fatal(err)
	}
	if u, err := s.Session(ctx, "s1"); err != nil || u != ana {
		t.Errorf("Session = %v %v", u, err)
	}
	if err := s.DeleteSession(ctx, "s1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, "s1"); datosbot.ErrorCode(err) != datosbot.ENOTFOUND {
		t.Errorf("after DeleteSession: %v, want ENOTFOUND", err)
	}
	snap, err := s.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if str := snap.String(); len(snap.Extra) != 0 {
		t.Errorf("Export carries sign-in or session keys: %s", str)
	}
}

func TestActionsInAndInstitutionList(t *testing.T) {
	s := storagetest.Open(t, nil)
	ctx := context.Background()
	for _, k := range []string{"shcp", "inegi"} {
		if err := s.CreateInstitution(ctx, datosbot.Institution{Key: k, Name: k}, admin); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.LinkChannel(ctx, "slack:C1", "inegi", admin); err != nil {
		t.Fatal(err)
	}
	list, err := s.InstitutionList(ctx)
	if err != nil || len(list) != 2 || list[0].Key != "inegi" || list[1].Key != "shcp" || len(list[0].Channels) != 0 {
		t.Errorf("InstitutionList = %+v, %v: want inegi, shcp without channels", list, err)
	}
	b5 := datosbot.Bimester{Year: 2026, N: 5}
	add := func(id, key, date string) {
		d, _ := datosbot.ParseDate(date)
		if _, _, err := s.AddAction(ctx, datosbot.Action{ID: id, Institution: key, EvidenceURL: "https://x.com/" + id, PublishedOn: d, RegisteredBy: ana}); err != nil {
			t.Fatal(err)
		}
	}
	add("A1", "inegi", "2026-11-02")
	add("A2", "shcp", "2026-11-03")
	add("A3", "inegi", "2026-09-10")
	got, err := s.ActionsIn(ctx, []datosbot.Bimester{b5, b6, {Year: 2026, N: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || len(got[0]) != 1 || got[0][0].ID != "A3" || len(got[1]) != 2 || len(got[2]) != 0 {
		t.Fatalf("ActionsIn = %+v", got)
	}
	// A withdrawal shows at once: the decode cache is keyed by the stored bytes.
	if _, err := s.WithdrawAction(ctx, "A1", ana, "error", time.Now()); err != nil {
		t.Fatal(err)
	}
	got, err = s.ActionsIn(ctx, []datosbot.Bimester{b6})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range got[0] {
		if a.ID == "A1" && !a.Withdrawn {
			t.Error("ActionsIn returned A1 as it was before its withdrawal")
		}
	}
}
