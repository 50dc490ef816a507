package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Grant kinds: a share grant lets a department call the share endpoint
// (request-response); a subscription grant lets it follow a resource's
// change stream, which is a bulk copy and needs the bureau's approval
// (大庆 第20条, 吉林 第23条).
const (
	GrantShare        = "share"
	GrantSubscription = "subscription"
)

// Grant sources.
const (
	SourceApplication = "application" // an approved application (or the bureau's review)
	SourceScenario    = "scenario"    // a request naming a matching application scenario (吉林 第26条)
)

// Application statuses.
const (
	ApplicationPending  = "pending"  // waiting for the answer
	ApplicationApproved = "approved" // answered (or reviewed) yes: GrantID names the grant
	ApplicationRefused  = "refused"  // answered (or reviewed) no, with a reason
)

// Demand statuses.
const (
	DemandOpen    = "open"    // filed, waiting for the bureau
	DemandMatched = "matched" // the bureau matched it to a resource or provider
)

// ErrShareStage is wrapped by errors of a step the application, grant or
// demand's current state does not allow (answering an answered application,
// revoking a revoked grant, matching a matched demand).
var ErrShareStage = errors.New("not in the state this step needs")

// ShareApplication is a department's application for a conditional
// resource (芜湖 第13条) or for a subscription to a resource's change stream.
type ShareApplication struct {
	ID       int64
	Kind     string // GrantShare or GrantSubscription
	Dept     string // the applying department
	Resource string
	Provider string // the providing department, who answers share applications
	Fields   []string
	Purpose  string
	// LegalBasis is the applicant's duty that needs the data.
	LegalBasis   string
	Scenario     string // optional scenario code the applicant names
	DurationDays int    // how long the grant lasts once approved
	Status       string
	Due          string // last day ("2006-01-02") of the answer
	FiledBy      string // token id
	FiledAt      time.Time
	AnsweredBy   string
	AnsweredAt   time.Time
	AnswerNote   string // the reason of a refusal, a remark on an approval
	ReviewedBy   string
	ReviewedAt   time.Time
	ReviewNote   string
	GrantID      int64 // the grant of an approval, 0 otherwise
}

// ShareGrant is an authorisation: department Dept may read Fields of
// Resource for Purpose until ExpiresAt (zero: no expiry) unless revoked.
type ShareGrant struct {
	ID            int64
	Kind          string // GrantShare or GrantSubscription
	Source        string // SourceApplication or SourceScenario
	Dept          string
	Resource      string
	Provider      string
	Fields        []string
	Purpose       string
	LegalBasis    string
	Scenario      string
	ApplicationID int64 // 0 for a scenario grant
	GrantedBy     string
	GrantedAt     time.Time
	ExpiresAt     time.Time
	RevokedAt     time.Time
	RevokedBy     string
	RevokeReason  string
}

// Active reports whether g is in force at t: not revoked, not expired.
func (g ShareGrant) Active(t time.Time) bool {
	return g.RevokedAt.IsZero() && (g.ExpiresAt.IsZero() || t.Before(g.ExpiresAt))
}

// ShareAnswer is an answer to an application: the provider's (or, for a
// subscription, the bureau's) or the bureau's review.
type ShareAnswer struct {
	Approve bool
	Actor   string // token id
	Note    string
	At      time.Time
	// ExpiresAt is the expiry of the grant an approval creates; zero: none.
	ExpiresAt time.Time
}

// ShareApplicationFilter selects applications; zero fields do not filter.
type ShareApplicationFilter struct {
	Kind   string
	Status string
	// Party keeps the applications the department filed or must answer
	// (it provides the resource).
	Party    string
	Dept     string // the applicant
	Provider string
	Resource string
	// OverdueOn ("2006-01-02") keeps pending applications due before it.
	OverdueOn string
	After     int64
	Limit     int // 1..maxShareListLimit
}

// ShareGrantFilter selects grants; zero fields do not filter.
type ShareGrantFilter struct {
	Kind     string
	Source   string
	Party    string // grants to or on resources of this department
	Dept     string
	Resource string
	Scenario string
	After    int64
	Limit    int // 1..maxShareListLimit
}

// ShareDemand is an entry of the demand list (需求清单): data a department
// needs for its duties, matched by the bureau to a resource or a provider.
type ShareDemand struct {
	ID              int64
	Dept            string
	Title           string
	Description     string
	Resource        string // resource the department thinks holds it, optional
	Fields          []string
	Purpose         string
	LegalBasis      string
	Status          string
	FiledBy         string
	FiledAt         time.Time
	MatchedResource string
	MatchedProvider string
	MatchNote       string
	MatchedBy       string
	MatchedAt       time.Time
}

// DemandMatch is the bureau's match of a demand.
type DemandMatch struct {
	Resource string // optional when Provider is set
	Provider string
	Note     string
	Actor    string
	At       time.Time
}

// ShareDemandFilter selects demands; zero fields do not filter.
type ShareDemandFilter struct {
	Dept   string
	Status string
	After  int64
	Limit  int // 1..maxShareListLimit
}

// Sharing limits, in characters.
const (
	maxShareText      = 4000 // purpose, legal basis, notes, description
	maxShareTitle     = 255
	maxShareActor     = 255
	maxShareFields    = 500
	maxShareListLimit = 1000
	maxShareDays      = 36525
)

func checkFields(fields []string) (string, error) {
	if len(fields) > maxShareFields {
		return "", fmt.Errorf("fields: %d names (at most %d)", len(fields), maxShareFields)
	}
	for i, f := range fields {
		if err := checkText(fmt.Sprintf("fields[%d]", i), f, maxResourceLen, true); err != nil {
			return "", err
		}
	}
	if fields == nil {
		fields = []string{}
	}
	b, err := json.Marshal(fields)
	return string(b), err
}

func parseFields(raw string) ([]string, error) {
	var out []string
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		return nil, fmt.Errorf("stored fields %q: %w", raw, err)
	}
	return out, nil
}

func optTime(field string, t time.Time) (any, error) {
	if t.IsZero() {
		return nil, nil
	}
	return timeArg(field, t, time.Time{})
}

// FileShareApplication records a (ID, Status and the answer fields are set
// by the store) and returns it.
func (s *DB) FileShareApplication(ctx context.Context, a ShareApplication) (ShareApplication, error) {
	fail := func(err error) (ShareApplication, error) {
		return ShareApplication{}, fmt.Errorf("store: file share application of %q for %q: %w", a.Dept, a.Resource, err)
	}
	if a.Kind != GrantShare && a.Kind != GrantSubscription {
		return fail(fmt.Errorf("kind %q is not %q or %q", a.Kind, GrantShare, GrantSubscription))
	}
	for _, c := range []struct {
		name, v  string
		max      int
		required bool
	}{
		{"dept", a.Dept, maxDeptLen, true},
		{"resource", a.Resource, maxResourceLen, true},
		{"provider", a.Provider, maxDeptLen, true},
		{"purpose", a.Purpose, maxShareText, true},
		{"legal basis", a.LegalBasis, maxShareText, true},
		{"scenario", a.Scenario, maxResourceLen, false},
		{"filed by", a.FiledBy, maxShareActor, true},
	} {
		if err := checkText(c.name, c.v, c.max, c.required); err != nil {
			return fail(err)
		}
	}
	if a.DurationDays < 1 || a.DurationDays > maxShareDays {
		return fail(fmt.Errorf("duration %d days is not in 1..%d", a.DurationDays, maxShareDays))
	}
	if err := checkDate("due", a.Due); err != nil {
		return fail(err)
	}
	fields, err := checkFields(a.Fields)
	if err != nil {
		return fail(err)
	}
	at, err := timeArg("filed at", a.FiledAt, time.Now())
	if err != nil {
		return fail(err)
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO share_applications (kind, dept, resource, provider, fields, purpose, legal_basis,
 scenario, duration_days, status, due, filed_by, filed_at, answered_by, answer_note, reviewed_by, review_note, grant_id)
 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', '', '', '', 0)`,
		a.Kind, a.Dept, a.Resource, a.Provider, fields, a.Purpose, a.LegalBasis, a.Scenario, a.DurationDays,
		ApplicationPending, a.Due, a.FiledBy, at)
	if err != nil {
		return fail(err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return fail(err)
	}
	return s.GetShareApplication(ctx, id)
}

const shareApplicationColumns = `id, kind, dept, resource, provider, fields, purpose, legal_basis, scenario, duration_days,
 status, due, filed_by, filed_at, answered_by, answered_at, answer_note, reviewed_by, reviewed_at, review_note, grant_id`

func scanShareApplication(rs rowScanner) (ShareApplication, error) {
	var (
		a                       ShareApplication
		fields                  string
		filed, answered, review dbTime
	)
	if err := rs.Scan(&a.ID, &a.Kind, &a.Dept, &a.Resource, &a.Provider, &fields, &a.Purpose, &a.LegalBasis, &a.Scenario,
		&a.DurationDays, &a.Status, &a.Due, &a.FiledBy, &filed, &a.AnsweredBy, &answered, &a.AnswerNote,
		&a.ReviewedBy, &review, &a.ReviewNote, &a.GrantID); err != nil {
		return ShareApplication{}, err
	}
	a.FiledAt, a.AnsweredAt, a.ReviewedAt = filed.Time, answered.Time, review.Time
	var err error
	a.Fields, err = parseFields(fields)
	return a, err
}

// GetShareApplication returns application id; ErrNotFound when unknown.
func (s *DB) GetShareApplication(ctx context.Context, id int64) (ShareApplication, error) {
	a, err := scanShareApplication(s.db.QueryRowContext(ctx, `SELECT `+shareApplicationColumns+` FROM share_applications WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return ShareApplication{}, fmt.Errorf("store: share application %d: %w", id, err)
	}
	return a, nil
}

// ListShareApplications returns the applications f selects, by id.
func (s *DB) ListShareApplications(ctx context.Context, f ShareApplicationFilter) ([]ShareApplication, error) {
	if f.Limit <= 0 || f.Limit > maxShareListLimit {
		return nil, fmt.Errorf("store: list share applications: limit %d is not in 1..%d", f.Limit, maxShareListLimit)
	}
	q := `SELECT ` + shareApplicationColumns + ` FROM share_applications WHERE id > ?`
	args := []any{f.After}
	add := func(cond string, v any) {
		q += " AND " + cond
		args = append(args, v)
	}
	if f.Kind != "" {
		add("kind = ?", f.Kind)
	}
	if f.Status != "" {
		add("status = ?", f.Status)
	}
	if f.Party != "" {
		q += " AND (dept = ? OR provider = ?)"
		args = append(args, f.Party, f.Party)
	}
	if f.Dept != "" {
		add("dept = ?", f.Dept)
	}
	if f.Provider != "" {
		add("provider = ?", f.Provider)
	}
	if f.Resource != "" {
		add("resource = ?", f.Resource)
	}
	if f.OverdueOn != "" {
		if err := checkDate("overdue on", f.OverdueOn); err != nil {
			return nil, fmt.Errorf("store: list share applications: %w", err)
		}
		q += " AND status = ? AND due < ?"
		args = append(args, ApplicationPending, f.OverdueOn)
	}
	q += " ORDER BY id LIMIT ?"
	args = append(args, f.Limit)
	rs, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list share applications: %w", err)
	}
	return collectRows(rs, "store: list share applications", scanShareApplication)
}

// CountOverdueShareApplications counts the pending applications whose last
// day is before day ("2006-01-02").
func (s *DB) CountOverdueShareApplications(ctx context.Context, day string) (int64, error) {
	if err := checkDate("day", day); err != nil {
		return 0, fmt.Errorf("store: count overdue share applications: %w", err)
	}
	var n int64
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM share_applications WHERE status = ? AND due < ?`,
		ApplicationPending, day).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count overdue share applications: %w", err)
	}
	return n, nil
}

// AnswerShareApplication records the answer to pending application id:
// approved, it creates the grant (fields, purpose and scenario of the
// application, expiring at ans.ExpiresAt). ErrShareStage when the
// application is not pending, ErrNotFound when unknown.
func (s *DB) AnswerShareApplication(ctx context.Context, id int64, ans ShareAnswer) (ShareApplication, error) {
	if err := s.decideShareApplication(ctx, id, ans, false); err != nil {
		return ShareApplication{}, fmt.Errorf("store: answer share application %d: %w", id, err)
	}
	return s.GetShareApplication(ctx, id)
}

// ReviewShareApplication records the bureau's review of application id,
// whatever its status: approving one without a grant in force creates the
// grant; refusing revokes its grant. ErrNotFound when unknown.
func (s *DB) ReviewShareApplication(ctx context.Context, id int64, ans ShareAnswer) (ShareApplication, error) {
	if err := s.decideShareApplication(ctx, id, ans, true); err != nil {
		return ShareApplication{}, fmt.Errorf("store: review share application %d: %w", id, err)
	}
	return s.GetShareApplication(ctx, id)
}

func (s *DB) decideShareApplication(ctx context.Context, id int64, ans ShareAnswer, review bool) error {
	if err := checkText("actor", ans.Actor, maxShareActor, true); err != nil {
		return err
	}
	if err := checkText("note", ans.Note, maxShareText, false); err != nil {
		return err
	}
	if ans.At.IsZero() {
		ans.At = time.Now()
	}
	at, err := timeArg("at", ans.At, time.Time{})
	if err != nil {
		return err
	}
	expires, err := optTime("expires at", ans.ExpiresAt)
	if err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, s.d.writeTx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	a, err := scanShareApplication(tx.QueryRowContext(ctx, `SELECT `+shareApplicationColumns+` FROM share_applications WHERE id = ?`+s.d.forUpdate, id))
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	if !review && a.Status != ApplicationPending {
		return fmt.Errorf("%w: the application is %s, not pending", ErrShareStage, a.Status)
	}
	// The grant in force, if any.
	var current *ShareGrant
	if a.GrantID != 0 {
		g, err := scanShareGrant(tx.QueryRowContext(ctx, `SELECT `+shareGrantColumns+` FROM share_grants WHERE id = ?`+s.d.forUpdate, a.GrantID))
		if err != nil {
			return fmt.Errorf("grant %d of the application: %w", a.GrantID, err)
		}
		if g.Active(ans.At) {
			current = &g
		}
	}
	status, grantID := ApplicationRefused, a.GrantID
	if ans.Approve {
		status = ApplicationApproved
		if current == nil {
			fields, err := checkFields(a.Fields)
			if err != nil {
				return err
			}
			res, err := tx.ExecContext(ctx, `INSERT INTO share_grants (kind, source, dept, resource, provider, fields, purpose,
 legal_basis, scenario, application_id, granted_by, granted_at, expires_at, revoked_by, revoke_reason)
 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', '')`,
				a.Kind, SourceApplication, a.Dept, a.Resource, a.Provider, fields, a.Purpose, a.LegalBasis, a.Scenario,
				a.ID, ans.Actor, at, expires)
			if err != nil {
				return fmt.Errorf("create grant: %w", err)
			}
			if grantID, err = res.LastInsertId(); err != nil {
				return err
			}
		}
	} else if current != nil {
		if _, err := tx.ExecContext(ctx, `UPDATE share_grants SET revoked_at = ?, revoked_by = ?, revoke_reason = ? WHERE id = ?`,
			at, ans.Actor, ans.Note, current.ID); err != nil {
			return fmt.Errorf("revoke grant %d: %w", current.ID, err)
		}
	}
	if review {
		_, err = tx.ExecContext(ctx, `UPDATE share_applications SET status = ?, reviewed_by = ?, reviewed_at = ?, review_note = ?, grant_id = ? WHERE id = ?`,
			status, ans.Actor, at, ans.Note, grantID, id)
	} else {
		_, err = tx.ExecContext(ctx, `UPDATE share_applications SET status = ?, answered_by = ?, answered_at = ?, answer_note = ?, grant_id = ? WHERE id = ?`,
			status, ans.Actor, at, ans.Note, grantID, id)
	}
	if err != nil {
		return err
	}
	return tx.Commit()
}

const shareGrantColumns = `id, kind, source, dept, resource, provider, fields, purpose, legal_basis, scenario, application_id,
 granted_by, granted_at, expires_at, revoked_at, revoked_by, revoke_reason`

func scanShareGrant(rs rowScanner) (ShareGrant, error) {
	var (
		g                         ShareGrant
		fields                    string
		granted, expires, revoked dbTime
	)
	if err := rs.Scan(&g.ID, &g.Kind, &g.Source, &g.Dept, &g.Resource, &g.Provider, &fields, &g.Purpose, &g.LegalBasis,
		&g.Scenario, &g.ApplicationID, &g.GrantedBy, &granted, &expires, &revoked, &g.RevokedBy, &g.RevokeReason); err != nil {
		return ShareGrant{}, err
	}
	g.GrantedAt, g.ExpiresAt, g.RevokedAt = granted.Time, expires.Time, revoked.Time
	var err error
	g.Fields, err = parseFields(fields)
	return g, err
}

// AddShareGrant records g (a scenario grant; ID, revocation set by the
// store) and returns it.
func (s *DB) AddShareGrant(ctx context.Context, g ShareGrant) (ShareGrant, error) {
	fail := func(err error) (ShareGrant, error) {
		return ShareGrant{}, fmt.Errorf("store: add share grant of %q for %q: %w", g.Dept, g.Resource, err)
	}
	if g.Kind != GrantShare && g.Kind != GrantSubscription {
		return fail(fmt.Errorf("kind %q is not %q or %q", g.Kind, GrantShare, GrantSubscription))
	}
	if g.Source != SourceApplication && g.Source != SourceScenario {
		return fail(fmt.Errorf("source %q is not %q or %q", g.Source, SourceApplication, SourceScenario))
	}
	for _, c := range []struct {
		name, v  string
		max      int
		required bool
	}{
		{"dept", g.Dept, maxDeptLen, true},
		{"resource", g.Resource, maxResourceLen, true},
		{"provider", g.Provider, maxDeptLen, true},
		{"purpose", g.Purpose, maxShareText, true},
		{"legal basis", g.LegalBasis, maxShareText, true},
		{"scenario", g.Scenario, maxResourceLen, false},
		{"granted by", g.GrantedBy, maxShareActor, true},
	} {
		if err := checkText(c.name, c.v, c.max, c.required); err != nil {
			return fail(err)
		}
	}
	fields, err := checkFields(g.Fields)
	if err != nil {
		return fail(err)
	}
	at, err := timeArg("granted at", g.GrantedAt, time.Now())
	if err != nil {
		return fail(err)
	}
	expires, err := optTime("expires at", g.ExpiresAt)
	if err != nil {
		return fail(err)
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO share_grants (kind, source, dept, resource, provider, fields, purpose,
 legal_basis, scenario, application_id, granted_by, granted_at, expires_at, revoked_by, revoke_reason)
 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', '')`,
		g.Kind, g.Source, g.Dept, g.Resource, g.Provider, fields, g.Purpose, g.LegalBasis, g.Scenario, g.ApplicationID,
		g.GrantedBy, at, expires)
	if err != nil {
		return fail(err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return fail(err)
	}
	return s.GetShareGrant(ctx, id)
}

// GetShareGrant returns grant id; ErrNotFound when unknown.
func (s *DB) GetShareGrant(ctx context.Context, id int64) (ShareGrant, error) {
	g, err := scanShareGrant(s.db.QueryRowContext(ctx, `SELECT `+shareGrantColumns+` FROM share_grants WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return ShareGrant{}, fmt.Errorf("store: share grant %d: %w", id, err)
	}
	return g, nil
}

// ListShareGrants returns the grants f selects, by id, revoked and expired
// ones included (the caller judges them at its own time).
func (s *DB) ListShareGrants(ctx context.Context, f ShareGrantFilter) ([]ShareGrant, error) {
	if f.Limit <= 0 || f.Limit > maxShareListLimit {
		return nil, fmt.Errorf("store: list share grants: limit %d is not in 1..%d", f.Limit, maxShareListLimit)
	}
	q := `SELECT ` + shareGrantColumns + ` FROM share_grants WHERE id > ?`
	args := []any{f.After}
	for _, c := range []struct{ col, v string }{
		{"kind", f.Kind}, {"source", f.Source}, {"dept", f.Dept}, {"resource", f.Resource}, {"scenario", f.Scenario},
	} {
		if c.v != "" {
			q += " AND " + c.col + " = ?"
			args = append(args, c.v)
		}
	}
	if f.Party != "" {
		q += " AND (dept = ? OR provider = ?)"
		args = append(args, f.Party, f.Party)
	}
	q += " ORDER BY id LIMIT ?"
	args = append(args, f.Limit)
	rs, err := s.queryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list share grants: %w", err)
	}
	return collectRows(rs, "store: list share grants", scanShareGrant)
}

// RevokeShareGrant revokes grant id. ErrShareStage when it is already
// revoked, ErrNotFound when unknown.
func (s *DB) RevokeShareGrant(ctx context.Context, id int64, actor, reason string, at time.Time) (ShareGrant, error) {
	fail := func(err error) (ShareGrant, error) {
		return ShareGrant{}, fmt.Errorf("store: revoke share grant %d: %w", id, err)
	}
	if err := checkText("actor", actor, maxShareActor, true); err != nil {
		return fail(err)
	}
	if err := checkText("reason", reason, maxShareText, true); err != nil {
		return fail(err)
	}
	ts, err := timeArg("revoked at", at, time.Now())
	if err != nil {
		return fail(err)
	}
	res, err := s.db.ExecContext(ctx, `UPDATE share_grants SET revoked_at = ?, revoked_by = ?, revoke_reason = ? WHERE id = ? AND revoked_at IS NULL`,
		ts, actor, reason, id)
	if err != nil {
		return fail(err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fail(err)
	} else if n == 0 {
		if _, err := s.GetShareGrant(ctx, id); err != nil {
			return ShareGrant{}, err
		}
		return fail(fmt.Errorf("%w: the grant is already revoked", ErrShareStage))
	}
	return s.GetShareGrant(ctx, id)
}

// FileShareDemand records d (ID, Status and the match set by the store) and
// returns it.
func (s *DB) FileShareDemand(ctx context.Context, d ShareDemand) (ShareDemand, error) {
	fail := func(err error) (ShareDemand, error) {
		return ShareDemand{}, fmt.Errorf("store: file share demand of %q: %w", d.Dept, err)
	}
	for _, c := range []struct {
		name, v  string
		max      int
		required bool
	}{
		{"dept", d.Dept, maxDeptLen, true},
		{"title", d.Title, maxShareTitle, true},
		{"description", d.Description, maxShareText, false},
		{"resource", d.Resource, maxResourceLen, false},
		{"purpose", d.Purpose, maxShareText, true},
		{"legal basis", d.LegalBasis, maxShareText, true},
		{"filed by", d.FiledBy, maxShareActor, true},
	} {
		if err := checkText(c.name, c.v, c.max, c.required); err != nil {
			return fail(err)
		}
	}
	fields, err := checkFields(d.Fields)
	if err != nil {
		return fail(err)
	}
	at, err := timeArg("filed at", d.FiledAt, time.Now())
	if err != nil {
		return fail(err)
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO share_demands (dept, title, description, resource, fields, purpose, legal_basis,
 status, filed_by, filed_at, matched_resource, matched_provider, match_note, matched_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', '', '', '')`,
		d.Dept, d.Title, d.Description, d.Resource, fields, d.Purpose, d.LegalBasis, DemandOpen, d.FiledBy, at)
	if err != nil {
		return fail(err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return fail(err)
	}
	return s.GetShareDemand(ctx, id)
}

const shareDemandColumns = `id, dept, title, description, resource, fields, purpose, legal_basis, status, filed_by, filed_at,
 matched_resource, matched_provider, match_note, matched_by, matched_at`

func scanShareDemand(rs rowScanner) (ShareDemand, error) {
	var (
		d              ShareDemand
		fields         string
		filed, matched dbTime
	)
	if err := rs.Scan(&d.ID, &d.Dept, &d.Title, &d.Description, &d.Resource, &fields, &d.Purpose, &d.LegalBasis, &d.Status,
		&d.FiledBy, &filed, &d.MatchedResource, &d.MatchedProvider, &d.MatchNote, &d.MatchedBy, &matched); err != nil {
		return ShareDemand{}, err
	}
	d.FiledAt, d.MatchedAt = filed.Time, matched.Time
	var err error
	d.Fields, err = parseFields(fields)
	return d, err
}

// GetShareDemand returns demand id; ErrNotFound when unknown.
func (s *DB) GetShareDemand(ctx context.Context, id int64) (ShareDemand, error) {
	d, err := scanShareDemand(s.db.QueryRowContext(ctx, `SELECT `+shareDemandColumns+` FROM share_demands WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return ShareDemand{}, fmt.Errorf("store: share demand %d: %w", id, err)
	}
	return d, nil
}

// ListShareDemands returns the demands f selects, by id.
func (s *DB) ListShareDemands(ctx context.Context, f ShareDemandFilter) ([]ShareDemand, error) {
	if f.Limit <= 0 || f.Limit > maxShareListLimit {
		return nil, fmt.Errorf("store: list share demands: limit %d is not in 1..%d", f.Limit, maxShareListLimit)
	}
	q := `SELECT ` + shareDemandColumns + ` FROM share_demands WHERE id > ?`
	args := []any{f.After}
	if f.Dept != "" {
		q += " AND dept = ?"
		args = append(args, f.Dept)
	}
	if f.Status != "" {
		q += " AND status = ?"
		args = append(args, f.Status)
	}
	q += " ORDER BY id LIMIT ?"
	args = append(args, f.Limit)
	rs, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list share demands: %w", err)
	}
	return collectRows(rs, "store: list share demands", scanShareDemand)
}

// MatchShareDemand records the bureau's match of open demand id.
// ErrShareStage when it is already matched, ErrNotFound when unknown.
func (s *DB) MatchShareDemand(ctx context.Context, id int64, m DemandMatch) (ShareDemand, error) {
	fail := func(err error) (ShareDemand, error) {
		return ShareDemand{}, fmt.Errorf("store: match share demand %d: %w", id, err)
	}
	if strings.TrimSpace(m.Resource) == "" && strings.TrimSpace(m.Provider) == "" {
		return fail(errors.New("a match names a resource or a provider"))
	}
	for _, c := range []struct {
		name, v  string
		max      int
		required bool
	}{
		{"resource", m.Resource, maxResourceLen, false},
		{"provider", m.Provider, maxDeptLen, false},
		{"note", m.Note, maxShareText, false},
		{"actor", m.Actor, maxShareActor, true},
	} {
		if err := checkText(c.name, c.v, c.max, c.required); err != nil {
			return fail(err)
		}
	}
	ts, err := timeArg("matched at", m.At, time.Now())
	if err != nil {
		return fail(err)
	}
	res, err := s.db.ExecContext(ctx, `UPDATE share_demands SET status = ?, matched_resource = ?, matched_provider = ?, match_note = ?,
 matched_by = ?, matched_at = ? WHERE id = ? AND status = ?`, DemandMatched, m.Resource, m.Provider, m.Note, m.Actor, ts, id, DemandOpen)
	if err != nil {
		return fail(err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fail(err)
	} else if n == 0 {
		if _, err := s.GetShareDemand(ctx, id); err != nil {
			return ShareDemand{}, err
		}
		return fail(fmt.Errorf("%w: the demand is already matched", ErrShareStage))
	}
	return s.GetShareDemand(ctx, id)
}
