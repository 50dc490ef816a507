package api

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tongban/tongban/calendar"
	"github.com/tongban/tongban/catalog"
	"github.com/tongban/tongban/hub/audit"
	"github.com/tongban/tongban/hub/auth"
	"github.com/tongban/tongban/hub/grant"
	"github.com/tongban/tongban/hub/ingest"
	"github.com/tongban/tongban/hub/store"
	"github.com/tongban/tongban/identifier"
)

// Departments of deploy/catalog.
const (
	dPolice  = "1123060001281401X7" // 公安局: provides PS-POP-001 (conditional)
	dMarket  = "112306000128140287" // 市场监管局: provides MR-LP-001 (unconditional)
	dCivil   = "112306000128140362" // 民政局: provides CA-MAR-001 (conditional)
	dataRoot = "../../deploy"
)

type shareCallFixture struct {
	t                    *testing.T
	db                   *store.DB
	dbPath               string
	srv                  *httptest.Server
	admin, police, civil string
	market               string
	person, company      string
	mu                   sync.Mutex
	now                  time.Time
}

func (f *shareCallFixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func newShareCallFixture(t *testing.T, limits ShareLimits) *shareCallFixture {
	t.Helper()
	ctx := context.Background()
	cat, err := catalog.Load(filepath.Join(dataRoot, "catalog"))
	if err != nil {
		t.Fatal(err)
	}
	lists, err := grant.LoadDir(filepath.Join(dataRoot, "sharing"), cat)
	if err != nil {
		t.Fatal(err)
	}
	cal, err := calendar.Load(filepath.Join(dataRoot, "calendar", "cn-public-holidays.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(t.TempDir(), "hub.db")
	db, err := store.Open(ctx, store.Config{Driver: store.DriverSQLite, DSN: dbPath})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if _, err := ingest.SyncSchemas(ctx, db, cat.Resources); err != nil {
		t.Fatal(err)
	}
	f := &shareCallFixture{t: t, db: db, dbPath: dbPath, now: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}
	log := slog.New(slog.DiscardHandler)
	svc, err := grant.New(grant.Config{Store: db, Catalog: cat, Calendar: cal, Lists: lists, Logger: log, Now: f.clock})
	if err != nil {
		t.Fatal(err)
	}
	al, err := audit.New(audit.Config{Store: db, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = al.Close(context.Background()) })
	h, err := New(Config{Store: db, Catalog: cat, Sharing: svc, Audit: al, AuditLog: db, ShareRead: db, ShareLimits: limits,
		Now: f.clock, Registry: prometheus.NewRegistry(), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(h)
	t.Cleanup(f.srv.Close)
	tok := func(name, dept, role string) string {
		s, err := auth.Create(ctx, db, name, dept, role)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	f.admin, f.police, f.civil, f.market = tok("ops", "", auth.RoleAdmin), tok("p", dPolice, auth.RoleDept), tok("c", dCivil, auth.RoleDept), tok("m", dMarket, auth.RoleDept)
	if f.person, err = identifier.FormatCitizenID("230602", time.Date(1990, 2, 28, 0, 0, 0, 0, time.UTC), 101); err != nil {
		t.Fatal(err)
	}
	if f.company, err = identifier.FormatUSCC('9', '1', "230602", "MA1BX0RF"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ApplyRecords(ctx, []store.Record{
		{Resource: "PS-POP-001", Key: f.person, Dept: dPolice, Subject: f.person, Version: 1, Data: json.RawMessage(
			`{"citizen_id":"` + f.person + `","name":"张三","sex":"1","birth_date":"1990-02-28","ethnicity":"汉族","address":"萨尔图区","phone":"13800000000","household_type":"家庭户","updated_at":"2026-01-01T00:00:00.000000"}`)},
		{Resource: "MR-LP-001", Key: f.company, Dept: dMarket, Subject: f.company, Version: 1, Data: json.RawMessage(
			`{"uscc":"` + f.company + `","name":"某某公司","legal_rep":"李四","registered_capital":"100.00","established":"2010-01-01","address":null,"status":"存续","updated_at":"2026-01-01T00:00:00.000000"}`)},
	}); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *shareCallFixture) call(method, path, token, body string) (int, map[string]any, http.Header) {
	f.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, f.srv.URL+path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		f.t.Fatalf("%s %s: %d %q is not JSON", method, path, resp.StatusCode, raw)
	}
	return resp.StatusCode, out, resp.Header
}

func shareURL(resource string, params map[string]string) string {
	v := url.Values{}
	for k, x := range params {
		v.Set(k, x)
	}
	return "/api/v1/share/" + resource + "?" + v.Encode()
}

func TestShareDecidesFiltersAndAudits(t *testing.T) {
	f := newShareCallFixture(t, ShareLimits{})
	why := map[string]string{"purpose": "办理婚姻登记", "item_code": "MZ-HYDJ-001"}
	with := func(extra map[string]string) map[string]string {
		out := map[string]string{}
		for k, v := range why {
			out[k] = v
		}
		for k, v := range extra {
			out[k] = v
		}
		return out
	}

	// Unconditional: the legal representative (personal) comes masked.
	status, body, _ := f.call("GET", shareURL("MR-LP-001", with(map[string]string{"subject": f.company})), f.civil, "")
	if status != 200 {
		t.Fatalf("unconditional share: %d %v", status, body)
	}
	recs := body["records"].([]any)
	data := recs[0].(map[string]any)["data"].(map[string]any)
	if len(recs) != 1 || data["name"] != "某某公司" || data["legal_rep"] == "李四" || data["legal_rep"] == nil {
		t.Fatalf("records %v: want the company with legal_rep masked", recs)
	}
	if body["decision"].(map[string]any)["code"] != grant.CodeUnconditional || body["audit_seq"] == nil {
		t.Fatalf("decision %v", body)
	}

	if recs[0].(map[string]any)["objections"] != nil {
		t.Fatalf("objection marks on a record without objections: %v", recs[0])
	}
	// An objection on the organisation's name marks the name in shared records.
	if _, err := f.db.FileObjection(context.Background(), store.Objection{SubjectType: catalog.SubjectLegalPerson, SubjectID: f.company,
		Field: "name", Reason: "名称有误", FilerKind: store.FilerDept, FilerID: dCivil, FiledBy: "t",
		FiledAt: f.now, MarkedAt: f.now, DecideDue: "2026-11-25"}, nil); err != nil {
		t.Fatal(err)
	}
	_, body, _ = f.call("GET", shareURL("MR-LP-001", with(map[string]string{"subject": f.company})), f.civil, "")
	marks, _ := body["records"].([]any)[0].(map[string]any)["objections"].([]any)
	if len(marks) != 1 || marks[0].(map[string]any)["field"] != "name" || marks[0].(map[string]any)["due"] != "2026-11-25" {
		t.Fatalf("objection marks %v, want the name marked, due 2026-11-25", marks)
	}

	// Conditional without a grant: denied with the legal basis.
	status, body, _ = f.call("GET", shareURL("PS-POP-001", with(map[string]string{"subject": f.person})), f.civil, "")
	if status != 403 || !strings.Contains(body["error"].(string), "依据") {
		t.Fatalf("conditional without grant: %d %v", status, body)
	}

	// The marriage-registration scenario grants the listed fields at once.
	status, body, _ = f.call("GET", shareURL("PS-POP-001", with(map[string]string{"subject": f.person, "scenario": "SC-MARRIAGE-REG",
		"fields": "citizen_id,name,household_type"})), f.civil, "")
	if status != 200 {
		t.Fatalf("scenario share: %d %v", status, body)
	}
	data = body["records"].([]any)[0].(map[string]any)["data"].(map[string]any)
	if data["household_type"] != "家庭户" || data["phone"] != nil {
		t.Fatalf("scenario share data %v: want only the granted fields", data)
	}

	// Bad requests: 400 naming the parameter, never a lookup.
	for _, c := range []struct {
		name   string
		params map[string]string
		field  string
	}{
		{"no purpose", map[string]string{"item_code": "X", "subject": f.company}, "purpose"},
		{"no item code", map[string]string{"purpose": "x", "subject": f.company}, "item_code"},
		{"injection in subject", with(map[string]string{"subject": "' OR 1=1 --"}), "subject"},
		{"injection in fields", with(map[string]string{"fields": "name;DROP TABLE source_records"}), "fields"},
		{"unknown parameter", with(map[string]string{"sql": "1"}), "sql"},
		{"subject and key", with(map[string]string{"subject": f.company, "key": f.company}), "key"},
		{"limit too big", with(map[string]string{"limit": "100000"}), "limit"},
	} {
		status, body, _ := f.call("GET", shareURL("MR-LP-001", c.params), f.civil, "")
		if status != 400 || body["field"] != c.field {
			t.Errorf("%s: %d %v, want 400 naming %s", c.name, status, body, c.field)
		}
	}
	// A key is a bound parameter: an injection attempt finds nothing.
	status, body, _ = f.call("GET", shareURL("MR-LP-001", with(map[string]string{"key": "x' OR '1'='1"})), f.civil, "")
	if status != 200 || len(body["records"].([]any)) != 0 {
		t.Fatalf("injection in key: %d %v, want no records", status, body)
	}
	if status, body, _ := f.call("POST", "/api/v1/share/MR-LP-001", f.civil, `{"purpose":"x","item_code":"y","subject":"`+f.company+`","extra":1}`); status != 400 {
		t.Fatalf("POST with an unknown key: %d %v", status, body)
	}
	if status, body, _ := f.call("POST", "/api/v1/share/MR-LP-001", f.civil, `{"purpose":"x","item_code":"y","subject":"`+f.company+`"}`); status != 200 {
		t.Fatalf("POST share: %d %v", status, body)
	}
	if status, _, _ := f.call("GET", shareURL("MR-LP-001", with(nil)), f.admin, ""); status != 403 {
		t.Fatalf("an admin token on the share endpoint: %d, want 403 (department tokens only)", status)
	}

	// Every call is in the audit log, and the chain verifies.
	status, body, _ = f.call("GET", "/api/v1/audit?dept="+dCivil+"&limit=100", f.admin, "")
	if status != 200 {
		t.Fatalf("audit: %d %v", status, body)
	}
	entries := body["entries"].([]any)
	results := map[string]int{}
	for _, e := range entries {
		results[e.(map[string]any)["result"].(string)]++
	}
	if results[audit.Allowed] != 5 || results[audit.Denied] < 3 {
		t.Fatalf("audit results %v over %d entries, want 5 allowed and the denials", results, len(entries))
	}
	status, body, _ = f.call("GET", "/api/v1/audit/verify", f.admin, "")
	if status != 200 || body["ok"] != true || body["entries"] != float64(len(entries)) {
		t.Fatalf("audit verify: %d %v, want ok over %d entries", status, body, len(entries))
	}
	// Editing one row is caught at that row.
	raw, err := sql.Open("sqlite", f.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`UPDATE audit_log SET purpose = 'x' WHERE seq = 2`); err != nil {
		t.Fatal(err)
	}
	status, body, _ = f.call("GET", "/api/v1/audit/verify", f.admin, "")
	if p, _ := body["problem"].(map[string]any); status != 200 || body["ok"] != false || p == nil || p["seq"] != 2.0 {
		t.Fatalf("audit verify after an edit: %d %v, want the problem at seq 2", status, body)
	}
	status, body, _ = f.call("GET", "/api/v1/subjects/person/"+f.person+"/access-log", f.admin, "")
	if status != 200 || len(body["entries"].([]any)) != 2 {
		t.Fatalf("access log of the person: %d %v, want the denied and the scenario call", status, body)
	}
}

func TestShareRateLimitAndQuota(t *testing.T) {
	f := newShareCallFixture(t, ShareLimits{Rate: 1, Burst: 2, DailyQuota: 3})
	q := shareURL("MR-LP-001", map[string]string{"purpose": "x", "item_code": "y", "subject": f.company})
	for i := 0; i < 2; i++ {
		if status, body, _ := f.call("GET", q, f.civil, ""); status != 200 {
			t.Fatalf("call %d: %d %v", i, status, body)
		}
	}
	status, body, hdr := f.call("GET", q, f.civil, "")
	if status != 429 || hdr.Get("Retry-After") != "1" {
		t.Fatalf("third call at once: %d %v Retry-After %q, want 429 after 1s", status, body, hdr.Get("Retry-After"))
	}
	if status, _, _ := f.call("GET", q, f.market, ""); status != 200 {
		t.Fatalf("another department is limited separately: %d", status)
	}
	f.mu.Lock()
	f.now = f.now.Add(10 * time.Second)
	f.mu.Unlock()
	if status, _, _ := f.call("GET", q, f.civil, ""); status != 200 {
		t.Fatalf("after the wait: %d", status)
	}
	status, body, hdr = f.call("GET", q, f.civil, "")
	if status != 429 || !strings.Contains(body["error"].(string), "quota") || hdr.Get("Retry-After") == "" {
		t.Fatalf("fourth call of the day: %d %v, want 429 quota", status, body)
	}
}

// Grant decisions are in the audit log too: an application filed and
// answered, and the share call it then allows.
func TestGrantDecisionsAreAudited(t *testing.T) {
	f := newShareCallFixture(t, ShareLimits{})
	status, body, _ := f.call("POST", "/api/v1/applications", f.civil,
		`{"resource":"PS-POP-001","fields":["citizen_id","name"],"purpose":"婚姻登记核验","legal_basis":"《婚姻登记条例》第五条","duration_days":30}`)
	if status != 200 {
		t.Fatalf("file: %d %v", status, body)
	}
	id := int64(body["application"].(map[string]any)["id"].(float64))
	status, body, _ = f.call("POST", "/api/v1/applications/"+strconv.FormatInt(id, 10)+"/answer", f.police, `{"decision":"approve"}`)
	if status != 200 {
		t.Fatalf("answer: %d %v", status, body)
	}
	status, body, _ = f.call("GET", shareURL("PS-POP-001", map[string]string{"subject": f.person, "purpose": "婚姻登记核验", "item_code": "MZ-HYDJ-001", "fields": "name"}), f.civil, "")
	if status != 200 || body["decision"].(map[string]any)["code"] != grant.CodeGrant {
		t.Fatalf("share with the grant: %d %v", status, body)
	}
	status, body, _ = f.call("GET", "/api/v1/audit?limit=10", f.admin, "")
	if status != 200 {
		t.Fatalf("audit: %d %v", status, body)
	}
	var actions []string
	for _, e := range body["entries"].([]any) {
		actions = append(actions, e.(map[string]any)["action"].(string))
	}
	want := []string{audit.ActionShareRead, audit.ActionGrantDecide, audit.ActionGrantRequest} // newest first
	if strings.Join(actions, ",") != strings.Join(want, ",") {
		t.Fatalf("audit actions %v, want %v", actions, want)
	}
}

// Bulk copy needs the bureau's approval of a subscription; then the feed
// pages through the resource with the subscribed fields only.
func TestFeedNeedsAnApprovedSubscription(t *testing.T) {
	f := newShareCallFixture(t, ShareLimits{})
	if status, body, _ := f.call("GET", "/api/v1/feed/MR-LP-001", f.civil, ""); status != 403 {
		t.Fatalf("feed without a subscription: %d %v, want 403", status, body)
	}
	status, body, _ := f.call("POST", "/api/v1/subscriptions", f.civil,
		`{"resource":"MR-LP-001","fields":["uscc","name","status"],"purpose":"婚姻登记辅助核验","legal_basis":"《婚姻登记条例》","duration_days":90}`)
	if status != 200 {
		t.Fatalf("subscription request: %d %v", status, body)
	}
	id := int64(body["application"].(map[string]any)["id"].(float64))
	if status, body, _ := f.call("POST", "/api/v1/subscriptions/"+strconv.FormatInt(id, 10)+"/approve", f.admin, `{"decision":"approve"}`); status != 200 {
		t.Fatalf("approve: %d %v", status, body)
	}
	status, body, _ = f.call("GET", "/api/v1/feed/MR-LP-001?limit=10", f.civil, "")
	if status != 200 {
		t.Fatalf("feed: %d %v", status, body)
	}
	recs := body["records"].([]any)
	data := recs[0].(map[string]any)["data"].(map[string]any)
	if len(recs) != 1 || data["name"] != "某某公司" || data["legal_rep"] != nil || len(data) != 3 || body["audit_seq"] == nil {
		t.Fatalf("feed records %v: want the company with uscc, name and status only", recs)
	}
	if status, _, _ := f.call("GET", "/api/v1/feed/MR-LP-001", f.police, ""); status != 403 {
		t.Fatalf("feed for a department without its own subscription: %d, want 403", status)
	}
}
