package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/commands"
	"github.com/datosbot/datosbot/httpapi"
	"github.com/datosbot/datosbot/storage/storagetest"
)

var _ httpapi.CampaignService = (*commands.Campaigns)(nil)

// recordingPoster counts Post calls and keeps the messages.
type recordingPoster struct {
	mu    sync.Mutex
	calls int
	msgs  []datosbot.Message
}

func (p *recordingPoster) Post(ctx context.Context, msgs ...datosbot.Message) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls++
	p.msgs = append(p.msgs, msgs...)
	return nil
}

func (p *recordingPoster) counts() (calls, msgs int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls, len(p.msgs)
}

type campaignAPI struct {
	h      http.Handler
	store  *storagetest.Store
	poster *recordingPoster
}

// newCampaignAPI serves the API with campaigns over the real store, with
// inegi and shcp, each with one linked channel.
func newCampaignAPI(t *testing.T) campaignAPI {
	t.Helper()
	clock := func() time.Time { return now }
	st := storagetest.Open(t, clock)
	ctx := context.Background()
	for _, in := range []datosbot.Institution{
		{Key: "inegi", Name: "Instituto Nacional de Estadística y Geografía"},
		{Key: "shcp", Name: "Secretaría de Hacienda y Crédito Público"},
	} {
		if err := st.CreateInstitution(ctx, in, "console:admin"); err != nil {
			t.Fatal(err)
		}
		if err := st.LinkChannel(ctx, datosbot.ChannelID("slack:C-"+in.Key), in.Key, "console:admin"); err != nil {
			t.Fatal(err)
		}
	}
	p := &recordingPoster{}
	svc := commands.New(commands.Config{Store: st, Poster: p, Now: clock, Loc: mexico})
	cc := svc.Campaigns()
	srv := httpapi.New(httpapi.Config{Store: st, Tokens: []string{token}, Now: clock, Loc: mexico})
	mux := http.NewServeMux()
	srv.Routes(mux)
	srv.CampaignRoutes(mux, cc)
	return campaignAPI{h: srv.Instrument(mux), store: st, poster: p}
}

func (a campaignAPI) post(t *testing.T, auth, idem, body string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/api/v1/campaigns", strings.NewReader(body))
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	if idem != "" {
		r.Header.Set("Idempotency-Key", idem)
	}
	w := httptest.NewRecorder()
	a.h.ServeHTTP(w, r)
	return w
}

func (a campaignAPI) campaigns(t *testing.T) int {
	t.Helper()
	cs, err := a.store.Campaigns(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	return len(cs)
}

type campaignBody struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Message     string   `json:"message"`
	DataURLs    []string `json:"data_urls"`
	Deadline    string   `json:"deadline"`
	RequestedBy string   `json:"requested_by"`
	CreatedAt   string   `json:"created_at"`
	Closed      bool     `json:"closed"`
	Targets     int      `json:"targets"`
	Progress    struct {
		Pendiente int `json:"pendiente"`
		Enterado  int `json:"enterado"`
		Cumplida  int `json:"cumplida"`
	} `json:"progress"`
	Institutions []struct {
		Institution    string  `json:"institution"`
		Status         string  `json:"status"`
		AcknowledgedAt *string `json:"acknowledged_at"`
		CompletedAt    *string `json:"completed_at"`
		Action         *string `json:"action"`
	} `json:"institutions"`
}

const campaignJSON = `{"title": "Accidentes de tránsito", "message": "Difundan los datos de accidentes.",
	"data_urls": ["https://www.datos.gob.mx/dataset/accidentes_transito"], "deadline": "2026-12-15"}`

func TestCampaignAPICreateAndRead(t *testing.T) {
	a := newCampaignAPI(t)
	w := a.post(t, bearer(token), "launch-2026-12-10", campaignJSON)
	if w.Code != http.StatusCreated {
		t.Fatalf("create: status %d, want 201; body %s", w.Code, w.Body)
	}
	first := decode[campaignBody](t, w)
	if first.ID == "" || first.Targets != 2 || first.Progress.Pendiente != 2 || first.RequestedBy != "unidad" ||
		first.Deadline != "2026-12-15" || first.Title != "Accidentes de tránsito" || first.Closed {
		t.Fatalf("create answer: got %+v, want a new open campaign of unidad with 2 pendiente targets", first)
	}
	if len(first.Institutions) != 2 || first.Institutions[0].Institution != "inegi" || first.Institutions[0].Status != "pendiente" ||
		first.Institutions[0].AcknowledgedAt != nil || first.Institutions[0].Action == nil {
		t.Fatalf("institutions: got %+v, want inegi then shcp, pendiente, null times, empty action", first.Institutions)
	}
	if got := w.Header().Get("Location"); got != "/api/v1/campaigns/"+first.ID {
		t.Errorf("Location: got %q, want /api/v1/campaigns/%s", got, first.ID)
	}
	if calls, msgs := a.poster.counts(); calls != 1 || msgs != 2 {
		t.Fatalf("announcement: got %d Post calls with %d messages, want 1 call with 2", calls, msgs)
	}

	for i := range 2 {
		w = a.post(t, bearer(token), "launch-2026-12-10", campaignJSON)
		if w.Code != http.StatusOK && w.Code != http.StatusCreated {
			t.Fatalf("repeat %d: status %d, want 200 or 201; body %s", i, w.Code, w.Body)
		}
		if again := decode[campaignBody](t, w); again.ID != first.ID {
			t.Fatalf("repeat %d: got id %s, want %s", i, again.ID, first.ID)
		}
	}
	if n := a.campaigns(t); n != 1 {
		t.Errorf("campaigns after repeats: got %d, want 1", n)
	}
	if calls, msgs := a.poster.counts(); calls != 1 || msgs != 2 {
		t.Errorf("announcements after repeats: got %d calls, %d messages; want 1 and 2", calls, msgs)
	}

	w = a.post(t, bearer(token), "", strings.Replace(campaignJSON, `"deadline"`, `"institutions": ["SHCP"], "requested_by": "coordinacion", "deadline"`, 1))
	if w.Code != http.StatusCreated {
		t.Fatalf("second campaign: status %d, want 201; body %s", w.Code, w.Body)
	}
	second := decode[campaignBody](t, w)
	if second.ID == first.ID || second.Targets != 1 || second.RequestedBy != "coordinacion" {
		t.Errorf("second campaign: got %+v, want a new one for shcp requested by coordinacion", second)
	}

	ctx := context.Background()
	if _, err := a.store.AcknowledgeCampaign(ctx, first.ID, "shcp", "slack:U1", now); err != nil {
		t.Fatal(err)
	}
	if _, err := a.store.CompleteCampaign(ctx, first.ID, "inegi", "A2345", now); err != nil {
		t.Fatal(err)
	}
	w = do(t, a.h, http.MethodGet, "/api/v1/campaigns/"+strings.ToLower(first.ID), bearer(token), nil)
	if w.Code != http.StatusOK {
		t.Fatalf("get: status %d, want 200; body %s", w.Code, w.Body)
	}
	got := decode[campaignBody](t, w)
	if got.ID != first.ID || got.Progress.Cumplida != 1 || got.Progress.Enterado != 1 || got.Progress.Pendiente != 0 {
		t.Fatalf("get: got %+v, want 1 cumplida and 1 enterado", got)
	}
	inegi, shcp := got.Institutions[0], got.Institutions[1]
	if inegi.Status != "cumplida" || inegi.CompletedAt == nil || *inegi.Action != "A2345" {
		t.Errorf("inegi: got %+v, want cumplida by A2345 with completed_at", inegi)
	}
	if shcp.Status != "enterado" || shcp.AcknowledgedAt == nil || shcp.CompletedAt != nil {
		t.Errorf("shcp: got %+v, want enterado with acknowledged_at only", shcp)
	}

	w = do(t, a.h, http.MethodGet, "/api/v1/campaigns/C999", bearer(token), nil)
	checkError(t, w, http.StatusNotFound, datosbot.ENOTFOUND)
}

func TestCampaignAPIRefusalsStoreNothing(t *testing.T) {
	a := newCampaignAPI(t)
	tests := []struct {
		name   string
		auth   string
		idem   string
		body   string
		status int
		code   string
	}{
		{"no token", "", "", campaignJSON, http.StatusUnauthorized, datosbot.EUNAUTHORIZED},
		{"wrong token", bearer(otherToken), "k", campaignJSON, http.StatusUnauthorized, datosbot.EUNAUTHORIZED},
		{"empty body", bearer(token), "", "", http.StatusBadRequest, datosbot.EINVALID},
		{"not JSON", bearer(token), "", "{", http.StatusBadRequest, datosbot.EINVALID},
		{"unknown field", bearer(token), "", `{"titel": "x"}`, http.StatusBadRequest, datosbot.EINVALID},
		{"no deadline", bearer(token), "", strings.Replace(campaignJSON, `"deadline": "2026-12-15"`, `"deadline": ""`, 1), http.StatusBadRequest, datosbot.EINVALID},
		{"bad deadline", bearer(token), "", strings.Replace(campaignJSON, "2026-12-15", "15/12/2026", 1), http.StatusBadRequest, datosbot.EINVALID},
		{"past deadline", bearer(token), "", strings.Replace(campaignJSON, "2026-12-15", "2026-12-09", 1), http.StatusBadRequest, datosbot.EINVALID},
		{"home page as data", bearer(token), "", strings.Replace(campaignJSON, "https://www.datos.gob.mx/dataset/accidentes_transito", "https://datos.gob.mx/", 1), http.StatusBadRequest, datosbot.EINVALID},
		{"no data", bearer(token), "", strings.Replace(campaignJSON, `["https://www.datos.gob.mx/dataset/accidentes_transito"]`, `[]`, 1), http.StatusBadRequest, datosbot.EINVALID},
		{"no message", bearer(token), "", strings.Replace(campaignJSON, "Difundan los datos de accidentes.", " ", 1), http.StatusBadRequest, datosbot.EINVALID},
		{"unknown institution", bearer(token), "", strings.Replace(campaignJSON, `"deadline"`, `"institutions": ["sep"], "deadline"`, 1), http.StatusBadRequest, datosbot.EINVALID},
		{"empty institutions", bearer(token), "", strings.Replace(campaignJSON, `"deadline"`, `"institutions": [], "deadline"`, 1), http.StatusBadRequest, datosbot.EINVALID},
		{"bad requester", bearer(token), "", strings.Replace(campaignJSON, `"deadline"`, `"requested_by": "inegi", "deadline"`, 1), http.StatusBadRequest, datosbot.EINVALID},
		{"idempotency key too long", bearer(token), strings.Repeat("k", 201), campaignJSON, http.StatusBadRequest, datosbot.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkError(t, a.post(t, tt.auth, tt.idem, tt.body), tt.status, tt.code)
		})
	}
	if n := a.campaigns(t); n != 0 {
		t.Errorf("campaigns after refusals: got %d, want 0", n)
	}
	if calls, _ := a.poster.counts(); calls != 0 {
		t.Errorf("announcements after refusals: got %d Post calls, want 0", calls)
	}
	w := do(t, a.h, http.MethodGet, "/api/v1/campaigns/C999", bearer(otherToken), nil)
	checkError(t, w, http.StatusUnauthorized, datosbot.EUNAUTHORIZED)
}
