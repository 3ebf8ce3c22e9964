package datosbot_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/datosbot/datosbot"
)

func ymd(y int, m time.Month, d int) datosbot.Date { return datosbot.Date{Year: y, Month: m, Day: d} }

func TestCompliance(t *testing.T) {
	b := datosbot.Bimester{Year: 2026, N: 6}
	insts := []datosbot.Institution{
		{Key: "shcp", Name: "Secretaría de Hacienda", Active: true},
		{Key: "imss", Name: "IMSS", Active: false},
		{Key: "inegi", Name: "INEGI", Active: true},
		{Key: "conagua", Name: "Conagua", Active: true},
	}
	t1 := time.Date(2026, 11, 2, 17, 0, 0, 0, time.UTC)
	t2 := time.Date(2027, 1, 3, 9, 0, 0, 0, time.UTC)
	actions := []datosbot.Action{
		{Institution: "inegi", PublishedOn: ymd(2026, 11, 1), RegisteredAt: t1},                 // first day
		{Institution: "inegi", PublishedOn: ymd(2026, 12, 31), RegisteredAt: t2},                // last day, registered later
		{Institution: "inegi", PublishedOn: ymd(2026, 10, 31), RegisteredAt: t2.Add(time.Hour)}, // day before
		{Institution: "inegi", PublishedOn: ymd(2027, 1, 1), RegisteredAt: t2.Add(time.Hour)},   // day after
		{Institution: "shcp", PublishedOn: ymd(2026, 11, 15), RegisteredAt: t1, Withdrawn: true},
		{Institution: "imss", PublishedOn: ymd(2026, 11, 15), RegisteredAt: t1},   // inactive
		{Institution: "sep", PublishedOn: ymd(2026, 11, 15), RegisteredAt: t1},    // unknown
		{Institution: "conagua", PublishedOn: ymd(2026, 12, 1), RegisteredAt: t2}, // latest first
		{Institution: "conagua", PublishedOn: ymd(2026, 12, 2), RegisteredAt: t1},
	}
	rows := datosbot.Compliance(insts, actions, b)
	type row struct {
		key       string
		compliant bool
		actions   int
		last      *time.Time
	}
	want := []row{
		{"conagua", true, 2, &t2},
		{"inegi", true, 2, &t2},
		{"shcp", false, 0, nil},
	}
	if len(rows) != len(want) {
		t.Fatalf("Compliance returned %d rows (%+v), want %d: one per active institution", len(rows), rows, len(want))
	}
	for i, w := range want {
		r := rows[i]
		if r.Institution != w.key || r.Compliant != w.compliant || r.Actions != w.actions || r.Bimester != b {
			t.Errorf("row %d = %s compliant=%v actions=%d bimester=%s, want %s compliant=%v actions=%d bimester=%s",
				i, r.Institution, r.Compliant, r.Actions, r.Bimester, w.key, w.compliant, w.actions, b)
		}
		switch {
		case w.last == nil && r.LastActionAt != nil:
			t.Errorf("%s: LastActionAt = %v, want nil", r.Institution, *r.LastActionAt)
		case w.last != nil && (r.LastActionAt == nil || !r.LastActionAt.Equal(*w.last)):
			t.Errorf("%s: LastActionAt = %v, want %v", r.Institution, r.LastActionAt, *w.last)
		}
	}
	if rows[2].Name != "Secretaría de Hacienda" {
		t.Errorf("shcp name = %q, want the institution's name", rows[2].Name)
	}

	p, err := json.Marshal(rows[2])
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`"last_action_at":null`, `"bimester":"2026-B6"`, `"compliant":false`, `"actions":0`} {
		if !strings.Contains(string(p), s) {
			t.Errorf("JSON of a row without actions = %s, want it to contain %s", p, s)
		}
	}
}

func TestComplianceWithoutInstitutions(t *testing.T) {
	rows := datosbot.Compliance(nil, nil, datosbot.Bimester{Year: 2026, N: 1})
	p, _ := json.Marshal(rows)
	if got, want := string(p), "[]"; got != want {
		t.Errorf("JSON of no rows = %s, want %s", got, want)
	}
}

func TestComplies(t *testing.T) {
	b := datosbot.Bimester{Year: 2026, N: 2} // March–April
	tests := []struct {
		name    string
		actions []datosbot.Action
		want    bool
	}{
		{"no actions", nil, false},
		{"first day", []datosbot.Action{{PublishedOn: ymd(2026, 3, 1)}}, true},
		{"last day", []datosbot.Action{{PublishedOn: ymd(2026, 4, 30)}}, true},
		{"day before", []datosbot.Action{{PublishedOn: ymd(2026, 2, 28)}}, false},
		{"day after", []datosbot.Action{{PublishedOn: ymd(2026, 5, 1)}}, false},
		{"same months another year", []datosbot.Action{{PublishedOn: ymd(2025, 3, 15)}}, false},
		{"withdrawn only", []datosbot.Action{{PublishedOn: ymd(2026, 3, 15), Withdrawn: true}}, false},
		{"withdrawn and a live one", []datosbot.Action{
			{PublishedOn: ymd(2026, 3, 15), Withdrawn: true},
			{PublishedOn: ymd(2026, 1, 15)},
			{PublishedOn: ymd(2026, 4, 2)},
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := datosbot.Complies(tt.actions, b); got != tt.want {
				t.Errorf("Complies(%+v, %s) = %v, want %v", tt.actions, b, got, tt.want)
			}
		})
	}
}
