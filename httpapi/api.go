package httpapi

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/datosbot/datosbot"
)

func (s *Server) handleListInstitutions(w http.ResponseWriter, r *http.Request) {
	insts, err := s.store.Institutions(r.Context())
	if err != nil {
		WriteError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, NewList(cleanInstitutions(insts)))
}

// institutionInput is one item of POST /api/v1/institutions. It accepts the
// whole Institution shape, so a GET answer can be posted back, but only key,
// name, ckan_org and active are applied: channels are linked from the chat,
// and created_at is the store's.
type institutionInput struct {
	Key       string          `json:"key"`
	Name      string          `json:"name"`
	CKANOrg   string          `json:"ckan_org"`
	Active    *bool           `json:"active"` // absent means true
	Channels  json.RawMessage `json:"channels"`
	CreatedAt json.RawMessage `json:"created_at"`
}

// PutResult answers POST /api/v1/institutions.
type PutResult struct {
	Items   []datosbot.Institution `json:"items"`
	Count   int                    `json:"count"`
	Created int                    `json:"created"`
	Updated int                    `json:"updated"`
}

// handlePutInstitutions creates or updates one institution or a list of
// them. Every item is validated before any is stored, so a bad item rejects
// the whole request and stores nothing. The items are then stored one by
// one: if the store fails midway (Redis down), the earlier ones stay
// stored, and repeating the request is safe because each put is idempotent.
func (s *Server) handlePutInstitutions(w http.ResponseWriter, r *http.Request) {
	insts, err := readInstitutions(r.Body)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	ctx, by := r.Context(), Actor(r.Context())
	created := 0
	for _, in := range insts {
		isNew, err := s.store.PutInstitution(ctx, in, by)
		if err != nil {
			WriteError(w, r, err)
			return
		}
		if isNew {
			created++
		}
	}
	// Answer with what is stored now, channels included.
	all, err := s.store.Institutions(ctx)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	byKey := make(map[string]datosbot.Institution, len(all))
	for _, in := range cleanInstitutions(all) {
		byKey[in.Key] = in
	}
	items := make([]datosbot.Institution, 0, len(insts))
	for _, in := range insts {
		if stored, ok := byKey[in.Key]; ok {
			items = append(items, stored)
		} else {
			items = append(items, in)
		}
	}
	WriteJSON(w, http.StatusOK, PutResult{Items: items, Count: len(items), Created: created, Updated: len(items) - created})
}

// readInstitutions decodes one institution object or a list of them and
// validates every item. Errors name the index of the bad item.
func readInstitutions(body io.Reader) ([]datosbot.Institution, error) {
	data, err := io.ReadAll(body)
	if err != nil {
		return nil, err // *http.MaxBytesError becomes 413
	}
	data = bytes.TrimSpace(data)
	var raws []json.RawMessage
	list := len(data) > 0 && data[0] == '['
	switch {
	case len(data) == 0:
		return nil, datosbot.Errorf(datosbot.EINVALID, "El cuerpo está vacío. Envíe una institución como {\"key\": \"inegi\", \"name\": \"Instituto Nacional de Estadística y Geografía\"} o una lista de ellas.")
	case list:
		if err := json.Unmarshal(data, &raws); err != nil {
			return nil, jsonError("", "", err)
		}
		if len(raws) == 0 {
			return nil, datosbot.Errorf(datosbot.EINVALID, "La lista está vacía. Envíe al menos una institución con key y name.")
		}
	default:
		raws = []json.RawMessage{data}
	}
	insts := make([]datosbot.Institution, 0, len(raws))
	seen := make(map[string]int, len(raws))
	for i, raw := range raws {
		where := "La institución"
		if list {
			where = fmt.Sprintf("El elemento %d de la lista (se cuenta desde 0)", i)
		}
		in, err := decodeInstitution(raw, where)
		if err != nil {
			return nil, err
		}
		if j, dup := seen[in.Key]; dup {
			return nil, datosbot.Errorf(datosbot.EINVALID, "%s repite la clave %s del elemento %d. No se guardó ninguna institución; deje un solo elemento por clave y reenvíe la lista.", where, in.Key, j)
		}
		seen[in.Key] = i
		insts = append(insts, in)
	}
	return insts, nil
}

func decodeInstitution(raw json.RawMessage, where string) (datosbot.Institution, error) {
	var v institutionInput
	if err := decodeStrict(raw, &v, where, "key, name, ckan_org y active"); err != nil {
		return datosbot.Institution{}, err
	}
	in := datosbot.Institution{
		Key:     strings.ToLower(strings.TrimSpace(v.Key)),
		Name:    strings.TrimSpace(v.Name),
		CKANOrg: strings.TrimSpace(v.CKANOrg),
		Active:  v.Active == nil || *v.Active,
	}
	if err := in.Validate(); err != nil {
		return datosbot.Institution{}, datosbot.Errorf(datosbot.EINVALID, "%s tiene un error: %s No se guardó ninguna institución; corríjalo y reenvíe la solicitud completa.", where, datosbot.ErrorMessage(err))
	}
	return in, nil
}

// ReadJSON decodes the request body, one JSON value, into v. Unknown fields
// and trailing data are refused. Errors are EINVALID with a Spanish message,
// or *http.MaxBytesError (413) when the body passes the limit of Protect.
func ReadJSON(r *http.Request, v any) error {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return datosbot.Errorf(datosbot.EINVALID, "El cuerpo está vacío. Envíe un objeto JSON.")
	}
	return decodeStrict(data, v, "", "")
}

// decodeStrict decodes one JSON value from data into v, refusing unknown
// fields and trailing data. where names the value in errors ("" for the
// body); fields lists the accepted fields for the unknown-field hint.
func decodeStrict(data []byte, v any, where, fields string) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(where, fields, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		if where == "" {
			where = "El cuerpo"
		}
		return datosbot.Errorf(datosbot.EINVALID, "%s tiene datos de más después del objeto JSON. Para enviar varios elementos, póngalos en una lista: [{...}, {...}].", where)
	}
	return nil
}

// jsonError explains a decoding error in Spanish.
func jsonError(where, fields string, err error) error {
	prefix := "El cuerpo"
	if where != "" {
		prefix = where
	}
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return datosbot.Errorf(datosbot.EINVALID, "%s no es JSON válido (error cerca del byte %d). Envíe un objeto o una lista de objetos JSON.", prefix, syntax.Offset)
	case errors.As(err, &typ) && typ.Field != "":
		return datosbot.Errorf(datosbot.EINVALID, "%s tiene el campo %q con un tipo equivocado: se esperaba %s.", prefix, typ.Field, jsonKind(typ.Type.Kind().String()))
	case errors.As(err, &typ):
		return datosbot.Errorf(datosbot.EINVALID, "%s no tiene la forma esperada: se esperaba %s.", prefix, jsonKind(typ.Type.Kind().String()))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.TrimPrefix(err.Error(), "json: unknown field ")
		hint := "Revise el nombre del campo."
		if fields != "" {
			hint = "Use " + fields + "."
		}
		return datosbot.Errorf(datosbot.EINVALID, "%s tiene el campo desconocido %s. %s", prefix, field, hint)
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return datosbot.Errorf(datosbot.EINVALID, "%s está incompleto: el JSON termina antes de tiempo.", prefix)
	}
	return datosbot.Errorf(datosbot.EINVALID, "%s no se pudo leer como JSON. Envíe un objeto o una lista de objetos.", prefix)
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "texto"
	case "bool":
		return "true o false"
	case "slice":
		return "una lista"
	case "struct", "map":
		return "un objeto JSON"
	}
	return k
}

// cleanInstitutions makes nil channel lists encode as [] instead of null.
func cleanInstitutions(insts []datosbot.Institution) []datosbot.Institution {
	for i := range insts {
		if insts[i].Channels == nil {
			insts[i].Channels = []datosbot.ChannelID{}
		}
	}
	return insts
}

// format reads ?format=: json (default) or csv.
func format(r *http.Request) (string, error) {
	switch f := strings.ToLower(r.URL.Query().Get("format")); f {
	case "", "json":
		return "json", nil
	case "csv":
		return "csv", nil
	default:
		return "", datosbot.Errorf(datosbot.EINVALID, "%q no es un formato: use format=json o format=csv.", datosbot.Truncate(f, 20))
	}
}

// handleActions lists actions, optionally of one institution and one
// bimester: GET /api/v1/actions?institution=inegi&bimester=2026-B6.
func (s *Server) handleActions(w http.ResponseWriter, r *http.Request) {
	f, err := format(r)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	q := r.URL.Query()
	var b datosbot.Bimester
	if v := q.Get("bimester"); v != "" {
		if b, err = datosbot.ParseBimester(v); err != nil {
			WriteError(w, r, err)
			return
		}
	}
	key, err := s.institutionParam(r)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	actions, err := s.store.Actions(r.Context(), key, b)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	if f == "csv" {
		name := "acciones"
		if key != "" {
			name += "-" + key
		}
		if !b.IsZero() {
			name += "-" + b.String()
		}
		writeCSV(w, r, name, actionRows(actions))
		return
	}
	for i := range actions {
		if actions[i].DataURLs == nil {
			actions[i].DataURLs = []string{}
		}
	}
	WriteJSON(w, http.StatusOK, NewList(actions))
}

// handleCompliance answers one row per active institution for a bimester:
// GET /api/v1/compliance?bimester=2026-B6 (default: the current one).
func (s *Server) handleCompliance(w http.ResponseWriter, r *http.Request) {
	f, err := format(r)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	b := datosbot.BimesterOf(s.now(), s.loc)
	if v := r.URL.Query().Get("bimester"); v != "" {
		if b, err = datosbot.ParseBimester(v); err != nil {
			WriteError(w, r, err)
			return
		}
	}
	insts, err := s.store.Institutions(r.Context())
	if err != nil {
		WriteError(w, r, err)
		return
	}
	actions, err := s.store.Actions(r.Context(), "", b)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	rows := datosbot.Compliance(insts, actions, b)
	if f == "csv" {
		writeCSV(w, r, "cumplimiento-"+b.String(), complianceRows(rows, s.loc))
		return
	}
	WriteJSON(w, http.StatusOK, NewList(rows))
}

// ActionCSVHeader is the header row of the actions CSV; the columns follow
// the JSON field names.
var ActionCSVHeader = []string{"id", "institution", "bimester", "data_urls", "evidence_url", "medium", "type",
	"published_on", "campaign", "note", "registered_by", "registered_at", "withdrawn", "data_checks",
	"evidence_status", "evidence_checked_at", "evidence_detail"}

func actionRows(actions []datosbot.Action) [][]string {
	rows := [][]string{ActionCSVHeader}
	for _, a := range actions {
		rows = append(rows, []string{a.ID, a.Institution, a.Bimester.String(), strings.Join(a.DataURLs, " "),
			cell(a.EvidenceURL), string(a.Medium), string(a.Type), dateString(a.PublishedOn), a.Campaign,
			cell(a.Note), cell(string(a.RegisteredBy)), timeString(a.RegisteredAt, nil), strconv.FormatBool(a.Withdrawn),
			checkStatuses(a), string(evidenceOf(a).Status), timeString(evidenceOf(a).CheckedAt, nil), cell(evidenceOf(a).Detail)})
	}
	return rows
}

// checkStatuses is the data_checks column: the portal's answer about each
// data URL, space-separated in the order of data_urls ("" when unchecked).
func checkStatuses(a datosbot.Action) string {
	out := make([]string, 0, len(a.DataURLs))
	for _, u := range a.DataURLs {
		status := ""
		for _, c := range a.DataChecks {
			if c.URL == u {
				status = string(c.Status)
			}
		}
		if status == "" && len(a.DataChecks) > 0 {
			status = "-"
		}
		out = append(out, status)
	}
	return strings.TrimSpace(strings.Join(out, " "))
}

// ComplianceCSVHeader is the header row of the compliance CSV.
var ComplianceCSVHeader = []string{"institution", "name", "bimester", "compliant", "actions", "last_action_at", "verified_evidence"}

func complianceRows(rows []datosbot.ComplianceRow, loc *time.Location) [][]string {
	out := [][]string{ComplianceCSVHeader}
	for _, c := range rows {
		out = append(out, []string{c.Institution, cell(c.Name), c.Bimester.String(), strconv.FormatBool(c.Compliant),
			strconv.Itoa(c.Actions), timeString(deref(c.LastActionAt), loc), strconv.Itoa(c.VerifiedEvidence)})
	}
	return out
}

func dateString(d datosbot.Date) string {
	if d.IsZero() {
		return ""
	}
	return d.String()
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

func timeString(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	if loc != nil {
		t = t.In(loc)
	}
	return t.Format(time.RFC3339)
}

// cell neutralizes text that a spreadsheet would run as a formula (CSV
// injection): user text starting with = + - @ or a control character gets a
// leading apostrophe.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r\n", rune(s[0])) {
		return "'" + s
	}
	return s
}

// writeCSV answers rows as a UTF-8 CSV download, without a byte order mark
// so that the header row parses as written.
func writeCSV(w http.ResponseWriter, r *http.Request, name string, rows [][]string) {
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	if err := cw.WriteAll(rows); err != nil {
		WriteError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	w.Write(buf.Bytes())
}

// institutionParam reads the optional institution= filter of a list route:
// "" when absent, else a valid key of an existing institution.
func (s *Server) institutionParam(r *http.Request) (string, error) {
	key := strings.ToLower(strings.TrimSpace(r.URL.Query().Get("institution")))
	if key == "" {
		return "", nil
	}
	if err := datosbot.ValidateKey(key); err != nil {
		return "", err
	}
	if _, err := s.store.Institution(r.Context(), key); err != nil {
		if datosbot.ErrorCode(err) == datosbot.ENOTFOUND {
			err = datosbot.Errorf(datosbot.ENOTFOUND, "No hay una institución con clave %s. Consulte las claves en GET /api/v1/institutions.", key)
		}
		return "", err
	}
	return key, nil
}
