package catalog_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tongban/tongban/catalog"
)

// testDepartments is a valid departments.yaml; line 2 is the first code.
const testDepartments = `departments:
  - code: 1123060001281401X7
    name: 大庆市公安局
    short_name: 市公安局
  - code: "112306000128140287"
    name: 大庆市市场监督管理局
    short_name: 市市场监管局
`

// testResource is a valid resource; the cases below change it without adding
// or removing lines, so the line numbers in the comments hold.
const testResource = `code: TS-RES-001
name: 测试资源
provider: "112306000128140287"
subject:
  type: person
  field: citizen_id
primary_key: [citizen_id]
fields:
  - name: citizen_id
    type: string
  - name: amount
    type: decimal(10,2)
    nullable: true
  - name: updated_at
    type: timestamp
share_type: conditional
share_basis: 《某某条例》第一条
open_type: closed
open_basis: 《某某条例》第二条
update_cycle: daily
`

// edit returns testResource with each old string replaced once by its new
// string; it fails the test if an old string is not there.
func edit(t *testing.T, pairs ...string) string {
	t.Helper()
	s := testResource
	for i := 0; i+1 < len(pairs); i += 2 {
		if !strings.Contains(s, pairs[i]) {
			t.Fatalf("test resource has no %q", pairs[i])
		}
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	return s
}

// writeCatalog writes a catalog directory. A file whose content is "<dir>" is
// created as a directory; departments is not written when it is "<none>".
func writeCatalog(t testing.TB, departments string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if departments != "<none>" {
		if err := os.WriteFile(filepath.Join(dir, "departments.yaml"), []byte(departments), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if content == "<dir>" {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// problemsOf flattens the problems in a Load error.
func problemsOf(err error) []*catalog.Problem {
	var out []*catalog.Problem
	var walk func(error)
	walk = func(err error) {
		if p, ok := err.(*catalog.Problem); ok {
			out = append(out, p)
			return
		}
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return out
}

// want is one expected problem: exactly this file, line and key, and a
// message containing msg.
type want struct {
	file string
	line int
	key  string
	msg  string
}

const res = "resources/r.yaml"

func TestLoadReportsProblems(t *testing.T) {
	tests := []struct {
		name  string
		depts string
		files map[string]string
		want  []want
	}{
		{
			name:  "unknown field type",
			files: map[string]string{res: edit(t, "type: decimal(10,2)", "type: strng")},
			want:  []want{{res, 12, "fields[1].type", `unknown type "strng" (want string, int64`}},
		},
		{
			name:  "decimal precision out of range",
			files: map[string]string{res: edit(t, "decimal(10,2)", "decimal(40,2)")},
			want:  []want{{res, 12, "fields[1].type", "precision must be 1 to 38"}},
		},
		{
			name:  "unknown top-level key",
			files: map[string]string{res: testResource + "colour: red\n"},
			want:  []want{{res, 21, "colour", "unknown key (want one of code, name"}},
		},
		{
			name:  "unknown field key",
			files: map[string]string{res: edit(t, "    nullable: true", "    nulable: true")},
			want:  []want{{res, 13, "fields[1].nulable", "unknown key (want one of name, type, nullable, sensitivity, description, rules)"}},
		},
		{
			name:  "unknown subject key",
			files: map[string]string{res: edit(t, "  field: citizen_id", "  feild: citizen_id")},
			want: []want{
				{res, 4, "subject.field", "required: the field holding the citizen ID"},
				{res, 6, "subject.feild", "unknown key"},
			},
		},
		{
			name:  "key given twice",
			files: map[string]string{res: testResource + "code: TS-RES-002\n"},
			want:  []want{{res, 21, "code", "given twice (first on line 1)"}},
		},
		{
			name:  "bad resource code",
			files: map[string]string{res: edit(t, "code: TS-RES-001", "code: ts-res-001")},
			want:  []want{{res, 1, "code", `"ts-res-001": want 3 to 64 characters of A-Z, 0-9 and -`}},
		},
		{
			name:  "resource code used twice",
			files: map[string]string{"resources/a.yaml": testResource, "resources/b.yaml": testResource},
			want:  []want{{"resources/b.yaml", 1, "code", `"TS-RES-001" is already the code of the resource in resources/a.yaml:1`}},
		},
		{
			name:  "missing required keys",
			files: map[string]string{res: edit(t, "name: 测试资源", "# no name", "update_cycle: daily", "# no cycle")},
			want: []want{
				{res, 1, "name", "required: the resource name"},
				{res, 1, "update_cycle", "required: realtime, daily, weekly, monthly, quarterly or yearly"},
			},
		},
		{
			name:  "unknown provider",
			files: map[string]string{res: edit(t, `provider: "112306000128140287"`, `provider: "112306000128140295"`)},
			want:  []want{{res, 3, "provider", `"112306000128140295" is not the code of a department in departments.yaml`}},
		},
		{
			name:  "provider given by name",
			files: map[string]string{res: edit(t, `provider: "112306000128140287"`, `provider: 市市场监管局`)},
			want:  []want{{res, 3, "provider", `did you mean 112306000128140287 (大庆市市场监督管理局)?`}},
		},
		{
			name:  "primary key field missing",
			files: map[string]string{res: edit(t, "primary_key: [citizen_id]", "primary_key: [citizen_id, nosuch]")},
			want:  []want{{res, 7, "primary_key[1]", `"nosuch" is not one of the fields`}},
		},
		{
			name: "primary key as a block list: nullable field and a mapping",
			files: map[string]string{res: strings.Replace(testResource, "primary_key: [citizen_id]\n",
				"primary_key:\n  - amount\n  - {name: citizen_id}\n", 1)},
			want: []want{
				{res, 8, "primary_key[0]", `field "amount" is nullable: primary key fields must be required`},
				{res, 9, "primary_key[1]", "want a single value, got a mapping"},
			},
		},
		{
			name:  "primary key empty",
			files: map[string]string{res: edit(t, "primary_key: [citizen_id]", "primary_key: []")},
			want:  []want{{res, 7, "primary_key", "the list is empty"}},
		},
		{
			name:  "primary key field listed twice",
			files: map[string]string{res: edit(t, "primary_key: [citizen_id]", "primary_key: [citizen_id, citizen_id]")},
			want:  []want{{res, 7, "primary_key[1]", `"citizen_id" is listed twice`}},
		},
		{
			name:  "subject field nullable",
			files: map[string]string{res: edit(t, "  field: citizen_id", "  field: amount")},
			want:  []want{{res, 6, "subject.field", `field "amount" is nullable: a subject key field must be required`}},
		},
		{
			name:  "subject field not a string",
			files: map[string]string{res: edit(t, "  field: citizen_id", "  field: updated_at")},
			want:  []want{{res, 6, "subject.field", `field "updated_at" has type timestamp: a subject key field must be a string`}},
		},
		{
			name:  "subject field missing from fields",
			files: map[string]string{res: edit(t, "  field: citizen_id", "  field: uscc")},
			want:  []want{{res, 6, "subject.field", `"uscc" is not one of the fields`}},
		},
		{
			name:  "subject type unknown",
			files: map[string]string{res: edit(t, "  type: person", "  type: human")},
			want:  []want{{res, 5, "subject.type", `"human" is not allowed (want person, legal_person or none)`}},
		},
		{
			name:  "subject none with a field",
			files: map[string]string{res: edit(t, "  type: person", "  type: none")},
			want:  []want{{res, 6, "subject.field", `"citizen_id": must be left out when subject.type is none`}},
		},
		{
			name:  "subject not a mapping",
			files: map[string]string{res: edit(t, "subject:\n  type: person\n  field: citizen_id\n", "subject: person\n#\n#\n")},
			want:  []want{{res, 4, "subject", "want a mapping with keys type, field, latest_by, got the value \"person\""}},
		},
		{
			name:  "conditional share without basis",
			files: map[string]string{res: edit(t, "share_basis: 《某某条例》第一条", "# no basis")},
			want:  []want{{res, 16, "share_basis", "required when share_type is conditional"}},
		},
		{
			name:  "closed open type with blank basis",
			files: map[string]string{res: edit(t, "open_basis: 《某某条例》第二条", `open_basis: "   "`)},
			want:  []want{{res, 19, "open_basis", "required when open_type is closed"}},
		},
		{
			name:  "none share type needs basis too",
			files: map[string]string{res: edit(t, "share_type: conditional", "share_type: none", "share_basis: 《某某条例》第一条", "#")},
			want:  []want{{res, 16, "share_basis", "required when share_type is none"}},
		},
		{
			name:  "unknown share type",
			files: map[string]string{res: edit(t, "share_type: conditional", "share_type: conditonal")},
			want:  []want{{res, 16, "share_type", `"conditonal" is not allowed (want unconditional, conditional or none)`}},
		},
		{
			name:  "unknown open type",
			files: map[string]string{res: edit(t, "open_type: closed", "open_type: public")},
			want:  []want{{res, 18, "open_type", `"public" is not allowed (want open, conditional or closed)`}},
		},
		{
			name:  "unknown update cycle",
			files: map[string]string{res: edit(t, "update_cycle: daily", "update_cycle: hourly")},
			want:  []want{{res, 20, "update_cycle", `"hourly" is not allowed (want realtime, daily`}},
		},
		{
			name:  "unknown format",
			files: map[string]string{res: testResource + "format: csv\n"},
			want:  []want{{res, 21, "format", `"csv" is not allowed (want table)`}},
		},
		{
			name:  "field name rejected by schemas",
			files: map[string]string{res: edit(t, "  - name: amount", "  - name: Amount")},
			want:  []want{{res, 11, "fields[1].name", `must be lower-case letters, digits and _ starting with a letter, at most 63 characters (got "Amount")`}},
		},
		{
			name:  "field sensitivity rejected by schemas",
			files: map[string]string{res: edit(t, "    nullable: true", "    sensitivity: top")},
			want:  []want{{res, 13, "fields[1].sensitivity", `want public, internal, personal or sensitive (got "top")`}},
		},
		{
			name:  "field declared twice",
			files: map[string]string{res: edit(t, "  - name: updated_at", "  - name: amount")},
			want:  []want{{res, 14, "fields[2].name", `declared twice (got "amount")`}},
		},
		{
			name:  "every bad field is reported",
			files: map[string]string{res: edit(t, "  - name: amount", "  - name: Amount", "    type: timestamp", "    type: time")},
			want: []want{
				{res, 11, "fields[1].name", "must be lower-case"},
				{res, 15, "fields[2].type", `unknown type "time"`},
			},
		},
		{
			name:  "field without type",
			files: map[string]string{res: edit(t, "    type: timestamp", "    # no type")},
			want:  []want{{res, 14, "fields[2].type", "required (string, int64"}},
		},
		{
			name:  "live is not a boolean",
			files: map[string]string{res: edit(t, "update_cycle: daily\n", "update_cycle: daily\nlive: yes\n")},
			want:  []want{{res, 21, "live", `want true or false, got the value "yes"`}},
		},
		{
			name:  "nullable is not a YAML 1.2 boolean",
			files: map[string]string{res: edit(t, "    nullable: true", "    nullable: yes")},
			want:  []want{{res, 13, "fields[1].nullable", `want true or false, got the value "yes"`}},
		},
		{
			name: "fields empty",
			files: map[string]string{res: strings.Replace(testResource,
				testResource[strings.Index(testResource, "fields:"):strings.Index(testResource, "share_type:")],
				"fields: [] # the subject and primary key are not checked against no fields\n", 1)},
			want: []want{{res, 8, "fields", "at least one field is required"}},
		},
		{
			name:  "fields not a list",
			files: map[string]string{res: "code: TS-RES-001\nname: x\nprovider: \"112306000128140287\"\nsubject: {type: none}\nprimary_key: [id]\nfields: {name: id}\nshare_type: unconditional\nopen_type: open\nupdate_cycle: yearly\n"},
			want:  []want{{res, 6, "fields", "want a list, got a mapping"}},
		},
		{
			name:  "several problems in one file, all reported in line order",
			files: map[string]string{res: edit(t, `provider: "112306000128140287"`, "provider: nobody", "type: decimal(10,2)", "type: strng", "update_cycle: daily", "update_cycle: hourly")},
			want: []want{
				{res, 3, "provider", `"nobody" is not the code`},
				{res, 12, "fields[1].type", `unknown type "strng"`},
				{res, 20, "update_cycle", `"hourly"`},
			},
		},
		{
			name:  "syntax error",
			files: map[string]string{res: edit(t, "name: 测试资源", "name: [测试资源")},
			want:  []want{{res, 2, "", "YAML syntax error: did not find expected ',' or ']'"}},
		},
		{
			name:  "two documents in one file",
			files: map[string]string{res: testResource + "---\n" + testResource},
			want:  []want{{res, 21, "", "a second YAML document"}},
		},
		{
			name:  "empty resource file",
			files: map[string]string{res: "# nothing yet\n"},
			want:  []want{{res, 0, "", "empty file: want one resource"}},
		},
		{
			name:  "resource file is a list",
			files: map[string]string{res: "- code: TS-RES-001\n"},
			want:  []want{{res, 1, "", "want one resource (a mapping of keys), got a list"}},
		},
		{
			name:  "yml extension",
			files: map[string]string{res: testResource, "resources/other.yml": testResource},
			want:  []want{{"resources/other.yml", 0, "", "must end in .yaml"}},
		},
		{
			name:  "no resources directory",
			files: map[string]string{},
			want:  []want{{"resources", 0, "", "missing directory"}},
		},
		{
			name:  "empty catalog",
			files: map[string]string{"resources": "<dir>", "resources/README.md": "not a resource"},
			want:  []want{{"resources", 0, "", "no resource files (*.yaml): the catalog is empty"}},
		},
		{
			name:  "no departments.yaml",
			depts: "<none>",
			files: map[string]string{res: testResource},
			want:  []want{{"departments.yaml", 0, "", "missing"}},
		},
		{
			name:  "department code with letters GB 32100 leaves out",
			depts: strings.Replace(testDepartments, "1123060001281401X7", "1123060001281401I7", 1),
			files: map[string]string{res: testResource},
			want:  []want{{"departments.yaml", 2, "departments[0].code", `character 17 ('I') is not one of 0-9, A-Z without I, O, Z, S, V; GB 32100 leaves out`}},
		},
		{
			name:  "department code in lower case",
			depts: strings.Replace(testDepartments, "1123060001281401X7", "1123060001281401x7", 1),
			files: map[string]string{res: testResource},
			want:  []want{{"departments.yaml", 2, "departments[0].code", "write letters in upper case"}},
		},
		{
			name:  "department code too short",
			depts: strings.Replace(testDepartments, `"112306000128140287"`, `"11230600012814028"`, 1),
			files: map[string]string{res: edit(t, `provider: "112306000128140287"`, `provider: 1123060001281401X7`)},
			want:  []want{{"departments.yaml", 5, "departments[1].code", "want 18 characters, got 17"}},
		},
		{
			name:  "department listed twice, name missing, unknown key",
			depts: testDepartments + "  - code: 1123060001281401X7\n    nmae: 重复\n",
			files: map[string]string{res: testResource},
			want: []want{
				{"departments.yaml", 8, "departments[2].code", `"1123060001281401X7" is listed twice (first on line 2)`},
				{"departments.yaml", 8, "departments[2].name", "required"},
				{"departments.yaml", 9, "departments[2].nmae", "unknown key (want one of code, name, short_name)"},
			},
		},
		{
			name:  "departments empty",
			depts: "departments: []\n",
			files: map[string]string{res: testResource},
			want: []want{
				{"departments.yaml", 1, "departments", "the list is empty"},
				{res, 3, "provider", "is not the code of a department"},
			},
		},
		{
			name:  "departments key misspelt",
			depts: "departmetns: []\n",
			files: map[string]string{res: testResource},
			want: []want{
				{"departments.yaml", 1, "departmetns", "unknown key (want one of departments)"},
				{"departments.yaml", 1, "departments", "required"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			depts := tt.depts
			if depts == "" {
				depts = testDepartments
			}
			checkProblems(t, writeCatalog(t, depts, tt.files), tt.want)
		})
	}
}

// checkProblems loads the catalog in dir and checks that it reports exactly
// the wanted problems, in order.
func checkProblems(t *testing.T, dir string, want []want) {
	t.Helper()
	c, err := catalog.Load(dir)
	if err == nil {
		t.Fatalf("Load succeeded with %d resources, want problems", len(c.Resources))
	}
	if c != nil {
		t.Errorf("Load returned a catalog along with the error")
	}
	got := problemsOf(err)
	if len(got) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(got), len(want), err)
	}
	for i, w := range want {
		p := got[i]
		if p.File != w.file || p.Line != w.line || p.Key != w.key || !strings.Contains(p.Msg, w.msg) {
			t.Errorf("problem %d = %q (file %q line %d key %q)\nwant file %q line %d key %q with %q", i, p.Error(), p.File, p.Line, p.Key, w.file, w.line, w.key, w.msg)
		}
		if !strings.Contains(err.Error(), p.Error()) {
			t.Errorf("error text does not contain problem %d %q:\n%v", i, p.Error(), err)
		}
	}
}

// The rendered form is file:line: key: problem, as operators read it.
func TestProblemText(t *testing.T) {
	dir := writeCatalog(t, testDepartments, map[string]string{"resources/population.yaml": edit(t, "type: decimal(10,2)", "type: strng")})
	_, err := catalog.Load(dir)
	want := `resources/population.yaml:12: fields[1].type: unknown type "strng" (want string, int64, float64, decimal(p,s), date, timestamp, bool or bytes)`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v\ndoes not contain %s", err, want)
	}
	if !strings.Contains(err.Error(), dir) {
		t.Errorf("error %v does not name the catalog directory", err)
	}
	var p *catalog.Problem
	if !errors.As(err, &p) || p.File != "resources/population.yaml" {
		t.Errorf("errors.As found %v, want the problem in resources/population.yaml", p)
	}
}

func TestLoadMissingDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nope")
	_, err := catalog.Load(dir)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("Load(missing) = %v, want a not-exist error naming %s", err, dir)
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := catalog.Load(file); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Fatalf("Load(file) = %v, want not a directory", err)
	}
}

func TestLoadValid(t *testing.T) {
	dir := writeCatalog(t, testDepartments, map[string]string{
		"resources/b.yaml":     edit(t, "code: TS-RES-001", "code: TS-RES-002", "update_cycle: daily\n", "update_cycle: daily\nlive: true\n"),
		"resources/a.yaml":     testResource,
		"resources/notes.txt":  "ignored",
		"resources/.a.yaml.sw": "ignored",
		"resources/sub":        "<dir>",
	})
	c, err := catalog.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if c.Dir != dir || len(c.Departments) != 2 || len(c.Resources) != 2 {
		t.Fatalf("loaded dir %q, %d departments, %d resources; want %q, 2, 2", c.Dir, len(c.Departments), len(c.Resources), dir)
	}
	if c.Resources[0].File != "resources/a.yaml" || c.Resources[1].File != "resources/b.yaml" {
		t.Errorf("resources in files %q, %q; want a.yaml then b.yaml", c.Resources[0].File, c.Resources[1].File)
	}
	r, ok := c.Resource("TS-RES-002")
	if !ok || r.Code != "TS-RES-002" || r != &c.Resources[1] {
		t.Fatalf("Resource(TS-RES-002) = %v, %v", r, ok)
	}
	if r.Format != catalog.FormatTable {
		t.Errorf("format = %q, want the default %q", r.Format, catalog.FormatTable)
	}
	if !r.Live || c.Resources[0].Live {
		t.Errorf("live = %v (b.yaml says true), %v (a.yaml leaves it out: false)", r.Live, c.Resources[0].Live)
	}
	if f, ok := r.Schema.Field("amount"); !ok || f.Type.String() != "decimal(10,2)" || !f.Nullable {
		t.Errorf("field amount = %+v, %v", f, ok)
	}
	if _, ok := c.Resource("TS-RES-404"); ok {
		t.Error("Resource found a code that is not in the catalog")
	}
	if d, ok := c.Department("112306000128140287"); !ok || d.ShortName != "市市场监管局" {
		t.Errorf("Department = %+v, %v", d, ok)
	}
	if _, ok := c.Department("112306000128140295"); ok {
		t.Error("Department found a code that is not in the catalog")
	}
	if got := c.ResourcesOf("112306000128140287"); len(got) != 2 || got[0].Code != "TS-RES-001" || got[1].Code != "TS-RES-002" {
		t.Errorf("ResourcesOf(market) = %v", got)
	}
	if got := c.ResourcesOf("1123060001281401X7"); len(got) != 0 {
		t.Errorf("ResourcesOf(police) = %v, want none", got)
	}
}

func TestSubjectKeyField(t *testing.T) {
	tests := []struct {
		subject catalog.Subject
		want    string
	}{
		{catalog.Subject{Type: catalog.SubjectPerson, Field: "citizen_id"}, "citizen_id"},
		{catalog.Subject{Type: catalog.SubjectLegalPerson, Field: "uscc"}, "uscc"},
		{catalog.Subject{Type: catalog.SubjectNone}, ""},
		{catalog.Subject{Type: catalog.SubjectNone, Field: "x"}, ""},
	}
	for _, tt := range tests {
		r := catalog.Resource{Subject: tt.subject}
		if got := r.SubjectKeyField(); got != tt.want {
			t.Errorf("SubjectKeyField(%+v) = %q, want %q", tt.subject, got, tt.want)
		}
	}
}
