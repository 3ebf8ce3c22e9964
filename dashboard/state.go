package dashboard

import "github.com/datosbot/datosbot"

// state is the compliance state of one institution in one bimester, as a
// heat-map cell shows it: by colour and by a symbol and a word, so colour
// is never the only means of telling them apart (WCAG 2.1 SC 1.4.1).
type state int

const (
	sinDatos  state = iota // a bimester still to come, or before the institution existed
	cumplio                // at least one non-withdrawn action dated inside it
	enRiesgo               // none yet, and actions dated inside it are still accepted
	noCumplio              // none, and the bimester (and its grace period) is over
)

var states = [...]struct{ class, symbol, word string }{
	sinDatos:  {"sin-datos", "–", "sin datos"},
	cumplio:   {"cumplio", "✓", "cumplió"},
	enRiesgo:  {"en-riesgo", "!", "en riesgo"},
	noCumplio: {"no-cumplio", "✗", "no cumplió"},
}

// Class is the CSS class of the cell's colour.
func (st state) Class() string { return states[st].class }

// Symbol is the glyph shown with the colour.
func (st state) Symbol() string { return states[st].symbol }

// Word is the state in Spanish, as the CSV and screen readers give it.
func (st state) Word() string { return states[st].word }

// cellState decides the state of bimester b for an institution created on
// created, with actions non-withdrawn actions dated in b, when today is
// today and actions are accepted grace days after a bimester ends.
func cellState(b datosbot.Bimester, today, created datosbot.Date, grace, actions int) state {
	switch {
	case actions > 0:
		return cumplio
	case today.Before(b.FirstDay()):
		return sinDatos
	case !created.IsZero() && b.LastDay().Before(created):
		return sinDatos
	case !b.LastDay().AddDays(grace).Before(today):
		return enRiesgo
	}
	return noCumplio
}

// columns returns the bimesters of the previous and the current semester
// of today, oldest first: the heat map's columns.
func columns(today datosbot.Date) []datosbot.Bimester {
	cur := datosbot.BimesterOfDate(today).Semester()
	prev := datosbot.Semester{Year: cur.Year, N: 1}
	if cur.N == 1 {
		prev = datosbot.Semester{Year: cur.Year - 1, N: 2}
	}
	return append(prev.Bimesters(), cur.Bimesters()...)
}
