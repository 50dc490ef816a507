package store

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

func TestRecordAndListFixes(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		fix := func(key string, version int64, fixed string) QualityFix {
			return QualityFix{Resource: qRes, Key: key, Field: "id_no", Rule: "citizen_id", Original: `"230103800101123"`,
				Fixed: fixed, Version: version, FixedAt: qT0.Add(time.Duration(version) * time.Hour)}
		}
		if err := db.RecordFixes(ctx, []QualityFix{fix("k1", 2, "230103198001011230"), fix("k2", 1, "B"),
			{Resource: "MZ-HY-001", Key: "x", Field: "f", Rule: "citizen_id", Original: "o", Fixed: "f", Version: 1}}); err != nil {
			t.Fatal(err)
		}
		// Older loses, equal replaces, newer wins.
		if err := db.RecordFixes(ctx, []QualityFix{fix("k1", 1, "OLD"), fix("k2", 1, "B2")}); err != nil {
			t.Fatal(err)
		}
		if err := db.RecordFixes(ctx, []QualityFix{fix("k2", 3, "B3")}); err != nil {
			t.Fatal(err)
		}
		got, err := db.ListFixes(ctx, qRes, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		var s []string
		for _, f := range got {
			s = append(s, fmt.Sprintf("%s:%s:v%d:%s", f.Key, f.Fixed, f.Version, f.FixedAt.Format(time.RFC3339)))
		}
		want := "k1:230103198001011230:v2:2026-03-01T10:00:00Z,k2:B3:v3:2026-03-01T11:00:00Z"
		if strings.Join(s, ",") != want {
			t.Fatalf("fixes %v, want %s", s, want)
		}
		if got[0].Original != `"230103800101123"` || got[0].Field != "id_no" || got[0].Rule != "citizen_id" {
			t.Fatalf("fix %+v", got[0])
		}
		all, err := db.ListFixes(ctx, "", 0, 10)
		if err != nil || len(all) != 3 {
			t.Fatalf("all fixes %d %v", len(all), err)
		}
		page, err := db.ListFixes(ctx, "", all[0].ID, 1)
		if err != nil || len(page) != 1 || page[0].ID != all[1].ID {
			t.Fatalf("page %+v %v", page, err)
		}
		if _, err := db.ListFixes(ctx, "", 0, 0); err == nil {
			t.Error("limit 0 accepted")
		}
		if err := db.RecordFixes(ctx, []QualityFix{{Resource: qRes, Key: "k", Field: "f"}}); err == nil || !strings.Contains(err.Error(), "rule is empty") {
			t.Errorf("fix without rule: %v", err)
		}
	})
}

func TestQualityFigures(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		fig := func(res, dim, field string, v float64) QualityFigure {
			return QualityFigure{Resource: res, Dept: qDept, Dimension: dim, Field: field, Value: v, Numerator: int64(v * 100), Denominator: 100, ComputedAt: qT0}
		}
		if err := db.SaveQualityFigures(ctx, "2026-03-01", []QualityFigure{
			fig("A", "completeness", "", 0.5), fig("A", "completeness", "name", 0.25), fig("B", "validity", "", 1),
		}); err != nil {
			t.Fatal(err)
		}
		if err := db.SaveQualityFigures(ctx, "2026-03-02", []QualityFigure{fig("A", "completeness", "", 0.75)}); err != nil {
			t.Fatal(err)
		}
		// Saving a day again replaces that day's figures of the resources given only.
		if err := db.SaveQualityFigures(ctx, "2026-03-01", []QualityFigure{fig("A", "validity", "", 0.9)}); err != nil {
			t.Fatal(err)
		}
		render := func(fs []QualityFigure) string {
			var s []string
			for _, f := range fs {
				s = append(s, fmt.Sprintf("%s %s %s/%s=%g", f.Day, f.Resource, f.Dimension, f.Field, f.Value))
			}
			return strings.Join(s, "; ")
		}
		cases := []struct {
			res, from, to string
			want          string
		}{
			{"A", "", "", "2026-03-01 A validity/=0.9; 2026-03-02 A completeness/=0.75"},
			{"A", "2026-03-02", "2026-03-31", "2026-03-02 A completeness/=0.75"},
			{"A", "", "2026-03-01", "2026-03-01 A validity/=0.9"},
			{"", "", "", "2026-03-01 A validity/=0.9; 2026-03-01 B validity/=1; 2026-03-02 A completeness/=0.75"},
			{"C", "", "", ""},
		}
		for _, c := range cases {
			got, err := db.QualityFigures(ctx, c.res, c.from, c.to)
			if err != nil {
				t.Fatal(err)
			}
			if render(got) != c.want {
				t.Errorf("figures %q %s..%s: %s, want %s", c.res, c.from, c.to, render(got), c.want)
			}
		}
		latest, err := db.LatestQualityFigures(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if r := render(latest); r != "2026-03-02 A completeness/=0.75; 2026-03-01 B validity/=1" {
			t.Fatalf("latest %s", r)
		}
		if latest[0].Numerator != 75 || latest[0].Denominator != 100 || latest[0].Dept != qDept || !latest[0].ComputedAt.Equal(qT0) {
			t.Fatalf("latest figure %+v", latest[0])
		}
		for _, bad := range []struct {
			day  string
			figs []QualityFigure
			want string
		}{
			{"2026-3-1", nil, "not a date"},
			{"2026-03-01", []QualityFigure{fig("A", "x", "", math.NaN())}, "not a finite number"},
			{"2026-03-01", []QualityFigure{fig("", "x", "", 1)}, "resource is empty"},
			{"2026-03-01", []QualityFigure{fig("A", "x", "", 1), fig("A", "x", "", 0.5)}, "given twice"},
		} {
			if err := db.SaveQualityFigures(ctx, bad.day, bad.figs); err == nil || !strings.Contains(err.Error(), bad.want) {
				t.Errorf("save %s %v: %v, want %q", bad.day, bad.figs, err, bad.want)
			}
		}
		// The failed saves left the day as it was.
		if got, _ := db.QualityFigures(ctx, "A", "2026-03-01", "2026-03-01"); render(got) != "2026-03-01 A validity/=0.9" {
			t.Fatalf("after failed saves: %s", render(got))
		}
		if _, err := db.QualityFigures(ctx, "A", "yesterday", ""); err == nil {
			t.Error("bad from day accepted")
		}
	})
}

func TestSharedSubjectRecords(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		rec := func(key, subject string, deleted bool) Record {
			r := Record{Resource: qRes, Key: key, Dept: qDept, Subject: subject, Version: 1, Deleted: deleted}
			if !deleted {
				r.Data = json.RawMessage(`{}`)
			}
			return r
		}
		if _, err := db.ApplyRecords(ctx, []Record{
			rec("a", "S1", false), rec("b", "S1", false), rec("c", "S1", false),
			rec("d", "S2", false), rec("e", "S2", true), // the tombstone does not count
			rec("f", "", false), rec("g", "", false), // no subject: nothing shared
			rec("h", "S3", false),
		}); err != nil {
			t.Fatal(err)
		}
		n, err := db.SharedSubjectRecords(ctx, qRes)
		if err != nil || n != 3 {
			t.Fatalf("shared %d %v, want 3", n, err)
		}
		if n, err := db.SharedSubjectRecords(ctx, "NONE"); err != nil || n != 0 {
			t.Fatalf("shared of empty resource %d %v", n, err)
		}
	})
}
