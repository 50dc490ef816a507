package api

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tongban/tongban/catalog"
	"github.com/tongban/tongban/hub/audit"
	"github.com/tongban/tongban/hub/auth"
	"github.com/tongban/tongban/hub/licence"
	"github.com/tongban/tongban/hub/store"
	"github.com/tongban/tongban/identifier"
)

const (
	licCompany = "91230600MA1BX0RF39"
	licOther   = "91110000802100433B"
	licType    = "112306000128140287001" // 营业执照, issued by dMarket
)

type licenceFixture struct {
	t                            *testing.T
	db                           *store.DB
	raw                          *sql.DB
	srv                          *httptest.Server
	admin, market, civil, police string
}

func newLicenceFixture(t *testing.T) *licenceFixture {
	t.Helper()
	ctx := context.Background()
	cat, err := catalog.Load(filepath.Join(dataRoot, "catalog"))
	if err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(t.TempDir(), "hub.db")
	db, err := store.Open(ctx, store.Config{Driver: store.DriverSQLite, DSN: dbPath})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	raw, err := sql.Open(store.DriverSQLite, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = raw.Close() })
	log := slog.New(slog.DiscardHandler)
	reg := prometheus.NewRegistry()
	svc, err := licence.New(licence.Config{Store: db, Catalog: cat, Registry: reg, Logger: log,
		Now: func() time.Time { return time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	al, err := audit.New(audit.Config{Store: db, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = al.Close(context.Background()) })
	h, err := New(Config{Store: db, Catalog: cat, Licences: svc, Audit: al, Registry: reg, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	f := &licenceFixture{t: t, db: db, raw: raw, srv: httptest.NewServer(h)}
	t.Cleanup(f.srv.Close)
	tok := func(name, dept, role string) string {
		s, err := auth.Create(ctx, db, name, dept, role)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	f.admin, f.market, f.civil, f.police = tok("ops", "", auth.RoleAdmin), tok("m", dMarket, auth.RoleDept),
		tok("c", dCivil, auth.RoleDept), tok("p", dPolice, auth.RoleDept)
	return f
}

func (f *licenceFixture) call(method, path, token string, body any) (int, map[string]any) {
	f.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			f.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
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
	return resp.StatusCode, out
}

func issueBody() map[string]any {
	return map[string]any{"type_code": licType, "holder_id": licCompany, "holder_name": "大庆某某科技有限公司", "valid_until": "2046-03-01",
		"fields": map[string]string{"legal_representative": "张三", "registered_capital": "100万元人民币",
			"business_scope": "软件开发", "address": "大庆市高新区某路1号"}}
}

func (f *licenceFixture) issue() (id, digest string) {
	f.t.Helper()
	code, out := f.call("POST", "/api/v1/licences", f.market, issueBody())
	if code != http.StatusOK {
		f.t.Fatalf("issue: %d %v", code, out)
	}
	return out["licence"].(map[string]any)["id"].(string), out["digest"].(string)
}

func (f *licenceFixture) verify(token string, body map[string]any) (int, map[string]any) {
	f.t.Helper()
	return f.call("POST", "/api/v1/licences/verify", token, body)
}

func verifyBody(id string) map[string]any {
	return map[string]any{"id": id, "purpose": "办理食品经营许可，核验营业执照", "item_code": "230600-SPJY-001"}
}

func (f *licenceFixture) auditEntries(action string) []store.AuditEntry {
	f.t.Helper()
	es, err := f.db.ListAudit(context.Background(), store.AuditFilter{Action: action, Limit: 100})
	if err != nil {
		f.t.Fatal(err)
	}
	return es
}

func reasonsOf(out map[string]any) string {
	var codes []string
	rs, _ := out["reasons"].([]any)
	for _, r := range rs {
		codes = append(codes, r.(map[string]any)["code"].(string))
	}
	return strings.Join(codes, ",")
}

func TestLicenceIssueAndVerifyAPI(t *testing.T) {
	f := newLicenceFixture(t)
	id, digest := f.issue()

	// Only the type's issuer issues; an admin token is not a department.
	for _, tok := range []string{f.civil, f.admin} {
		if code, out := f.call("POST", "/api/v1/licences", tok, issueBody()); code != http.StatusForbidden || out["field"] != "Authorization" {
			t.Errorf("non-issuer issues: %d %v", code, out)
		}
	}
	bad := issueBody()
	bad["holder_id"] = "91230600MA1BX0RF38"
	if code, out := f.call("POST", "/api/v1/licences", f.market, bad); code != http.StatusBadRequest || out["field"] != "holder_id" {
		t.Errorf("bad holder: %d %v", code, out)
	}
	bad = issueBody()
	bad["colour"] = "red"
	if code, out := f.call("POST", "/api/v1/licences", f.market, bad); code != http.StatusBadRequest || out["field"] != "colour" {
		t.Errorf("unknown key: %d %v", code, out)
	}

	// A verification by another department: valid, sealed, audited.
	body := verifyBody(id)
	body["holder"], body["digest"] = licCompany, digest
	code, out := f.verify(f.civil, body)
	if code != http.StatusOK || out["valid"] != true || out["seal_ok"] != true || out["status"] != "active" || reasonsOf(out) != "" ||
		out["digest"] != digest {
		t.Fatalf("verify: %d %v", code, out)
	}
	lic := out["licence"].(map[string]any)
	if lic["holder_id"] != "912306********RF39" || lic["type_name"] != "营业执照" || lic["id"] != id ||
		out["issuer"].(map[string]any)["name"] != "大庆市市场监督管理局" {
		t.Errorf("summary %v issuer %v", lic, out["issuer"])
	}
	if _, hasFields := lic["fields"]; hasFields {
		t.Error("the verification answer carries the data fields")
	}
	es := f.auditEntries("licence.verify")
	if len(es) != 1 || es[0].Dept != dCivil || es[0].Purpose != "办理食品经营许可，核验营业执照" || es[0].ItemCode != "230600-SPJY-001" ||
		es[0].Resource != id || es[0].Result != audit.Allowed || es[0].Reason != "valid" || es[0].SubjectID != licCompany ||
		float64(es[0].Seq) != out["audit_seq"].(float64) {
		t.Fatalf("audit %+v (answer seq %v)", es, out["audit_seq"])
	}

	// Wrong holder.
	body = verifyBody(id)
	body["holder"] = licOther
	if code, out := f.verify(f.police, body); code != http.StatusOK || out["valid"] != false || reasonsOf(out) != licence.ReasonHolder {
		t.Fatalf("wrong holder: %d %v", code, out)
	}

	// Bad requests name the key and are not audited.
	before := len(f.auditEntries("licence.verify"))
	for _, tt := range []struct {
		drop, field string
	}{{"purpose", "purpose"}, {"item_code", "item_code"}, {"id", "id"}} {
		b := verifyBody(id)
		delete(b, tt.drop)
		if code, out := f.verify(f.civil, b); code != http.StatusBadRequest || out["field"] != tt.field {
			t.Errorf("without %s: %d %v", tt.drop, code, out)
		}
	}
	b := verifyBody(id)
	b["copy"] = "screenshot.png"
	if code, out := f.verify(f.civil, b); code != http.StatusBadRequest || out["field"] != "copy" {
		t.Errorf("unknown key: %d %v", code, out)
	}
	b = verifyBody(id)
	b["digest"] = "zz"
	if code, out := f.verify(f.civil, b); code != http.StatusBadRequest || out["field"] != "digest" {
		t.Errorf("bad digest: %d %v", code, out)
	}
	if code, out := f.call("POST", "/api/v1/licences/verify", f.civil, `{"id": 1}`); code != http.StatusBadRequest || out["field"] != "id" {
		t.Errorf("id as a number: %d %v", code, out)
	}
	if n := len(f.auditEntries("licence.verify")); n != before {
		t.Errorf("bad requests audited: %d entries, want %d", n, before)
	}
	// Admins are not using organisations.
	if code, _ := f.verify(f.admin, verifyBody(id)); code != http.StatusForbidden {
		t.Errorf("admin verifies: %d", code)
	}
	// An unknown licence: 404, audited as denied.
	l, err := identifier.ParseLicenceID(id)
	if err != nil {
		t.Fatal(err)
	}
	unknown, err := identifier.FormatLicenceID(l.TypeCode, l.Issuer, "202600000002", l.Version)
	if err != nil {
		t.Fatal(err)
	}
	if code, out := f.verify(f.civil, verifyBody(unknown)); code != http.StatusNotFound || out["field"] != "id" {
		t.Errorf("unknown licence: %d %v", code, out)
	}
	es = f.auditEntries("licence.verify")
	if es[0].Resource != unknown || es[0].Result != audit.Denied {
		t.Errorf("unknown licence audit: %+v", es[0])
	}

	// The seal's public key.
	if code, out := f.call("GET", "/api/v1/licences/seals/"+dMarket, f.police, nil); code != http.StatusOK ||
		len(out["public_key"].(string)) != 130 || !strings.Contains(out["algorithm"].(string), "SM2") {
		t.Errorf("seal: %d %v", code, out)
	}
	if code, out := f.call("GET", "/api/v1/licences/seals/"+dCivil, f.police, nil); code != http.StatusNotFound || out["field"] != "dept" {
		t.Errorf("seal of a department without one: %d %v", code, out)
	}
}

func TestLicenceLifecycleAPI(t *testing.T) {
	f := newLicenceFixture(t)
	id, _ := f.issue()
	path := "/api/v1/licences/" + id

	// Reasons are required for revoke, suspend and cancel.
	for _, a := range []string{"revoke", "suspend", "cancel"} {
		if code, out := f.call("POST", path+"/"+a, f.market, `{}`); code != http.StatusBadRequest || out["field"] != "reason" {
			t.Errorf("%s without reason: %d %v", a, code, out)
		}
	}
	if code, out := f.call("POST", path+"/delete", f.market, `{}`); code != http.StatusNotFound || out["field"] != "action" {
		t.Errorf("unknown action: %d %v", code, out)
	}
	if code, _ := f.call("POST", path+"/suspend", f.civil, `{"reason":"x"}`); code != http.StatusForbidden {
		t.Errorf("non-issuer suspends: %d", code)
	}

	// Update: a new version, the old identifier superseded.
	code, out := f.call("POST", path+"/update", f.market, map[string]any{"reason": "变更注册资本",
		"fields": map[string]string{"registered_capital": "500万元人民币"}})
	if code != http.StatusOK || out["licence"].(map[string]any)["version"].(float64) != 2 {
		t.Fatalf("update: %d %v", code, out)
	}
	id2 := out["licence"].(map[string]any)["id"].(string)
	if code, out := f.verify(f.civil, verifyBody(id)); code != http.StatusOK || out["valid"] != false ||
		reasonsOf(out) != licence.ReasonSuperseded || out["licence"].(map[string]any)["id"] != id2 {
		t.Errorf("old version: %d %v", code, out)
	}

	// Revoke: invalid with its reason; afterwards every change is a 409.
	if code, out := f.call("POST", "/api/v1/licences/"+id2+"/revoke", f.market, `{"reason":"依法撤销登记"}`); code != http.StatusOK ||
		out["licence"].(map[string]any)["status"] != "revoked" {
		t.Fatalf("revoke: %d %v", code, out)
	}
	code, out = f.verify(f.civil, verifyBody(id2))
	if code != http.StatusOK || out["valid"] != false || out["status"] != "revoked" || reasonsOf(out) != licence.ReasonStatus ||
		!strings.Contains(out["reasons"].([]any)[0].(map[string]any)["message"].(string), "废止") {
		t.Fatalf("revoked verifies: %d %v", code, out)
	}
	code, out = f.call("POST", "/api/v1/licences/"+id2+"/suspend", f.market, `{"reason":"x"}`)
	msg, _ := out["error"].(string)
	if code != http.StatusConflict || out["field"] != "status" || !strings.Contains(msg, "废止") || !strings.Contains(msg, "revoked") {
		t.Fatalf("suspend a revoked licence: %d %v", code, out)
	}

	// The issuer and the bureau read the licence with its events; others do not.
	code, out = f.call("GET", path, f.market, nil)
	if code != http.StatusOK || len(out["versions"].([]any)) != 2 || len(out["events"].([]any)) != 3 ||
		out["events"].([]any)[2].(map[string]any)["reason"] != "依法撤销登记" {
		t.Fatalf("show: %d %v", code, out)
	}
	if code, _ := f.call("GET", path, f.admin, nil); code != http.StatusOK {
		t.Errorf("admin show: %d", code)
	}
	if code, _ := f.call("GET", path, f.civil, nil); code != http.StatusForbidden {
		t.Errorf("other department show: %d", code)
	}
	if code, out := f.call("GET", "/api/v1/licences/1.2.156.3005.2.x", f.market, nil); code != http.StatusBadRequest || out["field"] != "id" {
		t.Errorf("malformed id: %d %v", code, out)
	}

	// Lists: the issuer's own; all for the bureau.
	code, out = f.call("GET", "/api/v1/licences?holder="+licCompany+"&status=revoked", f.market, nil)
	if code != http.StatusOK || len(out["licences"].([]any)) != 1 {
		t.Errorf("issuer list: %d %v", code, out)
	}
	if code, out := f.call("GET", "/api/v1/licences", f.civil, nil); code != http.StatusOK || len(out["licences"].([]any)) != 0 {
		t.Errorf("other department list: %d %v", code, out)
	}
	if code, out := f.call("GET", "/api/v1/licences?type="+licType, f.admin, nil); code != http.StatusOK || len(out["licences"].([]any)) != 1 {
		t.Errorf("admin list: %d %v", code, out)
	}
	if code, out := f.call("GET", "/api/v1/licences?status=gone", f.admin, nil); code != http.StatusBadRequest || out["field"] != "status" {
		t.Errorf("bad status: %d %v", code, out)
	}

	// Every change is in the audit log too.
	for _, a := range []string{"licence.issue", "licence.update", "licence.revoke"} {
		if es := f.auditEntries(a); len(es) != 1 || es[0].Dept != dMarket {
			t.Errorf("%s audit: %+v", a, es)
		}
	}
}

// TestLicenceTamperingAPI: a content row changed in the database does not
// verify: the seal no longer matches the recomputed digest.
func TestLicenceTamperingAPI(t *testing.T) {
	f := newLicenceFixture(t)
	id, _ := f.issue()
	if code, out := f.verify(f.civil, verifyBody(id)); code != http.StatusOK || out["valid"] != true {
		t.Fatalf("before: %d %v", code, out)
	}
	if _, err := f.raw.Exec(`UPDATE licence_versions SET content = replace(content, '100万元人民币', '1亿元人民币')`); err != nil {
		t.Fatal(err)
	}
	code, out := f.verify(f.civil, verifyBody(id))
	if code != http.StatusOK || out["valid"] != false || out["seal_ok"] != false || !strings.Contains(reasonsOf(out), licence.ReasonSeal) {
		t.Fatalf("after tampering: %d %v", code, out)
	}
	es := f.auditEntries("licence.verify")
	if len(es) != 2 || !strings.Contains(es[0].Reason, "invalid") || !strings.Contains(es[0].Reason, licence.ReasonSeal) {
		t.Fatalf("audit of the failed verification: %+v", es)
	}
}

// FuzzDecodeVerifyRequest: the verification request decoder never panics;
// it accepts a request with every required key, or refuses with a 4xx
// naming a key.
func FuzzDecodeVerifyRequest(f *testing.F) {
	f.Add(`{"id":"1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F","purpose":"p","item_code":"i"}`)
	f.Add(`{"id":"x","purpose":"","item_code":"i","holder":"","digest":""}`)
	f.Add(`{"id":"1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F","purpose":"p","item_code":"i","digest":"00"}`)
	f.Add(`{}`)
	f.Add(`[]`)
	f.Add(`{"purpose":1}`)
	f.Add(`{"id":"a"} {}`)
	f.Add(``)
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest(http.MethodPost, "/api/v1/licences/verify", strings.NewReader(body))
		req, e := decodeVerifyRequest(r)
		if e == nil {
			if req.ID == "" || strings.TrimSpace(req.Purpose) == "" || strings.TrimSpace(req.ItemCode) == "" {
				t.Fatalf("accepted %q without a required key: %+v", body, req)
			}
			return
		}
		if e.status < 400 || e.status >= 500 || e.field == "" || e.msg == "" {
			t.Fatalf("%q: answer %d field %q msg %q", body, e.status, e.field, e.msg)
		}
	})
}
