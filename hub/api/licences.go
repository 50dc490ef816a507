package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/tongban/tongban/hub/audit"
	"github.com/tongban/tongban/hub/auth"
	"github.com/tongban/tongban/hub/licence"
	"github.com/tongban/tongban/hub/store"
)

// LicenceService is what the licence routes need (*licence.Service). It
// checks who may do what; its errors are *licence.InputError (400),
// licence.ErrForbidden (403), licence.ErrNotFound (404) and
// *licence.TransitionError (409).
type LicenceService interface {
	Issue(ctx context.Context, p auth.Principal, in licence.IssueRequest) (licence.Issued, error)
	Change(ctx context.Context, p auth.Principal, id string, ch licence.ChangeRequest) (licence.Issued, error)
	Get(ctx context.Context, p auth.Principal, id string) (licence.Detail, error)
	List(ctx context.Context, p auth.Principal, q licence.ListQuery) ([]store.Licence, error)
	Verify(ctx context.Context, req licence.VerifyRequest) (licence.Verification, error)
	SealKey(ctx context.Context, dept string) (licence.SealKey, error)
}

// Audit actions of the licence routes.
const (
	actionLicenceVerify = "licence.verify" // a verification (核验)
	actionLicencePrefix = "licence."       // + the lifecycle action: licence.issue, licence.revoke...
)

// defaultLicencesLimit is the page size of GET /licences without limit.
const defaultLicencesLimit = 100

// licenceRoutes registers the e-licence store's routes. Verification needs
// the audit log (Config.Audit): without it POST /licences/verify is absent.
func (s *server) licenceRoutes(rt featureRoutes) {
	rt.handle("POST "+Prefix+"/licences", rt.dept(s.issueLicence))
	rt.handle("GET "+Prefix+"/licences", rt.anyToken(s.listLicences))
	rt.handle("GET "+Prefix+"/licences/seals/{dept}", rt.anyToken(s.licenceSeal))
	rt.handle("GET "+Prefix+"/licences/{id}", rt.anyToken(s.showLicence))
	rt.handle("POST "+Prefix+"/licences/{id}/{action}", rt.dept(s.changeLicence))
	if s.audit != nil {
		rt.handle("POST "+Prefix+"/licences/verify", rt.dept(s.verifyLicence))
	}
}

// licenceJSON is a licence as the API shows it.
type licenceJSON struct {
	ID         string    `json:"id"` // the current version's identifier (GB/T 36904)
	TypeCode   string    `json:"type_code"`
	TypeName   string    `json:"type_name,omitempty"`
	Issuer     string    `json:"issuer"`
	IssuerName string    `json:"issuer_name,omitempty"`
	Serial     string    `json:"serial"`
	Version    int       `json:"version"`
	HolderType string    `json:"holder_type"`
	HolderID   string    `json:"holder_id"`
	HolderName string    `json:"holder_name"`
	Status     string    `json:"status"`
	StatusName string    `json:"status_name"`
	ValidUntil string    `json:"valid_until"`
	IssuedAt   time.Time `json:"issued_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

func (s *server) licenceView(l store.Licence) licenceJSON {
	v := licenceJSON{ID: l.Identifier, TypeCode: l.TypeCode, Issuer: l.Issuer, Serial: l.Serial, Version: l.Version,
		HolderType: l.HolderType, HolderID: l.HolderID, HolderName: l.HolderName, Status: l.Status,
		StatusName: licence.StatusName(l.Status), ValidUntil: l.ValidUntil, IssuedAt: l.IssuedAt.UTC(), UpdatedAt: l.UpdatedAt.UTC()}
	if lt, ok := s.cat.LicenceType(l.TypeCode); ok {
		v.TypeName = lt.Name
	}
	if d, ok := s.cat.Department(l.Issuer); ok {
		v.IssuerName = d.Name
	}
	return v
}

// licenceAnswer is the answer of an issue or a change.
type licenceAnswer struct {
	Licence licenceJSON     `json:"licence"`
	Content licence.Content `json:"content"`
	// Digest is the SM3 digest (hex) of the content's canonical encoding.
	Digest string `json:"digest"`
}

type licenceVersionJSON struct {
	Version      int        `json:"version"`
	ID           string     `json:"id"`
	Digest       string     `json:"digest"`
	Signature    string     `json:"signature"`
	CreatedAt    time.Time  `json:"created_at"`
	SupersededAt *time.Time `json:"superseded_at,omitempty"`
}

type licenceEventJSON struct {
	Event   string          `json:"event"`
	Version int             `json:"version"`
	Actor   string          `json:"actor"`
	Dept    string          `json:"dept,omitempty"`
	Reason  string          `json:"reason,omitempty"`
	Detail  json.RawMessage `json:"detail,omitempty"`
	At      time.Time       `json:"at"`
}

type licenceDetailJSON struct {
	Licence  licenceJSON          `json:"licence"`
	Content  licence.Content      `json:"content"`
	Versions []licenceVersionJSON `json:"versions"`
	Events   []licenceEventJSON   `json:"events"`
}

type licenceListJSON struct {
	Licences []licenceJSON `json:"licences"`
	// NextAfter is the after= of the next page; absent on the last page.
	NextAfter int64 `json:"next_after,omitempty"`
}

// licenceError maps the service's errors to answers.
func (s *server) licenceError(r *http.Request, err error) *apiError {
	var (
		ie *licence.InputError
		te *licence.TransitionError
	)
	switch {
	case errors.As(err, &ie):
		return badRequest(ie.Field, ie.Msg)
	case errors.As(err, &te):
		return &apiError{status: http.StatusConflict, msg: te.Msg, field: "status"}
	case errors.Is(err, licence.ErrNotFound):
		return notFound("id", "电子证照不存在 / no such licence")
	case errors.Is(err, licence.ErrForbidden):
		return forbidden("Authorization", "此令牌无权执行该操作 / this token may not do this: "+err.Error())
	}
	return s.internal(r, err)
}

type issueLicenceBody struct {
	TypeCode   string            `json:"type_code"`
	HolderID   string            `json:"holder_id"`
	HolderName string            `json:"holder_name"`
	IssueDate  string            `json:"issue_date"`
	ValidFrom  string            `json:"valid_from"`
	ValidUntil string            `json:"valid_until"`
	Fields     map[string]string `json:"fields"`
	Reason     string            `json:"reason"`
}

// issueLicence serves POST /api/v1/licences: the issuing department issues
// a licence of a type it is an issuer of.
func (s *server) issueLicence(r *http.Request, p auth.Principal) (any, *apiError) {
	if _, e := parseQuery(r); e != nil {
		return nil, e
	}
	var b issueLicenceBody
	if e := decodeBody(r, &b); e != nil {
		return nil, e
	}
	got, err := s.licences.Issue(r.Context(), p, licence.IssueRequest{TypeCode: b.TypeCode, HolderID: b.HolderID, HolderName: b.HolderName,
		IssueDate: b.IssueDate, ValidFrom: b.ValidFrom, ValidUntil: b.ValidUntil, Fields: b.Fields, Reason: b.Reason})
	if err != nil {
		return nil, s.licenceError(r, err)
	}
	s.recordLicence(r, p, licence.ActionIssue, got.Licence, b.Reason)
	return licenceAnswer{Licence: s.licenceView(got.Licence), Content: got.Content, Digest: got.Digest}, nil
}

type changeLicenceBody struct {
	Reason     string            `json:"reason"`
	HolderName string            `json:"holder_name"`
	ValidFrom  string            `json:"valid_from"`
	ValidUntil string            `json:"valid_until"`
	Fields     map[string]string `json:"fields"`
}

// changeLicence serves POST /api/v1/licences/{id}/{action}: update, renew,
// suspend, resume, pledge, release, revoke or cancel, by the issuer.
func (s *server) changeLicence(r *http.Request, p auth.Principal) (any, *apiError) {
	if _, e := parseQuery(r); e != nil {
		return nil, e
	}
	action := r.PathValue("action")
	known := false
	for _, a := range licence.Actions() {
		known = known || a == action
	}
	if !known {
		return nil, notFound("action", fmt.Sprintf("没有证照操作 %q / no licence action %q (actions: %s)", clipText(action), clipText(action),
			strings.Join(licence.Actions(), ", ")))
	}
	var b changeLicenceBody
	if e := decodeBody(r, &b); e != nil {
		return nil, e
	}
	got, err := s.licences.Change(r.Context(), p, r.PathValue("id"), licence.ChangeRequest{Action: action, Reason: b.Reason,
		HolderName: b.HolderName, ValidFrom: b.ValidFrom, ValidUntil: b.ValidUntil, Fields: b.Fields})
	if err != nil {
		return nil, s.licenceError(r, err)
	}
	s.recordLicence(r, p, action, got.Licence, b.Reason)
	return licenceAnswer{Licence: s.licenceView(got.Licence), Content: got.Content, Digest: got.Digest}, nil
}

// recordLicence writes a lifecycle change to the audit log (大庆 第二十四条:
// 全过程日志记录); the licence's own event log has it already.
func (s *server) recordLicence(r *http.Request, p auth.Principal, action string, l store.Licence, reason string) {
	s.recordDecision(r, audit.Entry{Actor: p.TokenID, Dept: p.Dept, Action: actionLicencePrefix + action, Resource: l.Identifier,
		SubjectType: l.HolderType, SubjectID: l.HolderID, Result: audit.Allowed, Reason: reason,
		Detail: detailJSON(map[string]any{"status": l.Status, "version": l.Version})})
}

func (s *server) showLicence(r *http.Request, p auth.Principal) (any, *apiError) {
	if _, e := parseQuery(r); e != nil {
		return nil, e
	}
	d, err := s.licences.Get(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return nil, s.licenceError(r, err)
	}
	out := licenceDetailJSON{Licence: s.licenceView(d.Licence), Content: d.Content,
		Versions: make([]licenceVersionJSON, 0, len(d.Versions)), Events: make([]licenceEventJSON, 0, len(d.Events))}
	for _, v := range d.Versions {
		vj := licenceVersionJSON{Version: v.Version, ID: v.Identifier, Digest: v.Digest, Signature: v.Signature, CreatedAt: v.CreatedAt.UTC()}
		if !v.SupersededAt.IsZero() {
			t := v.SupersededAt.UTC()
			vj.SupersededAt = &t
		}
		out.Versions = append(out.Versions, vj)
	}
	for _, e := range d.Events {
		out.Events = append(out.Events, licenceEventJSON{Event: e.Event, Version: e.Version, Actor: e.Actor, Dept: e.Dept,
			Reason: e.Reason, Detail: json.RawMessage(e.Detail), At: e.At.UTC()})
	}
	return out, nil
}

// listLicences serves GET /api/v1/licences?holder=&type=&status=&after=&limit=:
// the bureau sees every licence, a department those it issued.
func (s *server) listLicences(r *http.Request, p auth.Principal) (any, *apiError) {
	q, e := parseQuery(r, "holder", "type", "status", "after", "limit")
	if e != nil {
		return nil, e
	}
	var lq licence.ListQuery
	if lq.Limit, e = q.limit("limit", defaultLicencesLimit); e != nil {
		return nil, e
	}
	lq.HolderID, _ = q.str("holder")
	lq.TypeCode, _ = q.str("type")
	if v, ok := q.str("status"); ok {
		switch v {
		case store.LicenceActive, store.LicenceSuspended, store.LicencePledged, store.LicenceRevoked, store.LicenceCancelled:
			lq.Status = v
		default:
			return nil, badRequest("status", fmt.Sprintf("status %q is not active, suspended, pledged, revoked or cancelled", clipText(v)))
		}
	}
	if lq.After, e = q.after("after"); e != nil {
		return nil, e
	}
	list, err := s.licences.List(r.Context(), p, lq)
	if err != nil {
		return nil, s.licenceError(r, err)
	}
	var out licenceListJSON
	out.Licences, out.NextAfter = listPage(list, lq.Limit, s.licenceView, func(l store.Licence) int64 { return l.ID })
	return out, nil
}

type sealKeyJSON struct {
	Dept      string    `json:"dept"`
	DeptName  string    `json:"dept_name,omitempty"`
	PublicKey string    `json:"public_key"`
	Algorithm string    `json:"algorithm"`
	CreatedAt time.Time `json:"created_at"`
}

// licenceSeal serves GET /api/v1/licences/seals/{dept}: a department's
// public seal key, so a verifier can check a seal offline too.
func (s *server) licenceSeal(r *http.Request, _ auth.Principal) (any, *apiError) {
	if _, e := parseQuery(r); e != nil {
		return nil, e
	}
	k, err := s.licences.SealKey(r.Context(), r.PathValue("dept"))
	if errors.Is(err, licence.ErrNotFound) {
		return nil, notFound("dept", "该部门尚无电子印章（未签发过证照）/ this department has no seal yet (it has issued no licence)")
	}
	if err != nil {
		return nil, s.licenceError(r, err)
	}
	return sealKeyJSON{Dept: k.Dept, DeptName: k.DeptName, PublicKey: k.PublicKey, Algorithm: k.Algorithm, CreatedAt: k.CreatedAt.UTC()}, nil
}

// verifyLicenceBody is a verification request.
type verifyLicenceBody struct {
	ID       string `json:"id"`
	Purpose  string `json:"purpose"`
	ItemCode string `json:"item_code"`
	Holder   string `json:"holder"`
	Digest   string `json:"digest"`
}

// decodeVerifyRequest reads and checks a verification request: 4xx naming
// the key at fault.
func decodeVerifyRequest(r *http.Request) (licence.VerifyRequest, *apiError) {
	if _, e := parseQuery(r); e != nil {
		return licence.VerifyRequest{}, e
	}
	var b verifyLicenceBody
	if e := decodeBody(r, &b); e != nil {
		return licence.VerifyRequest{}, e
	}
	req := licence.VerifyRequest{ID: b.ID, Purpose: b.Purpose, ItemCode: b.ItemCode, Holder: b.Holder, Digest: b.Digest}
	if err := licence.CheckVerifyRequest(req); err != nil {
		var ie *licence.InputError
		if errors.As(err, &ie) {
			return req, badRequest(ie.Field, ie.Msg)
		}
		return req, badRequest("body", err.Error())
	}
	return req, nil
}

type verifyLicenceJSON struct {
	Valid      bool             `json:"valid"`
	Status     string           `json:"status"`
	StatusName string           `json:"status_name"`
	Reasons    []licence.Reason `json:"reasons"`
	Notes      []licence.Reason `json:"notes,omitempty"`
	Licence    verifySummary    `json:"licence"`
	Issuer     verifyIssuer     `json:"issuer"`
	// Version is the current version; AskedVersion the one the identifier
	// given names.
	Version      int  `json:"version"`
	AskedVersion int  `json:"asked_version"`
	SealOK       bool `json:"seal_ok"`
	// Digest is the SM3 digest of the current version's content, recomputed.
	Digest   string `json:"digest"`
	AuditSeq int64  `json:"audit_seq"`
}

// verifySummary is what a verifier learns of the licence: no data fields,
// and the holder's identifier masked.
type verifySummary struct {
	ID         string `json:"id"` // the current version's identifier
	TypeCode   string `json:"type_code"`
	TypeName   string `json:"type_name"`
	HolderType string `json:"holder_type"`
	HolderID   string `json:"holder_id"` // masked
	HolderName string `json:"holder_name"`
	IssueDate  string `json:"issue_date,omitempty"`
	ValidFrom  string `json:"valid_from,omitempty"`
	ValidUntil string `json:"valid_until"`
}

type verifyIssuer struct {
	Code string `json:"code"`
	Name string `json:"name,omitempty"`
}

// maskID keeps the first 6 and last 4 characters of an identifier.
func maskID(s string) string {
	if len(s) <= 10 {
		return strings.Repeat("*", len(s))
	}
	return s[:6] + strings.Repeat("*", len(s)-10) + s[len(s)-4:]
}

// verifyLicence serves POST /api/v1/licences/verify (核验): any department
// (the using organisation) verifies a licence through the store, stating
// purpose and service item. The audit entry is written before the answer;
// if the log cannot be written nothing is answered.
func (s *server) verifyLicence(r *http.Request, p auth.Principal) (any, *apiError) {
	req, e := decodeVerifyRequest(r)
	if e != nil {
		return nil, e
	}
	entry := audit.Entry{Actor: p.TokenID, Dept: p.Dept, Action: actionLicenceVerify, Resource: req.ID,
		Purpose: req.Purpose, ItemCode: req.ItemCode}
	v, err := s.licences.Verify(r.Context(), req)
	if err != nil {
		ae := s.licenceError(r, err)
		entry.Result, entry.Reason = audit.Error, ae.msg
		if ae.status < 500 {
			entry.Result = audit.Denied
		}
		if _, aerr := s.audit.Append(r.Context(), entry); aerr != nil {
			return nil, s.auditDown(r, aerr)
		}
		return nil, ae
	}
	codes := make([]string, 0, len(v.Reasons))
	for _, rs := range v.Reasons {
		codes = append(codes, rs.Code)
	}
	entry.SubjectType, entry.SubjectID = v.Licence.HolderType, v.Licence.HolderID
	entry.Result, entry.Reason = audit.Allowed, "valid"
	if !v.Valid {
		entry.Reason = "invalid: " + strings.Join(codes, ",")
	}
	entry.Detail = detailJSON(map[string]any{"valid": v.Valid, "status": v.Status, "version": v.Licence.Version,
		"asked_version": v.AskedVersion, "seal_ok": v.SealOK, "reasons": codes, "holder_given": req.Holder != "", "digest_given": req.Digest != ""})
	seq, err := s.audit.Append(r.Context(), entry)
	if err != nil {
		return nil, s.auditDown(r, err)
	}
	l := v.Licence
	out := verifyLicenceJSON{Valid: v.Valid, Status: v.Status, StatusName: licence.StatusName(v.Status), Reasons: v.Reasons, Notes: v.Notes,
		Licence: verifySummary{ID: l.Identifier, TypeCode: l.TypeCode, TypeName: v.Content.TypeName, HolderType: l.HolderType,
			HolderID: maskID(l.HolderID), HolderName: l.HolderName, IssueDate: v.Content.IssueDate, ValidFrom: v.Content.ValidFrom,
			ValidUntil: l.ValidUntil},
		Issuer:  verifyIssuer{Code: l.Issuer, Name: v.Content.IssuerName},
		Version: l.Version, AskedVersion: v.AskedVersion, SealOK: v.SealOK, Digest: v.Digest, AuditSeq: seq}
	if out.Reasons == nil {
		out.Reasons = []licence.Reason{}
	}
	if out.Licence.TypeName == "" {
		if lt, ok := s.cat.LicenceType(l.TypeCode); ok {
			out.Licence.TypeName = lt.Name
		}
	}
	if out.Issuer.Name == "" {
		if d, ok := s.cat.Department(l.Issuer); ok {
			out.Issuer.Name = d.Name
		}
	}
	return out, nil
}
