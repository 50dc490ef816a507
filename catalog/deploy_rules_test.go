package catalog_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/tongban/tongban/catalog"
	"github.com/tongban/tongban/demo/datagen"
	"github.com/tongban/tongban/quality"
	"github.com/tongban/tongban/wire"
)

// deployTables maps the demo's generated tables to the example resources.
var deployTables = []struct{ table, resource string }{
	{datagen.TablePopulation, "PS-POP-001"},
	{datagen.TableLegalPerson, "MR-LP-001"},
	{datagen.TableCivilAffairs, "CA-MAR-001"},
}

// hubValues generates the rows of a demo table and returns them as the hub
// store keeps them: each row through an Arrow batch of the resource's schema
// (as the agent sends it) and read back with wire.Value (as the hub decodes
// it), so dates are "2006-01-02", timestamps text, decimals strings.
func hubValues(t *testing.T, cfg datagen.Config, table string, r *catalog.Resource) []map[string]any {
	t.Helper()
	tab, err := datagen.LookupTable(table)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range r.Schema.Fields {
		names = append(names, f.Name)
	}
	if !slices.Equal(tab.ColumnNames(), names) {
		t.Fatalf("table %s has columns %v, resource %s fields %v", table, tab.ColumnNames(), r.Code, names)
	}
	b := wire.NewBuilder(memory.DefaultAllocator, r.Schema)
	defer b.Release()
	if err := datagen.Rows(cfg, table, func(row []any) error { return b.Append(row, 1) }); err != nil {
		t.Fatal(err)
	}
	rec := b.NewRecord()
	defer rec.Release()
	out := make([]map[string]any, rec.NumRows())
	for i := range out {
		m := make(map[string]any, len(names))
		for j, n := range names {
			m[n] = wire.Value(rec.Column(j), i)
		}
		out[i] = m
	}
	return out
}

// Every clean row the demo generates passes every rule of the example
// catalog, without a fix; and the rules are not vacuous: a spoilt row fails.
func TestDeployRulesPassGeneratedRows(t *testing.T) {
	c, err := catalog.Load("../deploy/catalog")
	if err != nil {
		t.Fatal(err)
	}
	cfg := datagen.Config{Seed: 20261123, Population: 3000, LegalPersons: 2000, CivilAffairs: 3000}
	now := time.Now()
	for _, tt := range deployTables {
		t.Run(tt.resource, func(t *testing.T) {
			r, ok := c.Resource(tt.resource)
			if !ok {
				t.Fatalf("no resource %s", tt.resource)
			}
			rows := hubValues(t, cfg, tt.table, r)
			if len(rows) < 2000 {
				t.Fatalf("%d rows generated", len(rows))
			}
			for i, row := range rows {
				fixes, viols := quality.CheckAt(row, r.Rules, now)
				if len(fixes) > 0 || len(viols) > 0 {
					t.Fatalf("row %d %v: fixes %v, violations %v", i, row, fixes, viols)
				}
			}
			// Spoil each field of the first row in turn; most fields have a
			// rule that must catch it.
			caught := 0
			for _, f := range r.Schema.Fields {
				row := maps(rows[0])
				row[f.Name] = spoil(rows[0][f.Name])
				if _, viols := quality.CheckAt(row, r.Rules, now); len(viols) > 0 {
					caught++
				}
			}
			if caught < len(r.Schema.Fields)-2 {
				t.Errorf("spoiling one field was caught for only %d of %d fields", caught, len(r.Schema.Fields))
			}
		})
	}
}

// maps copies a record.
func maps(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// spoil returns a value of the same JSON type that no sensible rule accepts.
func spoil(v any) any {
	switch v := v.(type) {
	case string:
		if _, err := time.Parse(time.DateOnly, v); err == nil {
			return "1800-01-01"
		}
		if strings.Contains(v, ".") { // a decimal
			return "-" + v
		}
		return v + strings.Repeat("错", 300)
	case int64:
		return -v
	}
	return nil
}

// The example's rules are the ones its README documents.
func TestDeployRules(t *testing.T) {
	c, err := catalog.Load("../deploy/catalog")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"PS-POP-001": {"citizen_id:citizen_id:GB/T 2260", "citizen_id:citizen_id_birth", "citizen_id:citizen_id_sex",
			"name:required", "name:length", "sex:required", "sex:code_list:GB/T 2261.1", "birth_date:required", "birth_date:date_range",
			"ethnicity:required", "ethnicity:code_list:民族", "address:length", "phone:pattern", "household_type:code_list",
			"updated_at:required"},
		"MR-LP-001": {"uscc:uscc", "name:required", "name:length", "legal_rep:required", "legal_rep:length",
			"registered_capital:required", "registered_capital:range", "established:required", "established:date_range",
			"address:length", "status:required", "status:code_list", "updated_at:required"},
		"CA-MAR-001": {"record_id:range", "citizen_id:required", "citizen_id:citizen_id:GB/T 2260", "name:required", "name:length",
			"marital_status:required", "marital_status:code_list", "registered_on:required", "registered_on:date_range",
			"office:required", "office:length", "updated_at:required"},
	}
	for code, w := range want {
		r, _ := c.Resource(code)
		var got []string
		for _, rule := range r.Rules {
			s := rule.Field + ":" + rule.Kind
			if rule.List != "" {
				s += ":" + rule.List
			}
			got = append(got, s)
		}
		if !slices.Equal(got, w) {
			t.Errorf("%s rules\n got %v\nwant %v", code, got, w)
		}
	}
	if r, _ := c.Resource("CA-MAR-001"); r.Subject.LatestBy != "registered_on" {
		t.Errorf("CA-MAR-001 latest_by = %q", r.Subject.LatestBy)
	}
	for _, name := range []string{"GB/T 2260", "民族"} {
		if l, ok := c.CodeList(name); !ok || len(l.Codes) == 0 {
			t.Errorf("code list %s missing", name)
		}
	}

	// 一数一源: every golden field has its one authority; the person's name is
	// cross-checked against the marriage records.
	got := map[string]string{}
	for _, s := range c.Subjects {
		for _, f := range s.Fields {
			v := f.Authority.Resource + "." + f.Authority.Field
			for _, x := range f.CrossCheck {
				v += " ~" + x.Resource + "." + x.Field
			}
			got[fmt.Sprintf("%s/%s.%s", s.Type, s.Library, f.Name)] = v
		}
	}
	wantSubjects := map[string]string{
		"person/population.name":                       "PS-POP-001.name ~CA-MAR-001.name",
		"person/population.sex":                        "PS-POP-001.sex",
		"person/population.birth_date":                 "PS-POP-001.birth_date",
		"person/population.ethnicity":                  "PS-POP-001.ethnicity",
		"person/population.address":                    "PS-POP-001.address",
		"person/population.phone":                      "PS-POP-001.phone",
		"person/population.household_type":             "PS-POP-001.household_type",
		"person/population.marital_status":             "CA-MAR-001.marital_status",
		"legal_person/legal_person.name":               "MR-LP-001.name",
		"legal_person/legal_person.legal_rep":          "MR-LP-001.legal_rep",
		"legal_person/legal_person.registered_capital": "MR-LP-001.registered_capital",
		"legal_person/legal_person.established":        "MR-LP-001.established",
		"legal_person/legal_person.address":            "MR-LP-001.address",
		"legal_person/legal_person.status":             "MR-LP-001.status",
	}
	if len(got) != len(wantSubjects) {
		t.Errorf("golden fields %v\nwant %v", got, wantSubjects)
	}
	for k, v := range wantSubjects {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}

// The defects the demo seeds (datagen.Config.Defects) are caught by the
// example's rules on the field the manifest names; a 15-digit legacy ID is
// fixed, not failed; and the name variants meant for the merge pass.
func TestDeployRulesCatchSeededDefects(t *testing.T) {
	c, err := catalog.Load("../deploy/catalog")
	if err != nil {
		t.Fatal(err)
	}
	cfg := datagen.Config{Seed: 7, Population: 500, LegalPersons: 200, CivilAffairs: 500, Defects: 5}
	manifest := datagen.Defects(cfg)
	if len(manifest) == 0 {
		t.Fatal("no defects seeded")
	}
	now := time.Now()
	for _, tt := range deployTables {
		r, _ := c.Resource(tt.resource)
		rows := hubValues(t, cfg, tt.table, r)
		for _, d := range manifest {
			if d.Table != tt.table {
				continue
			}
			fixes, viols := quality.CheckAt(rows[d.Row], r.Rules, now)
			switch d.Kind {
			case datagen.DefectLegacyID:
				if len(viols) > 0 || len(fixes) != 1 || fixes[0].Field != d.Field {
					t.Errorf("%s row %d (%s): fixes %v, violations %v; want one fix of %s", tt.table, d.Row, d.Kind, fixes, viols, d.Field)
				}
			case datagen.DefectNameConflict, datagen.DefectFullwidth:
				if len(viols) > 0 {
					t.Errorf("%s row %d (%s, for the merge): violations %v", tt.table, d.Row, d.Kind, viols)
				}
			default:
				// A cross-field rule reports on the citizen ID and names the other field.
				if !slices.ContainsFunc(viols, func(v quality.Violation) bool { return v.Field == d.Field || strings.Contains(v.Reason, d.Field) }) {
					t.Errorf("%s row %d (%s: %s): violations %v, want one on %s", tt.table, d.Row, d.Kind, d.Detail, viols, d.Field)
				}
			}
		}
	}
}
