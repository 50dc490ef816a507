package bench

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/tongban/tongban/catalog"
	"github.com/tongban/tongban/deploy"
	"github.com/tongban/tongban/quality"
)

// Departments of deploy/catalog the bench uses.
const (
	// benchCaller is the department whose token makes the share calls: the
	// civil-affairs bureau (民政局), not the provider, so every call goes
	// through the grant decision (an unconditional resource: allowed).
	benchCaller = "112306000128140362"
	// authorityResource is the deploy resource whose quality rules the bench
	// resource takes (the bench table has its columns plus income).
	authorityResource = "PS-POP-001"
)

// benchHubCatalog is the catalog the hub measurements run on: the
// departments and code lists of the example catalog (deploy/catalog,
// written to dir and loaded as the hub loads it), and one resource, the
// bench table, with PS-POP-001's quality rules (citizen ID with its GB/T
// 2260 region list, birth date and sex against the ID, name length, code
// lists, phone pattern, date range, implicit required fields) plus
// required and range rules on income, and a person subject spec whose
// every field has the bench resource as its authority.
func benchHubCatalog(dir string) (*catalog.Catalog, error) {
	sub, err := fs.Sub(deploy.Catalog, "catalog")
	if err != nil {
		return nil, fmt.Errorf("bench: example catalog: %w", err)
	}
	dir = filepath.Join(dir, "catalog")
	if err := os.CopyFS(dir, sub); err != nil {
		return nil, fmt.Errorf("bench: write the example catalog to %s: %w", dir, err)
	}
	ex, err := catalog.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("bench: load the example catalog: %w", err)
	}
	pop, ok := ex.Resource(authorityResource)
	if !ok {
		return nil, fmt.Errorf("bench: the example catalog has no %s", authorityResource)
	}
	if _, ok := ex.Department(benchCaller); !ok {
		return nil, fmt.Errorf("bench: the example catalog has no department %s", benchCaller)
	}
	income, err := quality.Compile([]quality.Rule{
		{Kind: quality.KindRequired, Field: "income"},
		{Kind: quality.KindRange, Field: "income", Min: "0"},
	})
	if err != nil {
		return nil, fmt.Errorf("bench: income rules: %w", err)
	}
	res := benchCatalogResource()
	res.Rules = append(append([]quality.Rule(nil), pop.Rules...), income...)
	if err := quality.ValidateAgainst(res.Rules, res.Schema); err != nil {
		return nil, fmt.Errorf("bench: %s rules on the bench resource: %w", authorityResource, err)
	}
	spec := catalog.SubjectSpec{Type: catalog.SubjectPerson, Library: "population", Name: "人口基础库（性能测试）"}
	for _, f := range res.Schema.Fields {
		if f.Name == res.Subject.Field || f.Name == "updated_at" {
			continue
		}
		spec.Fields = append(spec.Fields, catalog.SubjectField{Name: f.Name,
			Authority: catalog.SourceRef{Resource: res.Code, Field: f.Name}})
	}
	return &catalog.Catalog{Dir: dir, Departments: ex.Departments, Resources: []catalog.Resource{*res},
		Subjects: []catalog.SubjectSpec{spec}, CodeLists: ex.CodeLists}, nil
}
