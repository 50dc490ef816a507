package objection

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tongban/tongban/calendar"
	"github.com/tongban/tongban/catalog"
	"github.com/tongban/tongban/hub/auth"
	"github.com/tongban/tongban/hub/store"
	"github.com/tongban/tongban/identifier"
)

const (
	calendarFile = "../../deploy/calendar/cn-public-holidays.yaml"
	deptPolice   = "112306000128140001" // provides the population register (authority of person fields)
	deptMarket   = "112306000128140287" // provides the legal-person register
	deptUser     = "112306000128140362" // a using department
)

// testCatalog declares person fields name and address (authority: the
// police's register) and legal_person field name (authority: market
// supervision).
func testCatalog() *catalog.Catalog {
	return &catalog.Catalog{
		Dir:         "test",
		Departments: []catalog.Department{{Code: deptPolice, Name: "公安局"}, {Code: deptMarket, Name: "市场监管局"}, {Code: deptUser, Name: "民政局"}},
		Resources: []catalog.Resource{
			{Code: "PS-POP-001", Name: "户籍人口", Provider: deptPolice},
			{Code: "MR-LP-001", Name: "企业登记", Provider: deptMarket},
		},
		Subjects: []catalog.SubjectSpec{
			{Type: catalog.SubjectPerson, Library: "population", Fields: []catalog.SubjectField{
				{Name: "name", Authority: catalog.SourceRef{Resource: "PS-POP-001", Field: "xm"}},
				{Name: "address", Authority: catalog.SourceRef{Resource: "PS-POP-001", Field: "zz"}},
			}},
			{Type: catalog.SubjectLegalPerson, Library: "legal_person", Fields: []catalog.SubjectField{
				{Name: "name", Authority: catalog.SourceRef{Resource: "MR-LP-001", Field: "mc"}},
			}},
		},
	}
}

func loadCalendar(t testing.TB) *calendar.Calendar {
	t.Helper()
	c, err := calendar.Load(calendarFile)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func citizenID(t testing.TB, seq int) string {
	t.Helper()
	id, err := identifier.FormatCitizenID("110101", time.Date(1990, 3, 7, 0, 0, 0, 0, time.UTC), seq)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// clock is a settable Now.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

type env struct {
	db  *store.DB
	svc *Service
	clk *clock
	log *bytes.Buffer
	reg *prometheus.Registry
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db, err := store.Open(context.Background(), store.Config{Driver: store.DriverSQLite, DSN: filepath.Join(t.TempDir(), "hub.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	e := &env{db: db, clk: &clock{}, log: &bytes.Buffer{}, reg: prometheus.NewRegistry()}
	e.svc, err = New(Config{Store: db, Calendar: loadCalendar(t), Catalog: testCatalog(), Registry: e.reg,
		Logger: slog.New(slog.NewTextHandler(e.log, nil)), Now: e.clk.now})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

var (
	admin  = auth.Principal{TokenID: "t-admin", Role: auth.RoleAdmin}
	police = auth.Principal{TokenID: "t-police", Dept: deptPolice, Role: auth.RoleDept}
	user   = auth.Principal{TokenID: "t-user", Dept: deptUser, Role: auth.RoleDept}
	market = auth.Principal{TokenID: "t-market", Dept: deptMarket, Role: auth.RoleDept}
)

// cst is a wall-clock time in Beijing.
func cst(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, Zone())
}

// The calendar file (deploy/calendar/cn-public-holidays.yaml), 2026:
//
//	春节 2026-02-15..02-23 off; Saturdays 02-14 and 02-28 are make-up working days.
//	中秋节 2026-09-25..09-27 off; 国庆节 2026-10-01..10-07 off;
//	Sunday 09-20 and Saturday 10-10 are make-up working days.
//
// The filing (or forwarding) day itself never counts.
func TestDeadlines(t *testing.T) {
	tests := []struct {
		name   string
		at     time.Time
		stage  string
		n      int
		want   string
		warned bool
	}{
		// Filed Fri 02-13: 1st working day Sat 02-14 (make-up), then 02-15..23
		// off, 2nd Tue 02-24. Without the make-up Saturday it would be 02-25.
		{"spring festival decide", cst(2026, 2, 13, 10, 0), StageDecide, 2, "2026-02-24", false},
		// 17:30 UTC on Thu 02-12 is 01:30 on Fri 02-13 in Beijing: same as above.
		{"date taken in Beijing", time.Date(2026, 2, 12, 17, 30, 0, 0, time.UTC), StageDecide, 2, "2026-02-24", false},
		// Filed Thu 02-12: Fri 02-13 (1), Sat 02-14 make-up (2).
		{"make-up saturday is the last day", cst(2026, 2, 12, 9, 0), StageDecide, 2, "2026-02-14", false},
		// Forwarded Tue 02-24: Wed 25 (1), Thu 26 (2), Fri 27 (3), Sat 28
		// make-up (4), Sun 03-01 off, Mon 03-02 (5).
		{"spring festival verify", cst(2026, 2, 24, 15, 0), StageVerify, 5, "2026-03-02", false},
		// Filed Fri 09-18: Sat 09-19 is a plain weekend, Sun 09-20 make-up (1), Mon 09-21 (2).
		{"make-up sunday", cst(2026, 9, 18, 16, 0), StageDecide, 2, "2026-09-21", false},
		// Filed Wed 09-30: 10-01..07 off, Thu 10-08 (1), Fri 10-09 (2).
		{"national day decide", cst(2026, 9, 30, 11, 0), StageDecide, 2, "2026-10-09", false},
		// Forwarded Fri 10-09: Sat 10-10 make-up (1), Sun off, Mon 12 (2) .. Thu 15 (5).
		{"national day verify", cst(2026, 10, 9, 11, 0), StageVerify, 5, "2026-10-15", false},
		// Forwarded Thu 09-24: 09-25..27 中秋 off, Mon 28 (1), Tue 29 (2), Wed 30 (3),
		// 10-01..07 off, Thu 10-08 (4), Fri 10-09 (5).
		{"mid-autumn then national day", cst(2026, 9, 24, 11, 0), StageVerify, 5, "2026-10-09", false},
		// Filed Thu 2026-12-31: 2027 is not in the file; weekends only: Fri
		// 2027-01-01 (1), Mon 01-04 (2), with a warning.
		{"year not covered", cst(2026, 12, 31, 11, 0), StageDecide, 2, "2027-01-04", true},
	}
	e := newEnv(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, warnings, err := e.svc.dueAfter(context.Background(), tt.stage, tt.at, tt.n)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want || (len(warnings) > 0) != tt.warned {
				t.Errorf("due = %s, warnings %q; want %s, warned %v", got, warnings, tt.want, tt.warned)
			}
		})
	}
}

func TestLifecycle(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	person := citizenID(t, 14)
	e.clk.t = cst(2026, 2, 13, 10, 0)
	filed, err := e.svc.File(ctx, user, Filing{SubjectType: "person", SubjectID: person, Field: "address", Reason: "  住址已变更 / moved  "})
	if err != nil {
		t.Fatal(err)
	}
	o := filed.Objection
	if o.FilerKind != store.FilerDept || o.FilerID != deptUser || o.FiledBy != "t-user" || o.Reason != "住址已变更 / moved" ||
		o.DecideDue != "2026-02-24" || !o.MarkedAt.Equal(e.clk.t) || len(filed.Warnings) != 0 {
		t.Fatalf("filed %+v, warnings %q", o, filed.Warnings)
	}
	marks, err := e.svc.Marks(ctx, "person", person)
	if err != nil || len(marks) != 1 || marks[0].Field != "address" || marks[0].Due != "2026-02-24" {
		t.Fatalf("marks = %+v, %v", marks, err)
	}

	// Wrong transitions and callers.
	if _, err := e.svc.Verify(ctx, police, o.ID, store.ResultUpheld, ""); !errors.Is(err, ErrWrongStage) {
		t.Errorf("verify before forwarding: %v", err)
	}
	if _, err := e.svc.Forward(ctx, user, o.ID, "", ""); !errors.Is(err, ErrForbidden) {
		t.Errorf("forward by a department: %v", err)
	}
	if _, err := e.svc.Forward(ctx, admin, 999, "", ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("forward unknown: %v", err)
	}

	// Forward on Tue 02-24 to the default: the provider of the address's
	// authoritative resource, the police.
	e.clk.t = cst(2026, 2, 24, 15, 0)
	fw, err := e.svc.Forward(ctx, admin, o.ID, "", "请核实住址")
	if err != nil {
		t.Fatal(err)
	}
	if fw.Objection.ForwardedTo != deptPolice || fw.Objection.VerifyDue != "2026-03-02" || fw.Objection.Status != store.ObjectionForwarded {
		t.Fatalf("forwarded %+v", fw.Objection)
	}
	if _, err := e.svc.Decide(ctx, admin, o.ID, store.ResultUpheld, ""); !errors.Is(err, ErrWrongStage) {
		t.Errorf("decide after forwarding: %v", err)
	}
	if _, err := e.svc.Verify(ctx, market, o.ID, store.ResultUpheld, ""); !errors.Is(err, ErrForbidden) {
		t.Errorf("verify by another department: %v", err)
	}
	var ie *InputError
	if _, err := e.svc.Verify(ctx, police, o.ID, store.ResultRejected, ""); !errors.As(err, &ie) || ie.Field != "note" {
		t.Errorf("rejection without a reason: %v", err)
	}
	e.clk.t = cst(2026, 2, 27, 9, 0)
	vr, err := e.svc.Verify(ctx, police, o.ID, store.ResultUpheld, "住址已更正")
	if err != nil {
		t.Fatal(err)
	}
	if vr.Objection.Status != store.ObjectionClosed || vr.Objection.Result != store.ResultUpheld || !vr.Objection.NotifiedAt.Equal(e.clk.t) {
		t.Fatalf("verified %+v", vr.Objection)
	}
	if _, err := e.svc.Verify(ctx, police, o.ID, store.ResultUpheld, ""); !errors.Is(err, ErrWrongStage) {
		t.Errorf("verify twice: %v", err)
	}
	marks, err = e.svc.Marks(ctx, "person", person)
	if err != nil || len(marks) != 0 {
		t.Errorf("marks after closing = %+v, %v", marks, err)
	}

	d, err := e.svc.Get(ctx, police, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	var evs []string
	for _, ev := range d.Events {
		evs = append(evs, ev.Event+" "+ev.Actor)
	}
	if strings.Join(evs, ", ") != "filed dept:"+deptUser+", forwarded admin:t-admin, verified dept:"+deptPolice || d.Stage != "" || d.Overdue {
		t.Errorf("detail: events %v, stage %q, overdue %v", evs, d.Stage, d.Overdue)
	}
	if _, err := e.svc.Get(ctx, market, o.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("get by an uninvolved department: %v", err)
	}

	// Who was told what.
	for recipient, kinds := range map[string][]string{
		BureauRecipient: {"objection.filed", "objection.verified"},
		deptPolice:      {"objection.forwarded"},
		deptUser:        {"objection.result"},
	} {
		ns, err := e.db.ListNotifications(ctx, recipient, 0, 10, false)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, n := range ns {
			got = append(got, n.Kind)
			if n.Ref != "objection/1" {
				t.Errorf("%s: ref %q", recipient, n.Ref)
			}
		}
		if strings.Join(got, ",") != strings.Join(kinds, ",") {
			t.Errorf("%s notified %v, want %v", recipient, got, kinds)
		}
	}

	// A data subject at the service window; the bureau decides at once.
	e.clk.t = cst(2026, 3, 2, 10, 0)
	s, err := e.svc.File(ctx, admin, Filing{SubjectType: "person", SubjectID: person, Field: "name", Reason: "姓名错字",
		Filer: &Filer{Kind: "subject", ID: person}})
	if err != nil {
		t.Fatal(err)
	}
	if s.Objection.FilerKind != store.FilerSubject || s.Objection.FilerID != person || s.Objection.DecideDue != "2026-03-04" {
		t.Fatalf("subject filing %+v", s.Objection)
	}
	if _, err := e.svc.Decide(ctx, admin, s.Objection.ID, store.ResultRejected, "与户籍登记一致 / matches the register"); err != nil {
		t.Fatal(err)
	}
	ns, err := e.db.ListNotifications(ctx, "subject:"+person, 0, 10, false)
	if err != nil || len(ns) != 1 || ns[0].Kind != "objection.result" || !strings.Contains(ns[0].Message, "与户籍登记一致") {
		t.Errorf("subject notifications = %+v, %v", ns, err)
	}
	if got := metric(t, e.reg, "tongban_objections_decided_total", "stage", StageVerify); got != 1 {
		t.Errorf("decided{verify,upheld} = %v", got)
	}
	if got := metric(t, e.reg, "tongban_objections_decided_total", "result", store.ResultRejected); got != 1 {
		t.Errorf("decided{decide,rejected} = %v", got)
	}
}

func TestFileRoles(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.clk.t = cst(2026, 3, 2, 10, 0)
	person := citizenID(t, 14)
	ok := Filing{SubjectType: "person", SubjectID: person, Field: "name", Reason: "x"}
	withFiler := ok
	withFiler.Filer = &Filer{Kind: "subject", ID: person}
	other := ok
	other.Filer = &Filer{Kind: "subject", ID: citizenID(t, 16)}
	tests := []struct {
		name  string
		p     auth.Principal
		f     Filing
		field string
	}{
		{"admin without filer", admin, ok, "filer"},
		{"dept with filer", user, withFiler, "filer"},
		{"subject objects to another's data", admin, other, "filer.id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.svc.File(ctx, tt.p, tt.f)
			var ie *InputError
			if !errors.As(err, &ie) || ie.Field != tt.field {
				t.Errorf("err = %v, want an InputError on %s", err, tt.field)
			}
		})
	}
}

func TestYearNotCoveredIsFiledWithWarning(t *testing.T) {
	e := newEnv(t)
	e.clk.t = cst(2026, 12, 31, 11, 0)
	r, err := e.svc.File(context.Background(), user, Filing{SubjectType: "legal_person",
		SubjectID: identifier.GenerateUSCC(rand.New(rand.NewPCG(1, 2)), "110101"), Field: "name", Reason: "名称有误"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Objection.ID == 0 || r.Objection.DecideDue != "2027-01-04" || len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "2027") {
		t.Fatalf("result %+v", r)
	}
	if !strings.Contains(e.log.String(), "level=WARN") || !strings.Contains(e.log.String(), "holiday notice") {
		t.Errorf("no warning logged: %s", e.log.String())
	}
}

func TestOverdue(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	person := citizenID(t, 14)
	file := func(at time.Time, field string) int64 {
		t.Helper()
		e.clk.t = at
		r, err := e.svc.File(ctx, user, Filing{SubjectType: "person", SubjectID: person, Field: field, Reason: "r"})
		if err != nil {
			t.Fatal(err)
		}
		return r.Objection.ID
	}
	a := file(cst(2026, 2, 13, 10, 0), "name")   // decide due 02-24
	b := file(cst(2026, 2, 12, 9, 0), "address") // decide due 02-14
	c := file(cst(2026, 2, 24, 9, 0), "address") // decide due 02-26
	e.clk.t = cst(2026, 2, 24, 10, 0)
	if _, err := e.svc.Forward(ctx, admin, c, "", ""); err != nil { // verify due 03-02
		t.Fatal(err)
	}
	tests := []struct {
		now    time.Time
		want   []int64
		decide float64
		verify float64
	}{
		{cst(2026, 2, 14, 23, 59), nil, 0, 0},
		{cst(2026, 2, 15, 0, 0), []int64{b}, 1, 0},
		// The last minute of 02-24 in Beijing is still in time for a.
		{time.Date(2026, 2, 24, 15, 59, 0, 0, time.UTC), []int64{b}, 1, 0},
		{time.Date(2026, 2, 24, 16, 0, 0, 0, time.UTC), []int64{a, b}, 2, 0},
		{cst(2026, 3, 3, 8, 0), []int64{a, b, c}, 2, 1},
	}
	for _, tt := range tests {
		t.Run(tt.now.Format(time.RFC3339), func(t *testing.T) {
			e.clk.t = tt.now
			got, err := e.svc.List(ctx, admin, ListQuery{Overdue: true, Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, o := range got {
				ids = append(ids, o.ID)
				d, err := e.svc.Get(ctx, admin, o.ID)
				if err != nil || !d.Overdue {
					t.Errorf("Get(%d).Overdue = false, %v", o.ID, err)
				}
			}
			if len(ids) != len(tt.want) {
				t.Fatalf("overdue = %v, want %v", ids, tt.want)
			}
			for i := range ids {
				if ids[i] != tt.want[i] {
					t.Fatalf("overdue = %v, want %v", ids, tt.want)
				}
			}
			if got := metric(t, e.reg, "tongban_objections_overdue", "stage", StageDecide); got != tt.decide {
				t.Errorf("overdue{decide} = %v, want %v", got, tt.decide)
			}
			if got := metric(t, e.reg, "tongban_objections_overdue", "stage", StageVerify); got != tt.verify {
				t.Errorf("overdue{verify} = %v, want %v", got, tt.verify)
			}
		})
	}
	if p, f := metric(t, e.reg, "tongban_objections_open", "status", store.ObjectionPending), metric(t, e.reg, "tongban_objections_open", "status", store.ObjectionForwarded); p != 2 || f != 1 {
		t.Errorf("open pending %v forwarded %v, want 2 and 1", p, f)
	}
	// A department sees what it filed or was forwarded.
	got, err := e.svc.List(ctx, police, ListQuery{Limit: 10})
	if err != nil || len(got) != 1 || got[0].ID != c {
		t.Errorf("police list = %+v, %v", got, err)
	}
}

// metric gathers reg and returns the value of the gauge or counter name
// whose label has value; -1 when absent.
func metric(t testing.TB, reg *prometheus.Registry, name, label, value string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == label && lp.GetValue() == value {
					if m.GetGauge() != nil {
						return m.GetGauge().GetValue()
					}
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return -1
}
