package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tongban/tongban/calendar"
	"github.com/tongban/tongban/catalog"
	"github.com/tongban/tongban/hub/auth"
	"github.com/tongban/tongban/hub/objection"
	"github.com/tongban/tongban/hub/store"
	"github.com/tongban/tongban/identifier"
)

// objFixture is the API with objections: the test catalog plus golden-record
// fields (legal_person name: authority resA of department A), the real
// working-day calendar and a clock at Fri 2026-02-13 10:00 in Beijing.
type objFixture struct {
	*fixture
	person string
	uscc   string
	now    time.Time
}

func newObjFixture(t *testing.T) *objFixture {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{Driver: store.DriverSQLite, DSN: filepath.Join(t.TempDir(), "hub.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	cat := testCatalog(t)
	cat.Subjects = []catalog.SubjectSpec{
		{Type: catalog.SubjectPerson, Library: "population", Fields: []catalog.SubjectField{
			{Name: "name", Authority: catalog.SourceRef{Resource: resB, Field: "name"}},
		}},
		{Type: catalog.SubjectLegalPerson, Library: "legal_person", Fields: []catalog.SubjectField{
			{Name: "name", Authority: catalog.SourceRef{Resource: resA, Field: "name"}},
			{Name: "capital", Authority: catalog.SourceRef{Resource: resA, Field: "capital"}},
		}},
	}
	cal, err := calendar.Load("../../deploy/calendar/cn-public-holidays.yaml")
	if err != nil {
		t.Fatal(err)
	}
	of := &objFixture{fixture: &fixture{t: t, db: db}, now: time.Date(2026, 2, 13, 10, 0, 0, 0, objection.Zone())}
	svc, err := objection.New(objection.Config{Store: db, Calendar: cal, Catalog: cat,
		Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return of.now }})
	if err != nil {
		t.Fatal(err)
	}
	mustToken := func(name, dept, role string) string {
		tok, err := auth.Create(ctx, db, name, dept, role)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	of.admin = mustToken("ops", "", auth.RoleAdmin)
	of.a = mustToken("a", deptA, auth.RoleDept)
	of.b = mustToken("b", deptB, auth.RoleDept)
	h, err := New(Config{Store: db, Catalog: cat, Objections: svc, Registry: prometheus.NewRegistry(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	of.srv = httptest.NewServer(h)
	t.Cleanup(of.srv.Close)
	of.person, err = identifier.FormatCitizenID("110101", time.Date(1990, 3, 7, 0, 0, 0, 0, time.UTC), 14)
	if err != nil {
		t.Fatal(err)
	}
	of.uscc, err = identifier.FormatUSCC('9', '1', "110101", "MA01AB2C")
	if err != nil {
		t.Fatal(err)
	}
	return of
}

// file files an objection and returns its id.
func (f *objFixture) file(token, body string) int64 {
	f.t.Helper()
	status, out, _ := f.call("POST", "/api/v1/objections", token, body)
	if status != 200 {
		f.t.Fatalf("file: %d %v", status, out)
	}
	return int64(out["objection"].(map[string]any)["id"].(float64))
}

func TestObjectionsFlow(t *testing.T) {
	f := newObjFixture(t)
	// Department B (a user of A's data) objects to a company's capital.
	id := f.file(f.b, `{"subject_type":"legal_person","subject_id":"`+f.uscc+`","field":"capital","reason":"注册资本已变更 / capital changed"}`)
	status, out, _ := f.call("GET", fmt.Sprintf("/api/v1/objections/%d", id), f.b, "")
	if status != 200 {
		t.Fatalf("get: %d %v", status, out)
	}
	o := out["objection"].(map[string]any)
	// Filed Fri 2026-02-13: Sat 02-14 is a make-up working day (1), 02-15..23
	// Spring Festival, Tue 02-24 (2).
	if o["status"] != "pending" || o["stage"] != "decide" || o["decide_due"] != "2026-02-24" || o["due"] != "2026-02-24" ||
		o["filer"].(map[string]any)["id"] != deptB || o["overdue"] != false {
		t.Fatalf("filed objection %v", o)
	}
	if evs := out["events"].([]any); len(evs) != 1 || evs[0].(map[string]any)["event"] != "filed" {
		t.Fatalf("events %v", evs)
	}
	// Department A is not involved yet.
	if status, out, _ := f.call("GET", fmt.Sprintf("/api/v1/objections/%d", id), f.a, ""); status != 404 || out["field"] != "id" {
		t.Fatalf("get by uninvolved dept: %d %v", status, out)
	}

	// Overdue after 02-24 (Beijing).
	f.now = time.Date(2026, 2, 25, 9, 0, 0, 0, objection.Zone())
	status, out, _ = f.call("GET", "/api/v1/objections?overdue=true", f.admin, "")
	if status != 200 || len(out["objections"].([]any)) != 1 {
		t.Fatalf("overdue list: %d %v", status, out)
	}

	// Forward to the default department: the provider of resA, department A.
	status, out, _ = f.call("POST", fmt.Sprintf("/api/v1/objections/%d/forward", id), f.admin, `{"note":"请核实"}`)
	if status != 200 {
		t.Fatalf("forward: %d %v", status, out)
	}
	o = out["objection"].(map[string]any)
	// Forwarded Wed 02-25: Thu 26 (1), Fri 27 (2), Sat 28 make-up (3), Mon 03-02 (4), Tue 03-03 (5).
	if o["forwarded_to"] != deptA || o["verify_due"] != "2026-03-03" || o["stage"] != "verify" || o["overdue"] != false {
		t.Fatalf("forwarded %v", o)
	}
	status, out, _ = f.call("GET", "/api/v1/objections", f.a, "")
	if status != 200 || len(out["objections"].([]any)) != 1 {
		t.Fatalf("dept A list: %d %v", status, out)
	}
	status, out, _ = f.call("POST", fmt.Sprintf("/api/v1/objections/%d/verify", id), f.a, `{"result":"upheld","note":"已更正"}`)
	if status != 200 {
		t.Fatalf("verify: %d %v", status, out)
	}
	if o = out["objection"].(map[string]any); o["status"] != "closed" || o["result"] != "upheld" || o["notified_at"] == nil {
		t.Fatalf("verified %v", o)
	}
	for recipient, kind := range map[string]string{deptB: "objection.result", deptA: "objection.forwarded"} {
		ns, err := f.db.ListNotifications(context.Background(), recipient, 0, 10, false)
		if err != nil || len(ns) != 1 || ns[0].Kind != kind {
			t.Errorf("%s notifications %+v, %v; want one %s", recipient, ns, err, kind)
		}
	}
}

func TestObjectionsErrors(t *testing.T) {
	f := newObjFixture(t)
	lp := func(extra string) string {
		return `{"subject_type":"legal_person","subject_id":"` + f.uscc + `","field":"name","reason":"名称有误"` + extra + `}`
	}
	pending := f.file(f.b, lp(""))
	forwarded := f.file(f.admin, `{"subject_type":"person","subject_id":"`+f.person+`","field":"name","reason":"姓名错字","filer":{"kind":"subject","id":"`+f.person+`"}}`)
	if status, out, _ := f.call("POST", fmt.Sprintf("/api/v1/objections/%d/forward", forwarded), f.admin, `{"dept":"`+deptB+`","note":""}`); status != 200 {
		t.Fatalf("forward: %d %v", status, out)
	}
	closed := f.file(f.a, lp(""))
	if status, out, _ := f.call("POST", fmt.Sprintf("/api/v1/objections/%d/decide", closed), f.admin, `{"result":"rejected","note":"与登记一致"}`); status != 200 {
		t.Fatalf("decide: %d %v", status, out)
	}
	p := func(id int64, step string) string { return fmt.Sprintf("/api/v1/objections/%d/%s", id, step) }
	cases := []struct {
		name, method, path, token, body string
		status                          int
		field                           string
	}{
		{"no subject type", "POST", "/api/v1/objections", f.a, `{"subject_id":"` + f.uscc + `","field":"name","reason":"x"}`, 400, "subject_type"},
		{"bad subject type", "POST", "/api/v1/objections", f.a, `{"subject_type":"company","subject_id":"` + f.uscc + `","field":"name","reason":"x"}`, 400, "subject_type"},
		{"bad uscc", "POST", "/api/v1/objections", f.a, `{"subject_type":"legal_person","subject_id":"91110101MA01AB2C3X","field":"name","reason":"x"}`, 400, "subject_id"},
		{"citizen id as uscc", "POST", "/api/v1/objections", f.a, `{"subject_type":"legal_person","subject_id":"` + f.person + `","field":"name","reason":"x"}`, 400, "subject_id"},
		{"unknown field", "POST", "/api/v1/objections", f.a, `{"subject_type":"legal_person","subject_id":"` + f.uscc + `","field":"colour","reason":"x"}`, 400, "field"},
		{"empty reason", "POST", "/api/v1/objections", f.a, `{"subject_type":"legal_person","subject_id":"` + f.uscc + `","field":"name","reason":"  "}`, 400, "reason"},
		{"unknown key", "POST", "/api/v1/objections", f.a, lp(`,"urgent":true`), 400, "urgent"},
		{"reason not a string", "POST", "/api/v1/objections", f.a, `{"subject_type":"legal_person","subject_id":"` + f.uscc + `","field":"name","reason":5}`, 400, "reason"},
		{"admin without filer", "POST", "/api/v1/objections", f.admin, lp(""), 400, "filer"},
		{"dept with filer", "POST", "/api/v1/objections", f.a, lp(`,"filer":{"kind":"subject","id":"` + f.uscc + `"}`), 400, "filer"},
		{"filer kind dept", "POST", "/api/v1/objections", f.admin, lp(`,"filer":{"kind":"dept","id":"` + deptA + `"}`), 400, "filer.kind"},
		{"filer not the subject", "POST", "/api/v1/objections", f.admin, `{"subject_type":"person","subject_id":"` + f.person + `","field":"name","reason":"x","filer":{"kind":"subject","id":"11010519491231002X"}}`, 400, "filer.id"},
		{"no token", "POST", "/api/v1/objections", "", lp(""), 401, "Authorization"},
		{"list bad status", "GET", "/api/v1/objections?status=open", f.admin, "", 400, "status"},
		{"list bad overdue", "GET", "/api/v1/objections?overdue=soon", f.admin, "", 400, "overdue"},
		{"list bad subject", "GET", "/api/v1/objections?subject=" + f.uscc, f.admin, "", 400, "subject"},
		{"list bad after", "GET", "/api/v1/objections?after=-1", f.admin, "", 400, "after"},
		{"list bad limit", "GET", "/api/v1/objections?limit=0", f.admin, "", 400, "limit"},
		{"list unknown param", "GET", "/api/v1/objections?dept=x", f.admin, "", 400, "dept"},
		{"get bad id", "GET", "/api/v1/objections/abc", f.admin, "", 400, "id"},
		{"get unknown", "GET", "/api/v1/objections/999", f.admin, "", 404, "id"},
		{"decide by dept", "POST", p(pending, "decide"), f.a, `{"result":"upheld"}`, 403, "Authorization"},
		{"decide bad result", "POST", p(pending, "decide"), f.admin, `{"result":"maybe"}`, 400, "result"},
		{"reject without reason", "POST", p(pending, "decide"), f.admin, `{"result":"rejected"}`, 400, "note"},
		{"decide unknown", "POST", p(999, "decide"), f.admin, `{"result":"upheld"}`, 404, "id"},
		{"decide forwarded", "POST", p(forwarded, "decide"), f.admin, `{"result":"upheld"}`, 409, "status"},
		{"decide closed", "POST", p(closed, "decide"), f.admin, `{"result":"upheld"}`, 409, "status"},
		{"forward closed", "POST", p(closed, "forward"), f.admin, `{}`, 409, "status"},
		{"forward twice", "POST", p(forwarded, "forward"), f.admin, `{}`, 409, "status"},
		{"forward unknown dept", "POST", p(pending, "forward"), f.admin, `{"dept":"NOPE"}`, 400, "dept"},
		{"forward by dept", "POST", p(pending, "forward"), f.b, `{}`, 403, "Authorization"},
		{"verify by admin", "POST", p(forwarded, "verify"), f.admin, `{"result":"upheld"}`, 403, "Authorization"},
		{"verify by other dept", "POST", p(forwarded, "verify"), f.a, `{"result":"upheld"}`, 403, "Authorization"},
		{"verify pending", "POST", p(pending, "verify"), f.b, `{"result":"upheld"}`, 409, "status"},
		{"verify closed by other dept", "POST", p(closed, "verify"), f.a, `{"result":"upheld"}`, 409, "status"},
		{"verify bad result", "POST", p(forwarded, "verify"), f.b, `{"result":""}`, 400, "result"},
		{"verify empty body", "POST", p(forwarded, "verify"), f.b, ``, 400, "body"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ff := *f.fixture
			ff.t = t
			status, body, _ := ff.call(c.method, c.path, c.token, c.body)
			if status != c.status || body["field"] != c.field {
				t.Fatalf("%d %v; want %d naming %q", status, body, c.status, c.field)
			}
		})
	}
	// Roles of the lists: admin all three; B filed one and was forwarded one; A filed one.
	for _, c := range []struct {
		name, token string
		want        int
	}{{"admin", f.admin, 3}, {"dept B", f.b, 2}, {"dept A", f.a, 1}} {
		status, out, _ := f.call("GET", "/api/v1/objections", c.token, "")
		if status != 200 || len(out["objections"].([]any)) != c.want {
			t.Errorf("%s list: %d %v, want %d", c.name, status, out, c.want)
		}
	}
	status, out, _ := f.call("GET", "/api/v1/objections?subject=person:"+f.person+"&status=forwarded&limit=1", f.admin, "")
	if status != 200 || len(out["objections"].([]any)) != 1 || out["next_after"] != float64(forwarded) {
		t.Errorf("filtered list: %d %v", status, out)
	}
}
