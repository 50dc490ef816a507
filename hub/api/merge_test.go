package api

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tongban/tongban/catalog"
	"github.com/tongban/tongban/hub/merge"
	"github.com/tongban/tongban/hub/store"
	"github.com/tongban/tongban/identifier"
)

const (
	resPop = "GA-POP-001" // population register, provided by deptA
	resMar = "MZ-MAR-001" // marriage registrations, provided by deptB
)

type mergeFixture struct {
	*fixture
	merger  *merge.Merger
	person  string // has a golden record and a name conflict
	nobody  string // valid, without a golden record
	company string
}

func newMergeFixture(t *testing.T) *mergeFixture {
	t.Helper()
	f := newFixture(t)
	cat := testCatalog(t)
	person := func(code, provider, latestBy string) catalog.Resource {
		return catalog.Resource{Code: code, Name: "资源 " + code, Provider: provider,
			Subject: catalog.Subject{Type: catalog.SubjectPerson, Field: "sfzh", LatestBy: latestBy}}
	}
	cat.Resources = append(cat.Resources, person(resPop, deptA, ""), person(resMar, deptB, "reg_date"))
	cat.Subjects = []catalog.SubjectSpec{{Type: catalog.SubjectPerson, Library: "population", Fields: []catalog.SubjectField{
		{Name: "name", Authority: catalog.SourceRef{Resource: resPop, Field: "xm"}, CrossCheck: []catalog.SourceRef{{Resource: resMar, Field: "name"}}},
		{Name: "marital_status", Authority: catalog.SourceRef{Resource: resMar, Field: "status"}},
	}}}
	m, err := merge.New(merge.Config{Store: f.db, Catalog: cat, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(Config{Store: f.db, Catalog: cat, Merge: f.db, Registry: prometheus.NewRegistry(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	f.srv.Close()
	f.srv = httptest.NewServer(h)
	t.Cleanup(f.srv.Close)
	mf := &mergeFixture{fixture: f, merger: m}
	birth := time.Date(1990, 3, 7, 0, 0, 0, 0, time.UTC)
	for i, p := range []*string{&mf.person, &mf.nobody} {
		if *p, err = identifier.FormatCitizenID("110101", birth, 11+i); err != nil {
			t.Fatal(err)
		}
	}
	if mf.company, err = identifier.FormatUSCC('9', '1', "110101", "MA01AB2C"); err != nil {
		t.Fatal(err)
	}
	mf.apply(
		store.Record{Resource: resPop, Key: "p1", Dept: deptA, Subject: mf.person, Version: 1, Data: json.RawMessage(`{"sfzh":"` + mf.person + `","xm":"张三"}`)},
		store.Record{Resource: resMar, Key: "m1", Dept: deptB, Subject: mf.person, Version: 1, Data: json.RawMessage(`{"sfzh":"` + mf.person + `","name":"张叁","status":"married","reg_date":"2001-05-01"}`)},
	)
	return mf
}

func (f *mergeFixture) apply(recs ...store.Record) {
	f.t.Helper()
	ctx := context.Background()
	res, err := f.db.ApplyRecords(ctx, recs)
	if err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.merger.Merge(ctx, res.Subjects); err != nil {
		f.t.Fatal(err)
	}
}

func TestMergeRoutes(t *testing.T) {
	f := newMergeFixture(t)
	subject := "/api/v1/subjects/person/" + f.person

	status, body, _ := f.call("GET", subject, f.admin, "")
	if status != 200 {
		t.Fatalf("subject: %d %v", status, body)
	}
	fields := body["fields"].(map[string]any)
	name := fields["name"].(map[string]any)
	prov := name["provenance"].(map[string]any)
	if name["value"] != "张三" || prov["resource"] != resPop || prov["dept"] != deptA || prov["key"] != "p1" || prov["version"] != 1.0 {
		t.Fatalf("name field = %v", name)
	}
	nameConflict, _ := name["conflict"].(map[string]any)
	if nameConflict == nil || nameConflict["status"] != "open" {
		t.Fatalf("name field carries no open conflict: %v", name)
	}
	if ms := fields["marital_status"].(map[string]any); ms["value"] != "married" || ms["conflict"] != nil || ms["objections"] != nil {
		t.Fatalf("marital_status = %v", ms)
	}
	if name["objections"] != nil {
		t.Fatalf("name carries objections before any was filed: %v", name)
	}
	// An objection on the name marks the field at once.
	obj, err := f.db.FileObjection(context.Background(), store.Objection{SubjectType: catalog.SubjectPerson, SubjectID: f.person,
		Field: "name", Reason: "姓名登记有误", FilerKind: store.FilerSubject, FilerID: f.person, FiledBy: "t",
		FiledAt: time.Now(), MarkedAt: time.Now(), DecideDue: "2026-12-01"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, body, _ = f.call("GET", subject, f.admin, ""); true {
		marks, _ := body["fields"].(map[string]any)["name"].(map[string]any)["objections"].([]any)
		if len(marks) != 1 || marks[0].(map[string]any)["id"] != float64(obj.ID) || marks[0].(map[string]any)["due"] != "2026-12-01" {
			t.Fatalf("name objections = %v, want the objection %d due 2026-12-01", marks, obj.ID)
		}
	}
	if cs := body["conflicts"].([]any); len(cs) != 1 || body["library"] != "population" || body["revision"] != 1.0 {
		t.Fatalf("subject = %v", body)
	}
	conflictID := int64(nameConflict["id"].(float64))

	status, body, _ = f.call("GET", subject+"/history?field=name", f.admin, "")
	if h := body["history"].([]any); status != 200 || len(h) != 1 || h[0].(map[string]any)["value"] != "张三" {
		t.Fatalf("history: %d %v", status, body)
	}

	status, body, _ = f.call("GET", fmt.Sprintf("/api/v1/conflicts/%d", conflictID), f.admin, "")
	if status != 200 || body["field"] != "name" || len(body["events"].([]any)) != 1 || len(body["values"].([]any)) != 2 {
		t.Fatalf("conflict: %d %v", status, body)
	}
	for _, c := range []struct {
		query string
		n     int
	}{
		{"", 1}, {"?status=open", 1}, {"?status=decided", 0}, {"?field=name&type=person&subject=" + f.person, 1},
		{"?resource=" + resMar, 1}, {"?resource=" + resA, 0}, {fmt.Sprintf("?after=%d", conflictID), 0},
	} {
		status, body, _ = f.call("GET", "/api/v1/conflicts"+c.query, f.admin, "")
		if status != 200 || len(body["conflicts"].([]any)) != c.n {
			t.Errorf("conflicts%s: %d %v, want %d", c.query, status, body, c.n)
		}
	}

	// The bureau sends the conflict back to the population register.
	decide := fmt.Sprintf("/api/v1/conflicts/%d/decision", conflictID)
	status, body, _ = f.call("POST", decide, f.admin, `{"decision":"source_must_correct","note":"请核对户籍登记"}`)
	if status != 200 || body["status"] != "awaiting_correction" || body["decision"] != "source_must_correct" {
		t.Fatalf("decide: %d %v", status, body)
	}
	status, body, _ = f.call("GET", "/api/v1/notifications", f.a, "")
	ns := body["notifications"].([]any)
	if status != 200 || len(ns) != 1 {
		t.Fatalf("notifications of A: %d %v", status, body)
	}
	n := ns[0].(map[string]any)
	if n["kind"] != "conflict.correct" || !strings.Contains(n["message"].(string), f.person) || n["ref"] != fmt.Sprintf("conflict/%d", conflictID) {
		t.Fatalf("notification = %v", n)
	}
	if status, body, _ = f.call("GET", "/api/v1/notifications", f.b, ""); status != 200 || len(body["notifications"].([]any)) != 0 {
		t.Fatalf("notifications of B: %d %v", status, body)
	}
	if status, body, _ = f.call("GET", "/api/v1/notifications?recipient="+deptA, f.admin, ""); status != 200 || len(body["notifications"].([]any)) != 1 {
		t.Fatalf("admin reading A's notifications: %d %v", status, body)
	}
	nid := int64(n["id"].(float64))
	if status, body, _ = f.call("POST", fmt.Sprintf("/api/v1/notifications/%d/read", nid), f.b, ""); status != 404 {
		t.Fatalf("B marking A's notification: %d %v", status, body)
	}
	if status, body, _ = f.call("POST", fmt.Sprintf("/api/v1/notifications/%d/read", nid), f.a, ""); status != 200 {
		t.Fatalf("mark read: %d %v", status, body)
	}
	if status, body, _ = f.call("GET", "/api/v1/notifications?unread=true", f.a, ""); status != 200 || len(body["notifications"].([]any)) != 0 {
		t.Fatalf("unread after marking: %d %v", status, body)
	}

	// Civil affairs' record is corrected: the conflict resolves, and a
	// decision is no longer possible.
	f.apply(store.Record{Resource: resMar, Key: "m1", Dept: deptB, Subject: f.person, Version: 2,
		Data: json.RawMessage(`{"sfzh":"` + f.person + `","name":"张 三","status":"married","reg_date":"2001-05-01"}`)})
	status, body, _ = f.call("POST", decide, f.admin, `{"decision":"authority_stands"}`)
	if status != 409 || body["field"] != "id" {
		t.Fatalf("deciding a resolved conflict: %d %v", status, body)
	}
	status, body, _ = f.call("GET", subject, f.admin, "")
	if status != 200 || len(body["conflicts"].([]any)) != 0 || body["fields"].(map[string]any)["name"].(map[string]any)["conflict"] != nil {
		t.Fatalf("subject after resolution: %d %v", status, body)
	}
	status, body, _ = f.call("GET", fmt.Sprintf("/api/v1/conflicts/%d", conflictID), f.admin, "")
	if status != 200 || body["status"] != "resolved" || len(body["events"].([]any)) != 3 {
		t.Fatalf("resolved conflict: %d %v", status, body)
	}
}

func TestMergeRouteErrors(t *testing.T) {
	f := newMergeFixture(t)
	subject := "/api/v1/subjects/person/" + f.person
	cases := []struct {
		name, method, path, token, body string
		status                          int
		field                           string
	}{
		{"subject needs admin", "GET", subject, f.a, "", 403, "Authorization"},
		{"bad subject type", "GET", "/api/v1/subjects/robot/" + f.person, f.admin, "", 400, "type"},
		{"bad citizen id", "GET", "/api/v1/subjects/person/110101199003070010", f.admin, "", 400, "id"},
		{"uscc as a person", "GET", "/api/v1/subjects/person/" + f.company, f.admin, "", 400, "id"},
		{"bad uscc", "GET", "/api/v1/subjects/legal-person/91110000600037341X", f.admin, "", 400, "id"},
		{"no golden record", "GET", "/api/v1/subjects/person/" + f.nobody, f.admin, "", 404, "id"},
		{"no golden record of a company", "GET", "/api/v1/subjects/legal-person/" + f.company, f.admin, "", 404, "id"},
		{"subject unknown param", "GET", subject + "?x=1", f.admin, "", 400, "x"},
		{"history limit", "GET", subject + "/history?limit=0", f.admin, "", 400, "limit"},
		{"history empty field", "GET", subject + "/history?field=", f.admin, "", 400, "field"},
		{"conflicts need admin", "GET", "/api/v1/conflicts", f.b, "", 403, "Authorization"},
		{"conflicts bad status", "GET", "/api/v1/conflicts?status=closed", f.admin, "", 400, "status"},
		{"conflicts bad type", "GET", "/api/v1/conflicts?type=robot", f.admin, "", 400, "type"},
		{"conflicts unknown resource", "GET", "/api/v1/conflicts?resource=NOPE-1", f.admin, "", 404, "resource"},
		{"conflicts bad after", "GET", "/api/v1/conflicts?after=-1", f.admin, "", 400, "after"},
		{"conflict bad id", "GET", "/api/v1/conflicts/abc", f.admin, "", 400, "id"},
		{"conflict unknown", "GET", "/api/v1/conflicts/999", f.admin, "", 404, "id"},
		{"decision unknown conflict", "POST", "/api/v1/conflicts/999/decision", f.admin, `{"decision":"authority_stands"}`, 404, "id"},
		{"decision missing", "POST", "/api/v1/conflicts/1/decision", f.admin, `{"note":"x"}`, 400, "decision"},
		{"decision bad", "POST", "/api/v1/conflicts/1/decision", f.admin, `{"decision":"overrule"}`, 400, "decision"},
		{"decision wrong type", "POST", "/api/v1/conflicts/1/decision", f.admin, `{"decision":1}`, 400, "decision"},
		{"decision unknown key", "POST", "/api/v1/conflicts/1/decision", f.admin, `{"decision":"authority_stands","by":"me"}`, 400, "by"},
		{"decision note too long", "POST", "/api/v1/conflicts/1/decision", f.admin, `{"decision":"authority_stands","note":"` + strings.Repeat("长", maxDecisionNote+1) + `"}`, 400, "note"},
		{"decision needs admin", "POST", "/api/v1/conflicts/1/decision", f.a, `{"decision":"authority_stands"}`, 403, "Authorization"},
		{"notifications admin without recipient", "GET", "/api/v1/notifications", f.admin, "", 400, "recipient"},
		{"notifications of another dept", "GET", "/api/v1/notifications?recipient=" + deptB, f.a, "", 403, "recipient"},
		{"notifications bad unread", "GET", "/api/v1/notifications?unread=maybe", f.a, "", 400, "unread"},
		{"notification read bad id", "POST", "/api/v1/notifications/x/read", f.a, "", 400, "id"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ff := *f.fixture
			ff.t = t
			status, body, _ := ff.call(c.method, c.path, c.token, c.body)
			if status != c.status || body["field"] != c.field {
				t.Fatalf("%d %v, want %d naming %q", status, body, c.status, c.field)
			}
		})
	}
}
