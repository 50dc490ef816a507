package datagen

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/tongban/tongban/identifier"
)

// Birth dates of generated people span birthFirst..birthLast.
func birthFirst() time.Time { return time.Date(1940, 1, 1, 0, 0, 0, 0, time.UTC) }
func birthLast() time.Time  { return time.Date(2008, 12, 31, 0, 0, 0, 0, time.UTC) }

func birthDays() int { return int(birthLast().Sub(birthFirst())/(24*time.Hour)) + 1 }

// xPerMille is the share of citizen IDs ending in X (per mille). Left to
// chance only 1 in 11 would; the generator picks the sequence number so that
// the share is 10%.
const xPerMille = 100

// idSlot is one (county, hundreds digit of the sequence number) pair.
type idSlot struct {
	county   int // index into vocab.counties
	hundreds int
}

// idSlots lists every (county, hundreds digit) pair: a county of weight w uses
// hundreds digits 0..w-1, so heavier counties get more people.
func idSlots(counties []county) []idSlot {
	var slots []idSlot
	for i, c := range counties {
		for h := 0; h < c.weight; h++ {
			slots = append(slots, idSlot{county: i, hundreds: h})
		}
	}
	return slots
}

// personSpace is the number of distinct people the generator can make: each
// person is one point (sex, slot, birth day) of this space, and within the
// point the sequence number's last two digits are free to choose the check
// character, so distinct points are distinct citizen IDs.
func personSpace() int {
	return 2 * len(idSlots(parseCounties())) * birthDays()
}

// person is one generated resident.
type person struct {
	citizenID  string
	name       string
	sex        int // identifier.SexMale or SexFemale
	birth      time.Time
	ethnicity  string
	home       county // county of residence
	address    string
	hasAddress bool
	phone      string
	household  string
	updatedAt  time.Time
}

// person returns person i (0-based). People 0..Population-1 are the rows of
// the population table; people from Population on are the civil-affairs
// records' new people. The result depends only on the seed and i.
func (g *generator) person(i int) (person, error) {
	if i < 0 || i >= g.space {
		return person{}, fmt.Errorf("datagen: person %d outside the %d people the generator can make", i, g.space)
	}
	p := int(g.people.at(uint64(i)))
	sex := identifier.SexMale + p%2
	p /= 2
	slot := g.slots[p%len(g.slots)]
	birth := birthFirst().AddDate(0, 0, p/len(g.slots))
	idCounty := g.v.counties[slot.county]

	r := g.rng(&g.personRNG, g.personKey, i)
	wantX := r.IntN(1000) < xPerMille
	parity := 0
	if sex == identifier.SexMale {
		parity = 1
	}
	// With the hundreds digit fixed, the 50 sequence numbers of the right parity
	// reach every check value (their weighted contribution 4b+2c mod 11 takes
	// all residues), so both an X and a non-X ID exist; take the first from a
	// random start.
	start := r.IntN(50)
	var id string
	for t := 0; t < 50; t++ {
		seq := slot.hundreds*100 + 2*((start+t)%50) + parity
		cand, err := identifier.FormatCitizenID(idCounty.code, birth, seq)
		if err != nil {
			return person{}, fmt.Errorf("datagen: person %d: %w", i, err)
		}
		if (cand[17] == 'X') == wantX {
			id = cand
			break
		}
	}
	if id == "" {
		return person{}, fmt.Errorf("datagen: person %d: no sequence number gives the wanted check character", i)
	}

	home := idCounty
	if r.IntN(100) >= 70 {
		home = g.v.pickCounty(r)
	}
	pp := person{
		citizenID: id,
		name:      g.v.name(r, sex == identifier.SexMale),
		sex:       sex,
		birth:     birth,
		ethnicity: g.v.ethnicities.pick(r),
		home:      home,
		phone:     g.v.phone(r),
		household: g.v.households.pick(r),
	}
	if r.IntN(1000) >= nullAddressPerMille {
		pp.address, pp.hasAddress = home.prefix()+g.v.streetAddress(r), true
	}
	pp.updatedAt = updatedAt(r)
	return pp, nil
}

// nullAddressPerMille is the share of rows whose address is NULL.
const nullAddressPerMille = 20

// updatedAt returns a last-change time in 2024-01-01..2025-06-30 with microseconds.
func updatedAt(r *rand.Rand) time.Time {
	from := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	to := time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	return time.UnixMicro(from + r.Int64N(to-from)).UTC()
}

// dateBetween returns a random date (midnight UTC) in from..to inclusive.
func dateBetween(r *rand.Rand, from, to time.Time) time.Time {
	days := int(to.Sub(from) / (24 * time.Hour))
	if days <= 0 {
		return from
	}
	return from.AddDate(0, 0, r.IntN(days+1))
}
