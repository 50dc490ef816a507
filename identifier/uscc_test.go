package identifier

import (
	"errors"
	"strings"
	"testing"
)

func TestParseUSCCKnownGood(t *testing.T) {
	tests := []struct {
		name               string
		code               string
		authName, typeName string
		region, province   string
		org                string
	}{
		{
			// The widely cited example. Organisation code M000100Y4 (GB 11714 values
			// M=22, Y=34): 22*3 + 1*5 + 34*2 = 139, 139 mod 11 = 7, 11-7 = 4 → '4'.
			// USCC check (alphabet values M=21, Y=30): 9*1+1*3+3*9+5*27+0*19+1*26+0*16+0*17
			// +21*20+0*29+0*25+0*13+1*8+0*24+0*10+30*30+4*28 = 1640; 1640 mod 31 = 28;
			// 31-28 = 3 → '3'. The published example agrees with the standard's algorithm.
			name: "cited example", code: "91350100M000100Y43",
			authName: "工商", typeName: "企业", region: "350100", province: "福建省", org: "M000100Y4",
		},
		{
			// Central-level code with region 100000. Organisation code 000013127:
			// 1*5 + 3*8 + 1*4 + 2*2 = 37, 37 mod 11 = 4, 11-4 = 7 → '7'.
			name: "national region", code: "11100000000013127D",
			authName: "机构编制", typeName: "机关", region: "100000", province: "全国", org: "000013127",
		},
		{
			name: "published enterprise code, Beijing", code: "91110000600037341L",
			authName: "工商", typeName: "企业", region: "110000", province: "北京市", org: "600037341",
		},
		{
			name: "published enterprise code, Shenzhen", code: "91440300708461136T",
			authName: "工商", typeName: "企业", region: "440300", province: "广东省", org: "708461136",
		},
		{
			name: "built: org check X, Daqing individual business", code: withUSCCChecks("92230602MA1B2C3D"),
			authName: "工商", typeName: "个体工商户", region: "230602", province: "黑龙江省", org: "MA1B2C3D" + string(oracleOrgCheck("MA1B2C3D")),
		},
		{
			name: "built: type pair not in appendix A", code: withUSCCChecks("QQ23060212345678"),
			region: "230602", province: "黑龙江省", org: "12345678" + string(oracleOrgCheck("12345678")),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseUSCC(tc.code)
			if err != nil {
				t.Fatalf("ParseUSCC(%q) = %v", tc.code, err)
			}
			want := USCC{Code: tc.code, Authority: tc.code[0], Type: tc.code[1], AuthorityName: tc.authName,
				TypeName: tc.typeName, Region: tc.region, Province: tc.province, OrgCode: tc.org, Check: tc.code[17]}
			if got != want {
				t.Errorf("ParseUSCC(%q) =\n %+v, want\n %+v", tc.code, got, want)
			}
			if o := oracleUSCCCheck(tc.code[:17]); o != tc.code[17] {
				t.Errorf("oracle USCC check of %q is %c", tc.code, o)
			}
			if o := oracleOrgCheck(tc.code[8:16]); o != tc.code[16] {
				t.Errorf("oracle org check of %q is %c", tc.code, o)
			}
			if err := ValidateOrgCode(tc.org); err != nil {
				t.Errorf("ValidateOrgCode(%q) = %v", tc.org, err)
			}
		})
	}
}

func TestValidateUSCCErrors(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		code  Code
		field string
		pos   int
	}{
		{"empty", "", CodeLength, "", 0},
		{"17 characters", "91350100M000100Y4", CodeLength, "", 0},
		{"19 characters", "91350100M000100Y431", CodeLength, "", 0},
		{"lower case", "91350100m000100Y43", CodeCharset, "", 9},
		{"letter I", "91350100I000100Y43", CodeCharset, "", 9},
		{"letter O", "9135010O0000100Y43", CodeCharset, "", 8},
		{"letter Z", "Z1350100M000100Y43", CodeCharset, "", 1},
		{"letter S", "91350100M000100S43", CodeCharset, "", 16},
		{"letter V", "91350100M000100Y4V", CodeCharset, "", 18},
		{"hyphen", "91350100-M000100Y4", CodeCharset, "", 9},
		{"Chinese character", "91350100M000100Y4中", CodeCharset, "", 18},
		{"letter in region", withUSCCChecks("9135A100M000100Y"), CodeRegion, "region", 5},
		{"province 99", withUSCCChecks("91990100M000100Y"), CodeRegion, "region", 3},
		{"region 000000", withUSCCChecks("91000000M000100Y"), CodeRegion, "region", 3},
		{"org check a letter", "91350100M000100YA3", CodeOrgCode, "org_code", 17},
		{"org check wrong digit", "91350100M000100Y53", CodeOrgCode, "org_code", 17},
		{"wrong check", "91350100M000100Y44", CodeChecksum, "check", 18},
		{"check from another code", "91350100M000100Y4L", CodeChecksum, "check", 18},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateUSCC(tc.in)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("ValidateUSCC(%q) = %v, want *Error with code %s", tc.in, err, tc.code)
			}
			if e.Kind != KindUSCC || e.Code != tc.code || e.Field != tc.field || e.Pos != tc.pos {
				t.Errorf("ValidateUSCC(%q) = {kind %s code %s field %q pos %d}, want {uscc %s %q %d}: %v",
					tc.in, e.Kind, e.Code, e.Field, e.Pos, tc.code, tc.field, tc.pos, err)
			}
			checkReasons(t, e)
		})
	}
}

func TestUSCCValue(t *testing.T) {
	for c := 0; c < 256; c++ {
		if got, want := usccValue(byte(c)), strings.IndexByte(USCCAlphabet, byte(c)); got != want {
			t.Errorf("usccValue(%q) = %d, want %d", rune(c), got, want)
		}
	}
}

func TestUSCCCheckChar(t *testing.T) {
	for _, first17 := range []string{"91350100M000100Y4", "00000000000000000", "YYYYYYYYYYYYYYYYY", "91230602MA1AXXXX0"} {
		got, err := USCCCheckChar(first17)
		if err != nil || got != oracleUSCCCheck(first17) {
			t.Errorf("USCCCheckChar(%q) = %c, %v; oracle %c", first17, got, err, oracleUSCCCheck(first17))
		}
	}
	if _, err := USCCCheckChar("91350100M000100Y"); CodeOf(err) != CodeLength {
		t.Errorf("short input: %v", err)
	}
	if _, err := USCCCheckChar("91350100M000100I4"); CodeOf(err) != CodeCharset {
		t.Errorf("I in input: %v", err)
	}
}

func TestOrgCode(t *testing.T) {
	for _, body := range []string{"M000100Y", "00001312", "60003734", "ZZZZZZZZ", "00000000", "MA1B2C3D", "12345678"} {
		got, err := OrgCodeCheckChar(body)
		if err != nil || got != oracleOrgCheck(body) {
			t.Errorf("OrgCodeCheckChar(%q) = %c, %v; oracle %c", body, got, err, oracleOrgCheck(body))
		}
	}
	// 00000000: sum 0, 11 - 0 = 11 → '0'. Body with check value 10 → 'X':
	// 00000002 has sum 4, 11-4 = 7; 00000006 has sum 12, 12 mod 11 = 1, 11-1 = 10 → 'X'.
	for body, want := range map[string]byte{"00000000": '0', "00000002": '7', "00000006": 'X'} {
		if got, _ := OrgCodeCheckChar(body); got != want {
			t.Errorf("OrgCodeCheckChar(%q) = %c, want %c", body, got, want)
		}
	}
	for _, tc := range []struct {
		in   string
		code Code
	}{
		{"M000100Y4", ""},
		{"M000100Y-4", ""},
		{"00000006X", ""},
		{"M000100Y5", CodeChecksum},
		{"M000100Y-5", CodeChecksum},
		{"M000100Y", CodeLength},
		{"M000100Y-", CodeCharset},
		{"M000100YA", CodeCharset},
		{"m000100Y4", CodeCharset},
		{"M000100Y44", CodeLength},
	} {
		if err := ValidateOrgCode(tc.in); CodeOf(err) != tc.code {
			t.Errorf("ValidateOrgCode(%q) = %v, want code %q", tc.in, err, tc.code)
		}
	}
}

func TestFormatUSCC(t *testing.T) {
	got, err := FormatUSCC('9', '1', "350100", "M000100Y")
	if err != nil || got != "91350100M000100Y43" {
		t.Errorf("FormatUSCC = %q, %v", got, err)
	}
	for _, tc := range []struct {
		auth, typ byte
		region    string
		body      string
		code      Code
	}{
		{'I', '1', "350100", "M000100Y", CodeCharset},
		{'9', 'o', "350100", "M000100Y", CodeCharset},
		{'9', '1', "990100", "M000100Y", CodeRegion},
		{'9', '1', "350100", "M000100", CodeOrgCode},
		{'9', '1', "350100", "M000100I", CodeOrgCode},
	} {
		if _, err := FormatUSCC(tc.auth, tc.typ, tc.region, tc.body); CodeOf(err) != tc.code {
			t.Errorf("FormatUSCC(%c%c %s %s) = %v, want %s", tc.auth, tc.typ, tc.region, tc.body, err, tc.code)
		}
	}
}
