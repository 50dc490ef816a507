package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/tongban/tongban/hub/auth"
	"github.com/tongban/tongban/hub/store"
	"github.com/tongban/tongban/wire"
)

// QualityStore is what the quality routes need (*store.DB).
type QualityStore interface {
	ListQuarantine(ctx context.Context, f store.QuarantineFilter) ([]store.QuarantineEntry, error)
	ListFixes(ctx context.Context, resource string, after int64, limit int) ([]store.QualityFix, error)
	LatestQualityFigures(ctx context.Context) ([]store.QualityFigure, error)
	QualityFigures(ctx context.Context, resource, fromDay, toDay string) ([]store.QualityFigure, error)
}

// Quality route defaults and limits.
const (
	defaultQuarantineLimit = 100
	defaultFixesLimit      = 100
	defaultHistoryDays     = 30
	maxHistoryDays         = 366
)

// qualityRoutes registers the routes of quarantine (list, filter), quality fixes and scorecards (/quality/...).
func (s *server) qualityRoutes(rt featureRoutes) {
	rt.handle("GET "+Prefix+"/quarantine", rt.anyToken(s.listQuarantine))
	rt.handle("GET "+Prefix+"/quality/fixes", rt.admin(s.listFixes))
	rt.handle("GET "+Prefix+"/quality/scorecards", rt.anyToken(s.scorecards))
	rt.handle("GET "+Prefix+"/quality/scorecards/{resource}/history", rt.anyToken(s.scorecardHistory))
}

// quarantineJSON is one quarantine entry: a record's original values that
// failed one rule on one field.
type quarantineJSON struct {
	ID       int64    `json:"id"`
	Resource string   `json:"resource"`
	Key      string   `json:"key"`
	KeyParts []string `json:"key_parts"`
	Dept     string   `json:"dept"`
	Field    string   `json:"field"`
	Rule     string   `json:"rule"`
	Version  int64    `json:"version"`
	// Data is the record as the department sent it (before any fix).
	Data        json.RawMessage `json:"data"`
	ReasonZH    string          `json:"reason_zh"`
	ReasonEN    string          `json:"reason_en"`
	Status      string          `json:"status"`
	OpenedAt    time.Time       `json:"opened_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
	ClosedAt    *time.Time      `json:"closed_at,omitempty"`
	CloseReason string          `json:"close_reason,omitempty"`
}

type quarantineResponse struct {
	Entries []quarantineJSON `json:"entries"`
	// NextAfter is the after= of the next page; absent on the last page.
	NextAfter int64 `json:"next_after,omitempty"`
}

// knownResource checks an optional resource= filter against the catalog.
func (s *server) knownResource(q query, name string) (string, *apiError) {
	code, ok := q.str(name)
	if !ok {
		return "", nil
	}
	if code == "" {
		return "", badRequest(name, name+" is empty")
	}
	if _, ok := s.cat.Resource(code); !ok {
		return "", notFound(name, fmt.Sprintf("resource %q is not in the catalog", code))
	}
	return code, nil
}

func (s *server) listQuarantine(r *http.Request, p auth.Principal) (any, *apiError) {
	q, e := parseQuery(r, "dept", "resource", "rule", "field", "status", "after", "limit")
	if e != nil {
		return nil, e
	}
	f := store.QuarantineFilter{}
	f.Dept, _ = q.str("dept")
	if !p.IsAdmin() {
		switch {
		case p.Role != auth.RoleDept || p.Dept == "":
			return nil, forbidden("Authorization", "only admin and department tokens may read the quarantine")
		case f.Dept == "":
			f.Dept = p.Dept
		case f.Dept != p.Dept:
			return nil, forbidden("dept", fmt.Sprintf("a department token sees only its own department's quarantine (%s), not %s", p.Dept, f.Dept))
		}
	}
	if f.Resource, e = s.knownResource(q, "resource"); e != nil {
		return nil, e
	}
	f.Rule, _ = q.str("rule")
	f.Field, _ = q.str("field")
	f.Status, _ = q.str("status")
	switch f.Status {
	case "":
		f.Status = store.QuarantineOpen
	case store.QuarantineOpen, store.QuarantineClosed, store.QuarantineAll:
	default:
		return nil, badRequest("status", fmt.Sprintf("status %q: want open, closed or all", f.Status))
	}
	if f.After, e = q.after("after"); e != nil {
		return nil, e
	}
	if f.Limit, e = q.limit("limit", defaultQuarantineLimit); e != nil {
		return nil, e
	}
	es, err := s.quality.ListQuarantine(r.Context(), f)
	if err != nil {
		return nil, s.internal(r, err)
	}
	out := quarantineResponse{Entries: make([]quarantineJSON, 0, len(es))}
	for _, en := range es {
		data := en.Data
		if data == nil {
			data = json.RawMessage("null")
		}
		j := quarantineJSON{ID: en.ID, Resource: en.Resource, Key: en.Key, KeyParts: wire.SplitKey(en.Key), Dept: en.Dept,
			Field: en.Field, Rule: en.Rule, Version: en.Version, Data: data, ReasonZH: en.ReasonZH, ReasonEN: en.ReasonEN,
			Status: en.Status, OpenedAt: en.OpenedAt.UTC(), UpdatedAt: en.UpdatedAt.UTC(), CloseReason: en.CloseReason}
		if !en.ClosedAt.IsZero() {
			c := en.ClosedAt.UTC()
			j.ClosedAt = &c
		}
		out.Entries = append(out.Entries, j)
	}
	if len(es) == f.Limit {
		out.NextAfter = es[len(es)-1].ID
	}
	return out, nil
}

type fixJSON struct {
	ID       int64  `json:"id"`
	Resource string `json:"resource"`
	Key      string `json:"key"`
	Field    string `json:"field"`
	Rule     string `json:"rule"`
	// Original is the value as sent (JSON text), Fixed the value stored.
	Original string    `json:"original"`
	Fixed    string    `json:"fixed"`
	Version  int64     `json:"version"`
	FixedAt  time.Time `json:"fixed_at"`
}

type fixesResponse struct {
	Fixes     []fixJSON `json:"fixes"`
	NextAfter int64     `json:"next_after,omitempty"`
}

func (s *server) listFixes(r *http.Request, _ auth.Principal) (any, *apiError) {
	q, e := parseQuery(r, "resource", "after", "limit")
	if e != nil {
		return nil, e
	}
	res, e := s.knownResource(q, "resource")
	if e != nil {
		return nil, e
	}
	after, e := q.after("after")
	if e != nil {
		return nil, e
	}
	limit, e := q.limit("limit", defaultFixesLimit)
	if e != nil {
		return nil, e
	}
	fixes, err := s.quality.ListFixes(r.Context(), res, after, limit)
	if err != nil {
		return nil, s.internal(r, err)
	}
	out := fixesResponse{Fixes: make([]fixJSON, 0, len(fixes))}
	for _, f := range fixes {
		out.Fixes = append(out.Fixes, fixJSON{ID: f.ID, Resource: f.Resource, Key: f.Key, Field: f.Field, Rule: f.Rule,
			Original: f.Original, Fixed: f.Fixed, Version: f.Version, FixedAt: f.FixedAt.UTC()})
	}
	if len(fixes) == limit {
		out.NextAfter = fixes[len(fixes)-1].ID
	}
	return out, nil
}

// scoreJSON is one figure: value = numerator / denominator (for
// timeliness: value 1 in time, 0 overdue; numerator the age of the last
// ingest in seconds, -1 if never; denominator the update cycle in seconds).
type scoreJSON struct {
	Value       float64 `json:"value"`
	Numerator   int64   `json:"numerator"`
	Denominator int64   `json:"denominator"`
}

// scorecardJSON is one resource's figures of one day: resource-level scores
// by dimension, field completeness by field.
type scorecardJSON struct {
	Resource   string               `json:"resource"`
	Name       string               `json:"name,omitempty"`
	Dept       string               `json:"dept"`
	Day        string               `json:"day"`
	ComputedAt time.Time            `json:"computed_at"`
	Scores     map[string]scoreJSON `json:"scores"`
	Fields     map[string]scoreJSON `json:"fields,omitempty"`
	// Overdue and LastUpdateAgeSeconds come from the timeliness figure.
	Overdue              *bool  `json:"overdue,omitempty"`
	LastUpdateAgeSeconds *int64 `json:"last_update_age_seconds,omitempty"`
}

// groupFigures turns figures ordered by (day, resource) or (resource, day)
// into one scorecard per (resource, day), in the order met.
func (s *server) groupFigures(figs []store.QualityFigure) []scorecardJSON {
	out := []scorecardJSON{}
	for _, f := range figs {
		if n := len(out); n == 0 || out[n-1].Resource != f.Resource || out[n-1].Day != f.Day {
			c := scorecardJSON{Resource: f.Resource, Dept: f.Dept, Day: f.Day, Scores: map[string]scoreJSON{}}
			if res, ok := s.cat.Resource(f.Resource); ok {
				c.Name = res.Name
			}
			out = append(out, c)
		}
		c := &out[len(out)-1]
		if f.ComputedAt.After(c.ComputedAt) {
			c.ComputedAt = f.ComputedAt.UTC()
		}
		sc := scoreJSON{Value: f.Value, Numerator: f.Numerator, Denominator: f.Denominator}
		if f.Field != "" {
			if c.Fields == nil {
				c.Fields = map[string]scoreJSON{}
			}
			c.Fields[f.Field] = sc
			continue
		}
		c.Scores[f.Dimension] = sc
		if f.Dimension == "timeliness" {
			overdue := f.Value == 0
			c.Overdue = &overdue
			if f.Numerator >= 0 {
				age := f.Numerator
				c.LastUpdateAgeSeconds = &age
			}
		}
	}
	return out
}

func (s *server) scorecards(r *http.Request, _ auth.Principal) (any, *apiError) {
	if _, e := parseQuery(r); e != nil {
		return nil, e
	}
	figs, err := s.quality.LatestQualityFigures(r.Context())
	if err != nil {
		return nil, s.internal(r, err)
	}
	return map[string]any{"scorecards": s.groupFigures(figs)}, nil
}

func (s *server) scorecardHistory(r *http.Request, _ auth.Principal) (any, *apiError) {
	q, e := parseQuery(r, "days")
	if e != nil {
		return nil, e
	}
	code := r.PathValue("resource")
	res, ok := s.cat.Resource(code)
	if !ok {
		return nil, notFound("resource", fmt.Sprintf("resource %q is not in the catalog", code))
	}
	days := defaultHistoryDays
	if v, ok := q.str("days"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxHistoryDays {
			return nil, badRequest("days", fmt.Sprintf("days %q: want a whole number 1..%d", v, maxHistoryDays))
		}
		days = n
	}
	// Days are calendar days of the hub's clock, as the scorer saves them.
	today := time.Now()
	from := today.AddDate(0, 0, -(days - 1)).Format(time.DateOnly)
	to := today.Format(time.DateOnly)
	figs, err := s.quality.QualityFigures(r.Context(), res.Code, from, to)
	if err != nil {
		return nil, s.internal(r, err)
	}
	return map[string]any{"resource": res.Code, "name": res.Name, "dept": res.Provider, "from": from, "to": to,
		"days": s.groupFigures(figs)}, nil
}
