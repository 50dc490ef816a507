package grant

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tongban/tongban/hub/store"
)

// TestDecideTable: callers × resources give exactly the expected answer,
// and a denial says why and under which law.
func TestDecideTable(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 10, 10, 0, 0, 0, Zone())
	e := newEnv(t, now)
	add := func(dept, res string, fields []string, expires time.Time) store.ShareGrant {
		t.Helper()
		g, err := e.db.AddShareGrant(ctx, store.ShareGrant{Kind: store.GrantShare, Source: store.SourceApplication, Dept: dept, Resource: res,
			Provider: P1, Fields: fields, Purpose: "p", LegalBasis: "b", GrantedBy: "tok", GrantedAt: now.AddDate(0, -1, 0), ExpiresAt: expires})
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	live := add(D2, "CON", []string{"name", "status"}, now.AddDate(0, 1, 0))
	add(D3, "CON", []string{"name"}, now.Add(-time.Hour))
	revoked := add(D4, "CON", []string{"name"}, time.Time{})
	if _, err := e.db.RevokeShareGrant(ctx, revoked.ID, "admin", "超范围使用", now.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	unmask := add(D5, "UNC", []string{"phone"}, time.Time{})
	// A subscription grant is not a share grant.
	if _, err := e.db.AddShareGrant(ctx, store.ShareGrant{Kind: store.GrantSubscription, Source: store.SourceApplication, Dept: D1, Resource: "CON",
		Provider: P1, Fields: []string{"name"}, Purpose: "p", LegalBasis: "b", GrantedBy: "tok", GrantedAt: now}); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name     string
		dept     string
		res      string
		fields   []string
		scenario string
		allowed  bool
		code     string
		want     []string // granted fields
		masked   []string
		grant    int64 // -1: any non-zero
		basis    string
		reason   string // substring of the reason
	}{
		{"unconditional masks personal fields", D1, "UNC", nil, "", true, CodeUnconditional, []string{"id", "name", "phone", "note"}, []string{"name", "phone"}, 0, "", "无条件"},
		{"unconditional asked fields", D1, "UNC", []string{"note", "id"}, "", true, CodeUnconditional, []string{"id", "note"}, nil, 0, "", ""},
		{"unconditional grant unmasks named field", D5, "UNC", nil, "", true, CodeUnconditional, []string{"id", "name", "phone", "note"}, []string{"name"}, unmask.ID, "", ""},
		{"conditional without grant", D1, "CON", nil, "", false, CodeNoGrant, nil, nil, 0, "条件依据CON", "须先提出共享申请"},
		{"conditional with grant", D2, "CON", nil, "", true, CodeGrant, []string{"name", "status"}, nil, live.ID, "", "grant"},
		{"conditional with grant, asked subset", D2, "CON", []string{"status"}, "", true, CodeGrant, []string{"status"}, nil, live.ID, "", ""},
		{"conditional fields outside the grant", D2, "CON", []string{"citizen_id", "name"}, "", false, CodeFieldsNotGranted, nil, nil, 0, "条件依据CON", "citizen_id"},
		{"expired grant", D3, "CON", nil, "", false, CodeGrantExpired, nil, nil, 0, "条件依据CON", "expired"},
		{"revoked grant", D4, "CON", nil, "", false, CodeGrantRevoked, nil, nil, 0, "条件依据CON", "超范围使用"},
		{"scenario", D1, "CON", nil, "SC-A", true, CodeScenario, []string{"citizen_id", "name"}, nil, -1, "场景依据A", "SC-A"},
		{"scenario asked subset", D1, "CON", []string{"name"}, "SC-A", true, CodeScenario, []string{"name"}, nil, -1, "场景依据A", ""},
		{"scenario any dept", D3, "CON", nil, "SC-ANY", true, CodeScenario, []string{"name"}, nil, -1, "场景依据ANY", ""},
		{"scenario not eligible", D2, "CON", nil, "SC-A", false, CodeNotEligible, nil, nil, 0, "场景依据A", "not eligible"},
		{"scenario fields outside", D1, "CON", []string{"status"}, "SC-A", false, CodeScenarioScope, nil, nil, 0, "场景依据A", "status"},
		{"scenario other resource", D1, "UNC", nil, "SC-A", false, CodeScenarioScope, nil, nil, 0, "场景依据A", "UNC"},
		{"share type none", D1, "NON", nil, "", false, CodeShareNone, nil, nil, 0, "不共享依据NON", "不予共享"},
		{"share type none even with scenario", D1, "NON", nil, "SC-A", false, CodeShareNone, nil, nil, 0, "不共享依据NON", ""},
		{"negative list resource", D1, "NEG", nil, "", false, CodeNegativeList, nil, nil, 0, "负面依据NEG", "负面清单"},
		{"negative list field left out", D1, "PART", nil, "", true, CodeUnconditional, []string{"id"}, nil, 0, "", ""},
		{"negative list field asked", D1, "PART", []string{"id", "secret"}, "", false, CodeNegativeList, nil, nil, 0, "负面依据PART", "secret"},
		{"provider reads its own", P1, "CON", nil, "", true, CodeProvider, []string{"citizen_id", "name", "status"}, nil, 0, "", ""},
		{"provider reads its own unshared", P1, "NON", nil, "", true, CodeProvider, []string{"id"}, nil, 0, "", ""},
		{"unknown department", "D9", "UNC", nil, "", false, CodeUnknownDept, nil, nil, 0, "", "D9"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := e.svc.Decide(ctx, Request{Dept: c.dept, Resource: c.res, Fields: c.fields, Purpose: "办理", ItemCode: "ITEM-1", Scenario: c.scenario})
			if err != nil {
				t.Fatal(err)
			}
			if d.Allowed != c.allowed || d.Code != c.code {
				t.Fatalf("decision %+v, want allowed=%v code=%s", d, c.allowed, c.code)
			}
			if !slices.Equal(d.Fields, c.want) || !slices.Equal(d.Masked, c.masked) {
				t.Errorf("fields %v masked %v, want %v masked %v", d.Fields, d.Masked, c.want, c.masked)
			}
			if (c.grant == -1 && d.GrantID == 0) || (c.grant != -1 && d.GrantID != c.grant) {
				t.Errorf("grant %d, want %d", d.GrantID, c.grant)
			}
			if d.LegalBasis != c.basis {
				t.Errorf("legal basis %q, want %q", d.LegalBasis, c.basis)
			}
			if !strings.Contains(d.Reason, c.reason) || !strings.Contains(d.Reason, " / ") {
				t.Errorf("reason %q: want %q and Chinese / English", d.Reason, c.reason)
			}
			if err := d.Err(); (err == nil) != c.allowed || (err != nil && (!errors.Is(err, ErrDenied) || !strings.Contains(err.Error(), c.basis))) {
				t.Errorf("Err() = %v", err)
			}
		})
	}
	if got := e.metric(t, "tongban_sharing_decisions_total", "denied"); got != 12 {
		t.Errorf("denied decisions = %v, want 12", got)
	}
	if got := e.metric(t, "tongban_sharing_decisions_total", "allowed"); got != 11 {
		t.Errorf("allowed decisions = %v, want 11", got)
	}
}

// TestScenarioGrantRecorded: the first call records a scenario grant, later
// ones reuse it; it expires after valid_days and a revocation ends it.
func TestScenarioGrantRecorded(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 10, 10, 0, 0, 0, Zone())
	e := newEnv(t, now)
	req := Request{Dept: D2, Resource: "CON", Purpose: "低保审核", ItemCode: "ITEM-9", Scenario: "SC-ANY"}
	d1, err := e.svc.Decide(ctx, req)
	if err != nil || !d1.Allowed {
		t.Fatalf("%+v %v", d1, err)
	}
	d2, _ := e.svc.Decide(ctx, req)
	if d2.GrantID != d1.GrantID {
		t.Errorf("second call grant %d, first %d", d2.GrantID, d1.GrantID)
	}
	g, err := e.db.GetShareGrant(ctx, d1.GrantID)
	if err != nil {
		t.Fatal(err)
	}
	if g.Source != store.SourceScenario || g.Scenario != "SC-ANY" || g.Purpose != "低保审核" || !g.ExpiresAt.Equal(now.AddDate(0, 0, 30)) {
		t.Errorf("grant %+v", g)
	}
	// Without naming the scenario the conditional resource stays closed
	// unless the scenario grant is used: a scenario grant is a grant.
	plain := req
	plain.Scenario = ""
	if d, _ := e.svc.Decide(ctx, plain); !d.Allowed || d.GrantID != g.ID {
		t.Errorf("plain call with a scenario grant in force: %+v", d)
	}
	e.now = now.AddDate(0, 0, 31)
	d3, _ := e.svc.Decide(ctx, req)
	if !d3.Allowed || d3.GrantID == d1.GrantID {
		t.Errorf("after expiry a new scenario grant is recorded: %+v", d3)
	}
	if _, err := e.db.RevokeShareGrant(ctx, d3.GrantID, "admin", "停用", e.now); err != nil {
		t.Fatal(err)
	}
	if d, _ := e.svc.Decide(ctx, plain); d.Allowed || d.Code != CodeGrantRevoked {
		t.Errorf("plain call after revocation: %+v", d)
	}
	// Naming the scenario again does not undo the revocation.
	if d, _ := e.svc.Decide(ctx, req); d.Allowed || d.Code != CodeGrantRevoked || !strings.Contains(d.Reason, "停用") || d.LegalBasis != "场景依据ANY" {
		t.Errorf("scenario call after revocation: %+v", d)
	}
	// Another department is not affected.
	other := req
	other.Dept = D4
	if d, _ := e.svc.Decide(ctx, other); !d.Allowed || d.Purpose != "低保审核" || d.ItemCode != "ITEM-9" {
		t.Errorf("other department: %+v", d)
	}
}

func TestDecideInputErrors(t *testing.T) {
	e := newEnv(t, time.Date(2026, 3, 10, 10, 0, 0, 0, Zone()))
	ok := Request{Dept: D1, Resource: "UNC", Purpose: "p", ItemCode: "i"}
	cases := []struct {
		name  string
		edit  func(*Request)
		field string
		nf    bool
	}{
		{"no purpose", func(r *Request) { r.Purpose = " " }, "purpose", false},
		{"no item code", func(r *Request) { r.ItemCode = "" }, "item_code", false},
		{"no dept", func(r *Request) { r.Dept = "" }, "dept", false},
		{"unknown field", func(r *Request) { r.Fields = []string{"id", "nope"} }, "fields[1]", false},
		{"field twice", func(r *Request) { r.Fields = []string{"id", "id"} }, "fields[1]", false},
		{"unknown scenario", func(r *Request) { r.Resource, r.Scenario = "CON", "SC-NOPE" }, "scenario", false},
		{"unknown resource", func(r *Request) { r.Resource = "NOPE" }, "resource", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := ok
			c.edit(&r)
			_, err := e.svc.Decide(context.Background(), r)
			var ie *InputError
			var nf *NotFoundError
			switch {
			case c.nf && errors.As(err, &nf) && nf.Field == c.field && errors.Is(err, ErrNotFound):
			case !c.nf && errors.As(err, &ie) && ie.Field == c.field:
			default:
				t.Errorf("err = %v, want field %s", err, c.field)
			}
		})
	}
}

func TestDecideSubscription(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 10, 10, 0, 0, 0, Zone())
	e := newEnv(t, now)
	d, err := e.svc.DecideSubscription(ctx, D1, "UNC")
	if err != nil || d.Allowed || d.Code != CodeNoSubscription || !strings.Contains(d.LegalBasis, "第二十三条") {
		t.Fatalf("without approval: %+v %v", d, err)
	}
	if d, _ := e.svc.DecideSubscription(ctx, D1, "NEG"); d.Allowed || d.Code != CodeNegativeList {
		t.Errorf("negative list: %+v", d)
	}
	g, err := e.db.AddShareGrant(ctx, store.ShareGrant{Kind: store.GrantSubscription, Source: store.SourceApplication, Dept: D1, Resource: "PART",
		Provider: P1, Fields: []string{"id", "secret"}, Purpose: "p", LegalBasis: "b", GrantedBy: "admin", GrantedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	d, err = e.svc.DecideSubscription(ctx, D1, "PART")
	if err != nil || !d.Allowed || d.GrantID != g.ID || !slices.Equal(d.Fields, []string{"id"}) {
		t.Errorf("approved: %+v %v", d, err)
	}
	if _, err := e.svc.DecideSubscription(ctx, D1, "NOPE"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown resource: %v", err)
	}
}
