package datagen

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tongban/tongban/identifier"
)

// collect returns all rows of a table.
func collect(t *testing.T, cfg Config, table string) [][]any {
	t.Helper()
	var rows [][]any
	if err := Rows(cfg, table, func(row []any) error {
		rows = append(rows, row)
		return nil
	}); err != nil {
		t.Fatalf("Rows(%s): %v", table, err)
	}
	return rows
}

// rowsText renders rows for comparison.
func rowsText(rows [][]any) string {
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "%#v\n", r)
	}
	return b.String()
}

func allTables() []string { return []string{TablePopulation, TableLegalPerson, TableCivilAffairs} }

func TestTables(t *testing.T) {
	tables := Tables()
	if len(tables) != 3 {
		t.Fatalf("%d tables", len(tables))
	}
	wantCols := map[string]string{
		TablePopulation:   "citizen_id name sex birth_date ethnicity address phone household_type updated_at",
		TableLegalPerson:  "uscc name legal_rep registered_capital established address status updated_at",
		TableCivilAffairs: "record_id citizen_id name marital_status registered_on office updated_at",
	}
	for _, tb := range tables {
		if got := strings.Join(tb.ColumnNames(), " "); got != wantCols[tb.Name] {
			t.Errorf("%s columns = %s, want %s", tb.Name, got, wantCols[tb.Name])
		}
		if !strings.HasPrefix(tb.DDL, "CREATE TABLE `"+tb.Name+"`") || !strings.Contains(tb.DDL, "DEFAULT CHARSET=utf8mb4") ||
			!strings.Contains(tb.DDL, "PRIMARY KEY (`"+tb.PrimaryKey[0]+"`)") {
			t.Errorf("%s DDL:\n%s", tb.Name, tb.DDL)
		}
		for _, c := range tb.Columns {
			if !strings.Contains(tb.DDL, "`"+c.Name+"` "+c.SQLType) {
				t.Errorf("%s DDL lacks column %s %s", tb.Name, c.Name, c.SQLType)
			}
		}
		got, err := LookupTable(tb.Name)
		if err != nil || got.DDL != tb.DDL {
			t.Errorf("LookupTable(%s) = %v", tb.Name, err)
		}
	}
	if _, err := LookupTable("people"); err == nil || !strings.Contains(err.Error(), `"people"`) || !strings.Contains(err.Error(), TablePopulation) {
		t.Errorf("LookupTable(people) = %v, want an error naming it and the known tables", err)
	}
	if err := Rows(Config{Population: 1}, "people", func([]any) error { return nil }); err == nil {
		t.Error("Rows of an unknown table succeeded")
	}
	cfg := Config{Population: 3, LegalPersons: 4, CivilAffairs: 5}
	for table, want := range map[string]int{TablePopulation: 3, TableLegalPerson: 4, TableCivilAffairs: 5} {
		if n, err := RowCount(cfg, table); err != nil || n != want {
			t.Errorf("RowCount(%s) = %d, %v", table, n, err)
		}
		if n := len(collect(t, cfg, table)); n != want {
			t.Errorf("Rows(%s) gave %d rows, want %d", table, n, want)
		}
	}
	if _, err := RowCount(cfg, "x"); err == nil {
		t.Error("RowCount(x) succeeded")
	}
}

func TestConfigValidate(t *testing.T) {
	space := personSpace()
	for _, tc := range []struct {
		cfg  Config
		want string // substring of the error; "" = valid
	}{
		{DefaultConfig(1), ""},
		{Config{}, ""},
		{Config{Population: 10, CivilAffairs: 10, SharedPeopleRatio: 1}, ""},
		{Config{Population: 10, CivilAffairs: 10, SharedPeopleRatio: NoSharedPeople}, ""},
		{Config{Population: -1}, "Population"},
		{Config{LegalPersons: -1}, "LegalPersons"},
		{Config{CivilAffairs: -5}, "CivilAffairs"},
		{Config{SharedPeopleRatio: 1.5}, "SharedPeopleRatio"},
		{Config{SharedPeopleRatio: math.NaN()}, "SharedPeopleRatio"},
		{Config{Population: space + 1}, "distinct citizen IDs"},
		{Config{Population: space - 10, CivilAffairs: 20, SharedPeopleRatio: NoSharedPeople}, "distinct citizen IDs"},
		{Config{Population: space - 10, CivilAffairs: 10, SharedPeopleRatio: NoSharedPeople}, ""},
		{Config{LegalPersons: maxLegalPersons + 1}, "LegalPersons"},
		{Config{Population: math.MaxInt, CivilAffairs: math.MaxInt}, "Population"},
		{Config{Population: space, CivilAffairs: math.MaxInt}, "CivilAffairs"},
		{Config{Population: space, CivilAffairs: maxRows, SharedPeopleRatio: 0.5}, "distinct citizen IDs"},
		{Config{Population: 1, CivilAffairs: maxRows, SharedPeopleRatio: 1}, ""},
	} {
		err := tc.cfg.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("Validate(%+v) = %v", tc.cfg, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("Validate(%+v) = %v, want error naming %s", tc.cfg, err, tc.want)
		}
		if tc.want != "" {
			if err := Rows(tc.cfg, TablePopulation, func([]any) error { return nil }); err == nil {
				t.Errorf("Rows accepted invalid %+v", tc.cfg)
			}
		}
	}
	if d := DefaultConfig(7); d.Population+d.LegalPersons+d.CivilAffairs < 100000 || d.Seed != 7 {
		t.Errorf("DefaultConfig = %+v, want at least 100,000 rows", d)
	}
}

func TestDeterminism(t *testing.T) {
	cfg := Config{Seed: 42, Population: 2000, LegalPersons: 1000, CivilAffairs: 1000}
	for _, table := range allTables() {
		a, b := rowsText(collect(t, cfg, table)), rowsText(collect(t, cfg, table))
		if a != b {
			t.Errorf("%s: same config gave different rows", table)
		}
		other := cfg
		other.Seed = 43
		if c := rowsText(collect(t, other, table)); c == a {
			t.Errorf("%s: different seeds gave the same rows", table)
		}
	}
	// Row i depends only on (seed, i): a smaller table is a prefix of a larger one.
	small := Config{Seed: 42, Population: 500, LegalPersons: 300, CivilAffairs: 400}
	for _, table := range allTables() {
		big := cfg
		if table == TableCivilAffairs {
			big.Population = small.Population // civil rows also depend on the population size
		}
		want := collect(t, small, table)
		got := collect(t, big, table)[:len(want)]
		if rowsText(got) != rowsText(want) {
			t.Errorf("%s: rows of the smaller table are not a prefix of the larger one", table)
		}
	}
}

// checkText asserts v is a non-empty string of at most max characters.
func checkText(t *testing.T, table, col string, v any, max int) string {
	t.Helper()
	s, ok := v.(string)
	if !ok || s == "" || utf8.RuneCountInString(s) > max || !utf8.ValidString(s) {
		t.Fatalf("%s.%s = %#v, want a string of 1..%d characters", table, col, v, max)
	}
	return s
}

// checkDate asserts v is a time.Time at midnight UTC.
func checkDate(t *testing.T, table, col string, v any) time.Time {
	t.Helper()
	d, ok := v.(time.Time)
	if !ok || d.Location() != time.UTC || d.Hour()+d.Minute()+d.Second()+d.Nanosecond() != 0 {
		t.Fatalf("%s.%s = %#v, want a date (midnight UTC)", table, col, v)
	}
	return d
}

// checkDatetime asserts v is a UTC time with microsecond precision in 2024-2025.
func checkDatetime(t *testing.T, table, col string, v any) {
	t.Helper()
	d, ok := v.(time.Time)
	if !ok || d.Location() != time.UTC || d.Nanosecond()%1000 != 0 || d.Year() < 2024 || d.After(referenceDate().AddDate(0, 0, 1)) {
		t.Fatalf("%s.%s = %#v, want a DATETIME(6) value in 2024-01-01..2025-06-30", table, col, v)
	}
}

func TestPopulationRows(t *testing.T) {
	n := 20000
	cfg := Config{Seed: 7, Population: n}
	ids := make(map[string]bool, n)
	nullAddr, xs, male := 0, 0, 0
	ethnic := map[string]int{}
	phone := regexp.MustCompile(`^1[3-9][0-9]{9}$`)
	err := Rows(cfg, TablePopulation, func(row []any) error {
		if len(row) != 9 {
			t.Fatalf("row has %d values", len(row))
		}
		id := checkText(t, "population", "citizen_id", row[0], 18)
		c, err := identifier.ParseCitizenIDAt(id, referenceDate())
		if err != nil {
			t.Fatalf("citizen_id %q invalid: %v", id, err)
		}
		if c.ID != id {
			t.Fatalf("citizen_id %q not canonical", id)
		}
		if ids[id] {
			t.Fatalf("citizen_id %q repeated", id)
		}
		ids[id] = true
		if id[17] == 'X' {
			xs++
		}
		checkText(t, "population", "name", row[1], 32)
		if sex := checkText(t, "population", "sex", row[2], 1); sex != strconv.Itoa(c.Sex) {
			t.Fatalf("%s: sex %q, ID says %d", id, sex, c.Sex)
		} else if sex == "1" {
			male++
		}
		if birth := checkDate(t, "population", "birth_date", row[3]); !birth.Equal(c.Birth) {
			t.Fatalf("%s: birth_date %s, ID says %s", id, birth, c.Birth)
		}
		ethnic[checkText(t, "population", "ethnicity", row[4], 16)]++
		if row[5] == nil {
			nullAddr++
		} else if a := checkText(t, "population", "address", row[5], 128); !strings.HasSuffix(a, "号") && !strings.HasSuffix(a, "室") {
			t.Fatalf("address %q", a)
		}
		if p := checkText(t, "population", "phone", row[6], 11); !phone.MatchString(p) {
			t.Fatalf("phone %q", p)
		}
		if h := checkText(t, "population", "household_type", row[7], 8); h != "家庭户" && h != "集体户" {
			t.Fatalf("household_type %q", h)
		}
		checkDatetime(t, "population", "updated_at", row[8])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != n {
		t.Fatalf("%d distinct IDs, want %d", len(ids), n)
	}
	between(t, "share of citizen IDs ending in X", float64(xs)/float64(n), 0.093, 0.107)
	between(t, "share of NULL addresses", float64(nullAddr)/float64(n), 0.012, 0.03)
	between(t, "share of men", float64(male)/float64(n), 0.47, 0.53)
	between(t, "share of 汉族", float64(ethnic["汉族"])/float64(n), 0.88, 0.95)
}

// between asserts lo <= v <= hi.
func between(t *testing.T, what string, v, lo, hi float64) {
	t.Helper()
	if v < lo || v > hi {
		t.Errorf("%s = %.4f, want %.3f..%.3f", what, v, lo, hi)
	}
}

func TestXShareLarge(t *testing.T) {
	// 1 in 11 IDs (9.09%) end in X by chance; the generator must lift that to 10%.
	// With 60,000 IDs the standard deviation of the share is 0.12 points.
	n := 60000
	xs := 0
	if err := Rows(Config{Seed: 99, Population: n}, TablePopulation, func(row []any) error {
		if row[0].(string)[17] == 'X' {
			xs++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	between(t, "share of citizen IDs ending in X", float64(xs)/float64(n), 0.0955, 0.1045)
}

func TestLegalPersonRows(t *testing.T) {
	n := 20000
	codes := make(map[string]bool, n)
	nullAddr := 0
	kinds, statuses := map[string]int{}, map[string]int{}
	decimal := regexp.MustCompile(`^[1-9][0-9]{0,15}\.[0-9]{2}$`)
	err := Rows(Config{Seed: 8, LegalPersons: n}, TableLegalPerson, func(row []any) error {
		if len(row) != 8 {
			t.Fatalf("row has %d values", len(row))
		}
		code := checkText(t, "legal_person", "uscc", row[0], 18)
		u, err := identifier.ParseUSCC(code)
		if err != nil {
			t.Fatalf("uscc %q invalid: %v", code, err)
		}
		if codes[code] {
			t.Fatalf("uscc %q repeated", code)
		}
		codes[code] = true
		kinds[code[:2]]++
		name := checkText(t, "legal_person", "name", row[1], 128)
		if code[:2] == "91" && !strings.Contains(name, "公司") {
			t.Errorf("enterprise %s named %q", code, name)
		}
		checkText(t, "legal_person", "legal_rep", row[2], 32)
		if c := checkText(t, "legal_person", "registered_capital", row[3], 19); !decimal.MatchString(c) {
			t.Fatalf("registered_capital %q", c)
		}
		est := checkDate(t, "legal_person", "established", row[4])
		if est.Year() < 1995 || est.After(referenceDate()) || (strings.HasPrefix(u.OrgCode, "MA") && est.Before(time.Date(2015, 10, 1, 0, 0, 0, 0, time.UTC))) {
			t.Fatalf("%s established %s", code, est)
		}
		if row[5] == nil {
			nullAddr++
		} else {
			checkText(t, "legal_person", "address", row[5], 128)
		}
		statuses[checkText(t, "legal_person", "status", row[6], 16)]++
		checkDatetime(t, "legal_person", "updated_at", row[7])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	between(t, "share of NULL addresses", float64(nullAddr)/float64(n), 0.012, 0.03)
	between(t, "share of enterprises (91)", float64(kinds["91"])/float64(n), 0.72, 0.78)
	if len(statuses) != 3 || statuses["存续"] == 0 || statuses["在业"] == 0 || statuses["注销"] == 0 {
		t.Errorf("statuses %v, want 存续/在业/注销", statuses)
	}
}

func TestCivilAffairsSharesPeople(t *testing.T) {
	for _, tc := range []struct {
		name       string
		ratio      float64
		pop, civil int
		wantShared int
	}{
		{"default 30%", 0, 3000, 2000, 600},
		{"half", 0.5, 3000, 2001, 1000},
		{"all", 1, 500, 800, 800},
		{"none", NoSharedPeople, 3000, 2000, 0},
		{"no population", 0.3, 0, 500, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{Seed: 5, Population: tc.pop, CivilAffairs: tc.civil, SharedPeopleRatio: tc.ratio}
			names := make(map[string]string, tc.pop)
			births := make(map[string]time.Time, tc.pop)
			for _, row := range collect(t, cfg, TablePopulation) {
				names[row[0].(string)] = row[1].(string)
				births[row[0].(string)] = row[3].(time.Time)
			}
			shared, newIDs := 0, map[string]bool{}
			statuses := map[string]int{}
			for i, row := range collect(t, cfg, TableCivilAffairs) {
				if len(row) != 7 {
					t.Fatalf("row has %d values", len(row))
				}
				if id, ok := row[0].(int64); !ok || id != int64(i+1) {
					t.Fatalf("record_id %#v, want %d", row[0], i+1)
				}
				id := checkText(t, "civil_affairs", "citizen_id", row[1], 18)
				c, err := identifier.ParseCitizenIDAt(id, referenceDate())
				if err != nil {
					t.Fatalf("citizen_id %q invalid: %v", id, err)
				}
				name := checkText(t, "civil_affairs", "name", row[2], 32)
				if popName, ok := names[id]; ok {
					shared++
					if popName != name {
						t.Errorf("%s is %q in population but %q in civil affairs", id, popName, name)
					}
				} else {
					if newIDs[id] {
						t.Errorf("new person %s appears twice", id)
					}
					newIDs[id] = true
				}
				status := checkText(t, "civil_affairs", "marital_status", row[3], 8)
				statuses[status]++
				reg := checkDate(t, "civil_affairs", "registered_on", row[4])
				if !reg.After(c.Birth) || reg.After(referenceDate()) {
					t.Errorf("%s born %s registered %s", id, c.Birth, reg)
				}
				if status != "未婚" && reg.Before(c.Birth.AddDate(20, 0, 0)) {
					t.Errorf("%s born %s is %s from %s, before the marriage age", id, c.Birth, status, reg)
				}
				if o := checkText(t, "civil_affairs", "office", row[5], 64); !strings.HasSuffix(o, "民政局婚姻登记处") {
					t.Errorf("office %q", o)
				}
				checkDatetime(t, "civil_affairs", "updated_at", row[6])
			}
			if shared != tc.wantShared {
				t.Errorf("%d of %d civil-affairs records are population people, want %d", shared, tc.civil, tc.wantShared)
			}
			for _, s := range []string{"已婚", "未婚"} {
				if tc.civil > 100 && statuses[s] == 0 {
					t.Errorf("no %s records: %v", s, statuses)
				}
			}
		})
	}
}

func TestEmitErrorStops(t *testing.T) {
	stop := errors.New("stop here")
	for _, table := range allTables() {
		n := 0
		err := Rows(Config{Seed: 1, Population: 100, LegalPersons: 100, CivilAffairs: 100}, table, func([]any) error {
			n++
			if n == 10 {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || n != 10 {
			t.Errorf("%s: Rows returned %v after %d rows, want the emit error after 10", table, err, n)
		}
	}
}

func TestCountyData(t *testing.T) {
	counties := parseCounties()
	if len(counties) < 30 || len(counties) != strings.Count(strings.TrimSpace(countyData), "\n")+1 {
		t.Fatalf("parsed %d counties from %d lines", len(counties), strings.Count(countyData, "\n"))
	}
	seen := map[string]bool{}
	daqing := 0
	total := 0
	for _, c := range counties {
		if !identifier.ValidRegion(c.code) || seen[c.code] || c.weight < 1 || c.weight > 10 {
			t.Errorf("bad county %+v", c)
		}
		seen[c.code] = true
		if p, _ := identifier.ProvinceName(c.code[:2]); p != c.province {
			t.Errorf("county %s in %s, but code says %s", c.code, c.province, p)
		}
		total += c.weight
		if c.city == "大庆市" {
			daqing += c.weight
		}
	}
	if daqing*2 < total {
		t.Errorf("Daqing weight %d of %d: the demo should be mostly Daqing", daqing, total)
	}
}

func TestPermutationIsBijection(t *testing.T) {
	for _, n := range []uint64{1, 2, 3, 5, 17, 1000, 4097} {
		p := newPermutation(n, 12345)
		seen := make([]bool, n)
		for x := uint64(0); x < n; x++ {
			y := p.at(x)
			if y >= n || seen[y] {
				t.Fatalf("n=%d: at(%d) = %d repeats or is out of range", n, x, y)
			}
			seen[y] = true
		}
	}
	p, q := newPermutation(1000, 1), newPermutation(1000, 2)
	same := 0
	for x := uint64(0); x < 1000; x++ {
		if p.at(x) == q.at(x) {
			same++
		}
	}
	if same > 20 {
		t.Errorf("permutations with different keys agree on %d of 1000 points", same)
	}
}
