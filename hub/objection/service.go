// Package objection handles objections on public data (异议, 大庆 第33条,
// 吉林 第46条): the data subject or a using department objects to one field
// of a subject's golden record; the mark is set at once; the bureau decides
// within 2 working days or forwards to the responsible department, which
// verifies within 5; the objector is told the result.
//
// Deadlines are working days on a calendar kept as data (package calendar).
// A stage's due date is its last day; the stage is overdue from the next day
// on. Dates are taken in China Standard Time (UTC+8, Asia/Shanghai): the
// regulations are local, China has no daylight saving since 1991, so the
// fixed zone Zone returns is exact and needs no tzdata on the host.
package objection

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tongban/tongban/calendar"
	"github.com/tongban/tongban/catalog"
	"github.com/tongban/tongban/hub/auth"
	"github.com/tongban/tongban/hub/store"
)

// Working days of each stage (大庆 第33条, 吉林 第46条).
const (
	DecideWorkdays = 2 // the bureau decides or forwards
	VerifyWorkdays = 5 // the responsible department verifies
)

// Stages, as in the overdue metric.
const (
	StageDecide = "decide"
	StageVerify = "verify"
)

// BureauRecipient is the notification recipient of the big-data bureau.
const BureauRecipient = "bureau"

// Errors the API maps to answers; InputError is the 400.
var (
	ErrNotFound   = errors.New("objection not found")
	ErrWrongStage = errors.New("objection is not in the stage this step needs")
	ErrForbidden  = errors.New("not allowed for this caller")
)

// Zone is the zone deadline dates are taken in: China Standard Time.
func Zone() *time.Location { return time.FixedZone("Asia/Shanghai", 8*60*60) }

// Store is what the service needs of the hub store (*store.DB).
type Store interface {
	FileObjection(ctx context.Context, o store.Objection, notes []store.Notification) (store.Objection, error)
	ForwardObjection(ctx context.Context, id int64, f store.ObjectionForward, notes []store.Notification) (store.Objection, error)
	DecideObjection(ctx context.Context, id int64, d store.ObjectionDecision, notes []store.Notification) (store.Objection, error)
	VerifyObjection(ctx context.Context, id int64, d store.ObjectionDecision, notes []store.Notification) (store.Objection, error)
	GetObjection(ctx context.Context, id int64) (store.Objection, []store.ObjectionEvent, error)
	ListObjections(ctx context.Context, f store.ObjectionFilter) ([]store.Objection, error)
	ObjectionMarks(ctx context.Context, subjectType, subjectID string) ([]store.ObjectionMark, error)
	CountObjections(ctx context.Context, day string) (store.ObjectionCounts, error)
}

// Config of a Service.
type Config struct {
	Store    Store              // required
	Calendar *calendar.Calendar // required: the working-day calendar of the hub config
	Catalog  *catalog.Catalog   // required: subject specs, departments, providers
	// Registry, when set, gets the objection metrics.
	Registry prometheus.Registerer
	Logger   *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Service runs objections. It is safe for concurrent use.
type Service struct {
	st      Store
	cal     *calendar.Calendar
	cat     *catalog.Catalog
	log     *slog.Logger
	now     func() time.Time
	zone    *time.Location
	filed   prometheus.Counter
	decided *prometheus.CounterVec
}

// New returns a Service; with cfg.Registry it registers
// tongban_objections_open{status}, tongban_objections_overdue{stage} (read
// from the store on scrape), tongban_objections_filed_total and
// tongban_objections_decided_total{stage,result}.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Calendar == nil || cfg.Catalog == nil {
		return nil, errors.New("objection: Store, Calendar and Catalog are required")
	}
	s := &Service{st: cfg.Store, cal: cfg.Calendar, cat: cfg.Catalog, log: cfg.Logger, now: cfg.Now, zone: Zone(),
		filed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tongban_objections_filed_total", Help: "Objections filed.",
		}),
		decided: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tongban_objections_decided_total", Help: "Objections closed, by the stage that closed them (decide: the bureau; verify: the responsible department) and result.",
		}, []string{"stage", "result"}),
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if cfg.Registry != nil {
		for _, c := range []prometheus.Collector{s.filed, s.decided, newCollector(s)} {
			if err := cfg.Registry.Register(c); err != nil {
				return nil, fmt.Errorf("objection: register metrics: %w", err)
			}
		}
	}
	return s, nil
}

// Result is an objection after a step, with warnings the caller should show
// (a deadline computed beyond the calendar's years).
type Result struct {
	Objection store.Objection
	Warnings  []string
}

// Detail is an objection with its log and deadline state.
type Detail struct {
	Objection store.Objection
	Events    []store.ObjectionEvent
	// Stage is "decide" or "verify" while open, empty once closed.
	Stage string
	// Overdue: the current stage's last day has passed (in Zone).
	Overdue bool
}

// ListQuery selects objections; zero fields do not filter.
type ListQuery struct {
	Status      string
	SubjectType string
	SubjectID   string
	Field       string
	Overdue     bool
	After       int64
	Limit       int
}

// today is the current date in Zone, "2006-01-02".
func (s *Service) today() string { return s.now().In(s.zone).Format(time.DateOnly) }

// dueAfter returns the date n working days after t (t's date in Zone not
// counted). A year the calendar does not cover still gives a date (weekends
// the only rest days) and a warning, logged, that asks the bureau to load
// the year's State Council notice.
func (s *Service) dueAfter(ctx context.Context, what string, t time.Time, n int) (string, []string, error) {
	d, err := s.cal.AddWorkdays(t.In(s.zone), n)
	var warnings []string
	if err != nil {
		var nc *calendar.NotCoveredError
		if !errors.As(err, &nc) {
			return "", nil, fmt.Errorf("objection: %s deadline: %w", what, err)
		}
		msg := fmt.Sprintf("工作日历未覆盖 %v 年，%s期限 %s 仅按周末计算，请载入该年国务院放假通知 / the working-day calendar does not cover %v: the %s deadline %s counts weekends only; load that year's State Council holiday notice (%v)",
			nc.Years, what, d.Format(time.DateOnly), nc.Years, what, d.Format(time.DateOnly), err)
		s.log.WarnContext(ctx, "objection: deadline beyond the working-day calendar", "stage", what, "due", d.Format(time.DateOnly),
			"years", nc.Years, "calendar", s.cal.Source(), "action", "load the next year's holiday notice into the calendar file")
		warnings = append(warnings, msg)
	}
	return d.Format(time.DateOnly), warnings, nil
}

// File records an objection of p: a department token files as its
// department (f.Filer must be nil); an admin token (the bureau's service
// window) files for a data subject named in f.Filer. The mark is set at
// once; the decide stage runs DecideWorkdays working days.
func (s *Service) File(ctx context.Context, p auth.Principal, f Filing) (Result, error) {
	now := s.now()
	f, err := ValidateFiling(s.cat, f, now.In(s.zone))
	if err != nil {
		return Result{}, err
	}
	o := store.Objection{SubjectType: f.SubjectType, SubjectID: f.SubjectID, Field: f.Field, Reason: f.Reason,
		FiledBy: p.TokenID, FiledAt: now}
	switch {
	case p.IsAdmin():
		if f.Filer == nil {
			return Result{}, inputErr("filer", `the bureau files on behalf of a data subject: give "filer": {"kind": "subject", "id": "<its id>"}`)
		}
		o.FilerKind, o.FilerID = store.FilerSubject, f.Filer.ID
	case p.Role == auth.RoleDept && p.Dept != "":
		if f.Filer != nil {
			return Result{}, inputErr("filer", "a department token files as its own department: leave filer out")
		}
		o.FilerKind, o.FilerID = store.FilerDept, p.Dept
	default:
		return Result{}, fmt.Errorf("objection: file: %w", ErrForbidden)
	}
	due, warnings, err := s.dueAfter(ctx, StageDecide, now, DecideWorkdays)
	if err != nil {
		return Result{}, err
	}
	o.DecideDue = due
	note := store.Notification{Recipient: BureauRecipient, Kind: "objection.filed", CreatedAt: now,
		Message: fmt.Sprintf("新异议：%s %s 的数据项 %s，请于 %s 前处理（决定或转交） / new objection on field %s of %s %s: decide or forward by %s",
			f.SubjectType, f.SubjectID, f.Field, due, f.Field, f.SubjectType, f.SubjectID, due)}
	stored, err := s.st.FileObjection(ctx, o, []store.Notification{note})
	if err != nil {
		return Result{}, fmt.Errorf("objection: file: %w", err)
	}
	s.filed.Inc()
	s.log.InfoContext(ctx, "objection: filed", "id", stored.ID, "subject_type", stored.SubjectType, "field", stored.Field,
		"filer_kind", stored.FilerKind, "decide_due", stored.DecideDue)
	return Result{Objection: stored, Warnings: warnings}, nil
}

// get reads objection id; ErrNotFound when unknown.
func (s *Service) get(ctx context.Context, id int64) (store.Objection, []store.ObjectionEvent, error) {
	o, evs, err := s.st.GetObjection(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Objection{}, nil, fmt.Errorf("objection %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return store.Objection{}, nil, fmt.Errorf("objection: get %d: %w", id, err)
	}
	return o, evs, nil
}

// stepErr translates the store's errors of a transition.
func stepErr(step string, id int64, err error) error {
	switch {
	case errors.Is(err, store.ErrObjectionStage):
		return fmt.Errorf("objection %d: %s: %w (%v)", id, step, ErrWrongStage, err)
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("objection %d: %w", id, ErrNotFound)
	}
	return fmt.Errorf("objection: %s %d: %w", step, id, err)
}

func actor(p auth.Principal) string {
	if p.IsAdmin() {
		return "admin:" + p.TokenID
	}
	return "dept:" + p.Dept
}

// checkResult validates a result and its note: a rejection states its reason.
func checkResult(result, note string) (string, error) {
	if result != store.ResultUpheld && result != store.ResultRejected {
		return "", inputErr("result", "结果 %q 无效 / result %q is not upheld or rejected", clip(result), clip(result))
	}
	n, err := checkNote(note, result == store.ResultRejected)
	if err != nil {
		return "", inputErr("note", "%v", err)
	}
	return n, nil
}

func resultText(result string) string {
	if result == store.ResultUpheld {
		return "异议成立，数据将予更正 / upheld: the data will be corrected"
	}
	return "异议不成立，数据维持 / rejected: the data stands"
}

// Decide closes a pending objection with the bureau's result (admin only)
// and tells the objector.
func (s *Service) Decide(ctx context.Context, p auth.Principal, id int64, result, note string) (Result, error) {
	if !p.IsAdmin() {
		return Result{}, fmt.Errorf("objection %d: decide: %w", id, ErrForbidden)
	}
	note, err := checkResult(result, note)
	if err != nil {
		return Result{}, err
	}
	o, _, err := s.get(ctx, id)
	if err != nil {
		return Result{}, err
	}
	if o.Status != store.ObjectionPending {
		return Result{}, fmt.Errorf("objection %d: decide: %w: it is %s", id, ErrWrongStage, o.Status)
	}
	now := s.now()
	msg := fmt.Sprintf("您对 %s %s 数据项 %s 的异议（第 %d 号）处理结果：%s。%s / result of objection %d on field %s: %s. %s",
		o.SubjectType, o.SubjectID, o.Field, id, resultText(result), note, id, o.Field, result, note)
	stored, err := s.st.DecideObjection(ctx, id, store.ObjectionDecision{Result: result, Note: note, Actor: actor(p), At: now},
		[]store.Notification{{Recipient: o.Objector(), Kind: "objection.result", Message: msg, CreatedAt: now}})
	if err != nil {
		return Result{}, stepErr("decide", id, err)
	}
	s.decided.WithLabelValues(StageDecide, result).Inc()
	s.log.InfoContext(ctx, "objection: decided", "id", id, "result", result)
	return Result{Objection: stored}, nil
}

// ResponsibleDept is the department that answers for field of a subject
// type: the provider of the field's authoritative resource.
func (s *Service) ResponsibleDept(subjectType, field string) (string, bool) {
	spec, ok := s.cat.SubjectSpec(subjectType)
	if !ok {
		return "", false
	}
	f, ok := specField(spec, field)
	if !ok {
		return "", false
	}
	r, ok := s.cat.Resource(f.Authority.Resource)
	if !ok || r.Provider == "" {
		return "", false
	}
	return r.Provider, true
}

// Forward sends a pending objection to department dept (admin only; empty
// dept: the responsible department of the field) for verification within
// VerifyWorkdays working days, and notifies it.
func (s *Service) Forward(ctx context.Context, p auth.Principal, id int64, dept, note string) (Result, error) {
	if !p.IsAdmin() {
		return Result{}, fmt.Errorf("objection %d: forward: %w", id, ErrForbidden)
	}
	note, err := checkNote(note, false)
	if err != nil {
		return Result{}, inputErr("note", "%v", err)
	}
	o, _, err := s.get(ctx, id)
	if err != nil {
		return Result{}, err
	}
	if o.Status != store.ObjectionPending {
		return Result{}, fmt.Errorf("objection %d: forward: %w: it is %s", id, ErrWrongStage, o.Status)
	}
	if dept == "" {
		var ok bool
		if dept, ok = s.ResponsibleDept(o.SubjectType, o.Field); !ok {
			return Result{}, inputErr("dept", "the catalog names no provider of the authoritative source of %s field %s: give dept", o.SubjectType, o.Field)
		}
	} else if _, ok := s.cat.Department(dept); !ok {
		return Result{}, inputErr("dept", "部门 %q 不在目录中 / department %q is not in the catalog", clip(dept), clip(dept))
	}
	now := s.now()
	due, warnings, err := s.dueAfter(ctx, StageVerify, now, VerifyWorkdays)
	if err != nil {
		return Result{}, err
	}
	msg := fmt.Sprintf("转交核实：%s %s 数据项 %s 的异议（第 %d 号），理由：%s。请于 %s 前核实并答复 / please verify objection %d on field %s of %s %s by %s. %s",
		o.SubjectType, o.SubjectID, o.Field, id, o.Reason, due, id, o.Field, o.SubjectType, o.SubjectID, due, note)
	stored, err := s.st.ForwardObjection(ctx, id, store.ObjectionForward{To: dept, VerifyDue: due, Actor: actor(p), Note: note, At: now},
		[]store.Notification{{Recipient: dept, Kind: "objection.forwarded", Message: msg, CreatedAt: now}})
	if err != nil {
		return Result{}, stepErr("forward", id, err)
	}
	s.log.InfoContext(ctx, "objection: forwarded", "id", id, "dept", dept, "verify_due", due)
	return Result{Objection: stored, Warnings: warnings}, nil
}

// Verify closes a forwarded objection with the result of the department it
// was forwarded to (only that department's tokens), telling the bureau and
// the objector.
func (s *Service) Verify(ctx context.Context, p auth.Principal, id int64, result, note string) (Result, error) {
	if p.Role != auth.RoleDept || p.Dept == "" {
		return Result{}, fmt.Errorf("objection %d: verify: %w", id, ErrForbidden)
	}
	note, err := checkResult(result, note)
	if err != nil {
		return Result{}, err
	}
	o, _, err := s.get(ctx, id)
	if err != nil {
		return Result{}, err
	}
	// Another department may not verify, whatever the stage; the department
	// it was forwarded to verifying again, or anyone verifying an objection
	// not yet forwarded, is a wrong transition.
	if o.ForwardedTo != "" && o.ForwardedTo != p.Dept {
		return Result{}, fmt.Errorf("objection %d: verify: %w: it was forwarded to another department", id, ErrForbidden)
	}
	if o.Status != store.ObjectionForwarded {
		return Result{}, fmt.Errorf("objection %d: verify: %w: it is %s", id, ErrWrongStage, o.Status)
	}
	now := s.now()
	toObjector := fmt.Sprintf("您对 %s %s 数据项 %s 的异议（第 %d 号）经责任部门核实：%s。%s / objection %d on field %s, verified by the responsible department: %s. %s",
		o.SubjectType, o.SubjectID, o.Field, id, resultText(result), note, id, o.Field, result, note)
	toBureau := fmt.Sprintf("部门 %s 已核实异议第 %d 号：%s / department %s verified objection %d: %s. %s", p.Dept, id, result, p.Dept, id, result, note)
	stored, err := s.st.VerifyObjection(ctx, id, store.ObjectionDecision{Result: result, Note: note, Actor: actor(p), Dept: p.Dept, At: now},
		[]store.Notification{
			{Recipient: BureauRecipient, Kind: "objection.verified", Message: toBureau, CreatedAt: now},
			{Recipient: o.Objector(), Kind: "objection.result", Message: toObjector, CreatedAt: now},
		})
	if err != nil {
		return Result{}, stepErr("verify", id, err)
	}
	s.decided.WithLabelValues(StageVerify, result).Inc()
	s.log.InfoContext(ctx, "objection: verified", "id", id, "dept", p.Dept, "result", result)
	return Result{Objection: stored}, nil
}

// involved reports whether department dept filed o or was forwarded it.
func involved(o store.Objection, dept string) bool {
	return (o.FilerKind == store.FilerDept && o.FilerID == dept) || o.ForwardedTo == dept
}

// Get returns objection id with its events: admins see all, a department
// those it filed or was forwarded (others: ErrNotFound, not revealing them).
func (s *Service) Get(ctx context.Context, p auth.Principal, id int64) (Detail, error) {
	o, evs, err := s.get(ctx, id)
	if err != nil {
		return Detail{}, err
	}
	if !p.IsAdmin() && !involved(o, p.Dept) {
		return Detail{}, fmt.Errorf("objection %d: %w", id, ErrNotFound)
	}
	d := Detail{Objection: o, Events: evs}
	switch o.Status {
	case store.ObjectionPending:
		d.Stage = StageDecide
	case store.ObjectionForwarded:
		d.Stage = StageVerify
	}
	d.Overdue = s.Overdue(o)
	return d, nil
}

// Overdue reports whether o's current stage is past its last day now.
func (s *Service) Overdue(o store.Objection) bool {
	due := o.Due()
	return due != "" && due < s.today()
}

// List returns the objections q selects that p may see: admins all, a
// department those it filed or was forwarded.
func (s *Service) List(ctx context.Context, p auth.Principal, q ListQuery) ([]store.Objection, error) {
	f := store.ObjectionFilter{Status: q.Status, SubjectType: q.SubjectType, SubjectID: q.SubjectID, Field: q.Field, After: q.After, Limit: q.Limit}
	if !p.IsAdmin() {
		if p.Dept == "" {
			return nil, fmt.Errorf("objection: list: %w", ErrForbidden)
		}
		f.Dept = p.Dept
	}
	if q.Overdue {
		f.OverdueOn = s.today()
	}
	out, err := s.st.ListObjections(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("objection: list: %w", err)
	}
	return out, nil
}

// Marks returns the open objections of a subject, for the golden-record API.
func (s *Service) Marks(ctx context.Context, subjectType, subjectID string) ([]store.ObjectionMark, error) {
	m, err := s.st.ObjectionMarks(ctx, subjectType, subjectID)
	if err != nil {
		return nil, fmt.Errorf("objection: marks: %w", err)
	}
	return m, nil
}
