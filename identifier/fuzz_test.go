package identifier

import (
	"errors"
	"strings"
	"testing"
)

// knownCode reports whether c is a rejection code an *Error may carry.
func knownCode(c Code) bool {
	switch c {
	case CodeLength, CodeCharset, CodeRegion, CodeBirthdate, CodeOrgCode, CodeChecksum, CodeSequence:
		return true
	}
	return false
}

// checkRejection asserts err is a well-formed *Error of the given kind.
func checkRejection(t *testing.T, in string, err error, kind Kind) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("%q: error %v is not an *Error", in, err)
	}
	if e.Kind != kind || !knownCode(e.Code) || e.Reason == "" || e.ReasonZH == "" || e.Pos < 0 || e.Pos > len(in) {
		t.Fatalf("%q: malformed error %+v", in, e)
	}
}

func FuzzValidateCitizenID(f *testing.F) {
	for _, s := range []string{"11010519491231002X", "11010519491231002x", "310101194901011237", "110105194912310021",
		"310101490101123", "", "11010519000229002X", "１10105194912310023", "23060220240616011X"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		verr := ValidateCitizenIDAt(s, refNow())
		c, err := ParseCitizenIDAt(s, refNow())
		if CodeOf(verr) != CodeOf(err) {
			t.Fatalf("%q: Validate says %v, Parse says %v", s, verr, err)
		}
		if err != nil {
			checkRejection(t, s, err, KindCitizenID)
			return
		}
		// Valid: the canonical form is the input with x upper-cased, and it
		// round-trips through its parts.
		if c.ID != strings.ToUpper(s) || c.Normalised != (c.ID != s) {
			t.Fatalf("%q: canonical %q, normalised %v", s, c.ID, c.Normalised)
		}
		rebuilt, err := FormatCitizenID(c.Region, c.Birth, c.Sequence)
		if err != nil || rebuilt != c.ID {
			t.Fatalf("%q: rebuilt from %+v as %q, %v", s, c, rebuilt, err)
		}
		if (c.Sequence%2 == 1) != (c.Sex == SexMale) || oracleCitizenCheck(c.ID[:17]) != c.ID[17] {
			t.Fatalf("%q: inconsistent parse %+v", s, c)
		}
		if err := ValidateCitizenIDAt(c.ID, refNow()); err != nil {
			t.Fatalf("canonical %q of valid %q is invalid: %v", c.ID, s, err)
		}
	})
}

func FuzzValidateUSCC(f *testing.F) {
	for _, s := range []string{"91350100M000100Y43", "11100000000013127D", "91350100M000100Y44", "91350100m000100Y43",
		"91350100I000100Y43", "", "91990100M000100Y43", "91350100M000100Y4中"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseUSCC(s)
		if verr := ValidateUSCC(s); CodeOf(verr) != CodeOf(err) {
			t.Fatalf("%q: Validate says %v, Parse says %v", s, verr, err)
		}
		if err != nil {
			checkRejection(t, s, err, KindUSCC)
			return
		}
		rebuilt, err := FormatUSCC(u.Authority, u.Type, u.Region, u.OrgCode[:8])
		if err != nil || rebuilt != s || u.Code != s {
			t.Fatalf("%q: rebuilt from %+v as %q, %v", s, u, rebuilt, err)
		}
		if oracleUSCCCheck(s[:17]) != s[17] || oracleOrgCheck(s[8:16]) != s[16] {
			t.Fatalf("%q: accepted but the oracle disagrees", s)
		}
		if err := ValidateOrgCode(u.OrgCode); err != nil {
			t.Fatalf("%q: embedded org code %q invalid: %v", s, u.OrgCode, err)
		}
	})
}

func FuzzUpgradeCitizenID(f *testing.F) {
	for _, s := range []string{"310101490101123", "110105491231002", "230602000229011", "990101490101123",
		"31010149010112X", "11010519491231002X", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		up, err := UpgradeCitizenID(s)
		if err != nil {
			checkRejection(t, s, err, KindCitizenID)
			return
		}
		if len(up) != CitizenIDLength || up[:6]+up[8:17] != s || up[6:8] != "19" {
			t.Fatalf("UpgradeCitizenID(%q) = %q does not keep the legacy digits", s, up)
		}
		c, err := ParseCitizenIDAt(up, refNow())
		if err != nil {
			t.Fatalf("UpgradeCitizenID(%q) = %q, which is invalid: %v", s, up, err)
		}
		if c.ID != up || c.Birth.Year() < 1900 || c.Birth.Year() > 1999 {
			t.Fatalf("UpgradeCitizenID(%q) = %q parses as %+v", s, up, c)
		}
		if n, err := NormalizeCitizenID(s, refNow()); err != nil || n != up {
			t.Fatalf("NormalizeCitizenID(%q) = %q, %v; Upgrade gave %q", s, n, err, up)
		}
	})
}

func FuzzValidateOrgCode(f *testing.F) {
	for _, s := range []string{"M000100Y4", "M000100Y-4", "00000006X", "M000100Y5", "m000100Y4", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := ValidateOrgCode(s)
		if err != nil {
			checkRejection(t, s, err, KindOrgCode)
			return
		}
		plain := strings.Replace(s, "-", "", 1)
		if len(plain) != OrgCodeLength || oracleOrgCheck(plain[:8]) != plain[8] {
			t.Fatalf("%q accepted but the oracle disagrees", s)
		}
	})
}
