package storage_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/storage"
)

const (
	admin = datosbot.UserID("slack:UADMIN")
	ana   = datosbot.UserID("telegram:111")
	beto  = datosbot.UserID("slack:UBETO")
)

var b6 = datosbot.Bimester{Year: 2026, N: 6}

// runStoreSuite checks the behaviour of commands.Store and the rest of
// storage.Store's API against the server open connects to. Every test
// opens its own store.
func runStoreSuite(t *testing.T, open func(t *testing.T) *storage.Store) {
	tests := []struct {
		name string
		run  func(t *testing.T, s *storage.Store)
	}{
		{"Institutions", testInstitutions},
		{"Channels", testChannels},
		{"MoveChannel", testMoveChannel},
		{"Memberships", testMemberships},
		{"Invitations", testInvitations},
		{"AddActionIdempotent", testAddActionIdempotent},
		{"AddActionConcurrent", testAddActionConcurrent},
		{"WithdrawAction", testWithdrawAction},
		{"ActionsIndexes", testActionsIndexes},
		{"Audit", testAudit},
		{"Leases", testLeases},
		{"Once", testOnce},
		{"ExportImport", func(t *testing.T, s *storage.Store) { testExportImport(t, s, open(t)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, open(t)) })
	}
}

var ctx = context.Background()

func mustCreate(t *testing.T, s *storage.Store, key, name string) {
	t.Helper()
	if err := s.CreateInstitution(ctx, datosbot.Institution{Key: key, Name: name}, admin); err != nil {
		t.Fatalf("CreateInstitution(%s): %v", key, err)
	}
}

func testInstitutions(t *testing.T, s *storage.Store) {
	mustCreate(t, s, "shcp", "Secretaría de Hacienda")
	mustCreate(t, s, "inegi", "INEGI")
	err := s.CreateInstitution(ctx, datosbot.Institution{Key: "inegi", Name: "Otro"}, admin)
	wantCode(t, "CreateInstitution of an existing key", err, datosbot.ECONFLICT)
	err = s.CreateInstitution(ctx, datosbot.Institution{Key: "Mal Clave", Name: "X"}, admin)
	wantCode(t, "CreateInstitution of a bad key", err, datosbot.EINVALID)

	_, err = s.Institution(ctx, "imss")
	wantCode(t, "Institution(imss)", err, datosbot.ENOTFOUND)

	in, err := s.Institution(ctx, "inegi")
	if err != nil {
		t.Fatal(err)
	}
	if !in.Active || in.Name != "INEGI" || !in.CreatedAt.Equal(testClock) {
		t.Errorf("Institution(inegi) = %+v, want active, named INEGI, created at the store's clock", in)
	}

	if err := s.LinkChannel(ctx, "slack:C1", "inegi", admin); err != nil {
		t.Fatal(err)
	}
	created, err := s.PutInstitution(ctx, datosbot.Institution{Key: "inegi", Name: "Instituto Nacional de Estadística", CKANOrg: "inegi", Active: true}, admin)
	if err != nil || created {
		t.Fatalf("PutInstitution(existing) = %t, %v; want false, nil", created, err)
	}
	in, _ = s.Institution(ctx, "inegi")
	if in.Name != "Instituto Nacional de Estadística" || in.CKANOrg != "inegi" || !slices.Equal(in.Channels, []datosbot.ChannelID{"slack:C1"}) || !in.CreatedAt.Equal(testClock) {
		t.Errorf("after PutInstitution got %+v, want the new name and CKAN org with channel slack:C1 and the old creation time", in)
	}
	created, err = s.PutInstitution(ctx, datosbot.Institution{Key: "imss", Name: "IMSS", Active: true}, admin)
	if err != nil || !created {
		t.Fatalf("PutInstitution(new) = %t, %v; want true, nil", created, err)
	}

	if err := s.SetInstitutionActive(ctx, "shcp", false, admin); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "SetInstitutionActive(missing)", s.SetInstitutionActive(ctx, "nada", false, admin), datosbot.ENOTFOUND)

	all, err := s.Institutions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, in := range all {
		got = append(got, fmt.Sprintf("%s active=%t channels=%v", in.Key, in.Active, in.Channels))
	}
	want := []string{"imss active=true channels=[]", "inegi active=true channels=[slack:C1]", "shcp active=false channels=[]"}
	if !slices.Equal(got, want) {
		t.Errorf("Institutions:\ngot  %q\nwant %q", got, want)
	}
}

func testChannels(t *testing.T, s *storage.Store) {
	mustCreate(t, s, "inegi", "INEGI")
	mustCreate(t, s, "shcp", "SHCP")
	steps := []struct {
		name string
		do   func() error
		code string
	}{
		{"link", func() error { return s.LinkChannel(ctx, "telegram:-100", "inegi", admin) }, ""},
		{"link a second channel", func() error { return s.LinkChannel(ctx, "slack:C9", "inegi", admin) }, ""},
		{"link again to the same institution", func() error { return s.LinkChannel(ctx, "telegram:-100", "inegi", admin) }, ""},
		{"link to another institution", func() error { return s.LinkChannel(ctx, "telegram:-100", "shcp", admin) }, datosbot.ECONFLICT},
		{"link to a missing institution", func() error { return s.LinkChannel(ctx, "slack:C2", "nada", admin) }, datosbot.ENOTFOUND},
		{"baja shcp", func() error { return s.SetInstitutionActive(ctx, "shcp", false, admin) }, ""},
		{"link to an inactive institution", func() error { return s.LinkChannel(ctx, "slack:C2", "shcp", admin) }, datosbot.EINVALID},
	}
	for _, st := range steps {
		wantCode(t, st.name, st.do(), st.code)
	}
	key, err := s.ChannelInstitution(ctx, "telegram:-100")
	if err != nil || key != "inegi" {
		t.Fatalf("ChannelInstitution = %q, %v; want inegi", key, err)
	}
	key, err = s.UnlinkChannel(ctx, "telegram:-100", admin)
	if err != nil || key != "inegi" {
		t.Fatalf("UnlinkChannel = %q, %v; want inegi", key, err)
	}
	_, err = s.UnlinkChannel(ctx, "telegram:-100", admin)
	wantCode(t, "UnlinkChannel again", err, datosbot.ENOTFOUND)
	_, err = s.ChannelInstitution(ctx, "telegram:-100")
	wantCode(t, "ChannelInstitution after unlink", err, datosbot.ENOTFOUND)
	in, _ := s.Institution(ctx, "inegi")
	if !slices.Equal(in.Channels, []datosbot.ChannelID{"slack:C9"}) {
		t.Errorf("channels after unlink = %v, want [slack:C9]", in.Channels)
	}
	// Once unlinked, the channel may join another institution.
	wantCode(t, "link to reactivated shcp", errors2(s.SetInstitutionActive(ctx, "shcp", true, admin), s.LinkChannel(ctx, "telegram:-100", "shcp", admin)), "")
}

func errors2(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func testMoveChannel(t *testing.T, s *storage.Store) {
	mustCreate(t, s, "inegi", "INEGI")
	mustCreate(t, s, "shcp", "SHCP")
	must(t, s.LinkChannel(ctx, "telegram:-5", "inegi", admin))
	must(t, s.LinkChannel(ctx, "telegram:-7", "shcp", admin))

	wantCode(t, "move an unlinked channel", s.MoveChannel(ctx, "telegram:-1", "telegram:-1001", admin), datosbot.ENOTFOUND)
	wantCode(t, "move onto another institution's channel", s.MoveChannel(ctx, "telegram:-5", "telegram:-7", admin), datosbot.ECONFLICT)
	must(t, s.MoveChannel(ctx, "telegram:-5", "telegram:-1005", admin))

	if key, err := s.ChannelInstitution(ctx, "telegram:-1005"); err != nil || key != "inegi" {
		t.Errorf("ChannelInstitution(new id) = %q, %v; want inegi", key, err)
	}
	_, err := s.ChannelInstitution(ctx, "telegram:-5")
	wantCode(t, "ChannelInstitution(old id)", err, datosbot.ENOTFOUND)
	in, _ := s.Institution(ctx, "inegi")
	if !slices.Equal(in.Channels, []datosbot.ChannelID{"telegram:-1005"}) {
		t.Errorf("channels = %v, want [telegram:-1005]", in.Channels)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func testMemberships(t *testing.T, s *storage.Store) {
	grants := []datosbot.Membership{
		{User: ana, Role: datosbot.RoleInstitucional, Institution: "inegi", GrantedBy: admin},
		{User: ana, Role: datosbot.RoleComunicacion, Institution: "shcp", GrantedBy: admin},
		{User: beto, Role: datosbot.RoleComunicacion, Institution: "inegi", GrantedBy: ana},
		{User: admin, Role: datosbot.RoleUnidad, GrantedBy: "sistema"},
		{User: ana, Role: datosbot.RoleInstitucional, Institution: "inegi", GrantedBy: beto}, // again: no-op
	}
	for _, m := range grants {
		must(t, s.AddMembership(ctx, m))
	}
	wantCode(t, "central role with an institution", s.AddMembership(ctx, datosbot.Membership{User: ana, Role: datosbot.RoleUnidad, Institution: "inegi"}), datosbot.EINVALID)
	wantCode(t, "institutional role without institution", s.AddMembership(ctx, datosbot.Membership{User: ana, Role: datosbot.RoleComunicacion}), datosbot.EINVALID)

	describe := func(ms []datosbot.Membership) []string {
		var out []string
		for _, m := range ms {
			out = append(out, fmt.Sprintf("%s %s %s by %s", m.User, m.Role, m.Institution, m.GrantedBy))
		}
		return out
	}
	cases := []struct {
		name string
		get  func() ([]datosbot.Membership, error)
		want []string
	}{
		{"Memberships(ana)", func() ([]datosbot.Membership, error) { return s.Memberships(ctx, ana) },
			[]string{"telegram:111 institucional inegi by slack:UADMIN", "telegram:111 comunicacion shcp by slack:UADMIN"}},
		{"Members(inegi)", func() ([]datosbot.Membership, error) { return s.Members(ctx, "inegi") },
			[]string{"slack:UBETO comunicacion inegi by telegram:111", "telegram:111 institucional inegi by slack:UADMIN"}},
		{"Members(central)", func() ([]datosbot.Membership, error) { return s.Members(ctx, "") },
			[]string{"slack:UADMIN unidad  by sistema"}},
		{"Memberships(nobody)", func() ([]datosbot.Membership, error) { return s.Memberships(ctx, "slack:UNADIE") }, nil},
	}
	for _, c := range cases {
		ms, err := c.get()
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := describe(ms); !slices.Equal(got, c.want) {
			t.Errorf("%s:\ngot  %q\nwant %q", c.name, got, c.want)
		}
	}
}

func testInvitations(t *testing.T, s *storage.Store) {
	now := testClock
	invs := []datosbot.Invitation{
		{Code: "K7Q2M9", Role: datosbot.RoleComunicacion, Institution: "inegi", CreatedBy: ana, CreatedAt: now, ExpiresAt: now.Add(datosbot.InvitationTTL)},
		{Code: "OLD123", Role: datosbot.RoleComunicacion, Institution: "inegi", CreatedBy: ana, CreatedAt: now.Add(-8 * 24 * time.Hour), ExpiresAt: now.Add(-24 * time.Hour)},
	}
	for _, inv := range invs {
		must(t, s.CreateInvitation(ctx, inv))
	}
	wantCode(t, "CreateInvitation with an existing code", s.CreateInvitation(ctx, invs[0]), datosbot.ECONFLICT)

	inv, err := s.RedeemInvitation(ctx, "K7Q2M9", beto, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if inv.UsedBy != beto || !inv.UsedAt.Equal(now.Add(time.Hour)) {
		t.Errorf("redeemed invitation = %+v, want used by %s", inv, beto)
	}
	ms, _ := s.Memberships(ctx, beto)
	if len(ms) != 1 || ms[0].Role != datosbot.RoleComunicacion || ms[0].Institution != "inegi" || ms[0].GrantedBy != ana {
		t.Errorf("memberships after redeem = %+v, want comunicacion of inegi granted by %s", ms, ana)
	}

	refusals := []struct {
		name string
		code string
		want string
	}{
		{"used twice", "K7Q2M9", datosbot.EINVALID},
		{"expired", "OLD123", datosbot.EINVALID},
		{"unknown", "NOPE00", datosbot.ENOTFOUND},
	}
	for _, r := range refusals {
		_, err := s.RedeemInvitation(ctx, r.code, ana, now.Add(2*time.Hour))
		wantCode(t, "RedeemInvitation "+r.name, err, r.want)
	}
	if ms, _ := s.Memberships(ctx, ana); len(ms) != 0 {
		t.Errorf("refused redemptions granted %+v", ms)
	}
}

func action(id, inst, evidence string, published datosbot.Date, at time.Time) datosbot.Action {
	return datosbot.Action{
		ID: id, Institution: inst, DataURLs: []string{"https://www.datos.gob.mx/dataset/" + inst},
		EvidenceURL: evidence, Medium: datosbot.MediumRedes, Type: datosbot.TypePublicacion,
		PublishedOn: published, RegisteredBy: ana, RegisteredAt: at,
	}
}

var nov20 = datosbot.Date{Year: 2026, Month: 11, Day: 20}

func testAddActionIdempotent(t *testing.T, s *storage.Store) {
	first := action("A1", "inegi", "https://x.com/inegi/status/1", nov20, testClock)
	got, created, err := s.AddAction(ctx, first)
	if err != nil || !created || got.ID != "A1" || got.Bimester != b6 {
		t.Fatalf("AddAction = %s %s %t %v; want A1 2026-B6 created", got.ID, got.Bimester, created, err)
	}
	cases := []struct {
		name        string
		a           datosbot.Action
		wantID      string
		wantCreated bool
		wantCode    string
	}{
		{"same evidence URL", action("A2", "inegi", "https://x.com/inegi/status/1", nov20, testClock), "A1", false, ""},
		{"same URL written differently", action("A3", "inegi", "HTTPS://WWW.X.COM/inegi/status/1/", nov20.AddDays(-3), testClock), "A1", false, ""},
		{"same URL, other institution", action("A4", "shcp", "https://x.com/inegi/status/1", nov20, testClock), "A4", true, ""},
		{"same URL, other bimester", action("A5", "inegi", "https://x.com/inegi/status/1", datosbot.Date{Year: 2026, Month: 9, Day: 1}, testClock), "A5", true, ""},
		{"existing ID, new URL", action("A1", "inegi", "https://x.com/inegi/status/2", nov20, testClock), "", false, datosbot.ECONFLICT},
		{"missing evidence", action("A6", "inegi", "", nov20, testClock), "", false, datosbot.EINVALID},
	}
	for _, c := range cases {
		got, created, err := s.AddAction(ctx, c.a)
		wantCode(t, c.name, err, c.wantCode)
		if err == nil && (got.ID != c.wantID || created != c.wantCreated) {
			t.Errorf("%s: got %s created=%t, want %s created=%t", c.name, got.ID, created, c.wantID, c.wantCreated)
		}
	}
	all, _ := s.Actions(ctx, "", datosbot.Bimester{})
	if len(all) != 3 {
		t.Errorf("stored %d actions, want 3 (A1, A4, A5)", len(all))
	}

	// After a withdrawal the same publication may be registered again.
	if _, err := s.WithdrawAction(ctx, "A1", ana, "error", testClock); err != nil {
		t.Fatal(err)
	}
	got, created, err = s.AddAction(ctx, action("A7", "inegi", "https://x.com/inegi/status/1", nov20, testClock))
	if err != nil || !created || got.ID != "A7" {
		t.Errorf("AddAction after withdraw = %s %t %v; want A7 created", got.ID, created, err)
	}
}

func testAddActionConcurrent(t *testing.T, s *storage.Store) {
	const n = 10
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		created int
		ids     = map[string]int{}
		errs    []error
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := action(fmt.Sprintf("C%d", i), "inegi", "https://facebook.com/inegi/posts/9", nov20, testClock.Add(time.Duration(i)*time.Second))
			got, ok, err := s.AddAction(ctx, a)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			if ok {
				created++
			}
			ids[got.ID]++
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("concurrent AddAction errors: %v", errs)
	}
	if created != 1 || len(ids) != 1 {
		t.Fatalf("got %d created and returned ids %v, want exactly one action created and returned to all %d callers", created, ids, n)
	}
	acts, _ := s.Actions(ctx, "inegi", b6)
	if len(acts) != 1 {
		t.Errorf("stored %d actions, want 1", len(acts))
	}
	audit, _ := s.Audit(ctx)
	if len(audit) != 1 || audit[0].Event != "accion.registrar" {
		t.Errorf("audit = %+v, want one accion.registrar", audit)
	}
}

func testWithdrawAction(t *testing.T, s *storage.Store) {
	_, _, err := s.AddAction(ctx, action("W1", "inegi", "https://inegi.gob.mx/nota", nov20, testClock))
	must(t, err)
	at := testClock.Add(time.Hour)
	a, err := s.WithdrawAction(ctx, "W1", beto, "URL equivocada", at)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Withdrawn || a.WithdrawnBy != beto || !a.WithdrawnAt.Equal(at) || a.Reason != "URL equivocada" {
		t.Errorf("withdrawn action = %+v", a)
	}
	stored, err := s.Action(ctx, "W1")
	if err != nil || !stored.Withdrawn {
		t.Errorf("Action(W1) = %+v, %v; want it kept and withdrawn", stored, err)
	}
	_, err = s.WithdrawAction(ctx, "W1", beto, "otra vez", at)
	wantCode(t, "withdraw twice", err, datosbot.EINVALID)
	_, err = s.WithdrawAction(ctx, "NADA", beto, "", at)
	wantCode(t, "withdraw unknown", err, datosbot.ENOTFOUND)
	_, err = s.Action(ctx, "NADA")
	wantCode(t, "Action unknown", err, datosbot.ENOTFOUND)
}

func testActionsIndexes(t *testing.T, s *storage.Store) {
	b5 := datosbot.Bimester{Year: 2026, N: 5}
	oct := datosbot.Date{Year: 2026, Month: 10, Day: 3}
	adds := []datosbot.Action{
		action("X3", "inegi", "https://x.com/3", nov20, testClock.Add(3*time.Minute)),
		action("X1", "inegi", "https://x.com/1", oct, testClock.Add(1*time.Minute)),
		action("X2", "shcp", "https://x.com/2", nov20, testClock.Add(2*time.Minute)),
		action("X4", "shcp", "https://x.com/4", oct, testClock.Add(4*time.Minute)),
	}
	for _, a := range adds {
		_, _, err := s.AddAction(ctx, a)
		must(t, err)
	}
	cases := []struct {
		key  string
		b    datosbot.Bimester
		want []string
	}{
		{"", datosbot.Bimester{}, []string{"X1", "X2", "X3", "X4"}},
		{"inegi", datosbot.Bimester{}, []string{"X1", "X3"}},
		{"inegi", b6, []string{"X3"}},
		{"shcp", b5, []string{"X4"}},
		{"", b6, []string{"X2", "X3"}},
		{"imss", b6, nil},
	}
	for _, c := range cases {
		acts, err := s.Actions(ctx, c.key, c.b)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, a := range acts {
			got = append(got, a.ID)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("Actions(%q, %s) = %v, want %v", c.key, c.b, got, c.want)
		}
	}
}

func testAudit(t *testing.T, s *storage.Store) {
	mustCreate(t, s, "inegi", "INEGI")
	must(t, s.LinkChannel(ctx, "slack:C1", "inegi", ana))
	must(t, s.LinkChannel(ctx, "slack:C1", "inegi", ana)) // no-op, not audited
	must(t, s.CreateInvitation(ctx, datosbot.Invitation{Code: "INV1", Role: datosbot.RoleComunicacion, Institution: "inegi", CreatedBy: ana}))
	_, err := s.RedeemInvitation(ctx, "INV1", beto, testClock)
	must(t, err)
	_, _, err = s.AddAction(ctx, action("A1", "inegi", "https://x.com/1", nov20, testClock))
	must(t, err)
	_, err = s.WithdrawAction(ctx, "A1", beto, "duplicada", testClock)
	must(t, err)
	_, err = s.UnlinkChannel(ctx, "slack:C1", admin)
	must(t, err)
	must(t, s.SetInstitutionActive(ctx, "inegi", false, admin))
	_ = s.CreateInstitution(ctx, datosbot.Institution{Key: "inegi", Name: "x"}, admin) // refused, not audited
	must(t, s.AppendAudit(ctx, datosbot.AuditEntry{Actor: ana, Event: "datos.publicar", Target: "inegi", Detail: "https://datos.gob.mx/dataset/x"}))

	entries, err := s.Audit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		if !e.At.Equal(testClock) {
			t.Errorf("entry %s at %s, want the store's clock", e.Event, e.At)
		}
		got = append(got, fmt.Sprintf("%s %s %s %s", e.Actor, e.Event, e.Target, e.Detail))
	}
	want := []string{
		"slack:UADMIN institucion.alta inegi INEGI",
		"telegram:111 canal.vincular slack:C1 inegi",
		"telegram:111 invitacion.crear INV1 comunicacion de inegi",
		"slack:UBETO invitacion.usar INV1 ",
		"slack:UBETO miembro.agregar slack:UBETO comunicacion de inegi",
		"telegram:111 accion.registrar A1 inegi 2026-B6 https://x.com/1",
		"slack:UBETO accion.retirar A1 duplicada",
		"slack:UADMIN canal.desvincular slack:C1 inegi",
		"slack:UADMIN institucion.baja inegi ",
		"telegram:111 datos.publicar inegi https://datos.gob.mx/dataset/x",
	}
	if !slices.Equal(got, want) {
		t.Errorf("audit:\ngot  %q\nwant %q", got, want)
	}
}

func testLeases(t *testing.T, s *storage.Store) {
	const ttl = 200 * time.Millisecond
	steps := []struct {
		name   string
		holder string
		want   bool
	}{
		{"first holder takes it", "replica-1", true},
		{"second holder is refused", "replica-2", false},
		{"first holder renews", "replica-1", true},
	}
	for _, st := range steps {
		got, err := s.AcquireLease(ctx, "telegram-poll", st.holder, ttl)
		if err != nil || got != st.want {
			t.Fatalf("%s: got %t, %v; want %t", st.name, got, err, st.want)
		}
	}
	// Releasing by a non-holder does nothing.
	must(t, s.ReleaseLease(ctx, "telegram-poll", "replica-2"))
	if got, _ := s.AcquireLease(ctx, "telegram-poll", "replica-2", ttl); got {
		t.Fatal("replica-2 took the lease after releasing someone else's")
	}
	advance(t, s, ttl+50*time.Millisecond)
	if got, err := s.AcquireLease(ctx, "telegram-poll", "replica-2", time.Minute); err != nil || !got {
		t.Fatalf("after the TTL: got %t, %v; want replica-2 to take the lease", got, err)
	}
	must(t, s.ReleaseLease(ctx, "telegram-poll", "replica-2"))
	if got, _ := s.AcquireLease(ctx, "telegram-poll", "replica-1", time.Minute); !got {
		t.Fatal("after release: replica-1 refused")
	}
}

func testOnce(t *testing.T, s *storage.Store) {
	const ttl = 200 * time.Millisecond
	for i, want := range []bool{true, false, false} {
		got, err := s.Once(ctx, "slack:ev1", ttl)
		if err != nil || got != want {
			t.Fatalf("call %d: Once = %t, %v; want %t", i+1, got, err, want)
		}
	}
	advance(t, s, ttl+50*time.Millisecond)
	if got, _ := s.Once(ctx, "slack:ev1", ttl); !got {
		t.Error("Once after the TTL = false, want true")
	}
	// A forgotten key is new again (a failed delivery is redelivered).
	must(t, s.Forget(ctx, "slack:ev1"))
	if got, _ := s.Once(ctx, "slack:ev1", ttl); !got {
		t.Error("Once after Forget = false, want true")
	}
}

func testExportImport(t *testing.T, s, empty *storage.Store) {
	mustCreate(t, s, "inegi", "INEGI")
	mustCreate(t, s, "shcp", "SHCP")
	must(t, s.SetInstitutionActive(ctx, "shcp", false, admin))
	must(t, s.LinkChannel(ctx, "slack:C1", "inegi", admin))
	must(t, s.LinkChannel(ctx, "telegram:-100", "inegi", admin))
	must(t, s.AddMembership(ctx, datosbot.Membership{User: admin, Role: datosbot.RoleUnidad, GrantedBy: "sistema", GrantedAt: testClock}))
	must(t, s.CreateInvitation(ctx, datosbot.Invitation{Code: "INV1", Role: datosbot.RoleInstitucional, Institution: "inegi", CreatedBy: admin}))
	_, err := s.RedeemInvitation(ctx, "INV1", ana, testClock)
	must(t, err)
	for i, at := range []time.Time{testClock, testClock.Add(time.Minute)} {
		_, _, err := s.AddAction(ctx, action(fmt.Sprintf("E%d", i), "inegi", fmt.Sprintf("https://x.com/%d", i), nov20, at))
		must(t, err)
	}
	_, err = s.WithdrawAction(ctx, "E0", ana, "error", testClock)
	must(t, err)
	// A key written by another part of the bot, unknown to storage.
	b := backendOf(t, s)
	raw := rawClient(t, s)
	must(t, raw.HSet(ctx, b.prefix+"{d}:reminder:inegi:2026-B6", "due", "2026-12-17T10:00:00-06:00", "sent", "0").Err())
	must(t, raw.ZAdd(ctx, b.prefix+"{d}:outbox", redisZ(1.5, "m1"), redisZ(2, "m2")).Err())
	// Dedup keys and leases are not exported.
	_, _ = s.Once(ctx, "ev", time.Hour)

	first, err := s.Export(ctx)
	must(t, err)
	// The other keys: the two above and the evidence queue's due set and
	// jobs (the actions' checks carry over).
	if len(first.Institutions) != 2 || len(first.Memberships) != 2 || len(first.Invitations) != 1 || len(first.Actions) != 2 || len(first.Extra) != 4 {
		t.Fatalf("export = %s; want 2 institutions, 2 memberships, 1 invitation, 2 actions, 4 other keys", first)
	}
	must(t, empty.Import(ctx, first))
	second, err := empty.Export(ctx)
	must(t, err)
	j1, _ := json.Marshal(first)
	j2, _ := json.Marshal(second)
	if !bytes.Equal(j1, j2) {
		t.Errorf("Export → Import → Export differs:\nfirst  %s\nsecond %s", j1, j2)
	}
	// The imported store works: the withdrawn evidence is free, the other is not.
	if _, created, err := empty.AddAction(ctx, action("N1", "inegi", "https://x.com/1", nov20, testClock)); err != nil || created {
		t.Errorf("AddAction of an imported evidence URL: created=%t, %v; want the existing action", created, err)
	}
	if _, created, err := empty.AddAction(ctx, action("N0", "inegi", "https://x.com/0", nov20, testClock)); err != nil || !created {
		t.Errorf("AddAction of a withdrawn imported evidence URL: created=%t, %v; want created", created, err)
	}
	if key, err := empty.ChannelInstitution(ctx, "telegram:-100"); err != nil || key != "inegi" {
		t.Errorf("imported channel: %q, %v", key, err)
	}
	wantCode(t, "Import into a store with institutions", empty.Import(ctx, first), datosbot.ECONFLICT)
}
