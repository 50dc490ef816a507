package licence

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tongban/tongban/catalog"
	"github.com/tongban/tongban/hub/auth"
	"github.com/tongban/tongban/hub/store"
	"github.com/tongban/tongban/identifier"
)

// Departments and licence types of deploy/catalog.
const (
	deptMarket    = "112306000128140287" // 市场监管局: 营业执照
	deptCivil     = "112306000128140362" // 民政局: 结婚证
	typeBusiness  = "112306000128140287001"
	typeMarriage  = "112306000128140362001"
	companyUSCC   = "91230600MA1BX0RF39"
	otherUSCC     = "91110000802100433B"
	personID      = "11010519491231002X"
	spouseID      = "110105194912310021"
	licenceYearUS = 2026
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

type fixture struct {
	svc  *Service
	db   *store.DB
	raw  *sql.DB // the same SQLite file, for tampering
	clk  *clock
	reg  *prometheus.Registry
	cat  *catalog.Catalog
	path string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	cat, err := catalog.Load("../../deploy/catalog")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "hub.db")
	db, err := store.Open(context.Background(), store.Config{Driver: store.DriverSQLite, DSN: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	raw, err := sql.Open(store.DriverSQLite, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = raw.Close() })
	clk := &clock{t: time.Date(licenceYearUS, 3, 2, 10, 0, 0, 0, Zone())}
	reg := prometheus.NewRegistry()
	svc, err := New(Config{Store: db, Catalog: cat, Registry: reg, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{svc: svc, db: db, raw: raw, clk: clk, reg: reg, cat: cat, path: path}
}

// counter reads a counter of reg with the given label value (0 if absent).
func counter(t *testing.T, reg *prometheus.Registry, name, label string) float64 {
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
			for _, l := range m.GetLabel() {
				if l.GetValue() == label {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

func market() auth.Principal {
	return auth.Principal{TokenID: "tok-market", Dept: deptMarket, Role: auth.RoleDept}
}
func civil() auth.Principal {
	return auth.Principal{TokenID: "tok-civil", Dept: deptCivil, Role: auth.RoleDept}
}
func admin() auth.Principal { return auth.Principal{TokenID: "tok-admin", Role: auth.RoleAdmin} }

func businessLicence() IssueRequest {
	return IssueRequest{TypeCode: typeBusiness, HolderID: companyUSCC, HolderName: "大庆某某科技有限公司", ValidUntil: "2046-03-01",
		Fields: map[string]string{"legal_representative": "张三", "registered_capital": "100万元人民币",
			"business_scope": "软件开发；信息技术咨询服务", "address": "大庆市高新区某路1号"}}
}

func (f *fixture) issue(t *testing.T) Issued {
	t.Helper()
	got, err := f.svc.Issue(context.Background(), market(), businessLicence())
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func (f *fixture) verify(t *testing.T, req VerifyRequest) Verification {
	t.Helper()
	if req.Purpose == "" {
		req.Purpose = "办理食品经营许可，核验营业执照"
	}
	if req.ItemCode == "" {
		req.ItemCode = "11230600MB0000000X001"
	}
	v, err := f.svc.Verify(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func reasonCodes(v Verification) []string {
	var out []string
	for _, r := range v.Reasons {
		out = append(out, r.Code)
	}
	return out
}

func TestIssueAndVerify(t *testing.T) {
	f := newFixture(t)
	got := f.issue(t)
	l := got.Licence
	if !strings.HasPrefix(l.Identifier, "1.2.156.3005.2."+typeBusiness+"."+deptMarket+".202600000001.001.") ||
		l.Status != store.LicenceActive || l.Version != 1 || got.Content.IssueDate != "2026-03-02" || got.Content.ValidFrom != "2026-03-02" ||
		got.Content.IssuerName != "大庆市市场监督管理局" || got.Content.TypeName != "营业执照" || got.Digest != Digest(got.Content.Canonical()) {
		t.Fatalf("issued %+v", got)
	}
	key, err := f.svc.SealKey(context.Background(), deptMarket)
	if err != nil || len(key.PublicKey) != 130 || !strings.HasPrefix(key.PublicKey, "04") {
		t.Fatalf("seal key %+v, %v", key, err)
	}
	if _, err := f.svc.SealKey(context.Background(), deptCivil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("seal of a department that never issued: %v", err)
	}

	v := f.verify(t, VerifyRequest{ID: l.Identifier, Holder: companyUSCC, Digest: got.Digest})
	if !v.Valid || !v.SealOK || v.SealCached || v.Status != store.LicenceActive || len(v.Reasons) != 0 || v.Content.HolderName != "大庆某某科技有限公司" {
		t.Fatalf("first verification %+v", v)
	}
	v = f.verify(t, VerifyRequest{ID: l.Identifier})
	if !v.Valid || !v.SealOK || !v.SealCached {
		t.Fatalf("second verification: %+v; want valid from the cache", v)
	}
	if n := counter(t, f.reg, "tongban_licence_verifications_total", "valid"); n != 2 {
		t.Errorf("valid verifications counted %v", n)
	}
	if n := counter(t, f.reg, "tongban_licence_changes_total", ActionIssue); n != 1 {
		t.Errorf("issues counted %v", n)
	}

	// Wrong holder, wrong digest.
	v = f.verify(t, VerifyRequest{ID: l.Identifier, Holder: otherUSCC, Digest: strings.Repeat("0", 64)})
	if v.Valid || strings.Join(reasonCodes(v), ",") != ReasonHolder+","+ReasonDigest {
		t.Fatalf("wrong holder and digest: %+v", v)
	}
	// Unknown licence.
	lid, err := identifier.ParseLicenceID(l.Identifier)
	if err != nil {
		t.Fatal(err)
	}
	other, err := identifier.FormatLicenceID(lid.TypeCode, lid.Issuer, "202600000009", lid.Version)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Verify(context.Background(), VerifyRequest{ID: other, Purpose: "p", ItemCode: "i"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown licence: %v", err)
	}
}

func TestIssueRefuses(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tests := []struct {
		name  string
		p     auth.Principal
		edit  func(*IssueRequest)
		field string // "" for ErrForbidden
	}{
		{"not the issuer", civil(), func(*IssueRequest) {}, ""},
		{"admin", admin(), func(*IssueRequest) {}, ""},
		{"unknown type", market(), func(r *IssueRequest) { r.TypeCode = "112306000128140287999" }, "type_code"},
		{"no type", market(), func(r *IssueRequest) { r.TypeCode = "" }, "type_code"},
		{"holder is a person ID", market(), func(r *IssueRequest) { r.HolderID = personID }, "holder_id"},
		{"holder bad USCC", market(), func(r *IssueRequest) { r.HolderID = "91230600MA1BX0RF38" }, "holder_id"},
		{"no holder name", market(), func(r *IssueRequest) { r.HolderName = "" }, "holder_name"},
		{"no valid_until", market(), func(r *IssueRequest) { r.ValidUntil = "" }, "valid_until"},
		{"bad date", market(), func(r *IssueRequest) { r.ValidUntil = "2046-02-30" }, "valid_until"},
		{"until before from", market(), func(r *IssueRequest) { r.ValidFrom = "2030-01-01"; r.ValidUntil = "2029-12-31" }, "valid_until"},
		{"missing field", market(), func(r *IssueRequest) { delete(r.Fields, "business_scope") }, "fields.business_scope"},
		{"unknown field", market(), func(r *IssueRequest) { r.Fields["colour"] = "red" }, "fields.colour"},
		{"field too long", market(), func(r *IssueRequest) { r.Fields["legal_representative"] = strings.Repeat("张", 51) }, "fields.legal_representative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := businessLicence()
			tt.edit(&req)
			_, err := f.svc.Issue(ctx, tt.p, req)
			if tt.field == "" {
				if !errors.Is(err, ErrForbidden) {
					t.Fatalf("err %v, want ErrForbidden", err)
				}
				return
			}
			var ie *InputError
			if !errors.As(err, &ie) || ie.Field != tt.field || ie.Msg == "" {
				t.Fatalf("err %v, want an InputError on %s", err, tt.field)
			}
		})
	}
	// A person licence: the holder is a citizen ID.
	got, err := f.svc.Issue(ctx, civil(), IssueRequest{TypeCode: typeMarriage, HolderID: personID, HolderName: "李四",
		ValidUntil: LongTerm, Fields: map[string]string{"spouse_name": "王五", "spouse_id": spouseID,
			"registered_on": "2026-03-02", "certificate_no": "J230600-2026-000001"}})
	if err != nil || got.Licence.HolderType != catalog.SubjectPerson {
		t.Fatalf("marriage licence: %+v, %v", got, err)
	}
	if ls, err := f.svc.List(ctx, market(), ListQuery{Limit: 10}); err != nil || len(ls) != 0 {
		t.Fatalf("refused issues left licences of the market regulator: %d, %v", len(ls), err)
	}
}

func TestLifecycle(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	l := f.issue(t).Licence
	id := l.Identifier
	change := func(p auth.Principal, id string, ch ChangeRequest) (Issued, error) {
		return f.svc.Change(ctx, p, id, ch)
	}
	mustChange := func(id string, ch ChangeRequest) Issued {
		t.Helper()
		got, err := change(market(), id, ch)
		if err != nil {
			t.Fatalf("%s: %v", ch.Action, err)
		}
		return got
	}
	wantTransition := func(id string, ch ChangeRequest) {
		t.Helper()
		_, err := change(market(), id, ch)
		var te *TransitionError
		if !errors.As(err, &te) || !errors.Is(err, ErrTransition) || !strings.Contains(te.Msg, " / ") {
			t.Fatalf("%s: err %v, want a TransitionError", ch.Action, err)
		}
	}
	wantInput := func(id string, ch ChangeRequest, field string) {
		t.Helper()
		_, err := change(market(), id, ch)
		var ie *InputError
		if !errors.As(err, &ie) || ie.Field != field {
			t.Fatalf("%s: err %v, want an InputError on %s", ch.Action, err, field)
		}
	}

	// Reasons are required for suspend, revoke and cancel.
	for _, a := range []string{ActionSuspend, ActionRevoke, ActionCancel} {
		wantInput(id, ChangeRequest{Action: a}, "reason")
	}
	wantInput(id, ChangeRequest{Action: "delete", Reason: "x"}, "action")
	// Only the issuer changes a licence.
	if _, err := change(civil(), id, ChangeRequest{Action: ActionSuspend, Reason: "x"}); !errors.Is(err, ErrForbidden) {
		t.Fatalf("a non-issuer suspends: %v", err)
	}
	if _, err := change(admin(), id, ChangeRequest{Action: ActionSuspend, Reason: "x"}); !errors.Is(err, ErrForbidden) {
		t.Fatalf("an admin suspends: %v", err)
	}

	// Suspend, and the licence does not verify; resume, and it does.
	if got := mustChange(id, ChangeRequest{Action: ActionSuspend, Reason: "涉嫌违法经营，依法暂扣"}); got.Licence.Status != store.LicenceSuspended {
		t.Fatalf("suspended: %+v", got.Licence)
	}
	if v := f.verify(t, VerifyRequest{ID: id}); v.Valid || v.Status != store.LicenceSuspended || reasonCodes(v)[0] != ReasonStatus {
		t.Fatalf("suspended verifies: %+v", v)
	}
	wantTransition(id, ChangeRequest{Action: ActionSuspend, Reason: "again"})
	wantTransition(id, ChangeRequest{Action: ActionPledge})
	mustChange(id, ChangeRequest{Action: ActionResume})
	wantTransition(id, ChangeRequest{Action: ActionResume})
	if v := f.verify(t, VerifyRequest{ID: id}); !v.Valid {
		t.Fatalf("resumed: %+v", v)
	}

	// Pledged: valid, with a note; cannot be cancelled until released.
	mustChange(id, ChangeRequest{Action: ActionPledge, Reason: "质押给某银行"})
	if v := f.verify(t, VerifyRequest{ID: id}); !v.Valid || v.Status != store.LicencePledged || len(v.Notes) != 1 || v.Notes[0].Code != NotePledged {
		t.Fatalf("pledged: %+v", v)
	}
	wantTransition(id, ChangeRequest{Action: ActionCancel, Reason: "企业申请注销"})
	mustChange(id, ChangeRequest{Action: ActionRelease})

	// Update: a new version; the old identifier no longer verifies.
	wantInput(id, ChangeRequest{Action: ActionUpdate}, "fields")
	wantInput(id, ChangeRequest{Action: ActionUpdate, Fields: map[string]string{"business_scope": ""}}, "fields.business_scope")
	wantInput(id, ChangeRequest{Action: ActionSuspend, Reason: "x", HolderName: "y"}, "holder_name")
	up := mustChange(id, ChangeRequest{Action: ActionUpdate, Reason: "变更注册资本",
		Fields: map[string]string{"registered_capital": "500万元人民币", "established_on": "2020-01-01"}})
	if up.Licence.Version != 2 || !strings.Contains(up.Licence.Identifier, ".002.") || up.Content.Fields["registered_capital"] != "500万元人民币" ||
		up.Content.Fields["established_on"] != "2020-01-01" || up.Content.IssueDate != "2026-03-02" {
		t.Fatalf("updated: %+v", up)
	}
	v := f.verify(t, VerifyRequest{ID: id})
	if v.Valid || reasonCodes(v)[0] != ReasonSuperseded || v.Licence.Identifier != up.Licence.Identifier {
		t.Fatalf("old version verifies: %+v", v)
	}
	if v := f.verify(t, VerifyRequest{ID: up.Licence.Identifier, Digest: up.Digest}); !v.Valid {
		t.Fatalf("new version: %+v", v)
	}
	// A stale copy cannot be updated; status changes accept any version.
	wantTransition(id, ChangeRequest{Action: ActionUpdate, Fields: map[string]string{"address": "新地址"}})

	// Renew: later valid_until only.
	wantInput(up.Licence.Identifier, ChangeRequest{Action: ActionRenew}, "valid_until")
	wantInput(up.Licence.Identifier, ChangeRequest{Action: ActionRenew, ValidUntil: "2040-01-01"}, "valid_until")
	rn := mustChange(up.Licence.Identifier, ChangeRequest{Action: ActionRenew, ValidUntil: "2056-03-01", Reason: "延续"})
	if rn.Licence.Version != 3 || rn.Licence.ValidUntil != "2056-03-01" || rn.Content.ValidUntil != "2056-03-01" {
		t.Fatalf("renewed: %+v", rn)
	}

	// Expiry is computed on the day of the verification.
	f.clk.set(time.Date(2056, 3, 2, 0, 0, 1, 0, Zone()))
	if v := f.verify(t, VerifyRequest{ID: rn.Licence.Identifier}); v.Valid || v.Status != StatusExpired || reasonCodes(v)[0] != ReasonExpired {
		t.Fatalf("expired: %+v", v)
	}
	f.clk.set(time.Date(2056, 3, 1, 23, 59, 0, 0, Zone()))
	if v := f.verify(t, VerifyRequest{ID: rn.Licence.Identifier}); !v.Valid {
		t.Fatalf("last day: %+v", v)
	}

	// Revoke (via an old identifier): final.
	rv := mustChange(id, ChangeRequest{Action: ActionRevoke, Reason: "以欺骗手段取得登记，依法撤销"})
	if rv.Licence.Status != store.LicenceRevoked {
		t.Fatalf("revoked: %+v", rv.Licence)
	}
	v = f.verify(t, VerifyRequest{ID: rn.Licence.Identifier})
	if v.Valid || v.Status != store.LicenceRevoked || !strings.Contains(v.Reasons[0].Message, "废止") {
		t.Fatalf("revoked verifies: %+v", v)
	}
	for _, a := range Actions() {
		ch := ChangeRequest{Action: a, Reason: "x"}
		switch a {
		case ActionRenew:
			ch.ValidUntil = "2070-01-01"
		case ActionUpdate:
			ch.HolderName = "新名称"
		}
		wantTransition(rn.Licence.Identifier, ch)
	}

	d, err := f.svc.Get(ctx, market(), id)
	if err != nil || len(d.Versions) != 3 || d.Content.Version != 3 {
		t.Fatalf("detail: %+v, %v", d, err)
	}
	var events []string
	for _, e := range d.Events {
		events = append(events, e.Event)
		if e.Actor != "tok-market" || e.Dept != deptMarket {
			t.Errorf("event %+v: actor and dept", e)
		}
	}
	if got := strings.Join(events, ","); got != "issue,suspend,resume,pledge,release,update,renew,revoke" {
		t.Fatalf("events %s", got)
	}
	if d.Events[1].Reason != "涉嫌违法经营，依法暂扣" {
		t.Errorf("suspend reason %q", d.Events[1].Reason)
	}
	if _, err := f.svc.Get(ctx, civil(), id); !errors.Is(err, ErrForbidden) {
		t.Errorf("another department reads the licence: %v", err)
	}
	if _, err := f.svc.Get(ctx, admin(), id); err != nil {
		t.Errorf("the bureau reads the licence: %v", err)
	}
	if n := counter(t, f.reg, "tongban_licence_changes_total", ActionSuspend); n != 1 {
		t.Errorf("suspends counted %v", n)
	}
}

// TestTampering: a changed row does not verify, even after the unchanged
// row's seal check was cached.
func TestTampering(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	got := f.issue(t)
	id := got.Licence.Identifier
	if v := f.verify(t, VerifyRequest{ID: id}); !v.Valid {
		t.Fatalf("before: %+v", v)
	}
	tests := []struct {
		name, stmt string
		want       string
	}{
		// The content: the seal no longer verifies.
		{"content", `UPDATE licence_versions SET content = replace(content, '100万元', '900万元')`, ReasonSeal},
		// Content and stored digest: still the seal.
		{"content and digest", `UPDATE licence_versions SET content = replace(content, '张三', '李四'), digest = '00'`, ReasonSeal},
		// The licence row's holder, not the sealed content.
		{"record", `UPDATE licences SET holder_id = '` + otherUSCC + `'`, ReasonRecordMismatch},
		// The signature: its last byte (of s) always changes. (Rewriting
		// the DER header was a no-op when r already had a leading zero.)
		{"signature", `UPDATE licence_versions SET signature = substr(signature, 1, length(signature) - 2) ||
			CASE WHEN substr(signature, -2) = '01' THEN '02' ELSE '01' END`, ReasonSeal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			id := f.issue(t).Licence.Identifier
			_ = f.verify(t, VerifyRequest{ID: id}) // fills the cache
			if _, err := f.raw.ExecContext(ctx, tt.stmt); err != nil {
				t.Fatal(err)
			}
			v := f.verify(t, VerifyRequest{ID: id})
			if v.Valid || !strings.Contains(strings.Join(reasonCodes(v), ","), tt.want) {
				t.Fatalf("after tampering: %+v; want invalid for %s", v, tt.want)
			}
			if tt.want == ReasonSeal && (v.SealOK || v.SealCached) {
				t.Fatalf("seal ok %v cached %v after tampering", v.SealOK, v.SealCached)
			}
		})
	}
	_ = id
}

func TestVerifyRequestChecks(t *testing.T) {
	good := VerifyRequest{ID: "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F", Purpose: "p", ItemCode: "i"}
	tests := []struct {
		name  string
		edit  func(*VerifyRequest)
		field string
	}{
		{"ok", func(*VerifyRequest) {}, ""},
		{"no id", func(r *VerifyRequest) { r.ID = "" }, "id"},
		{"bad check", func(r *VerifyRequest) { r.ID = r.ID[:len(r.ID)-1] + "G" }, "id"},
		{"no purpose", func(r *VerifyRequest) { r.Purpose = "" }, "purpose"},
		{"blank purpose", func(r *VerifyRequest) { r.Purpose = "  " }, "purpose"},
		{"no item code", func(r *VerifyRequest) { r.ItemCode = "" }, "item_code"},
		{"long item code", func(r *VerifyRequest) { r.ItemCode = strings.Repeat("x", 65) }, "item_code"},
		{"bad digest", func(r *VerifyRequest) { r.Digest = "xyz" }, "digest"},
		{"short digest", func(r *VerifyRequest) { r.Digest = "abcd" }, "digest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := good
			tt.edit(&r)
			err := CheckVerifyRequest(r)
			var ie *InputError
			switch {
			case tt.field == "" && err != nil:
				t.Fatal(err)
			case tt.field != "" && (!errors.As(err, &ie) || ie.Field != tt.field):
				t.Fatalf("err %v, want one on %s", err, tt.field)
			}
		})
	}
}

func TestCanonicalContent(t *testing.T) {
	c := Content{Identifier: "id", TypeCode: "t", HolderName: "<公司>&", Fields: map[string]string{"b": "2", "a": "1"}, Version: 1}
	b := c.Canonical()
	want := `{"identifier":"id","type_code":"t","type_name":"","issuer":"","issuer_name":"","holder_type":"","holder_id":"",` +
		`"holder_name":"<公司>&","issue_date":"","valid_from":"","valid_until":"","fields":{"a":"1","b":"2"},"version":1}`
	if string(b) != want {
		t.Fatalf("canonical\n%s\nwant\n%s", b, want)
	}
	back, err := ParseContent(b)
	if err != nil || back.HolderName != c.HolderName || back.Fields["b"] != "2" {
		t.Fatalf("parse: %+v, %v", back, err)
	}
	for _, bad := range []string{` ` + want, strings.Replace(want, `"a":"1","b":"2"`, `"b":"2","a":"1"`, 1),
		strings.Replace(want, `"version":1}`, `"version":1,"x":1}`, 1), `{}`} {
		if _, err := ParseContent([]byte(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
	// SM3 of "abc" (GB/T 32905 example A.1).
	if d := Digest([]byte("abc")); d != "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0" {
		t.Fatalf("SM3(abc) = %s", d)
	}
}

func TestSigCacheBound(t *testing.T) {
	c := newSigCache(3)
	for _, k := range []string{"a", "b", "c", "d"} {
		c.add(k)
	}
	if c.len() != 3 || c.has("a") || !c.has("d") || !c.has("b") {
		t.Fatalf("cache after 4 adds: len %d a %v b %v d %v", c.len(), c.has("a"), c.has("b"), c.has("d"))
	}
	off := newSigCache(0)
	off.add("a")
	if off.has("a") {
		t.Fatal("a disabled cache remembers")
	}
}

// FuzzCheckVerifyRequest: the request validator never panics and names one
// of the request's keys.
func FuzzCheckVerifyRequest(f *testing.F) {
	f.Add("1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F", "办理许可", "ITEM-1", "", "")
	f.Add("", "", "", "x", "00")
	f.Add("1.2.156.3005.2.", " ", "\xff", "11010519491231002X", strings.Repeat("ab", 32))
	keys := map[string]bool{"id": true, "purpose": true, "item_code": true, "holder": true, "digest": true}
	f.Fuzz(func(t *testing.T, id, purpose, item, holder, digest string) {
		err := CheckVerifyRequest(VerifyRequest{ID: id, Purpose: purpose, ItemCode: item, Holder: holder, Digest: digest})
		if err == nil {
			return
		}
		var ie *InputError
		if !errors.As(err, &ie) || !keys[ie.Field] || ie.Msg == "" {
			t.Fatalf("error %v does not name a request key", err)
		}
	})
}
