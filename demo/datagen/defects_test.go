package datagen

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"golang.org/x/text/width"

	"github.com/tongban/tongban/identifier"
)

// normName is what a name normaliser must do: full-width to half-width, no whitespace.
func normName(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, width.Fold.String(s))
}

// tableRows regenerates every table of cfg.
func tableRows(t testing.TB, cfg Config) map[string][][]any {
	t.Helper()
	out := map[string][][]any{}
	for _, table := range allTables() {
		if err := Rows(cfg, table, func(row []any) error {
			out[table] = append(out[table], row)
			return nil
		}); err != nil {
			t.Fatalf("Rows(%s): %v", table, err)
		}
	}
	return out
}

// idErrCode returns the identifier.Code of err, or "".
func idErrCode(err error) identifier.Code {
	var e *identifier.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// checkDefects regenerates the rows of cfg and checks the manifest against
// them: every entry describes its row exactly, and no other row has any of
// the defects. It returns the manifest.
func checkDefects(t testing.TB, cfg Config) []Defect {
	t.Helper()
	ref := referenceDate()
	rows := tableRows(t, cfg)
	manifest := Defects(cfg)

	// The manifest: the configured number per kind, rows distinct, in order.
	entries := map[string]map[int]Defect{}
	count := map[string]int{}
	for i, d := range manifest {
		if entries[d.Table] == nil {
			entries[d.Table] = map[int]Defect{}
		}
		if _, dup := entries[d.Table][d.Row]; dup {
			t.Fatalf("%s row %d has two defects", d.Table, d.Row)
		}
		if i > 0 && (tableIndex(manifest[i-1].Table) > tableIndex(d.Table) ||
			manifest[i-1].Table == d.Table && manifest[i-1].Row >= d.Row) {
			t.Fatalf("manifest not ordered by table and row at %d: %+v after %+v", i, d, manifest[i-1])
		}
		if d.Row < 0 || d.Row >= len(rows[d.Table]) || d.Detail == "" || d.Field == "" {
			t.Fatalf("bad manifest entry %+v", d)
		}
		entries[d.Table][d.Row] = d
		count[d.Table+"/"+d.Kind]++
	}
	for _, table := range allTables() {
		for _, kind := range DefectKinds(table) {
			want := cfg.Defects
			if len(rows[table]) == 0 {
				want = 0
			}
			if got := count[table+"/"+kind]; got != want {
				t.Errorf("%s: %d %s defects, want %d", table, got, kind, want)
			}
		}
	}

	// Primary keys stay unique.
	for _, table := range allTables() {
		seen := map[string]bool{}
		for _, row := range rows[table] {
			k := fmt.Sprint(row[0])
			if seen[k] {
				t.Fatalf("%s: primary key %s repeated", table, k)
			}
			seen[k] = true
		}
	}

	// The people of the population table, from the clean rows.
	clean := cfg
	clean.Defects = 0
	popName := map[string]string{} // citizen ID → name
	if err := Rows(clean, TablePopulation, func(row []any) error {
		popName[row[0].(string)] = row[1].(string)
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	// population
	popValid := map[string]bool{} // (upgraded) IDs valid in the population table
	for i, row := range rows[TablePopulation] {
		id, sex, birth := row[0].(string), row[2].(string), row[3].(time.Time)
		d, isDefect := entries[TablePopulation][i]
		if isDefect && d.Key != id {
			t.Fatalf("population row %d: manifest key %s, row key %s", i, d.Key, id)
		}
		kind := d.Kind
		var c identifier.CitizenID
		var err error
		if kind == DefectLegacyID {
			up, uerr := identifier.UpgradeCitizenID(id)
			if uerr != nil || len(id) != 15 {
				t.Fatalf("row %d: legacy ID %s: %v", i, id, uerr)
			}
			c, err = identifier.ParseCitizenIDAt(up, ref)
			if err == nil && c.Birth.Year() >= 2000 {
				t.Fatalf("row %d: legacy ID %s for a person born %s", i, id, c.Birth)
			}
		} else {
			c, err = identifier.ParseCitizenIDAt(id, ref)
		}
		switch kind {
		case DefectCheckDigit:
			if idErrCode(err) != identifier.CodeChecksum {
				t.Fatalf("row %d %s: %s, want a checksum error: %v", i, kind, id, err)
			}
			continue
		case DefectImpossibleDate:
			if check, cerr := identifier.CitizenIDCheckChar(id[:17]); cerr != nil || check != id[17] || idErrCode(err) != identifier.CodeBirthdate {
				t.Fatalf("row %d %s: %s, want a right check character and a birth-date error: %v", i, kind, id, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("row %d (%q): citizen_id %s invalid: %v", i, kind, id, err)
		}
		popValid[c.ID] = true
		if popName[c.ID] != row[1].(string) {
			t.Fatalf("row %d (%q): name %q, clean row has %q", i, kind, row[1], popName[c.ID])
		}
		sexOK := sex == strconv.Itoa(c.Sex)
		birthOK := birth.Equal(c.Birth)
		if sexOK == (kind == DefectBadCode) {
			t.Fatalf("row %d (%q): sex %q, ID says %d", i, kind, sex, c.Sex)
		}
		if kind == DefectBadCode && (sex == "1" || sex == "2") {
			t.Fatalf("row %d: bad code %q is a GB/T 2261.1 sex code", i, sex)
		}
		if birthOK == (kind == DefectBirthMismatch) {
			t.Fatalf("row %d (%q): birth_date %s, ID says %s", i, kind, birth, c.Birth)
		}
	}

	// legal_person
	statuses := map[string]bool{"存续": true, "在业": true, "注销": true}
	for j, row := range rows[TableLegalPerson] {
		code, status := row[0].(string), row[6].(string)
		d, isDefect := entries[TableLegalPerson][j]
		if isDefect && d.Key != code {
			t.Fatalf("legal_person row %d: manifest key %s, row key %s", j, d.Key, code)
		}
		err := identifier.ValidateUSCC(code)
		if (d.Kind == DefectUSCCCheck) != (idErrCode(err) == identifier.CodeChecksum) || d.Kind != DefectUSCCCheck && err != nil {
			t.Fatalf("legal_person row %d (%q): uscc %s: %v", j, d.Kind, code, err)
		}
		if statuses[status] == (d.Kind == DefectBadStatus) {
			t.Fatalf("legal_person row %d (%q): status %q", j, d.Kind, status)
		}
	}

	// civil_affairs
	marital := map[string]bool{"已婚": true, "离婚": true, "未婚": true, "丧偶": true}
	for k, row := range rows[TableCivilAffairs] {
		id, name, status := row[1].(string), row[2].(string), row[3].(string)
		d, isDefect := entries[TableCivilAffairs][k]
		if isDefect && d.Key != strconv.FormatInt(row[0].(int64), 10) {
			t.Fatalf("civil_affairs row %d: manifest key %s, row key %v", k, d.Key, row[0])
		}
		if err := identifier.ValidateCitizenIDAt(id, ref); err != nil {
			t.Fatalf("civil_affairs row %d: citizen_id %s invalid: %v", k, id, err)
		}
		if marital[status] == (d.Kind == DefectBadMarital) {
			t.Fatalf("civil_affairs row %d (%q): marital_status %q", k, d.Kind, status)
		}
		pop, shared := popName[id]
		switch d.Kind {
		case DefectNameConflict, DefectFullwidth:
			// About a population person whose population row the hub can match.
			if !shared || !popValid[id] {
				t.Fatalf("civil_affairs row %d %s: person %s is not matchable in population (shared %v)", k, d.Kind, id, shared)
			}
			if d.Kind == DefectNameConflict && normName(name) == normName(pop) {
				t.Fatalf("civil_affairs row %d name_conflict: %q equals population %q after normalisation", k, name, pop)
			}
			if d.Kind == DefectFullwidth && (name == pop || normName(name) != normName(pop)) {
				t.Fatalf("civil_affairs row %d fullwidth: %q vs population %q", k, name, pop)
			}
		default:
			if shared && name != pop {
				t.Fatalf("civil_affairs row %d (%q): name %q, population has %q", k, d.Kind, name, pop)
			}
		}
	}
	return manifest
}

func tableIndex(table string) int {
	for i, t := range allTables() {
		if t == table {
			return i
		}
	}
	return -1
}

func TestDefects(t *testing.T) {
	for _, cfg := range []Config{
		{Seed: 11, Population: 3000, LegalPersons: 1000, CivilAffairs: 2000, Defects: 7},
		{Seed: -3, Population: 50, LegalPersons: 4, CivilAffairs: 40, Defects: 2, SharedPeopleRatio: 1},
		{Seed: 5, Population: 500, CivilAffairs: 100, Defects: 3, SharedPeopleRatio: 0.5},
		{Seed: 6, LegalPersons: 10, Defects: 5},
		{Seed: 12, Population: 2000, CivilAffairs: 3000, Defects: 40}, // every way of writing each defect
	} {
		t.Run(fmt.Sprintf("%+v", cfg), func(t *testing.T) {
			manifest := checkDefects(t, cfg)
			want := 0
			for _, table := range allTables() {
				if n, _ := RowCount(cfg, table); n > 0 {
					want += len(DefectKinds(table)) * cfg.Defects
				}
			}
			if len(manifest) != want {
				t.Errorf("%d manifest entries, want %d", len(manifest), want)
			}
		})
	}
}

// TestDefectsChangeOnlyTheirField: with defects, every row outside the
// manifest is the clean row, and a defective row differs from it in its
// manifest field alone.
func TestDefectsChangeOnlyTheirField(t *testing.T) {
	clean := Config{Seed: 21, Population: 2000, LegalPersons: 500, CivilAffairs: 1500}
	dirty := clean
	dirty.Defects = 10
	cleanRows, dirtyRows := tableRows(t, clean), tableRows(t, dirty)
	byRow := map[string]Defect{}
	for _, d := range Defects(dirty) {
		byRow[d.Table+"/"+strconv.Itoa(d.Row)] = d
	}
	for _, table := range allTables() {
		tb, _ := LookupTable(table)
		for i := range cleanRows[table] {
			d, isDefect := byRow[table+"/"+strconv.Itoa(i)]
			for c, col := range tb.Columns {
				same := fmt.Sprint(cleanRows[table][i][c]) == fmt.Sprint(dirtyRows[table][i][c])
				if same == (isDefect && col.Name == d.Field) {
					t.Fatalf("%s row %d column %s: clean %v, with defects %v (defect %+v)",
						table, i, col.Name, cleanRows[table][i][c], dirtyRows[table][i][c], d)
				}
			}
		}
	}
	if Defects(clean) != nil {
		t.Error("a clean config has a manifest")
	}
}

func TestDefectsDeterministic(t *testing.T) {
	cfg := Config{Seed: 8, Population: 1000, LegalPersons: 300, CivilAffairs: 600, Defects: 4}
	a, b := fmt.Sprint(Defects(cfg)), fmt.Sprint(Defects(cfg))
	if a != b {
		t.Error("the same config gave different manifests")
	}
	other := cfg
	other.Seed = 9
	if fmt.Sprint(Defects(other)) == a {
		t.Error("different seeds gave the same manifest")
	}
}

func TestDefectsValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string // substring of the error; "" = valid
	}{
		{Config{Population: 10, LegalPersons: 4, CivilAffairs: 20, Defects: 2, SharedPeopleRatio: 0.2}, ""},
		{Config{Defects: 3}, ""},
		{Config{Population: 10, Defects: -1}, "Defects"},
		{Config{Population: 10, Defects: MaxDefects + 1}, "Defects"},
		{Config{Population: 9, Defects: 2}, "Population is 9, too few rows"},
		{Config{LegalPersons: 3, Defects: 2}, "LegalPersons is 3"},
		{Config{CivilAffairs: 5, Population: 100, Defects: 2, SharedPeopleRatio: 1}, "CivilAffairs is 5"},
		{Config{Population: 100, CivilAffairs: 100, Defects: 2, SharedPeopleRatio: NoSharedPeople}, "civil-affairs records are about population people"},
		{Config{CivilAffairs: 100, Defects: 1}, "civil-affairs records are about population people"},
		{Config{Population: 100, CivilAffairs: 100, Defects: 20, SharedPeopleRatio: 0.3}, "too few for 20 name_conflict"},
	} {
		err := tc.cfg.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("Validate(%+v) = %v", tc.cfg, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("Validate(%+v) = %v, want error naming %q", tc.cfg, err, tc.want)
		}
		if tc.want != "" && Defects(tc.cfg) != nil {
			t.Errorf("Defects(%+v) gave a manifest for an invalid config", tc.cfg)
		}
	}
}

func TestDefectKinds(t *testing.T) {
	seen := map[string]bool{}
	for _, table := range allTables() {
		kinds := DefectKinds(table)
		if len(kinds) == 0 {
			t.Errorf("%s has no defect kinds", table)
		}
		for _, k := range kinds {
			if seen[k] {
				t.Errorf("kind %s in two tables", k)
			}
			seen[k] = true
		}
	}
	if len(seen) != 10 || DefectKinds("people") != nil {
		t.Errorf("kinds %v", seen)
	}
}

func TestDaysInMonth(t *testing.T) {
	for _, tc := range []struct {
		y    int
		m    time.Month
		want int
	}{{1999, 2, 28}, {2000, 2, 29}, {1900, 2, 28}, {1996, 2, 29}, {1985, 4, 30}, {1985, 12, 31}, {1985, 1, 31}} {
		if got := daysInMonth(tc.y, tc.m); got != tc.want {
			t.Errorf("daysInMonth(%d, %d) = %d, want %d", tc.y, tc.m, got, tc.want)
		}
	}
}
