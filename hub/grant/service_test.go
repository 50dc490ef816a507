package grant

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tongban/tongban/hub/auth"
	"github.com/tongban/tongban/hub/store"
)

var (
	admin  = auth.Principal{TokenID: "tok-admin", Role: auth.RoleAdmin}
	prov   = auth.Principal{TokenID: "tok-p1", Role: auth.RoleDept, Dept: P1}
	user1  = auth.Principal{TokenID: "tok-d1", Role: auth.RoleDept, Dept: D1}
	user2  = auth.Principal{TokenID: "tok-d2", Role: auth.RoleDept, Dept: D2}
	filing = Filing{Resource: "CON", Fields: []string{"name"}, Purpose: "低保审核", LegalBasis: "《社会救助暂行办法》第十一条", DurationDays: 90}
)

// TestApplicationDeadlineAcrossHoliday: filed on Wed 2026-09-30, the ten
// working days skip the National Day holiday (10-01..10-07) and count the
// make-up Saturday 10-10: due Tue 2026-10-20 (without the calendar it
// would be 10-14). Overdue from 10-21 on, in the list and the metric.
func TestApplicationDeadlineAcrossHoliday(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, time.Date(2026, 9, 30, 16, 0, 0, 0, Zone()))
	res, err := e.svc.File(ctx, user1, filing)
	if err != nil {
		t.Fatal(err)
	}
	a := res.Application
	if a.Due != "2026-10-20" || a.Status != store.ApplicationPending || a.Provider != P1 || a.Dept != D1 || len(res.Warnings) != 0 {
		t.Fatalf("filed %+v %v", a, res.Warnings)
	}
	for _, c := range []struct {
		day     time.Time
		overdue bool
	}{
		{time.Date(2026, 10, 20, 23, 59, 0, 0, Zone()), false},
		{time.Date(2026, 10, 21, 0, 1, 0, 0, Zone()), true},
	} {
		e.now = c.day
		list, err := e.svc.Applications(ctx, admin, ApplicationQuery{Overdue: true, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if (len(list) == 1) != c.overdue || e.svc.Overdue(a) != c.overdue {
			t.Errorf("%s: overdue list %d, Overdue %v; want %v", c.day, len(list), e.svc.Overdue(a), c.overdue)
		}
		want := 0.0
		if c.overdue {
			want = 1
		}
		if got := e.metric(t, "tongban_sharing_applications_overdue", ""); got != want {
			t.Errorf("%s: overdue metric %v, want %v", c.day, got, want)
		}
	}
	// Answered late is still answered; then it is not overdue.
	if _, err := e.svc.Answer(ctx, prov, a.ID, true, ""); err != nil {
		t.Fatal(err)
	}
	if got := e.metric(t, "tongban_sharing_applications_overdue", ""); got != 0 {
		t.Errorf("after the answer: overdue metric %v", got)
	}
	// A year the calendar does not cover still gets a date, with a warning.
	e.now = time.Date(2027, 12, 20, 10, 0, 0, 0, Zone())
	res, err = e.svc.File(ctx, user2, filing)
	if err != nil || len(res.Warnings) == 0 || res.Application.Due == "" {
		t.Errorf("uncovered year: %+v %v", res, err)
	}
}

func TestApplicationWorkflow(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 10, 10, 0, 0, 0, Zone())
	e := newEnv(t, now)
	decide := func(dept string) Decision {
		t.Helper()
		d, err := e.svc.Decide(ctx, Request{Dept: dept, Resource: "CON", Purpose: "p", ItemCode: "i"})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	res, err := e.svc.File(ctx, user1, filing)
	if err != nil {
		t.Fatal(err)
	}
	id := res.Application.ID
	if decide(D1).Allowed {
		t.Fatal("allowed before the answer")
	}
	notes := func(dept string) []store.Notification {
		t.Helper()
		ns, err := e.db.ListNotifications(ctx, dept, 0, 10, false)
		if err != nil {
			t.Fatal(err)
		}
		return ns
	}
	if ns := notes(P1); len(ns) != 1 || ns[0].Kind != "sharing.application" || !strings.Contains(ns[0].Message, res.Application.Due) {
		t.Errorf("provider notified: %+v", ns)
	}
	// Only the provider answers; a refusal needs a reason.
	if _, err := e.svc.Answer(ctx, user2, id, true, ""); !errors.Is(err, ErrForbidden) {
		t.Errorf("other dept answers: %v", err)
	}
	if _, err := e.svc.Answer(ctx, admin, id, true, ""); !errors.Is(err, ErrForbidden) {
		t.Errorf("admin answers a share application: %v", err)
	}
	var ie *InputError
	if _, err := e.svc.Answer(ctx, prov, id, false, "  "); !errors.As(err, &ie) || ie.Field != "reason" {
		t.Errorf("refusal without reason: %v", err)
	}
	r, err := e.svc.Answer(ctx, prov, id, false, "超出履职范围")
	if err != nil || r.Application.Status != store.ApplicationRefused || r.Application.AnswerNote != "超出履职范围" {
		t.Fatalf("refuse: %+v %v", r, err)
	}
	if _, err := e.svc.Answer(ctx, prov, id, true, ""); !errors.Is(err, ErrWrongState) {
		t.Errorf("second answer: %v", err)
	}
	if ns := notes(D1); len(ns) != 1 || ns[0].Kind != "sharing.answer" || !strings.Contains(ns[0].Message, "超出履职范围") {
		t.Errorf("applicant notified: %+v", ns)
	}
	// The bureau overrides: approved, the grant expires after DurationDays.
	if _, err := e.svc.Review(ctx, prov, id, true, "x"); !errors.Is(err, ErrForbidden) {
		t.Errorf("dept reviews: %v", err)
	}
	if _, err := e.svc.Review(ctx, admin, id, true, ""); !errors.As(err, &ie) || ie.Field != "note" {
		t.Errorf("review without note: %v", err)
	}
	r, err = e.svc.Review(ctx, admin, id, true, "属履职必需")
	if err != nil || r.Application.Status != store.ApplicationApproved || r.Application.GrantID == 0 {
		t.Fatalf("review: %+v %v", r, err)
	}
	d := decide(D1)
	if !d.Allowed || d.GrantID != r.Application.GrantID || !slices.Equal(d.Fields, []string{"name"}) {
		t.Fatalf("after approval: %+v", d)
	}
	e.now = now.AddDate(0, 0, 90)
	if d := decide(D1); d.Allowed || d.Code != CodeGrantExpired {
		t.Errorf("after 90 days: %+v", d)
	}
	e.now = now

	// Visibility: the applicant and the provider see it, others do not.
	if _, err := e.svc.Application(ctx, user2, id); !errors.Is(err, ErrNotFound) {
		t.Errorf("other dept sees it: %v", err)
	}
	for _, p := range []auth.Principal{admin, prov, user1} {
		if _, err := e.svc.Application(ctx, p, id); err != nil {
			t.Errorf("%s: %v", p.Dept, err)
		}
	}
	if l, _ := e.svc.Applications(ctx, user2, ApplicationQuery{Limit: 10}); len(l) != 0 {
		t.Errorf("D2 lists %d", len(l))
	}
	if l, _ := e.svc.Applications(ctx, prov, ApplicationQuery{Limit: 10}); len(l) != 1 {
		t.Errorf("provider lists %d", len(l))
	}

	// Revocation: the grantee may not, the provider may, once.
	gid := r.Application.GrantID
	if _, err := e.svc.Revoke(ctx, user1, gid, "x"); !errors.Is(err, ErrForbidden) {
		t.Errorf("grantee revokes: %v", err)
	}
	if _, err := e.svc.Revoke(ctx, user2, gid, "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("stranger revokes: %v", err)
	}
	if _, err := e.svc.Revoke(ctx, prov, gid, ""); !errors.As(err, &ie) {
		t.Errorf("revoke without reason: %v", err)
	}
	if _, err := e.svc.Revoke(ctx, prov, gid, "数据用途变更"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Revoke(ctx, admin, gid, "again"); !errors.Is(err, ErrWrongState) {
		t.Errorf("second revoke: %v", err)
	}
	if d := decide(D1); d.Allowed || d.Code != CodeGrantRevoked || !strings.Contains(d.Reason, "数据用途变更") {
		t.Errorf("after revocation: %+v", d)
	}
	if _, err := e.svc.Revoke(ctx, admin, 999, "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown grant: %v", err)
	}
}

func TestFileRefusals(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, time.Date(2026, 3, 10, 10, 0, 0, 0, Zone()))
	cases := []struct {
		name   string
		p      auth.Principal
		edit   func(*Filing)
		field  string // InputError field
		target error  // or this error
	}{
		{"admin files", admin, func(*Filing) {}, "", ErrForbidden},
		{"unknown resource", user1, func(f *Filing) { f.Resource = "NOPE" }, "", ErrNotFound},
		{"none", user1, func(f *Filing) { f.Resource, f.Fields = "NON", nil }, "", ErrDenied},
		{"negative", user1, func(f *Filing) { f.Resource, f.Fields = "NEG", nil }, "", ErrDenied},
		{"negative field", user1, func(f *Filing) { f.Resource, f.Fields = "PART", []string{"secret"} }, "", ErrDenied},
		{"own resource", prov, func(*Filing) {}, "resource", nil},
		{"no purpose", user1, func(f *Filing) { f.Purpose = "" }, "purpose", nil},
		{"no legal basis", user1, func(f *Filing) { f.LegalBasis = "" }, "legal_basis", nil},
		{"bad kind", user1, func(f *Filing) { f.Kind = "copy" }, "kind", nil},
		{"bad duration", user1, func(f *Filing) { f.DurationDays = MaxDurationDays + 1 }, "duration_days", nil},
		{"unknown field", user1, func(f *Filing) { f.Fields = []string{"nope"} }, "fields[0]", nil},
		{"unknown scenario", user1, func(f *Filing) { f.Scenario = "SC-X" }, "scenario", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := filing
			c.edit(&f)
			_, err := e.svc.File(ctx, c.p, f)
			var ie *InputError
			if c.target != nil {
				if !errors.Is(err, c.target) {
					t.Errorf("err = %v, want %v", err, c.target)
				}
				return
			}
			if !errors.As(err, &ie) || ie.Field != c.field {
				t.Errorf("err = %v, want field %s", err, c.field)
			}
		})
	}
	// Empty fields: every field but the negative list's.
	res, err := e.svc.File(ctx, user1, Filing{Resource: "PART", Purpose: "p", LegalBasis: "b"})
	if err != nil || !slices.Equal(res.Application.Fields, []string{"id"}) || res.Application.DurationDays != DefaultDurationDays {
		t.Errorf("all fields: %+v %v", res.Application, err)
	}
}

func TestSubscriptionApprovedByBureau(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, time.Date(2026, 3, 10, 10, 0, 0, 0, Zone()))
	res, err := e.svc.File(ctx, user1, Filing{Kind: store.GrantSubscription, Resource: "UNC", Purpose: "同步到业务系统", LegalBasis: "b"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Answer(ctx, prov, res.Application.ID, true, ""); !errors.Is(err, ErrForbidden) {
		t.Errorf("provider approves a subscription: %v", err)
	}
	if d, _ := e.svc.DecideSubscription(ctx, D1, "UNC"); d.Allowed {
		t.Fatal("subscribed before approval")
	}
	r, err := e.svc.Answer(ctx, admin, res.Application.ID, true, "同意")
	if err != nil {
		t.Fatal(err)
	}
	g, err := e.db.GetShareGrant(ctx, r.Application.GrantID)
	if err != nil || g.Kind != store.GrantSubscription {
		t.Fatalf("grant %+v %v", g, err)
	}
	if d, _ := e.svc.DecideSubscription(ctx, D1, "UNC"); !d.Allowed || d.GrantID != g.ID {
		t.Errorf("after approval: %+v", d)
	}
	// A subscription is not a share grant: the share call still masks.
	if d, _ := e.svc.Decide(ctx, Request{Dept: D1, Resource: "UNC", Purpose: "p", ItemCode: "i"}); len(d.Masked) != 2 {
		t.Errorf("share call: %+v", d)
	}
}

func TestDemandsAndLists(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, time.Date(2026, 3, 10, 10, 0, 0, 0, Zone()))
	if _, err := e.svc.FileDemand(ctx, admin, DemandFiling{Title: "t", Purpose: "p", LegalBasis: "b"}); !errors.Is(err, ErrForbidden) {
		t.Errorf("admin files demand: %v", err)
	}
	var ie *InputError
	if _, err := e.svc.FileDemand(ctx, user1, DemandFiling{Purpose: "p", LegalBasis: "b"}); !errors.As(err, &ie) || ie.Field != "title" {
		t.Errorf("no title: %v", err)
	}
	if _, err := e.svc.FileDemand(ctx, user1, DemandFiling{Title: "t", Purpose: "p", LegalBasis: "b", Resource: "NOPE"}); !errors.As(err, &ie) || ie.Field != "resource" {
		t.Errorf("unknown resource: %v", err)
	}
	d, err := e.svc.FileDemand(ctx, user1, DemandFiling{Title: "婚姻状况", Purpose: "公租房", LegalBasis: "住房保障"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.MatchDemand(ctx, user1, d.ID, "CON", "", ""); !errors.Is(err, ErrForbidden) {
		t.Errorf("dept matches: %v", err)
	}
	if _, err := e.svc.MatchDemand(ctx, admin, d.ID, "CON", D2, ""); !errors.As(err, &ie) || ie.Field != "provider" {
		t.Errorf("wrong provider: %v", err)
	}
	m, err := e.svc.MatchDemand(ctx, admin, d.ID, "CON", "", "婚姻登记")
	if err != nil || m.MatchedProvider != P1 || m.Status != store.DemandMatched {
		t.Fatalf("match: %+v %v", m, err)
	}
	if _, err := e.svc.MatchDemand(ctx, admin, d.ID, "", P1, ""); !errors.Is(err, ErrWrongState) {
		t.Errorf("second match: %v", err)
	}
	if _, err := e.svc.MatchDemand(ctx, admin, 99, "", P1, ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown demand: %v", err)
	}
	resp := e.svc.Responsibilities()
	if len(resp) != 6 || resp[0].Source != "catalog" || resp[0].Dept != P1 || resp[5].Resource != "NEW-1" {
		t.Errorf("responsibilities = %+v", resp)
	}
	if len(e.svc.NegativeList()) != 2 || len(e.svc.Scenarios()) != 2 {
		t.Error("lists")
	}
}
