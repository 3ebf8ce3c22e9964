package datosbot

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Bimester is a calendar bimester: B1 = January–February … B6 =
// November–December. It is written "2026-B6".
type Bimester struct {
	Year int
	N    int // 1..6
}

// BimesterOf returns the bimester that contains t in loc.
func BimesterOf(t time.Time, loc *time.Location) Bimester {
	t = t.In(loc)
	return Bimester{Year: t.Year(), N: (int(t.Month())-1)/2 + 1}
}

// BimesterOfDate returns the bimester of a calendar date "AAAA-MM-DD".
func BimesterOfDate(d Date) Bimester {
	return Bimester{Year: d.Year, N: (int(d.Month)-1)/2 + 1}
}

// ParseBimester parses "2026-B6" (case-insensitive).
func ParseBimester(s string) (Bimester, error) {
	y, n, ok := strings.Cut(strings.ToUpper(strings.TrimSpace(s)), "-B")
	year, err1 := strconv.Atoi(y)
	num, err2 := strconv.Atoi(n)
	if !ok || err1 != nil || err2 != nil || len(y) != 4 || num < 1 || num > 6 {
		return Bimester{}, Errorf(EINVALID, "%q no es un bimestre: escríbalo como AAAA-Bn, por ejemplo 2026-B6 (noviembre-diciembre).", s)
	}
	return Bimester{Year: year, N: num}, nil
}

func (b Bimester) String() string { return fmt.Sprintf("%04d-B%d", b.Year, b.N) }

// IsZero reports whether b is the zero Bimester.
func (b Bimester) IsZero() bool { return b.N == 0 }

// FirstMonth returns the first month of b.
func (b Bimester) FirstMonth() time.Month { return time.Month(2*b.N - 1) }

// Start returns the first instant of b in loc.
func (b Bimester) Start(loc *time.Location) time.Time {
	return time.Date(b.Year, b.FirstMonth(), 1, 0, 0, 0, 0, loc)
}

// End returns the first instant after b in loc (the start of the next one).
func (b Bimester) End(loc *time.Location) time.Time { return b.Next().Start(loc) }

// FirstDay and LastDay return the calendar dates that b spans.
func (b Bimester) FirstDay() Date { return Date{b.Year, b.FirstMonth(), 1} }

// LastDay returns the last calendar date of b.
func (b Bimester) LastDay() Date {
	return DateOf(time.Date(b.Year, b.FirstMonth()+2, 0, 12, 0, 0, 0, time.UTC), time.UTC)
}

// Contains reports whether the date d falls in b.
func (b Bimester) Contains(d Date) bool { return BimesterOfDate(d) == b }

// Next returns the bimester after b.
func (b Bimester) Next() Bimester {
	if b.N == 6 {
		return Bimester{b.Year + 1, 1}
	}
	return Bimester{b.Year, b.N + 1}
}

// Prev returns the bimester before b.
func (b Bimester) Prev() Bimester {
	if b.N == 1 {
		return Bimester{b.Year - 1, 6}
	}
	return Bimester{b.Year, b.N - 1}
}

// Semester returns the semester that contains b: B1–B3 are S1, B4–B6 S2.
func (b Bimester) Semester() Semester { return Semester{b.Year, (b.N-1)/3 + 1} }

// Label returns the Spanish months of b, e.g. "noviembre-diciembre 2026".
func (b Bimester) Label() string {
	m := b.FirstMonth()
	return MonthName(m) + "-" + MonthName(m+1) + " " + strconv.Itoa(b.Year)
}

// MarshalText writes "2026-B6".
func (b Bimester) MarshalText() ([]byte, error) {
	if b.IsZero() {
		return []byte{}, nil
	}
	return []byte(b.String()), nil
}

// UnmarshalText reads "2026-B6".
func (b *Bimester) UnmarshalText(p []byte) error {
	if len(p) == 0 {
		*b = Bimester{}
		return nil
	}
	v, err := ParseBimester(string(p))
	*b = v
	return err
}

// Semester is half a calendar year, written "2026-S2".
type Semester struct {
	Year int
	N    int // 1..2
}

// ParseSemester parses "2026-S2" (case-insensitive).
func ParseSemester(s string) (Semester, error) {
	y, n, ok := strings.Cut(strings.ToUpper(strings.TrimSpace(s)), "-S")
	year, err1 := strconv.Atoi(y)
	num, err2 := strconv.Atoi(n)
	if !ok || err1 != nil || err2 != nil || len(y) != 4 || num < 1 || num > 2 {
		return Semester{}, Errorf(EINVALID, "%q no es un semestre: escríbalo como AAAA-Sn, por ejemplo 2026-S2 (julio-diciembre).", s)
	}
	return Semester{Year: year, N: num}, nil
}

func (s Semester) String() string { return fmt.Sprintf("%04d-S%d", s.Year, s.N) }

// Bimesters returns the three bimesters of s in order.
func (s Semester) Bimesters() []Bimester {
	first := 3*(s.N-1) + 1
	return []Bimester{{s.Year, first}, {s.Year, first + 1}, {s.Year, first + 2}}
}

// Date is a calendar date without a time zone, written "2026-12-01".
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the calendar date of t in loc.
func DateOf(t time.Time, loc *time.Location) Date {
	y, m, d := t.In(loc).Date()
	return Date{y, m, d}
}

// ParseDate parses "AAAA-MM-DD".
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
	if err != nil {
		return Date{}, Errorf(EINVALID, "%q no es una fecha: escríbala como AAAA-MM-DD, por ejemplo 2026-12-01.", s)
	}
	return DateOf(t, time.UTC), nil
}

func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d.Year == 0 }

// In returns the instant at hour:00 of d in loc.
func (d Date) In(loc *time.Location, hour int) time.Time {
	return time.Date(d.Year, d.Month, d.Day, hour, 0, 0, 0, loc)
}

// AddDays returns d moved n days.
func (d Date) AddDays(n int) Date {
	return DateOf(time.Date(d.Year, d.Month, d.Day+n, 12, 0, 0, 0, time.UTC), time.UTC)
}

// Weekday returns the day of the week of d.
func (d Date) Weekday() time.Weekday { return d.In(time.UTC, 12).Weekday() }

// Before reports whether d is before e.
func (d Date) Before(e Date) bool { return d.String() < e.String() }

// DaysUntil returns the number of days from d to e (negative if e is before d).
func (d Date) DaysUntil(e Date) int {
	return int(e.In(time.UTC, 12).Sub(d.In(time.UTC, 12)).Hours() / 24)
}

// MarshalText writes "AAAA-MM-DD".
func (d Date) MarshalText() ([]byte, error) {
	if d.IsZero() {
		return []byte{}, nil
	}
	return []byte(d.String()), nil
}

// UnmarshalText reads "AAAA-MM-DD".
func (d *Date) UnmarshalText(p []byte) error {
	if len(p) == 0 {
		*d = Date{}
		return nil
	}
	v, err := ParseDate(string(p))
	*d = v
	return err
}

var monthNames = [...]string{"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio",
	"agosto", "septiembre", "octubre", "noviembre", "diciembre"}

// MonthName returns the Spanish name of m in lower case.
func MonthName(m time.Month) string { return monthNames[(int(m)-1+12)%12] }

// LongDate writes d in Spanish, e.g. "31 de diciembre de 2026".
func (d Date) LongDate() string {
	return fmt.Sprintf("%d de %s de %d", d.Day, MonthName(d.Month), d.Year)
}
