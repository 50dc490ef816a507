// Package grant authorises data sharing by the catalog (一目录三清单): the
// share type of each resource (无条件 / 有条件 / 不予共享), the negative
// list (负面清单), grants from applications answered by the providing
// department within 10 working days (芜湖 第13条) or reviewed by the
// bureau, scenario grants (吉林 第26条), and subscriptions to a change
// stream, which are bulk copies and need the bureau's approval (大庆
// 第20条, 吉林 第23条). Decide is the single place the allow/deny rule
// lives; FilterFields applies a decision to a record.
//
// Scenarios, the negative list and the responsibility-list extras are the
// bureau's data, kept as YAML (deploy/sharing, LoadDir): they change with
// regulations, are reviewed like the catalog, and must stop start-up when
// wrong. Applications, grants and demands are filed at run time and live in
// the store.
package grant

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tongban/tongban/calendar"
	"github.com/tongban/tongban/catalog"
	"github.com/tongban/tongban/hub/auth"
	"github.com/tongban/tongban/hub/store"
)

// AnswerWorkdays is the providing department's time to answer an
// application (芜湖 第13条: 10个工作日内予以答复).
const AnswerWorkdays = 10

// Grant durations of applications, in days.
const (
	DefaultDurationDays = 365
	MaxDurationDays     = 1825
)

// Text limits of filings, in characters.
const (
	maxPurpose = 2000
	maxTitle   = 200
)

// Errors the API maps to answers; *InputError is 400, *NotFoundError 404,
// *DeniedError 403.
var (
	ErrNotFound   = errors.New("not found")
	ErrForbidden  = errors.New("not allowed for this caller")
	ErrWrongState = errors.New("not in the state this step needs")
	ErrDenied     = errors.New("sharing denied")
)

// InputError is a bad value in a request, naming the field.
type InputError struct {
	Field string
	Msg   string
}

func (e *InputError) Error() string { return e.Field + ": " + e.Msg }

func inputErr(field, format string, args ...any) error {
	return &InputError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// NotFoundError is an unknown resource, application, grant or demand.
type NotFoundError struct {
	Field string
	Msg   string
}

func (e *NotFoundError) Error() string        { return e.Field + ": " + e.Msg }
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// DeniedError is a denial: the decision says why and under which law.
type DeniedError struct{ Decision Decision }

func (e *DeniedError) Error() string {
	if e.Decision.LegalBasis == "" {
		return e.Decision.Reason
	}
	return e.Decision.Reason + "（依据 / legal basis: " + e.Decision.LegalBasis + "）"
}
func (e *DeniedError) Is(target error) bool { return target == ErrDenied }

// Zone is the zone deadline dates are taken in: China Standard Time.
func Zone() *time.Location { return time.FixedZone("Asia/Shanghai", 8*60*60) }

// Store is what the service needs of the hub store (*store.DB).
type Store interface {
	FileShareApplication(ctx context.Context, a store.ShareApplication) (store.ShareApplication, error)
	GetShareApplication(ctx context.Context, id int64) (store.ShareApplication, error)
	ListShareApplications(ctx context.Context, f store.ShareApplicationFilter) ([]store.ShareApplication, error)
	AnswerShareApplication(ctx context.Context, id int64, ans store.ShareAnswer) (store.ShareApplication, error)
	ReviewShareApplication(ctx context.Context, id int64, ans store.ShareAnswer) (store.ShareApplication, error)
	CountOverdueShareApplications(ctx context.Context, day string) (int64, error)
	AddShareGrant(ctx context.Context, g store.ShareGrant) (store.ShareGrant, error)
	GetShareGrant(ctx context.Context, id int64) (store.ShareGrant, error)
	ListShareGrants(ctx context.Context, f store.ShareGrantFilter) ([]store.ShareGrant, error)
	RevokeShareGrant(ctx context.Context, id int64, actor, reason string, at time.Time) (store.ShareGrant, error)
	FileShareDemand(ctx context.Context, d store.ShareDemand) (store.ShareDemand, error)
	GetShareDemand(ctx context.Context, id int64) (store.ShareDemand, error)
	ListShareDemands(ctx context.Context, f store.ShareDemandFilter) ([]store.ShareDemand, error)
	MatchShareDemand(ctx context.Context, id int64, m store.DemandMatch) (store.ShareDemand, error)
	AddNotification(ctx context.Context, n store.Notification) (int64, error)
}

// BureauRecipient is the notification recipient of the big-data bureau
// (as in package objection).
const BureauRecipient = "bureau"

// notify leaves a message; the step it reports is already recorded and
// listed, so a failure is logged, not returned.
func (s *Service) notify(ctx context.Context, recipient, kind, ref, msg string) {
	if _, err := s.st.AddNotification(ctx, store.Notification{Recipient: recipient, Kind: kind, Ref: ref, Message: msg, CreatedAt: s.now()}); err != nil {
		s.log.ErrorContext(ctx, "grant: notify", "recipient", recipient, "kind", kind, "ref", ref, "err", err)
	}
}

func appRef(id int64) string { return fmt.Sprintf("application/%d", id) }

// Config of a Service.
type Config struct {
	Store    Store              // required
	Catalog  *catalog.Catalog   // required
	Calendar *calendar.Calendar // required: the working-day calendar of the hub config
	Lists    *Lists             // the YAML lists (LoadDir); nil: none
	// Registry, when set, gets tongban_sharing_applications_overdue and
	// tongban_sharing_decisions_total{result}.
	Registry prometheus.Registerer
	Logger   *slog.Logger
	Now      func() time.Time // time.Now when nil
}

// Service decides share calls and runs applications, grants and demands.
// It is safe for concurrent use.
type Service struct {
	st        Store
	cat       *catalog.Catalog
	cal       *calendar.Calendar
	lists     Lists
	negByRes  map[string][]NegativeEntry
	scenarios map[string]*Scenario
	log       *slog.Logger
	now       func() time.Time
	decisions *prometheus.CounterVec
}

// New returns a Service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Catalog == nil || cfg.Calendar == nil {
		return nil, errors.New("grant: Store, Catalog and Calendar are required")
	}
	s := &Service{st: cfg.Store, cat: cfg.Catalog, cal: cfg.Calendar, log: cfg.Logger, now: cfg.Now,
		negByRes: map[string][]NegativeEntry{}, scenarios: map[string]*Scenario{},
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tongban_sharing_decisions_total",
			Help: "Share authorisation decisions (Decide, DecideSubscription), by result: allowed or denied.",
		}, []string{"result"}),
	}
	if cfg.Lists != nil {
		s.lists = *cfg.Lists
	}
	for _, e := range s.lists.Negative {
		s.negByRes[e.Resource] = append(s.negByRes[e.Resource], e)
	}
	for i := range s.lists.Scenarios {
		s.scenarios[s.lists.Scenarios[i].Code] = &s.lists.Scenarios[i]
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	for _, l := range []string{"allowed", "denied"} {
		s.decisions.WithLabelValues(l)
	}
	if cfg.Registry != nil {
		for _, c := range []prometheus.Collector{s.decisions, &overdueCollector{s: s, desc: prometheus.NewDesc(
			"tongban_sharing_applications_overdue",
			"Pending sharing applications past their last day to answer (10 working days; dates in Asia/Shanghai).", nil, nil)}} {
			if err := cfg.Registry.Register(c); err != nil {
				return nil, fmt.Errorf("grant: register metrics: %w", err)
			}
		}
	}
	return s, nil
}

// overdueCollector reads the overdue count from the store on scrape.
type overdueCollector struct {
	s    *Service
	desc *prometheus.Desc
}

func (c *overdueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *overdueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n, err := c.s.st.CountOverdueShareApplications(ctx, c.s.today())
	if err != nil {
		c.s.log.ErrorContext(ctx, "grant: metrics: count overdue applications", "err", err)
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n))
}

func (s *Service) today() string { return s.now().In(Zone()).Format(time.DateOnly) }

// Overdue reports whether a pending application's last day has passed.
func (s *Service) Overdue(a store.ShareApplication) bool {
	return a.Status == store.ApplicationPending && a.Due < s.today()
}

// Scenarios returns the application scenarios.
func (s *Service) Scenarios() []Scenario { return slices.Clone(s.lists.Scenarios) }

// NegativeList returns the negative list.
func (s *Service) NegativeList() []NegativeEntry { return slices.Clone(s.lists.Negative) }

// Responsibilities returns the responsibility list: every catalog resource
// under its provider (all fields, the resource's share basis or type), then
// the YAML extras.
func (s *Service) Responsibilities() []Duty {
	var out []Duty
	for _, r := range s.cat.Resources {
		basis := r.ShareBasis
		if basis == "" {
			basis = "政务信息资源目录：" + r.ShareType + " / catalog share type " + r.ShareType
		}
		fields := make([]string, 0, len(r.Schema.Fields))
		for _, f := range r.Schema.Fields {
			fields = append(fields, f.Name)
		}
		out = append(out, Duty{Dept: r.Provider, Resource: r.Code, Name: r.Name, Fields: fields, Basis: basis,
			Source: "catalog", InCatalog: true, File: r.File})
	}
	return append(out, s.lists.Duties...)
}

// checkFieldNames refuses unknown and repeated field names.
func checkFieldNames(r *catalog.Resource, key string, fields []string) error {
	for i, f := range fields {
		if r.Schema.Index(f) < 0 {
			return inputErr(fmt.Sprintf("%s[%d]", key, i), "资源 %s 没有信息项 %q / resource %s has no field %q", r.Code, f, r.Code, f)
		}
		if slices.Contains(fields[:i], f) {
			return inputErr(fmt.Sprintf("%s[%d]", key, i), "信息项 %q 重复 / field %q listed twice", f, f)
		}
	}
	return nil
}

// Filing is a department's application.
type Filing struct {
	Kind         string // store.GrantShare (default) or store.GrantSubscription
	Resource     string
	Fields       []string // empty: every field not on the negative list
	Purpose      string
	LegalBasis   string
	Scenario     string
	DurationDays int // 0: DefaultDurationDays
}

// Result is an application after a step, with warnings to show (a deadline
// beyond the calendar's years).
type Result struct {
	Application store.ShareApplication
	Warnings    []string
}

func text(field, v string, max int) error {
	v = strings.TrimSpace(v)
	if v == "" {
		return inputErr(field, "不能为空 / is required")
	}
	if n := len([]rune(v)); n > max {
		return inputErr(field, "过长：%d 字（最多 %d）/ %d characters long (at most %d)", n, max, n, max)
	}
	return nil
}

// File records p's application. Only a department token files; the
// resource must be shareable (not none, not on the negative list) and not
// its own. Share applications are answered by the provider within
// AnswerWorkdays working days; subscription requests by the bureau.
func (s *Service) File(ctx context.Context, p auth.Principal, f Filing) (Result, error) {
	if p.Role != auth.RoleDept || p.Dept == "" {
		return Result{}, fmt.Errorf("grant: file application: only a department token files: %w", ErrForbidden)
	}
	if f.Kind == "" {
		f.Kind = store.GrantShare
	}
	if f.Kind != store.GrantShare && f.Kind != store.GrantSubscription {
		return Result{}, inputErr("kind", "%q 不是 share 或 subscription / %q is not share or subscription", f.Kind, f.Kind)
	}
	r, ok := s.cat.Resource(f.Resource)
	if !ok {
		return Result{}, &NotFoundError{Field: "resource", Msg: fmt.Sprintf("目录中没有资源 %q / no resource %q in the catalog", f.Resource, f.Resource)}
	}
	if err := checkFieldNames(r, "fields", f.Fields); err != nil {
		return Result{}, err
	}
	if err := text("purpose", f.Purpose, maxPurpose); err != nil {
		return Result{}, err
	}
	if err := text("legal_basis", f.LegalBasis, maxPurpose); err != nil {
		return Result{}, err
	}
	if f.Scenario != "" {
		if _, ok := s.scenarios[f.Scenario]; !ok {
			return Result{}, inputErr("scenario", "没有应用场景 %q / no application scenario %q", f.Scenario, f.Scenario)
		}
	}
	if f.DurationDays == 0 {
		f.DurationDays = DefaultDurationDays
	}
	if f.DurationDays < 1 || f.DurationDays > MaxDurationDays {
		return Result{}, inputErr("duration_days", "期限须为 1..%d 天 / must be 1..%d days", MaxDurationDays, MaxDurationDays)
	}
	if r.Provider == p.Dept {
		return Result{}, inputErr("resource", "提供部门使用本部门资源无需申请 / %s is the department's own resource", r.Code)
	}
	if d, denied := s.excluded(Decision{Dept: p.Dept, Resource: r.Code}, r, f.Fields); denied {
		return Result{}, d.Err()
	}
	fields := wantedFields(r, f.Fields, s.negativeFields(r.Code))
	now := s.now()
	due, warnings, err := s.dueAfter(ctx, now)
	if err != nil {
		return Result{}, err
	}
	a, err := s.st.FileShareApplication(ctx, store.ShareApplication{Kind: f.Kind, Dept: p.Dept, Resource: r.Code, Provider: r.Provider,
		Fields: fields, Purpose: strings.TrimSpace(f.Purpose), LegalBasis: strings.TrimSpace(f.LegalBasis), Scenario: f.Scenario,
		DurationDays: f.DurationDays, Due: due, FiledBy: p.TokenID, FiledAt: now})
	if err != nil {
		return Result{}, fmt.Errorf("grant: file application: %w", err)
	}
	if a.Kind == store.GrantSubscription {
		s.notify(ctx, BureauRecipient, "sharing.subscription", appRef(a.ID), fmt.Sprintf(
			"部门 %s 申请订阅资源 %s 的变更流（批量复制），请审批 / department %s asks to subscribe to the change stream of %s (bulk copy): approve or refuse",
			a.Dept, a.Resource, a.Dept, a.Resource))
	} else {
		s.notify(ctx, a.Provider, "sharing.application", appRef(a.ID), fmt.Sprintf(
			"部门 %s 申请共享资源 %s（信息项 %s），请于 %s 前答复 / department %s applies for %s (fields %s): answer by %s",
			a.Dept, a.Resource, strings.Join(a.Fields, "、"), a.Due, a.Dept, a.Resource, strings.Join(a.Fields, ", "), a.Due))
	}
	return Result{Application: a, Warnings: warnings}, nil
}

// dueAfter returns the last day to answer an application filed at t.
func (s *Service) dueAfter(ctx context.Context, t time.Time) (string, []string, error) {
	d, err := s.cal.AddWorkdays(t.In(Zone()), AnswerWorkdays)
	var warnings []string
	if err != nil {
		var nc *calendar.NotCoveredError
		if !errors.As(err, &nc) {
			return "", nil, fmt.Errorf("grant: answer deadline: %w", err)
		}
		warnings = append(warnings, fmt.Sprintf("工作日历未覆盖 %v 年，答复期限 %s 仅按周末计算，请载入该年国务院放假通知 / the working-day calendar does not cover %v: the answer deadline %s counts weekends only",
			nc.Years, d.Format(time.DateOnly), nc.Years, d.Format(time.DateOnly)))
		s.log.WarnContext(ctx, "grant: deadline beyond the working-day calendar", "due", d.Format(time.DateOnly), "years", nc.Years, "calendar", s.cal.Source())
	}
	return d.Format(time.DateOnly), warnings, nil
}

func (s *Service) application(ctx context.Context, id int64) (store.ShareApplication, error) {
	a, err := s.st.GetShareApplication(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return a, &NotFoundError{Field: "id", Msg: fmt.Sprintf("没有共享申请 %d / no application %d", id, id)}
	}
	if err != nil {
		return a, fmt.Errorf("grant: %w", err)
	}
	return a, nil
}

func stepErr(what string, err error) error {
	if errors.Is(err, store.ErrShareStage) {
		return fmt.Errorf("grant: %s: %w: %v", what, ErrWrongState, err)
	}
	if errors.Is(err, store.ErrNotFound) {
		return &NotFoundError{Field: "id", Msg: what + ": 不存在 / not found"}
	}
	return fmt.Errorf("grant: %s: %w", what, err)
}

// Answer records the answer to pending application id: a share application
// by its providing department, a subscription request by the bureau (an
// admin token). A refusal needs a reason. An approval creates the grant,
// expiring DurationDays after now.
func (s *Service) Answer(ctx context.Context, p auth.Principal, id int64, approve bool, reason string) (Result, error) {
	a, err := s.application(ctx, id)
	if err != nil {
		return Result{}, err
	}
	switch {
	case a.Kind == store.GrantSubscription && !p.IsAdmin():
		return Result{}, fmt.Errorf("grant: answer application %d: a subscription (bulk copy) is approved by the bureau: %w", id, ErrForbidden)
	case a.Kind == store.GrantShare && (p.Role != auth.RoleDept || p.Dept != a.Provider):
		return Result{}, fmt.Errorf("grant: answer application %d: only the providing department %s answers: %w", id, a.Provider, ErrForbidden)
	}
	if !approve {
		if err := text("reason", reason, maxPurpose); err != nil {
			return Result{}, inputErr("reason", "不予共享须说明理由 / a refusal states its reason")
		}
	} else if len([]rune(reason)) > maxPurpose {
		return Result{}, text("reason", reason, maxPurpose)
	}
	now := s.now()
	out, err := s.st.AnswerShareApplication(ctx, id, store.ShareAnswer{Approve: approve, Actor: p.TokenID, Note: strings.TrimSpace(reason),
		At: now, ExpiresAt: now.AddDate(0, 0, a.DurationDays)})
	if err != nil {
		return Result{}, stepErr(fmt.Sprintf("answer application %d", id), err)
	}
	s.notifyResult(ctx, out, "sharing.answer")
	return Result{Application: out}, nil
}

// notifyResult tells the applicant the answer or review.
func (s *Service) notifyResult(ctx context.Context, a store.ShareApplication, kind string) {
	note := a.AnswerNote
	if kind == "sharing.review" {
		note = a.ReviewNote
	}
	if a.Status == store.ApplicationApproved {
		s.notify(ctx, a.Dept, kind, appRef(a.ID), fmt.Sprintf("共享申请 %d（资源 %s）已同意，授权 %d / application %d for %s approved: grant %d. %s",
			a.ID, a.Resource, a.GrantID, a.ID, a.Resource, a.GrantID, note))
		return
	}
	s.notify(ctx, a.Dept, kind, appRef(a.ID), fmt.Sprintf("共享申请 %d（资源 %s）不予同意，理由：%s / application %d for %s refused: %s",
		a.ID, a.Resource, note, a.ID, a.Resource, note))
}

// Review records the bureau's review (admin token) of application id,
// overriding the answer: approving creates a grant if none is in force,
// refusing revokes it. The note is required.
func (s *Service) Review(ctx context.Context, p auth.Principal, id int64, approve bool, note string) (Result, error) {
	if !p.IsAdmin() {
		return Result{}, fmt.Errorf("grant: review application %d: only the bureau reviews: %w", id, ErrForbidden)
	}
	if err := text("note", note, maxPurpose); err != nil {
		return Result{}, err
	}
	a, err := s.application(ctx, id)
	if err != nil {
		return Result{}, err
	}
	if approve {
		r, ok := s.cat.Resource(a.Resource)
		if !ok {
			return Result{}, &NotFoundError{Field: "resource", Msg: "资源已不在目录中 / the resource left the catalog: " + a.Resource}
		}
		if d, denied := s.excluded(Decision{Dept: a.Dept, Resource: a.Resource}, r, a.Fields); denied {
			return Result{}, d.Err()
		}
	}
	now := s.now()
	out, err := s.st.ReviewShareApplication(ctx, id, store.ShareAnswer{Approve: approve, Actor: p.TokenID, Note: strings.TrimSpace(note),
		At: now, ExpiresAt: now.AddDate(0, 0, a.DurationDays)})
	if err != nil {
		return Result{}, stepErr(fmt.Sprintf("review application %d", id), err)
	}
	s.notifyResult(ctx, out, "sharing.review")
	return Result{Application: out}, nil
}

// Application returns application id if p may see it: the bureau, the
// applicant, the provider.
func (s *Service) Application(ctx context.Context, p auth.Principal, id int64) (store.ShareApplication, error) {
	a, err := s.application(ctx, id)
	if err != nil {
		return a, err
	}
	if !p.IsAdmin() && p.Dept != a.Dept && p.Dept != a.Provider {
		return store.ShareApplication{}, &NotFoundError{Field: "id", Msg: fmt.Sprintf("没有共享申请 %d / no application %d", id, id)}
	}
	return a, nil
}

// ApplicationQuery selects applications; zero fields do not filter.
type ApplicationQuery struct {
	Kind     string
	Status   string
	Resource string
	Overdue  bool
	After    int64
	Limit    int
}

// Applications lists applications: the bureau sees all, a department those
// it filed and those it must answer.
func (s *Service) Applications(ctx context.Context, p auth.Principal, q ApplicationQuery) ([]store.ShareApplication, error) {
	f := store.ShareApplicationFilter{Kind: q.Kind, Status: q.Status, Resource: q.Resource, After: q.After, Limit: q.Limit}
	if !p.IsAdmin() {
		if p.Dept == "" {
			return nil, ErrForbidden
		}
		f.Party = p.Dept
	}
	if q.Overdue {
		f.OverdueOn = s.today()
	}
	out, err := s.st.ListShareApplications(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("grant: %w", err)
	}
	return out, nil
}

// GrantQuery selects grants; zero fields do not filter.
type GrantQuery struct {
	Kind     string
	Source   string
	Resource string
	Dept     string // the grantee (the bureau's filter)
	Active   bool   // only grants in force now
	After    int64
	Limit    int
}

// Grants lists grants: the bureau sees all, a department those it holds and
// those on its resources.
func (s *Service) Grants(ctx context.Context, p auth.Principal, q GrantQuery) ([]store.ShareGrant, error) {
	f := store.ShareGrantFilter{Kind: q.Kind, Source: q.Source, Resource: q.Resource, Dept: q.Dept, After: q.After, Limit: q.Limit}
	if !p.IsAdmin() {
		if p.Dept == "" {
			return nil, ErrForbidden
		}
		f.Party = p.Dept
	}
	out, err := s.st.ListShareGrants(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("grant: %w", err)
	}
	if q.Active {
		now := s.now()
		out = slices.DeleteFunc(out, func(g store.ShareGrant) bool { return !g.Active(now) })
	}
	return out, nil
}

// GrantActive reports whether g is in force now (the service's clock).
func (s *Service) GrantActive(g store.ShareGrant) bool { return g.Active(s.now()) }

// Revoke revokes grant id: the bureau or the providing department, with a
// reason.
func (s *Service) Revoke(ctx context.Context, p auth.Principal, id int64, reason string) (store.ShareGrant, error) {
	if err := text("reason", reason, maxPurpose); err != nil {
		return store.ShareGrant{}, err
	}
	g, err := s.st.GetShareGrant(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return g, &NotFoundError{Field: "id", Msg: fmt.Sprintf("没有授权 %d / no grant %d", id, id)}
	}
	if err != nil {
		return g, fmt.Errorf("grant: %w", err)
	}
	if !p.IsAdmin() && (p.Role != auth.RoleDept || p.Dept != g.Provider) {
		if p.Dept == g.Dept {
			return store.ShareGrant{}, fmt.Errorf("grant: revoke grant %d: only the bureau or the provider revokes: %w", id, ErrForbidden)
		}
		return store.ShareGrant{}, &NotFoundError{Field: "id", Msg: fmt.Sprintf("没有授权 %d / no grant %d", id, id)}
	}
	out, err := s.st.RevokeShareGrant(ctx, id, p.TokenID, strings.TrimSpace(reason), s.now())
	if err != nil {
		return store.ShareGrant{}, stepErr(fmt.Sprintf("revoke grant %d", id), err)
	}
	s.notify(ctx, out.Dept, "sharing.revoked", fmt.Sprintf("grant/%d", out.ID), fmt.Sprintf("授权 %d（资源 %s）已撤销，理由：%s / grant %d on %s revoked: %s",
		out.ID, out.Resource, out.RevokeReason, out.ID, out.Resource, out.RevokeReason))
	return out, nil
}

// DemandFiling is a department's data need.
type DemandFiling struct {
	Title       string
	Description string
	Resource    string // optional: the resource it thinks holds the data
	Fields      []string
	Purpose     string
	LegalBasis  string
}

// FileDemand records p's demand (department tokens only).
func (s *Service) FileDemand(ctx context.Context, p auth.Principal, f DemandFiling) (store.ShareDemand, error) {
	if p.Role != auth.RoleDept || p.Dept == "" {
		return store.ShareDemand{}, fmt.Errorf("grant: file demand: only a department token files: %w", ErrForbidden)
	}
	if err := text("title", f.Title, maxTitle); err != nil {
		return store.ShareDemand{}, err
	}
	if len([]rune(f.Description)) > maxPurpose {
		return store.ShareDemand{}, text("description", f.Description, maxPurpose)
	}
	if err := text("purpose", f.Purpose, maxPurpose); err != nil {
		return store.ShareDemand{}, err
	}
	if err := text("legal_basis", f.LegalBasis, maxPurpose); err != nil {
		return store.ShareDemand{}, err
	}
	if f.Resource != "" {
		r, ok := s.cat.Resource(f.Resource)
		if !ok {
			return store.ShareDemand{}, inputErr("resource", "目录中没有资源 %q，可不填由数据主管部门匹配 / no resource %q in the catalog; leave it out and the bureau matches", f.Resource, f.Resource)
		}
		if err := checkFieldNames(r, "fields", f.Fields); err != nil {
			return store.ShareDemand{}, err
		}
	} else if len(f.Fields) > 200 {
		return store.ShareDemand{}, inputErr("fields", "at most 200 field names")
	}
	d, err := s.st.FileShareDemand(ctx, store.ShareDemand{Dept: p.Dept, Title: strings.TrimSpace(f.Title), Description: f.Description,
		Resource: f.Resource, Fields: f.Fields, Purpose: f.Purpose, LegalBasis: f.LegalBasis, FiledBy: p.TokenID, FiledAt: s.now()})
	if err != nil {
		return d, fmt.Errorf("grant: %w", err)
	}
	return d, nil
}

// Demands lists the demand list (visible to every token: the list is
// published among departments).
func (s *Service) Demands(ctx context.Context, f store.ShareDemandFilter) ([]store.ShareDemand, error) {
	out, err := s.st.ListShareDemands(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("grant: %w", err)
	}
	return out, nil
}

// MatchDemand records the bureau's match of demand id to a resource (its
// provider follows) or to a provider department.
func (s *Service) MatchDemand(ctx context.Context, p auth.Principal, id int64, resource, provider, note string) (store.ShareDemand, error) {
	if !p.IsAdmin() {
		return store.ShareDemand{}, fmt.Errorf("grant: match demand %d: only the bureau matches: %w", id, ErrForbidden)
	}
	if resource == "" && provider == "" {
		return store.ShareDemand{}, inputErr("resource", "须给出资源或提供部门 / give a resource or a provider")
	}
	if resource != "" {
		r, ok := s.cat.Resource(resource)
		if !ok {
			return store.ShareDemand{}, inputErr("resource", "目录中没有资源 %q / no resource %q in the catalog", resource, resource)
		}
		if provider != "" && provider != r.Provider {
			return store.ShareDemand{}, inputErr("provider", "资源 %s 的提供部门是 %s / resource %s is provided by %s", r.Code, r.Provider, r.Code, r.Provider)
		}
		provider = r.Provider
	} else if _, ok := s.cat.Department(provider); !ok {
		return store.ShareDemand{}, inputErr("provider", "%q 不是目录中的部门 / %q is not a department of the catalog", provider, provider)
	}
	if len([]rune(note)) > maxPurpose {
		return store.ShareDemand{}, text("note", note, maxPurpose)
	}
	d, err := s.st.MatchShareDemand(ctx, id, store.DemandMatch{Resource: resource, Provider: provider, Note: note, Actor: p.TokenID, At: s.now()})
	if err != nil {
		return d, stepErr(fmt.Sprintf("match demand %d", id), err)
	}
	return d, nil
}
