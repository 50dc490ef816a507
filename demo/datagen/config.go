// Package datagen generates realistic, deterministic rows for the demo's
// department databases: a public-security population table, a
// market-regulation legal-person table and a civil-affairs table that shares
// some people with the population table.
//
// Every row is derived from (seed, table, row number) alone, so rows stream
// without any table being held in memory, the same Config always yields the
// same rows, and the civil-affairs generator can regenerate any person of the
// population table.
package datagen

import (
	"fmt"
	"math"
)

// DefaultSharedPeopleRatio is the share of civil-affairs records about people
// of the population table when Config.SharedPeopleRatio is 0.
const DefaultSharedPeopleRatio = 0.30

// NoSharedPeople, as Config.SharedPeopleRatio, makes every civil-affairs
// record about a person outside the population table.
const NoSharedPeople = -1

// Config sizes the generated tables.
type Config struct {
	Seed         int64 // the same seed always yields the same rows
	Population   int   // rows of table population
	LegalPersons int   // rows of table legal_person
	CivilAffairs int   // rows of table civil_affairs
	// SharedPeopleRatio is the share (0..1] of civil-affairs records whose
	// person is taken from the population table (same citizen ID and name).
	// 0 means DefaultSharedPeopleRatio; NoSharedPeople (any negative) means none.
	// Shared people are drawn only when Population > 0.
	SharedPeopleRatio float64
	// Defects is the number of defective rows of each defect kind seeded in
	// each non-empty table (see DefectKinds and Defects), 0..MaxDefects; 0,
	// the default, generates clean rows. The name defects of civil_affairs
	// need records about population people (SharedPeopleRatio).
	Defects int
}

// maxRows bounds every table size (far above what the identifier spaces allow,
// low enough that size arithmetic cannot overflow).
const maxRows = 1 << 40

// DefaultConfig returns a configuration with 100,000 rows in all.
func DefaultConfig(seed int64) Config {
	return Config{Seed: seed, Population: 50000, LegalPersons: 20000, CivilAffairs: 30000}
}

// sharedRatio returns the effective share of shared people.
func (c Config) sharedRatio() float64 {
	switch {
	case c.Population == 0 || c.SharedPeopleRatio < 0:
		return 0
	case c.SharedPeopleRatio == 0:
		return DefaultSharedPeopleRatio
	default:
		return c.SharedPeopleRatio
	}
}

// Validate reports the first problem with the configuration, naming the field.
func (c Config) Validate() error {
	for _, f := range []struct {
		name string
		n    int
	}{{"Population", c.Population}, {"LegalPersons", c.LegalPersons}, {"CivilAffairs", c.CivilAffairs}} {
		if f.n < 0 {
			return fmt.Errorf("datagen config: %s is %d, must not be negative", f.name, f.n)
		}
		if f.n > maxRows {
			return fmt.Errorf("datagen config: %s is %d, more than the %d rows a table may have", f.name, f.n, maxRows)
		}
	}
	if math.IsNaN(c.SharedPeopleRatio) || c.SharedPeopleRatio > 1 {
		return fmt.Errorf("datagen config: SharedPeopleRatio is %v, must be at most 1 (0 = default %.2f, negative = none)",
			c.SharedPeopleRatio, DefaultSharedPeopleRatio)
	}
	if space := personSpace(); c.Population > space || c.newCivilPeople() > space-c.Population {
		return fmt.Errorf("datagen config: Population %d plus %d new civil-affairs people exceeds the %d distinct citizen IDs the generator can make",
			c.Population, c.newCivilPeople(), space)
	}
	if c.LegalPersons > maxLegalPersons {
		return fmt.Errorf("datagen config: LegalPersons is %d, at most %d distinct codes can be made", c.LegalPersons, maxLegalPersons)
	}
	return c.validateDefects()
}

// sharedBefore returns how many of the civil-affairs records 0..k-1 are about
// population people: floor(k × ratio), so shared records are spread evenly and
// their total is exact.
func (c Config) sharedBefore(k int) int {
	return int(math.Floor(float64(k) * c.sharedRatio()))
}

// newCivilPeople is the number of civil-affairs records about new people.
func (c Config) newCivilPeople() int {
	return c.CivilAffairs - c.sharedBefore(c.CivilAffairs)
}
