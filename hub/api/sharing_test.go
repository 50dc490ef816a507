package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tongban/tongban/calendar"
	"github.com/tongban/tongban/catalog"
	"github.com/tongban/tongban/hub/auth"
	"github.com/tongban/tongban/hub/grant"
	"github.com/tongban/tongban/hub/store"
)

const deptC = "112306000128140449"

// shareFixture is the API with sharing: resB (provided by B) conditional,
// resA (by A) unconditional with "capital" on the negative list, a scenario
// for any department, a third department C, and a clock at Tue 2026-03-10.
type shareFixture struct {
	*fixture
	c   string // department C's token
	svc *grant.Service
}

func newShareFixture(t *testing.T) *shareFixture {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{Driver: store.DriverSQLite, DSN: filepath.Join(t.TempDir(), "hub.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	cat := testCatalog(t)
	cat.Departments = append(cat.Departments, catalog.Department{Code: deptC, Name: "教育局"})
	cat.Resources[1].ShareType, cat.Resources[1].ShareBasis = catalog.ShareConditional, "《婚姻登记条例》"
	cal, err := calendar.Load("../../deploy/calendar/cn-public-holidays.yaml")
	if err != nil {
		t.Fatal(err)
	}
	lists := &grant.Lists{
		Scenarios: []grant.Scenario{{Code: "SC-T", Name: "测试场景", LegalBasis: "场景依据", AnyDept: true,
			Resources: []grant.ScenarioResource{{Resource: resB, Fields: []string{"name"}}}}},
		Negative: []grant.NegativeEntry{{Resource: resA, Fields: []string{"capital"}, LegalBasis: "负面依据"}},
	}
	now := time.Date(2026, 3, 10, 10, 0, 0, 0, grant.Zone())
	svc, err := grant.New(grant.Config{Store: db, Catalog: cat, Calendar: cal, Lists: lists, Logger: slog.New(slog.DiscardHandler),
		Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	sf := &shareFixture{fixture: &fixture{t: t, db: db}, svc: svc}
	mustToken := func(name, dept, role string) string {
		tok, err := auth.Create(ctx, db, name, dept, role)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	sf.admin = mustToken("ops", "", auth.RoleAdmin)
	sf.a = mustToken("a", deptA, auth.RoleDept)
	sf.b = mustToken("b", deptB, auth.RoleDept)
	sf.c = mustToken("c", deptC, auth.RoleDept)
	h, err := New(Config{Store: db, Catalog: cat, Sharing: svc, Registry: prometheus.NewRegistry(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	sf.srv = httptest.NewServer(h)
	t.Cleanup(sf.srv.Close)
	return sf
}

// TestSharingAPI runs the workflow in order: each step's status, the field
// of an error, and values of the answer.
func TestSharingAPI(t *testing.T) {
	f := newShareFixture(t)
	app := `{"resource":"` + resB + `","fields":["name"],"purpose":"学籍核验","legal_basis":"《义务教育法》","duration_days":30}`
	steps := []struct {
		name, method, path, token, body string
		status                          int
		field                           string
		want                            map[string]any // "a.b" paths into the answer
	}{
		{"file needs dept token", "POST", "/api/v1/applications", "admin", app, 403, "Authorization", nil},
		{"file no purpose", "POST", "/api/v1/applications", "c", `{"resource":"` + resB + `","legal_basis":"x"}`, 400, "purpose", nil},
		{"file no resource", "POST", "/api/v1/applications", "c", `{"purpose":"p","legal_basis":"x"}`, 400, "resource", nil},
		{"file unknown key", "POST", "/api/v1/applications", "c", `{"resource":"` + resB + `","colour":1}`, 400, "colour", nil},
		{"file unknown resource", "POST", "/api/v1/applications", "c", `{"resource":"NOPE-1","purpose":"p","legal_basis":"x"}`, 404, "resource", nil},
		{"file unknown field", "POST", "/api/v1/applications", "c", `{"resource":"` + resB + `","fields":["x"],"purpose":"p","legal_basis":"x"}`, 400, "fields[0]", nil},
		{"file negative field", "POST", "/api/v1/applications", "c", `{"resource":"` + resA + `","fields":["capital"],"purpose":"p","legal_basis":"x"}`, 403, "resource", nil},
		{"file own resource", "POST", "/api/v1/applications", "b", app, 400, "resource", nil},
		{"file", "POST", "/api/v1/applications", "c", app, 200, "", map[string]any{"application.id": 1.0, "application.status": "pending",
			"application.due": "2026-03-24", "application.provider": deptB, "application.overdue": false}},
		{"list as applicant", "GET", "/api/v1/applications", "c", "", 200, "", map[string]any{"applications.#": 1}},
		{"list as provider", "GET", "/api/v1/applications?status=pending", "b", "", 200, "", map[string]any{"applications.#": 1}},
		{"list as stranger", "GET", "/api/v1/applications", "a", "", 200, "", map[string]any{"applications.#": 0}},
		{"list bad status", "GET", "/api/v1/applications?status=done", "admin", "", 400, "status", nil},
		{"list bad overdue", "GET", "/api/v1/applications?overdue=maybe", "admin", "", 400, "overdue", nil},
		{"show stranger", "GET", "/api/v1/applications/1", "a", "", 404, "id", nil},
		{"show bad id", "GET", "/api/v1/applications/x", "admin", "", 400, "id", nil},
		{"answer by applicant", "POST", "/api/v1/applications/1/answer", "c", `{"decision":"approve"}`, 403, "Authorization", nil},
		{"answer by admin", "POST", "/api/v1/applications/1/answer", "admin", `{"decision":"approve"}`, 403, "Authorization", nil},
		{"refuse without reason", "POST", "/api/v1/applications/1/answer", "b", `{"decision":"refuse"}`, 400, "reason", nil},
		{"answer bad decision", "POST", "/api/v1/applications/1/answer", "b", `{"decision":"maybe"}`, 400, "decision", nil},
		{"answer unknown", "POST", "/api/v1/applications/99/answer", "b", `{"decision":"approve"}`, 404, "id", nil},
		{"approve", "POST", "/api/v1/applications/1/answer", "b", `{"decision":"approve"}`, 200, "", map[string]any{"application.status": "approved", "application.grant_id": 1.0}},
		{"answer twice", "POST", "/api/v1/applications/1/answer", "b", `{"decision":"refuse","reason":"x"}`, 409, "status", nil},
		{"grants of grantee", "GET", "/api/v1/grants?active=true", "c", "", 200, "", map[string]any{"grants.#": 1, "grants.0.active": true, "grants.0.fields.0": "name"}},
		{"grants of stranger", "GET", "/api/v1/grants", "a", "", 200, "", map[string]any{"grants.#": 0}},
		{"grants bad kind", "GET", "/api/v1/grants?kind=x", "admin", "", 400, "kind", nil},
		{"review by dept", "POST", "/api/v1/applications/1/review", "b", `{"decision":"refuse","note":"x"}`, 403, "Authorization", nil},
		{"review without note", "POST", "/api/v1/applications/1/review", "admin", `{"decision":"refuse"}`, 400, "note", nil},
		{"review refuses", "POST", "/api/v1/applications/1/review", "admin", `{"decision":"refuse","note":"超出职责"}`, 200, "", map[string]any{"application.status": "refused", "application.review_note": "超出职责"}},
		{"grant revoked by review", "GET", "/api/v1/grants", "admin", "", 200, "", map[string]any{"grants.#": 1, "grants.0.active": false, "grants.0.revoke_reason": "超出职责"}},
		{"revoke by grantee", "POST", "/api/v1/grants/1/revoke", "c", `{"reason":"x"}`, 403, "Authorization", nil},
		{"revoke by stranger", "POST", "/api/v1/grants/1/revoke", "a", `{"reason":"x"}`, 404, "id", nil},
		{"revoke without reason", "POST", "/api/v1/grants/1/revoke", "b", `{}`, 400, "reason", nil},
		{"revoke revoked", "POST", "/api/v1/grants/1/revoke", "b", `{"reason":"x"}`, 409, "status", nil},
		{"review approves again", "POST", "/api/v1/applications/1/review", "admin", `{"decision":"approve","note":"复核同意"}`, 200, "", map[string]any{"application.status": "approved", "application.grant_id": 2.0}},
		{"revoke by provider", "POST", "/api/v1/grants/2/revoke", "b", `{"reason":"用途变更"}`, 200, "", map[string]any{"grant.active": false}},
		{"scenarios", "GET", "/api/v1/scenarios", "a", "", 200, "", map[string]any{"scenarios.#": 1, "scenarios.0.code": "SC-T"}},
		{"responsibility", "GET", "/api/v1/lists/responsibility", "a", "", 200, "", map[string]any{"responsibilities.#": 2}},
		{"responsibility of A", "GET", "/api/v1/lists/responsibility?dept=" + deptA, "a", "", 200, "", map[string]any{"responsibilities.#": 1, "responsibilities.0.resource": resA}},
		{"responsibility bad param", "GET", "/api/v1/lists/responsibility?x=1", "a", "", 400, "x", nil},
		{"negative", "GET", "/api/v1/lists/negative", "c", "", 200, "", map[string]any{"negative.#": 1, "negative.0.legal_basis": "负面依据"}},
		{"demand by admin", "POST", "/api/v1/demands", "admin", `{"title":"t","purpose":"p","legal_basis":"b"}`, 403, "Authorization", nil},
		{"demand no title", "POST", "/api/v1/demands", "c", `{"purpose":"p","legal_basis":"b"}`, 400, "title", nil},
		{"demand", "POST", "/api/v1/demands", "c", `{"title":"学生户籍信息","purpose":"入学","legal_basis":"义务教育法"}`, 200, "", map[string]any{"demand.id": 1.0, "demand.status": "open"}},
		{"demands", "GET", "/api/v1/lists/demands?status=open", "a", "", 200, "", map[string]any{"demands.#": 1}},
		{"match by dept", "POST", "/api/v1/demands/1/match", "c", `{"resource":"` + resB + `"}`, 403, "Authorization", nil},
		{"match nothing", "POST", "/api/v1/demands/1/match", "admin", `{}`, 400, "resource", nil},
		{"match unknown", "POST", "/api/v1/demands/9/match", "admin", `{"provider":"` + deptB + `"}`, 404, "id", nil},
		{"match", "POST", "/api/v1/demands/1/match", "admin", `{"resource":"` + resB + `","note":"婚姻登记"}`, 200, "", map[string]any{"demand.status": "matched", "demand.matched_provider": deptB}},
		{"match twice", "POST", "/api/v1/demands/1/match", "admin", `{"provider":"` + deptB + `"}`, 409, "status", nil},
		{"subscribe", "POST", "/api/v1/subscriptions", "c", `{"resource":"` + resA + `","purpose":"同步","legal_basis":"b"}`, 200, "", map[string]any{"application.id": 2.0, "application.kind": "subscription",
			"application.fields.#": 2}},
		{"subscriptions", "GET", "/api/v1/subscriptions", "admin", "", 200, "", map[string]any{"applications.#": 1, "applications.0.id": 2.0}},
		{"subscription approved by provider", "POST", "/api/v1/applications/2/answer", "a", `{"decision":"approve"}`, 403, "Authorization", nil},
		{"approve needs admin", "POST", "/api/v1/subscriptions/2/approve", "a", `{"decision":"approve"}`, 403, "Authorization", nil},
		{"approve a share application", "POST", "/api/v1/subscriptions/1/approve", "admin", `{"decision":"approve"}`, 404, "id", nil},
		{"approve", "POST", "/api/v1/subscriptions/2/approve", "admin", `{"decision":"approve"}`, 200, "", map[string]any{"application.status": "approved", "application.grant_id": 3.0}},
		{"subscription grant", "GET", "/api/v1/grants?kind=subscription", "c", "", 200, "", map[string]any{"grants.#": 1, "grants.0.kind": "subscription"}},
	}
	tokens := map[string]string{"admin": f.admin, "a": f.a, "b": f.b, "c": f.c}
	for _, st := range steps {
		status, body, _ := f.call(st.method, st.path, tokens[st.token], st.body)
		if status != st.status {
			t.Fatalf("%s: status %d, want %d: %v", st.name, status, st.status, body)
		}
		if st.field != "" && body["field"] != st.field {
			t.Errorf("%s: field %v, want %s (%v)", st.name, body["field"], st.field, body["error"])
		}
		for path, want := range st.want {
			got := lookup(body, path)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s: %s = %v, want %v", st.name, path, got, want)
			}
		}
	}
	// The decision of the share endpoint: subscription approved, share call masks nothing of resA here.
	d, err := f.svc.DecideSubscription(context.Background(), deptC, resA)
	if err != nil || !d.Allowed || d.GrantID != 3 {
		t.Errorf("subscription decision %+v %v", d, err)
	}
	// A denial names the legal basis in the 403.
	status, body, _ := f.call("POST", "/api/v1/applications", f.c, `{"resource":"`+resA+`","fields":["capital"],"purpose":"p","legal_basis":"x"}`)
	if status != 403 || !strings.Contains(fmt.Sprint(body["error"]), "负面依据") {
		t.Errorf("denial %d %v", status, body)
	}
}

// lookup follows a dotted path ("a.0.b", "a.#" for a length) into JSON.
func lookup(v any, path string) any {
	for _, k := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[k]
		case []any:
			if k == "#" {
				return len(x)
			}
			var i int
			if _, err := fmt.Sscan(k, &i); err != nil || i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}
