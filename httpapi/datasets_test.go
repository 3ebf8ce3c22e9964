package httpapi_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/httpapi"
)

func TestDatasets(t *testing.T) {
	store := openStore(t)
	seedReport(t, store)
	ctx := context.Background()
	for _, n := range []datosbot.PortalNotice{
		{Key: "k1", Institution: "inegi", Kind: "conjunto", Dataset: "censo_2020", Title: "Censo", URL: "https://www.datos.gob.mx/dataset/censo_2020",
			HighValue: true, ChangedAt: time.Date(2026, 11, 20, 16, 0, 0, 0, time.UTC)},
		{Key: "k2", Institution: "inegi", Kind: "recurso", Dataset: "enoe", Resource: "r1", ResourceName: "=1+1", URL: "https://www.datos.gob.mx/dataset/enoe",
			ChangedAt: time.Date(2026, 12, 2, 16, 0, 0, 0, time.UTC)},
		{Key: "k3", Institution: "shcp", Kind: "conjunto", Dataset: "deuda", URL: "https://www.datos.gob.mx/dataset/deuda",
			ChangedAt: time.Date(2026, 12, 2, 17, 0, 0, 0, time.UTC)},
	} {
		if _, err := store.RecordPortalNotice(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	srv := httpapi.New(httpapi.Config{Store: store, Tokens: []string{token}, Now: func() time.Time { return now }, Loc: mexico})
	mux := http.NewServeMux()
	srv.Routes(mux)
	srv.DatasetRoutes(mux, store)
	h := srv.Instrument(mux)

	type list struct {
		Items []datosbot.PortalNotice `json:"items"`
		Count int                     `json:"count"`
	}
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", []string{"k1", "k2", "k3"}},
		{"?institution=inegi", []string{"k1", "k2"}},
		{"?institution=inegi&since=2026-12-01", []string{"k2"}},
		{"?since=2026-12-02T10:30:00-06:00", []string{"k3"}},
	} {
		got := decode[list](t, do(t, h, "GET", "/api/v1/datasets"+tc.query, bearer(token), nil))
		var keys []string
		for _, n := range got.Items {
			keys = append(keys, n.Key)
		}
		if got.Count != len(tc.want) || len(keys) != len(tc.want) || (len(keys) > 0 && keys[0] != tc.want[0]) {
			t.Errorf("%s: got %v (count %d), want %v", tc.query, keys, got.Count, tc.want)
		}
	}
	rows := readCSV(t, do(t, h, "GET", "/api/v1/datasets?institution=inegi&format=csv", bearer(token), nil))
	if len(rows) != 3 || rows[0][0] != "institution" || rows[1][8] != "true" || rows[2][7] != "'=1+1" {
		t.Errorf("CSV: got %q", rows)
	}
	checkError(t, do(t, h, "GET", "/api/v1/datasets?since=ayer", bearer(token), nil), http.StatusBadRequest, datosbot.EINVALID)
	checkError(t, do(t, h, "GET", "/api/v1/datasets?institution=nadie", bearer(token), nil), http.StatusNotFound, datosbot.ENOTFOUND)
	if w := do(t, h, "GET", "/api/v1/datasets", "", nil); w.Code != http.StatusUnauthorized {
		t.Errorf("without a token: got %d, want 401", w.Code)
	}
}

// The portal's checks of an action's data URLs are in its JSON and in the
// last CSV column, one status per data URL in order.
func TestActionsShowDataChecks(t *testing.T) {
	store := openStore(t)
	seedReport(t, store)
	ctx := context.Background()
	checked := time.Date(2026, 12, 3, 17, 30, 5, 0, time.UTC)
	if _, err := store.SetActionDataCheck(ctx, "A1111", datosbot.DataCheck{URL: "https://www.datos.gob.mx/dataset/enoe",
		Status: datosbot.CheckOtraInstitucion, Dataset: "enoe", Organization: "stps", CheckedAt: checked}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.SetActionDataCheck(ctx, "A1111", datosbot.DataCheck{URL: "https://www.datos.gob.mx/dataset/censo",
		Status: datosbot.CheckVerificada, Dataset: "censo", Organization: "inegi", CheckedAt: checked}); err != nil {
		t.Fatal(err)
	}
	h := newServer(t, store, nil)
	rows := readCSV(t, do(t, h, "GET", "/api/v1/actions?institution=inegi&format=csv", bearer(token), nil))
	col := slices.Index(rows[0], "data_checks")
	if col < 0 || rows[1][col] != "verificada otra_institucion" {
		t.Errorf("CSV: got %q, want data_checks \"verificada otra_institucion\" (in the order of data_urls)", rows)
	}
	w := do(t, h, "GET", "/api/v1/actions?institution=inegi", bearer(token), nil)
	for _, want := range []string{`"data_checks":[{"url":"https://www.datos.gob.mx/dataset/enoe","status":"otra_institucion","dataset":"enoe","title":"","organization":"stps","checked_at":"2026-12-03T17:30:05Z"}`} {
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("JSON: got %s, want %s", w.Body, want)
		}
	}
}
