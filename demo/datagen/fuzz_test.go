package datagen

import (
	"math"
	"strings"
	"testing"

	"github.com/tongban/tongban/identifier"
)

// FuzzConfig: any Config is either rejected with an error or, when small,
// generates exactly the configured rows, all with valid identifiers (outside
// the seeded defects, which match their manifest) and the configured number
// of shared people.
func FuzzConfig(f *testing.F) {
	f.Add(int64(1), 10, 10, 10, 0.0, 0)
	f.Add(int64(-7), 0, 3, 40, 0.5, 0)
	f.Add(int64(0), 5, 0, 9, 1.0, 0)
	f.Add(int64(3), -1, 2, 2, 0.3, 0)
	f.Add(int64(3), 2, 2, 2, math.Inf(-1), 0)
	f.Add(int64(3), 2, 2, 2, math.NaN(), 0)
	f.Add(int64(3), math.MaxInt, 2, math.MaxInt, 0.1, 0)
	f.Add(int64(4), 20, 8, 30, 0.5, 2)
	f.Add(int64(5), 10, 2, 2, 1.0, 1)
	f.Add(int64(5), 10, 2, 20, 0.0, -3)
	f.Add(int64(5), 10, 2, 20, 0.0, math.MaxInt)
	f.Fuzz(func(t *testing.T, seed int64, pop, legal, civil int, ratio float64, defects int) {
		cfg := Config{Seed: seed, Population: pop, LegalPersons: legal, CivilAffairs: civil, SharedPeopleRatio: ratio, Defects: defects}
		err := cfg.Validate()
		if err != nil {
			if rerr := Rows(cfg, TableCivilAffairs, func([]any) error { return nil }); rerr == nil {
				t.Fatalf("Validate rejects %+v (%v) but Rows accepts it", cfg, err)
			}
			return
		}
		if people := cfg.Population + cfg.newCivilPeople(); people < 0 || people > personSpace() {
			t.Fatalf("Validate accepts %+v, which needs %d people", cfg, people)
		}
		if pop > 64 || legal > 64 || civil > 64 {
			return
		}
		if cfg.Defects > 0 {
			// Rows may still fail to place every defect (too few suitable
			// rows); then both Rows and Defects must say so.
			var placeErr error
			for _, table := range allTables() {
				if err := Rows(cfg, table, func([]any) error { return nil }); err != nil {
					placeErr = err
				}
			}
			if placeErr != nil {
				if !strings.Contains(placeErr.Error(), "rows suit a") || Defects(cfg) != nil {
					t.Fatalf("%+v: %v", cfg, placeErr)
				}
				return
			}
			checkDefects(t, cfg)
			return
		}
		ref := referenceDate()
		inPop := map[string]bool{}
		for _, table := range allTables() {
			n := 0
			if err := Rows(cfg, table, func(row []any) error {
				n++
				switch table {
				case TablePopulation:
					inPop[row[0].(string)] = true
					return identifier.ValidateCitizenIDAt(row[0].(string), ref)
				case TableLegalPerson:
					return identifier.ValidateUSCC(row[0].(string))
				default:
					return identifier.ValidateCitizenIDAt(row[1].(string), ref)
				}
			}); err != nil {
				t.Fatalf("%+v %s: %v", cfg, table, err)
			}
			if want, _ := RowCount(cfg, table); n != want {
				t.Fatalf("%+v %s: %d rows, want %d", cfg, table, n, want)
			}
		}
		shared := 0
		if err := Rows(cfg, TableCivilAffairs, func(row []any) error {
			if inPop[row[1].(string)] {
				shared++
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if want := cfg.sharedBefore(civil); shared != want {
			t.Fatalf("%+v: %d shared people, want %d", cfg, shared, want)
		}
	})
}
