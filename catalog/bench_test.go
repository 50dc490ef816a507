package catalog_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tongban/tongban/catalog"
)

// BenchmarkLoadDeploy loads the example catalog.
func BenchmarkLoadDeploy(b *testing.B) {
	for b.Loop() {
		if _, err := catalog.Load("../deploy/catalog"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadLargeCodeList loads a catalog with a 5,000-code list used by
// a rule, the size of a full GB/T 2260 list with its retired codes.
func BenchmarkLoadLargeCodeList(b *testing.B) {
	var list strings.Builder
	list.WriteString("name: 区划\ntitle: 行政区划代码\ncodes:\n")
	for i := range 5000 {
		fmt.Fprintf(&list, "  - {code: \"%06d\", name: 某某区%d, retired: \"2000\"}\n", 110000+i, i)
	}
	dir := writeCatalog(b, testDepartments, map[string]string{
		res:                editPerson(b, "    rules: [citizen_id]", "    rules: [{kind: citizen_id, list: 区划}]"),
		"codelists/l.yaml": list.String(),
	})
	if _, err := catalog.Load(dir); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := catalog.Load(dir); err != nil {
			b.Fatal(err)
		}
	}
}
