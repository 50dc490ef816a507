package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tongban/tongban/hub/store"
)

func seedQuality(t *testing.T, dsn string) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{Driver: store.DriverSQLite, DSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	at := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	if _, err := db.UpdateQuarantine(ctx, []store.QuarantineUpdate{
		{Resource: "GA-HJ-001", Key: "k1", Dept: testDept, Version: 1, At: at,
			Data:       json.RawMessage(`{"id_no":"23010319800101123X","name":"张三"}`),
			Violations: []store.QuarantineViolation{{Field: "id_no", Rule: "citizen_id", ReasonEN: "id_no check digit is wrong", ReasonZH: "id_no校验码错误"}}},
		{Resource: "GA-HJ-001", Key: "k2", Dept: testDept, Version: 1, At: at, Data: json.RawMessage(`{"id_no":"x"}`),
			Violations: []store.QuarantineViolation{{Field: "name", Rule: "required", ReasonEN: "name is required but missing", ReasonZH: "name为必填项，但缺失"}}},
		{Resource: "MZ-HY-001", Key: "k3", Dept: "112306000128140362", Version: 1, At: at, Data: json.RawMessage(`{}`),
			Violations: []store.QuarantineViolation{{Field: "name", Rule: "required", ReasonEN: "name is required but missing", ReasonZH: "name为必填项，但缺失"}}},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpdateQuarantine(ctx, []store.QuarantineUpdate{{Resource: "GA-HJ-001", Key: "k2", Dept: testDept, Version: 2, At: at}}); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveQualityFigures(ctx, "2026-03-01", []store.QualityFigure{
		{Resource: "GA-HJ-001", Dept: testDept, Dimension: "completeness", Value: 0.875, Numerator: 7, Denominator: 8},
		{Resource: "GA-HJ-001", Dept: testDept, Dimension: "completeness", Field: "name", Value: 0.5, Numerator: 1, Denominator: 2},
		{Resource: "GA-HJ-001", Dept: testDept, Dimension: "validity", Value: 0.5, Numerator: 2, Denominator: 4},
		{Resource: "GA-HJ-001", Dept: testDept, Dimension: "timeliness", Value: 0, Numerator: 90000, Denominator: 86400},
		{Resource: "MZ-HY-001", Dept: "112306000128140362", Dimension: "timeliness", Value: 1, Numerator: 60, Denominator: 3600},
	}); err != nil {
		t.Fatal(err)
	}
}

func TestQuarantineList(t *testing.T) {
	cfg, dsn := testConfig(t)
	seedQuality(t, dsn)
	cases := []struct {
		name        string
		args        []string
		lines       int // data lines
		contains    []string
		notContains []string
	}{
		{"open", nil, 2, []string{"k1", "id_no校验码错误", "id_no check digit is wrong", `"23010319800101123X"`, "k3"}, []string{"k2"}},
		{"dept", []string{"-dept", testDept}, 1, []string{"k1"}, []string{"k3"}},
		{"closed", []string{"-status", "closed"}, 1, []string{"k2", "closed (fixed at source)", "name为必填项"}, []string{"k1"}},
		{"all by rule", []string{"-status", "all", "-rule", "required"}, 2, []string{"k2", "k3"}, []string{"k1"}},
		{"resource and field", []string{"-resource", "GA-HJ-001", "-field", "id_no"}, 1, []string{"k1"}, nil},
		{"limit", []string{"-limit", "1", "-status", "all"}, 1, []string{"k1"}, nil},
	}
	for _, c := range cases {
		code, out, errOut := call(append([]string{"quarantine", "list", "-config", cfg}, c.args...)...)
		if code != 0 {
			t.Fatalf("%s: %d %s", c.name, code, errOut)
		}
		lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
		if !strings.HasPrefix(lines[0], "ID") || len(lines)-1 != c.lines {
			t.Errorf("%s: %d lines\n%s", c.name, len(lines)-1, out)
		}
		// The Chinese reason comes before the English one.
		if zh, en := strings.Index(lines[0], "原因"), strings.Index(lines[0], "REASON"); zh < 0 || zh > en {
			t.Errorf("%s: header %q", c.name, lines[0])
		}
		for _, s := range c.contains {
			if !strings.Contains(out, s) {
				t.Errorf("%s: output lacks %q:\n%s", c.name, s, out)
			}
		}
		for _, s := range c.notContains {
			if strings.Contains(out, s) {
				t.Errorf("%s: output has %q:\n%s", c.name, s, out)
			}
		}
	}
}

func TestQualityScorecardCommand(t *testing.T) {
	cfg, dsn := testConfig(t)
	code, out, errOut := call("quality", "scorecard", "-config", cfg)
	if code != 0 || out != "" || !strings.Contains(errOut, "no quality figures yet") {
		t.Fatalf("empty: %d %q %q", code, out, errOut)
	}
	seedQuality(t, dsn)
	code, out, errOut = call("quality", "scorecard", "-config", cfg)
	if code != 0 {
		t.Fatalf("scorecard: %d %s", code, errOut)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], "完整性 COMPLETENESS") {
		t.Fatalf("scorecard:\n%s", out)
	}
	for _, want := range []string{"GA-HJ-001", "87.5% (7/8)", "50.0% (2/4)", "逾期 overdue, last ingest 25h0m0s ago"} {
		if !strings.Contains(lines[1], want) {
			t.Errorf("line of GA-HJ-001 lacks %q: %s", want, lines[1])
		}
	}
	if !strings.Contains(lines[2], "MZ-HY-001") || !strings.Contains(lines[2], "按时 on time") || strings.Count(lines[2], " - ") < 2 {
		t.Errorf("line of MZ-HY-001: %s", lines[2])
	}
}

func TestQualityCommandErrors(t *testing.T) {
	cfg, _ := testConfig(t)
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"quarantine"}, 2, "quarantine: want list"},
		{[]string{"quarantine", "show"}, 2, "quarantine: want list"},
		{[]string{"quality"}, 2, "quality: want scorecard"},
		{[]string{"quality", "report"}, 2, "quality: want scorecard"},
		{[]string{"quarantine", "list", "-config", cfg, "-status", "pending"}, 2, `-status "pending"`},
		{[]string{"quarantine", "list", "-config", cfg, "-limit", "0"}, 2, "-limit 0"},
		{[]string{"quarantine", "list", "-config", cfg, "-limit", "1001"}, 2, "-limit 1001"},
		{[]string{"quarantine", "list", "-config", cfg, "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"quarantine", "list", "-config", cfg, "-bogus"}, 2, "flag provided but not defined: -bogus"},
		{[]string{"quality", "scorecard", "-config", cfg, "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"quality", "scorecard", "-config", "/nonexistent/hub.yaml"}, 1, "hub.yaml"},
	}
	for _, c := range cases {
		code, _, errOut := call(c.args...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: %d %q, want %d with %q", c.args, code, errOut, c.code, c.want)
		}
	}
}

func TestCell(t *testing.T) {
	long := strings.Repeat("长", 50)
	cases := map[string]string{"a\nb\tc": "a b c", long: strings.Repeat("长", maxCellRunes-1) + "…", "": ""}
	for in, want := range cases {
		if got := cell(in); got != want {
			t.Errorf("cell(%q) = %q, want %q", in, got, want)
		}
	}
	if got := fieldValue(json.RawMessage(`{"a":1,"b":"x y"}`), "b"); got != `"x y"` {
		t.Errorf("fieldValue b = %q", got)
	}
	if got := fieldValue(json.RawMessage(`{"a":1}`), "b"); got != "-" {
		t.Errorf("fieldValue missing = %q", got)
	}
	if got := fieldValue(nil, "b"); got != "-" {
		t.Errorf("fieldValue nil = %q", got)
	}
}
