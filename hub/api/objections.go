package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/tongban/tongban/hub/audit"
	"github.com/tongban/tongban/hub/auth"
	"github.com/tongban/tongban/hub/objection"
	"github.com/tongban/tongban/hub/store"
)

// ObjectionService is what the objections routes need (*objection.Service).
// It checks who may do what; its errors are objection.InputError (400),
// objection.ErrForbidden (403), objection.ErrNotFound (404) and
// objection.ErrWrongStage (409).
type ObjectionService interface {
	File(ctx context.Context, p auth.Principal, f objection.Filing) (objection.Result, error)
	Decide(ctx context.Context, p auth.Principal, id int64, result, note string) (objection.Result, error)
	Forward(ctx context.Context, p auth.Principal, id int64, dept, note string) (objection.Result, error)
	Verify(ctx context.Context, p auth.Principal, id int64, result, note string) (objection.Result, error)
	Get(ctx context.Context, p auth.Principal, id int64) (objection.Detail, error)
	List(ctx context.Context, p auth.Principal, q objection.ListQuery) ([]store.Objection, error)
	Overdue(o store.Objection) bool
}

// defaultObjectionsLimit is the page size of GET /objections without limit.
const defaultObjectionsLimit = 100

// objectionRoutes registers the routes of objections on public data: file, list, decide, forward, verify.
func (s *server) objectionRoutes(rt featureRoutes) {
	rt.handle("POST "+Prefix+"/objections", rt.anyToken(s.fileObjection))
	rt.handle("GET "+Prefix+"/objections", rt.anyToken(s.listObjections))
	rt.handle("GET "+Prefix+"/objections/{id}", rt.anyToken(s.showObjection))
	rt.handle("POST "+Prefix+"/objections/{id}/decide", rt.admin(s.decideObjection))
	rt.handle("POST "+Prefix+"/objections/{id}/forward", rt.admin(s.forwardObjection))
	rt.handle("POST "+Prefix+"/objections/{id}/verify", rt.dept(s.verifyObjection))
}

type objectionFilerJSON struct {
	Kind string `json:"kind"`
	ID   string `json:"id"`
}

// objectionJSON is an objection as the API shows it. Due dates are the last
// day of a stage (Asia/Shanghai); overdue says the current one has passed.
type objectionJSON struct {
	ID           int64              `json:"id"`
	SubjectType  string             `json:"subject_type"`
	SubjectID    string             `json:"subject_id"`
	Field        string             `json:"field"`
	Reason       string             `json:"reason"`
	Filer        objectionFilerJSON `json:"filer"`
	FiledBy      string             `json:"filed_by"`
	Status       string             `json:"status"`
	Stage        string             `json:"stage,omitempty"`
	Due          string             `json:"due,omitempty"`
	Overdue      bool               `json:"overdue"`
	FiledAt      time.Time          `json:"filed_at"`
	MarkedAt     time.Time          `json:"marked_at"`
	DecideDue    string             `json:"decide_due"`
	ForwardedTo  string             `json:"forwarded_to,omitempty"`
	ForwardedAt  *time.Time         `json:"forwarded_at,omitempty"`
	VerifyDue    string             `json:"verify_due,omitempty"`
	VerifiedAt   *time.Time         `json:"verified_at,omitempty"`
	VerifyResult string             `json:"verify_result,omitempty"`
	DecidedAt    *time.Time         `json:"decided_at,omitempty"`
	Result       string             `json:"result,omitempty"`
	ResultNote   string             `json:"result_note,omitempty"`
	NotifiedAt   *time.Time         `json:"notified_at,omitempty"`
	ClosedAt     *time.Time         `json:"closed_at,omitempty"`
}

type objectionEventJSON struct {
	Event string    `json:"event"`
	Actor string    `json:"actor"`
	Note  string    `json:"note,omitempty"`
	At    time.Time `json:"at"`
}

// objectionAnswer is the answer of a filing or a step.
type objectionAnswer struct {
	Objection objectionJSON `json:"objection"`
	// Warnings, e.g. a deadline beyond the years of the working-day calendar.
	Warnings []string `json:"warnings,omitempty"`
}

type objectionDetailJSON struct {
	Objection objectionJSON        `json:"objection"`
	Events    []objectionEventJSON `json:"events"`
}

type objectionListJSON struct {
	Objections []objectionJSON `json:"objections"`
	// NextAfter is the after= of the next page; absent on the last page.
	NextAfter int64 `json:"next_after,omitempty"`
}

func objectionTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func (s *server) objectionView(o store.Objection) objectionJSON {
	v := objectionJSON{ID: o.ID, SubjectType: o.SubjectType, SubjectID: o.SubjectID, Field: o.Field, Reason: o.Reason,
		Filer: objectionFilerJSON{Kind: o.FilerKind, ID: o.FilerID}, FiledBy: o.FiledBy, Status: o.Status, Due: o.Due(),
		Overdue: s.objs.Overdue(o), FiledAt: o.FiledAt, MarkedAt: o.MarkedAt, DecideDue: o.DecideDue,
		ForwardedTo: o.ForwardedTo, ForwardedAt: objectionTime(o.ForwardedAt), VerifyDue: o.VerifyDue,
		VerifiedAt: objectionTime(o.VerifiedAt), VerifyResult: o.VerifyResult, DecidedAt: objectionTime(o.DecidedAt),
		Result: o.Result, ResultNote: o.ResultNote, NotifiedAt: objectionTime(o.NotifiedAt), ClosedAt: objectionTime(o.ClosedAt)}
	switch o.Status {
	case store.ObjectionPending:
		v.Stage = objection.StageDecide
	case store.ObjectionForwarded:
		v.Stage = objection.StageVerify
	}
	return v
}

// objectionError maps the service's errors to answers.
func (s *server) objectionError(r *http.Request, err error) *apiError {
	var ie *objection.InputError
	switch {
	case errors.As(err, &ie):
		return badRequest(ie.Field, ie.Msg)
	case errors.Is(err, objection.ErrNotFound):
		return notFound("id", "异议不存在 / no such objection")
	case errors.Is(err, objection.ErrForbidden):
		return forbidden("Authorization", "此令牌无权执行该操作 / this token may not do this: "+err.Error())
	case errors.Is(err, objection.ErrWrongStage):
		return &apiError{status: http.StatusConflict, msg: "异议当前阶段不允许该操作 / " + err.Error(), field: "status"}
	}
	return s.internal(r, err)
}

func (s *server) objectionAnswerOf(r *http.Request, res objection.Result, err error) (any, *apiError) {
	if err != nil {
		return nil, s.objectionError(r, err)
	}
	return objectionAnswer{Objection: s.objectionView(res.Objection), Warnings: res.Warnings}, nil
}

type fileObjectionBody struct {
	SubjectType string              `json:"subject_type"`
	SubjectID   string              `json:"subject_id"`
	Field       string              `json:"field"`
	Reason      string              `json:"reason"`
	Filer       *objectionFilerJSON `json:"filer"`
}

// fileObjection: a department token files as its department; an admin
// token (the bureau's service window) on behalf of a data subject named in
// "filer".
func (s *server) fileObjection(r *http.Request, p auth.Principal) (any, *apiError) {
	var b fileObjectionBody
	if e := decodeBody(r, &b); e != nil {
		return nil, e
	}
	f := objection.Filing{SubjectType: b.SubjectType, SubjectID: b.SubjectID, Field: b.Field, Reason: b.Reason}
	if b.Filer != nil {
		f.Filer = &objection.Filer{Kind: b.Filer.Kind, ID: b.Filer.ID}
	}
	res, err := s.objs.File(r.Context(), p, f)
	return s.objectionAnswerOf(r, res, err)
}

func (s *server) showObjection(r *http.Request, p auth.Principal) (any, *apiError) {
	if _, e := parseQuery(r); e != nil {
		return nil, e
	}
	id, e := pathID(r, "objection")
	if e != nil {
		return nil, e
	}
	d, err := s.objs.Get(r.Context(), p, id)
	if err != nil {
		return nil, s.objectionError(r, err)
	}
	out := objectionDetailJSON{Objection: s.objectionView(d.Objection), Events: make([]objectionEventJSON, 0, len(d.Events))}
	for _, ev := range d.Events {
		out.Events = append(out.Events, objectionEventJSON{Event: ev.Event, Actor: ev.Actor, Note: ev.Note, At: ev.At})
	}
	return out, nil
}

// listObjections: admins see all, a department those it filed or was
// forwarded. subject= is "<type>:<id>", e.g. person:110101199003070014.
func (s *server) listObjections(r *http.Request, p auth.Principal) (any, *apiError) {
	q, e := parseQuery(r, "status", "overdue", "subject", "field", "after", "limit")
	if e != nil {
		return nil, e
	}
	var lq objection.ListQuery
	if lq.Limit, e = q.limit("limit", defaultObjectionsLimit); e != nil {
		return nil, e
	}
	if lq.Overdue, e = q.boolean("overdue"); e != nil {
		return nil, e
	}
	if v, ok := q.str("status"); ok {
		switch v {
		case store.ObjectionPending, store.ObjectionForwarded, store.ObjectionClosed:
			lq.Status = v
		default:
			return nil, badRequest("status", fmt.Sprintf("status %q is not pending, forwarded or closed", v))
		}
	}
	if v, ok := q.str("subject"); ok {
		typ, id, found := strings.Cut(v, ":")
		if !found || id == "" || (typ != "person" && typ != "legal_person") {
			return nil, badRequest("subject", fmt.Sprintf("subject %q: want person:<citizen ID> or legal_person:<USCC>", v))
		}
		lq.SubjectType, lq.SubjectID = typ, id
	}
	if v, ok := q.str("field"); ok {
		if v == "" {
			return nil, badRequest("field", "field is empty")
		}
		lq.Field = v
	}
	if lq.After, e = q.after("after"); e != nil {
		return nil, e
	}
	list, err := s.objs.List(r.Context(), p, lq)
	if err != nil {
		return nil, s.objectionError(r, err)
	}
	var out objectionListJSON
	out.Objections, out.NextAfter = listPage(list, lq.Limit, s.objectionView, func(x store.Objection) int64 { return x.ID })
	return out, nil
}

type objectionResultBody struct {
	Result string `json:"result"`
	Note   string `json:"note"`
}

type objectionForwardBody struct {
	Dept string `json:"dept"`
	Note string `json:"note"`
}

func (s *server) decideObjection(r *http.Request, p auth.Principal) (any, *apiError) {
	id, b, e := pathIDBody[objectionResultBody](r, "objection")
	if e != nil {
		return nil, e
	}
	res, err := s.objs.Decide(r.Context(), p, id, b.Result, b.Note)
	if err == nil {
		s.recordObjection(r, p, "decide", res.Objection)
	}
	return s.objectionAnswerOf(r, res, err)
}

func (s *server) forwardObjection(r *http.Request, p auth.Principal) (any, *apiError) {
	id, b, e := pathIDBody[objectionForwardBody](r, "objection")
	if e != nil {
		return nil, e
	}
	res, err := s.objs.Forward(r.Context(), p, id, b.Dept, b.Note)
	if err == nil {
		s.recordObjection(r, p, "forward", res.Objection)
	}
	return s.objectionAnswerOf(r, res, err)
}

func (s *server) verifyObjection(r *http.Request, p auth.Principal) (any, *apiError) {
	id, b, e := pathIDBody[objectionResultBody](r, "objection")
	if e != nil {
		return nil, e
	}
	res, err := s.objs.Verify(r.Context(), p, id, b.Result, b.Note)
	if err == nil {
		s.recordObjection(r, p, "verify", res.Objection)
	}
	return s.objectionAnswerOf(r, res, err)
}

// recordObjection writes a step of an objection to the audit log.
func (s *server) recordObjection(r *http.Request, p auth.Principal, step string, o store.Objection) {
	s.recordDecision(r, audit.Entry{Actor: p.TokenID, Dept: p.Dept, Action: audit.ActionObjectionDecide,
		SubjectType: o.SubjectType, SubjectID: o.SubjectID, Fields: []string{o.Field}, Result: audit.Allowed,
		Reason: step, Detail: detailJSON(map[string]any{"objection_id": o.ID, "status": o.Status, "result": o.Result, "forwarded_to": o.ForwardedTo})})
}
