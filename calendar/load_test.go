package calendar

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string // substrings of the error, each "file:line: key: ..."
	}{
		{"empty", "", []string{"bad.yaml: empty"}},
		{"syntax", "2026: [\n", []string{"bad.yaml: not valid YAML"}},
		{"not a mapping", "- 2026\n", []string{"bad.yaml:1: must be a mapping of years"}},
		{"no years", "{}\n", []string{"bad.yaml:1: no years"}},
		{"bad year", "abc:\n  workdays: []\n", []string{"bad.yaml:1: abc: key must be a year"}},
		{"year twice", "2026:\n  workdays: []\n2026:\n  workdays: []\n", []string{"bad.yaml:3: 2026: year declared twice"}},
		{"year not mapping", "2026: 5\n", []string{"bad.yaml:1: 2026: must be a mapping"}},
		{"unknown key", "2026:\n  holiday: []\n", []string{"bad.yaml:2: 2026.holiday: unknown key"}},
		{"key twice", "2026:\n  workdays: []\n  workdays: []\n", []string{"bad.yaml:3: 2026.workdays: declared twice"}},
		{"holidays not list", "2026:\n  holidays: {from: 2026-01-01}\n", []string{"bad.yaml:2: 2026.holidays: must be a list"}},
		{"to before from", "2026:\n  holidays:\n    - {from: 2026-02-15, to: 2026-02-13, name: 春节}\n",
			[]string{"bad.yaml:3: 2026.holidays[0].to: 2026-02-13 is before from 2026-02-15"}},
		{"missing name", "2026:\n  holidays:\n    - {from: 2026-02-15, to: 2026-02-16}\n", []string{"bad.yaml:3: 2026.holidays[0].name: missing"}},
		{"empty name", "2026:\n  holidays:\n    - {from: 2026-02-15, to: 2026-02-16, name: \"\"}\n", []string{"bad.yaml:3: 2026.holidays[0].name: must be a non-empty name"}},
		{"unknown holiday key", "2026:\n  holidays:\n    - {from: 2026-02-15, to: 2026-02-16, name: x, days: 2}\n", []string{"bad.yaml:3: 2026.holidays[0].days: unknown key"}},
		{"bad date", "2026:\n  holidays:\n    - from: 2026-02-30\n      to: 2026-03-01\n      name: x\n",
			[]string{"bad.yaml:3: 2026.holidays[0].from: \"2026-02-30\" is not a date"}},
		{"too long", "2026:\n  holidays:\n    - {from: 2026-01-01, to: 2026-03-01, name: x}\n", []string{"bad.yaml:3: 2026.holidays[0].to: holiday of 60 days"}},
		{"other year", "2026:\n  workdays: [2025-06-07]\n", []string{"bad.yaml:2: 2026.workdays[0]: 2025-06-07 is not in 2026"}},
		{"weekday worked", "2026:\n  workdays:\n    - 2026-02-13\n", []string{"bad.yaml:3: 2026.workdays[0]: 2026-02-13 is a Friday, already a working day"}},
		{"overlap", "2026:\n  holidays:\n    - {from: 2026-02-15, to: 2026-02-20, name: a}\n    - {from: 2026-02-20, to: 2026-02-21, name: b}\n",
			[]string{"bad.yaml:4: 2026.holidays[1]: 2026-02-20 is already declared by 2026.holidays[0]"}},
		{"holiday and workday", "2026:\n  holidays:\n    - {from: 2026-02-14, to: 2026-02-16, name: a}\n  workdays: [2026-02-14]\n",
			[]string{"bad.yaml:4: 2026.workdays[0]: 2026-02-14 is already declared by 2026.holidays[0]"}},
		{"several", "2026:\n  workdays: [2026-02-13, x]\n  extra: 1\n",
			[]string{"bad.yaml:2: 2026.workdays[0]: 2026-02-13 is a Friday", "bad.yaml:2: 2026.workdays[1]: \"x\" is not a date", "bad.yaml:3: 2026.extra: unknown key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.yaml), "bad.yaml")
			if err == nil {
				t.Fatalf("Parse succeeded: %+v", c)
			}
			if c != nil {
				t.Errorf("Parse returned a calendar with an error")
			}
			var p *Problem
			if !errors.As(err, &p) {
				t.Errorf("error %T is not a *Problem", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%v\ndoes not contain %q", err, w)
				}
			}
		})
	}
}

func TestParseAcceptsYearEnd(t *testing.T) {
	// 元旦 2023 was 2022-12-31..2023-01-02: listed under 2023, it is known even
	// though 2022 is not covered.
	c, err := Parse([]byte("2023:\n  holidays:\n    - {from: 2022-12-31, to: 2023-01-02, name: 元旦}\n"), "ok.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if work, covered := c.IsWorkday(date(t, "2022-12-31")); work || !covered {
		t.Errorf("2022-12-31: workday %v covered %v; want false, true", work, covered)
	}
	if work, covered := c.IsWorkday(date(t, "2022-12-30")); !work || covered {
		t.Errorf("2022-12-30: workday %v covered %v; want true, false", work, covered)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(filepath.Join(dir, "missing.yaml")); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, make([]byte, MaxFileSize+1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(big); err == nil || !strings.Contains(err.Error(), big) {
		t.Errorf("big file: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	seed, err := os.ReadFile(holidayFile)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte("2026:\n  holidays:\n    - {from: 2026-02-15, to: 2026-02-23, name: 春节}\n  workdays: [2026-02-14]\n"))
	f.Add([]byte("2023:\n  holidays:\n    - {from: 2022-12-31, to: 2023-01-02, name: x}\n"))
	f.Add([]byte("a: &x [1]\nb: *x\n"))
	f.Add([]byte("2026: {holidays: [{from: 2026-01-01, to: 2026-01-01, name: a}, {from: 2026-01-01, to: 2026-01-02, name: b}]}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, "fuzz.yaml")
		if err != nil {
			if c != nil {
				t.Fatal("calendar returned with an error")
			}
			if !strings.Contains(err.Error(), "fuzz.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for d, name := range c.holidays {
			if work, covered := c.workday(d); work || !covered || name == "" {
				t.Fatalf("holiday %s: workday %v covered %v name %q", d, work, covered, name)
			}
		}
		for d := range c.workdays {
			if work, covered := c.workday(d); !work || !covered || !d.weekend() {
				t.Fatalf("make-up day %s: workday %v covered %v", d, work, covered)
			}
		}
		for _, y := range c.Years() {
			start := civil(y, 1, 1).in(time.UTC)
			end, err := c.AddWorkdays(start, 20)
			if err != nil && !errors.Is(err, ErrNotCovered) {
				t.Fatal(err)
			}
			if n, _ := c.WorkdaysBetween(start, end); n != 20 {
				t.Fatalf("round trip from %d-01-01: %d", y, n)
			}
		}
	})
}
