package identifier

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

const propertyCount = 10000

func TestGeneratedCitizenIDsValid(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	start := date(1900, 1, 1)
	span := int(refNow().Sub(start).Hours() / 24)
	seen := make(map[string]bool, propertyCount)
	xs := 0
	for i := 0; i < propertyCount; i++ {
		region := RandomRegion(r)
		birth := start.AddDate(0, 0, r.IntN(span+1))
		sex := SexMale + r.IntN(2)
		id := GenerateCitizenID(r, region, birth, sex)
		c, err := ParseCitizenIDAt(id, refNow())
		if err != nil {
			t.Fatalf("generated %q (region %s, birth %s, sex %d) is invalid: %v", id, region, birth.Format(time.DateOnly), sex, err)
		}
		if c.Region != region || !c.Birth.Equal(birth) || c.Sex != sex || c.Normalised {
			t.Fatalf("generated %q parses as %+v, asked for region %s birth %s sex %d", id, c, region, birth.Format(time.DateOnly), sex)
		}
		if oracleCitizenCheck(id[:17]) != id[17] {
			t.Fatalf("generated %q disagrees with the oracle", id)
		}
		seen[id] = true
		if id[17] == 'X' {
			xs++
		}
	}
	// Sanity of the distribution: almost no collisions, and X near 1/11 of checks.
	if len(seen) < propertyCount*99/100 {
		t.Errorf("only %d distinct IDs out of %d", len(seen), propertyCount)
	}
	if xs < propertyCount/20 || xs > propertyCount/7 {
		t.Errorf("%d of %d IDs end in X, expected about 1/11", xs, propertyCount)
	}
}

func TestGenerateCitizenIDDefaults(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	sexes := map[int]int{}
	for i := 0; i < 1000; i++ {
		id := GenerateCitizenID(r, "", time.Time{}, 0)
		c, err := ParseCitizenIDAt(id, refNow())
		if err != nil {
			t.Fatalf("generated %q is invalid: %v", id, err)
		}
		if c.Birth.Year() < 1930 || c.Birth.Year() > 2010 {
			t.Errorf("default birth %s outside 1930-2010", c.Birth)
		}
		sexes[c.Sex]++
	}
	if sexes[SexMale] < 400 || sexes[SexFemale] < 400 {
		t.Errorf("random sex split %v", sexes)
	}
}

func TestGeneratorArgumentErrors(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, tc := range []struct {
		region string
		birth  time.Time
		sex    int
		code   Code
	}{
		{"990101", date(1980, 1, 1), SexMale, CodeRegion},
		{"23060", date(1980, 1, 1), SexMale, CodeRegion},
		{"230602", date(1899, 1, 1), SexMale, CodeBirthdate},
		{"230602", date(1980, 1, 1), 3, CodeSequence},
		{"230602", date(1980, 1, 1), -1, CodeSequence},
	} {
		if _, err := NewCitizenID(r, tc.region, tc.birth, tc.sex); CodeOf(err) != tc.code {
			t.Errorf("NewCitizenID(%q, %v, %d) = %v, want %s", tc.region, tc.birth, tc.sex, err, tc.code)
		}
	}
	if _, err := NewUSCC(r, "990101"); CodeOf(err) != CodeRegion {
		t.Errorf("NewUSCC(990101) = %v, want region error", err)
	}
	mustPanic(t, "GenerateCitizenID", func() { GenerateCitizenID(r, "990101", date(1980, 1, 1), SexMale) })
	mustPanic(t, "GenerateUSCC", func() { GenerateUSCC(r, "12") })
}

func mustPanic(t *testing.T, name string, f func()) {
	t.Helper()
	defer func() {
		if v := recover(); v == nil {
			t.Errorf("%s did not panic", name)
		} else if !strings.Contains(v.(string), name) {
			t.Errorf("%s panicked with %v, which does not name it", name, v)
		}
	}()
	f()
}

func TestGeneratedUSCCsValid(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	seen := make(map[string]bool, propertyCount)
	prefixes := map[string]int{}
	ma := 0
	for i := 0; i < propertyCount; i++ {
		region := RandomRegion(r)
		if i%100 == 0 {
			region = "100000"
		}
		code := GenerateUSCC(r, region)
		u, err := ParseUSCC(code)
		if err != nil {
			t.Fatalf("generated %q is invalid: %v", code, err)
		}
		if u.Region != region || u.TypeName == "" {
			t.Fatalf("generated %q parses as %+v, asked for region %s", code, u, region)
		}
		if oracleUSCCCheck(code[:17]) != code[17] || oracleOrgCheck(code[8:16]) != code[16] {
			t.Fatalf("generated %q disagrees with the oracle", code)
		}
		seen[code] = true
		prefixes[code[:2]]++
		if strings.HasPrefix(u.OrgCode, "MA") {
			ma++
		}
	}
	if len(seen) < propertyCount {
		t.Errorf("only %d distinct codes out of %d", len(seen), propertyCount)
	}
	if prefixes["91"] < propertyCount/2 || prefixes["92"] == 0 || prefixes["53"] == 0 {
		t.Errorf("authority/type mix %v", prefixes)
	}
	if ma < propertyCount*2/5 || ma > propertyCount*3/5 {
		t.Errorf("%d of %d org codes start with MA, want about half", ma, propertyCount)
	}
}

func TestGeneratorsDeterministic(t *testing.T) {
	gen := func(seed uint64) []string {
		r := rand.New(rand.NewPCG(seed, seed))
		var out []string
		for i := 0; i < 50; i++ {
			out = append(out, GenerateCitizenID(r, "", time.Time{}, 0), GenerateUSCC(r, ""))
		}
		return out
	}
	a, b, c := gen(42), gen(42), gen(43)
	if strings.Join(a, ",") != strings.Join(b, ",") {
		t.Error("same seed gave different identifiers")
	}
	if strings.Join(a, ",") == strings.Join(c, ",") {
		t.Error("different seeds gave the same identifiers")
	}
}

// mutations calls f with every string that differs from s in exactly one
// position, the new character drawn from allowed(position).
func mutations(s string, allowed func(i int) string, f func(pos int, m string)) {
	b := []byte(s)
	for i := range b {
		orig := b[i]
		for _, c := range []byte(allowed(i)) {
			if c == orig {
				continue
			}
			b[i] = c
			f(i+1, string(b))
		}
		b[i] = orig
	}
}

func TestCitizenIDSingleMutationsFail(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	ids := []string{"11010519491231002X", "310101194901011237"}
	for i := 0; i < 300; i++ {
		ids = append(ids, GenerateCitizenID(r, "", time.Time{}, 0))
	}
	allowed := func(i int) string {
		if i == 17 {
			return "0123456789X"
		}
		return "0123456789"
	}
	n := 0
	for _, id := range ids {
		if err := ValidateCitizenIDAt(id, refNow()); err != nil {
			t.Fatalf("base %q invalid: %v", id, err)
		}
		mutations(id, allowed, func(pos int, m string) {
			n++
			if err := ValidateCitizenIDAt(m, refNow()); err == nil {
				t.Errorf("%q (position %d of %q changed) validates", m, pos, id)
			}
		})
	}
	if want := len(ids) * (17*9 + 10); n != want {
		t.Errorf("tried %d mutations, want %d", n, want)
	}
}

func TestUSCCSingleMutationsFail(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	codes := []string{"91350100M000100Y43", "11100000000013127D"}
	for i := 0; i < 300; i++ {
		codes = append(codes, GenerateUSCC(r, ""))
	}
	n := 0
	for _, code := range codes {
		if err := ValidateUSCC(code); err != nil {
			t.Fatalf("base %q invalid: %v", code, err)
		}
		mutations(code, func(int) string { return USCCAlphabet }, func(pos int, m string) {
			n++
			if err := ValidateUSCC(m); err == nil {
				t.Errorf("%q (position %d of %q changed) validates", m, pos, code)
			}
		})
	}
	if want := len(codes) * 18 * 30; n != want {
		t.Errorf("tried %d mutations, want %d", n, want)
	}
}
