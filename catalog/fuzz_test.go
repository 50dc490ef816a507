package catalog

import (
	"bytes"
	"encoding/json"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/tongban/tongban/quality"
)

// deployInputs reads the example catalog's files as build takes them.
func deployInputs(f *testing.F) inputs {
	f.Helper()
	read := func(name string) source {
		b, err := os.ReadFile(filepath.Join("../deploy/catalog", filepath.FromSlash(name)))
		if err != nil {
			f.Fatal(err)
		}
		return source{name: name, data: b}
	}
	depts := read(departmentsFile)
	in := inputs{depts: &depts}
	for _, dir := range []string{resourcesDir, codeListsDir} {
		files, _ := filepath.Glob(filepath.Join("../deploy/catalog", dir, "*.yaml"))
		for _, file := range files {
			src := read(path.Join(dir, filepath.Base(file)))
			if dir == resourcesDir {
				in.resources = append(in.resources, src)
			} else {
				in.codeLists = append(in.codeLists, src)
			}
		}
	}
	subjects := read(subjectsFile)
	in.subjects = &subjects
	return in
}

// checkProblemPlaces fails the test unless every problem names file and a
// line inside data.
func checkProblemPlaces(t *testing.T, ps *problems, file string, data []byte) {
	t.Helper()
	lines := bytes.Count(data, []byte("\n")) + 1
	for _, p := range ps.list {
		if p.File != file || p.Line < 0 || p.Line > lines || p.Msg == "" {
			t.Fatalf("problem %q: want file %s, line 0..%d and a message", p.Error(), file, lines)
		}
	}
}

// checkResourceRules fails the test unless r's rules keep the catalog's
// promises: they fit the schema, and every non-nullable field outside the
// primary key is required, in field order.
func checkResourceRules(t *testing.T, r *Resource) {
	t.Helper()
	if err := quality.ValidateAgainst(r.Rules, r.Schema); err != nil {
		t.Fatalf("accepted rules that do not fit the schema: %v", err)
	}
	if _, err := quality.Compile(r.Rules); err != nil {
		t.Fatalf("accepted rules that do not compile: %v", err)
	}
	last := -1
	for _, rule := range r.Rules {
		i := r.Schema.Index(rule.Field)
		if i < last {
			t.Fatalf("rules not in field order: %+v", r.Rules)
		}
		last = i
	}
	for _, f := range r.Schema.Fields {
		if f.Nullable || slices.Contains(r.PrimaryKey, f.Name) {
			continue
		}
		if !slices.ContainsFunc(r.Rules, func(rule quality.Rule) bool { return rule.Field == f.Name && rule.Kind == quality.KindRequired }) {
			t.Fatalf("field %q is not required by the rules %+v", f.Name, r.Rules)
		}
	}
}

// FuzzLoadResource feeds arbitrary bytes as a resource file: loading never
// panics, every problem names the file and a line inside it, and a resource
// that loads clean keeps the catalog's promises and survives JSON.
func FuzzLoadResource(f *testing.F) {
	deploy := deployInputs(f)
	for _, s := range deploy.resources {
		f.Add(s.data)
	}
	for _, s := range []string{
		"", "---\n", "code: [", "a: &x [*x]\nfields: &y [*y]\nprimary_key: &z [*z]\n",
		"code: A-1\nsubject: {type: none}\nprimary_key: [id]\nfields: [{name: id, type: int64}]\nshare_type: none\nshare_basis: x\nopen_type: open\nupdate_cycle: yearly\nprovider: \"112306000128140287\"\nname: n\n",
		"fields:\n  - name: a\n    type: decimal(99999999999999999999,1)\n  - {name: _version, type: string, nullable: 1}\n",
		"subject: {type: person, field: x}\nprimary_key: [x, x, ~]\nfields: [{name: x, type: float64}]\n",
		"code: A\n---\ncode: B\n", "\xff\xfe\x00", "<<: {code: A}\n",
		"code: A-1\nsubject: {type: person, field: x, latest_by: d}\nprimary_key: [x]\nfields: [{name: x, type: string, rules: [citizen_id, {kind: citizen_id_birth, with: d}]}, {name: d, type: date, rules: [{kind: date_range, max: today}]}]\nshare_type: none\nshare_basis: x\nopen_type: open\nupdate_cycle: yearly\nprovider: \"112306000128140287\"\nname: n\n",
		"fields: [{name: x, type: string, rules: [{kind: code_list, list: GB/T 2260, codes: [1]}, uscc, ~, [], {}]}]\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const name = "resources/fuzz.yaml"
		var ps problems
		in := deploy
		in.resources = []source{{name: name, data: data}}
		in.subjects = nil
		c := build("cat", in, &ps)
		checkProblemPlaces(t, &ps, name, data)
		if ps.count() > 0 {
			return
		}
		if len(c.Resources) != 1 {
			t.Fatalf("no problems but %d resources", len(c.Resources))
		}
		r := &c.Resources[0]
		if !resourceCode.MatchString(r.Code) || r.Schema.Validate() != nil || len(r.PrimaryKey) == 0 {
			t.Fatalf("accepted a bad resource %+v", r)
		}
		if _, ok := c.Department(r.Provider); !ok {
			t.Fatalf("accepted unknown provider %q", r.Provider)
		}
		for _, k := range r.PrimaryKey {
			if f, ok := r.Schema.Field(k); !ok || f.Nullable {
				t.Fatalf("accepted primary key field %q", k)
			}
		}
		checkResourceRules(t, r)
		if k := r.Subject.LatestBy; k != "" {
			if f, ok := r.Schema.Field(k); !ok || f.Nullable || (f.Type.Kind != "date" && f.Type.Kind != "timestamp") || r.Subject.Type == SubjectNone {
				t.Fatalf("accepted latest_by %q", k)
			}
		}
		if k := r.SubjectKeyField(); k != "" {
			if f, ok := r.Schema.Field(k); !ok || f.Nullable || f.Type.Kind != "string" {
				t.Fatalf("accepted subject field %q", k)
			}
		}
		if !slices.Contains([]string{ShareUnconditional, ShareConditional, ShareNone}, r.ShareType) ||
			!slices.Contains([]string{OpenOpen, OpenConditional, OpenClosed}, r.OpenType) {
			t.Fatalf("accepted share %q open %q", r.ShareType, r.OpenType)
		}
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var back Resource
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("unmarshal %s: %v", b, err)
		}
		if !reflect.DeepEqual(&back, r) {
			t.Fatalf("JSON round trip changed %+v into %+v", r, back)
		}
	})
}

// FuzzFieldRules feeds arbitrary YAML as the rules of a field of the
// population resource: decoding never panics, problems stay inside the file,
// and rules that load keep the catalog's promises and survive JSON.
func FuzzFieldRules(f *testing.F) {
	deploy := deployInputs(f)
	var population []byte
	for _, s := range deploy.resources {
		if s.name == "resources/population.yaml" {
			population = s.data
		}
	}
	const anchor = "    description: 出生日期\n"
	if !bytes.Contains(population, []byte(anchor)) {
		f.Fatalf("population.yaml has no %q", anchor)
	}
	for _, s := range []string{
		"[required]", "[{kind: date_range, min: 1900-01-01, max: today}]", "- {kind: length, max: 3}\n- {kind: length, max: 3}",
		"[{kind: code_list, list: 民族}]", "[{kind: code_list, list: GB/T 2261.1, codes: [1]}]", "[citizen_id, uscc, {kind: x}]",
		"[{kind: citizen_id_birth, with: birth_date}]", "- kind: range\n  min: 1e999\n", "&a [*a]", "{}", "~", "[[], ~, 1]",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, rules []byte) {
		const name = "resources/population.yaml"
		// The fuzzed text, indented, as the value of the birth_date field's rules.
		indented := "    rules:\n      " + strings.ReplaceAll(string(rules), "\n", "\n      ") + "\n"
		data := bytes.Replace(population, []byte(anchor), []byte(anchor+indented), 1)
		var ps problems
		in := deploy
		in.resources = []source{{name: name, data: data}}
		in.subjects = nil
		c := build("cat", in, &ps)
		checkProblemPlaces(t, &ps, name, data)
		if ps.count() > 0 {
			return
		}
		r := &c.Resources[0]
		checkResourceRules(t, r)
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var back Resource
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("unmarshal %s: %v", b, err)
		}
		if !reflect.DeepEqual(&back, r) {
			t.Fatalf("JSON round trip changed the rules %+v into %+v", r.Rules, back.Rules)
		}
		// Whatever the rules, checking a record must not panic.
		quality.Check(map[string]any{"citizen_id": "11010519491231002X", "birth_date": "1949-12-31", "sex": "2"}, r.Rules)
	})
}

// FuzzLoadSubjects feeds arbitrary bytes as subjects.yaml over the example
// resources: loading never panics, problems stay inside the file, and a
// declaration that loads clean keeps 一数一源.
func FuzzLoadSubjects(f *testing.F) {
	deploy := deployInputs(f)
	f.Add(deploy.subjects.data)
	for _, s := range []string{
		"", "person: ~\n", "person: {library: p, fields: [{name: name, authority: [PS-POP-001, CA-MAR-001]}]}\n",
		"person: {library: p, fields: [{name: name, authority: PS-POP-001, cross_check: [PS-POP-001, CA-MAR-001, CA-MAR-001]}]}\n",
		"legal_person: {library: p, fields: [{name: x, authority: {resource: MR-LP-001, field: status}, cross_check: [{resource: MR-LP-001, field: established}]}]}\nperson: {library: p, fields: []}\n",
		"person: &a {library: a, fields: [{name: sex, authority: PS-POP-001}]}\nlegal_person: *a\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var ps problems
		in := deploy
		in.subjects = &source{name: subjectsFile, data: data}
		c := build("cat", in, &ps)
		checkProblemPlaces(t, &ps, subjectsFile, data)
		if ps.count() > 0 {
			return
		}
		libraries := map[string]bool{}
		for i, s := range c.Subjects {
			if (s.Type != SubjectPerson && s.Type != SubjectLegalPerson) || slices.IndexFunc(c.Subjects, func(o SubjectSpec) bool { return o.Type == s.Type }) != i {
				t.Fatalf("accepted subject type %q at %d", s.Type, i)
			}
			if !libraryName.MatchString(s.Library) || libraries[s.Library] || len(s.Fields) == 0 {
				t.Fatalf("accepted library %q with %d fields", s.Library, len(s.Fields))
			}
			libraries[s.Library] = true
			names := map[string]bool{}
			for _, fld := range s.Fields {
				if names[fld.Name] || !subjectFieldName.MatchString(fld.Name) {
					t.Fatalf("accepted field %q twice or badly named", fld.Name)
				}
				names[fld.Name] = true
				for i, src := range append([]SourceRef{fld.Authority}, fld.CrossCheck...) {
					r, ok := c.Resource(src.Resource)
					if !ok || r.Subject.Type != s.Type {
						t.Fatalf("accepted source %+v", src)
					}
					if _, ok := r.Schema.Field(src.Field); !ok {
						t.Fatalf("accepted source %+v without the field", src)
					}
					if i > 0 && (src == fld.Authority || slices.Index(fld.CrossCheck, src) != i-1) {
						t.Fatalf("accepted cross-check %+v (authority %+v)", src, fld.Authority)
					}
				}
			}
		}
		b, err := json.Marshal(c.Subjects)
		if err != nil {
			t.Fatal(err)
		}
		var back []SubjectSpec
		if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, c.Subjects) {
			t.Fatalf("JSON round trip: %v\n%+v\n%+v", err, back, c.Subjects)
		}
	})
}

// FuzzLoadCodeList feeds arbitrary bytes as a code list: loading never
// panics, problems stay inside the file, and a list that loads has a name,
// unique codes and no built-in name.
func FuzzLoadCodeList(f *testing.F) {
	deploy := deployInputs(f)
	for _, s := range deploy.codeLists {
		if len(s.data) < 8000 {
			f.Add(s.data)
		}
	}
	for _, s := range []string{
		"", "name: x\ncodes: [{code: 1, name: a}, {code: 1, name: b}]\n", "name: GB/T 2261.1\ncodes: [{code: 1, name: a}]\n",
		"name: x\ncodes: [{code: 1, name: a, retired: 2000-13}]\n", "name: x\ncodes: &a [*a]\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const name = "codelists/fuzz.yaml"
		var ps problems
		in := deploy
		in.codeLists = []source{{name: name, data: data}}
		in.resources, in.subjects = nil, nil
		c := build("cat", in, &ps)
		checkProblemPlaces(t, &ps, name, data)
		if ps.count() > 0 {
			return
		}
		l := c.CodeLists[0]
		if l.Name == "" || slices.Contains(quality.CodeListNames(), l.Name) || len(l.Codes) == 0 {
			t.Fatalf("accepted list %q with %d codes", l.Name, len(l.Codes))
		}
		seen := map[string]bool{}
		for _, code := range l.Codes {
			if seen[code.Code] || code.Code == "" || code.Name == "" {
				t.Fatalf("accepted code %+v", code)
			}
			seen[code.Code] = true
		}
	})
}
