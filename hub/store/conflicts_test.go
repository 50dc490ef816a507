package store

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func nameCheck(disagree bool, authName, otherName string, otherVersion int64) FieldCheck {
	return FieldCheck{Field: "name", Disagree: disagree, Values: []ConflictValue{
		{Role: RoleAuthority, Dept: "DPOP", Resource: "POP-1", Field: "xm", Key: "k1", Version: 1, Value: json.RawMessage(authName)},
		{Role: RoleCrossCheck, Dept: "DCIV", Resource: "CIV-1", Field: "name", Key: "m1", Version: otherVersion, Value: json.RawMessage(otherName)},
	}}
}

func TestConflictLifecycle(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		t0 := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
		g := goldenOf("population", map[string]string{"name": `"张三"`}, 1, t0)
		var id int64
		steps := []struct {
			name       string
			check      FieldCheck
			decide     string // decision made after the step, if any
			wantStatus string
			wantEvents []string
			wantOpened int
			wantReopen int
			wantUpdate int
			wantResolv int
		}{
			{"disagreement opens", nameCheck(true, `"张三"`, `"张叁"`, 1), "", ConflictOpen, []string{EventOpened}, 1, 0, 0, 0},
			{"same again: nothing", nameCheck(true, `"张三"`, `"张叁"`, 1), "", ConflictOpen, []string{EventOpened}, 0, 0, 0, 0},
			{"newer version, same values: silent", nameCheck(true, `"张三"`, `"张叁"`, 2), DecisionAuthorityStands, ConflictDecided, []string{EventOpened, EventDecided}, 0, 0, 0, 0},
			{"decided stays while values unchanged", nameCheck(true, `"张三"`, `"张叁"`, 3), "", ConflictDecided, []string{EventOpened, EventDecided}, 0, 0, 0, 0},
			{"decided reopens on new values", nameCheck(true, `"张三"`, `"张参"`, 4), "", ConflictOpen, []string{EventOpened, EventDecided, EventReopened}, 0, 1, 0, 0},
			{"open: values change", nameCheck(true, `"张三"`, `"张叄"`, 5), DecisionSourceMustCorrect, ConflictAwaitingCorrection, []string{EventOpened, EventDecided, EventReopened, EventValuesChanged, EventDecided}, 0, 0, 1, 0},
			{"agreement resolves", nameCheck(false, `"张三"`, `"张三"`, 6), "", ConflictResolved, []string{EventOpened, EventDecided, EventReopened, EventValuesChanged, EventDecided, EventResolved}, 0, 0, 0, 1},
			{"resolved stays resolved", nameCheck(false, `"张三"`, `"张三"`, 6), "", ConflictResolved, []string{EventOpened, EventDecided, EventReopened, EventValuesChanged, EventDecided, EventResolved}, 0, 0, 0, 0},
			{"resolved reopens", nameCheck(true, `"张三"`, `"张叁"`, 7), "", ConflictOpen, []string{EventOpened, EventDecided, EventReopened, EventValuesChanged, EventDecided, EventResolved, EventReopened}, 0, 1, 0, 0},
		}
		for i, s := range steps {
			at := t0.Add(time.Duration(i) * time.Minute)
			res, err := writeMerge(ctx, db, []SubjectMerge{{Golden: g, Checks: []FieldCheck{s.check}}}, at)
			if err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			if res.ConflictsOpened != s.wantOpened || res.ConflictsReopened != s.wantReopen || res.ConflictsUpdated != s.wantUpdate || res.ConflictsResolved != s.wantResolv {
				t.Fatalf("%s: counts %+v", s.name, res.MergeCounts)
			}
			list, err := db.ListConflicts(ctx, ConflictFilter{Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != 1 {
				t.Fatalf("%s: %d conflicts", s.name, len(list))
			}
			id = list[0].ID
			if s.decide != "" {
				c, err := db.DecideConflict(ctx, id, s.decide, "bureau-admin", "核实 / checked", at)
				if err != nil {
					t.Fatalf("%s: decide: %v", s.name, err)
				}
				if c.Decision != s.decide || c.DecidedBy != "bureau-admin" {
					t.Fatalf("%s: decided %+v", s.name, c)
				}
			}
			c, found, err := db.GetConflict(ctx, id)
			if err != nil || !found {
				t.Fatalf("%s: get: %v %v", s.name, found, err)
			}
			if c.Status != s.wantStatus {
				t.Fatalf("%s: status %s, want %s", s.name, c.Status, s.wantStatus)
			}
			var events []string
			for _, e := range c.Events {
				events = append(events, e.Event)
			}
			if strings.Join(events, ",") != strings.Join(s.wantEvents, ",") {
				t.Fatalf("%s: events %v, want %v", s.name, events, s.wantEvents)
			}
			if s.check.Disagree && (c.Values[1].Version != s.check.Values[1].Version || string(c.Values[1].Value) != string(s.check.Values[1].Value)) {
				t.Fatalf("%s: stored values %+v", s.name, c.Values)
			}
		}
		// The source_must_correct decision notified the authority's department.
		ns, err := db.ListNotifications(ctx, "DPOP", 0, 10, false)
		if err != nil {
			t.Fatal(err)
		}
		if len(ns) != 1 || ns[0].Kind != "conflict.correct" || !strings.Contains(ns[0].Message, "110101199003077777") ||
			!strings.Contains(ns[0].Message, "张叄") || !strings.HasPrefix(ns[0].Message, "数据冲突") {
			t.Fatalf("notifications = %+v", ns)
		}
		if others, _ := db.ListNotifications(ctx, "DCIV", 0, 10, false); len(others) != 0 {
			t.Errorf("the cross-check department was notified: %+v", others)
		}

		counts, err := db.CountOpenConflictsByResource(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(counts) != 2 || counts["POP-1"] != 1 || counts["CIV-1"] != 1 {
			t.Fatalf("open conflicts by resource = %v", counts)
		}
		for _, f := range []struct {
			filter ConflictFilter
			want   int
		}{
			{ConflictFilter{Status: ConflictOpen, Limit: 5}, 1},
			{ConflictFilter{Status: ConflictDecided, Limit: 5}, 0},
			{ConflictFilter{Field: "name", SubjectType: "person", SubjectID: "110101199003077777", Limit: 5}, 1},
			{ConflictFilter{Field: "sex", Limit: 5}, 0},
			{ConflictFilter{Resource: "CIV-1", Limit: 5}, 1},
			{ConflictFilter{Resource: "OTHER", Limit: 5}, 0},
			{ConflictFilter{After: id, Limit: 5}, 0},
		} {
			got, err := db.ListConflicts(ctx, f.filter)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != f.want {
				t.Errorf("filter %+v: %d conflicts, want %d", f.filter, len(got), f.want)
			}
		}

		// Agreement resolves; deciding a resolved conflict fails.
		if _, err := writeMerge(ctx, db, []SubjectMerge{{Golden: g, Checks: []FieldCheck{nameCheck(false, `"张三"`, `"张三"`, 9)}}}, t0); err != nil {
			t.Fatal(err)
		}
		if _, err := db.DecideConflict(ctx, id, DecisionAuthorityStands, "a", "", t0); !errors.Is(err, ErrConflictResolved) {
			t.Errorf("decide resolved: err = %v", err)
		}
		if _, err := db.DecideConflict(ctx, id+100, DecisionAuthorityStands, "a", "", t0); !errors.Is(err, ErrNotFound) {
			t.Errorf("decide unknown: err = %v", err)
		}
		if _, err := db.DecideConflict(ctx, id, "whatever", "a", "", t0); !errors.Is(err, ErrBadDecision) {
			t.Errorf("bad decision: err = %v", err)
		}
		if counts, _ := db.CountOpenConflictsByResource(ctx); len(counts) != 0 {
			t.Errorf("after resolution: %v", counts)
		}
	})
}
