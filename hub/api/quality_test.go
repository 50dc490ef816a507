package api

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tongban/tongban/hub/store"
)

// newQualityFixture is newFixture with the quality routes, some quarantine
// entries (three of A, one of B), fixes and figures.
func newQualityFixture(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t)
	ctx := context.Background()
	h, err := New(Config{Store: f.db, Catalog: testCatalog(t), Quality: f.db, Registry: prometheus.NewRegistry(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(h)
	t.Cleanup(f.srv.Close)

	viol := func(field, rule string) store.QuarantineViolation {
		return store.QuarantineViolation{Field: field, Rule: rule, ReasonEN: field + " is invalid", ReasonZH: field + "无效"}
	}
	at := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	if _, err := f.db.UpdateQuarantine(ctx, []store.QuarantineUpdate{
		{Resource: resA, Key: "91230600MA0000000X", Dept: deptA, Version: 1, Data: json.RawMessage(`{"uscc":"91230600MA0000000X","name":""}`),
			Violations: []store.QuarantineViolation{viol("uscc", "uscc"), viol("name", "required")}, At: at},
		{Resource: resA, Key: "91230600MA0000000Y", Dept: deptA, Version: 1, Data: json.RawMessage(`{"uscc":"91230600MA0000000Y","name":"x"}`),
			Violations: []store.QuarantineViolation{viol("uscc", "uscc")}, At: at},
		{Resource: resB, Key: "7", Dept: deptB, Version: 1, Data: json.RawMessage(`{"record_id":7}`),
			Violations: []store.QuarantineViolation{viol("name", "required")}, At: at},
	}); err != nil {
		t.Fatal(err)
	}
	// The second record is fixed at the source.
	if _, err := f.db.UpdateQuarantine(ctx, []store.QuarantineUpdate{{Resource: resA, Key: "91230600MA0000000Y", Dept: deptA, Version: 2, At: at.Add(time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	if err := f.db.RecordFixes(ctx, []store.QualityFix{
		{Resource: resA, Key: "k1", Field: "uscc", Rule: "citizen_id", Original: `"a"`, Fixed: "A", Version: 1, FixedAt: at},
		{Resource: resB, Key: "k2", Field: "name", Rule: "citizen_id", Original: `"b"`, Fixed: "B", Version: 1, FixedAt: at},
	}); err != nil {
		t.Fatal(err)
	}
	today := time.Now()
	for i, day := range []string{today.AddDate(0, 0, -40).Format(time.DateOnly), today.AddDate(0, 0, -1).Format(time.DateOnly), today.Format(time.DateOnly)} {
		v := 0.5 + float64(i)/10
		if err := f.db.SaveQualityFigures(ctx, day, []store.QualityFigure{
			{Resource: resA, Dept: deptA, Dimension: "completeness", Value: v, Numerator: int64(v * 10), Denominator: 10},
			{Resource: resA, Dept: deptA, Dimension: "completeness", Field: "name", Value: 1, Numerator: 10, Denominator: 10},
			{Resource: resA, Dept: deptA, Dimension: "timeliness", Value: 0, Numerator: 90000, Denominator: 86400},
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.db.SaveQualityFigures(ctx, today.AddDate(0, 0, -2).Format(time.DateOnly), []store.QualityFigure{
		{Resource: resB, Dept: deptB, Dimension: "validity", Value: 0.25, Numerator: 1, Denominator: 4},
	}); err != nil {
		t.Fatal(err)
	}
	return f
}

func entryKeys(body map[string]any) []string {
	var out []string
	for _, e := range body["entries"].([]any) {
		m := e.(map[string]any)
		out = append(out, fmt.Sprintf("%s/%s/%s", m["key"], m["field"], m["status"]))
	}
	return out
}

func TestQuarantineList(t *testing.T) {
	f := newQualityFixture(t)
	cases := []struct {
		name, path, token string
		want              string
	}{
		{"admin open", "/api/v1/quarantine", f.admin, "[91230600MA0000000X/uscc/open 91230600MA0000000X/name/open 7/name/open]"},
		{"admin all", "/api/v1/quarantine?status=all", f.admin, "[91230600MA0000000X/uscc/open 91230600MA0000000X/name/open 91230600MA0000000Y/uscc/closed 7/name/open]"},
		{"admin closed", "/api/v1/quarantine?status=closed", f.admin, "[91230600MA0000000Y/uscc/closed]"},
		{"admin by dept", "/api/v1/quarantine?dept=" + deptB, f.admin, "[7/name/open]"},
		{"dept sees its own", "/api/v1/quarantine", f.a, "[91230600MA0000000X/uscc/open 91230600MA0000000X/name/open]"},
		{"dept names itself", "/api/v1/quarantine?dept=" + deptB, f.b, "[7/name/open]"},
		{"by rule", "/api/v1/quarantine?rule=required", f.admin, "[91230600MA0000000X/name/open 7/name/open]"},
		{"by field and resource", "/api/v1/quarantine?field=uscc&resource=" + resA + "&status=all", f.admin, "[91230600MA0000000X/uscc/open 91230600MA0000000Y/uscc/closed]"},
	}
	for _, c := range cases {
		status, body, _ := f.call("GET", c.path, c.token, "")
		if status != 200 {
			t.Fatalf("%s: %d %v", c.name, status, body)
		}
		if got := fmt.Sprint(entryKeys(body)); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
	// An entry in full.
	_, body, _ := f.call("GET", "/api/v1/quarantine?status=closed", f.a, "")
	e := body["entries"].([]any)[0].(map[string]any)
	if e["resource"] != resA || e["dept"] != deptA || e["rule"] != "uscc" || e["reason_zh"] != "uscc无效" || e["reason_en"] != "uscc is invalid" ||
		e["version"] != 2.0 || e["close_reason"] != store.CloseFixedAtSource || e["closed_at"] != "2026-03-01T09:00:00Z" ||
		e["opened_at"] != "2026-03-01T08:00:00Z" || e["data"].(map[string]any)["name"] != "x" || len(e["key_parts"].([]any)) != 1 {
		t.Fatalf("entry %v", e)
	}
	// Paging.
	var keys []string
	path := "/api/v1/quarantine?status=all&limit=3"
	for page := 0; page < 5; page++ {
		status, body, _ := f.call("GET", path, f.admin, "")
		if status != 200 {
			t.Fatalf("page %d: %d %v", page, status, body)
		}
		keys = append(keys, entryKeys(body)...)
		next, ok := body["next_after"].(float64)
		if !ok {
			break
		}
		path = fmt.Sprintf("/api/v1/quarantine?status=all&limit=3&after=%d", int64(next))
	}
	if len(keys) != 4 {
		t.Fatalf("paged %v", keys)
	}
}

func TestQualityErrors(t *testing.T) {
	f := newQualityFixture(t)
	cases := []struct {
		name, path, token string
		status            int
		field             string
	}{
		{"other dept", "/api/v1/quarantine?dept=" + deptB, f.a, 403, "dept"},
		{"bad status", "/api/v1/quarantine?status=pending", f.admin, 400, "status"},
		{"bad after", "/api/v1/quarantine?after=-1", f.admin, 400, "after"},
		{"bad after text", "/api/v1/quarantine?after=x", f.admin, 400, "after"},
		{"bad limit", "/api/v1/quarantine?limit=0", f.admin, 400, "limit"},
		{"unknown param", "/api/v1/quarantine?severity=1", f.admin, 400, "severity"},
		{"unknown resource", "/api/v1/quarantine?resource=NOPE-1", f.admin, 404, "resource"},
		{"no token", "/api/v1/quarantine", "", 401, "Authorization"},
		{"fixes need admin", "/api/v1/quality/fixes", f.a, 403, "Authorization"},
		{"fixes unknown resource", "/api/v1/quality/fixes?resource=NOPE-1", f.admin, 404, "resource"},
		{"fixes bad limit", "/api/v1/quality/fixes?limit=5000", f.admin, 400, "limit"},
		{"scorecards param", "/api/v1/quality/scorecards?day=1", f.a, 400, "day"},
		{"history unknown resource", "/api/v1/quality/scorecards/NOPE-1/history", f.a, 404, "resource"},
		{"history days zero", "/api/v1/quality/scorecards/" + resA + "/history?days=0", f.a, 400, "days"},
		{"history days text", "/api/v1/quality/scorecards/" + resA + "/history?days=month", f.a, 400, "days"},
		{"history days too many", "/api/v1/quality/scorecards/" + resA + "/history?days=367", f.a, 400, "days"},
	}
	for _, c := range cases {
		status, body, _ := f.call("GET", c.path, c.token, "")
		if status != c.status || body["field"] != c.field {
			t.Errorf("%s: %d %v, want %d naming %q", c.name, status, body, c.status, c.field)
		}
	}
}

func TestQualityFixes(t *testing.T) {
	f := newQualityFixture(t)
	status, body, _ := f.call("GET", "/api/v1/quality/fixes", f.admin, "")
	if status != 200 || len(body["fixes"].([]any)) != 2 || body["next_after"] != nil {
		t.Fatalf("fixes: %d %v", status, body)
	}
	status, body, _ = f.call("GET", "/api/v1/quality/fixes?resource="+resB, f.admin, "")
	fx := body["fixes"].([]any)
	if status != 200 || len(fx) != 1 {
		t.Fatalf("fixes of B: %d %v", status, body)
	}
	if m := fx[0].(map[string]any); m["key"] != "k2" || m["original"] != `"b"` || m["fixed"] != "B" || m["fixed_at"] != "2026-03-01T08:00:00Z" {
		t.Fatalf("fix %v", m)
	}
	status, body, _ = f.call("GET", "/api/v1/quality/fixes?limit=1", f.admin, "")
	if status != 200 || len(body["fixes"].([]any)) != 1 || body["next_after"] == nil {
		t.Fatalf("fixes page: %d %v", status, body)
	}
	next := int64(body["next_after"].(float64))
	_, body, _ = f.call("GET", fmt.Sprintf("/api/v1/quality/fixes?limit=1&after=%d", next), f.admin, "")
	if m := body["fixes"].([]any)[0].(map[string]any); m["key"] != "k2" {
		t.Fatalf("fixes page 2: %v", body)
	}
}

func TestScorecards(t *testing.T) {
	f := newQualityFixture(t)
	today := time.Now().Format(time.DateOnly)
	status, body, _ := f.call("GET", "/api/v1/quality/scorecards", f.b, "")
	if status != 200 {
		t.Fatalf("scorecards: %d %v", status, body)
	}
	cards := body["scorecards"].([]any)
	if len(cards) != 2 {
		t.Fatalf("scorecards %v", cards)
	}
	b, a := cards[0].(map[string]any), cards[1].(map[string]any) // CA-… before MR-…
	if a["resource"] != resA || a["day"] != today || a["dept"] != deptA || a["name"] != "资源 "+resA || a["overdue"] != true ||
		a["last_update_age_seconds"] != 90000.0 {
		t.Fatalf("card of A %v", a)
	}
	if c := a["scores"].(map[string]any)["completeness"].(map[string]any); c["value"] != 0.7 || c["denominator"] != 10.0 {
		t.Fatalf("completeness of A %v", c)
	}
	if n := a["fields"].(map[string]any)["name"].(map[string]any); n["value"] != 1.0 {
		t.Fatalf("field completeness of A %v", n)
	}
	if b["resource"] != resB || b["day"] != time.Now().AddDate(0, 0, -2).Format(time.DateOnly) || b["overdue"] != nil || b["fields"] != nil {
		t.Fatalf("card of B %v", b)
	}

	// History: the 40-day-old figures fall outside the default 30 days.
	status, body, _ = f.call("GET", "/api/v1/quality/scorecards/"+resA+"/history", f.a, "")
	if status != 200 || body["resource"] != resA || body["to"] != today {
		t.Fatalf("history: %d %v", status, body)
	}
	days := body["days"].([]any)
	if len(days) != 2 || days[0].(map[string]any)["day"].(string) >= days[1].(map[string]any)["day"].(string) {
		t.Fatalf("history days %v", days)
	}
	if v := days[0].(map[string]any)["scores"].(map[string]any)["completeness"].(map[string]any)["value"]; v != 0.6 {
		t.Fatalf("history first value %v", v)
	}
	_, body, _ = f.call("GET", "/api/v1/quality/scorecards/"+resA+"/history?days=41", f.a, "")
	if len(body["days"].([]any)) != 3 {
		t.Fatalf("41 days: %v", body)
	}
	_, body, _ = f.call("GET", "/api/v1/quality/scorecards/"+resB+"/history?days=1", f.a, "")
	if d := body["days"].([]any); len(d) != 0 {
		t.Fatalf("1 day of B: %v", d)
	}
}

// Without a quality store the routes are absent.
func TestQualityRoutesOptional(t *testing.T) {
	f := newFixture(t)
	status, body, _ := f.call("GET", "/api/v1/quarantine", f.admin, "")
	if status != 404 || body["field"] != "path" {
		t.Fatalf("quarantine without a quality store: %d %v", status, body)
	}
}

// FuzzAfterParam: an accepted after= is a whole number >= 0 that reads back
// the same; anything else is a 400 naming the parameter.
func FuzzAfterParam(f *testing.F) {
	for _, s := range []string{"0", "17", "-1", "x", "", "9223372036854775807", "9223372036854775808", "+5", " 1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, e := query{v: url.Values{"after": {s}}}.after("after")
		if e != nil {
			if e.status != 400 || e.field != "after" {
				t.Fatalf("after=%q: %+v", s, e)
			}
			return
		}
		if n < 0 {
			t.Fatalf("after=%q accepted as %d", s, n)
		}
		if m, err := strconv.ParseInt(s, 10, 64); err != nil || m != n {
			t.Fatalf("after=%q read as %d", s, n)
		}
	})
}
