package api

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/tongban/tongban/catalog"
	"github.com/tongban/tongban/hub/audit"
	"github.com/tongban/tongban/hub/auth"
	"github.com/tongban/tongban/hub/grant"
	"github.com/tongban/tongban/hub/store"
	"github.com/tongban/tongban/identifier"
	"github.com/tongban/tongban/wire"
)

// ShareReader is what the share endpoint reads of the department library
// (*store.DB).
type ShareReader interface {
	SubjectRecords(ctx context.Context, resources []string, subjects []string) ([]store.Record, error)
	ObjectionMarks(ctx context.Context, subjectType, subjectID string) ([]store.ObjectionMark, error)
}

// Auditor appends to the tamper-evident audit log (*audit.Logger). Append
// returns once the entry is durable.
type Auditor interface {
	Append(ctx context.Context, e audit.Entry) (int64, error)
}

// AuditLister reads and verifies the audit log (*store.DB).
type AuditLister interface {
	ListAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, error)
	audit.Reader
}

// ShareLimits are the per-department limits of the share endpoint.
type ShareLimits struct {
	// Rate is the sustained requests per second of one department (0: no
	// rate limit); Burst the requests it may make at once (at least 1).
	Rate  float64
	Burst int
	// DailyQuota is the requests of one department per calendar day in
	// China Standard Time (0: no quota). Counted per hub process.
	DailyQuota int
}

// Share route limits.
const (
	defaultShareLimit = 20
	maxShareLimit     = 200
	maxShareFields    = 200
	maxPurposeRunes   = 500
	maxItemCodeRunes  = 64
)

// shareLimiter keeps each department's rate limiter and daily count.
type shareLimiter struct {
	cfg ShareLimits
	now func() time.Time

	mu    sync.Mutex
	rates map[string]*rate.Limiter
	day   string
	used  map[string]int
}

// chinaTime is China Standard Time (UTC+8, no daylight saving), the zone
// a quota's day is counted in.
func chinaTime() *time.Location { return time.FixedZone("CST", 8*60*60) }

// allow reports whether dept may make one more call now; otherwise how long
// to wait (Retry-After) and why.
func (l *shareLimiter) allow(dept string) (wait time.Duration, why string) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cfg.DailyQuota > 0 {
		cst := chinaTime()
		day := now.In(cst).Format(time.DateOnly)
		if day != l.day {
			l.day, l.used = day, map[string]int{}
		}
		if l.used[dept] >= l.cfg.DailyQuota {
			y, m, d := now.In(cst).Date()
			midnight := time.Date(y, m, d+1, 0, 0, 0, 0, cst)
			return midnight.Sub(now), fmt.Sprintf("今日共享调用配额 %d 次已用完 / the daily quota of %d share calls is used up", l.cfg.DailyQuota, l.cfg.DailyQuota)
		}
	}
	if l.cfg.Rate > 0 {
		lim, ok := l.rates[dept]
		if !ok {
			lim = rate.NewLimiter(rate.Limit(l.cfg.Rate), max(1, l.cfg.Burst))
			l.rates[dept] = lim
		}
		r := lim.ReserveN(now, 1)
		if d := r.DelayFrom(now); d > 0 {
			r.CancelAt(now)
			return d, fmt.Sprintf("调用过于频繁（每秒至多 %g 次）/ too many share calls (at most %g per second)", l.cfg.Rate, l.cfg.Rate)
		}
	}
	if l.cfg.DailyQuota > 0 {
		l.used[dept]++
	}
	return 0, ""
}

// shareRequest is a share call's parameters, from the query (GET) or a
// JSON body (POST).
type shareRequest struct {
	Subject  string   `json:"subject"`
	Key      string   `json:"key"`
	Fields   []string `json:"fields"`
	Purpose  string   `json:"purpose"`
	ItemCode string   `json:"item_code"`
	Scenario string   `json:"scenario"`
	After    string   `json:"after"`
	Limit    int      `json:"limit"`
}

type shareResponse struct {
	Resource string        `json:"resource"`
	Decision shareDecision `json:"decision"`
	Records  []shareRecord `json:"records"`
	// NextAfter is the after= of the next page of a list query.
	NextAfter string `json:"next_after,omitempty"`
	// AuditSeq is the audit-log entry of this call.
	AuditSeq int64 `json:"audit_seq"`
}

type shareDecision struct {
	Code     string   `json:"code"`
	Fields   []string `json:"fields"`
	Masked   []string `json:"masked"`
	GrantID  int64    `json:"grant_id,omitempty"`
	Scenario string   `json:"scenario,omitempty"`
}

type shareRecord struct {
	Key     string          `json:"key"`
	Version int64           `json:"version"`
	Data    json.RawMessage `json:"data"`
	// Objections mark the fields of the record under objection (异议标注).
	Objections []shareObjection `json:"objections,omitempty"`
}

type shareObjection struct {
	Field       string `json:"field"`
	ObjectionID int64  `json:"objection_id"`
	Status      string `json:"status"`
	Due         string `json:"due"`
	Note        string `json:"note"`
}

// share serves GET/POST /api/v1/share/{code}: a department reads a
// resource under the catalog's rules (package grant decides), for a stated
// purpose and service item, by subject (citizen ID or USCC), by record key,
// or page by page. Every call, allowed or denied, is written to the audit
// log before anything is answered; if the log cannot be written nothing is
// served.
func (s *server) share(r *http.Request, p auth.Principal) (any, *apiError) {
	res, e := s.resource(r)
	if e != nil {
		return nil, e
	}
	req, e := parseShareRequest(r, res)
	if e != nil {
		return nil, e
	}
	if wait, why := s.limits.allow(p.Dept); wait > 0 {
		secs := int(wait.Seconds() + 0.999)
		return nil, &apiError{status: http.StatusTooManyRequests, msg: why, field: "Authorization",
			header: map[string]string{"Retry-After": strconv.Itoa(max(1, secs))}}
	}
	entry := audit.Entry{Actor: p.TokenID, Dept: p.Dept, Action: audit.ActionShareRead, Resource: res.Code,
		Fields: req.Fields, Purpose: req.Purpose, ItemCode: req.ItemCode}
	if req.Subject != "" {
		entry.SubjectType, entry.SubjectID = res.Subject.Type, req.Subject
	}
	d, err := s.sharing.Decide(r.Context(), grant.Request{Dept: p.Dept, Resource: res.Code, Fields: req.Fields,
		Purpose: req.Purpose, ItemCode: req.ItemCode, Scenario: req.Scenario})
	if err != nil {
		var de *grant.DeniedError
		if errors.As(err, &de) {
			d = de.Decision
		} else {
			ae := s.sharingError(r, err)
			entry.Result, entry.Reason = audit.Error, ae.msg
			if ae.status < 500 {
				entry.Result = audit.Denied
			}
			if _, aerr := s.audit.Append(r.Context(), entry); aerr != nil {
				return nil, s.auditDown(r, aerr)
			}
			return nil, ae
		}
	}
	if !d.Allowed {
		entry.Result, entry.Reason = audit.Denied, d.Err().Error()
		entry.Detail = detailJSON(map[string]any{"code": d.Code})
		if _, aerr := s.audit.Append(r.Context(), entry); aerr != nil {
			return nil, s.auditDown(r, aerr)
		}
		return nil, decisionError(d)
	}

	var (
		recs []store.Record
		next string
	)
	if key, ok := liveKey(res, req); ok && s.live != nil {
		// A live resource: the providing department's agent answers from its
		// own database.
		entry.Action = audit.ActionShareLive
		recs, err = s.liveRecords(r.Context(), res, key)
		if err != nil {
			ae := s.liveError(r, err)
			entry.Result, entry.Reason = audit.Error, ae.msg
			if _, aerr := s.audit.Append(r.Context(), entry); aerr != nil {
				return nil, s.auditDown(r, aerr)
			}
			return nil, ae
		}
	} else if recs, next, err = s.shareRecords(r.Context(), res, req); err != nil {
		entry.Result, entry.Reason = audit.Error, "store: "+err.Error()
		if _, aerr := s.audit.Append(r.Context(), entry); aerr != nil {
			return nil, s.auditDown(r, aerr)
		}
		return nil, s.internal(r, err)
	}
	out := shareResponse{Resource: res.Code, Records: make([]shareRecord, 0, len(recs)), NextAfter: next,
		Decision: shareDecision{Code: d.Code, Fields: nonNil(d.Fields), Masked: nonNil(d.Masked), GrantID: d.GrantID, Scenario: d.Scenario}}
	marks := map[string][]shareObjection{}
	for _, rec := range recs {
		data, err := grant.FilterJSON(rec.Data, d)
		if err != nil {
			return nil, s.internal(r, err)
		}
		sr := shareRecord{Key: rec.Key, Version: rec.Version, Data: data}
		if rec.Subject != "" {
			m, ok := marks[rec.Subject]
			if !ok {
				if m, err = s.objectionMarks(r.Context(), res, rec.Subject, d.Fields); err != nil {
					return nil, s.internal(r, err)
				}
				marks[rec.Subject] = m
			}
			sr.Objections = m
		}
		out.Records = append(out.Records, sr)
	}
	entry.Fields, entry.Result = d.Fields, audit.Allowed
	entry.Reason = d.Code
	entry.Detail = detailJSON(map[string]any{"records": len(out.Records), "grant_id": d.GrantID, "masked": d.Masked, "key": req.Key})
	seq, err := s.audit.Append(r.Context(), entry)
	if err != nil {
		return nil, s.auditDown(r, err)
	}
	out.AuditSeq = seq
	return out, nil
}

// recordDecision appends a decision (a grant answered, an objection or a
// conflict decided, a subscription approved) to the audit log. The decision
// is already committed, so a log failure is logged and counted by the
// audit logger, not turned into a failed answer.
func (s *server) recordDecision(r *http.Request, e audit.Entry) {
	if s.audit == nil {
		return
	}
	if _, err := s.audit.Append(r.Context(), e); err != nil {
		s.log.ErrorContext(r.Context(), "api: decision not written to the audit log", "action", e.Action, "err", err)
	}
}

// objectionMarks are the open objections of a subject on fields of res that
// the caller receives: an objection on a golden field marks the field of
// every resource that is its authority or cross-checks it.
func (s *server) objectionMarks(ctx context.Context, res *catalog.Resource, subject string, granted []string) ([]shareObjection, error) {
	spec, ok := s.cat.SubjectSpec(res.Subject.Type)
	if !ok {
		return nil, nil
	}
	marks, err := s.shareRead.ObjectionMarks(ctx, res.Subject.Type, subject)
	if err != nil || len(marks) == 0 {
		return nil, err
	}
	var out []shareObjection
	for _, m := range marks {
		for _, f := range spec.Fields {
			if f.Name != m.Field {
				continue
			}
			for _, src := range append([]catalog.SourceRef{f.Authority}, f.CrossCheck...) {
				if src.Resource == res.Code && slices.Contains(granted, src.Field) {
					out = append(out, shareObjection{Field: src.Field, ObjectionID: m.ID, Status: m.Status, Due: m.Due,
						Note: "该数据已被提出异议，正在核实 / this value is under objection and being verified"})
				}
			}
		}
	}
	return out, nil
}

// auditDown is the answer when the audit log cannot be written: data is
// never served unlogged.
func (s *server) auditDown(r *http.Request, err error) *apiError {
	s.log.ErrorContext(r.Context(), "api: audit log unavailable; share call refused", "path", r.URL.Path, "err", err)
	return &apiError{status: http.StatusServiceUnavailable, msg: "审计日志暂不可用，未提供数据 / the audit log is unavailable; nothing was served"}
}

func detailJSON(v map[string]any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

// liveKey is the primary key a share call of a live resource asks for: key=
// split into its parts, or subject= when the primary key is the subject
// field. List queries of live resources are served from the department
// library.
func liveKey(res *catalog.Resource, req shareRequest) ([]string, bool) {
	if !res.Live {
		return nil, false
	}
	switch {
	case req.Key != "":
		return wire.SplitKey(req.Key), true
	case req.Subject != "" && len(res.PrimaryKey) == 1 && res.PrimaryKey[0] == res.Subject.Field:
		return []string{req.Subject}, true
	}
	return nil, false
}

// liveRecords asks the providing department's agent for one row.
func (s *server) liveRecords(ctx context.Context, res *catalog.Resource, key []string) ([]store.Record, error) {
	got, err := s.live.Lookup(ctx, res.Provider, res.Code, key, 0)
	if err != nil || !got.Found {
		return nil, err
	}
	rec := store.Record{Resource: res.Code, Key: wire.RecordKey(key), Dept: res.Provider, Version: got.Version, Data: got.Data}
	if res.Subject.Type != catalog.SubjectNone && res.Subject.Field != "" {
		var row map[string]any
		if json.Unmarshal(got.Data, &row) == nil {
			rec.Subject, _ = row[res.Subject.Field].(string)
		}
	}
	return []store.Record{rec}, nil
}

// shareRecords reads the records a share call asks for: a subject's
// records, one record by key, or a page.
func (s *server) shareRecords(ctx context.Context, res *catalog.Resource, req shareRequest) ([]store.Record, string, error) {
	switch {
	case req.Subject != "":
		recs, err := s.shareRead.SubjectRecords(ctx, []string{res.Code}, []string{req.Subject})
		return recs, "", err
	case req.Key != "":
		rec, ok, err := s.st.GetRecord(ctx, res.Code, req.Key)
		if err != nil || !ok || rec.Deleted {
			return nil, "", err
		}
		return []store.Record{rec}, "", nil
	}
	recs, err := s.st.ListRecords(ctx, res.Code, req.After, req.Limit, false)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(recs) == req.Limit {
		next = recs[len(recs)-1].Key
	}
	return recs, next, nil
}

// parseShareRequest reads and checks a share call's parameters. Purpose
// and item code are checked by the decision (400 naming them).
func parseShareRequest(r *http.Request, res *catalog.Resource) (shareRequest, *apiError) {
	var req shareRequest
	if r.Method == http.MethodPost {
		if _, e := parseQuery(r); e != nil {
			return req, e
		}
		if e := decodeBody(r, &req); e != nil {
			return req, e
		}
	} else {
		q, e := parseQuery(r, "subject", "key", "fields", "purpose", "item_code", "scenario", "after", "limit")
		if e != nil {
			return req, e
		}
		req.Subject, _ = q.str("subject")
		req.Key, _ = q.str("key")
		req.Purpose, _ = q.str("purpose")
		req.ItemCode, _ = q.str("item_code")
		req.Scenario, _ = q.str("scenario")
		req.After, _ = q.str("after")
		if f, ok := q.str("fields"); ok {
			if f == "" {
				return req, badRequest("fields", "fields is empty (leave it out for every field you may see)")
			}
			req.Fields = strings.Split(f, ",")
		}
		n, e := q.limit("limit", defaultShareLimit)
		if e != nil {
			return req, e
		}
		req.Limit = n
	}
	if req.Limit == 0 {
		req.Limit = defaultShareLimit
	}
	if req.Limit < 1 || req.Limit > maxShareLimit {
		return req, badRequest("limit", fmt.Sprintf("limit %d is out of range 1..%d", req.Limit, maxShareLimit))
	}
	if len(req.Fields) > maxShareFields {
		return req, badRequest("fields", fmt.Sprintf("%d fields asked for (at most %d)", len(req.Fields), maxShareFields))
	}
	for _, f := range req.Fields {
		if _, ok := res.Schema.Field(f); !ok {
			return req, badRequest("fields", fmt.Sprintf("资源 %s 没有信息项 %q / resource %s has no field %q", res.Code, clipText(f), res.Code, clipText(f)))
		}
	}
	if n := len([]rune(req.Purpose)); n > maxPurposeRunes {
		return req, badRequest("purpose", fmt.Sprintf("purpose is %d characters long (at most %d)", n, maxPurposeRunes))
	}
	if n := len([]rune(req.ItemCode)); n > maxItemCodeRunes {
		return req, badRequest("item_code", fmt.Sprintf("item_code is %d characters long (at most %d)", n, maxItemCodeRunes))
	}
	if req.Subject != "" && req.Key != "" {
		return req, badRequest("key", "give subject or key, not both")
	}
	if req.Subject != "" {
		switch res.Subject.Type {
		case catalog.SubjectPerson:
			if _, err := identifier.ParseCitizenID(req.Subject); err != nil || len(req.Subject) != 18 {
				return req, badRequest("subject", fmt.Sprintf("subject %q is not a valid 18-character citizen ID (GB 11643)", clipText(req.Subject)))
			}
		case catalog.SubjectLegalPerson:
			if err := identifier.ValidateUSCC(req.Subject); err != nil {
				return req, badRequest("subject", fmt.Sprintf("subject %q is not a valid unified social credit code (GB 32100)", clipText(req.Subject)))
			}
		default:
			return req, badRequest("subject", fmt.Sprintf("resource %s is not about persons or organisations; use key", res.Code))
		}
	}
	if len(req.Key) > 255 {
		return req, badRequest("key", "key is longer than 255 bytes")
	}
	return req, nil
}

// clipText shortens user text quoted in messages.
func clipText(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}

// shareRoutes registers the share endpoint and the audit-log queries.
func (s *server) shareRoutes(rt featureRoutes) {
	rt.handle("GET "+Prefix+"/share/{code}", rt.dept(s.share))
	rt.handle("POST "+Prefix+"/share/{code}", rt.dept(s.share))
	rt.handle("GET "+Prefix+"/feed/{code}", rt.dept(s.feed))
	rt.handle("GET "+Prefix+"/audit", rt.admin(s.listAudit))
	rt.handle("GET "+Prefix+"/audit/verify", rt.admin(s.verifyAudit))
	rt.handle("GET "+Prefix+"/subjects/{type}/{id}/access-log", rt.admin(s.subjectAccessLog))
}

type auditJSON struct {
	Entries []auditEntryJSON `json:"entries"`
	// NextBefore is the before= of the next (older) page.
	NextBefore int64 `json:"next_before,omitempty"`
}

type feedResponse struct {
	Resource  string        `json:"resource"`
	GrantID   int64         `json:"grant_id"`
	Fields    []string      `json:"fields"`
	Records   []shareRecord `json:"records"`
	NextAfter string        `json:"next_after,omitempty"`
	AuditSeq  int64         `json:"audit_seq"`
}

// feed serves GET /api/v1/feed/{code}?after=&limit=: bulk copy (数据拷贝)
// of a resource's department library, page by page in key order, for a
// department holding an approved subscription (the bureau's approval,
// 大庆 第20条 / 吉林 第23条); only the subscribed fields, each page audited
// as subscription.deliver.
func (s *server) feed(r *http.Request, p auth.Principal) (any, *apiError) {
	res, e := s.resource(r)
	if e != nil {
		return nil, e
	}
	q, e := parseQuery(r, "after", "limit")
	if e != nil {
		return nil, e
	}
	after, _ := q.str("after")
	limit, e := q.limit("limit", 1000)
	if e != nil {
		return nil, e
	}
	entry := audit.Entry{Actor: p.TokenID, Dept: p.Dept, Action: audit.ActionSubscriptionDeliver, Resource: res.Code}
	d, err := s.sharing.DecideSubscription(r.Context(), p.Dept, res.Code)
	if err != nil {
		return nil, s.sharingError(r, err)
	}
	if !d.Allowed {
		entry.Result, entry.Reason = audit.Denied, d.Err().Error()
		if _, aerr := s.audit.Append(r.Context(), entry); aerr != nil {
			return nil, s.auditDown(r, aerr)
		}
		return nil, decisionError(d)
	}
	recs, err := s.st.ListRecords(r.Context(), res.Code, after, limit, false)
	if err != nil {
		return nil, s.internal(r, err)
	}
	out := feedResponse{Resource: res.Code, GrantID: d.GrantID, Fields: nonNil(d.Fields), Records: make([]shareRecord, 0, len(recs))}
	for _, rec := range recs {
		data, err := grant.FilterJSON(rec.Data, d)
		if err != nil {
			return nil, s.internal(r, err)
		}
		out.Records = append(out.Records, shareRecord{Key: rec.Key, Version: rec.Version, Data: data})
	}
	if len(recs) == limit {
		out.NextAfter = recs[len(recs)-1].Key
	}
	entry.Fields, entry.Result, entry.Reason = d.Fields, audit.Allowed, d.Code
	entry.Detail = detailJSON(map[string]any{"records": len(out.Records), "grant_id": d.GrantID, "after": after})
	seq, err := s.audit.Append(r.Context(), entry)
	if err != nil {
		return nil, s.auditDown(r, err)
	}
	out.AuditSeq = seq
	return out, nil
}

// auditEntryJSON is an audit-log entry as the API shows it.
type auditEntryJSON struct {
	Seq         int64           `json:"seq"`
	At          time.Time       `json:"at"`
	Actor       string          `json:"actor"`
	Dept        string          `json:"dept"`
	Action      string          `json:"action"`
	Resource    string          `json:"resource"`
	SubjectType string          `json:"subject_type,omitempty"`
	SubjectID   string          `json:"subject_id,omitempty"`
	Fields      []string        `json:"fields"`
	Purpose     string          `json:"purpose"`
	ItemCode    string          `json:"item_code"`
	Result      string          `json:"result"`
	Reason      string          `json:"reason,omitempty"`
	Detail      json.RawMessage `json:"detail,omitempty"`
	Hash        string          `json:"hash"`
}

// listAudit serves GET /api/v1/audit: the bureau queries the log by
// department, resource, subject, action and time, newest first.
func (s *server) listAudit(r *http.Request, _ auth.Principal) (any, *apiError) {
	q, e := parseQuery(r, "dept", "resource", "subject_type", "subject", "action", "since", "until", "before", "limit")
	if e != nil {
		return nil, e
	}
	var f store.AuditFilter
	f.Dept, _ = q.str("dept")
	f.Resource, _ = q.str("resource")
	f.SubjectType, _ = q.str("subject_type")
	f.SubjectID, _ = q.str("subject")
	f.Action, _ = q.str("action")
	for _, t := range []struct {
		name string
		dst  *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		if v, ok := q.str(t.name); ok {
			tm, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return nil, badRequest(t.name, fmt.Sprintf("%s %q is not an RFC 3339 time such as 2026-11-23T08:00:00+08:00", t.name, clipText(v)))
			}
			*t.dst = tm
		}
	}
	if v, ok := q.str("before"); ok {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return nil, badRequest("before", fmt.Sprintf("before %q is not a positive sequence number", clipText(v)))
		}
		f.Before = n
	}
	n, e := q.limit("limit", defaultRecordsLimit)
	if e != nil {
		return nil, e
	}
	f.Limit = n
	return s.auditPage(r, f)
}

// subjectAccessLog serves a data subject's own access history (the
// bureau's service window shows it to the person or organisation).
func (s *server) subjectAccessLog(r *http.Request, _ auth.Principal) (any, *apiError) {
	q, e := parseQuery(r, "before", "limit")
	if e != nil {
		return nil, e
	}
	typ, id, e := subjectPath(r)
	if e != nil {
		return nil, e
	}
	f := store.AuditFilter{SubjectType: typ, SubjectID: id}
	if v, ok := q.str("before"); ok {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return nil, badRequest("before", fmt.Sprintf("before %q is not a positive sequence number", clipText(v)))
		}
		f.Before = n
	}
	if f.Limit, e = q.limit("limit", defaultRecordsLimit); e != nil {
		return nil, e
	}
	return s.auditPage(r, f)
}

func (s *server) auditPage(r *http.Request, f store.AuditFilter) (any, *apiError) {
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return nil, badRequest("until", "until must be after since")
	}
	page, err := audit.Query(r.Context(), s.auditLog, f)
	if err != nil {
		return nil, s.internal(r, err)
	}
	out := auditJSON{Entries: make([]auditEntryJSON, 0, len(page.Entries)), NextBefore: page.Next}
	for _, e := range page.Entries {
		out.Entries = append(out.Entries, auditEntryJSON{Seq: e.Seq, At: e.At.UTC(), Actor: e.Actor, Dept: e.Dept, Action: e.Action,
			Resource: e.Resource, SubjectType: e.SubjectType, SubjectID: e.SubjectID, Fields: nonNil(e.Fields), Purpose: e.Purpose,
			ItemCode: e.ItemCode, Result: e.Result, Reason: e.Reason, Detail: e.Detail, Hash: hex.EncodeToString(e.Hash)})
	}
	return out, nil
}

type auditVerifyJSON struct {
	OK       bool           `json:"ok"`
	Entries  int64          `json:"entries"`
	HeadSeq  int64          `json:"head_seq"`
	HeadHash string         `json:"head_hash"`
	Problem  *audit.Problem `json:"problem,omitempty"`
}

// verifyAudit serves GET /api/v1/audit/verify: the whole chain recomputed
// (as `tongban audit verify` does); the first edited, deleted or inserted
// entry is named.
func (s *server) verifyAudit(r *http.Request, _ auth.Principal) (any, *apiError) {
	if _, e := parseQuery(r); e != nil {
		return nil, e
	}
	rep, err := audit.Verify(r.Context(), s.auditLog, nil)
	if err != nil {
		return nil, s.internal(r, err)
	}
	return auditVerifyJSON{OK: rep.OK(), Entries: rep.Entries, HeadSeq: rep.Head.Seq, HeadHash: hex.EncodeToString(rep.Head.Hash), Problem: rep.Problem}, nil
}
