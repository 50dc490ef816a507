package catalog_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/tongban/tongban/catalog"
)

// testLegalPerson is a valid resource about legal persons.
const testLegalPerson = `code: TS-LP-001
name: 测试法人
provider: "112306000128140287"
subject: {type: legal_person, field: uscc}
primary_key: [uscc]
fields:
  - {name: uscc, type: string}
  - {name: name, type: string}
share_type: unconditional
open_type: open
update_cycle: daily
`

// testSubjects is a valid subjects.yaml over testResource (TS-RES-001),
// testPerson (TS-PER-001) and testLegalPerson (TS-LP-001).
const testSubjects = `person:
  library: population
  name: 人口基础库
  fields:
    - name: name
      authority: TS-PER-001
    - name: amount
      authority: {resource: TS-PER-001, field: amount}
      cross_check: [TS-RES-001]
legal_person:
  library: legal_person
  fields:
    - name: name
      authority: TS-LP-001
`

const subj = "subjects.yaml"

// subjectFiles returns the catalog files with subjects.yaml being
// testSubjects edited by the old/new pairs.
func subjectFiles(t *testing.T, pairs ...string) map[string]string {
	t.Helper()
	s := testSubjects
	for i := 0; i+1 < len(pairs); i += 2 {
		if !strings.Contains(s, pairs[i]) {
			t.Fatalf("test subjects.yaml has no %q", pairs[i])
		}
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	return map[string]string{
		"resources/a.yaml": testResource, "resources/b.yaml": testPerson, "resources/c.yaml": testLegalPerson,
		subj: s,
	}
}

func TestLoadReportsSubjectProblems(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []want
	}{
		{
			name:  "unknown subject type",
			files: subjectFiles(t, "legal_person:\n", "organisation:\n"),
			want:  []want{{subj, 10, "organisation", "unknown key (want one of person, legal_person)"}},
		},
		{
			name:  "subject type twice",
			files: subjectFiles(t, "legal_person:\n", "person:\n"),
			want:  []want{{subj, 10, "person", "given twice (first on line 1)"}},
		},
		{
			name:  "field declared twice",
			files: subjectFiles(t, "      cross_check: [TS-RES-001]\n", "      cross_check: [TS-RES-001]\n    - name: name\n      authority: TS-PER-001\n"),
			want:  []want{{subj, 10, "person.fields[2].name", `"name" is already declared on line 5: 一数一源, one authoritative source per field`}},
		},
		{
			name:  "authority a list",
			files: subjectFiles(t, "      authority: TS-PER-001\n", "      authority: [TS-PER-001, TS-RES-001]\n"),
			want:  []want{{subj, 6, "person.fields[0].authority", "一数一源: one authoritative source per field, not a list; name the other sources under cross_check"}},
		},
		{
			name:  "authority missing",
			files: subjectFiles(t, "      authority: TS-PER-001\n", "      description: 姓名\n"),
			want:  []want{{subj, 5, "person.fields[0].authority", "required: the one authoritative source"}},
		},
		{
			name:  "unknown resource",
			files: subjectFiles(t, "      authority: TS-PER-001\n", "      authority: TS-NOPE-001\n"),
			want:  []want{{subj, 6, "person.fields[0].authority", `"TS-NOPE-001" is not the code of a resource in resources/`}},
		},
		{
			name:  "resource about another subject type",
			files: subjectFiles(t, "      authority: TS-PER-001\n", "      authority: TS-LP-001\n"),
			want:  []want{{subj, 6, "person.fields[0].authority", `resource TS-LP-001 is about subject type "legal_person", not person`}},
		},
		{
			name:  "resource without the field",
			files: subjectFiles(t, "field: amount}", "field: amt}"),
			want:  []want{{subj, 8, "person.fields[1].authority.field", `resource TS-PER-001 has no field "amt"`}},
		},
		{
			name:  "cross-check the authority itself",
			files: subjectFiles(t, "      authority: TS-LP-001\n", "      authority: TS-LP-001\n      cross_check: [TS-LP-001]\n"),
			want:  []want{{subj, 15, "legal_person.fields[0].cross_check[0]", "TS-LP-001.name is the authority itself"}},
		},
		{
			name:  "cross-check repeated",
			files: subjectFiles(t, "[TS-RES-001]", "[TS-RES-001, {resource: TS-RES-001}]"),
			want:  []want{{subj, 9, "person.fields[1].cross_check[1]", "TS-RES-001.amount is listed twice"}},
		},
		{
			name: "cross-check type not comparable",
			files: subjectFiles(t, "{resource: TS-PER-001, field: amount}", "{resource: TS-PER-001, field: birth_date}",
				"[TS-RES-001]", "[{resource: TS-PER-001, field: flag}]"),
			want: []want{{subj, 9, "person.fields[1].cross_check[0]", "TS-PER-001.flag has type bool, which cannot be compared with the authority TS-PER-001.birth_date of type date"}},
		},
		{
			name:  "cross-check of another subject type",
			files: subjectFiles(t, "[TS-RES-001]", "[TS-RES-001, {resource: TS-LP-001, field: name}]"),
			want:  []want{{subj, 9, "person.fields[1].cross_check[1].resource", `resource TS-LP-001 is about subject type "legal_person", not person`}},
		},
		{
			name:  "library used twice",
			files: subjectFiles(t, "  library: legal_person\n", "  library: population\n"),
			want:  []want{{subj, 11, "legal_person.library", `"population" is already the library of another subject type (line 2)`}},
		},
		{
			name:  "library not a topic-friendly name",
			files: subjectFiles(t, "  library: population\n", "  library: Population-Base\n"),
			want:  []want{{subj, 2, "person.library", `"Population-Base": want lower-case letters, digits and _`}},
		},
		{
			name:  "library missing, fields empty",
			files: subjectFiles(t, "  library: legal_person\n  fields:\n    - name: name\n      authority: TS-LP-001\n", "  fields: []\n"),
			want: []want{
				{subj, 10, "legal_person.library", "required: the base library's name"},
				{subj, 11, "legal_person.fields", "the list is empty"},
			},
		},
		{
			name:  "unknown key in a field",
			files: subjectFiles(t, "      authority: TS-LP-001\n", "      authority: TS-LP-001\n      source: TS-LP-001\n"),
			want:  []want{{subj, 15, "legal_person.fields[0].source", "unknown key (want one of name, description, authority, cross_check)"}},
		},
		{
			name:  "field name not a field name",
			files: subjectFiles(t, "    - name: name\n      authority: TS-PER-001\n", "    - name: 姓名\n      authority: TS-PER-001\n"),
			want:  []want{{subj, 5, "person.fields[0].name", `"姓名": want lower-case letters`}},
		},
		{
			name:  "source mapping without resource",
			files: subjectFiles(t, "{resource: TS-PER-001, field: amount}", "{field: amount}"),
			want:  []want{{subj, 8, "person.fields[1].authority.resource", "required: the code of the resource"}},
		},
		{
			name:  "no subject type",
			files: map[string]string{res: testResource, subj: "{}\n"},
			want:  []want{{subj, 1, "", "declares no golden record"}},
		},
		{
			name:  "subjects.yaml not a mapping",
			files: map[string]string{res: testResource, subj: "- person\n"},
			want:  []want{{subj, 1, "", "want subject types (person, legal_person) mapped to their golden records (a mapping of keys), got a list"}},
		},
		{
			name:  "an unreadable resource file does not make its code unknown",
			files: map[string]string{"resources/a.yaml": testResource, "resources/b.yaml": "code: [", subj: "person:\n  library: p\n  fields:\n    - {name: x, authority: TS-PER-001}\n"},
			want:  []want{{"resources/b.yaml", 1, "", "YAML syntax error"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkProblems(t, writeCatalog(t, testDepartments, tt.files), tt.want)
		})
	}
}

func TestLoadSubjects(t *testing.T) {
	// Text compares with anything; numbers with numbers.
	files := subjectFiles(t, "      authority: TS-PER-001\n", "      authority: TS-PER-001\n      cross_check: [{resource: TS-PER-001, field: flag}]\n")
	c, err := catalog.Load(writeCatalog(t, testDepartments, files))
	if err != nil {
		t.Fatal(err)
	}
	want := []catalog.SubjectSpec{
		{Type: "person", Library: "population", Name: "人口基础库", Fields: []catalog.SubjectField{
			{Name: "name", Authority: catalog.SourceRef{Resource: "TS-PER-001", Field: "name"},
				CrossCheck: []catalog.SourceRef{{Resource: "TS-PER-001", Field: "flag"}}},
			{Name: "amount", Authority: catalog.SourceRef{Resource: "TS-PER-001", Field: "amount"},
				CrossCheck: []catalog.SourceRef{{Resource: "TS-RES-001", Field: "amount"}}},
		}},
		{Type: "legal_person", Library: "legal_person", Fields: []catalog.SubjectField{
			{Name: "name", Authority: catalog.SourceRef{Resource: "TS-LP-001", Field: "name"}},
		}},
	}
	if !reflect.DeepEqual(c.Subjects, want) {
		t.Fatalf("subjects %+v\nwant %+v", c.Subjects, want)
	}
	if s, ok := c.SubjectSpec("legal_person"); !ok || s.Library != "legal_person" {
		t.Errorf("SubjectSpec(legal_person) = %+v, %v", s, ok)
	}

	// No subjects.yaml: nothing to merge.
	delete(files, subj)
	c, err = catalog.Load(writeCatalog(t, testDepartments, files))
	if err != nil {
		t.Fatal(err)
	}
	if c.Subjects != nil {
		t.Errorf("subjects %+v without subjects.yaml", c.Subjects)
	}
	if _, ok := c.SubjectSpec("person"); ok {
		t.Error("SubjectSpec found a spec without subjects.yaml")
	}
}
