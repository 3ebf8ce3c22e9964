package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// TestCampaignAPIDataURLsFarOverLimit: as many data URLs as fit in the 1 MiB
// body are refused with 400, the limit named, nothing stored or announced;
// a list with tracking parameters is stored without them.
func TestCampaignAPIDataURLsFarOverLimit(t *testing.T) {
	a := newCampaignAPI(t)
	urls := make([]string, 25_000)
	for i := range urls {
		urls[i] = "https://datos.gob.mx/dataset/" + strconv.Itoa(i)
	}
	list, _ := json.Marshal(urls)
	body := `{"message": "Difundan los datos.", "deadline": "2026-12-15", "data_urls": ` + string(list) + `}`
	if len(body) > 1<<20 {
		t.Fatalf("test body of %d bytes is over the 1 MiB limit", len(body))
	}
	w := a.post(t, bearer(token), "", body)
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "máximo 10") {
		t.Fatalf("status %d, body %.300s; want 400 naming the limit", w.Code, w.Body)
	}
	if n := a.campaigns(t); n != 0 {
		t.Errorf("%d campaigns stored, want none", n)
	}
	if calls, _ := a.poster.counts(); calls != 0 {
		t.Errorf("%d announcements, want none", calls)
	}

	w = a.post(t, bearer(token), "", `{"message": "Difundan los datos.", "deadline": "2026-12-15",
		"data_urls": ["https://www.datos.gob.mx/dataset/accidentes_transito?utm_source=twitter&utm_medium=social"]}`)
	if w.Code != http.StatusCreated {
		t.Fatalf("status %d, body %s; want 201", w.Code, w.Body)
	}
	if got := decode[campaignBody](t, w).DataURLs; len(got) != 1 || got[0] != "https://www.datos.gob.mx/dataset/accidentes_transito" {
		t.Errorf("data_urls = %q, want the URL without its tracking parameters", got)
	}
}
