package identifier

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Generators for tests and demo data. They draw only from r, so a given
// *rand.Rand state always yields the same identifiers.

// NewCitizenID returns a random valid citizen ID for the given region, birth
// date and sex. An empty region picks a random plausible one, a zero birth a
// random date from 1930 to 2010, and sex 0 a random sex; otherwise region must
// be valid (see ValidRegion), birth from 1900 to 9999 and sex SexMale or SexFemale.
func NewCitizenID(r *rand.Rand, region string, birth time.Time, sex int) (string, error) {
	if region == "" {
		region = RandomRegion(r)
	}
	if birth.IsZero() {
		start := time.Date(1930, 1, 1, 0, 0, 0, 0, time.UTC)
		days := int(time.Date(2010, 12, 31, 0, 0, 0, 0, time.UTC).Sub(start).Hours() / 24)
		birth = start.AddDate(0, 0, r.IntN(days+1))
	}
	switch sex {
	case 0:
		sex = SexMale + r.IntN(2)
	case SexMale, SexFemale:
	default:
		return "", citizenErr(CodeSequence, "sex", 17,
			fmt.Sprintf("sex %d is neither %d (male) nor %d (female)", sex, SexMale, SexFemale),
			fmt.Sprintf("性别代码%d既不是%d（男）也不是%d（女）", sex, SexMale, SexFemale))
	}
	// Odd sequence numbers 1..999 for men, even 2..998 for women.
	seq := 2 * (1 + r.IntN(499))
	if sex == SexMale {
		seq = 2*r.IntN(500) + 1
	}
	return FormatCitizenID(region, birth, seq)
}

// GenerateCitizenID is NewCitizenID for arguments the caller controls; it
// panics if they are invalid (as regexp.MustCompile does).
func GenerateCitizenID(r *rand.Rand, region string, birth time.Time, sex int) string {
	id, err := NewCitizenID(r, region, birth, sex)
	if err != nil {
		panic(fmt.Sprintf("identifier.GenerateCitizenID: %v", err))
	}
	return id
}

// usccKind is an authority/type pair the generator draws, with its weight in per cent.
type usccKind struct {
	prefix string
	weight int
}

// usccKinds returns the pairs the generator draws from (most codes in a city's
// registry are enterprises and individual businesses); weights sum to 100.
func usccKinds() [8]usccKind {
	return [...]usccKind{
		{"91", 60}, // 工商 企业
		{"92", 20}, // 工商 个体工商户
		{"93", 5},  // 工商 农民专业合作社
		{"12", 5},  // 机构编制 事业单位
		{"11", 3},  // 机构编制 机关
		{"52", 4},  // 民政 民办非企业单位
		{"51", 2},  // 民政 社会团体
		{"53", 1},  // 民政 基金会
	}
}

// NewUSCC returns a random valid USCC registered in region (empty = random;
// otherwise a valid region or 100000). Roughly half the organisation code
// bodies have the post-2015 "MA" form, the rest eight digits.
func NewUSCC(r *rand.Rand, region string) (string, error) {
	if region == "" {
		region = RandomRegion(r)
	}
	pick := r.IntN(100)
	var authority, typ byte
	for _, k := range usccKinds() {
		authority, typ = k.prefix[0], k.prefix[1]
		if pick -= k.weight; pick < 0 {
			break
		}
	}
	var body [OrgCodeLength - 1]byte
	if r.IntN(2) == 0 {
		body[0], body[1] = 'M', 'A'
		for i := 2; i < len(body); i++ {
			body[i] = USCCAlphabet[r.IntN(len(USCCAlphabet))]
		}
	} else {
		for i := range body {
			body[i] = byte('0' + r.IntN(10))
		}
	}
	return FormatUSCC(authority, typ, region, string(body[:]))
}

// GenerateUSCC is NewUSCC for arguments the caller controls; it panics if
// region is invalid.
func GenerateUSCC(r *rand.Rand, region string) string {
	code, err := NewUSCC(r, region)
	if err != nil {
		panic(fmt.Sprintf("identifier.GenerateUSCC: %v", err))
	}
	return code
}

// RandomRegion returns a plausible six-digit region code: a GB/T 2260 province,
// a prefecture 01-09 and a county 01-12. It is valid for ValidRegion but not
// necessarily a real county.
func RandomRegion(r *rand.Rand) string {
	provinces := Provinces()
	p := provinces[r.IntN(len(provinces))]
	return fmt.Sprintf("%s%02d%02d", p.Code, 1+r.IntN(9), 1+r.IntN(12))
}
