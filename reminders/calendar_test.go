package reminders

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/datosbot/datosbot"
)

func date(t *testing.T, s string) datosbot.Date {
	t.Helper()
	d, err := datosbot.ParseDate(s)
	if err != nil {
		t.Fatalf("ParseDate(%q): %v", s, err)
	}
	return d
}

func bim(t *testing.T, s string) datosbot.Bimester {
	t.Helper()
	b, err := datosbot.ParseBimester(s)
	if err != nil {
		t.Fatalf("ParseBimester(%q): %v", s, err)
	}
	return b
}

func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("LoadLocation(%q): %v", name, err)
	}
	return loc
}

func instant(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("time.Parse(%q): %v", s, err)
	}
	return v
}

// show renders occurrences as "key at left=N" lines, with the instant in
// RFC 3339 so the local hour and the zone offset are both visible.
func show(os []Occurrence) []string {
	out := make([]string, len(os))
	for i, o := range os {
		out[i] = fmt.Sprintf("%s %s left=%d", o.Key(), o.At.Format(time.RFC3339), o.DaysLeft)
	}
	return out
}

func diff(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\ngot  %s\nwant %s", what, strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}
}

func TestHolidays(t *testing.T) {
	tests := []struct {
		year int
		want []string
	}{
		{2026, []string{"2026-01-01", "2026-02-02", "2026-03-16", "2026-05-01", "2026-09-16", "2026-11-16", "2026-12-25"}},
		{2027, []string{"2027-01-01", "2027-02-01", "2027-03-15", "2027-05-01", "2027-09-16", "2027-11-15", "2027-12-25"}},
		// 2030: the federal executive takes office on 1 October.
		{2030, []string{"2030-01-01", "2030-02-04", "2030-03-18", "2030-05-01", "2030-09-16", "2030-10-01", "2030-11-18", "2030-12-25"}},
		{2024, []string{"2024-01-01", "2024-02-05", "2024-03-18", "2024-05-01", "2024-09-16", "2024-10-01", "2024-11-18", "2024-12-25"}},
		// 2018: before the 2024 change it was 1 December.
		{2018, []string{"2018-01-01", "2018-02-05", "2018-03-19", "2018-05-01", "2018-09-16", "2018-11-19", "2018-12-01", "2018-12-25"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.year), func(t *testing.T) {
			var got []string
			for _, d := range Holidays(tt.year) {
				got = append(got, d.String())
			}
			diff(t, fmt.Sprintf("Holidays(%d)", tt.year), got, tt.want)
		})
	}
}

func TestIsHoliday(t *testing.T) {
	tests := []struct {
		name string
		date string
		want bool
	}{
		{"new year", "2026-01-01", true},
		{"constitution is the first Monday", "2026-02-02", true},
		{"5 February is no longer the holiday", "2026-02-05", false},
		{"second Monday of February", "2026-02-09", false},
		{"Juárez is the third Monday", "2026-03-16", true},
		{"21 March itself", "2026-03-21", false},
		{"fourth Monday of March", "2026-03-23", false},
		{"labour day", "2026-05-01", true},
		{"independence", "2026-09-16", true},
		{"1 October 2026 is not an inauguration year", "2026-10-01", false},
		{"1 October 2030 is", "2030-10-01", true},
		{"1 October 2036 is", "2036-10-01", true},
		{"1 October 2018 was not", "2018-10-01", false},
		{"1 December 2030 is not", "2030-12-01", false},
		{"revolution is the third Monday", "2026-11-16", true},
		{"20 November itself", "2026-11-20", false},
		{"christmas", "2026-12-25", true},
		{"christmas eve", "2026-12-24", false},
		{"holy Thursday is not an art. 74 holiday", "2026-04-02", false},
		{"12 December is not an art. 74 holiday", "2026-12-12", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsHoliday(date(t, tt.date)); got != tt.want {
				t.Errorf("IsHoliday(%s) = %v, want %v", tt.date, got, tt.want)
			}
		})
	}
}

func TestBusinessDays(t *testing.T) {
	tests := []struct {
		name           string
		date           string
		business       bool
		previous, next string
	}{
		{"plain Wednesday", "2026-12-30", true, "2026-12-30", "2026-12-30"},
		{"Saturday", "2026-12-19", false, "2026-12-18", "2026-12-21"},
		{"Sunday", "2026-12-20", false, "2026-12-18", "2026-12-21"},
		{"holiday on a Friday", "2026-12-25", false, "2026-12-24", "2026-12-28"},
		{"holiday Friday before a weekend", "2027-01-01", false, "2026-12-31", "2027-01-04"},
		{"holiday on a Monday", "2026-11-16", false, "2026-11-13", "2026-11-17"},
		{"weekend after Thursday-Friday holidays", "2028-01-01", false, "2027-12-31", "2028-01-03"},
		{"weekend before a Monday holiday", "2027-03-14", false, "2027-03-12", "2027-03-16"},
		{"inauguration day 2030", "2030-10-01", false, "2030-09-30", "2030-10-02"},
		{"1 October 2026 is a plain Thursday", "2026-10-01", true, "2026-10-01", "2026-10-01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := date(t, tt.date)
			if got := IsBusinessDay(d); got != tt.business {
				t.Errorf("IsBusinessDay(%s) = %v, want %v", d, got, tt.business)
			}
			if got := PreviousBusinessDay(d).String(); got != tt.previous {
				t.Errorf("PreviousBusinessDay(%s) = %s, want %s", d, got, tt.previous)
			}
			if got := NextBusinessDay(d).String(); got != tt.next {
				t.Errorf("NextBusinessDay(%s) = %s, want %s", d, got, tt.next)
			}
		})
	}
}

// TestAcceptance2026B6 is the acceptance case: 2026-B6 with offsets
// 14,7,3,1 at 10:00 in Mexico City.
func TestAcceptance2026B6(t *testing.T) {
	c, err := NewCalendar(zone(t, "America/Mexico_City"), []int{14, 7, 3, 1}, 10)
	if err != nil {
		t.Fatal(err)
	}
	b := bim(t, "2026-B6")
	diff(t, "Reminders(2026-B6)", show(c.Reminders(b)), []string{
		"recordatorio:2026-B6:d14 2026-12-18T10:00:00-06:00 left=14",
		"recordatorio:2026-B6:d7 2026-12-24T10:00:00-06:00 left=8", // 25 Dec is a holiday
		"recordatorio:2026-B6:d3 2026-12-29T10:00:00-06:00 left=3",
		"recordatorio:2026-B6:d1 2026-12-31T10:00:00-06:00 left=1",
	})
	// 1 Jan 2027 is a Friday holiday, then a weekend.
	diff(t, "Overdue(2026-B6)", show([]Occurrence{c.Overdue(b)}), []string{
		"vencido:2026-B6 2027-01-04T10:00:00-06:00 left=0",
	})
	// The zero Calendar is the same calendar.
	diff(t, "Calendar{}.Reminders(2026-B6)", show(Calendar{}.Reminders(b)), show(c.Reminders(b)))
	diff(t, "Calendar{}.Overdue(2026-B6)", show([]Occurrence{Calendar{}.Overdue(b)}), show([]Occurrence{c.Overdue(b)}))
}

func TestBimesters2027(t *testing.T) {
	tests := []struct {
		bimester  string
		reminders []string
		overdue   string
	}{
		{"2027-B1", []string{
			"recordatorio:2027-B1:d14 2027-02-15T10:00:00-06:00 left=14",
			"recordatorio:2027-B1:d7 2027-02-22T10:00:00-06:00 left=7",
			// 28 Feb is a Sunday: d1 moves onto d3's Friday and wins.
			"recordatorio:2027-B1:d1 2027-02-26T10:00:00-06:00 left=3",
		}, "vencido:2027-B1 2027-03-01T10:00:00-06:00 left=0"},
		{"2027-B2", []string{
			"recordatorio:2027-B2:d14 2027-04-16T10:00:00-06:00 left=15",
			"recordatorio:2027-B2:d7 2027-04-23T10:00:00-06:00 left=8",
			"recordatorio:2027-B2:d3 2027-04-28T10:00:00-06:00 left=3",
			"recordatorio:2027-B2:d1 2027-04-30T10:00:00-06:00 left=1",
		}, "vencido:2027-B2 2027-05-03T10:00:00-06:00 left=0"}, // 1 May is a Saturday holiday
		{"2027-B3", []string{
			"recordatorio:2027-B3:d14 2027-06-17T10:00:00-06:00 left=14",
			"recordatorio:2027-B3:d7 2027-06-24T10:00:00-06:00 left=7",
			"recordatorio:2027-B3:d3 2027-06-28T10:00:00-06:00 left=3",
			"recordatorio:2027-B3:d1 2027-06-30T10:00:00-06:00 left=1",
		}, "vencido:2027-B3 2027-07-01T10:00:00-06:00 left=0"},
		{"2027-B4", []string{
			"recordatorio:2027-B4:d14 2027-08-18T10:00:00-06:00 left=14",
			"recordatorio:2027-B4:d7 2027-08-25T10:00:00-06:00 left=7",
			"recordatorio:2027-B4:d3 2027-08-27T10:00:00-06:00 left=5",
			"recordatorio:2027-B4:d1 2027-08-31T10:00:00-06:00 left=1",
		}, "vencido:2027-B4 2027-09-01T10:00:00-06:00 left=0"},
		{"2027-B5", []string{
			"recordatorio:2027-B5:d14 2027-10-18T10:00:00-06:00 left=14",
			"recordatorio:2027-B5:d7 2027-10-25T10:00:00-06:00 left=7",
			"recordatorio:2027-B5:d1 2027-10-29T10:00:00-06:00 left=3",
		}, "vencido:2027-B5 2027-11-01T10:00:00-06:00 left=0"},
		{"2027-B6", []string{
			"recordatorio:2027-B6:d14 2027-12-17T10:00:00-06:00 left=15",
			"recordatorio:2027-B6:d7 2027-12-24T10:00:00-06:00 left=8",
			"recordatorio:2027-B6:d3 2027-12-29T10:00:00-06:00 left=3",
			"recordatorio:2027-B6:d1 2027-12-31T10:00:00-06:00 left=1",
		}, "vencido:2027-B6 2028-01-03T10:00:00-06:00 left=0"},
	}
	var c Calendar
	for _, tt := range tests {
		t.Run(tt.bimester, func(t *testing.T) {
			b := bim(t, tt.bimester)
			diff(t, "Reminders("+tt.bimester+")", show(c.Reminders(b)), tt.reminders)
			diff(t, "Overdue("+tt.bimester+")", show([]Occurrence{c.Overdue(b)}), []string{tt.overdue})
		})
	}
}

func TestRemindersOffsets(t *testing.T) {
	tests := []struct {
		name     string
		cal      Calendar
		bimester string
		want     []string
	}{
		{
			// 59 days before 1 Mar 2026 is 1 Jan, a holiday; the previous
			// business day is in 2025, so it moves to the first one of 2026.
			name: "largest offset stays inside the bimester", cal: Calendar{Days: []int{59}}, bimester: "2026-B1",
			want: []string{"recordatorio:2026-B1:d59 2026-01-02T10:00:00-06:00 left=58"},
		},
		{
			name: "out-of-range offsets are ignored", cal: Calendar{Days: []int{0, -3, 60, 7}}, bimester: "2026-B6",
			want: []string{"recordatorio:2026-B6:d7 2026-12-24T10:00:00-06:00 left=8"},
		},
		{
			name: "repeated offsets are sent once", cal: Calendar{Days: []int{3, 3}}, bimester: "2026-B6",
			want: []string{"recordatorio:2026-B6:d3 2026-12-29T10:00:00-06:00 left=3"},
		},
		{
			// 6 and 7 days before 1 Jan 2027 are 26 (Saturday) and 25 Dec (holiday).
			name: "three offsets on one day keep the smallest", cal: Calendar{Days: []int{8, 7, 6}}, bimester: "2026-B6",
			want: []string{"recordatorio:2026-B6:d6 2026-12-24T10:00:00-06:00 left=8"},
		},
		{
			name: "empty offsets mean no reminders", cal: Calendar{Days: []int{}}, bimester: "2026-B6",
			want: []string{},
		},
		{
			name: "leap February", cal: Calendar{Days: []int{1}}, bimester: "2028-B1",
			want: []string{"recordatorio:2028-B1:d1 2028-02-29T10:00:00-06:00 left=1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			diff(t, "Reminders("+tt.bimester+")", show(tt.cal.Reminders(bim(t, tt.bimester))), tt.want)
		})
	}
}

func TestDue(t *testing.T) {
	var c Calendar
	tests := []struct {
		name     string
		from, to string
		want     []string
	}{
		{
			name: "across the end of 2026-B6",
			from: "2026-12-20T00:00:00-06:00", to: "2027-01-10T00:00:00-06:00",
			want: []string{
				"recordatorio:2026-B6:d7 2026-12-24T10:00:00-06:00 left=8",
				"recordatorio:2026-B6:d3 2026-12-29T10:00:00-06:00 left=3",
				"recordatorio:2026-B6:d1 2026-12-31T10:00:00-06:00 left=1",
				"vencido:2026-B6 2027-01-04T10:00:00-06:00 left=0",
			},
		},
		{
			name: "from is excluded and to is included",
			from: "2026-12-24T10:00:00-06:00", to: "2026-12-31T10:00:00-06:00",
			want: []string{
				"recordatorio:2026-B6:d3 2026-12-29T10:00:00-06:00 left=3",
				"recordatorio:2026-B6:d1 2026-12-31T10:00:00-06:00 left=1",
			},
		},
		{
			name: "a range given in UTC",
			from: "2026-12-31T15:59:59Z", to: "2026-12-31T16:00:00Z",
			want: []string{"recordatorio:2026-B6:d1 2026-12-31T10:00:00-06:00 left=1"},
		},
		{
			name: "overdue notice of the previous bimester",
			from: "2027-01-02T00:00:00-06:00", to: "2027-01-05T00:00:00-06:00",
			want: []string{"vencido:2026-B6 2027-01-04T10:00:00-06:00 left=0"},
		},
		{
			name: "nothing due",
			from: "2027-01-04T10:00:00-06:00", to: "2027-02-15T09:59:59-06:00",
			want: []string{},
		},
		{
			name: "empty range",
			from: "2026-12-31T10:00:00-06:00", to: "2026-12-31T10:00:00-06:00",
			want: []string{},
		},
		{
			name: "reversed range",
			from: "2027-01-10T00:00:00-06:00", to: "2026-12-20T00:00:00-06:00",
			want: []string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.Due(instant(t, tt.from), instant(t, tt.to))
			diff(t, fmt.Sprintf("Due(%s, %s)", tt.from, tt.to), show(got), tt.want)
		})
	}
}

func TestDueWholeYear(t *testing.T) {
	var c Calendar
	loc := c.Location()
	from := time.Date(2027, 1, 1, 0, 0, 0, 0, loc)
	to := time.Date(2028, 1, 1, 0, 0, 0, 0, loc)
	got := c.Due(from, to)
	// The reminders of 2027 (3+4+4+4+3+4) and the overdue notices of
	// 2026-B6 … 2027-B5; 2027-B6's falls in 2028.
	if len(got) != 28 {
		t.Fatalf("Due over 2027: got %d occurrences, want 28:\n%s", len(got), strings.Join(show(got), "\n"))
	}
	var want []Occurrence
	want = append(want, c.Overdue(bim(t, "2026-B6")))
	for n := 1; n <= 6; n++ {
		b := datosbot.Bimester{Year: 2027, N: n}
		want = append(want, c.Reminders(b)...)
		if n < 6 {
			want = append(want, c.Overdue(b))
		}
	}
	diff(t, "Due over 2027", show(got), show(want))
	keys := make(map[string]bool)
	for _, o := range got {
		if keys[o.Key()] {
			t.Errorf("Due over 2027: key %s appears twice", o.Key())
		}
		keys[o.Key()] = true
	}
}

func TestNext(t *testing.T) {
	var c Calendar
	tests := []struct {
		after string
		want  string
	}{
		{"2026-12-31T09:59:59-06:00", "recordatorio:2026-B6:d1 2026-12-31T10:00:00-06:00 left=1"},
		{"2026-12-31T10:00:00-06:00", "vencido:2026-B6 2027-01-04T10:00:00-06:00 left=0"},
		{"2027-01-04T10:00:00-06:00", "recordatorio:2027-B1:d14 2027-02-15T10:00:00-06:00 left=14"},
		{"2026-07-01T00:00:00-06:00", "vencido:2026-B3 2026-07-01T10:00:00-06:00 left=0"},
	}
	for _, tt := range tests {
		t.Run(tt.after, func(t *testing.T) {
			got := c.Next(instant(t, tt.after))
			diff(t, "Next("+tt.after+")", show([]Occurrence{got}), []string{tt.want})
		})
	}
}

func TestDaysLeft(t *testing.T) {
	mx := Calendar{Loc: zone(t, "America/Mexico_City")}
	tj := Calendar{Loc: zone(t, "America/Tijuana")}
	tests := []struct {
		name     string
		cal      Calendar
		at       string
		want     int
		bimester string
	}{
		{"last minute of 2026-B6", mx, "2026-12-31T23:59:59-06:00", 1, "2026-B6"},
		{"same instant in UTC", mx, "2027-01-01T05:59:59Z", 1, "2026-B6"},
		{"first minute of 2027-B1", mx, "2027-01-01T00:00:00-06:00", 59, "2027-B1"},
		{"first day of 2026-B6", mx, "2026-11-01T00:00:00-06:00", 61, "2026-B6"},
		{"last day of 2026-B5", mx, "2026-10-31T23:59:00-06:00", 1, "2026-B5"},
		{"leap 2028-B1 starts", mx, "2028-01-01T12:00:00-06:00", 60, "2028-B1"},
		{"29 Feb 2028", mx, "2028-02-29T12:00:00-06:00", 1, "2028-B1"},
		{"Tijuana is still in 2026-B6", tj, "2027-01-01T07:59:00Z", 1, "2026-B6"},
		{"while Mexico City is in 2027-B1", mx, "2027-01-01T07:59:00Z", 59, "2027-B1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at := instant(t, tt.at)
			if got := tt.cal.DaysLeft(at); got != tt.want {
				t.Errorf("DaysLeft(%s) in %s = %d, want %d", tt.at, tt.cal.Location(), got, tt.want)
			}
			if got := tt.cal.Bimester(at).String(); got != tt.bimester {
				t.Errorf("Bimester(%s) in %s = %s, want %s", tt.at, tt.cal.Location(), got, tt.bimester)
			}
		})
	}
}

// TestLocalHour shows that occurrences are due at the local hour all year:
// Mexico City has had no daylight saving time since 2022, so its offset is
// -06:00 in June and December; Tijuana keeps DST, so 10:00 local is 17:00
// UTC in summer and 18:00 UTC in winter.
func TestLocalHour(t *testing.T) {
	mx, tj := zone(t, "America/Mexico_City"), zone(t, "America/Tijuana")
	tests := []struct {
		name    string
		loc     *time.Location
		hour    int
		days    []int // nil: 14,7,3,1
		b       string
		wantUTC []string // reminders, then the overdue notice
	}{
		{"Mexico City in summer", mx, 10, nil, "2026-B3", []string{
			"2026-06-17T16:00:00Z", "2026-06-24T16:00:00Z", "2026-06-26T16:00:00Z", "2026-06-30T16:00:00Z", "2026-07-01T16:00:00Z"}},
		{"Mexico City in winter", mx, 10, nil, "2026-B6", []string{
			"2026-12-18T16:00:00Z", "2026-12-24T16:00:00Z", "2026-12-29T16:00:00Z", "2026-12-31T16:00:00Z", "2027-01-04T16:00:00Z"}},
		{"Tijuana in summer (PDT)", tj, 10, nil, "2026-B3", []string{
			"2026-06-17T17:00:00Z", "2026-06-24T17:00:00Z", "2026-06-26T17:00:00Z", "2026-06-30T17:00:00Z", "2026-07-01T17:00:00Z"}},
		{"Tijuana in winter (PST)", tj, 10, nil, "2026-B6", []string{
			"2026-12-18T18:00:00Z", "2026-12-24T18:00:00Z", "2026-12-29T18:00:00Z", "2026-12-31T18:00:00Z", "2027-01-04T18:00:00Z"}},
		// Tijuana moves to PDT on Sunday 8 March 2026, inside 2026-B2.
		{"Tijuana across the switch to PDT", tj, 10, []int{59, 7}, "2026-B2", []string{
			"2026-03-03T18:00:00Z", "2026-04-24T17:00:00Z", "2026-05-04T17:00:00Z"}},
		{"midnight in Mexico City", mx, 0, nil, "2026-B6", []string{
			"2026-12-18T06:00:00Z", "2026-12-24T06:00:00Z", "2026-12-29T06:00:00Z", "2026-12-31T06:00:00Z", "2027-01-04T06:00:00Z"}},
		{"23:00 in Mexico City", mx, 23, nil, "2026-B6", []string{
			"2026-12-19T05:00:00Z", "2026-12-25T05:00:00Z", "2026-12-30T05:00:00Z", "2027-01-01T05:00:00Z", "2027-01-05T05:00:00Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewCalendar(tt.loc, tt.days, tt.hour)
			if err != nil {
				t.Fatal(err)
			}
			b := bim(t, tt.b)
			occ := append(c.Reminders(b), c.Overdue(b))
			var got []string
			for _, o := range occ {
				got = append(got, o.At.UTC().Format(time.RFC3339))
				if h := o.At.In(tt.loc).Hour(); h != tt.hour {
					t.Errorf("%s: local hour %d, want %d", o.Key(), h, tt.hour)
				}
			}
			diff(t, "UTC instants of "+tt.b, got, tt.wantUTC)
		})
	}
}

// TestMidnightDueBoundaries checks Due at hour 0, where an occurrence sits
// exactly on a day boundary.
func TestMidnightDueBoundaries(t *testing.T) {
	c := Calendar{Hour: new(0)}
	at := instant(t, "2027-01-04T00:00:00-06:00")
	tests := []struct {
		name     string
		from, to time.Time
		want     []string
	}{
		{"ends at midnight", at.Add(-time.Minute), at, []string{"vencido:2026-B6 2027-01-04T00:00:00-06:00 left=0"}},
		{"starts at midnight", at, at.Add(time.Minute), []string{}},
		{"the minute before", at.Add(-2 * time.Minute), at.Add(-time.Minute), []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			diff(t, "Due", show(c.Due(tt.from, tt.to)), tt.want)
		})
	}
}

func TestCampaignOccurrences(t *testing.T) {
	mx := zone(t, "America/Mexico_City")
	tests := []struct {
		name     string
		deadline string
		created  time.Time
		want     []string
	}{
		{"weekend before the deadline", "2026-12-15", time.Time{}, []string{
			"campana-recordatorio:C3M9:d3 2026-12-11T10:00:00-06:00 left=5", // 12 Dec is a Saturday
			"campana-recordatorio:C3M9:d1 2026-12-14T10:00:00-06:00 left=2",
			"campana-cierre:C3M9 2026-12-15T10:00:00-06:00 left=1",
		}},
		{"both reminders collapse onto one day", "2027-01-04", time.Time{}, []string{
			// 3 Jan is a Sunday and 1 Jan a holiday: both move to 31 Dec.
			"campana-recordatorio:C3M9:d1 2026-12-31T10:00:00-06:00 left=5",
			"campana-cierre:C3M9 2027-01-04T10:00:00-06:00 left=1",
		}},
		{"reminders before the launch are left out", "2026-12-15", time.Date(2026, 12, 11, 10, 0, 0, 0, mx), []string{
			"campana-recordatorio:C3M9:d1 2026-12-14T10:00:00-06:00 left=2",
			"campana-cierre:C3M9 2026-12-15T10:00:00-06:00 left=1",
		}},
		{"deadline on a holiday is not moved", "2026-12-25", time.Time{}, []string{
			"campana-recordatorio:C3M9:d3 2026-12-22T10:00:00-06:00 left=4",
			"campana-recordatorio:C3M9:d1 2026-12-24T10:00:00-06:00 left=2",
			"campana-cierre:C3M9 2026-12-25T10:00:00-06:00 left=1",
		}},
		{"launched on the deadline", "2026-12-15", time.Date(2026, 12, 15, 9, 0, 0, 0, mx), []string{
			"campana-cierre:C3M9 2026-12-15T10:00:00-06:00 left=1",
		}},
	}
	var c Calendar
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			camp := datosbot.Campaign{ID: "C3M9", Deadline: date(t, tt.deadline), CreatedAt: tt.created}
			diff(t, "CampaignOccurrences", show(c.CampaignOccurrences(camp)), tt.want)
		})
	}
}

func TestNewCalendar(t *testing.T) {
	tests := []struct {
		name    string
		days    []int
		hour    int
		wantErr bool
	}{
		{"defaults", nil, 10, false},
		{"midnight", []int{1}, 0, false},
		{"last hour", []int{59}, 23, false},
		{"hour 24", nil, 24, true},
		{"negative hour", nil, -1, true},
		{"offset 0", []int{7, 0}, 10, true},
		{"offset 60", []int{60}, 10, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewCalendar(nil, tt.days, tt.hour)
			if tt.wantErr {
				if datosbot.ErrorCode(err) != datosbot.EINVALID {
					t.Errorf("NewCalendar(%v, %d): got error %v, want an invalid error", tt.days, tt.hour, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewCalendar(%v, %d): %v", tt.days, tt.hour, err)
			}
			if c.SendHour() != tt.hour {
				t.Errorf("SendHour() = %d, want %d", c.SendHour(), tt.hour)
			}
			if c.Location().String() != DefaultZone {
				t.Errorf("Location() = %s, want %s", c.Location(), DefaultZone)
			}
			wantDays := tt.days
			if wantDays == nil {
				wantDays = DefaultDays()
			}
			if !slices.Equal(c.Offsets(), wantDays) {
				t.Errorf("Offsets() = %v, want %v", c.Offsets(), wantDays)
			}
		})
	}
}

func TestNewCalendarCopiesDays(t *testing.T) {
	days := []int{14, 7}
	c, err := NewCalendar(nil, days, 10)
	if err != nil {
		t.Fatal(err)
	}
	days[0] = 3
	if got := c.Offsets(); !slices.Equal(got, []int{14, 7}) {
		t.Errorf("Offsets() after changing the caller's slice = %v, want [14 7]", got)
	}
}

func TestParseDays(t *testing.T) {
	tests := []struct {
		in      string
		want    []int
		wantErr bool
	}{
		{"", []int{14, 7, 3, 1}, false},
		{"14,7,3,1", []int{14, 7, 3, 1}, false},
		{" 1, 3 ,7 ", []int{7, 3, 1}, false},
		{"3,3,1", []int{3, 1}, false},
		{"59", []int{59}, false},
		{"0", nil, true},
		{"60", nil, true},
		{"-1", nil, true},
		{"7,,1", nil, true},
		{"siete", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDays(tt.in)
			if tt.wantErr {
				if datosbot.ErrorCode(err) != datosbot.EINVALID {
					t.Errorf("ParseDays(%q): got %v, %v, want an invalid error", tt.in, got, err)
				} else if !strings.Contains(datosbot.ErrorMessage(err), "DATOSBOT_REMINDER_DAYS") {
					t.Errorf("ParseDays(%q): message %q does not name the variable", tt.in, datosbot.ErrorMessage(err))
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("ParseDays(%q) = %v, %v, want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestParseHour(t *testing.T) {
	tests := []struct {
		in      string
		want    int
		wantErr bool
	}{
		{"", 10, false},
		{"0", 0, false},
		{" 9 ", 9, false},
		{"23", 23, false},
		{"24", 0, true},
		{"-1", 0, true},
		{"10:00", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseHour(tt.in)
			if tt.wantErr {
				if datosbot.ErrorCode(err) != datosbot.EINVALID {
					t.Errorf("ParseHour(%q): got %d, %v, want an invalid error", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ParseHour(%q) = %d, %v, want %d", tt.in, got, err, tt.want)
			}
		})
	}
}

func BenchmarkDueOneDay(b *testing.B) {
	var c Calendar
	from := time.Date(2026, 12, 30, 0, 0, 0, 0, c.Location())
	for b.Loop() {
		c.Due(from, from.Add(24*time.Hour))
	}
}

// TestDaysOff: days the offices close besides the LFT holidays
// (DATOSBOT_DAYS_OFF) move occurrences like holidays do, and keep their keys.
func TestDaysOff(t *testing.T) {
	off, err := ParseDaysOff(" 2026-12-24, 2027-01-04 ,2026-12-12")
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewCalendar(zone(t, "America/Mexico_City"), []int{14, 7, 3, 1}, 10)
	if err != nil {
		t.Fatal(err)
	}
	c.DaysOff = off
	b := bim(t, "2026-B6")
	diff(t, "Reminders(2026-B6)", show(c.Reminders(b)), []string{
		"recordatorio:2026-B6:d14 2026-12-18T10:00:00-06:00 left=14",
		"recordatorio:2026-B6:d7 2026-12-23T10:00:00-06:00 left=9", // 24 Dec off, 25 Dec a holiday
		"recordatorio:2026-B6:d3 2026-12-29T10:00:00-06:00 left=3",
		"recordatorio:2026-B6:d1 2026-12-31T10:00:00-06:00 left=1",
	})
	diff(t, "Overdue(2026-B6)", show([]Occurrence{c.Overdue(b)}), []string{
		"vencido:2026-B6 2027-01-05T10:00:00-06:00 left=0",
	})
	if c.IsBusinessDay(date(t, "2026-12-24")) || !IsBusinessDay(date(t, "2026-12-24")) {
		t.Error("24 Dec 2026 is off in this calendar only")
	}
	for _, bad := range []string{"2026-13-01", "24/12/2026", "jueves santo"} {
		if _, err := ParseDaysOff("2026-12-24," + bad); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("ParseDaysOff(%q): got %v, want an error naming it", bad, err)
		}
	}
	if days, err := ParseDaysOff(""); err != nil || len(days) != 0 {
		t.Errorf("ParseDaysOff(\"\") = %v, %v; want none", days, err)
	}
}
