package datosbot_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/datosbot/datosbot"
)

func TestParseRef(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		want   string
		wantIn string // part of the error message; "" when valid
	}{
		{"slack user", "slack:U0123ABC", "slack:U0123ABC", ""},
		{"slack channel", "slack:C0123", "slack:C0123", ""},
		{"telegram supergroup", "telegram:-100123", "telegram:-100123", ""},
		{"telegram user", "telegram:123456789", "telegram:123456789", ""},
		{"console name", "console:canal-inegi", "console:canal-inegi", ""},
		{"surrounding spaces", "  slack:C0123\n", "slack:C0123", ""},
		{"empty", "", "", "plataforma:id"},
		{"no platform", "C0123", "", "plataforma:id"},
		{"empty local part", "slack:", "", "plataforma:id"},
		{"space in local part", "console:ana maria", "", "plataforma:id"},
		{"tab in local part", "telegram:12\t3", "", "plataforma:id"},
		{"unknown platform", "whatsapp:5215555555555", "", "slack, telegram o console"},
		{"empty platform", ":C0123", "", "slack, telegram o console"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := datosbot.ParseRef(tt.in)
			if tt.wantIn == "" {
				if err != nil || got != tt.want {
					t.Errorf("ParseRef(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("ParseRef(%q) = %q, nil; want an error", tt.in, got)
			}
			if code := datosbot.ErrorCode(err); code != datosbot.EINVALID {
				t.Errorf("code = %q, want %q", code, datosbot.EINVALID)
			}
			if msg := datosbot.ErrorMessage(err); !strings.Contains(msg, tt.wantIn) || !strings.Contains(msg, fmt.Sprintf("%q", tt.in)) {
				t.Errorf("message = %q, want it to quote the input and contain %q", msg, tt.wantIn)
			}
		})
	}
}

func TestUserAndChannelIDs(t *testing.T) {
	tests := []struct {
		platform datosbot.Platform
		local    string
		want     string
	}{
		{datosbot.Slack, "U0123ABC", "slack:U0123ABC"},
		{datosbot.Telegram, "-100123", "telegram:-100123"},
		{datosbot.Console, "ana", "console:ana"},
		{datosbot.Console, "a:b", "console:a:b"}, // only the first colon separates
	}
	for _, tt := range tests {
		u := datosbot.NewUserID(tt.platform, tt.local)
		c := datosbot.NewChannelID(tt.platform, tt.local)
		if string(u) != tt.want || string(c) != tt.want {
			t.Errorf("NewUserID/NewChannelID(%s, %q) = %q, %q; want %q", tt.platform, tt.local, u, c, tt.want)
		}
		if u.Platform() != tt.platform || u.Local() != tt.local {
			t.Errorf("UserID %q: Platform, Local = %q, %q; want %q, %q", u, u.Platform(), u.Local(), tt.platform, tt.local)
		}
		if c.Platform() != tt.platform || c.Local() != tt.local {
			t.Errorf("ChannelID %q: Platform, Local = %q, %q; want %q, %q", c, c.Platform(), c.Local(), tt.platform, tt.local)
		}
	}
	// An id without a platform has no platform and is all local part.
	if u := datosbot.UserID("ana"); u.Platform() != "" || u.Local() != "ana" {
		t.Errorf(`UserID("ana"): Platform, Local = %q, %q; want "", "ana"`, u.Platform(), u.Local())
	}
	if c := datosbot.ChannelID("C1"); c.Platform() != "" || c.Local() != "C1" {
		t.Errorf(`ChannelID("C1"): Platform, Local = %q, %q; want "", "C1"`, c.Platform(), c.Local())
	}
}

func TestErrorCodeAndMessage(t *testing.T) {
	notFound := datosbot.Errorf(datosbot.ENOTFOUND, "No existe la institución %s.", "sep")
	generic := datosbot.ErrorMessage(errors.New("x"))
	tests := []struct {
		name     string
		err      error
		wantCode string
		wantMsg  string
	}{
		{"nil", nil, "", ""},
		{"application error", notFound, datosbot.ENOTFOUND, "No existe la institución sep."},
		{"wrapped once", fmt.Errorf("guardar: %w", notFound), datosbot.ENOTFOUND, "No existe la institución sep."},
		{"wrapped twice", fmt.Errorf("a: %w", fmt.Errorf("b: %w", notFound)), datosbot.ENOTFOUND, "No existe la institución sep."},
		{"joined", errors.Join(errors.New("redis: timeout"), notFound), datosbot.ENOTFOUND, "No existe la institución sep."},
		{"plain error", errors.New("dial tcp 10.0.0.5:6379: connection refused"), datosbot.EINTERNAL, generic},
		{"plain error wrapped", fmt.Errorf("leer: %w", errors.New("EOF")), datosbot.EINTERNAL, generic},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := datosbot.ErrorCode(tt.err); got != tt.wantCode {
				t.Errorf("ErrorCode(%v) = %q, want %q", tt.err, got, tt.wantCode)
			}
			if got := datosbot.ErrorMessage(tt.err); got != tt.wantMsg {
				t.Errorf("ErrorMessage(%v) = %q, want %q", tt.err, got, tt.wantMsg)
			}
		})
	}
	// The generic message is Spanish and leaks nothing of the cause.
	if !strings.Contains(generic, "error interno") {
		t.Errorf("generic message = %q, want a Spanish internal-error text", generic)
	}
	if got := datosbot.ErrorMessage(errors.New("dial tcp 10.0.0.5:6379")); strings.Contains(got, "10.0.0.5") {
		t.Errorf("ErrorMessage leaks the cause: %q", got)
	}
	if got, want := notFound.Error(), "not_found: No existe la institución sep."; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestParseMedium(t *testing.T) {
	tests := []struct {
		in   string
		want datosbot.Medium
		ok   bool
	}{
		{"web", datosbot.MediumWeb, true},
		{"Redes", datosbot.MediumRedes, true},
		{" HISTORIA ", datosbot.MediumHistoria, true},
		{"Historía", datosbot.MediumHistoria, true},
		{"otro", datosbot.MediumOtro, true},
		{"", "", false},
		{"twitter", "", false},
		{"redes sociales", "", false},
	}
	for _, tt := range tests {
		got, err := datosbot.ParseMedium(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseMedium(%q) = %q, %v; want %q ok=%v", tt.in, got, err, tt.want, tt.ok)
			continue
		}
		if err != nil && (datosbot.ErrorCode(err) != datosbot.EINVALID || !strings.Contains(datosbot.ErrorMessage(err), "web, redes, historia u otro")) {
			t.Errorf("ParseMedium(%q) error = %v, want EINVALID listing the media", tt.in, err)
		}
	}
}

func TestParseActionType(t *testing.T) {
	tests := []struct {
		in   string
		want datosbot.ActionType
		ok   bool
	}{
		{"publicacion", datosbot.TypePublicacion, true},
		{"Publicación", datosbot.TypePublicacion, true},
		{"DATATÓN", datosbot.TypeDataton, true},
		{"dataton", datosbot.TypeDataton, true},
		{" uso ", datosbot.TypeUso, true},
		{"", "", false},
		{"publicaciones", "", false},
		{"hackaton", "", false},
	}
	for _, tt := range tests {
		got, err := datosbot.ParseActionType(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseActionType(%q) = %q, %v; want %q ok=%v", tt.in, got, err, tt.want, tt.ok)
			continue
		}
		if err != nil && (datosbot.ErrorCode(err) != datosbot.EINVALID || !strings.Contains(datosbot.ErrorMessage(err), "publicacion, dataton o uso")) {
			t.Errorf("ParseActionType(%q) error = %v, want EINVALID listing the types", tt.in, err)
		}
	}
}

func TestValidateEvidenceURL(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
		ok   bool
	}{
		{"tweet", "https://x.com/INEGI_INFORMA/status/1", "https://x.com/INEGI_INFORMA/status/1", true},
		{"http page", "http://www.inegi.org.mx/prensa/", "http://www.inegi.org.mx/prensa/", true},
		{"trimmed", "  https://www.gob.mx/inegi/prensa/x\n", "https://www.gob.mx/inegi/prensa/x", true},
		{"with query", "https://www.facebook.com/watch?v=1", "https://www.facebook.com/watch?v=1", true},
		{"empty", "", "", false},
		{"no scheme", "x.com/INEGI_INFORMA/status/1", "", false},
		{"ftp", "ftp://inegi.org.mx/x", "", false},
		{"javascript", "javascript:alert(1)", "", false},
		{"no host", "https://", "", false},
		{"inner space", "https://x.com/a b", "", false},
		{"angle brackets", "<https://x.com/a>", "", false},
		{"user info", "https://ana@x.com/a", "", false},
		{"too long", "https://x.com/" + strings.Repeat("a", 2000), "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := datosbot.ValidateEvidenceURL(tt.in)
			if (err == nil) != tt.ok || got != tt.want {
				t.Fatalf("ValidateEvidenceURL(%q) = %q, %v; want %q ok=%v", tt.in, got, err, tt.want, tt.ok)
			}
			if err != nil && (datosbot.ErrorCode(err) != datosbot.EINVALID || !strings.Contains(datosbot.ErrorMessage(err), "https://")) {
				t.Errorf("error = %v, want EINVALID saying to start with https://", err)
			}
		})
	}
}

func TestParseDate(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"2026-12-01", "2026-12-01", true},
		{" 2028-02-29 ", "2028-02-29", true},
		{"2027-02-29", "", false}, // not a leap year
		{"2026-04-31", "", false},
		{"2026-13-01", "", false},
		{"2026-1-5", "", false},
		{"01/12/2026", "", false},
		{"2026-12-01T10:00:00Z", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		d, err := datosbot.ParseDate(tt.in)
		if (err == nil) != tt.ok || (tt.ok && d.String() != tt.want) {
			t.Errorf("ParseDate(%q) = %v, %v; want %q ok=%v", tt.in, d, err, tt.want, tt.ok)
			continue
		}
		if err != nil && (datosbot.ErrorCode(err) != datosbot.EINVALID || !strings.Contains(datosbot.ErrorMessage(err), "AAAA-MM-DD")) {
			t.Errorf("ParseDate(%q) error = %v, want EINVALID with the format", tt.in, err)
		}
	}
}

func TestDateDaysUntil(t *testing.T) {
	tests := []struct {
		from, to datosbot.Date
		want     int
	}{
		{ymd(2026, 12, 1), ymd(2026, 12, 1), 0},
		{ymd(2026, 12, 1), ymd(2026, 12, 2), 1},
		{ymd(2026, 12, 2), ymd(2026, 12, 1), -1},
		{ymd(2026, 12, 31), ymd(2027, 1, 1), 1},
		{ymd(2028, 2, 28), ymd(2028, 3, 1), 2},
		{ymd(2027, 2, 28), ymd(2027, 3, 1), 1},
		{ymd(2026, 1, 1), ymd(2027, 1, 1), 365},
		{ymd(2028, 1, 1), ymd(2029, 1, 1), 366},
		{ymd(2026, 11, 1), ymd(2026, 10, 1), -31},
	}
	for _, tt := range tests {
		if got := tt.from.DaysUntil(tt.to); got != tt.want {
			t.Errorf("%s.DaysUntil(%s) = %d, want %d", tt.from, tt.to, got, tt.want)
		}
	}
}

func TestDateLongDate(t *testing.T) {
	want := []string{"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio",
		"agosto", "septiembre", "octubre", "noviembre", "diciembre"}
	for m := time.January; m <= time.December; m++ {
		d := ymd(2026, m, 1)
		if got, w := d.LongDate(), "1 de "+want[m-1]+" de 2026"; got != w {
			t.Errorf("%s.LongDate() = %q, want %q", d, got, w)
		}
	}
	if got, want := ymd(2026, 12, 31).LongDate(), "31 de diciembre de 2026"; got != want {
		t.Errorf("LongDate = %q, want %q", got, want)
	}
}

func TestBimesterAndDateText(t *testing.T) {
	type doc struct {
		B datosbot.Bimester `json:"b"`
		D datosbot.Date     `json:"d"`
	}
	tests := []struct {
		name string
		in   doc
		json string
	}{
		{"values", doc{datosbot.Bimester{Year: 2026, N: 6}, ymd(2026, 12, 1)}, `{"b":"2026-B6","d":"2026-12-01"}`},
		{"padded", doc{datosbot.Bimester{Year: 2027, N: 1}, ymd(2027, 1, 5)}, `{"b":"2027-B1","d":"2027-01-05"}`},
		{"zero values", doc{}, `{"b":"","d":""}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := json.Marshal(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if string(p) != tt.json {
				t.Errorf("Marshal(%+v) = %s, want %s", tt.in, p, tt.json)
			}
			var back doc
			if err := json.Unmarshal(p, &back); err != nil {
				t.Fatal(err)
			}
			if back != tt.in {
				t.Errorf("round trip of %s = %+v, want %+v", p, back, tt.in)
			}
		})
	}
	for _, bad := range []string{`{"b":"2026-B7"}`, `{"b":"B6"}`, `{"d":"2026-02-30"}`, `{"d":"1/12/2026"}`} {
		var d doc
		err := json.Unmarshal([]byte(bad), &d)
		if err == nil || datosbot.ErrorCode(err) != datosbot.EINVALID {
			t.Errorf("Unmarshal(%s) = %v, want an EINVALID error", bad, err)
		}
	}
	var b datosbot.Bimester
	if err := b.UnmarshalText([]byte("2026-b3")); err != nil || b != (datosbot.Bimester{Year: 2026, N: 3}) {
		t.Errorf("UnmarshalText(2026-b3) = %+v, %v; want 2026-B3", b, err)
	}
}
