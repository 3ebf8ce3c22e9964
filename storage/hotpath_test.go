package storage_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/storage"
)

// TestInstitutionStatus checks the one-round-trip read behind estado: the
// institution with its channels, only its actions of the bimester (the
// withdrawn ones too, which estado skips), only open campaigns that target
// it, newest first, each with its own target; and who is calling, read in
// one pipeline.
func TestInstitutionStatus(t *testing.T) {
	campaignBackends(t, func(t *testing.T, s *storage.Store) {
		mustCreate(t, s, "inegi", "INEGI")
		mustCreate(t, s, "shcp", "Hacienda")
		for _, ch := range []datosbot.ChannelID{"slack:C2", "slack:C1"} {
			if err := s.LinkChannel(ctx, ch, "inegi", admin); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.AddMembership(ctx, datosbot.Membership{User: ana, Role: datosbot.RoleComunicacion, Institution: "inegi", GrantedBy: admin}); err != nil {
			t.Fatal(err)
		}
		start := time.Date(2026, 11, 2, 16, 0, 0, 0, time.UTC)
		for i, a := range []datosbot.Action{
			action("A1", "inegi", "https://x.com/1", nov20, start.Add(time.Hour)),
			action("A2", "inegi", "https://x.com/2", nov20, start.Add(2*time.Hour)),
			action("A3", "inegi", "https://x.com/3", datosbot.Date{Year: 2026, Month: 10, Day: 20}, start), // B5
			action("S1", "shcp", "https://x.com/4", nov20, start),
		} {
			if _, _, err := s.AddAction(ctx, a); err != nil {
				t.Fatalf("action %d: %v", i, err)
			}
		}
		if _, err := s.WithdrawAction(ctx, "A2", ana, "error", start.Add(3*time.Hour)); err != nil {
			t.Fatal(err)
		}
		for i, c := range []datosbot.Campaign{
			campaignFixture("C222", start, "inegi", "shcp"),
			campaignFixture("C333", start.Add(time.Hour), "inegi"),
			campaignFixture("C444", start.Add(2*time.Hour), "inegi"), // closed below
			campaignFixture("C555", start.Add(3*time.Hour), "shcp"),
		} {
			if _, _, err := s.CreateCampaign(ctx, c, ""); err != nil {
				t.Fatalf("campaign %d: %v", i, err)
			}
		}
		if err := s.CloseCampaign(ctx, "C444", admin); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AcknowledgeCampaign(ctx, "C222", "inegi", ana, start.Add(4*time.Hour)); err != nil {
			t.Fatal(err)
		}

		before := s.RoundTrips()
		st, err := s.InstitutionStatus(ctx, "inegi", b6)
		if err != nil {
			t.Fatal(err)
		}
		if n := s.RoundTrips() - before; n != 1 {
			t.Errorf("InstitutionStatus took %d round trips, want 1", n)
		}
		got := fmt.Sprintf("%s %v |", st.Institution.Key, st.Institution.Channels)
		for _, a := range st.Actions {
			got += fmt.Sprintf(" %s withdrawn=%t", a.ID, a.Withdrawn)
		}
		got += " |"
		for _, p := range st.Campaigns {
			got += fmt.Sprintf(" %s %s %s", p.Campaign.ID, p.Target.Institution, p.Target.Status)
		}
		if want := "inegi [slack:C1 slack:C2] | A1 withdrawn=false A2 withdrawn=true | C333 inegi pendiente C222 inegi enterado"; got != want {
			t.Errorf("InstitutionStatus(inegi, B6)\n got %s\nwant %s", got, want)
		}
		if _, err := s.InstitutionStatus(ctx, "nada", b6); err == nil || err.Error() != datosbot.InstitutionNotFound("nada").Error() {
			t.Errorf("InstitutionStatus(nada) = %v, want InstitutionNotFound", err)
		}

		before = s.RoundTrips()
		ms, inst, err := s.Identify(ctx, ana, "slack:C1")
		if err != nil || len(ms) != 1 || ms[0].Institution != "inegi" || inst != "inegi" {
			t.Errorf("Identify(ana, slack:C1) = %v, %q, %v; want her inegi membership and inegi", ms, inst, err)
		}
		if n := s.RoundTrips() - before; n != 1 {
			t.Errorf("Identify took %d round trips, want 1", n)
		}
		if ms, inst, err := s.Identify(ctx, "slack:UNADIE", "slack:C9"); err != nil || len(ms) != 0 || inst != "" {
			t.Errorf("Identify(nobody, unlinked) = %v, %q, %v; want nothing, no error", ms, inst, err)
		}
		if _, inst, err := s.Identify(ctx, ana, ""); err != nil || inst != "" {
			t.Errorf("Identify(ana, no channel) = %q, %v", inst, err)
		}
	})
}
