package catalog_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/tongban/tongban/catalog"
	"github.com/tongban/tongban/quality"
)

// testPerson is a valid resource for rule tests; line numbers in the
// comments of the cases below count from here.
const testPerson = `code: TS-PER-001
name: 测试人员
provider: "112306000128140287"
subject: {type: person, field: citizen_id}
primary_key: [citizen_id]
fields:
  - name: citizen_id
    type: string
    rules: [citizen_id]
  - name: name
    type: string
  - name: sex
    type: string
  - name: birth_date
    type: date
  - name: flag
    type: bool
    nullable: true
  - name: amount
    type: decimal(10,2)
    nullable: true
share_type: unconditional
open_type: open
update_cycle: daily
`

// editPerson returns testPerson with each old string replaced once by its new one.
func editPerson(t testing.TB, pairs ...string) string {
	t.Helper()
	s := testPerson
	for i := 0; i+1 < len(pairs); i += 2 {
		if !strings.Contains(s, pairs[i]) {
			t.Fatalf("test resource has no %q", pairs[i])
		}
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	return s
}

// Rules added after a field's type line: "    type: string\n" of name is
// the first one after line 10.
const (
	nameType  = "  - name: name\n    type: string\n"
	sexType   = "  - name: sex\n    type: string\n"
	birthType = "  - name: birth_date\n    type: date\n"
)

func TestLoadReportsRuleProblems(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []want
	}{
		{
			name:  "unknown bare kind",
			files: map[string]string{res: editPerson(t, nameType, nameType+"    rules: [citizen]\n")},
			want:  []want{{res, 12, "fields[1].rules[0]", `unknown rule kind "citizen" (want one of required, length`}},
		},
		{
			name:  "bare kind that has parameters",
			files: map[string]string{res: editPerson(t, nameType, nameType+"    rules: [length]\n")},
			want:  []want{{res, 12, "fields[1].rules[0]", "a length rule has parameters: write it as a mapping, e.g. {kind: length, max: 50}"}},
		},
		{
			name:  "null rule",
			files: map[string]string{res: editPerson(t, nameType, nameType+"    rules:\n      - ~\n")},
			want:  []want{{res, 13, "fields[1].rules[0]", "want a rule: one of required, citizen_id or uscc, or a mapping"}},
		},
		{
			name:  "rules not a list",
			files: map[string]string{res: editPerson(t, "    rules: [citizen_id]", "    rules: citizen_id")},
			want:  []want{{res, 9, "fields[0].rules", `want a list, got the value "citizen_id"`}},
		},
		{
			name:  "unknown kind in a mapping",
			files: map[string]string{res: editPerson(t, nameType, nameType+"    rules:\n      - {kind: lenght, max: 5}\n")},
			want:  []want{{res, 13, "fields[1].rules[0].kind", `unknown rule kind "lenght"`}},
		},
		{
			name:  "kind missing",
			files: map[string]string{res: editPerson(t, nameType, nameType+"    rules:\n      - {max: 5}\n")},
			want:  []want{{res, 13, "fields[1].rules[0].kind", "required: the rule kind"}},
		},
		{
			name:  "field key in a rule",
			files: map[string]string{res: editPerson(t, nameType, nameType+"    rules:\n      - {kind: length, field: name, max: 5}\n")},
			want:  []want{{res, 13, "fields[1].rules[0].field", "unknown key (want one of kind, min, max, pattern, codes, list, with)"}},
		},
		{
			name:  "empty parameter",
			files: map[string]string{res: editPerson(t, nameType, nameType+"    rules:\n      - {kind: length, max: \"\"}\n")},
			want:  []want{{res, 13, "fields[1].rules[0].max", "must not be empty"}},
		},
		{
			name: "max less than min, at the line of max",
			files: map[string]string{res: editPerson(t, nameType, nameType+
				"    rules:\n      - kind: length\n        min: 5\n        max: 2\n")},
			want: []want{{res, 15, "fields[1].rules[0].max", "2 is less than min 5"}},
		},
		{
			name:  "parameter the kind does not use",
			files: map[string]string{res: editPerson(t, nameType, nameType+"    rules:\n      - {kind: required, max: 5}\n")},
			want:  []want{{res, 13, "fields[1].rules[0].max", "not used by a required rule"}},
		},
		{
			name:  "bad pattern",
			files: map[string]string{res: editPerson(t, nameType, nameType+"    rules:\n      - {kind: pattern, pattern: '('}\n")},
			want:  []want{{res, 13, "fields[1].rules[0].pattern", "not a valid regular expression"}},
		},
		{
			name: "the same rule twice names the first",
			files: map[string]string{res: editPerson(t, nameType, nameType+
				"    rules:\n      - {kind: length, max: 5}\n      - {kind: length, max: 6}\n")},
			want: []want{{res, 14, "fields[1].rules[1]", `same length rule on "name" as fields[1].rules[0]`}},
		},
		{
			name:  "kind does not fit the field's type",
			files: map[string]string{res: editPerson(t, birthType, birthType+"    rules:\n      - {kind: length, max: 5}\n")},
			want:  []want{{res, 17, "fields[3].rules[0].kind", "a length rule does not apply to date field \"birth_date\""}},
		},
		{
			name:  "bare kind does not fit the field's type",
			files: map[string]string{res: editPerson(t, birthType, birthType+"    rules: [uscc]\n")},
			want:  []want{{res, 16, "fields[3].rules[0]", "a uscc rule does not apply to date field"}},
		},
		{
			name:  "with names no field",
			files: map[string]string{res: editPerson(t, "    rules: [citizen_id]", "    rules: [citizen_id, {kind: citizen_id_birth, with: born}]")},
			want:  []want{{res, 9, "fields[0].rules[1].with", `"born" is not a field of the schema`}},
		},
		{
			name:  "with names a field of the wrong type",
			files: map[string]string{res: editPerson(t, "    rules: [citizen_id]", "    rules: [citizen_id, {kind: citizen_id_sex, with: flag}]")},
			want:  []want{{res, 9, "fields[0].rules[1].with", `bool field "flag" cannot be compared by a citizen_id_sex rule`}},
		},
		{
			name:  "with names the field itself",
			files: map[string]string{res: editPerson(t, "    rules: [citizen_id]", "    rules: [citizen_id, {kind: citizen_id_sex, with: citizen_id}]")},
			want:  []want{{res, 9, "fields[0].rules[1].with", `must name a field other than "citizen_id"`}},
		},
		{
			name:  "codes and list",
			files: map[string]string{res: editPerson(t, sexType, sexType+"    rules:\n      - {kind: code_list, codes: [\"1\"], list: GB/T 2261.1}\n")},
			want:  []want{{res, 15, "fields[2].rules[0].list", "give codes or list, not both"}},
		},
		{
			name:  "codes empty",
			files: map[string]string{res: editPerson(t, sexType, sexType+"    rules:\n      - {kind: code_list, codes: []}\n")},
			want:  []want{{res, 15, "fields[2].rules[0].codes", "the list is empty"}},
		},
		{
			name:  "code not a scalar",
			files: map[string]string{res: editPerson(t, sexType, sexType+"    rules:\n      - {kind: code_list, codes: [\"1\", [2]]}\n")},
			want:  []want{{res, 15, "fields[2].rules[0].codes[1]", "a code must be text or a number, got a list"}},
		},
		{
			name:  "code listed twice",
			files: map[string]string{res: editPerson(t, sexType, sexType+"    rules:\n      - {kind: code_list, codes: [男, 女, 男]}\n")},
			want:  []want{{res, 15, "fields[2].rules[0].codes", `code "男" listed twice`}},
		},
		{
			name: "unknown code list names the known ones",
			files: map[string]string{
				res:                  editPerson(t, sexType, sexType+"    rules:\n      - {kind: code_list, list: 性别代码}\n"),
				"codelists/sex.yaml": "name: 性别\ncodes:\n  - {code: 男, name: male}\n",
			},
			want: []want{{res, 15, "fields[2].rules[0].list", `unknown code list "性别代码" (in codelists/: 性别; built in: GB/T 2261.1, GB/T 2261.2)`}},
		},
		{
			name: "a catalog list's codes refused by the rule are reported at list",
			files: map[string]string{
				res:                      editPerson(t, "    rules: [citizen_id]", "    rules: [{kind: citizen_id, list: 区划}]"),
				"codelists/regions.yaml": "name: 区划\ncodes:\n  - {code: \"23060\", name: 大庆市}\n",
			},
			want: []want{{res, 9, "fields[0].rules[0].list", `"23060" is not a six-digit GB/T 2260 region code`}},
		},
		{
			name: "a rule naming a list with problems is not reported as well",
			files: map[string]string{
				res:                  editPerson(t, sexType, sexType+"    rules:\n      - {kind: code_list, list: 性别}\n"),
				"codelists/sex.yaml": "name: 性别\ncodes:\n  - {code: 男, name: male}\n  - {code: 男, name: again}\n",
			},
			want: []want{{"codelists/sex.yaml", 4, "codes[1].code", `"男" is listed twice (first on line 3)`}},
		},
		{
			name:  "rules of a field whose type is bad are only decoded",
			files: map[string]string{res: editPerson(t, nameType, "  - name: name\n    type: strng\n    rules: [{kind: length}, colour]\n")},
			want: []want{
				{res, 11, "fields[1].type", `unknown type "strng"`},
				{res, 12, "fields[1].rules[1]", `unknown rule kind "colour"`},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkProblems(t, writeCatalog(t, testDepartments, tt.files), tt.want)
		})
	}
}

func TestLoadReportsLatestByProblems(t *testing.T) {
	const field = "  field: citizen_id\n"
	tests := []struct {
		name string
		file string
		want []want
	}{
		{
			name: "not a field",
			file: edit(t, field, field+"  latest_by: nosuch\n"),
			want: []want{{res, 7, "subject.latest_by", `"nosuch" is not one of the fields`}},
		},
		{
			name: "not a date or timestamp",
			file: edit(t, field, field+"  latest_by: amount\n"),
			want: []want{{res, 7, "subject.latest_by", `field "amount" has type decimal(10,2): latest_by must name a date or timestamp field`}},
		},
		{
			name: "nullable",
			file: edit(t, field, field+"  latest_by: updated_at\n", "    type: timestamp\n", "    type: timestamp\n    nullable: true\n"),
			want: []want{{res, 7, "subject.latest_by", `field "updated_at" is nullable`}},
		},
		{
			name: "subject none",
			file: edit(t, "  type: person\n"+field, "  type: none\n  latest_by: updated_at\n"),
			want: []want{{res, 6, "subject.latest_by", "only meaningful when subject.type is person or legal_person"}},
		},
		{
			name: "not a single value",
			file: edit(t, field, field+"  latest_by: [updated_at]\n"),
			want: []want{{res, 7, "subject.latest_by", "want a single value, got a list"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkProblems(t, writeCatalog(t, testDepartments, map[string]string{res: tt.file}), tt.want)
		})
	}
}

func TestLoadReportsCodeListProblems(t *testing.T) {
	const list = "codelists/l.yaml"
	const good = "name: 性别\ntitle: 性别\ncodes:\n  - {code: 男, name: male}\n  - {code: 女, name: female, retired: \"2000\"}\n"
	tests := []struct {
		name  string
		files map[string]string
		want  []want
	}{
		{
			name:  "name missing",
			files: map[string]string{list: strings.Replace(good, "name: 性别\n", "# no name\n", 1)},
			want:  []want{{list, 2, "name", "required: the name rules give in list:"}},
		},
		{
			name:  "name of a built-in list",
			files: map[string]string{list: strings.Replace(good, "name: 性别\n", "name: GB/T 2261.1\n", 1)},
			want:  []want{{list, 1, "name", `"GB/T 2261.1" is the name of a code list built into the quality rules`}},
		},
		{
			name:  "two files, one name",
			files: map[string]string{list: good, "codelists/m.yaml": good},
			want:  []want{{"codelists/m.yaml", 1, "name", `"性别" is already the name of the code list in codelists/l.yaml:1`}},
		},
		{
			name:  "code listed twice",
			files: map[string]string{list: good + "  - {code: 男, name: again}\n"},
			want:  []want{{list, 6, "codes[2].code", `"男" is listed twice (first on line 4)`}},
		},
		{
			name:  "code and name missing, unknown key",
			files: map[string]string{list: good + "  - {title: x}\n"},
			want: []want{
				{list, 6, "codes[2].title", "unknown key (want one of code, name, retired)"},
				{list, 6, "codes[2].code", "required: the code as records carry it"},
				{list, 6, "codes[2].name", "required: what the code means"},
			},
		},
		{
			name:  "retired not a year",
			files: map[string]string{list: strings.Replace(good, `retired: "2000"`, "retired: long ago", 1)},
			want:  []want{{list, 5, "codes[1].retired", `"long ago": want the year (or date) the code went out of use`}},
		},
		{
			name:  "codes empty",
			files: map[string]string{list: "name: x\ncodes: []\n"},
			want:  []want{{list, 2, "codes", "the list is empty"}},
		},
		{
			name:  "codes missing",
			files: map[string]string{list: "name: x\n"},
			want:  []want{{list, 1, "codes", "required: the list of codes"}},
		},
		{
			name:  "code with spaces",
			files: map[string]string{list: good + "  - {code: \" 1\", name: x}\n"},
			want:  []want{{list, 6, "codes[2].code", `" 1" has leading or trailing spaces`}},
		},
		{
			name:  "yml extension",
			files: map[string]string{"codelists/l.yml": good},
			want:  []want{{"codelists/l.yml", 0, "", "files in codelists/ must end in .yaml"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.files[res] = testResource
			checkProblems(t, writeCatalog(t, testDepartments, tt.files), tt.want)
		})
	}
}

// A valid resource gets its declared rules resolved and compiled, in field
// order, with an implicit required rule on every non-nullable field outside
// the primary key, and shows them in its JSON.
func TestLoadRules(t *testing.T) {
	dir := writeCatalog(t, testDepartments, map[string]string{
		res: editPerson(t,
			"    rules: [citizen_id]", "    rules: [citizen_id, {kind: citizen_id_sex, with: sex}]",
			nameType, nameType+"    rules: [required, {kind: length, max: 4}]\n",
			sexType, sexType+"    rules: [{kind: code_list, list: 性别}]\n",
			birthType, birthType+"    rules: [{kind: date_range, min: 1900-01-01, max: today}]\n",
			"    type: bool\n    nullable: true\n", "    type: bool\n    nullable: true\n    rules: [required]\n"),
		"codelists/sex.yaml": "name: 性别\ncodes:\n  - {code: \"1\", name: 男}\n  - {code: \"2\", name: 女}\n  - {code: \"0\", name: 未知, retired: \"2020\"}\n",
	})
	c, err := catalog.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := c.Resource("TS-PER-001")
	var got []string
	for _, rule := range r.Rules {
		got = append(got, rule.Field+":"+rule.Kind)
	}
	want := []string{
		"citizen_id:citizen_id", "citizen_id:citizen_id_sex", // primary key: no implicit required
		"name:required", "name:length", // explicit required replaces the implicit one
		"sex:required", "sex:code_list",
		"birth_date:required", "birth_date:date_range",
		"flag:required", // nullable, but asked for
	}
	if !slices.Equal(got, want) {
		t.Fatalf("rules %v\nwant %v", got, want)
	}
	if rule := r.Rules[5]; !slices.Equal(rule.Codes, []string{"1", "2", "0"}) || rule.List != "性别" || rule.Line != 15 {
		t.Errorf("code_list rule = %+v, want the list's codes, retired ones too, and line 15", rule)
	}
	if l, ok := c.CodeList("性别"); !ok || l.File != "codelists/sex.yaml" || len(l.Codes) != 3 || l.Codes[2].Retired != "2020" {
		t.Errorf("CodeList(性别) = %+v, %v", l, ok)
	}
	if _, ok := c.CodeList("GB/T 2261.1"); ok {
		t.Error("CodeList found a built-in list")
	}

	// The rules run: a clean record passes, a bad one fails the right rules.
	clean := map[string]any{"citizen_id": "11010519491231002X", "name": "张三", "sex": "2", "birth_date": "1949-12-31", "flag": true}
	if fixes, viols := quality.Check(clean, r.Rules); len(fixes)+len(viols) != 0 {
		t.Errorf("clean record: fixes %v, violations %v", fixes, viols)
	}
	bad := map[string]any{"citizen_id": "11010519491231002X", "name": "张三丰五六", "sex": "0", "birth_date": "1849-12-31", "flag": nil}
	_, viols := quality.Check(bad, r.Rules)
	var failed []string
	for _, v := range viols {
		failed = append(failed, v.Field+":"+v.Rule)
	}
	if want := []string{"citizen_id:citizen_id_sex", "name:length", "birth_date:date_range", "flag:required"}; !slices.Equal(failed, want) {
		t.Errorf("violations %v, want %v", failed, want)
	}

	// JSON: "rules" as quality rule objects, and back.
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Rules []map[string]any `json:"rules"`
	}
	if err := json.Unmarshal(b, &raw); err != nil || len(raw.Rules) != len(want) {
		t.Fatalf("rules JSON %s (%v)", b, err)
	}
	if r1 := raw.Rules[1]; r1["kind"] != "citizen_id_sex" || r1["field"] != "citizen_id" || r1["with"] != "sex" || r1["line"] != 9.0 {
		t.Errorf("rules[1] JSON = %v", r1)
	}
	if r5 := raw.Rules[5]; r5["list"] != "性别" || len(r5["codes"].([]any)) != 3 {
		t.Errorf("rules[5] JSON = %v", r5)
	}
	var back catalog.Resource
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if _, viols := quality.Check(bad, back.Rules); len(viols) != len(failed) {
		t.Errorf("decoded rules find %d violations, want %d", len(viols), len(failed))
	}
}

// Rules in JSON that do not compile are refused.
func TestResourceJSONBadRule(t *testing.T) {
	var r catalog.Resource
	err := json.Unmarshal([]byte(`{"code":"X-1","fields":[{"name":"a","type":"string"}],"rules":[{"kind":"length","field":"a","min":"5","max":"2"}]}`), &r)
	if err == nil || !strings.Contains(err.Error(), "rules[0].max: 2 is less than min 5") {
		t.Fatalf("Unmarshal = %v, want the bad rule", err)
	}
}
