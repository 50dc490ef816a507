package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/tongban/tongban/catalog"
	"github.com/tongban/tongban/hub/audit"
	"github.com/tongban/tongban/hub/auth"
	"github.com/tongban/tongban/hub/store"
	"github.com/tongban/tongban/identifier"
)

// MergeStore is what the merge routes need (*store.DB): golden records and
// their history, conflicts and the bureau's decisions, notifications.
type MergeStore interface {
	GetGolden(ctx context.Context, subjectType, subjectID string) (store.GoldenRecord, bool, error)
	FieldHistory(ctx context.Context, subjectType, subjectID, field string, limit int) ([]store.HistoryEntry, error)
	ListConflicts(ctx context.Context, f store.ConflictFilter) ([]store.Conflict, error)
	GetConflict(ctx context.Context, id int64) (store.Conflict, bool, error)
	DecideConflict(ctx context.Context, id int64, decision, actor, note string, at time.Time) (store.Conflict, error)
	ListNotifications(ctx context.Context, recipient string, after int64, limit int, unreadOnly bool) ([]store.Notification, error)
	MarkNotificationRead(ctx context.Context, recipient string, id int64, at time.Time) error
	// ObjectionMarks are the open objections of a subject (异议标注), shown
	// on the fields they concern.
	ObjectionMarks(ctx context.Context, subjectType, subjectID string) ([]store.ObjectionMark, error)
}

// Merge route defaults and limits.
const (
	defaultHistoryLimit       = 100
	defaultConflictsLimit     = 100
	defaultNotificationsLimit = 100
	// maxSubjectConflicts bounds the conflicts shown with a golden record.
	maxSubjectConflicts = 1000
	maxDecisionNote     = 4000 // characters
)

// mergeRoutes registers the routes of golden records (GET /subjects/{type}/{id}, field history), conflicts (list, decide) and notifications.
func (s *server) mergeRoutes(rt featureRoutes) {
	rt.handle("GET "+Prefix+"/subjects/{type}/{id}", rt.admin(s.showSubject))
	rt.handle("GET "+Prefix+"/subjects/{type}/{id}/history", rt.admin(s.subjectHistory))
	rt.handle("GET "+Prefix+"/conflicts", rt.admin(s.listConflicts))
	rt.handle("GET "+Prefix+"/conflicts/{id}", rt.admin(s.showConflict))
	rt.handle("POST "+Prefix+"/conflicts/{id}/decision", rt.admin(s.decideConflict))
	rt.handle("GET "+Prefix+"/notifications", rt.anyToken(s.listNotifications))
	rt.handle("POST "+Prefix+"/notifications/{id}/read", rt.anyToken(s.readNotification))
}

// subjectType maps the path or query form of a subject type to the
// catalog's: person, legal-person (or legal_person).
func subjectType(name, v string) (string, *apiError) {
	switch v {
	case "person":
		return catalog.SubjectPerson, nil
	case "legal-person", "legal_person":
		return catalog.SubjectLegalPerson, nil
	}
	return "", badRequest(name, fmt.Sprintf("主体类型 %q 无效 / subject type %q: want person or legal-person", v, v))
}

// subjectPath reads and validates {type} and {id}.
func subjectPath(r *http.Request) (typ, id string, e *apiError) {
	typ, e = subjectType("type", r.PathValue("type"))
	if e != nil {
		return "", "", e
	}
	id = r.PathValue("id")
	var err error
	if typ == catalog.SubjectPerson {
		err = identifier.ValidateCitizenID(id)
	} else {
		err = identifier.ValidateUSCC(id)
	}
	if err != nil {
		return "", "", badRequest("id", fmt.Sprintf("主体标识无效 / subject id %q is not valid: %v", id, err))
	}
	return typ, id, nil
}

// goldenFieldJSON is one field of a golden record, with its open conflict.
type goldenFieldJSON struct {
	Value      any              `json:"value"`
	Provenance store.Provenance `json:"provenance"`
	Conflict   *store.Conflict  `json:"conflict,omitempty"`
	// Objections are the open objections on the field (异议标注): the
	// value is disputed until they close.
	Objections []objectionMarkJSON `json:"objections,omitempty"`
}

type objectionMarkJSON struct {
	ID      int64     `json:"id"`
	Status  string    `json:"status"`
	FiledAt time.Time `json:"filed_at"`
	Due     string    `json:"due"`
	Note    string    `json:"note"`
}

type subjectJSON struct {
	SubjectType string                     `json:"subject_type"`
	SubjectID   string                     `json:"subject_id"`
	Library     string                     `json:"library"`
	Revision    int64                      `json:"revision"`
	UpdatedAt   time.Time                  `json:"updated_at"`
	Fields      map[string]goldenFieldJSON `json:"fields"`
	// Conflicts are the subject's conflicts still waiting (open or
	// awaiting correction).
	Conflicts []store.Conflict `json:"conflicts"`
}

func waiting(status string) bool {
	return status == store.ConflictOpen || status == store.ConflictAwaitingCorrection
}

func (s *server) showSubject(r *http.Request, _ auth.Principal) (any, *apiError) {
	if _, e := parseQuery(r); e != nil {
		return nil, e
	}
	typ, id, e := subjectPath(r)
	if e != nil {
		return nil, e
	}
	g, found, err := s.merge.GetGolden(r.Context(), typ, id)
	if err != nil {
		return nil, s.internal(r, err)
	}
	if !found {
		return nil, notFound("id", fmt.Sprintf("主体 %s 没有汇聚记录 / no golden record for %s %s", id, typ, id))
	}
	cs, err := s.merge.ListConflicts(r.Context(), store.ConflictFilter{SubjectType: typ, SubjectID: id, Limit: maxSubjectConflicts})
	if err != nil {
		return nil, s.internal(r, err)
	}
	out := subjectJSON{SubjectType: g.SubjectType, SubjectID: g.SubjectID, Library: g.Library, Revision: g.Revision,
		UpdatedAt: g.UpdatedAt.UTC(), Fields: make(map[string]goldenFieldJSON, len(g.Fields)), Conflicts: []store.Conflict{}}
	byField := map[string]*store.Conflict{}
	for i := range cs {
		if waiting(cs[i].Status) {
			out.Conflicts = append(out.Conflicts, cs[i])
			byField[cs[i].Field] = &cs[i]
		}
	}
	marks, err := s.merge.ObjectionMarks(r.Context(), typ, id)
	if err != nil {
		return nil, s.internal(r, err)
	}
	marksByField := map[string][]objectionMarkJSON{}
	for _, m := range marks {
		marksByField[m.Field] = append(marksByField[m.Field], objectionMarkJSON{ID: m.ID, Status: m.Status, FiledAt: m.FiledAt.UTC(), Due: m.Due,
			Note: "该数据已被提出异议，正在核实 / this value is under objection and being verified"})
	}
	for name, f := range g.Fields {
		out.Fields[name] = goldenFieldJSON{Value: f.Value, Provenance: f.Provenance, Conflict: byField[name], Objections: marksByField[name]}
	}
	return out, nil
}

type historyJSON struct {
	SubjectType string               `json:"subject_type"`
	SubjectID   string               `json:"subject_id"`
	Field       string               `json:"field,omitempty"`
	History     []store.HistoryEntry `json:"history"`
}

func (s *server) subjectHistory(r *http.Request, _ auth.Principal) (any, *apiError) {
	q, e := parseQuery(r, "field", "limit")
	if e != nil {
		return nil, e
	}
	typ, id, e := subjectPath(r)
	if e != nil {
		return nil, e
	}
	field, ok := q.str("field")
	if ok && field == "" {
		return nil, badRequest("field", "field is empty")
	}
	limit, e := q.limit("limit", defaultHistoryLimit)
	if e != nil {
		return nil, e
	}
	h, err := s.merge.FieldHistory(r.Context(), typ, id, field, limit)
	if err != nil {
		return nil, s.internal(r, err)
	}
	if h == nil {
		h = []store.HistoryEntry{}
	}
	return historyJSON{SubjectType: typ, SubjectID: id, Field: field, History: h}, nil
}

type conflictsJSON struct {
	Conflicts []store.Conflict `json:"conflicts"`
	// NextAfter is the after= of the next page; absent on the last page.
	NextAfter int64 `json:"next_after,omitempty"`
}

func (s *server) listConflicts(r *http.Request, _ auth.Principal) (any, *apiError) {
	q, e := parseQuery(r, "status", "field", "type", "subject", "resource", "after", "limit")
	if e != nil {
		return nil, e
	}
	var f store.ConflictFilter
	if v, ok := q.str("status"); ok {
		switch v {
		case store.ConflictOpen, store.ConflictAwaitingCorrection, store.ConflictDecided, store.ConflictResolved:
			f.Status = v
		default:
			return nil, badRequest("status", fmt.Sprintf("status %q: want open, awaiting_correction, decided or resolved", v))
		}
	}
	if v, ok := q.str("field"); ok {
		if v == "" {
			return nil, badRequest("field", "field is empty")
		}
		f.Field = v
	}
	if v, ok := q.str("type"); ok {
		if f.SubjectType, e = subjectType("type", v); e != nil {
			return nil, e
		}
	}
	if v, ok := q.str("subject"); ok {
		if v == "" {
			return nil, badRequest("subject", "subject is empty")
		}
		f.SubjectID = v
	}
	if f.Resource, e = s.knownResource(q, "resource"); e != nil {
		return nil, e
	}
	if f.After, e = q.after("after"); e != nil {
		return nil, e
	}
	if f.Limit, e = q.limit("limit", defaultConflictsLimit); e != nil {
		return nil, e
	}
	cs, err := s.merge.ListConflicts(r.Context(), f)
	if err != nil {
		return nil, s.internal(r, err)
	}
	out := conflictsJSON{Conflicts: cs}
	if out.Conflicts == nil {
		out.Conflicts = []store.Conflict{}
	}
	if len(cs) == f.Limit {
		out.NextAfter = cs[len(cs)-1].ID
	}
	return out, nil
}

// pathID reads a positive id from the path.
func pathID(r *http.Request, what string) (int64, *apiError) {
	raw := r.PathValue("id")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id < 1 {
		return 0, badRequest("id", fmt.Sprintf("%s id %q is not a positive whole number", what, raw))
	}
	return id, nil
}

// pathIDBody reads the path's id (of what, for messages) and the JSON body:
// the start of every handler that acts on one item.
func pathIDBody[B any](r *http.Request, what string) (int64, B, *apiError) {
	var b B
	id, e := pathID(r, what)
	if e != nil {
		return 0, b, e
	}
	if e := decodeBody(r, &b); e != nil {
		return 0, b, e
	}
	return id, b, nil
}

func (s *server) showConflict(r *http.Request, _ auth.Principal) (any, *apiError) {
	if _, e := parseQuery(r); e != nil {
		return nil, e
	}
	id, e := pathID(r, "conflict")
	if e != nil {
		return nil, e
	}
	c, found, err := s.merge.GetConflict(r.Context(), id)
	if err != nil {
		return nil, s.internal(r, err)
	}
	if !found {
		return nil, notFound("id", fmt.Sprintf("冲突 %d 不存在 / no conflict %d", id, id))
	}
	if c.Events == nil {
		c.Events = []store.ConflictEvent{}
	}
	return c, nil
}

type decisionBody struct {
	Decision string `json:"decision"`
	Note     string `json:"note"`
}

func (s *server) decideConflict(r *http.Request, p auth.Principal) (any, *apiError) {
	if _, e := parseQuery(r); e != nil {
		return nil, e
	}
	id, b, e := pathIDBody[decisionBody](r, "conflict")
	if e != nil {
		return nil, e
	}
	switch b.Decision {
	case store.DecisionAuthorityStands, store.DecisionSourceMustCorrect:
	case "":
		return nil, badRequest("decision", "decision is missing: want authority_stands or source_must_correct")
	default:
		return nil, badRequest("decision", fmt.Sprintf("裁定 %q 无效 / decision %q: want authority_stands or source_must_correct", b.Decision, b.Decision))
	}
	if !utf8.ValidString(b.Note) || utf8.RuneCountInString(b.Note) > maxDecisionNote {
		return nil, badRequest("note", fmt.Sprintf("note must be valid text of at most %d characters", maxDecisionNote))
	}
	c, err := s.merge.DecideConflict(r.Context(), id, b.Decision, "token:"+p.TokenID, b.Note, time.Time{})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, notFound("id", fmt.Sprintf("冲突 %d 不存在 / no conflict %d", id, id))
	case errors.Is(err, store.ErrConflictResolved):
		return nil, &apiError{status: http.StatusConflict, field: "id",
			msg: fmt.Sprintf("冲突 %d 已解决，无需裁定 / conflict %d is already resolved", id, id)}
	case errors.Is(err, store.ErrBadDecision):
		return nil, badRequest("decision", err.Error())
	case err != nil:
		return nil, s.internal(r, err)
	}
	s.recordDecision(r, audit.Entry{Actor: p.TokenID, Dept: p.Dept, Action: audit.ActionConflictDecide,
		SubjectType: c.SubjectType, SubjectID: c.SubjectID, Fields: []string{c.Field}, Result: audit.Allowed,
		Reason: b.Decision, Detail: detailJSON(map[string]any{"conflict_id": c.ID, "note": b.Note})})
	return c, nil
}

// notificationRecipient is whose notifications a request reads: a
// department token its own; an admin token the recipient= it names.
func notificationRecipient(q query, p auth.Principal) (string, *apiError) {
	v, given := q.str("recipient")
	if p.IsAdmin() {
		if !given || v == "" {
			return "", badRequest("recipient", "an admin token must name the recipient= (a department code or subject:<id>)")
		}
		return v, nil
	}
	if p.Role != auth.RoleDept || p.Dept == "" {
		return "", forbidden("Authorization", "only admin and department tokens read notifications")
	}
	if given && v != p.Dept {
		return "", forbidden("recipient", fmt.Sprintf("a department token reads only its own notifications (%s)", p.Dept))
	}
	return p.Dept, nil
}

type notificationJSON struct {
	ID        int64      `json:"id"`
	Recipient string     `json:"recipient"`
	Kind      string     `json:"kind"`
	Ref       string     `json:"ref,omitempty"`
	Message   string     `json:"message"`
	CreatedAt time.Time  `json:"created_at"`
	ReadAt    *time.Time `json:"read_at,omitempty"`
}

type notificationsJSON struct {
	Notifications []notificationJSON `json:"notifications"`
	NextAfter     int64              `json:"next_after,omitempty"`
}

func (s *server) listNotifications(r *http.Request, p auth.Principal) (any, *apiError) {
	q, e := parseQuery(r, "recipient", "after", "limit", "unread")
	if e != nil {
		return nil, e
	}
	who, e := notificationRecipient(q, p)
	if e != nil {
		return nil, e
	}
	after, e := q.after("after")
	if e != nil {
		return nil, e
	}
	limit, e := q.limit("limit", defaultNotificationsLimit)
	if e != nil {
		return nil, e
	}
	unread, e := q.boolean("unread")
	if e != nil {
		return nil, e
	}
	ns, err := s.merge.ListNotifications(r.Context(), who, after, limit, unread)
	if err != nil {
		return nil, s.internal(r, err)
	}
	out := notificationsJSON{Notifications: make([]notificationJSON, 0, len(ns))}
	for _, n := range ns {
		j := notificationJSON{ID: n.ID, Recipient: n.Recipient, Kind: n.Kind, Ref: n.Ref, Message: n.Message, CreatedAt: n.CreatedAt.UTC()}
		if !n.ReadAt.IsZero() {
			at := n.ReadAt.UTC()
			j.ReadAt = &at
		}
		out.Notifications = append(out.Notifications, j)
	}
	if len(ns) == limit {
		out.NextAfter = ns[len(ns)-1].ID
	}
	return out, nil
}

func (s *server) readNotification(r *http.Request, p auth.Principal) (any, *apiError) {
	q, e := parseQuery(r, "recipient")
	if e != nil {
		return nil, e
	}
	who, e := notificationRecipient(q, p)
	if e != nil {
		return nil, e
	}
	id, e := pathID(r, "notification")
	if e != nil {
		return nil, e
	}
	err := s.merge.MarkNotificationRead(r.Context(), who, id, time.Time{})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, notFound("id", fmt.Sprintf("通知 %d 不存在 / %s has no notification %d", id, who, id))
	case err != nil:
		return nil, s.internal(r, err)
	}
	return map[string]any{"id": id, "read": true}, nil
}
