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
	"github.com/tongban/tongban/hub/grant"
	"github.com/tongban/tongban/hub/store"
)

// SharingService is what the sharing routes need (*grant.Service): the
// authorisation by the catalog, applications, grants, scenarios and the
// three lists. It checks who may do what; its errors are *grant.InputError
// (400), grant.ErrForbidden and *grant.DeniedError (403), grant.ErrNotFound
// (404) and grant.ErrWrongState (409). Decide and DecideSubscription are
// for the share endpoint and the change-stream subscription.
type SharingService interface {
	Decide(ctx context.Context, req grant.Request) (grant.Decision, error)
	DecideSubscription(ctx context.Context, dept, resource string) (grant.Decision, error)
	File(ctx context.Context, p auth.Principal, f grant.Filing) (grant.Result, error)
	Answer(ctx context.Context, p auth.Principal, id int64, approve bool, reason string) (grant.Result, error)
	Review(ctx context.Context, p auth.Principal, id int64, approve bool, note string) (grant.Result, error)
	Application(ctx context.Context, p auth.Principal, id int64) (store.ShareApplication, error)
	Applications(ctx context.Context, p auth.Principal, q grant.ApplicationQuery) ([]store.ShareApplication, error)
	Grants(ctx context.Context, p auth.Principal, q grant.GrantQuery) ([]store.ShareGrant, error)
	Revoke(ctx context.Context, p auth.Principal, id int64, reason string) (store.ShareGrant, error)
	GrantActive(g store.ShareGrant) bool
	Overdue(a store.ShareApplication) bool
	Scenarios() []grant.Scenario
	NegativeList() []grant.NegativeEntry
	Responsibilities() []grant.Duty
	FileDemand(ctx context.Context, p auth.Principal, f grant.DemandFiling) (store.ShareDemand, error)
	Demands(ctx context.Context, f store.ShareDemandFilter) ([]store.ShareDemand, error)
	MatchDemand(ctx context.Context, p auth.Principal, id int64, resource, provider, note string) (store.ShareDemand, error)
}

// defaultSharingLimit is the page size of the sharing lists without limit.
const defaultSharingLimit = 100

// sharingRoutes registers applications, grants, scenarios, the three lists
// and subscriptions. The share endpoint itself is built on Decide elsewhere.
func (s *server) sharingRoutes(rt featureRoutes) {
	rt.handle("POST "+Prefix+"/applications", rt.dept(s.fileApplication))
	rt.handle("GET "+Prefix+"/applications", rt.anyToken(s.listApplications))
	rt.handle("GET "+Prefix+"/applications/{id}", rt.anyToken(s.showApplication))
	rt.handle("POST "+Prefix+"/applications/{id}/answer", rt.dept(s.answerApplication))
	rt.handle("POST "+Prefix+"/applications/{id}/review", rt.admin(s.reviewApplication))
	rt.handle("GET "+Prefix+"/grants", rt.anyToken(s.listGrants))
	rt.handle("POST "+Prefix+"/grants/{id}/revoke", rt.anyToken(s.revokeGrant))
	rt.handle("GET "+Prefix+"/scenarios", rt.anyToken(s.listScenarios))
	rt.handle("GET "+Prefix+"/lists/responsibility", rt.anyToken(s.responsibilityList))
	rt.handle("GET "+Prefix+"/lists/negative", rt.anyToken(s.negativeList))
	rt.handle("GET "+Prefix+"/lists/demands", rt.anyToken(s.demandList))
	rt.handle("POST "+Prefix+"/demands", rt.dept(s.fileDemand))
	rt.handle("POST "+Prefix+"/demands/{id}/match", rt.admin(s.matchDemand))
	rt.handle("POST "+Prefix+"/subscriptions", rt.dept(s.requestSubscription))
	rt.handle("GET "+Prefix+"/subscriptions", rt.anyToken(s.listSubscriptions))
	rt.handle("POST "+Prefix+"/subscriptions/{id}/approve", rt.admin(s.approveSubscription))
}

// sharingError maps the sharing service's errors to answers. A denial is a
// 403 whose message carries the reason and the legal basis.
func (s *server) sharingError(r *http.Request, err error) *apiError {
	var (
		ie *grant.InputError
		nf *grant.NotFoundError
		de *grant.DeniedError
	)
	switch {
	case errors.As(err, &ie):
		return badRequest(ie.Field, ie.Msg)
	case errors.As(err, &nf):
		return notFound(nf.Field, nf.Msg)
	case errors.As(err, &de):
		return forbidden("resource", de.Error())
	case errors.Is(err, grant.ErrForbidden):
		return forbidden("Authorization", "此令牌无权执行该操作 / this token may not do this: "+err.Error())
	case errors.Is(err, grant.ErrWrongState):
		return &apiError{status: http.StatusConflict, msg: "当前状态不允许该操作 / " + err.Error(), field: "status"}
	}
	return s.internal(r, err)
}

// decisionError is the answer of a denied share decision: 403 with the
// reason and legal basis (for the share endpoint).
func decisionError(d grant.Decision) *apiError {
	return forbidden("resource", d.Err().Error())
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// applicationJSON is an application as the API shows it; due is the last
// day to answer (Asia/Shanghai), overdue says it has passed unanswered.
type applicationJSON struct {
	ID           int64      `json:"id"`
	Kind         string     `json:"kind"`
	Dept         string     `json:"dept"`
	Resource     string     `json:"resource"`
	Provider     string     `json:"provider"`
	Fields       []string   `json:"fields"`
	Purpose      string     `json:"purpose"`
	LegalBasis   string     `json:"legal_basis"`
	Scenario     string     `json:"scenario,omitempty"`
	DurationDays int        `json:"duration_days"`
	Status       string     `json:"status"`
	Due          string     `json:"due"`
	Overdue      bool       `json:"overdue"`
	FiledBy      string     `json:"filed_by"`
	FiledAt      time.Time  `json:"filed_at"`
	AnsweredBy   string     `json:"answered_by,omitempty"`
	AnsweredAt   *time.Time `json:"answered_at,omitempty"`
	AnswerNote   string     `json:"answer_note,omitempty"`
	ReviewedBy   string     `json:"reviewed_by,omitempty"`
	ReviewedAt   *time.Time `json:"reviewed_at,omitempty"`
	ReviewNote   string     `json:"review_note,omitempty"`
	GrantID      int64      `json:"grant_id,omitempty"`
}

func (s *server) applicationView(a store.ShareApplication) applicationJSON {
	return applicationJSON{ID: a.ID, Kind: a.Kind, Dept: a.Dept, Resource: a.Resource, Provider: a.Provider, Fields: nonNil(a.Fields),
		Purpose: a.Purpose, LegalBasis: a.LegalBasis, Scenario: a.Scenario, DurationDays: a.DurationDays, Status: a.Status,
		Due: a.Due, Overdue: s.sharing.Overdue(a), FiledBy: a.FiledBy, FiledAt: a.FiledAt, AnsweredBy: a.AnsweredBy,
		AnsweredAt: optTime(a.AnsweredAt), AnswerNote: a.AnswerNote, ReviewedBy: a.ReviewedBy, ReviewedAt: optTime(a.ReviewedAt),
		ReviewNote: a.ReviewNote, GrantID: a.GrantID}
}

type grantJSON struct {
	ID            int64      `json:"id"`
	Kind          string     `json:"kind"`
	Source        string     `json:"source"`
	Dept          string     `json:"dept"`
	Resource      string     `json:"resource"`
	Provider      string     `json:"provider"`
	Fields        []string   `json:"fields"`
	Purpose       string     `json:"purpose"`
	LegalBasis    string     `json:"legal_basis"`
	Scenario      string     `json:"scenario,omitempty"`
	ApplicationID int64      `json:"application_id,omitempty"`
	GrantedBy     string     `json:"granted_by"`
	GrantedAt     time.Time  `json:"granted_at"`
	ExpiresAt     *time.Time `json:"expires_at,omitempty"`
	RevokedAt     *time.Time `json:"revoked_at,omitempty"`
	RevokedBy     string     `json:"revoked_by,omitempty"`
	RevokeReason  string     `json:"revoke_reason,omitempty"`
	Active        bool       `json:"active"`
}

func (s *server) grantView(g store.ShareGrant) grantJSON {
	return grantJSON{ID: g.ID, Kind: g.Kind, Source: g.Source, Dept: g.Dept, Resource: g.Resource, Provider: g.Provider,
		Fields: nonNil(g.Fields), Purpose: g.Purpose, LegalBasis: g.LegalBasis, Scenario: g.Scenario, ApplicationID: g.ApplicationID,
		GrantedBy: g.GrantedBy, GrantedAt: g.GrantedAt, ExpiresAt: optTime(g.ExpiresAt), RevokedAt: optTime(g.RevokedAt),
		RevokedBy: g.RevokedBy, RevokeReason: g.RevokeReason, Active: s.sharing.GrantActive(g)}
}

type demandJSON struct {
	ID              int64      `json:"id"`
	Dept            string     `json:"dept"`
	Title           string     `json:"title"`
	Description     string     `json:"description,omitempty"`
	Resource        string     `json:"resource,omitempty"`
	Fields          []string   `json:"fields"`
	Purpose         string     `json:"purpose"`
	LegalBasis      string     `json:"legal_basis"`
	Status          string     `json:"status"`
	FiledBy         string     `json:"filed_by"`
	FiledAt         time.Time  `json:"filed_at"`
	MatchedResource string     `json:"matched_resource,omitempty"`
	MatchedProvider string     `json:"matched_provider,omitempty"`
	MatchNote       string     `json:"match_note,omitempty"`
	MatchedBy       string     `json:"matched_by,omitempty"`
	MatchedAt       *time.Time `json:"matched_at,omitempty"`
}

func demandView(d store.ShareDemand) demandJSON {
	return demandJSON{ID: d.ID, Dept: d.Dept, Title: d.Title, Description: d.Description, Resource: d.Resource, Fields: nonNil(d.Fields),
		Purpose: d.Purpose, LegalBasis: d.LegalBasis, Status: d.Status, FiledBy: d.FiledBy, FiledAt: d.FiledAt,
		MatchedResource: d.MatchedResource, MatchedProvider: d.MatchedProvider, MatchNote: d.MatchNote, MatchedBy: d.MatchedBy,
		MatchedAt: optTime(d.MatchedAt)}
}

func nonNil(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

// applicationAnswer is the answer of a filing or a step.
type applicationAnswer struct {
	Application applicationJSON `json:"application"`
	Warnings    []string        `json:"warnings,omitempty"`
}

func (s *server) applicationAnswerOf(r *http.Request, res grant.Result, err error) (any, *apiError) {
	if err != nil {
		return nil, s.sharingError(r, err)
	}
	return applicationAnswer{Application: s.applicationView(res.Application), Warnings: res.Warnings}, nil
}

func oneOf(q query, name string, allowed ...string) (string, *apiError) {
	v, ok := q.str(name)
	if !ok {
		return "", nil
	}
	for _, a := range allowed {
		if v == a {
			return v, nil
		}
	}
	return "", badRequest(name, fmt.Sprintf("%s %q is not one of %s", name, v, strings.Join(allowed, ", ")))
}

type applicationBody struct {
	Resource     string   `json:"resource"`
	Fields       []string `json:"fields"`
	Purpose      string   `json:"purpose"`
	LegalBasis   string   `json:"legal_basis"`
	Scenario     string   `json:"scenario"`
	DurationDays int      `json:"duration_days"`
}

func (s *server) fileApplication(r *http.Request, p auth.Principal) (any, *apiError) {
	return s.fileKind(r, p, store.GrantShare)
}

func (s *server) requestSubscription(r *http.Request, p auth.Principal) (any, *apiError) {
	return s.fileKind(r, p, store.GrantSubscription)
}

func (s *server) fileKind(r *http.Request, p auth.Principal, kind string) (any, *apiError) {
	var b applicationBody
	if e := decodeBody(r, &b); e != nil {
		return nil, e
	}
	if b.Resource == "" {
		return nil, badRequest("resource", "resource is required")
	}
	res, err := s.sharing.File(r.Context(), p, grant.Filing{Kind: kind, Resource: b.Resource, Fields: b.Fields, Purpose: b.Purpose,
		LegalBasis: b.LegalBasis, Scenario: b.Scenario, DurationDays: b.DurationDays})
	if err == nil {
		action := audit.ActionGrantRequest
		if kind == store.GrantSubscription {
			action = audit.ActionSubscriptionRequest
		}
		s.recordApplication(r, p, action, "filed", res.Application)
	}
	return s.applicationAnswerOf(r, res, err)
}

type applicationListJSON struct {
	Applications []applicationJSON `json:"applications"`
	NextAfter    int64             `json:"next_after,omitempty"`
}

// listApplications: admins see all, a department those it filed and those
// it must answer.
func (s *server) listApplications(r *http.Request, p auth.Principal) (any, *apiError) {
	return s.listKind(r, p, "")
}

func (s *server) listSubscriptions(r *http.Request, p auth.Principal) (any, *apiError) {
	return s.listKind(r, p, store.GrantSubscription)
}

func (s *server) listKind(r *http.Request, p auth.Principal, kind string) (any, *apiError) {
	names := []string{"status", "resource", "overdue", "after", "limit"}
	if kind == "" {
		names = append(names, "kind")
	}
	q, e := parseQuery(r, names...)
	if e != nil {
		return nil, e
	}
	lq := grant.ApplicationQuery{Kind: kind}
	if lq.Limit, e = q.limit("limit", defaultSharingLimit); e != nil {
		return nil, e
	}
	if lq.Overdue, e = q.boolean("overdue"); e != nil {
		return nil, e
	}
	if lq.After, e = q.after("after"); e != nil {
		return nil, e
	}
	if lq.Status, e = oneOf(q, "status", store.ApplicationPending, store.ApplicationApproved, store.ApplicationRefused); e != nil {
		return nil, e
	}
	if kind == "" {
		if lq.Kind, e = oneOf(q, "kind", store.GrantShare, store.GrantSubscription); e != nil {
			return nil, e
		}
	}
	lq.Resource, _ = q.str("resource")
	list, err := s.sharing.Applications(r.Context(), p, lq)
	if err != nil {
		return nil, s.sharingError(r, err)
	}
	var out applicationListJSON
	out.Applications, out.NextAfter = listPage(list, lq.Limit, s.applicationView, func(a store.ShareApplication) int64 { return a.ID })
	return out, nil
}

func (s *server) showApplication(r *http.Request, p auth.Principal) (any, *apiError) {
	if _, e := parseQuery(r); e != nil {
		return nil, e
	}
	id, e := pathID(r, "application")
	if e != nil {
		return nil, e
	}
	a, err := s.sharing.Application(r.Context(), p, id)
	if err != nil {
		return nil, s.sharingError(r, err)
	}
	return applicationAnswer{Application: s.applicationView(a)}, nil
}

// answerBody: decision is "approve" or "refuse"; a refusal needs a reason.
type answerBody struct {
	Decision string `json:"decision"`
	Reason   string `json:"reason"`
}

type reviewBody struct {
	Decision string `json:"decision"`
	Note     string `json:"note"`
}

func approveParam(v string) (bool, *apiError) {
	switch v {
	case "approve":
		return true, nil
	case "refuse":
		return false, nil
	case "":
		return false, badRequest("decision", `decision is required: "approve" or "refuse"`)
	}
	return false, badRequest("decision", fmt.Sprintf(`decision %q is not "approve" or "refuse"`, v))
}

// answerApplication: the providing department answers a share application.
func (s *server) answerApplication(r *http.Request, p auth.Principal) (any, *apiError) {
	id, b, e := pathIDBody[answerBody](r, "application")
	if e != nil {
		return nil, e
	}
	approve, e := approveParam(b.Decision)
	if e != nil {
		return nil, e
	}
	res, err := s.sharing.Answer(r.Context(), p, id, approve, b.Reason)
	if err == nil {
		s.recordApplication(r, p, audit.ActionGrantDecide, b.Decision, res.Application)
	}
	return s.applicationAnswerOf(r, res, err)
}

// approveSubscription: the bureau approves or refuses a subscription.
func (s *server) approveSubscription(r *http.Request, p auth.Principal) (any, *apiError) {
	id, b, e := pathIDBody[answerBody](r, "subscription")
	if e != nil {
		return nil, e
	}
	approve, e := approveParam(b.Decision)
	if e != nil {
		return nil, e
	}
	a, err := s.sharing.Application(r.Context(), p, id)
	if err != nil {
		return nil, s.sharingError(r, err)
	}
	if a.Kind != store.GrantSubscription {
		return nil, notFound("id", fmt.Sprintf("%d 不是订阅申请 / %d is not a subscription request (answer share applications at /applications/{id}/answer)", id, id))
	}
	res, err := s.sharing.Answer(r.Context(), p, id, approve, b.Reason)
	if err == nil {
		s.recordApplication(r, p, audit.ActionSubscriptionApprove, b.Decision, res.Application)
	}
	return s.applicationAnswerOf(r, res, err)
}

// reviewApplication: the bureau reviews (overrides) an answer.
func (s *server) reviewApplication(r *http.Request, p auth.Principal) (any, *apiError) {
	id, b, e := pathIDBody[reviewBody](r, "application")
	if e != nil {
		return nil, e
	}
	approve, e := approveParam(b.Decision)
	if e != nil {
		return nil, e
	}
	res, err := s.sharing.Review(r.Context(), p, id, approve, b.Note)
	if err == nil {
		s.recordApplication(r, p, audit.ActionGrantDecide, "review:"+b.Decision, res.Application)
	}
	return s.applicationAnswerOf(r, res, err)
}

type grantListJSON struct {
	Grants    []grantJSON `json:"grants"`
	NextAfter int64       `json:"next_after,omitempty"`
}

// listGrants: admins see all (dept= filters the grantee), a department the
// grants it holds and those on its resources.
func (s *server) listGrants(r *http.Request, p auth.Principal) (any, *apiError) {
	q, e := parseQuery(r, "kind", "source", "resource", "dept", "active", "after", "limit")
	if e != nil {
		return nil, e
	}
	var gq grant.GrantQuery
	if gq.Limit, e = q.limit("limit", defaultSharingLimit); e != nil {
		return nil, e
	}
	if gq.Active, e = q.boolean("active"); e != nil {
		return nil, e
	}
	if gq.After, e = q.after("after"); e != nil {
		return nil, e
	}
	if gq.Kind, e = oneOf(q, "kind", store.GrantShare, store.GrantSubscription); e != nil {
		return nil, e
	}
	if gq.Source, e = oneOf(q, "source", store.SourceApplication, store.SourceScenario); e != nil {
		return nil, e
	}
	gq.Resource, _ = q.str("resource")
	gq.Dept, _ = q.str("dept")
	list, err := s.sharing.Grants(r.Context(), p, gq)
	if err != nil {
		return nil, s.sharingError(r, err)
	}
	var out grantListJSON
	out.Grants, out.NextAfter = listPage(list, gq.Limit, s.grantView, func(g store.ShareGrant) int64 { return g.ID })
	return out, nil
}

type revokeBody struct {
	Reason string `json:"reason"`
}

// revokeGrant: the bureau or the providing department.
func (s *server) revokeGrant(r *http.Request, p auth.Principal) (any, *apiError) {
	id, b, e := pathIDBody[revokeBody](r, "grant")
	if e != nil {
		return nil, e
	}
	g, err := s.sharing.Revoke(r.Context(), p, id, b.Reason)
	if err != nil {
		return nil, s.sharingError(r, err)
	}
	s.recordDecision(r, audit.Entry{Actor: p.TokenID, Dept: p.Dept, Action: audit.ActionGrantDecide, Resource: g.Resource,
		Fields: g.Fields, Purpose: g.Purpose, Result: audit.Allowed, Reason: "revoke",
		Detail: detailJSON(map[string]any{"grant_id": g.ID, "grantee": g.Dept, "reason": b.Reason})})
	return map[string]any{"grant": s.grantView(g)}, nil
}

func (s *server) listScenarios(r *http.Request, p auth.Principal) (any, *apiError) {
	if _, e := parseQuery(r); e != nil {
		return nil, e
	}
	sc := s.sharing.Scenarios()
	if sc == nil {
		sc = []grant.Scenario{}
	}
	return map[string]any{"scenarios": sc}, nil
}

func (s *server) responsibilityList(r *http.Request, p auth.Principal) (any, *apiError) {
	q, e := parseQuery(r, "dept")
	if e != nil {
		return nil, e
	}
	dept, filter := q.str("dept")
	out := []grant.Duty{}
	for _, d := range s.sharing.Responsibilities() {
		if !filter || d.Dept == dept {
			out = append(out, d)
		}
	}
	return map[string]any{"responsibilities": out}, nil
}

func (s *server) negativeList(r *http.Request, p auth.Principal) (any, *apiError) {
	if _, e := parseQuery(r); e != nil {
		return nil, e
	}
	l := s.sharing.NegativeList()
	if l == nil {
		l = []grant.NegativeEntry{}
	}
	return map[string]any{"negative": l}, nil
}

type demandListJSON struct {
	Demands   []demandJSON `json:"demands"`
	NextAfter int64        `json:"next_after,omitempty"`
}

// demandList: the demand list, visible to every token.
func (s *server) demandList(r *http.Request, p auth.Principal) (any, *apiError) {
	q, e := parseQuery(r, "dept", "status", "after", "limit")
	if e != nil {
		return nil, e
	}
	f := store.ShareDemandFilter{}
	if f.Limit, e = q.limit("limit", defaultSharingLimit); e != nil {
		return nil, e
	}
	if f.After, e = q.after("after"); e != nil {
		return nil, e
	}
	if f.Status, e = oneOf(q, "status", store.DemandOpen, store.DemandMatched); e != nil {
		return nil, e
	}
	f.Dept, _ = q.str("dept")
	list, err := s.sharing.Demands(r.Context(), f)
	if err != nil {
		return nil, s.sharingError(r, err)
	}
	var out demandListJSON
	out.Demands, out.NextAfter = listPage(list, f.Limit, demandView, func(d store.ShareDemand) int64 { return d.ID })
	return out, nil
}

type demandBody struct {
	Title       string   `json:"title"`
	Description string   `json:"description"`
	Resource    string   `json:"resource"`
	Fields      []string `json:"fields"`
	Purpose     string   `json:"purpose"`
	LegalBasis  string   `json:"legal_basis"`
}

func (s *server) fileDemand(r *http.Request, p auth.Principal) (any, *apiError) {
	var b demandBody
	if e := decodeBody(r, &b); e != nil {
		return nil, e
	}
	d, err := s.sharing.FileDemand(r.Context(), p, grant.DemandFiling{Title: b.Title, Description: b.Description, Resource: b.Resource,
		Fields: b.Fields, Purpose: b.Purpose, LegalBasis: b.LegalBasis})
	if err != nil {
		return nil, s.sharingError(r, err)
	}
	return map[string]any{"demand": demandView(d)}, nil
}

type matchBody struct {
	Resource string `json:"resource"`
	Provider string `json:"provider"`
	Note     string `json:"note"`
}

func (s *server) matchDemand(r *http.Request, p auth.Principal) (any, *apiError) {
	id, b, e := pathIDBody[matchBody](r, "demand")
	if e != nil {
		return nil, e
	}
	d, err := s.sharing.MatchDemand(r.Context(), p, id, b.Resource, b.Provider, b.Note)
	if err != nil {
		return nil, s.sharingError(r, err)
	}
	return map[string]any{"demand": demandView(d)}, nil
}

// recordApplication writes a step of an application or subscription to the
// audit log.
func (s *server) recordApplication(r *http.Request, p auth.Principal, action, step string, a store.ShareApplication) {
	s.recordDecision(r, audit.Entry{Actor: p.TokenID, Dept: p.Dept, Action: action, Resource: a.Resource, Fields: a.Fields,
		Purpose: a.Purpose, Result: audit.Allowed, Reason: step,
		Detail: detailJSON(map[string]any{"application_id": a.ID, "applicant": a.Dept, "status": a.Status, "grant_id": a.GrantID})})
}
