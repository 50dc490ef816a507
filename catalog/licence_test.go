package catalog_test

import (
	"testing"

	"github.com/tongban/tongban/catalog"
)

func TestLoadLicences(t *testing.T) {
	const good = `licence_types:
  - code: "112306000128140287001"
    name: 营业执照
    issuers: ["112306000128140287"]
    holder: legal_person
    fields:
      - {name: business_scope, label: 经营范围, required: true}
      - {name: address, max_length: 200}
`
	dir := writeCatalog(t, testDepartments, map[string]string{res: testResource, "licences.yaml": good})
	c, err := catalog.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	lt, ok := c.LicenceType("112306000128140287001")
	if !ok || lt.Name != "营业执照" || lt.Holder != catalog.SubjectLegalPerson || !lt.MayIssue("112306000128140287") ||
		lt.MayIssue("1123060001281401X7") || len(lt.Fields) != 2 {
		t.Fatalf("licence type %+v, %v", lt, ok)
	}
	if f, ok := lt.Field("address"); !ok || f.MaxLength != 200 || f.Required {
		t.Errorf("address field %+v", f)
	}
	if f, ok := lt.Field("business_scope"); !ok || !f.Required || f.Label != "经营范围" {
		t.Errorf("business_scope field %+v", f)
	}
	// Without the file there are no licence types and no problem.
	c, err = catalog.Load(writeCatalog(t, testDepartments, map[string]string{res: testResource}))
	if err != nil || len(c.Licences) != 0 {
		t.Fatalf("no licences.yaml: %v, %d types", err, len(c.Licences))
	}
}

func TestLoadLicencesProblems(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       want
	}{
		{"short code", `licence_types:
  - code: "11230600012814028700"
    name: x
    issuers: ["112306000128140287"]
    holder: person
`, want{"licences.yaml", 2, "licence_types[0].code", "not a licence type code"}},
		{"unknown issuer", `licence_types:
  - code: "112306000128140287001"
    name: x
    issuers: ["112306000128140295"]
    holder: person
`, want{"licences.yaml", 4, "licence_types[0].issuers[0]", "not the code of a department"}},
		{"bad holder", `licence_types:
  - code: "112306000128140287001"
    name: x
    issuers: ["112306000128140287"]
    holder: company
`, want{"licences.yaml", 5, "licence_types[0].holder", "want person"}},
		{"no issuers", `licence_types:
  - code: "112306000128140287001"
    name: x
    holder: person
`, want{"licences.yaml", 2, "licence_types[0].issuers", "required"}},
		{"duplicate code", `licence_types:
  - {code: "112306000128140287001", name: x, issuers: ["112306000128140287"], holder: person}
  - {code: "112306000128140287001", name: y, issuers: ["112306000128140287"], holder: person}
`, want{"licences.yaml", 3, "licence_types[1].code", "listed twice"}},
		{"bad field name", `licence_types:
  - code: "112306000128140287001"
    name: x
    issuers: ["112306000128140287"]
    holder: person
    fields:
      - {name: Scope}
`, want{"licences.yaml", 7, "licence_types[0].fields[0].name", "lower-case"}},
		{"bad max_length", `licence_types:
  - code: "112306000128140287001"
    name: x
    issuers: ["112306000128140287"]
    holder: person
    fields:
      - name: scope
        max_length: 0
`, want{"licences.yaml", 8, "licence_types[0].fields[0].max_length", "whole number"}},
		{"unknown key", `licence_types:
  - code: "112306000128140287001"
    name: x
    issuers: ["112306000128140287"]
    holder: person
    validity: 5y
`, want{"licences.yaml", 6, "licence_types[0].validity", "unknown key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeCatalog(t, testDepartments, map[string]string{res: testResource, "licences.yaml": tt.yaml})
			checkProblems(t, dir, []want{tt.want})
		})
	}
}

func TestDeployLicences(t *testing.T) {
	c, err := catalog.Load("../deploy/catalog")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Licences) < 3 {
		t.Fatalf("%d licence types in deploy/catalog, want at least 3", len(c.Licences))
	}
	holders := map[string]bool{}
	for _, lt := range c.Licences {
		holders[lt.Holder] = true
		for _, iss := range lt.Issuers {
			if _, ok := c.Department(iss); !ok {
				t.Errorf("%s: issuer %s is not a department", lt.Code, iss)
			}
		}
	}
	if !holders[catalog.SubjectPerson] || !holders[catalog.SubjectLegalPerson] {
		t.Errorf("holders %v: want person and legal_person types", holders)
	}
}
