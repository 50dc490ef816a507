package datagen

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/tongban/tongban/identifier"
)

// Random stream identifiers: each table (and the people) draws from its own
// stream, reseeded per row from (seed, stream, row).
const (
	streamPeople uint64 = iota + 1
	streamPeoplePerm
	streamLegal
	streamLegalPerm
	streamCivil
	streamPopulationDefects
	streamLegalDefects
	streamCivilDefects
)

// orgBodySpace is the number of distinct organisation-code bodies: 10^8 of
// eight digits and 10^8 of the form "MA" + six alphabet characters.
const orgBodySpace = 2 * 100_000_000

// maxLegalPersons is the most legal persons one configuration can have.
const maxLegalPersons = orgBodySpace

// referenceDate is the "today" of the generated data.
func referenceDate() time.Time { return time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC) }

// generator derives rows from a Config. It is not safe for concurrent use.
type generator struct {
	cfg       Config
	v         *vocab
	slots     []idSlot
	space     int
	people    permutation
	orgs      permutation
	personKey uint64
	legalKey  uint64
	civilKey  uint64
	// One reusable source per stream, reseeded for every row.
	personRNG, legalRNG, civilRNG rngState
	// Planned defects per table, row number to kind; nil without defects.
	popDefects, legalDefects, civilDefects map[int]string
}

// rngState is a reseedable random source.
type rngState struct {
	pcg *rand.PCG
	r   *rand.Rand
}

func newGenerator(cfg Config) (*generator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	v := newVocab()
	slots := idSlots(v.counties)
	space := 2 * len(slots) * birthDays()
	g := &generator{
		cfg:       cfg,
		v:         v,
		slots:     slots,
		space:     space,
		people:    newPermutation(uint64(space), streamKey(cfg.Seed, streamPeoplePerm)),
		orgs:      newPermutation(orgBodySpace, streamKey(cfg.Seed, streamLegalPerm)),
		personKey: streamKey(cfg.Seed, streamPeople),
		legalKey:  streamKey(cfg.Seed, streamLegal),
		civilKey:  streamKey(cfg.Seed, streamCivil),
	}
	for _, s := range []*rngState{&g.personRNG, &g.legalRNG, &g.civilRNG} {
		s.pcg = rand.NewPCG(0, 0)
		s.r = rand.New(s.pcg)
	}
	if err := g.planDefects(); err != nil {
		return nil, err
	}
	return g, nil
}

// rng reseeds s for row i of the stream with the given key and returns it.
func (g *generator) rng(s *rngState, key uint64, i int) *rand.Rand {
	s.pcg.Seed(mix64(key^uint64(i)), mix64(key+uint64(i)*0x9e3779b97f4a7c15))
	return s.r
}

// Rows generates the rows of one table for cfg and calls emit with each, in
// row order. The row slice is not reused and may be kept. An error from emit
// stops generation and is returned as is.
func Rows(cfg Config, table string, emit func(row []any) error) error {
	g, err := newGenerator(cfg)
	if err != nil {
		return err
	}
	n, err := RowCount(cfg, table)
	if err != nil {
		return err
	}
	row := g.rowFunc(table)
	for i := 0; i < n; i++ {
		values, _, err := row(i)
		if err != nil {
			return fmt.Errorf("datagen: %s row %d: %w", table, i, err)
		}
		if err := emit(values); err != nil {
			return err
		}
	}
	return nil
}

// rowFunc returns the row generator of a known table: it returns row i and,
// when the row is defective, its manifest entry (Kind "" otherwise).
func (g *generator) rowFunc(table string) func(i int) ([]any, Defect, error) {
	switch table {
	case TablePopulation:
		return g.populationRow
	case TableLegalPerson:
		return g.legalPersonRow
	default:
		return g.civilAffairsRow
	}
}

// nullable returns s, or nil when ok is false.
func nullable(s string, ok bool) any {
	if !ok {
		return nil
	}
	return s
}

func (g *generator) populationRow(i int) ([]any, Defect, error) {
	p, err := g.person(i)
	if err != nil {
		return nil, Defect{}, err
	}
	row := []any{p.citizenID, p.name, strconv.Itoa(p.sex), p.birth, p.ethnicity,
		nullable(p.address, p.hasAddress), p.phone, p.household, p.updatedAt}
	if kind, ok := g.popDefects[i]; ok {
		d, err := g.populationDefect(kind, i, p, row)
		return row, d, err
	}
	return row, Defect{}, nil
}

func (g *generator) legalPersonRow(j int) ([]any, Defect, error) {
	r := g.rng(&g.legalRNG, g.legalKey, j)
	v := g.v

	// The organisation-code body is unique per row: a permutation of the row number.
	p := g.orgs.at(uint64(j))
	var body [8]byte
	ma := p >= orgBodySpace/2
	if ma {
		body[0], body[1] = 'M', 'A'
		q := p - orgBodySpace/2
		for k := 7; k >= 2; k-- {
			body[k] = identifier.USCCAlphabet[q%31]
			q /= 31
		}
	} else {
		for k := 7; k >= 0; k-- {
			body[k] = byte('0' + p%10)
			p /= 10
		}
	}

	kind := v.legalKinds.pick(r)
	c := v.pickCounty(r)
	code, err := identifier.FormatUSCC(kind[0], kind[1], c.code, string(body[:]))
	if err != nil {
		return nil, Defect{}, err
	}

	trade := v.tradeChars[r.IntN(len(v.tradeChars))] + v.tradeChars[r.IntN(len(v.tradeChars))]
	var name string
	var capitalMinExp, capitalMaxExp int // registered capital m × 10^e yuan, e in [min, max]
	switch kind {
	case "92": // 个体工商户
		shop := v.shops[r.IntN(len(v.shops))]
		if r.IntN(2) == 0 {
			name = c.name + v.surnames.pick(r) + "记" + shop
		} else {
			name = c.name + trade + shop
		}
		capitalMinExp, capitalMaxExp = 3, 5
	case "93": // 农民专业合作社
		name = c.name + trade + v.coops[r.IntN(len(v.coops))] + "专业合作社"
		capitalMinExp, capitalMaxExp = 4, 6
	case "52": // 民办非企业单位
		name = c.cityPrefix() + trade + v.nonProfits[r.IntN(len(v.nonProfits))]
		capitalMinExp, capitalMaxExp = 4, 6
	case "12": // 事业单位
		name = c.cityPrefix() + c.name + v.institutions[r.IntN(len(v.institutions))]
		capitalMinExp, capitalMaxExp = 5, 7
	default: // 91 企业
		form := v.companyForms.pick(r)
		if form == "分公司" { // e.g. 大庆市华瑞科技有限公司让胡路区分公司
			form = "有限公司" + c.name + form
		}
		name = c.cityPrefix() + trade + v.industries[r.IntN(len(v.industries))] + form
		capitalMinExp, capitalMaxExp = 4, 7
	}

	established := dateBetween(r, time.Date(1995, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2015, 9, 30, 0, 0, 0, 0, time.UTC))
	if ma { // "MA" bodies were assigned after the USCC reform of October 2015
		established = dateBetween(r, time.Date(2015, 10, 1, 0, 0, 0, 0, time.UTC), referenceDate())
	}
	address, hasAddress := "", false
	if r.IntN(1000) >= nullAddressPerMille {
		address, hasAddress = c.prefix()+v.officeAddress(r), true
	}
	row := []any{
		code,
		name,
		v.name(r, r.IntN(100) < 70),
		capital(r, capitalMinExp, capitalMaxExp),
		established,
		nullable(address, hasAddress),
		v.statuses.pick(r),
		updatedAt(r),
	}
	if kind, ok := g.legalDefects[j]; ok {
		return row, g.legalDefect(kind, j, row), nil
	}
	return row, Defect{}, nil
}

// capital returns a registered capital in yuan as a DECIMAL(18,2) string:
// mostly round amounts m × 10^e, a fifth of them with an irregular tail.
func capital(r *rand.Rand, minExp, maxExp int) string {
	e := minExp + r.IntN(maxExp-minExp+1)
	unit := int64(1)
	for k := 0; k < e; k++ {
		unit *= 10
	}
	cents := (1 + r.Int64N(9)) * unit * 100
	if r.IntN(5) == 0 {
		cents += r.Int64N(unit * 100)
	}
	return strconv.FormatInt(cents/100, 10) + "." + fmt.Sprintf("%02d", cents%100)
}

func (g *generator) civilAffairsRow(k int) ([]any, Defect, error) {
	r := g.rng(&g.civilRNG, g.civilKey, k)
	cfg := g.cfg
	shared := cfg.sharedBefore(k+1) > cfg.sharedBefore(k)
	idx := cfg.Population + k - cfg.sharedBefore(k) // the next new person
	if shared {
		idx = r.IntN(cfg.Population)
	}
	p, err := g.person(idx)
	if err != nil {
		return nil, Defect{}, err
	}

	// Legal marriage age: 22 for men, 20 for women.
	age := 20
	if p.sex == identifier.SexMale {
		age = 22
	}
	ref := referenceDate()
	adult := p.birth.AddDate(age, 0, 0)
	status, from := "未婚", p.birth.AddDate(0, 0, 1)
	if !adult.After(ref) {
		status, from = g.v.maritalStatuses.pick(r), adult
		if earliest := time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC); from.Before(earliest) {
			from = earliest
		}
	}
	office := p.home.city + p.home.name + "民政局婚姻登记处"
	row := []any{
		int64(k + 1),
		p.citizenID,
		p.name,
		status,
		dateBetween(r, from, ref),
		office,
		updatedAt(r),
	}
	if kind, ok := g.civilDefects[k]; ok {
		return row, g.civilDefect(kind, k, p, row), nil
	}
	return row, Defect{}, nil
}
