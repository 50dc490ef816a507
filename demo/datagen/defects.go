package datagen

import (
	"fmt"
	"sort"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/tongban/tongban/identifier"
)

// Seeded defects: with Config.Defects > 0 each table gets that many rows of
// each of its defect kinds, so the hub's quality checks and merge can be
// tested against a known manifest (Defects). A defective row is the clean row
// with one value changed; which rows are defective, and how, depends only on
// the Config.

// The defect kinds of table population.
const (
	// DefectCheckDigit: citizen_id has a wrong check character.
	DefectCheckDigit = "check_digit"
	// DefectImpossibleDate: citizen_id's birth part is not a calendar date
	// (e.g. 19850230), with a correct check character.
	DefectImpossibleDate = "impossible_date"
	// DefectBadCode: sex is not a GB/T 2261.1 code ("M" or "F").
	DefectBadCode = "bad_code"
	// DefectBirthMismatch: birth_date disagrees with the date in citizen_id.
	DefectBirthMismatch = "birth_mismatch"
	// DefectLegacyID: citizen_id is the valid 15-digit legacy form of the
	// person's ID (born before 2000), consistent with birth_date and sex. Not
	// a defect: the hub must upgrade it (and record the fix).
	DefectLegacyID = "legacy_id"
)

// The defect kinds of table legal_person.
const (
	// DefectUSCCCheck: uscc has a wrong check character.
	DefectUSCCCheck = "uscc_check"
	// DefectBadStatus: status is not one of 存续, 在业, 注销.
	DefectBadStatus = "bad_status"
)

// The defect kinds of table civil_affairs.
const (
	// DefectNameConflict: a person of the population table whose name here
	// differs from the population table's (one given-name character
	// replaced): a real conflict.
	DefectNameConflict = "name_conflict"
	// DefectFullwidth: a person of the population table whose name here has
	// whitespace trivia (an ideographic space U+3000 or ASCII spaces) that a
	// normaliser must remove: NOT a conflict. (Generated names have no Latin
	// letters, so full-width letters do not occur.)
	DefectFullwidth = "fullwidth"
	// DefectBadMarital: marital_status is not one of 已婚, 离婚, 未婚, 丧偶.
	DefectBadMarital = "bad_marital"
)

// MaxDefects bounds Config.Defects.
const MaxDefects = 100_000

// DefectKinds returns the defect kinds of a table, in the order rows are
// assigned to them (a fresh slice; nil for an unknown table).
func DefectKinds(table string) []string {
	switch table {
	case TablePopulation:
		return []string{DefectCheckDigit, DefectImpossibleDate, DefectBadCode, DefectBirthMismatch, DefectLegacyID}
	case TableLegalPerson:
		return []string{DefectUSCCCheck, DefectBadStatus}
	case TableCivilAffairs:
		return []string{DefectNameConflict, DefectFullwidth, DefectBadMarital}
	}
	return nil
}

// Defect is one seeded defect: an entry of the manifest Defects returns.
type Defect struct {
	Table  string // table name
	Row    int    // 0-based row number in generation order
	Key    string // the row's primary key as text, as in the table (record_id in decimal)
	Kind   string // one of the Defect constants
	Field  string // the column changed
	Detail string // what was changed, e.g. `sex "M" is not a GB/T 2261.1 code (want 1)`
}

// Defects returns the manifest of the defects cfg seeds, by table (population,
// legal_person, civil_affairs) and row. It regenerates the defective rows, so
// it takes time in proportion to their number. It returns nil when cfg has no
// defects or is invalid (Rows reports why).
func Defects(cfg Config) []Defect {
	if cfg.Defects == 0 {
		return nil
	}
	g, err := newGenerator(cfg)
	if err != nil {
		return nil
	}
	var out []Defect
	for _, table := range []string{TablePopulation, TableLegalPerson, TableCivilAffairs} {
		plan, row := g.plan(table), g.rowFunc(table)
		rows := make([]int, 0, len(plan))
		for i := range plan {
			rows = append(rows, i)
		}
		sort.Ints(rows)
		for _, i := range rows {
			_, d, err := row(i)
			if err != nil {
				return nil
			}
			out = append(out, d)
		}
	}
	return out
}

// plan returns the planned defects of a table: row number to kind.
func (g *generator) plan(table string) map[int]string {
	switch table {
	case TablePopulation:
		return g.popDefects
	case TableLegalPerson:
		return g.legalDefects
	case TableCivilAffairs:
		return g.civilDefects
	}
	return nil
}

// validateDefects reports a Defects setting the tables cannot hold.
func (c Config) validateDefects() error {
	if c.Defects < 0 || c.Defects > MaxDefects {
		return fmt.Errorf("datagen config: Defects is %d, must be 0..%d", c.Defects, MaxDefects)
	}
	if c.Defects == 0 {
		return nil
	}
	for _, t := range []struct {
		name, field string
		n           int
	}{{TablePopulation, "Population", c.Population}, {TableLegalPerson, "LegalPersons", c.LegalPersons}, {TableCivilAffairs, "CivilAffairs", c.CivilAffairs}} {
		kinds := len(DefectKinds(t.name))
		if t.n > 0 && t.n < kinds*c.Defects {
			return fmt.Errorf("datagen config: %s is %d, too few rows for %d defective rows of each of its %d defect kinds",
				t.field, t.n, c.Defects, kinds)
		}
	}
	if shared := c.sharedBefore(c.CivilAffairs); c.CivilAffairs > 0 && shared < 2*c.Defects {
		return fmt.Errorf("datagen config: %d civil-affairs records are about population people, too few for %d %s and %d %s defects",
			shared, c.Defects, DefectNameConflict, c.Defects, DefectFullwidth)
	}
	return nil
}

// planDefects assigns rows to defect kinds for every table. Rows are visited
// in the order of a keyed permutation of the table, and each goes to the first
// kind that still needs rows and that it suits, so defective rows are
// scattered, distinct and fixed by the Config.
func (g *generator) planDefects() error {
	cfg := g.cfg
	if cfg.Defects == 0 {
		return nil
	}
	// Days from birthFirst to 2000-01-01: people born before are eligible for
	// a legacy (19xx-only) ID.
	before2000 := int(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Sub(birthFirst()) / (24 * time.Hour))
	var err error
	g.popDefects, err = g.assign(TablePopulation, cfg.Population, streamPopulationDefects, func(kind string, i int) bool {
		if kind != DefectLegacyID {
			return true
		}
		return int(g.people.at(uint64(i))/2)/len(g.slots) < before2000
	})
	if err != nil {
		return err
	}
	if g.legalDefects, err = g.assign(TableLegalPerson, cfg.LegalPersons, streamLegalDefects, func(string, int) bool { return true }); err != nil {
		return err
	}
	g.civilDefects, err = g.assign(TableCivilAffairs, cfg.CivilAffairs, streamCivilDefects, func(kind string, k int) bool {
		if kind == DefectBadMarital {
			return true
		}
		// A name defect needs a person of the population table whose
		// population row keeps a valid ID, so the hub can match the two.
		if cfg.sharedBefore(k+1) == cfg.sharedBefore(k) {
			return false
		}
		idx := g.rng(&g.civilRNG, g.civilKey, k).IntN(cfg.Population) // as civilAffairsRow draws it
		switch g.popDefects[idx] {
		case DefectCheckDigit, DefectImpossibleDate:
			return false
		}
		return true
	})
	return err
}

// assign plans the defects of one table of n rows.
func (g *generator) assign(table string, n int, stream uint64, suits func(kind string, row int) bool) (map[int]string, error) {
	if n == 0 {
		return nil, nil
	}
	kinds := DefectKinds(table)
	need := make([]int, len(kinds))
	for i := range need {
		need[i] = g.cfg.Defects
	}
	left := len(kinds) * g.cfg.Defects
	plan := make(map[int]string, left)
	perm := newPermutation(uint64(n), streamKey(g.cfg.Seed, stream))
	for p := 0; p < n && left > 0; p++ {
		row := int(perm.at(uint64(p)))
		for k, kind := range kinds {
			if need[k] > 0 && suits(kind, row) {
				plan[row] = kind
				need[k]--
				left--
				break
			}
		}
	}
	for k, kind := range kinds {
		if need[k] > 0 {
			return nil, fmt.Errorf("datagen: %s: only %d of %d rows suit a %s defect", table, g.cfg.Defects-need[k], g.cfg.Defects, kind)
		}
	}
	return plan, nil
}

// defectHash returns a well-spread value for choosing how row i of a table is
// made defective, independent of the row's own random stream.
func (g *generator) defectHash(stream uint64, i int) uint64 {
	return mix64(streamKey(g.cfg.Seed, stream) ^ uint64(i)*0x9e3779b97f4a7c15)
}

// populationDefect makes row (of person p, row i) defective in the planned way.
func (g *generator) populationDefect(kind string, i int, p person, row []any) (Defect, error) {
	h := g.defectHash(streamPopulationDefects, i)
	d := Defect{Table: TablePopulation, Row: i, Kind: kind}
	id := p.citizenID
	switch kind {
	case DefectCheckDigit:
		const checks = "0123456789X"
		cur := 0
		for cur < len(checks) && checks[cur] != id[17] {
			cur++
		}
		bad := checks[(cur+1+int(h%10))%len(checks)] // never the right one
		row[0] = id[:17] + string(bad)
		d.Field, d.Detail = "citizen_id", fmt.Sprintf("check character %c, want %c", bad, id[17])
	case DefectImpossibleDate:
		// Day := days in the month + the real day: never a calendar date, and
		// one-to-one, so distinct people keep distinct IDs (Feb 1 → 0229 or 0230).
		y, m, day := p.birth.Date()
		first17 := fmt.Sprintf("%s%04d%02d%02d%s", id[:6], y, int(m), daysInMonth(y, m)+day, id[14:17])
		check, err := identifier.CitizenIDCheckChar(first17)
		if err != nil {
			return Defect{}, err
		}
		row[0] = first17 + string(check)
		d.Field, d.Detail = "citizen_id", fmt.Sprintf("birth part %s is not a calendar date (born %s)", first17[6:14], p.birth.Format(time.DateOnly))
	case DefectBadCode:
		bad := "M"
		if p.sex == identifier.SexFemale {
			bad = "F"
		}
		row[2] = bad
		d.Field, d.Detail = "sex", fmt.Sprintf("sex %q is not a GB/T 2261.1 code (want %d)", bad, p.sex)
	case DefectBirthMismatch:
		shift := 1 + int(h%400)
		if h>>32&1 == 0 {
			shift = -shift
		}
		wrong := p.birth.AddDate(0, 0, shift)
		row[3] = wrong
		d.Field, d.Detail = "birth_date", fmt.Sprintf("birth_date %s, citizen_id says %s", wrong.Format(time.DateOnly), p.birth.Format(time.DateOnly))
	case DefectLegacyID:
		legacy := id[:6] + id[8:17]
		row[0] = legacy
		d.Field, d.Detail = "citizen_id", fmt.Sprintf("15-digit legacy ID, upgrades to %s", id)
	}
	d.Key = row[0].(string)
	return d, nil
}

// badStatuses are legal-person statuses outside the generated set and
// outside the registration statuses the catalog accepts (吊销 and 迁出 are
// real statuses, so they are not defects).
func badStatuses() []string { return []string{"正常", "ACTIVE", "存续中", "营业", "unknown"} }

// legalDefect makes legal-person row j defective in the planned way.
func (g *generator) legalDefect(kind string, j int, row []any) Defect {
	h := g.defectHash(streamLegalDefects, j)
	d := Defect{Table: TableLegalPerson, Row: j, Kind: kind}
	code := row[0].(string)
	switch kind {
	case DefectUSCCCheck:
		a := identifier.USCCAlphabet
		cur := 0
		for cur < len(a) && a[cur] != code[17] {
			cur++
		}
		bad := a[(cur+1+int(h%uint64(len(a)-1)))%len(a)] // never the right one
		row[0] = code[:17] + string(bad)
		d.Field, d.Detail = "uscc", fmt.Sprintf("check character %c, want %c", bad, code[17])
	case DefectBadStatus:
		s := badStatuses()
		bad := s[h%uint64(len(s))]
		row[6] = bad
		d.Field, d.Detail = "status", fmt.Sprintf("status %q is not one of 存续, 在业, 注销", bad)
	}
	d.Key = row[0].(string)
	return d
}

// badMaritalStatuses are marital statuses outside the generated set.
func badMaritalStatuses() []string { return []string{"结婚", "分居", "未知", "20", "married"} }

// civilDefect makes civil-affairs row k (about person p) defective in the planned way.
func (g *generator) civilDefect(kind string, k int, p person, row []any) Defect {
	h := g.defectHash(streamCivilDefects, k)
	d := Defect{Table: TableCivilAffairs, Row: k, Kind: kind, Key: strconv.Itoa(k + 1)}
	switch kind {
	case DefectNameConflict:
		// Replace the last character with another given-name character of the same sex.
		given := g.v.femaleGiven
		if p.sex == identifier.SexMale {
			given = g.v.maleGiven
		}
		last, size := utf8.DecodeLastRuneInString(p.name)
		repl := given[h%uint64(len(given))]
		if repl == string(last) {
			repl = given[(h+1)%uint64(len(given))]
		}
		name := p.name[:len(p.name)-size] + repl
		row[2] = name
		d.Field, d.Detail = "name", fmt.Sprintf("name %q, population has %q", name, p.name)
	case DefectFullwidth:
		_, size := utf8.DecodeRuneInString(p.name)
		var name, how string
		switch h % 3 {
		case 0:
			name, how = p.name[:size]+"\u3000"+p.name[size:], "ideographic space U+3000 after the first character"
		case 1:
			name, how = p.name+"\u3000", "trailing ideographic space U+3000"
		default:
			name, how = " "+p.name+" ", "leading and trailing spaces"
		}
		row[2] = name
		d.Field, d.Detail = "name", fmt.Sprintf("name %q (%s) equals %q after normalisation", name, how, p.name)
	case DefectBadMarital:
		s := badMaritalStatuses()
		bad := s[h%uint64(len(s))]
		row[3] = bad
		d.Field, d.Detail = "marital_status", fmt.Sprintf("marital_status %q is not one of 已婚, 离婚, 未婚, 丧偶", bad)
	}
	return d
}

// daysInMonth returns the number of days of month m of year y.
func daysInMonth(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
