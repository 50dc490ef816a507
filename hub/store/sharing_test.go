package store

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

func TestShareApplicationWorkflow(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
		file := func(kind string) ShareApplication {
			t.Helper()
			a, err := db.FileShareApplication(ctx, ShareApplication{Kind: kind, Dept: "D1", Resource: "R-1", Provider: "P1",
				Fields: []string{"name", "citizen_id"}, Purpose: "办理低保", LegalBasis: "《社会救助暂行办法》", DurationDays: 30,
				Due: "2026-03-16", FiledBy: "tok1", FiledAt: t0})
			if err != nil {
				t.Fatal(err)
			}
			return a
		}
		a := file(GrantShare)
		if a.Status != ApplicationPending || !slices.Equal(a.Fields, []string{"name", "citizen_id"}) || !a.FiledAt.Equal(t0) || a.GrantID != 0 {
			t.Fatalf("filed %+v", a)
		}
		b := file(GrantSubscription)

		// Overdue: due 03-16, counted from 03-17 on.
		for day, want := range map[string]int64{"2026-03-16": 0, "2026-03-17": 2} {
			n, err := db.CountOverdueShareApplications(ctx, day)
			if err != nil || n != want {
				t.Errorf("overdue on %s = %d, %v; want %d", day, n, err, want)
			}
		}

		exp := t0.Add(30 * 24 * time.Hour)
		a, err := db.AnswerShareApplication(ctx, a.ID, ShareAnswer{Approve: true, Actor: "tokP", At: t0.Add(time.Hour), ExpiresAt: exp})
		if err != nil {
			t.Fatal(err)
		}
		if a.Status != ApplicationApproved || a.GrantID == 0 || a.AnsweredBy != "tokP" {
			t.Fatalf("answered %+v", a)
		}
		g, err := db.GetShareGrant(ctx, a.GrantID)
		if err != nil {
			t.Fatal(err)
		}
		if g.Kind != GrantShare || g.Source != SourceApplication || g.Dept != "D1" || g.ApplicationID != a.ID ||
			!g.ExpiresAt.Equal(exp) || !g.Active(t0) || g.Active(exp) || !slices.Equal(g.Fields, a.Fields) {
			t.Fatalf("grant %+v", g)
		}
		if _, err := db.AnswerShareApplication(ctx, a.ID, ShareAnswer{Actor: "tokP", Note: "again"}); !errors.Is(err, ErrShareStage) {
			t.Errorf("second answer: %v, want ErrShareStage", err)
		}
		if _, err := db.AnswerShareApplication(ctx, 999, ShareAnswer{Actor: "tokP"}); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown: %v, want ErrNotFound", err)
		}

		// The bureau's review refusing revokes the grant; approving again makes a new one.
		a, err = db.ReviewShareApplication(ctx, a.ID, ShareAnswer{Actor: "admin", Note: "超出职责", At: t0.Add(2 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		g, _ = db.GetShareGrant(ctx, g.ID)
		if a.Status != ApplicationRefused || g.RevokedAt.IsZero() || g.RevokedBy != "admin" || g.Active(t0.Add(3*time.Hour)) {
			t.Fatalf("after review: %+v %+v", a, g)
		}
		a, err = db.ReviewShareApplication(ctx, a.ID, ShareAnswer{Approve: true, Actor: "admin", At: t0.Add(3 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if a.Status != ApplicationApproved || a.GrantID == g.ID || a.GrantID == 0 {
			t.Fatalf("re-approved %+v (old grant %d)", a, g.ID)
		}

		list, err := db.ListShareApplications(ctx, ShareApplicationFilter{Kind: GrantSubscription, Limit: 10})
		if err != nil || len(list) != 1 || list[0].ID != b.ID {
			t.Errorf("subscriptions = %+v, %v", list, err)
		}
		list, err = db.ListShareApplications(ctx, ShareApplicationFilter{Party: "P1", Limit: 10})
		if err != nil || len(list) != 2 {
			t.Errorf("party P1 = %d, %v", len(list), err)
		}
		list, err = db.ListShareApplications(ctx, ShareApplicationFilter{OverdueOn: "2026-04-01", Limit: 10})
		if err != nil || len(list) != 1 || list[0].ID != b.ID {
			t.Errorf("overdue = %+v, %v", list, err)
		}

		// Scenario grants and revocation.
		sg, err := db.AddShareGrant(ctx, ShareGrant{Kind: GrantShare, Source: SourceScenario, Dept: "D2", Resource: "R-1", Provider: "P1",
			Fields: []string{"name"}, Purpose: "婚姻登记", LegalBasis: "《婚姻登记条例》", Scenario: "SC-1", GrantedBy: "tok2", GrantedAt: t0})
		if err != nil {
			t.Fatal(err)
		}
		if !sg.ExpiresAt.IsZero() || !sg.Active(t0.AddDate(50, 0, 0)) {
			t.Errorf("scenario grant %+v", sg)
		}
		if _, err := db.RevokeShareGrant(ctx, sg.ID, "admin", "", t0); err == nil {
			t.Error("revoke without reason accepted")
		}
		if _, err := db.RevokeShareGrant(ctx, sg.ID, "admin", "场景撤销", t0); err != nil {
			t.Fatal(err)
		}
		if _, err := db.RevokeShareGrant(ctx, sg.ID, "admin", "again", t0); !errors.Is(err, ErrShareStage) {
			t.Errorf("second revoke: %v", err)
		}
		if _, err := db.RevokeShareGrant(ctx, 999, "admin", "x", t0); !errors.Is(err, ErrNotFound) {
			t.Errorf("revoke unknown: %v", err)
		}
		gs, err := db.ListShareGrants(ctx, ShareGrantFilter{Dept: "D2", Resource: "R-1", Limit: 10})
		if err != nil || len(gs) != 1 || gs[0].RevokeReason != "场景撤销" {
			t.Errorf("grants of D2 = %+v, %v", gs, err)
		}
		gs, err = db.ListShareGrants(ctx, ShareGrantFilter{Party: "P1", Limit: 10})
		if err != nil || len(gs) != 3 {
			t.Errorf("grants on P1 = %d, %v", len(gs), err)
		}
	})
}

func TestShareDemands(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		d, err := db.FileShareDemand(ctx, ShareDemand{Dept: "D1", Title: "婚姻状况核验", Purpose: "公租房审核", LegalBasis: "住房保障条例", FiledBy: "tok"})
		if err != nil {
			t.Fatal(err)
		}
		if d.Status != DemandOpen || d.Fields == nil {
			t.Fatalf("filed %+v", d)
		}
		if _, err := db.FileShareDemand(ctx, ShareDemand{Dept: "D1", Purpose: "x", LegalBasis: "y", FiledBy: "tok"}); err == nil {
			t.Error("demand without title accepted")
		}
		if _, err := db.MatchShareDemand(ctx, d.ID, DemandMatch{Actor: "admin"}); err == nil {
			t.Error("empty match accepted")
		}
		m, err := db.MatchShareDemand(ctx, d.ID, DemandMatch{Resource: "CA-MAR-001", Provider: "P1", Actor: "admin", Note: "婚姻登记信息"})
		if err != nil {
			t.Fatal(err)
		}
		if m.Status != DemandMatched || m.MatchedResource != "CA-MAR-001" || m.MatchedAt.IsZero() {
			t.Errorf("matched %+v", m)
		}
		if _, err := db.MatchShareDemand(ctx, d.ID, DemandMatch{Provider: "P1", Actor: "admin"}); !errors.Is(err, ErrShareStage) {
			t.Errorf("second match: %v", err)
		}
		if _, err := db.MatchShareDemand(ctx, 99, DemandMatch{Provider: "P1", Actor: "admin"}); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown: %v", err)
		}
		list, err := db.ListShareDemands(ctx, ShareDemandFilter{Status: DemandMatched, Limit: 5})
		if err != nil || len(list) != 1 {
			t.Errorf("list = %+v, %v", list, err)
		}
	})
}
