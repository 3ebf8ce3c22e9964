package commands_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/datosbot/datosbot"
)

// dataURLList returns n distinct data URLs.
func dataURLList(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "https://datos.gob.mx/dataset/d" + strconv.Itoa(i)
	}
	return out
}

// TestCampaignDataURLsOverLimitRefusedBeforeWork: the API takes about 30,000
// data URLs in its 1 MiB body. Such a list is refused, nothing stored, at the
// cost of a list just over the limit (counted in allocations): the length is
// checked before any URL is parsed or compared.
func TestCampaignDataURLsOverLimitRefusedBeforeWork(t *testing.T) {
	h, cc := campaignHarness(t)
	ctx := context.Background()
	create := func(urls []string) error {
		c := datosbot.Campaign{Message: "Difundan los datos.", Deadline: datosbot.Date{Year: 2026, Month: 12, Day: 15}, DataURLs: urls}
		_, _, err := cc.CreateCampaign(ctx, admin, datosbot.RoleUnidad, c, "")
		return err
	}
	over, farOver := dataURLList(datosbot.MaxDataURLs+1), dataURLList(30_000)
	for _, urls := range [][]string{over, farOver} {
		err := create(urls)
		if datosbot.ErrorCode(err) != datosbot.EINVALID || !strings.Contains(datosbot.ErrorMessage(err), "máximo 10") {
			t.Fatalf("%d URLs: err = %v, want the limit named", len(urls), err)
		}
	}
	if cs, err := h.store.Campaigns(ctx, false); err != nil || len(cs) != 0 {
		t.Fatalf("campaigns after the refusals: %d (%v), want none", len(cs), err)
	}
	allocs := func(urls []string) float64 { return testing.AllocsPerRun(10, func() { _ = create(urls) }) }
	// The few allocations of slack are the store's background work (the
	// race detector's too); parsing the list would cost thousands.
	if a, b := allocs(dataURLList(300)), allocs(farOver); b > a+5 {
		t.Errorf("allocations: %v for 300 URLs, %v for %d; want the same cost", a, b, len(farOver))
	}
	// The limit counts the URLs as written, before repeats are dropped: ten
	// distinct URLs written twice each are over it.
	twice := append(dataURLList(datosbot.MaxDataURLs), dataURLList(datosbot.MaxDataURLs)...)
	if err := create(twice); datosbot.ErrorCode(err) != datosbot.EINVALID {
		t.Errorf("20 URLs with repeats: err = %v, want a refusal", err)
	}
}

// TestAnnounceDataURLsOverLimit: anunciar takes the data URLs of one
// comma-separated list up to the command's length; past the limit it is
// refused before any is validated, and repeats are stored once.
func TestAnnounceDataURLsOverLimit(t *testing.T) {
	h := newHarness(t)
	h.setup()
	text := func(n int) string {
		return "anunciar " + strings.Join(dataURLList(n), ",") + " " + tweetURL
	}
	r := h.refused("console:ana", canal, text(datosbot.MaxDataURLs+1), datosbot.EINVALID)
	wantContains(t, "refusal", r.Text, "máximo 10")
	if n := len(h.actions("")); n != 0 {
		t.Fatalf("%d actions stored after a refusal, want 0", n)
	}
	far := text(55) // about as many as fit in datosbot.MaxTextLen
	if len(far) > datosbot.MaxTextLen {
		t.Fatalf("test text of %d bytes is over the command limit", len(far))
	}
	ctx := context.Background()
	allocs := func(text string) float64 {
		return testing.AllocsPerRun(10, func() {
			h.svc.Handle(ctx, datosbot.Request{User: "console:ana", Channel: canal, Text: text})
		})
	}
	one := testing.AllocsPerRun(10, func() { _, _ = datosbot.ValidateDataURL(dataURL, datosbot.DefaultDataHosts) })
	a, b := allocs(text(datosbot.MaxDataURLs+1)), allocs(far)
	t.Logf("allocations: %v for 11 URLs, %v for 55, %v to validate one", a, b, one)
	if perURL := (b - a) / 44; perURL >= one/2 {
		t.Errorf("allocations: %v for 11 URLs, %v for 55 (%.1f per URL); validating one costs %v: the URLs past the limit are being validated", a, b, perURL, one)
	}

	h.ok("console:ana", canal, "anunciar "+dataURL+","+dataURL+"?utm_source=x,"+dataURL2+" "+tweetURL)
	as := h.actions("inegi")
	if len(as) != 1 || len(as[0].DataURLs) != 2 {
		t.Fatalf("actions = %+v, want one with the two distinct data URLs", as)
	}
}
