package httpapi

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/datosbot/datosbot"
)

// CampaignService launches and reads campaigns. commands.Campaigns
// implements it, so the API and the campaña command share validation,
// storage and the announcement.
type CampaignService interface {
	// CreateCampaign validates, stores and announces a campaign on behalf
	// of actor with central role role. With an idempotency key used
	// before, it returns that campaign and created=false without a second
	// announcement.
	CreateCampaign(ctx context.Context, actor datosbot.UserID, role datosbot.Role, c datosbot.Campaign, idempotencyKey string) (datosbot.Campaign, bool, error)
	// CampaignStatus returns a campaign and its targets. ENOTFOUND.
	CampaignStatus(ctx context.Context, id string) (datosbot.Campaign, []datosbot.CampaignTarget, error)
}

// maxIdempotencyKey bounds the Idempotency-Key header.
const maxIdempotencyKey = 200

// CampaignRoutes mounts POST /api/v1/campaigns and GET
// /api/v1/campaigns/{id} on mux, behind the bearer tokens. Mount them on
// the same mux as Routes.
func (s *Server) CampaignRoutes(mux *http.ServeMux, svc CampaignService) {
	s.API(mux, "/api/v1/campaigns", map[string]http.HandlerFunc{
		"POST": func(w http.ResponseWriter, r *http.Request) { s.handleCreateCampaign(w, r, svc) },
	})
	s.API(mux, "/api/v1/campaigns/{id}", map[string]http.HandlerFunc{
		"GET": func(w http.ResponseWriter, r *http.Request) { s.handleCampaign(w, r, svc) },
	})
}

// campaignRequest is the body of POST /api/v1/campaigns.
type campaignRequest struct {
	Title        string   `json:"title"`
	Message      string   `json:"message"`
	DataURLs     []string `json:"data_urls"`
	Deadline     string   `json:"deadline"`
	Institutions []string `json:"institutions"` // absent or empty: every active institution
	RequestedBy  string   `json:"requested_by"` // default unidad
}

// campaignAnswer is a campaign with its per-institution status.
type campaignAnswer struct {
	ID           string         `json:"id"`
	Title        string         `json:"title"`
	Message      string         `json:"message"`
	DataURLs     []string       `json:"data_urls"`
	Deadline     datosbot.Date  `json:"deadline"`
	RequestedBy  datosbot.Role  `json:"requested_by"`
	CreatedAt    time.Time      `json:"created_at"`
	Closed       bool           `json:"closed"`
	Targets      int            `json:"targets"`
	Progress     campaignCounts `json:"progress"`
	Institutions []targetAnswer `json:"institutions"`
}

type campaignCounts struct {
	Pendiente int `json:"pendiente"`
	Enterado  int `json:"enterado"`
	Cumplida  int `json:"cumplida"`
}

// targetAnswer is one institution's status; times are null until reached.
type targetAnswer struct {
	Institution    string                `json:"institution"`
	Status         datosbot.TargetStatus `json:"status"`
	AcknowledgedAt *time.Time            `json:"acknowledged_at"`
	CompletedAt    *time.Time            `json:"completed_at"`
	Action         string                `json:"action"`
}

func newCampaignAnswer(c datosbot.Campaign, ts []datosbot.CampaignTarget, loc *time.Location) campaignAnswer {
	a := campaignAnswer{ID: c.ID, Title: c.Title, Message: c.Message, DataURLs: c.DataURLs, Deadline: c.Deadline,
		RequestedBy: c.RequestedBy, CreatedAt: c.CreatedAt.In(loc), Closed: c.Closed, Targets: len(ts),
		Institutions: make([]targetAnswer, 0, len(ts))}
	if a.DataURLs == nil {
		a.DataURLs = []string{}
	}
	at := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		t = t.In(loc)
		return &t
	}
	for _, t := range ts {
		switch t.Status {
		case datosbot.StatusCumplida:
			a.Progress.Cumplida++
		case datosbot.StatusEnterado:
			a.Progress.Enterado++
		default:
			a.Progress.Pendiente++
		}
		a.Institutions = append(a.Institutions, targetAnswer{Institution: t.Institution, Status: t.Status,
			AcknowledgedAt: at(t.AcknowledgedAt), CompletedAt: at(t.CompletedAt), Action: t.Action})
	}
	return a
}

func (s *Server) handleCreateCampaign(w http.ResponseWriter, r *http.Request, svc CampaignService) {
	idem := strings.TrimSpace(r.Header.Get("Idempotency-Key"))
	if len(idem) > maxIdempotencyKey || strings.ContainsFunc(idem, func(c rune) bool { return c < 0x20 || c > 0x7e }) {
		WriteError(w, r, datosbot.Errorf(datosbot.EINVALID, "El encabezado Idempotency-Key debe ser texto ASCII de hasta %d caracteres, por ejemplo un UUID.", maxIdempotencyKey))
		return
	}
	var req campaignRequest
	if err := ReadJSON(r, &req); err != nil {
		WriteError(w, r, err)
		return
	}
	c := datosbot.Campaign{Title: req.Title, Message: req.Message, DataURLs: req.DataURLs, Institutions: req.Institutions}
	if strings.TrimSpace(req.Deadline) == "" {
		WriteError(w, r, datosbot.Errorf(datosbot.EINVALID, `Falta "deadline", la fecha límite, como "AAAA-MM-DD" (por ejemplo "2026-12-15").`))
		return
	}
	var err error
	if c.Deadline, err = datosbot.ParseDate(req.Deadline); err != nil {
		WriteError(w, r, err)
		return
	}
	if req.RequestedBy != "" {
		role, err := datosbot.ParseRole(req.RequestedBy)
		if err != nil || !role.Central() {
			WriteError(w, r, datosbot.Errorf(datosbot.EINVALID, `"requested_by" debe ser "unidad" o "coordinacion".`))
			return
		}
		c.RequestedBy = role
	}
	if req.Institutions != nil && len(req.Institutions) == 0 {
		WriteError(w, r, datosbot.Errorf(datosbot.EINVALID, `"institutions" está vacía: indique claves, u omita el campo para dirigir la campaña a todas las instituciones activas.`))
		return
	}
	// The API's tokens belong to the Unidad's systems.
	key := ""
	if idem != "" {
		key = "api:" + idem
	}
	stored, created, err := svc.CreateCampaign(r.Context(), Actor(r.Context()), datosbot.RoleUnidad, c, key)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	_, ts, err := svc.CampaignStatus(r.Context(), stored.ID)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	status := http.StatusCreated
	if !created {
		status = http.StatusOK
	}
	w.Header().Set("Location", "/api/v1/campaigns/"+stored.ID)
	WriteJSON(w, status, newCampaignAnswer(stored, ts, s.loc))
}

func (s *Server) handleCampaign(w http.ResponseWriter, r *http.Request, svc CampaignService) {
	c, ts, err := svc.CampaignStatus(r.Context(), r.PathValue("id"))
	if err != nil {
		WriteError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, newCampaignAnswer(c, ts, s.loc))
}
