package identifier

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode"
)

// refNow is the fixed reference time of the table tests.
func refNow() time.Time { return time.Date(2024, 6, 15, 12, 0, 0, 0, time.UTC) }

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestParseCitizenIDKnownGood(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		id         string
		region     string
		province   string
		birth      time.Time
		seq, sex   int
		normalised bool
	}{
		{
			// The GB 11643 sample. Digits 1 1 0 1 0 5 1 9 4 9 1 2 3 1 0 0 2 times weights
			// 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2 = 7+9+0+5+0+20+2+9+24+27+7+18+30+5+0+0+4 = 167;
			// 167 mod 11 = 2, and the map 1,0,X,9,... gives X at index 2.
			name: "standard sample", in: "11010519491231002X", id: "11010519491231002X",
			region: "110105", province: "北京市", birth: date(1949, 12, 31), seq: 2, sex: SexFemale,
		},
		{
			name: "lower-case x is accepted and normalised", in: "11010519491231002x", id: "11010519491231002X",
			region: "110105", province: "北京市", birth: date(1949, 12, 31), seq: 2, sex: SexFemale, normalised: true,
		},
		{
			// Upgraded from 310101490101123: digits 3 1 0 1 0 1 1 9 4 9 0 1 0 1 1 2 3 give
			// 21+9+0+5+0+4+2+9+24+27+0+9+0+5+8+8+6 = 137; 137 mod 11 = 5 → '7'.
			name: "male, digit check", in: "310101194901011237", id: "310101194901011237",
			region: "310101", province: "上海市", birth: date(1949, 1, 1), seq: 123, sex: SexMale,
		},
		{
			name: "leap day", in: withCitizenCheck("23060220000229011"), id: withCitizenCheck("23060220000229011"),
			region: "230602", province: "黑龙江省", birth: date(2000, 2, 29), seq: 11, sex: SexMale,
		},
		{
			name: "born on the reference day", in: withCitizenCheck("82000020240615000"), id: withCitizenCheck("82000020240615000"),
			region: "820000", province: "澳门特别行政区", birth: date(2024, 6, 15), seq: 0, sex: SexFemale,
		},
		{
			name: "earliest year", in: withCitizenCheck("65010119000101999"), id: withCitizenCheck("65010119000101999"),
			region: "650101", province: "新疆维吾尔自治区", birth: date(1900, 1, 1), seq: 999, sex: SexMale,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseCitizenIDAt(tc.in, refNow())
			if err != nil {
				t.Fatalf("ParseCitizenIDAt(%q) = %v", tc.in, err)
			}
			want := CitizenID{ID: tc.id, Region: tc.region, Province: tc.province, Birth: tc.birth,
				Sequence: tc.seq, Sex: tc.sex, Check: tc.id[17], Normalised: tc.normalised}
			if got != want {
				t.Errorf("ParseCitizenIDAt(%q) =\n %+v, want\n %+v", tc.in, got, want)
			}
			if oracle := oracleCitizenCheck(tc.id[:17]); oracle != tc.id[17] {
				t.Errorf("oracle check for %q is %c", tc.id, oracle)
			}
			if err := ValidateCitizenIDAt(tc.in, refNow()); err != nil {
				t.Errorf("ValidateCitizenIDAt(%q) = %v", tc.in, err)
			}
		})
	}
}

func TestValidateCitizenIDErrors(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		code  Code
		field string
		pos   int
	}{
		{"empty", "", CodeLength, "", 0},
		{"17 digits", "11010519491231002", CodeLength, "", 0},
		{"19 characters", "11010519491231002X1", CodeLength, "", 0},
		{"legacy 15 digits", "310101490101123", CodeLength, "", 0},
		{"trailing space", "11010519491231002X ", CodeLength, "", 0},
		{"letter in body", "1101051949123100AX", CodeCharset, "", 17},
		{"Y as check", "11010519491231002Y", CodeCharset, "", 18},
		{"space inside", "110105 9491231002X", CodeCharset, "", 7},
		{"Chinese character, 18 characters", "11010519491231002中", CodeCharset, "", 18},
		{"full-width digit", "１10105194912310023", CodeCharset, "", 1},
		{"province 00", withCitizenCheck("00010519491231002"), CodeRegion, "region", 1},
		{"province 19", withCitizenCheck("19010519491231002"), CodeRegion, "region", 1},
		{"province 72", withCitizenCheck("72010519491231002"), CodeRegion, "region", 1},
		{"province 83", withCitizenCheck("83000019491231002"), CodeRegion, "region", 1},
		{"national code is not a person's region", withCitizenCheck("10000019491231002"), CodeRegion, "region", 1},
		{"month 13", withCitizenCheck("11010519491331002"), CodeBirthdate, "birth_date", 7},
		{"month 00", withCitizenCheck("11010519490031002"), CodeBirthdate, "birth_date", 7},
		{"day 00", withCitizenCheck("11010519491200002"), CodeBirthdate, "birth_date", 7},
		{"day 32", withCitizenCheck("11010519490132002"), CodeBirthdate, "birth_date", 7},
		{"April 31", withCitizenCheck("11010519490431002"), CodeBirthdate, "birth_date", 7},
		{"1900 not leap", withCitizenCheck("11010519000229002"), CodeBirthdate, "birth_date", 7},
		{"2023 not leap", withCitizenCheck("11010520230229002"), CodeBirthdate, "birth_date", 7},
		{"before 1900", withCitizenCheck("11010518991231002"), CodeBirthdate, "birth_date", 7},
		{"day after reference", withCitizenCheck("11010520240616002"), CodeBirthdate, "birth_date", 7},
		{"next year", withCitizenCheck("11010520250101002"), CodeBirthdate, "birth_date", 7},
		{"wrong check digit", "110105194912310021", CodeChecksum, "check", 18},
		{"X where a digit belongs", "31010119490101123X", CodeChecksum, "check", 18},
		{"transposed digits", "11010519491231020X", CodeChecksum, "check", 18},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateCitizenIDAt(tc.in, refNow())
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("ValidateCitizenIDAt(%q) = %v, want *Error with code %s", tc.in, err, tc.code)
			}
			if e.Kind != KindCitizenID || e.Code != tc.code || e.Field != tc.field || e.Pos != tc.pos {
				t.Errorf("ValidateCitizenIDAt(%q) = {kind %s code %s field %q pos %d}, want {citizen_id %s %q %d}: %v",
					tc.in, e.Kind, e.Code, e.Field, e.Pos, tc.code, tc.field, tc.pos, err)
			}
			checkReasons(t, e)
			if _, perr := ParseCitizenIDAt(tc.in, refNow()); CodeOf(perr) != tc.code {
				t.Errorf("ParseCitizenIDAt(%q) code %q, want %q", tc.in, CodeOf(perr), tc.code)
			}
		})
	}
}

// checkReasons asserts both explanations are present and the Chinese one is Chinese.
func checkReasons(t *testing.T, e *Error) {
	t.Helper()
	if e.Reason == "" || e.ReasonZH == "" {
		t.Errorf("error %+v lacks a reason", e)
	}
	if !strings.ContainsFunc(e.ReasonZH, func(r rune) bool { return unicode.Is(unicode.Han, r) }) {
		t.Errorf("ReasonZH %q has no Chinese", e.ReasonZH)
	}
	if !strings.Contains(e.Error(), string(e.Code)) || !strings.Contains(e.Error(), string(e.Kind)) {
		t.Errorf("Error() = %q does not name kind and code", e.Error())
	}
}

func TestValidateCitizenIDUsesWallClockForFuture(t *testing.T) {
	// A birth date in year 9999 is after any plausible now; this checks the
	// time.Now() default is wired in without asserting on the clock itself.
	if err := ValidateCitizenID(withCitizenCheck("11010599991231002")); CodeOf(err) != CodeBirthdate {
		t.Errorf("ValidateCitizenID(year 9999) = %v, want birthdate error", err)
	}
	if err := ValidateCitizenID("11010519491231002X"); err != nil {
		t.Errorf("ValidateCitizenID(sample) = %v", err)
	}
	if _, err := ParseCitizenIDAt("11010519491231002X", time.Time{}); err != nil {
		t.Errorf("ParseCitizenIDAt(zero now) = %v, want the wall clock used", err)
	}
}

func TestErrorIs(t *testing.T) {
	err := ValidateCitizenIDAt("110105194912310021", refNow())
	for _, tc := range []struct {
		target *Error
		want   bool
	}{
		{&Error{Code: CodeChecksum}, true},
		{&Error{Code: CodeChecksum, Kind: KindCitizenID}, true},
		{&Error{Code: CodeChecksum, Kind: KindCitizenID, Field: "check"}, true},
		{&Error{Code: CodeChecksum, Kind: KindUSCC}, false},
		{&Error{Code: CodeChecksum, Field: "region"}, false},
		{&Error{Code: CodeRegion}, false},
	} {
		if got := errors.Is(err, tc.target); got != tc.want {
			t.Errorf("errors.Is(%v, %+v) = %v, want %v", err, tc.target, got, tc.want)
		}
	}
	if CodeOf(errors.New("other")) != "" || CodeOf(nil) != "" {
		t.Error("CodeOf of a foreign error should be empty")
	}
}

func TestUpgradeCitizenID(t *testing.T) {
	tests := []struct {
		in   string
		want string
		code Code
	}{
		{in: "310101490101123", want: "310101194901011237"},
		{in: "110105491231002", want: "11010519491231002X"},
		{in: "230602000229011", code: CodeBirthdate}, // 1900 is not a leap year
		{in: "230602960229011", want: withCitizenCheck("23060219960229011")},
		{in: "11010519491231002X", code: CodeLength},
		{in: "31010149010112", code: CodeLength},
		{in: "", code: CodeLength},
		{in: "31010149010112X", code: CodeCharset},
		{in: "3101014901011２", code: CodeLength}, // full-width digit: 17 bytes
		{in: "990101490101123", code: CodeRegion},
		{in: "310101491301123", code: CodeBirthdate},
		{in: "310101490230123", code: CodeBirthdate},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := UpgradeCitizenID(tc.in)
			if tc.code != "" {
				if CodeOf(err) != tc.code {
					t.Fatalf("UpgradeCitizenID(%q) = %q, %v; want code %s", tc.in, got, err, tc.code)
				}
				var e *Error
				errors.As(err, &e)
				checkReasons(t, e)
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("UpgradeCitizenID(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
			if err := ValidateCitizenIDAt(got, refNow()); err != nil {
				t.Errorf("upgraded %q does not validate: %v", got, err)
			}
			n, err := NormalizeCitizenID(tc.in, refNow())
			if err != nil || n != tc.want {
				t.Errorf("NormalizeCitizenID(%q) = %q, %v; want %q", tc.in, n, err, tc.want)
			}
		})
	}
}

func TestNormalizeCitizenID(t *testing.T) {
	for in, want := range map[string]string{
		"11010519491231002x": "11010519491231002X",
		"11010519491231002X": "11010519491231002X",
		"110105491231002":    "11010519491231002X",
	} {
		if got, err := NormalizeCitizenID(in, refNow()); err != nil || got != want {
			t.Errorf("NormalizeCitizenID(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := NormalizeCitizenID("110105194912310021", refNow()); CodeOf(err) != CodeChecksum {
		t.Errorf("NormalizeCitizenID(bad check) = %v, want checksum error", err)
	}
}

func TestCitizenIDCheckChar(t *testing.T) {
	for _, first17 := range []string{"11010519491231002", "31010119490101123", "00000000000000000", "99999999999999999", "12345678901234567"} {
		got, err := CitizenIDCheckChar(first17)
		if err != nil || got != oracleCitizenCheck(first17) {
			t.Errorf("CitizenIDCheckChar(%q) = %c, %v; oracle %c", first17, got, err, oracleCitizenCheck(first17))
		}
	}
	if _, err := CitizenIDCheckChar("1101051949123100"); CodeOf(err) != CodeLength {
		t.Errorf("short input: %v", err)
	}
	if _, err := CitizenIDCheckChar("1101051949123100X"); CodeOf(err) != CodeCharset {
		t.Errorf("letter input: %v", err)
	}
}

func TestFormatCitizenID(t *testing.T) {
	got, err := FormatCitizenID("110105", time.Date(1949, 12, 31, 23, 0, 0, 0, time.UTC), 2)
	if err != nil || got != "11010519491231002X" {
		t.Errorf("FormatCitizenID = %q, %v", got, err)
	}
	// The calendar date is taken in the time's own location.
	east := time.FixedZone("CST", 8*3600)
	got, err = FormatCitizenID("110105", time.Date(1950, 1, 1, 1, 0, 0, 0, east), 2)
	if err != nil || got[6:14] != "19500101" {
		t.Errorf("FormatCitizenID(CST) = %q, %v", got, err)
	}
	for _, tc := range []struct {
		region string
		birth  time.Time
		seq    int
		code   Code
	}{
		{"990105", date(1949, 1, 1), 1, CodeRegion},
		{"11010", date(1949, 1, 1), 1, CodeRegion},
		{"11010a", date(1949, 1, 1), 1, CodeRegion},
		{"110105", date(1899, 12, 31), 1, CodeBirthdate},
		{"110105", time.Time{}, 1, CodeBirthdate},
		{"110105", date(1949, 1, 1), -1, CodeSequence},
		{"110105", date(1949, 1, 1), 1000, CodeSequence},
	} {
		if _, err := FormatCitizenID(tc.region, tc.birth, tc.seq); CodeOf(err) != tc.code {
			t.Errorf("FormatCitizenID(%q, %v, %d) = %v, want code %s", tc.region, tc.birth, tc.seq, err, tc.code)
		}
	}
}

func TestProvinces(t *testing.T) {
	ps := Provinces()
	want := "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82"
	codes := make([]string, len(ps))
	for i, p := range ps {
		codes[i] = p.Code
		if name, ok := ProvinceName(p.Code); !ok || name != p.Name || name == "" {
			t.Errorf("ProvinceName(%q) = %q, %v; want %q", p.Code, name, ok, p.Name)
		}
	}
	if got := strings.Join(codes, " "); got != want {
		t.Errorf("province codes = %s\nwant %s", got, want)
	}
	for _, bad := range []string{"", "1", "10", "16", "24", "83", "99", "1a", "231"} {
		if name, ok := ProvinceName(bad); ok {
			t.Errorf("ProvinceName(%q) = %q, true", bad, name)
		}
	}
	for n := 0; n < 100; n++ {
		code := string([]byte{byte('0' + n/10), byte('0' + n%10)})
		_, listed := ProvinceName(code)
		if isProvince(code) != strings.Contains(want, code) || listed != isProvince(code) {
			t.Errorf("code %s: mask says %v, list says %v", code, isProvince(code), listed)
		}
	}
	if n, _ := ProvinceName("23"); n != "黑龙江省" {
		t.Errorf("ProvinceName(23) = %q", n)
	}
	for code, want := range map[string]bool{"230602": true, "820000": true, "100000": false, "23060": false, "2306021": false, "23060x": false} {
		if got := ValidRegion(code); got != want {
			t.Errorf("ValidRegion(%q) = %v, want %v", code, got, want)
		}
	}
}
