package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tongban/tongban/catalog"
	"github.com/tongban/tongban/hub/auth"
	"github.com/tongban/tongban/hub/ingest"
	"github.com/tongban/tongban/hub/store"
	"github.com/tongban/tongban/schemas"
	"github.com/tongban/tongban/wire"
)

const (
	deptA = "112306000128140287"
	deptB = "112306000128140362"
	resA  = "MR-LP-001"
	resB  = "CA-MAR-001"
)

func field(t testing.TB, name, typ string, null bool) schemas.Field {
	ty, err := schemas.ParseType(typ)
	if err != nil {
		t.Fatal(err)
	}
	return schemas.Field{Name: name, Type: ty, Nullable: null}
}

func testCatalog(t testing.TB) *catalog.Catalog {
	mk := func(code, provider string, fields ...schemas.Field) catalog.Resource {
		return catalog.Resource{Code: code, Name: "资源 " + code, Provider: provider,
			Subject: catalog.Subject{Type: catalog.SubjectNone}, PrimaryKey: []string{fields[0].Name},
			Schema: schemas.Schema{Fields: fields}, ShareType: catalog.ShareUnconditional, OpenType: catalog.OpenOpen,
			UpdateCycle: catalog.CycleDaily, Format: catalog.FormatTable, File: "resources/" + code + ".yaml"}
	}
	return &catalog.Catalog{
		Dir: "test",
		Departments: []catalog.Department{
			{Code: deptA, Name: "市场监管局"}, {Code: deptB, Name: "民政局"},
		},
		Resources: []catalog.Resource{
			mk(resA, deptA, field(t, "uscc", "string", false), field(t, "name", "string", false), field(t, "capital", "decimal(18,2)", true)),
			mk(resB, deptB, field(t, "record_id", "int64", false), field(t, "name", "string", true)),
		},
	}
}

// staticStats is an ingest counter snapshot.
type staticStats ingest.Stats

func (s staticStats) Stats() ingest.Stats { return ingest.Stats(s) }

type fixture struct {
	t       *testing.T
	db      *store.DB
	srv     *httptest.Server
	admin   string
	a, b    string // department tokens
	revoked string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{Driver: store.DriverSQLite, DSN: filepath.Join(t.TempDir(), "hub.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	cat := testCatalog(t)
	if _, err := ingest.SyncSchemas(ctx, db, cat.Resources); err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, db: db}
	mustToken := func(name, dept, role string) string {
		tok, err := auth.Create(ctx, db, name, dept, role)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	f.admin = mustToken("ops", "", auth.RoleAdmin)
	f.a = mustToken("a", deptA, auth.RoleDept)
	f.b = mustToken("b", deptB, auth.RoleDept)
	revTok, plain, err := auth.Issue(ctx, db, "old", deptA, auth.RoleDept)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.RevokeToken(ctx, revTok.ID); err != nil {
		t.Fatal(err)
	}
	f.revoked = plain

	// Five live records of A (one composite-looking key), one tombstone.
	var recs []store.Record
	for i := 1; i <= 5; i++ {
		recs = append(recs, store.Record{Resource: resA, Key: fmt.Sprintf("91230600MA%08d", i), Dept: deptA, Version: int64(i),
			Data: json.RawMessage(fmt.Sprintf(`{"uscc":"91230600MA%08d","name":"公司%d","capital":"%d.00"}`, i, i, i*100)), BatchID: "b1"})
	}
	recs = append(recs, store.Record{Resource: resA, Key: "91230600MA99999999", Dept: deptA, Version: 9, Deleted: true, BatchID: "b2"})
	if _, err := db.ApplyRecords(ctx, recs); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if err := db.AddDeadLetter(ctx, store.DeadLetter{Topic: wire.DefaultIngestTopic, Partition: 1, Offset: int64(i), Resource: resA, Dept: deptB,
			Reason: "wrong_dept: department B does not provide", Headers: json.RawMessage(`[{"key":"tb-resource","value":"MR-LP-001"}]`), Payload: []byte("xyz")}); err != nil {
			t.Fatal(err)
		}
	}
	stats := staticStats{Messages: 10, Groups: 3, DeadLetters: 3, DeadLettersByKind: map[string]int64{"wrong_dept": 3},
		Resources: []ingest.ResourceStats{{Resource: resA, Batches: 7, RowsApplied: 6, RowsSkipped: 1, DeadLetters: 3}}}
	h, err := New(Config{Store: db, Catalog: cat, Ingest: stats, Registry: prometheus.NewRegistry(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(h)
	t.Cleanup(f.srv.Close)
	return f
}

// call makes a request and decodes the JSON answer.
func (f *fixture) call(method, path, token string, body string, hdr ...string) (int, map[string]any, http.Header) {
	f.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.srv.URL+path, rd)
	if err != nil {
		f.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &out); err != nil {
			f.t.Fatalf("%s %s: answer is not a JSON object: %s", method, path, raw)
		}
	}
	return resp.StatusCode, out, resp.Header
}

func TestErrors(t *testing.T) {
	f := newFixture(t)
	big := `{"agent_id":"` + strings.Repeat("x", MaxBodyBytes) + `"}`
	cases := []struct {
		name, method, path, token, body string
		hdr                             []string
		status                          int
		field                           string
	}{
		{"no token", "GET", "/api/v1/catalog/resources", "", "", nil, 401, "Authorization"},
		{"unknown token", "GET", "/api/v1/catalog/resources", auth.TokenPrefix + strings.Repeat("A", 32), "", nil, 401, "Authorization"},
		{"malformed token", "GET", "/api/v1/catalog/resources", "abc", "", nil, 401, "Authorization"},
		{"revoked token", "GET", "/api/v1/catalog/resources", f.revoked, "", nil, 401, "Authorization"},
		{"basic auth", "GET", "/api/v1/agents", "", "", []string{"Authorization", "Basic dTpw"}, 401, "Authorization"},
		{"unknown resource", "GET", "/api/v1/catalog/resources/NOPE-1", f.a, "", nil, 404, "code"},
		{"catalog unknown param", "GET", "/api/v1/catalog/resources?x=1", f.a, "", nil, 400, "x"},
		{"agents needs admin", "GET", "/api/v1/agents", f.a, "", nil, 403, "Authorization"},
		{"stats needs admin", "GET", "/api/v1/ingest/stats", f.b, "", nil, 403, "Authorization"},
		{"dead letters need admin", "GET", "/api/v1/deadletters", f.a, "", nil, 403, "Authorization"},
		{"dead letters limit", "GET", "/api/v1/deadletters?limit=x", f.admin, "", nil, 400, "limit"},
		{"register needs dept token", "POST", "/api/v1/agents/register", f.admin, `{"agent_id":"x","dept":"` + deptA + `","resources":["` + resA + `"]}`, nil, 403, "Authorization"},
		{"register other dept", "POST", "/api/v1/agents/register", f.a, `{"agent_id":"x","dept":"` + deptB + `","resources":["` + resB + `"]}`, nil, 403, "dept"},
		{"register not provided", "POST", "/api/v1/agents/register", f.a, `{"agent_id":"x","dept":"` + deptA + `","resources":["` + resA + `","` + resB + `"]}`, nil, 403, "resources[1]"},
		{"register unknown resource", "POST", "/api/v1/agents/register", f.a, `{"agent_id":"x","dept":"` + deptA + `","resources":["NOPE-1"]}`, nil, 404, "resources[0]"},
		{"register twice listed", "POST", "/api/v1/agents/register", f.a, `{"agent_id":"x","dept":"` + deptA + `","resources":["` + resA + `","` + resA + `"]}`, nil, 400, "resources[1]"},
		{"register no resources", "POST", "/api/v1/agents/register", f.a, `{"agent_id":"x","dept":"` + deptA + `","resources":[]}`, nil, 400, "resources"},
		{"register no agent id", "POST", "/api/v1/agents/register", f.a, `{"dept":"` + deptA + `","resources":["` + resA + `"]}`, nil, 400, "agent_id"},
		{"register no dept", "POST", "/api/v1/agents/register", f.a, `{"agent_id":"x","resources":["` + resA + `"]}`, nil, 400, "dept"},
		{"register unknown key", "POST", "/api/v1/agents/register", f.a, `{"agent_id":"x","dept":"` + deptA + `","resources":["` + resA + `"],"colour":"red"}`, nil, 400, "colour"},
		{"register wrong type", "POST", "/api/v1/agents/register", f.a, `{"agent_id":"x","dept":"` + deptA + `","resources":"` + resA + `"}`, nil, 400, "resources"},
		{"register wrong type nested", "POST", "/api/v1/agents/heartbeat", f.a, `{"agent_id":"x","dept":"` + deptA + `","resources":[{"code":"` + resA + `","rows_read":"many"}]}`, nil, 400, "resources.rows_read"},
		{"register empty body", "POST", "/api/v1/agents/register", f.a, "", nil, 400, "body"},
		{"register bad JSON", "POST", "/api/v1/agents/register", f.a, `{"agent_id":`, nil, 400, "body"},
		{"register syntax error", "POST", "/api/v1/agents/register", f.a, `{"agent_id" "x"}`, nil, 400, "body"},
		{"register trailing data", "POST", "/api/v1/agents/register", f.a, `{"agent_id":"x","dept":"` + deptA + `","resources":["` + resA + `"]} {}`, nil, 400, "body"},
		{"register body too large", "POST", "/api/v1/agents/register", f.a, big, nil, 413, "body"},
		{"register not JSON", "POST", "/api/v1/agents/register", f.a, `{}`, []string{"Content-Type", "text/plain"}, 415, "Content-Type"},
		{"register long agent id", "POST", "/api/v1/agents/register", f.a, `{"agent_id":"` + strings.Repeat("a", 129) + `","dept":"` + deptA + `","resources":["` + resA + `"]}`, nil, 400, "agent_id"},
		{"heartbeat negative", "POST", "/api/v1/agents/heartbeat", f.a, `{"agent_id":"x","dept":"` + deptA + `","resources":[{"code":"` + resA + `","rows_read":-1}]}`, nil, 400, "resources[0].rows_read"},
		{"heartbeat negative lag", "POST", "/api/v1/agents/heartbeat", f.a, `{"agent_id":"x","dept":"` + deptA + `","resources":[{"code":"` + resA + `","lag_seconds":-0.5}]}`, nil, 400, "resources[0].lag_seconds"},
		{"heartbeat not provided", "POST", "/api/v1/agents/heartbeat", f.a, `{"agent_id":"x","dept":"` + deptA + `","resources":[{"code":"` + resB + `"}]}`, nil, 403, "resources[0].code"},
		{"heartbeat no code", "POST", "/api/v1/agents/heartbeat", f.a, `{"agent_id":"x","dept":"` + deptA + `","resources":[{}]}`, nil, 400, "resources[0].code"},
		{"records of another dept", "GET", "/api/v1/resources/" + resA + "/records", f.b, "", nil, 403, "code"},
		{"keys of another dept", "GET", "/api/v1/resources/" + resA + "/keys", f.b, "", nil, 403, "code"},
		{"records unknown resource", "GET", "/api/v1/resources/NOPE-1/records", f.admin, "", nil, 404, "code"},
		{"keys unknown resource", "GET", "/api/v1/resources/NOPE-1/keys", f.admin, "", nil, 404, "code"},
		{"limit not a number", "GET", "/api/v1/resources/" + resA + "/records?limit=ten", f.a, "", nil, 400, "limit"},
		{"limit zero", "GET", "/api/v1/resources/" + resA + "/records?limit=0", f.a, "", nil, 400, "limit"},
		{"limit too big", "GET", "/api/v1/resources/" + resA + "/records?limit=1001", f.a, "", nil, 400, "limit"},
		{"keys limit too big", "GET", "/api/v1/resources/" + resA + "/keys?limit=5000", f.a, "", nil, 400, "limit"},
		{"include_deleted not bool", "GET", "/api/v1/resources/" + resA + "/records?include_deleted=maybe", f.a, "", nil, 400, "include_deleted"},
		{"unknown query param", "GET", "/api/v1/resources/" + resA + "/records?page=2", f.a, "", nil, 400, "page"},
		{"param twice", "GET", "/api/v1/resources/" + resA + "/records?limit=1&limit=2", f.a, "", nil, 400, "limit"},
		{"key and after", "GET", "/api/v1/resources/" + resA + "/records?key=a&after=b", f.a, "", nil, 400, "key"},
		{"unknown key", "GET", "/api/v1/resources/" + resA + "/records?key=91230600MA00000077", f.a, "", nil, 404, "key"},
		{"tombstone hidden", "GET", "/api/v1/resources/" + resA + "/records?key=91230600MA99999999", f.a, "", nil, 404, "key"},
		{"method not allowed", "DELETE", "/api/v1/agents", f.admin, "", nil, 405, "method"},
		{"no such endpoint", "GET", "/api/v1/nothing", f.admin, "", nil, 404, "path"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ff := *f
			ff.t = t
			status, body, hdr := ff.call(c.method, c.path, c.token, c.body, c.hdr...)
			if status != c.status {
				t.Fatalf("status %d, want %d: %v", status, c.status, body)
			}
			if body["field"] != c.field || body["error"] == "" || body["error"] == nil {
				t.Fatalf("error body %v, want field %q", body, c.field)
			}
			if status == 401 && hdr.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
			if status == 405 && hdr.Get("Allow") != "GET, HEAD" {
				t.Errorf("405 Allow = %q", hdr.Get("Allow"))
			}
		})
	}
}

func TestCatalog(t *testing.T) {
	f := newFixture(t)
	fp := testCatalog(t).Resources[0].Schema.Fingerprint()
	for _, tok := range []string{f.admin, f.a, f.b} {
		status, body, _ := f.call("GET", "/api/v1/catalog/resources", tok, "")
		if status != 200 {
			t.Fatalf("list: %d %v", status, body)
		}
		list := body["resources"].([]any)
		if len(list) != 2 {
			t.Fatalf("list: %v", list)
		}
		first := list[0].(map[string]any)
		if first["code"] != resA || first["schema_version"] != 1.0 || first["fingerprint"] != fp || first["provider"] != deptA {
			t.Fatalf("list entry %v", first)
		}
	}
	status, body, _ := f.call("GET", "/api/v1/catalog/resources/"+resA, f.b, "")
	if status != 200 || body["code"] != resA || body["fingerprint"] != fp || len(body["fields"].([]any)) != 3 {
		t.Fatalf("show: %d %v", status, body)
	}
	// The answer decodes into catalog.Resource, as agents do.
	raw, _ := json.Marshal(body)
	var res catalog.Resource
	if err := json.Unmarshal(raw, &res); err != nil || res.Schema.Fingerprint() != fp || res.PrimaryKey[0] != "uscc" {
		t.Fatalf("decode into catalog.Resource: %+v %v", res, err)
	}
}

func TestAgents(t *testing.T) {
	f := newFixture(t)
	reg := `{"agent_id":"fep-01","dept":"` + deptA + `","version":"1.2.3","resources":["` + resA + `"]}`
	status, body, _ := f.call("POST", "/api/v1/agents/register", f.a, reg, "Content-Type", "application/json; charset=utf-8")
	if status != 200 || body["agent_id"] != "fep-01" {
		t.Fatalf("register: %d %v", status, body)
	}
	rs := body["resources"].([]any)
	if len(rs) != 1 || rs[0].(map[string]any)["code"] != resA || rs[0].(map[string]any)["schema_version"] != 1.0 {
		t.Fatalf("register resources %v", rs)
	}
	// Another department may not take the same agent id.
	status, body, _ = f.call("POST", "/api/v1/agents/register", f.b, `{"agent_id":"fep-01","dept":"`+deptB+`","resources":["`+resB+`"]}`)
	if status != 409 || body["field"] != "agent_id" {
		t.Fatalf("agent id of another dept: %d %v", status, body)
	}
	hb := `{"agent_id":"fep-01","dept":"` + deptA + `","version":"1.2.3","last_error":"",
	  "resources":[{"code":"` + resA + `","phase":"snapshot","rows_read":100,"rows_sent":90,"rows_acked":80,"lag_seconds":1.5,"checkpoint":"k1","last_error":"kafka: timeout"}]}`
	status, body, _ = f.call("POST", "/api/v1/agents/heartbeat", f.a, hb)
	if status != 200 || body["agent_id"] != "fep-01" || body["received_at"] == nil {
		t.Fatalf("heartbeat: %d %v", status, body)
	}
	status, body, _ = f.call("GET", "/api/v1/agents", f.admin, "")
	if status != 200 {
		t.Fatalf("agents: %d %v", status, body)
	}
	agents := body["agents"].([]any)
	if len(agents) != 1 {
		t.Fatalf("agents %v", agents)
	}
	a := agents[0].(map[string]any)
	st := a["resources"].([]any)[0].(map[string]any)
	if a["dept"] != deptA || a["version"] != "1.2.3" || st["phase"] != "snapshot" || st["rows_acked"] != 80.0 || st["last_error"] != "kafka: timeout" {
		t.Fatalf("agent %v", a)
	}
	if a["registered_at"] == nil || a["last_heartbeat"] == nil || a["seconds_since_heartbeat"].(float64) < 0 {
		t.Fatalf("agent times %v", a)
	}
}

func TestRecordsAndKeys(t *testing.T) {
	f := newFixture(t)
	// Page through with limit=2: 2 + 2 + 1.
	var keys []string
	after := ""
	for page := 0; ; page++ {
		path := "/api/v1/resources/" + resA + "/records?limit=2"
		if after != "" {
			path += "&after=" + after
		}
		status, body, _ := f.call("GET", path, f.a, "")
		if status != 200 || body["resource"] != resA {
			t.Fatalf("page %d: %d %v", page, status, body)
		}
		for _, r := range body["records"].([]any) {
			rec := r.(map[string]any)
			if rec["deleted"] != false || rec["data"].(map[string]any)["uscc"] != rec["key"] || rec["dept"] != deptA {
				t.Fatalf("record %v", rec)
			}
			keys = append(keys, rec["key"].(string))
		}
		next, ok := body["next_after"].(string)
		if !ok {
			break
		}
		after = next
		if page > 5 {
			t.Fatal("paging does not end")
		}
	}
	if len(keys) != 5 || keys[0] != "91230600MA00000001" || keys[4] != "91230600MA00000005" {
		t.Fatalf("paged keys %v", keys)
	}
	// Admin sees the tombstone with include_deleted.
	status, body, _ := f.call("GET", "/api/v1/resources/"+resA+"/records?include_deleted=true&limit=1000", f.admin, "")
	if status != 200 || len(body["records"].([]any)) != 6 || body["next_after"] != nil {
		t.Fatalf("include_deleted: %d %v", status, body)
	}
	last := body["records"].([]any)[5].(map[string]any)
	if last["deleted"] != true || last["data"] != nil {
		t.Fatalf("tombstone %v", last)
	}
	// Lookup by key.
	status, body, _ = f.call("GET", "/api/v1/resources/"+resA+"/records?key=91230600MA00000003", f.a, "")
	recs := body["records"].([]any)
	if status != 200 || len(recs) != 1 || recs[0].(map[string]any)["version"] != 3.0 {
		t.Fatalf("key lookup: %d %v", status, body)
	}
	status, body, _ = f.call("GET", "/api/v1/resources/"+resA+"/records?key=91230600MA99999999&include_deleted=1", f.a, "")
	if status != 200 || body["records"].([]any)[0].(map[string]any)["deleted"] != true {
		t.Fatalf("tombstone lookup: %d %v", status, body)
	}
	// Keys: live only, with versions.
	status, body, _ = f.call("GET", "/api/v1/resources/"+resA+"/keys?limit=4", f.a, "")
	ks := body["keys"].([]any)
	if status != 200 || len(ks) != 4 || body["next_after"] != "91230600MA00000004" || ks[0].(map[string]any)["version"] != 1.0 {
		t.Fatalf("keys: %d %v", status, body)
	}
	status, body, _ = f.call("GET", "/api/v1/resources/"+resA+"/keys?after=91230600MA00000004", f.admin, "")
	if status != 200 || len(body["keys"].([]any)) != 1 || body["next_after"] != nil {
		t.Fatalf("keys page 2: %d %v", status, body)
	}
	// An empty resource answers with empty lists, not null.
	status, body, _ = f.call("GET", "/api/v1/resources/"+resB+"/records", f.b, "")
	if status != 200 || body["records"] == nil || len(body["records"].([]any)) != 0 {
		t.Fatalf("empty records: %d %v", status, body)
	}
}

func TestIngestStatsAndDeadLetters(t *testing.T) {
	f := newFixture(t)
	status, body, _ := f.call("GET", "/api/v1/ingest/stats", f.admin, "")
	if status != 200 || body["dead_letters_stored"] != 3.0 {
		t.Fatalf("stats: %d %v", status, body)
	}
	rs := body["resources"].([]any)
	if len(rs) != 2 {
		t.Fatalf("stats resources %v", rs)
	}
	b, a := rs[0].(map[string]any), rs[1].(map[string]any) // sorted by code: CA-… before MR-…
	if a["resource"] != resA || a["live"] != 5.0 || a["deleted"] != 1.0 || a["last_ingest"] == nil ||
		a["batches"] != 7.0 || a["rows_applied"] != 6.0 || a["rows_skipped"] != 1.0 || a["dead_letters"] != 3.0 || a["provider"] != deptA {
		t.Fatalf("stats of A %v", a)
	}
	if b["resource"] != resB || b["live"] != 0.0 || b["last_ingest"] != nil {
		t.Fatalf("stats of B %v", b)
	}
	in := body["ingest"].(map[string]any)
	if in["messages"] != 10.0 || in["dead_letters_by_reason"].(map[string]any)["wrong_dept"] != 3.0 {
		t.Fatalf("ingest counters %v", in)
	}

	status, body, _ = f.call("GET", "/api/v1/deadletters?limit=2", f.admin, "")
	ds := body["dead_letters"].([]any)
	if status != 200 || len(ds) != 2 || body["total"] != 3.0 {
		t.Fatalf("dead letters: %d %v", status, body)
	}
	d := ds[0].(map[string]any)
	if d["offset"] != 2.0 || !strings.HasPrefix(d["reason"].(string), "wrong_dept") || d["payload_bytes"] != 3.0 ||
		d["headers"].([]any)[0].(map[string]any)["key"] != "tb-resource" {
		t.Fatalf("dead letter %v", d)
	}
}

func TestHealthAndMetrics(t *testing.T) {
	f := newFixture(t)
	status, body, _ := f.call("GET", "/healthz", "", "")
	if status != 200 || body["status"] != "ok" {
		t.Fatalf("healthz: %d %v", status, body)
	}
	f.call("GET", "/api/v1/catalog/resources", f.a, "")
	resp, err := http.Get(f.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(raw), `tongban_hub_http_requests_total{code="200",route="GET /api/v1/catalog/resources"} 1`) {
		t.Fatalf("metrics: %d\n%s", resp.StatusCode, raw)
	}
}

func TestStoreFailureIs500(t *testing.T) {
	f := newFixture(t)
	_ = f.db.Close()
	status, body, _ := f.call("GET", "/api/v1/catalog/resources", f.a, "")
	if status != 500 || !strings.Contains(body["error"].(string), "internal error") {
		t.Fatalf("closed store: %d %v", status, body)
	}
}

// FuzzRegister sends arbitrary bodies to the register endpoint: the answer
// is always JSON with a 2xx or 4xx status, and a 4xx names a field.
func FuzzRegister(f *testing.F) {
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{Driver: store.DriverSQLite, DSN: filepath.Join(f.TempDir(), "hub.db")})
	if err != nil {
		f.Fatal(err)
	}
	defer db.Close()
	cat := testCatalog(f)
	tok, err := auth.Create(ctx, db, "a", deptA, auth.RoleDept)
	if err != nil {
		f.Fatal(err)
	}
	h, err := New(Config{Store: db, Catalog: cat, Registry: prometheus.NewRegistry(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(`{"agent_id":"x","dept":"` + deptA + `","resources":["` + resA + `"]}`)
	f.Add(`{"agent_id":"x","dept":"` + deptA + `","resources":[{"code":1}]}`)
	f.Add(`[]`)
	f.Add(`{"a":`)
	f.Fuzz(func(t *testing.T, body string) {
		for _, path := range []string{"/api/v1/agents/register", "/api/v1/agents/heartbeat"} {
			req := httptest.NewRequest("POST", path, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+tok)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			var out map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
				t.Fatalf("%s: answer %d is not JSON: %q", path, w.Code, w.Body.String())
			}
			switch {
			case w.Code == 200:
			case w.Code >= 400 && w.Code < 500:
				if out["field"] == nil || out["error"] == nil {
					t.Fatalf("%s: %d without field: %v", path, w.Code, out)
				}
			default:
				t.Fatalf("%s: status %d: %v", path, w.Code, out)
			}
		}
	})
}

// FuzzRecordsQuery sends arbitrary query strings to the records and keys
// endpoints: always JSON, 200 or a 4xx naming a field.
func FuzzRecordsQuery(f *testing.F) {
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{Driver: store.DriverSQLite, DSN: filepath.Join(f.TempDir(), "hub.db")})
	if err != nil {
		f.Fatal(err)
	}
	defer db.Close()
	tok, err := auth.Create(ctx, db, "a", deptA, auth.RoleDept)
	if err != nil {
		f.Fatal(err)
	}
	h, err := New(Config{Store: db, Catalog: testCatalog(f), Registry: prometheus.NewRegistry(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		f.Fatal(err)
	}
	for _, q := range []string{"limit=10", "after=x&limit=1000", "key=a", "include_deleted=true", "limit=-1", "x=%zz", "limit=1&limit=2"} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, q string) {
		for _, p := range []string{"/records", "/keys"} {
			req := httptest.NewRequest("GET", "/api/v1/resources/"+resA+p, nil)
			req.URL.RawQuery = q
			req.Header.Set("Authorization", "Bearer "+tok)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			var out map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
				t.Fatalf("%s?%s: answer %d is not JSON: %q", p, q, w.Code, w.Body.String())
			}
			if w.Code != 200 && (w.Code < 400 || w.Code >= 500 || out["field"] == nil) {
				t.Fatalf("%s?%s: %d %v", p, q, w.Code, out)
			}
		}
	})
}
