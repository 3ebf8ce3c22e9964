package reminders_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/internal/fakeclock"
)

// TestBimesterReminders runs 2026-B6 from 14 December with a fake clock:
// reminders land on 18, 24, 29 and 31 December at 10:00 for the
// institutions that do not comply, an action stops its institution's later
// reminders, and on 4 January the overdue notices and one Unidad summary
// go out, once.
func TestBimesterReminders(t *testing.T) {
	c := fakeclock.New(at("2026-12-14T09:00"))
	e := newEnv(t, c)
	e.institution(t, "inegi", "slack:CINEGI", "telegram:-100111")
	e.institution(t, "shcp", "slack:CSHCP")
	e.institution(t, "imss", "telegram:-100333")
	e.institution(t, "sep", "slack:CSEP")
	e.institution(t, "baja", "slack:CBAJA")
	if err := e.ts.SetInstitutionActive(context.Background(), "baja", false, "console:admin"); err != nil {
		t.Fatal(err)
	}
	e.action(t, "A1SEP", "sep", "2026-12-01") // sep complies from the start

	e.runUntil(t, at("2026-12-26T09:00"), 30*time.Minute)
	e.action(t, "A2SHCP", "shcp", "2026-12-26") // shcp complies from 26 December
	e.runUntil(t, at("2027-01-06T12:00"), 30*time.Minute)

	var want []string
	for _, r := range []struct{ key, at string }{
		{"recordatorio:2026-B6:d14", "2026-12-18T10:00"},
		{"recordatorio:2026-B6:d7", "2026-12-24T10:00"},
		{"recordatorio:2026-B6:d3", "2026-12-29T10:00"},
		{"recordatorio:2026-B6:d1", "2026-12-31T10:00"},
		{"vencido:2026-B6", "2027-01-04T10:00"},
	} {
		chans := []string{"slack:CINEGI", "telegram:-100111", "telegram:-100333"}
		if r.at < "2026-12-26" {
			chans = append(chans, "slack:CSHCP")
		}
		if strings.HasPrefix(r.key, "vencido") {
			chans = append(chans, string(unidad))
		}
		for _, ch := range chans {
			want = append(want, r.key+":"+ch+" @ "+r.at)
		}
	}
	got := e.sender.deliveries()
	diff(t, "deliveries", summary(got), sortedCopy(want))

	for _, d := range got {
		switch {
		case d.Key == "recordatorio:2026-B6:d14:slack:CINEGI":
			for _, s := range []string{"Institución INEGI", "Quedan 14 días", "31 de diciembre de 2026", datosbot.URLRule, "/datos anunciar <url-datos> <url-publicación>"} {
				if !strings.Contains(d.Reply.Text, s) {
					t.Errorf("reminder text %q does not contain %q", d.Reply.Text, s)
				}
			}
		case d.Key == "recordatorio:2026-B6:d1:slack:CINEGI":
			if !strings.Contains(d.Reply.Text, "último día") {
				t.Errorf("last-day reminder %q does not say it is the last day", d.Reply.Text)
			}
		case d.Channel == unidad:
			text := d.Reply.PlainText()
			for _, s := range []string{"Cumplieron 2 de 4", "Cumplieron (2): sep, shcp", "No cumplieron (2): imss, inegi"} {
				if !strings.Contains(text, s) {
					t.Errorf("Unidad summary %q does not contain %q", text, s)
				}
			}
		}
	}
	if st := e.stats(t); st.Sent != int64(len(got)) || st.Uncertain != 0 || st.Repeated != 0 {
		t.Errorf("stats = %+v, want Sent %d and no uncertain or repeated posts", st, len(got))
	}
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// TestReplicasExactlyOnce runs two schedulers and two outbox workers on
// one Redis, all four ticking concurrently over the whole bimester: every
// expected message is posted exactly once.
func TestReplicasExactlyOnce(t *testing.T) {
	c := fakeclock.New(at("2026-12-14T09:00"))
	snd := &sender{clock: c}
	a := replica(t, newEnv(t, c).ts, c, snd)
	b := a.replica(t, snd)
	const n = 20
	for i := range n {
		a.institution(t, fmt.Sprintf("inst%02d", i),
			datosbot.ChannelID(fmt.Sprintf("slack:C%02d", i)), datosbot.ChannelID(fmt.Sprintf("telegram:-100%02d", i)))
	}
	ctx := context.Background()
	for ; !c.Now().After(at("2027-01-05T12:00")); c.Advance(30 * time.Minute) {
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for _, r := range []*env{a, b} {
			wg.Add(2)
			go func() { defer wg.Done(); errs <- r.sched.Tick(ctx) }()
			go func() {
				defer wg.Done()
				for {
					k, err := r.outbox.DeliverOnce(ctx)
					if err != nil || k == 0 {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("at %s: %v", c.Now(), err)
			}
		}
		// A message enqueued by one scheduler while the other worker had
		// just looked is delivered on the next step at the latest.
	}
	a.drain(t)
	got := snd.deliveries()
	if d := dupes(got); len(d) > 0 {
		t.Errorf("delivered more than once: %v", d)
	}
	// 4 reminders and 1 overdue notice per channel, plus one summary.
	if want := 5*2*n + 1; len(got) != want {
		t.Errorf("got %d deliveries, want %d", len(got), want)
	}
}

// TestCatchUp stops the bot across reminder instants: one catch-up message
// per channel, telling the real days left, and none for a channel linked
// after the instant it catches up.
func TestCatchUp(t *testing.T) {
	tests := []struct {
		name    string
		back    string   // when the bot starts again
		want    []string // keys delivered, without the channel
		chans   []string // channels that get them
		text    string   // in the catch-up message
		outcome map[string]string
	}{
		{
			name: "three reminders missed", back: "2026-12-30T12:00",
			want: []string{"recordatorio:2026-B6:d3"}, text: "Quedan 2 días",
			// slack:CNUEVO was linked after the 29 December reminder.
			chans:   []string{"slack:CINEGI", "telegram:-100111"},
			outcome: map[string]string{"recordatorio:2026-B6:d14": "stale", "recordatorio:2026-B6:d7": "stale", "recordatorio:2026-B6:d3": "sent 2"},
		},
		{
			name: "bimester ended while down", back: "2027-01-06T08:00",
			want: []string{"vencido:2026-B6"}, text: "vencido",
			chans:   []string{"slack:CINEGI", "slack:CNUEVO", "telegram:-100111"},
			outcome: map[string]string{"recordatorio:2026-B6:d1": "stale", "vencido:2026-B6": "sent 4"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := fakeclock.New(at("2026-12-14T09:00"))
			e := newEnv(t, c)
			e.institution(t, "inegi", "slack:CINEGI", "telegram:-100111")
			e.tick(t) // the bot runs once, then is down
			c.Set(at("2026-12-29T12:00"))
			if err := e.ts.LinkChannel(context.Background(), "slack:CNUEVO", "inegi", "console:admin"); err != nil {
				t.Fatal(err)
			}
			c.Set(at(tt.back))
			e.tick(t)
			e.drain(t)
			e.tick(t) // again: nothing more
			e.drain(t)
			var want []string
			for _, k := range tt.want {
				for _, ch := range tt.chans {
					want = append(want, k+":"+ch)
				}
				if strings.HasPrefix(k, "vencido") {
					want = append(want, k+":"+string(unidad))
				}
			}
			got := e.sender.deliveries()
			diff(t, "deliveries", keys(got), sortedCopy(want))
			// Deliveries run in parallel: check every message to the
			// institution's channels, not whichever came first.
			for _, d := range got {
				if d.Channel != unidad && !strings.Contains(d.Reply.PlainText(), tt.text) {
					t.Errorf("catch-up message to %s %q does not contain %q", d.Channel, d.Reply.PlainText(), tt.text)
				}
			}
			for k, want := range tt.outcome {
				got, err := e.ts.OccurrenceOutcome(context.Background(), k)
				if err != nil || got != want {
					t.Errorf("outcome of %s = %q (%v), want %q", k, got, err, want)
				}
			}
		})
	}
}

// TestCampaignOccurrences: a campaign's 3-day and 1-day reminders reach
// the targets that have not complied, and the Unidad gets one summary at
// the deadline.
func TestCampaignOccurrences(t *testing.T) {
	c := fakeclock.New(at("2026-12-01T09:00"))
	e := newEnv(t, c)
	e.institution(t, "inegi", "slack:CINEGI")
	e.institution(t, "shcp", "slack:CSHCP")
	e.institution(t, "imss", "slack:CIMSS")
	ctx := context.Background()
	e.tick(t)
	deadline, _ := datosbot.ParseDate("2026-12-11") // a Friday
	camp, _, err := e.ts.CreateCampaign(ctx, datosbot.Campaign{ID: "C3M9", Title: "Datos de salud", Message: "Difundan el conjunto de camas.",
		DataURLs: []string{"https://www.datos.gob.mx/dataset/camas"}, Deadline: deadline, RequestedBy: datosbot.RoleUnidad,
		CreatedBy: "slack:UADMIN", CreatedAt: c.Now(), Institutions: []string{"inegi", "shcp"}}, "")
	if err != nil {
		t.Fatalf("CreateCampaign: %v", err)
	}
	if _, err := e.ts.CompleteCampaign(ctx, camp.ID, "shcp", "A1", c.Now()); err != nil {
		t.Fatalf("CompleteCampaign: %v", err)
	}
	e.runUntil(t, at("2026-12-12T12:00"), time.Hour)
	diff(t, "deliveries", summary(e.sender.deliveries()), []string{
		"campana-cierre:" + camp.ID + ":" + string(unidad) + " @ 2026-12-11T10:00",
		"campana-recordatorio:" + camp.ID + ":d1:slack:CINEGI @ 2026-12-10T10:00",
		"campana-recordatorio:" + camp.ID + ":d3:slack:CINEGI @ 2026-12-08T10:00",
	})
	for _, d := range e.sender.deliveries() {
		if d.Channel == "slack:CINEGI" && (len(d.Reply.Buttons) != 1 || d.Reply.Buttons[0].Command != "enterado "+camp.ID) {
			t.Errorf("campaign reminder buttons = %+v, want one Enterado button", d.Reply.Buttons)
		}
	}
}
