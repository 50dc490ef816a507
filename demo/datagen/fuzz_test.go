package datagen

import (
	"math"
	"testing"

	"github.com/tongban/tongban/identifier"
)

// FuzzConfig: any Config is either rejected with an error or, when small,
// generates exactly the configured rows, all with valid identifiers and the
// configured number of shared people.
func FuzzConfig(f *testing.F) {
	f.Add(int64(1), 10, 10, 10, 0.0)
	f.Add(int64(-7), 0, 3, 40, 0.5)
	f.Add(int64(0), 5, 0, 9, 1.0)
	f.Add(int64(3), -1, 2, 2, 0.3)
	f.Add(int64(3), 2, 2, 2, math.Inf(-1))
	f.Add(int64(3), 2, 2, 2, math.NaN())
	f.Add(int64(3), math.MaxInt, 2, math.MaxInt, 0.1)
	f.Fuzz(func(t *testing.T, seed int64, pop, legal, civil int, ratio float64) {
		cfg := Config{Seed: seed, Population: pop, LegalPersons: legal, CivilAffairs: civil, SharedPeopleRatio: ratio}
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
