package grant

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tongban/tongban/catalog"
)

// TestLoadDeployLists loads deploy/sharing against the deploy catalog.
func TestLoadDeployLists(t *testing.T) {
	cat, err := catalog.Load("../../deploy/catalog")
	if err != nil {
		t.Fatal(err)
	}
	l, err := LoadDir("../../deploy/sharing", cat)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Scenarios) == 0 || len(l.Negative) == 0 || len(l.Duties) == 0 {
		t.Fatalf("lists = %+v", l)
	}
	sc := l.Scenarios[0]
	if sc.Code != "SC-MARRIAGE-REG" || sc.AnyDept || len(sc.Depts) != 1 || sc.ValidDays != 365 || !strings.HasSuffix(sc.File, "scenarios.yaml") || sc.Line == 0 {
		t.Errorf("scenario = %+v", sc)
	}
}

func TestParseProblems(t *testing.T) {
	cat := testCatalog()
	cases := []struct {
		name, yaml string
		want       []string // substrings of the error, each with its file:line
	}{
		{"unknown top key", "scenarioz: []\n", []string{"s.yaml:1: scenarioz: unknown key"}},
		{"unknown scenario key", "scenarios:\n  - code: SC-A\n    name: a\n    legal_basis: b\n    departments: any\n    resources: [{resource: CON, fields: [name]}]\n    colour: red\n",
			[]string{"s.yaml:7: scenarios[0].colour: unknown key"}},
		{"missing legal basis", "scenarios:\n  - code: SC-A\n    name: a\n    departments: any\n    resources: [{resource: CON, fields: [name]}]\n",
			[]string{"s.yaml:2: scenarios[0].legal_basis: missing"}},
		{"bad code", "scenarios:\n  - code: sc a\n    name: a\n    legal_basis: b\n    departments: any\n    resources: [{resource: CON, fields: [name]}]\n",
			[]string{"s.yaml:2: scenarios[0].code"}},
		{"unknown resource and field", "scenarios:\n  - code: SC-A\n    name: a\n    legal_basis: b\n    departments: any\n    resources:\n      - resource: NOPE\n        fields: [x]\n      - resource: CON\n        fields: [name, nope]\n",
			[]string{"s.yaml:7: scenarios[0].resources[0].resource: \"NOPE\"", "s.yaml:10: scenarios[0].resources[1].fields[1]: \"nope\" is not a field"}},
		{"none resource", "scenarios:\n  - code: SC-A\n    name: a\n    legal_basis: b\n    departments: any\n    resources: [{resource: NON, fields: [id]}]\n",
			[]string{"share_type none"}},
		{"unknown dept", "scenarios:\n  - code: SC-A\n    name: a\n    legal_basis: b\n    departments: [D9]\n    resources: [{resource: CON, fields: [name]}]\n",
			[]string{"s.yaml:5: scenarios[0].departments[0]: \"D9\" is not a department"}},
		{"bad valid days", "scenarios:\n  - code: SC-A\n    name: a\n    legal_basis: b\n    departments: any\n    valid_days: -1\n    resources: [{resource: CON, fields: [name]}]\n",
			[]string{"s.yaml:6: scenarios[0].valid_days"}},
		{"fields missing", "scenarios:\n  - code: SC-A\n    name: a\n    legal_basis: b\n    departments: any\n    resources: [{resource: CON}]\n",
			[]string{"scenarios[0].resources[0].fields: missing"}},
		{"negative without basis", "negative:\n  - resource: CON\n", []string{"s.yaml:2: negative[0].legal_basis: missing"}},
		{"negative field twice", "negative:\n  - resource: CON\n    legal_basis: x\n    fields: [name, name]\n", []string{"s.yaml:4: negative[0].fields[1]: \"name\" listed twice"}},
		{"duty needs name", "responsibilities:\n  - dept: P1\n    resource: NEW-1\n    basis: x\n", []string{"s.yaml:2: responsibilities[0].name: missing"}},
		{"alias", "negative:\n  - &a {resource: CON, legal_basis: x}\n  - *a\n", []string{"anchors and aliases"}},
		{"two documents", "negative: []\n---\nnegative: []\n", []string{"second YAML document"}},
		{"not a mapping", "- a\n", []string{"s.yaml:1: want a mapping"}},
		{"syntax", "negative: [\n", []string{"YAML syntax error"}},
		{"syntax with line", "negative:\n  - resource: CON\n    x: y: z\n", []string{"s.yaml:3: YAML syntax error: mapping values"}},
		{"empty", "", []string{"empty file"}},
		{"duplicate key", "negative: []\nnegative: []\n", []string{"s.yaml:2: negative: key given twice"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("s.yaml", []byte(c.yaml), cat)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			var p *Problem
			if !errors.As(err, &p) || p.File != "s.yaml" {
				t.Errorf("error %v is not a *Problem of s.yaml", err)
			}
		})
	}
}

func TestLoadDirCrossChecks(t *testing.T) {
	cat := testCatalog()
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("a.yaml", "scenarios:\n  - code: SC-A\n    name: a\n    legal_basis: b\n    departments: any\n    resources: [{resource: PART, fields: [secret]}]\n")
	write("b.yaml", "negative:\n  - resource: PART\n    fields: [secret]\n    legal_basis: x\nscenarios:\n  - code: SC-A\n    name: again\n    legal_basis: b\n    departments: any\n    resources: [{resource: CON, fields: [name]}]\n")
	_, err := LoadDir(dir, cat)
	if err == nil {
		t.Fatal("no error")
	}
	for _, w := range []string{"a.yaml:2: scenarios.SC-A: grants PART.secret, which the negative list (" + filepath.Join(dir, "b.yaml") + ":2) forbids",
		"b.yaml:6: code: scenario SC-A is also defined at " + filepath.Join(dir, "a.yaml") + ":2"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
	if _, err := LoadDir(t.TempDir(), cat); err == nil {
		t.Error("empty directory accepted")
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"scenarios.yaml", "negative.yaml", "responsibility.yaml"} {
		if b, err := os.ReadFile(filepath.Join("../../deploy/sharing", name)); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("scenarios:\n  - code: SC-A\n    name: a\n    legal_basis: b\n    departments: any\n    resources: [{resource: CON, fields: [name]}]\n"))
	f.Add([]byte("negative:\n  - &a {resource: CON, legal_basis: x}\n  - *a\n"))
	f.Add([]byte("responsibilities:\n  - {dept: P1, resource: X-1, name: n, basis: b, fields: [a]}\n"))
	cat := testCatalog()
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := Parse("f.yaml", data, cat)
		if err != nil {
			if l != nil {
				t.Fatal("lists returned with an error")
			}
			var p *Problem
			if !errors.As(err, &p) || p.File != "f.yaml" {
				t.Fatalf("error %v is not a *Problem of f.yaml", err)
			}
			return
		}
		// What loads is consistent with the catalog.
		for _, sc := range l.Scenarios {
			if !scenarioCode.MatchString(sc.Code) || sc.LegalBasis == "" || len(sc.Resources) == 0 || (!sc.AnyDept && len(sc.Depts) == 0) {
				t.Fatalf("accepted scenario %+v", sc)
			}
			for _, sr := range sc.Resources {
				r, ok := cat.Resource(sr.Resource)
				if !ok || len(sr.Fields) == 0 {
					t.Fatalf("accepted scenario resource %+v", sr)
				}
				for _, fl := range sr.Fields {
					if r.Schema.Index(fl) < 0 {
						t.Fatalf("accepted field %q of %s", fl, sr.Resource)
					}
				}
			}
		}
		for _, e := range l.Negative {
			if _, ok := cat.Resource(e.Resource); !ok || e.LegalBasis == "" {
				t.Fatalf("accepted negative entry %+v", e)
			}
		}
		for _, d := range l.Duties {
			if _, ok := cat.Department(d.Dept); !ok || d.Basis == "" || d.Name == "" {
				t.Fatalf("accepted duty %+v", d)
			}
		}
	})
}

// TestDeployScenarios: the deploy lists work with the deploy catalog: the
// civil affairs bureau's marriage registration reads household and ID data
// at once; the phone is on the negative list; a department outside the
// scenario must apply.
func TestDeployScenarios(t *testing.T) {
	cat, err := catalog.Load("../../deploy/catalog")
	if err != nil {
		t.Fatal(err)
	}
	l, err := LoadDir("../../deploy/sharing", cat)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, time.Date(2026, 3, 10, 10, 0, 0, 0, Zone()))
	svc, err := New(Config{Store: e.db, Catalog: cat, Calendar: e.svc.cal, Lists: l, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	const (
		civil  = "112306000128140362" // 民政局
		market = "112306000128140287" // 市场监管局
	)
	ctx := context.Background()
	d, err := svc.Decide(ctx, Request{Dept: civil, Resource: "PS-POP-001", Purpose: "结婚登记", ItemCode: "MZ-001", Scenario: "SC-MARRIAGE-REG"})
	if err != nil || !d.Allowed || !slices.Contains(d.Fields, "household_type") || slices.Contains(d.Fields, "phone") {
		t.Errorf("marriage registration: %+v %v", d, err)
	}
	d, _ = svc.Decide(ctx, Request{Dept: civil, Resource: "PS-POP-001", Fields: []string{"phone"}, Purpose: "结婚登记", ItemCode: "MZ-001"})
	if d.Allowed || d.Code != CodeNegativeList || !strings.Contains(d.LegalBasis, "个人信息保护法") {
		t.Errorf("phone: %+v", d)
	}
	d, _ = svc.Decide(ctx, Request{Dept: market, Resource: "PS-POP-001", Purpose: "企业开办", ItemCode: "SC-002", Scenario: "SC-MARRIAGE-REG"})
	if d.Allowed || d.Code != CodeNotEligible {
		t.Errorf("market supervision under the marriage scenario: %+v", d)
	}
	if len(svc.Responsibilities()) != len(cat.Resources)+len(l.Duties) {
		t.Error("responsibility list")
	}
}
