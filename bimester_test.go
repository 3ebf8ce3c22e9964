package datosbot_test

import (
	"testing"
	"time"
	_ "time/tzdata"

	"github.com/datosbot/datosbot"
)

func TestBimesterBoundaries(t *testing.T) {
	loc, err := time.LoadLocation("America/Mexico_City")
	if err != nil {
		t.Fatal(err)
	}
	// The last minute of each bimester and the first of the next, local time.
	tests := []struct {
		at   time.Time
		want string
	}{
		{time.Date(2026, 1, 1, 0, 0, 0, 0, loc), "2026-B1"},
		{time.Date(2026, 2, 28, 23, 59, 0, 0, loc), "2026-B1"},
		{time.Date(2026, 3, 1, 0, 0, 0, 0, loc), "2026-B2"},
		{time.Date(2026, 4, 30, 23, 59, 0, 0, loc), "2026-B2"},
		{time.Date(2026, 5, 1, 0, 0, 0, 0, loc), "2026-B3"},
		{time.Date(2026, 6, 30, 23, 59, 0, 0, loc), "2026-B3"},
		{time.Date(2026, 7, 1, 0, 0, 0, 0, loc), "2026-B4"},
		{time.Date(2026, 8, 31, 23, 59, 0, 0, loc), "2026-B4"},
		{time.Date(2026, 9, 1, 0, 0, 0, 0, loc), "2026-B5"},
		{time.Date(2026, 10, 31, 23, 59, 0, 0, loc), "2026-B5"},
		{time.Date(2026, 11, 1, 0, 0, 0, 0, loc), "2026-B6"},
		{time.Date(2026, 12, 31, 23, 59, 0, 0, loc), "2026-B6"},
		{time.Date(2027, 1, 1, 0, 0, 0, 0, loc), "2027-B1"},
		{time.Date(2028, 2, 29, 23, 59, 0, 0, loc), "2028-B1"},
		// 05:59 UTC on 1 Jan is still 31 Dec 23:59 in Mexico City.
		{time.Date(2027, 1, 1, 5, 59, 0, 0, time.UTC), "2026-B6"},
		{time.Date(2027, 1, 1, 6, 0, 0, 0, time.UTC), "2027-B1"},
	}
	for _, tt := range tests {
		if got := datosbot.BimesterOf(tt.at, loc).String(); got != tt.want {
			t.Errorf("BimesterOf(%s) = %s, want %s", tt.at.Format(time.RFC3339), got, tt.want)
		}
	}
}

func TestBimesterStartEnd(t *testing.T) {
	loc, _ := time.LoadLocation("America/Mexico_City")
	for n := 1; n <= 6; n++ {
		b := datosbot.Bimester{Year: 2026, N: n}
		start, end := b.Start(loc), b.End(loc)
		if got := datosbot.BimesterOf(start, loc); got != b {
			t.Errorf("%s: BimesterOf(Start) = %s", b, got)
		}
		if got := datosbot.BimesterOf(end.Add(-time.Nanosecond), loc); got != b {
			t.Errorf("%s: BimesterOf(End-1ns) = %s", b, got)
		}
		if got := datosbot.BimesterOf(end, loc); got != b.Next() {
			t.Errorf("%s: BimesterOf(End) = %s, want %s", b, got, b.Next())
		}
		if got := b.Next().Prev(); got != b {
			t.Errorf("%s: Next().Prev() = %s", b, got)
		}
		if !b.Contains(b.FirstDay()) || !b.Contains(b.LastDay()) || b.Contains(b.LastDay().AddDays(1)) {
			t.Errorf("%s: FirstDay %s / LastDay %s not consistent with Contains", b, b.FirstDay(), b.LastDay())
		}
	}
	if got := (datosbot.Bimester{Year: 2028, N: 1}).LastDay().String(); got != "2028-02-29" {
		t.Errorf("2028-B1 LastDay = %s, want 2028-02-29 (leap year)", got)
	}
	if got := (datosbot.Bimester{Year: 2026, N: 6}).Label(); got != "noviembre-diciembre 2026" {
		t.Errorf("Label = %q", got)
	}
}

func TestSemesterMapping(t *testing.T) {
	for n, want := range map[int]string{1: "2026-S1", 2: "2026-S1", 3: "2026-S1", 4: "2026-S2", 5: "2026-S2", 6: "2026-S2"} {
		if got := (datosbot.Bimester{Year: 2026, N: n}).Semester().String(); got != want {
			t.Errorf("2026-B%d.Semester() = %s, want %s", n, got, want)
		}
	}
	s, err := datosbot.ParseSemester("2026-s2")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range s.Bimesters() {
		got = append(got, b.String())
	}
	if want := "[2026-B4 2026-B5 2026-B6]"; fmtSlice(got) != want {
		t.Errorf("2026-S2 bimesters = %v, want %s", got, want)
	}
}

func fmtSlice(s []string) string {
	out := "["
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out + "]"
}

func TestParseBimester(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"2026-B6", "2026-B6", true},
		{"2026-b1", "2026-B1", true},
		{" 2027-B3 ", "2027-B3", true},
		{"2026-B7", "", false},
		{"2026-B0", "", false},
		{"26-B6", "", false},
		{"2026B6", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		b, err := datosbot.ParseBimester(tt.in)
		if (err == nil) != tt.ok || (tt.ok && b.String() != tt.want) {
			t.Errorf("ParseBimester(%q) = %v, %v; want %q ok=%v", tt.in, b, err, tt.want, tt.ok)
		}
	}
}
