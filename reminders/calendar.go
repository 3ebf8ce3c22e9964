// Package reminders plans and delivers the bot's scheduled posts: the
// reminders before each bimester ends, the overdue notice and the Unidad
// summary after it, and the reminders of campaigns.
//
// The calendar (Calendar, in calendar.go) is pure: it knows Mexican federal
// holidays, business days and the instant each occurrence is due, and reads
// no clock and no store.
package reminders

import (
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // bimesters must not depend on the host's zoneinfo

	"github.com/datosbot/datosbot"
)

// Defaults of a Calendar (DATOSBOT_TZ, DATOSBOT_REMINDER_DAYS,
// DATOSBOT_REMINDER_HOUR).
const (
	DefaultZone = "America/Mexico_City"
	DefaultHour = 10
)

// DefaultDays returns the default reminder offsets: 14, 7, 3 and 1 days
// before a bimester ends.
func DefaultDays() []int { return []int{14, 7, 3, 1} }

// The kinds of Occurrence.
const (
	KindReminder         = "recordatorio"         // before a bimester ends, to non-compliant institutions
	KindOverdue          = "vencido"              // after it ended: overdue notices and the Unidad summary
	KindCampaignReminder = "campana-recordatorio" // before a campaign's deadline
	KindCampaignSummary  = "campana-cierre"       // at a campaign's deadline, to the Unidad
)

// MaxOffset is the largest reminder offset: the length of the shortest
// bimester (January–February of a common year), so every offset names a
// day inside every bimester.
const MaxOffset = 59

// Calendar computes when occurrences are due. The zero Calendar is the
// default one: reminders 14, 7, 3 and 1 days before the end of each
// bimester, at 10:00 in Mexico City.
//
// A Calendar is a value; its methods do not modify it and are safe for
// concurrent use.
type Calendar struct {
	// Loc is the time zone of bimesters and reminder hours.
	// Nil means America/Mexico_City (tzdata is embedded in the binary).
	Loc *time.Location

	// Days are the reminder offsets: offset d is the date d days before the
	// first day of the next bimester, so 1 is the bimester's last day.
	// Nil means 14, 7, 3, 1; an empty non-nil slice means no reminders
	// (overdue notices are still due). Offsets outside 1..MaxOffset are ignored; use
	// NewCalendar or ParseDays to reject them instead.
	Days []int

	// Hour is the local hour (0–23) at which every occurrence is due.
	// Nil means 10. It is a pointer because 0 (midnight) is a valid hour:
	// write Hour: new(0) for midnight, or use NewCalendar.
	Hour *int

	// DaysOff are further days without work besides weekends and the LFT
	// holidays (DATOSBOT_DAYS_OFF): Holy Thursday and Friday, 2 November,
	// 12 December, or a day the Unidad closes. Occurrences move off them
	// like off a holiday.
	DaysOff []datosbot.Date
}

// NewCalendar returns a Calendar with every field set, after checking them:
// a nil loc means America/Mexico_City, nil days the default offsets; hour
// must be 0..23 and every offset 1..MaxOffset.
func NewCalendar(loc *time.Location, days []int, hour int) (Calendar, error) {
	if hour < 0 || hour > 23 {
		return Calendar{}, datosbot.Errorf(datosbot.EINVALID,
			"La hora de los recordatorios (DATOSBOT_REMINDER_HOUR) debe ser un número de 0 a 23; se recibió %d.", hour)
	}
	if days == nil {
		days = DefaultDays()
	}
	for _, d := range days {
		if d < 1 || d > MaxOffset {
			return Calendar{}, datosbot.Errorf(datosbot.EINVALID,
				"Los días de recordatorio (DATOSBOT_REMINDER_DAYS) deben ir de 1 a %d; se recibió %d.", MaxOffset, d)
		}
	}
	if loc == nil {
		loc = defaultLocation()
	}
	return Calendar{Loc: loc, Days: slices.Clone(days), Hour: &hour}, nil
}

// ParseDays parses reminder offsets written as in DATOSBOT_REMINDER_DAYS,
// e.g. "14,7,3,1". Spaces are allowed; an empty string means the defaults.
// The result is sorted from the earliest reminder (largest offset) on,
// without repetitions.
func ParseDays(s string) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		return DefaultDays(), nil
	}
	var days []int
	for f := range strings.SplitSeq(s, ",") {
		d, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || d < 1 || d > MaxOffset {
			return nil, datosbot.Errorf(datosbot.EINVALID,
				"DATOSBOT_REMINDER_DAYS=%q no es válido: escriba días antes del fin del bimestre, de 1 a %d, separados por comas (por ejemplo 14,7,3,1).",
				s, MaxOffset)
		}
		days = append(days, d)
	}
	slices.Sort(days)
	days = slices.Compact(days)
	slices.Reverse(days)
	return days, nil
}

// ParseHour parses the hour written as in DATOSBOT_REMINDER_HOUR, "0".."23";
// an empty string means DefaultHour.
func ParseHour(s string) (int, error) {
	if strings.TrimSpace(s) == "" {
		return DefaultHour, nil
	}
	h, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || h < 0 || h > 23 {
		return 0, datosbot.Errorf(datosbot.EINVALID,
			"DATOSBOT_REMINDER_HOUR=%q no es válido: escriba la hora local como un número de 0 a 23 (por ejemplo 10).", s)
	}
	return h, nil
}

var mexicoCity = func() *time.Location {
	loc, err := time.LoadLocation(DefaultZone)
	if err != nil { // cannot happen: tzdata is embedded
		panic("reminders: " + err.Error())
	}
	return loc
}()

func defaultLocation() *time.Location { return mexicoCity }

// Location returns the calendar's time zone.
func (c Calendar) Location() *time.Location {
	if c.Loc == nil {
		return defaultLocation()
	}
	return c.Loc
}

// Offsets returns the calendar's reminder offsets that are in range.
func (c Calendar) Offsets() []int {
	days := c.Days
	if days == nil {
		days = DefaultDays()
	}
	out := make([]int, 0, len(days))
	for _, d := range days {
		if d >= 1 && d <= MaxOffset {
			out = append(out, d)
		}
	}
	return out
}

// SendHour returns the local hour at which occurrences are due.
func (c Calendar) SendHour() int {
	if c.Hour == nil {
		return DefaultHour
	}
	return *c.Hour
}

// Occurrence is one scheduled post: what, for which bimester or campaign,
// and when.
type Occurrence struct {
	Kind     string            // KindReminder, KindOverdue, KindCampaignReminder or KindCampaignSummary
	Bimester datosbot.Bimester // the bimester it concerns; zero for campaign occurrences
	Campaign string            // the campaign id, for campaign occurrences
	// DaysLeft counts the days from the occurrence's local date through the
	// last day allowed (the bimester's last day, or the campaign's
	// deadline), both included: 1 on the last day itself, 0 once it passed.
	DaysLeft int
	// Offset is the configured offset (days before the bimester's next first
	// day, or before the campaign's deadline) this occurrence comes from,
	// before it was moved to a business day. 0 for overdue and summary.
	Offset int
	At     time.Time // when it is due, in the calendar's zone
}

// Key identifies the occurrence for at-most-once delivery. It does not
// depend on the instant, so a change of hour or a moved holiday does not
// make an occurrence deliverable twice: "recordatorio:2026-B6:d14",
// "vencido:2026-B6", "campana-recordatorio:C3M9:d3", "campana-cierre:C3M9".
func (o Occurrence) Key() string {
	switch o.Kind {
	case KindReminder:
		return o.Kind + ":" + o.Bimester.String() + ":d" + strconv.Itoa(o.Offset)
	case KindOverdue:
		return o.Kind + ":" + o.Bimester.String()
	case KindCampaignReminder:
		return o.Kind + ":" + o.Campaign + ":d" + strconv.Itoa(o.Offset)
	default:
		return o.Kind + ":" + o.Campaign
	}
}

// Reminders returns the reminders of bimester b sorted by time. Offset d
// falls on the date d days before the first day of b.Next(), at the
// calendar's hour; on a weekend or holiday it moves to the previous
// business day. When that would leave b (a large offset near its start) it
// moves instead to b's first business day. Offsets that land on the same
// day are sent once, as the smaller offset, which tells the truer number of
// days left.
func (c Calendar) Reminders(b datosbot.Bimester) []Occurrence {
	end := b.Next().FirstDay()
	first := c.NextBusinessDay(b.FirstDay())
	byDay := make(map[datosbot.Date]Occurrence)
	for _, d := range c.Offsets() {
		day := c.PreviousBusinessDay(end.AddDays(-d))
		if day.Before(b.FirstDay()) {
			day = first
		}
		if old, ok := byDay[day]; ok && old.Offset <= d {
			continue
		}
		byDay[day] = Occurrence{
			Kind:     KindReminder,
			Bimester: b,
			DaysLeft: day.DaysUntil(end),
			Offset:   d,
			At:       c.at(day),
		}
	}
	out := make([]Occurrence, 0, len(byDay))
	for _, o := range byDay {
		out = append(out, o)
	}
	sortOccurrences(out)
	return out
}

// Overdue returns the occurrence after bimester b ends: the overdue notice
// to the institutions that did not comply and the summary for the Unidad,
// on the first business day of b.Next() at the calendar's hour.
func (c Calendar) Overdue(b datosbot.Bimester) Occurrence {
	return Occurrence{
		Kind:     KindOverdue,
		Bimester: b,
		At:       c.at(c.NextBusinessDay(b.Next().FirstDay())),
	}
}

// Due returns every bimester occurrence (reminders and overdue notices)
// with from < At <= to, sorted by time. Its cost grows with the number of
// bimesters between from and to, so callers should pass a recent from (the
// last tick), not the zero time.
func (c Calendar) Due(from, to time.Time) []Occurrence {
	if !from.Before(to) {
		return nil
	}
	loc := c.Location()
	// Occurrences of b lie between b's first day and the first business
	// day of b.Next(), so the bimester before from's may still have one.
	last := datosbot.BimesterOf(to, loc)
	var out []Occurrence
	for b := datosbot.BimesterOf(from, loc).Prev(); !after(b, last); b = b.Next() {
		for _, o := range append(c.Reminders(b), c.Overdue(b)) {
			if o.At.After(from) && !o.At.After(to) {
				out = append(out, o)
			}
		}
	}
	sortOccurrences(out)
	return out
}

// Next returns the first bimester occurrence strictly after t. There always
// is one: every bimester ends with an overdue notice.
func (c Calendar) Next(t time.Time) Occurrence {
	// Every window of four months holds the start of a bimester and its
	// first business day, so it holds at least one overdue notice.
	for to := t.AddDate(0, 4, 0); ; to = to.AddDate(0, 4, 0) {
		if due := c.Due(t, to); len(due) > 0 {
			return due[0]
		}
	}
}

// Bimester returns the bimester that contains t in the calendar's zone.
func (c Calendar) Bimester(t time.Time) datosbot.Bimester {
	return datosbot.BimesterOf(t, c.Location())
}

// DaysLeft returns the days left in the bimester that contains t, today
// included: 1 on its last day.
func (c Calendar) DaysLeft(t time.Time) int {
	today := datosbot.DateOf(t, c.Location())
	return today.DaysUntil(c.Bimester(t).Next().FirstDay())
}

// CampaignOccurrences returns the scheduled posts of campaign camp, sorted
// by time: a reminder 3 days and 1 day before its deadline (moved to the
// previous business day when they fall on a weekend or holiday; sent once,
// as the 1-day reminder, when both land on the same day), and the summary
// for the Unidad on the deadline itself at the calendar's hour (not moved:
// the deadline is the requester's choice). Reminders due at or before the
// campaign's creation are left out, since the announcement is posted at
// once; the summary is always included.
func (c Calendar) CampaignOccurrences(camp datosbot.Campaign) []Occurrence {
	lastDay := camp.Deadline.AddDays(1)
	var out []Occurrence
	seen := make(map[datosbot.Date]bool)
	for _, d := range []int{1, 3} { // smaller offset first wins a shared day
		day := c.PreviousBusinessDay(camp.Deadline.AddDays(-d))
		at := c.at(day)
		if seen[day] || (!camp.CreatedAt.IsZero() && !at.After(camp.CreatedAt)) {
			continue
		}
		seen[day] = true
		out = append(out, Occurrence{
			Kind:     KindCampaignReminder,
			Campaign: camp.ID,
			DaysLeft: day.DaysUntil(lastDay),
			Offset:   d,
			At:       at,
		})
	}
	out = append(out, Occurrence{
		Kind:     KindCampaignSummary,
		Campaign: camp.ID,
		DaysLeft: 1,
		At:       c.at(camp.Deadline),
	})
	sortOccurrences(out)
	return out
}

func (c Calendar) at(d datosbot.Date) time.Time { return d.In(c.Location(), c.SendHour()) }

func after(a, b datosbot.Bimester) bool {
	return a.Year > b.Year || (a.Year == b.Year && a.N > b.N)
}

func sortOccurrences(os []Occurrence) {
	slices.SortFunc(os, func(a, b Occurrence) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return strings.Compare(a.Key(), b.Key())
	})
}

// IsHoliday reports whether d is a mandatory rest day of the Ley Federal del
// Trabajo, art. 74: 1 January; the first Monday of February (Constitution);
// the third Monday of March (Juárez); 1 May; 16 September; the third Monday
// of November (Revolution); 25 December; and the day the federal executive
// takes office, every six years: 1 October from 2024 (2024, 2030, …), 1
// December before (2006, 2012, 2018). The Monday rules date from 2006 and
// are applied to every year. Election days (fraction IX) are Sundays and so
// never business days anyway. Days off by custom (Holy Week, 2 November,
// 12 December) are not holidays under art. 74.
func IsHoliday(d datosbot.Date) bool {
	switch d.Month {
	case time.January:
		return d.Day == 1
	case time.February:
		return isNthMonday(d, 1)
	case time.March:
		return isNthMonday(d, 3)
	case time.May:
		return d.Day == 1
	case time.September:
		return d.Day == 16
	case time.October:
		return d.Day == 1 && d.Year >= 2024 && (d.Year-2024)%6 == 0
	case time.November:
		return isNthMonday(d, 3)
	case time.December:
		return d.Day == 25 || (d.Day == 1 && d.Year < 2024 && (2024-d.Year)%6 == 0)
	}
	return false
}

func isNthMonday(d datosbot.Date, n int) bool {
	return d.Weekday() == time.Monday && (d.Day-1)/7 == n-1
}

// Holidays returns the holidays of year (see IsHoliday) in date order.
func Holidays(year int) []datosbot.Date {
	var out []datosbot.Date
	for d := (datosbot.Date{Year: year, Month: time.January, Day: 1}); d.Year == year; d = d.AddDays(1) {
		if IsHoliday(d) {
			out = append(out, d)
		}
	}
	return out
}

// IsBusinessDay reports whether d is neither a Saturday, a Sunday nor a
// holiday.
func IsBusinessDay(d datosbot.Date) bool {
	wd := d.Weekday()
	return wd != time.Saturday && wd != time.Sunday && !IsHoliday(d)
}

// PreviousBusinessDay returns d if it is a business day, or else the last
// business day before it.
func PreviousBusinessDay(d datosbot.Date) datosbot.Date { return Calendar{}.PreviousBusinessDay(d) }

// NextBusinessDay returns d if it is a business day, or else the first
// business day after it.
func NextBusinessDay(d datosbot.Date) datosbot.Date { return Calendar{}.NextBusinessDay(d) }

// IsBusinessDay is the package's IsBusinessDay that also skips c.DaysOff.
func (c Calendar) IsBusinessDay(d datosbot.Date) bool {
	return IsBusinessDay(d) && !slices.Contains(c.DaysOff, d)
}

// PreviousBusinessDay returns d if it is a business day of c, or else the
// last one before it.
func (c Calendar) PreviousBusinessDay(d datosbot.Date) datosbot.Date {
	for !c.IsBusinessDay(d) {
		d = d.AddDays(-1)
	}
	return d
}

// NextBusinessDay returns d if it is a business day of c, or else the
// first one after it.
func (c Calendar) NextBusinessDay(d datosbot.Date) datosbot.Date {
	for !c.IsBusinessDay(d) {
		d = d.AddDays(1)
	}
	return d
}

// ParseDaysOff parses DATOSBOT_DAYS_OFF: dates AAAA-MM-DD separated by
// commas; an empty string means none.
func ParseDaysOff(s string) ([]datosbot.Date, error) {
	var out []datosbot.Date
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		d, err := datosbot.ParseDate(f)
		if err != nil {
			return nil, datosbot.Errorf(datosbot.EINVALID,
				"%q no es una fecha AAAA-MM-DD; escriba los días inhábiles separados por comas (por ejemplo 2027-03-25,2027-03-26).", f)
		}
		out = append(out, d)
	}
	return out, nil
}
