package quality

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tongban/tongban/schemas"
)

const goodFile = `# rules of the population resource
lists:
  marital: ["10", "20", "21", "22", "23", "30", "40", "90"]
rules:
  - {kind: required, field: name}
  - {kind: length, field: name, max: 50}
  - kind: pattern
    field: phone
    pattern: '1[3-9][0-9]{9}'
  - {kind: code_list, field: sex, list: GB/T 2261.1}
  - {kind: code_list, field: marital, list: marital}
  - {kind: code_list, field: nation, codes: [01, 02, 03]}
  - {kind: range, field: capital, min: 0, max: 1e12}
  - {kind: date_range, field: birth_date, min: 1900-01-01, max: today}
  - {kind: citizen_id, field: citizen_id}
  - {kind: uscc, field: uscc}
  - {kind: citizen_id_birth, field: citizen_id, with: birth_date}
  - {kind: citizen_id_sex, field: citizen_id, with: sex}
`

func TestParse(t *testing.T) {
	rules, err := Parse([]byte(goodFile), "rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 12 {
		t.Fatalf("%d rules; want 12", len(rules))
	}
	for i, r := range rules {
		if r.c == nil {
			t.Errorf("rules[%d] not compiled", i)
		}
	}
	if r := rules[2]; r.Kind != KindPattern || r.Field != "phone" || r.Pattern != "1[3-9][0-9]{9}" || r.Line != 7 {
		t.Errorf("rules[2] = %+v", r)
	}
	if r := rules[4]; r.List != "marital" || len(r.Codes) != 8 {
		t.Errorf("rules[4] (file list) = %+v", r)
	}
	if r := rules[5]; !slices.Equal(r.Codes, []string{"01", "02", "03"}) {
		t.Errorf("rules[5] codes = %q; want the text as written", r.Codes)
	}
	if r := rules[6]; r.Min != "0" || r.Max != "1e12" {
		t.Errorf("rules[6] = %+v", r)
	}
	if r := rules[7]; r.Min != "1900-01-01" || r.Max != Today {
		t.Errorf("rules[7] = %+v", r)
	}
	_, viols := CheckAt(map[string]any{"name": "张三", "marital": "11", "nation": "1", "capital": "1000000000000.01"}, rules, testNow)
	var got []string
	for _, v := range viols {
		got = append(got, v.Field+"/"+v.Rule)
	}
	if want := []string{"marital/code_list", "nation/code_list", "capital/range"}; !slices.Equal(got, want) {
		t.Errorf("violations %v; want %v", got, want)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"empty", "", []string{"r.yaml: empty"}},
		{"syntax", "rules: [\n", []string{"r.yaml: not valid YAML"}},
		{"not mapping", "- 1\n", []string{"r.yaml:1: must be a mapping"}},
		{"no rules", "lists: {}\n", []string{"r.yaml:1: rules: missing"}},
		{"unknown top key", "rules: []\nrule: []\n", []string{"r.yaml:2: rule: unknown key"}},
		{"rules not list", "rules: {kind: required}\n", []string{"r.yaml:1: rules: must be a list"}},
		{"rule not mapping", "rules:\n  - required\n", []string{"r.yaml:2: rules[0]: must be a mapping"}},
		{"missing kind", "rules:\n  - field: name\n", []string{"r.yaml:2: rules[0].kind: missing"}},
		{"missing field", "rules:\n  - kind: required\n", []string{"r.yaml:2: rules[0].field: missing"}},
		{"unknown kind", "rules:\n  - {kind: type, field: name}\n", []string{`r.yaml:2: rules[0].kind: unknown rule kind "type"`}},
		{"unknown key", "rules:\n  - kind: required\n    field: name\n    maximum: 3\n", []string{"r.yaml:4: rules[0].maximum: unknown key"}},
		{"key twice", "rules:\n  - kind: required\n    field: name\n    field: x\n", []string{"r.yaml:4: rules[0].field: declared twice"}},
		{"bad field name", "rules:\n  - {kind: required, field: Name}\n", []string{`r.yaml:2: rules[0].field: "Name" is not a field name`}},
		{"null value", "rules:\n  - kind: length\n    field: name\n    max:\n", []string{"r.yaml:4: rules[0].max: must be non-empty text, got null"}},
		{"param not used", "rules:\n  - kind: required\n    field: name\n    max: 3\n", []string{"r.yaml:4: rules[0].max: not used by a required rule"}},
		{"length bad", "rules:\n  - kind: length\n    field: name\n    max: -1\n", []string{`r.yaml:4: rules[0].max: "-1" is not a length`}},
		{"length no bound", "rules:\n  - {kind: length, field: name}\n", []string{"r.yaml:2: rules[0].max: length needs min, max or both"}},
		{"length max < min", "rules:\n  - kind: length\n    field: name\n    min: 5\n    max: 3\n", []string{"r.yaml:5: rules[0].max: 3 is less than min 5"}},
		{"pattern bad", "rules:\n  - kind: pattern\n    field: name\n    pattern: '(a'\n", []string{"r.yaml:4: rules[0].pattern: not a valid regular expression"}},
		{"pattern missing", "rules:\n  - {kind: pattern, field: name}\n", []string{"r.yaml:2: rules[0].pattern: missing"}},
		{"codes and list", "rules:\n  - kind: code_list\n    field: sex\n    codes: [1]\n    list: GB/T 2261.1\n", []string{"r.yaml:5: rules[0].list: give codes or list, not both"}},
		{"unknown list", "rules:\n  - kind: code_list\n    field: sex\n    list: GB/T 9999\n", []string{`r.yaml:4: rules[0].list: unknown code list "GB/T 9999"`}},
		{"code twice", "rules:\n  - kind: code_list\n    field: sex\n    codes: [1, 1]\n", []string{`r.yaml:4: rules[0].codes: code "1" listed twice`}},
		{"empty codes", "rules:\n  - kind: code_list\n    field: sex\n    codes: []\n", []string{"r.yaml:4: rules[0].codes: empty list"}},
		{"code not scalar", "rules:\n  - kind: code_list\n    field: sex\n    codes: [[1]]\n", []string{"r.yaml:4: rules[0].codes[0]: a code must be text or a number"}},
		{"list shadows builtin", "lists:\n  GB/T 2261.1: [1]\nrules: []\n", []string{"r.yaml:2: lists.GB/T 2261.1: name of a built-in code list"}},
		{"region codes and list", "rules:\n  - kind: citizen_id\n    field: id\n    codes: [230102]\n    list: regions\n", []string{"r.yaml:5: rules[0].list: give codes or list, not both"}},
		{"region list unknown", "rules:\n  - kind: citizen_id\n    field: id\n    list: regions\n", []string{`r.yaml:4: rules[0].list: unknown code list "regions"`}},
		{"region code bad", "rules:\n  - kind: citizen_id\n    field: id\n    codes: [2301]\n", []string{`r.yaml:4: rules[0].codes: "2301" is not a six-digit GB/T 2260 region code`}},
		{"range bad", "rules:\n  - kind: range\n    field: cap\n    min: 1/2\n", []string{`r.yaml:4: rules[0].min: "1/2" is not a decimal number`}},
		{"range inverted", "rules:\n  - kind: range\n    field: cap\n    min: 10\n    max: 9.99\n", []string{"r.yaml:5: rules[0].max: 9.99 is less than min 10"}},
		{"date bad", "rules:\n  - kind: date_range\n    field: d\n    min: 2026-02-30\n", []string{`r.yaml:4: rules[0].min: "2026-02-30" is not a date`}},
		{"date inverted", "rules:\n  - kind: date_range\n    field: d\n    min: 2026-01-02\n    max: 2026-01-01\n", []string{"r.yaml:5: rules[0].max: 2026-01-01 is before min 2026-01-02"}},
		{"with missing", "rules:\n  - {kind: citizen_id_sex, field: citizen_id}\n", []string{`r.yaml:2: rules[0].with: "" is not a field name`}},
		{"with same", "rules:\n  - {kind: citizen_id_sex, field: citizen_id, with: citizen_id}\n", []string{"r.yaml:2: rules[0].with: must name a field other than"}},
		{"duplicate rule", "rules:\n  - {kind: required, field: name}\n  - {kind: required, field: name}\n", []string{`r.yaml:3: rules[1]: same required rule on "name" as rules[0]`}},
		{"several", "rules:\n  - {kind: required, field: Name}\n  - {kind: nope, field: x}\n",
			[]string{"r.yaml:2: rules[0].field", "r.yaml:3: rules[1].kind"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rules, err := Parse([]byte(tt.yaml), "r.yaml")
			if err == nil {
				t.Fatalf("Parse succeeded: %+v", rules)
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

func TestCompileErrors(t *testing.T) {
	_, err := Compile([]Rule{{Kind: KindRange, Field: "x", Min: "a"}, {Kind: KindRequired, Field: "y", Pattern: "z"}})
	for _, w := range []string{`rules[0].min: "a" is not a decimal number`, "rules[1].pattern: not used by a required rule"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("Compile error %v does not contain %q", err, w)
		}
	}
	in := []Rule{{Kind: KindRequired, Field: "x"}}
	out, err := Compile(in)
	if err != nil || in[0].c != nil || out[0].c == nil {
		t.Errorf("Compile must return compiled copies and leave its input alone: %v", err)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rules.yaml")
	if err := os.WriteFile(path, []byte(goodFile), 0o600); err != nil {
		t.Fatal(err)
	}
	if rules, err := Load(path); err != nil || len(rules) != 12 {
		t.Errorf("Load: %d rules, %v", len(rules), err)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if err := os.WriteFile(path, []byte("rules:\n  - {kind: x, field: y}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), path+":2: rules[0].kind") {
		t.Errorf("bad file: %v", err)
	}
}

func TestValidateAgainst(t *testing.T) {
	schema := schemas.Schema{Fields: []schemas.Field{
		{Name: "citizen_id", Type: schemas.Type{Kind: schemas.String}},
		{Name: "name", Type: schemas.Type{Kind: schemas.String}},
		{Name: "sex", Type: schemas.Type{Kind: schemas.String}},
		{Name: "birth_date", Type: schemas.Type{Kind: schemas.Date}},
		{Name: "capital", Type: schemas.Type{Kind: schemas.Decimal, Precision: 18, Scale: 2}},
		{Name: "active", Type: schemas.Type{Kind: schemas.Bool}},
	}}
	good := []Rule{
		{Kind: KindRequired, Field: "active"},
		{Kind: KindCitizenID, Field: "citizen_id"},
		{Kind: KindRange, Field: "capital", Max: "1"},
		{Kind: KindDateRange, Field: "birth_date", Max: Today},
		{Kind: KindCitizenIDBirth, Field: "citizen_id", With: "birth_date"},
		{Kind: KindCitizenIDSex, Field: "citizen_id", With: "sex"},
		{Kind: KindCitizenID, Field: "name", List: "GB/T 2260", Codes: []string{"230602"}},
	}
	if err := ValidateAgainst(good, schema); err != nil {
		t.Errorf("good rules: %v", err)
	}
	tests := []struct {
		rule Rule
		want string
	}{
		{Rule{Kind: KindRequired, Field: "nope"}, `rules[0].field: "nope" is not a field of the schema`},
		{Rule{Kind: KindCitizenID, Field: "birth_date", Codes: []string{"230602"}}, "rules[0].field: a citizen_id rule does not apply to date field"},
		{Rule{Kind: KindRange, Field: "name", Max: "1"}, "rules[0].field: a range rule does not apply to string field"},
		{Rule{Kind: KindLength, Field: "capital", Max: "1"}, "does not apply to decimal(18,2) field"},
		{Rule{Kind: KindCitizenIDBirth, Field: "citizen_id", With: "nope"}, `rules[0].with: "nope" is not a field`},
		{Rule{Kind: KindCitizenIDSex, Field: "citizen_id", With: "active"}, "rules[0].with: bool field \"active\" cannot be compared"},
	}
	for _, tt := range tests {
		err := ValidateAgainst([]Rule{tt.rule}, schema)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: error %v; want %q", tt.rule, err, tt.want)
		}
	}
}

func TestParseCitizenIDRegions(t *testing.T) {
	rules, err := Parse([]byte(`lists:
  regions: ["230602", "230603", 232300]
rules:
  - {kind: citizen_id, field: citizen_id, list: regions}
  - {kind: citizen_id, field: holder_id, codes: ["110101"]}
`), "r.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if r := rules[0]; r.List != "regions" || !slices.Equal(r.Codes, []string{"230602", "230603", "232300"}) {
		t.Errorf("rules[0] = %+v", r)
	}
	in := makeID(t, "232300", "1980-01-01", 5)
	out := makeID(t, "110101", "1980-01-01", 5)
	_, viols := CheckAt(map[string]any{"citizen_id": in, "holder_id": in}, rules, testNow)
	if len(viols) != 1 || viols[0].Field != "holder_id" || !strings.Contains(viols[0].Reason, "region code 232300 is not in the allowed regions [110101]") {
		t.Errorf("violations %+v; want holder_id outside [110101]", viols)
	}
	_, viols = CheckAt(map[string]any{"citizen_id": out, "holder_id": out}, rules, testNow)
	if len(viols) != 1 || viols[0].Field != "citizen_id" || !strings.Contains(viols[0].ReasonZH, "行政区划代码 110101 不在 regions 中") {
		t.Errorf("violations %+v; want citizen_id outside regions", viols)
	}
}
