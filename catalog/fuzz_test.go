package catalog

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
)

// FuzzLoadResource feeds arbitrary bytes as a resource file: loading never
// panics, every problem names the file and a line inside it, and a resource
// that loads clean keeps the catalog's promises and survives JSON.
func FuzzLoadResource(f *testing.F) {
	depts, err := os.ReadFile("../deploy/catalog/departments.yaml")
	if err != nil {
		f.Fatal(err)
	}
	seeds, _ := filepath.Glob("../deploy/catalog/resources/*.yaml")
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		"", "---\n", "code: [", "a: &x [*x]\nfields: &y [*y]\nprimary_key: &z [*z]\n",
		"code: A-1\nsubject: {type: none}\nprimary_key: [id]\nfields: [{name: id, type: int64}]\nshare_type: none\nshare_basis: x\nopen_type: open\nupdate_cycle: yearly\nprovider: \"112306000128140287\"\nname: n\n",
		"fields:\n  - name: a\n    type: decimal(99999999999999999999,1)\n  - {name: _version, type: string, nullable: 1}\n",
		"subject: {type: person, field: x}\nprimary_key: [x, x, ~]\nfields: [{name: x, type: float64}]\n",
		"code: A\n---\ncode: B\n", "\xff\xfe\x00", "<<: {code: A}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const name = "resources/fuzz.yaml"
		var ps problems
		c := build("cat", &source{name: departmentsFile, data: depts}, []source{{name: name, data: data}}, &ps)
		lines := bytes.Count(data, []byte("\n")) + 1
		for _, p := range ps.list {
			if p.File != name || p.Line < 0 || p.Line > lines || p.Msg == "" {
				t.Fatalf("problem %q: want file %s, line 0..%d and a message", p.Error(), name, lines)
			}
		}
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
