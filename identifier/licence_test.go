package identifier

import (
	"errors"
	"strings"
	"testing"
)

// knownLicenceIDs are identifiers found in public government systems (see
// the comment in licence.go): their check characters are what the
// standard's computation gives.
func knownLicenceIDs() []string {
	return []string{
		"1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F",
		"1.2.156.3005.2.11100000000013338W087.11370800MB28559184.37080001202411010001.001.3",
		"1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.002.S",
		"1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U",
		"1.2.156.3005.2.11100000000013338W009.11330105002500287C.2025052201.002.0",
	}
}

func TestParseLicenceIDKnownGood(t *testing.T) {
	for _, s := range knownLicenceIDs() {
		id, err := ParseLicenceID(s)
		if err != nil {
			t.Errorf("%s: %v", s, err)
			continue
		}
		if id.String() != s {
			t.Errorf("%s: renders as %s", s, id)
		}
		again, err := NewLicenceID(id.TypeCode, id.Issuer, id.Serial, id.Version)
		if err != nil || again != id {
			t.Errorf("%s: NewLicenceID gives %+v, %v", s, again, err)
		}
	}
	id, _ := ParseLicenceID(knownLicenceIDs()[2])
	if id.TypeCode != "11100000000013338W011" || id.Issuer != "11430000006122244L" || id.Serial != "20230000403" || id.Version != 2 ||
		id.Check != 'S' || id.Base() != "11100000000013338W011.11430000006122244L.20230000403" {
		t.Errorf("parts: %+v", id)
	}
	v1, err := id.WithVersion(1)
	if err != nil || v1.String() != knownLicenceIDs()[3] {
		t.Errorf("WithVersion(1) = %s, %v; want %s", v1, err, knownLicenceIDs()[3])
	}
}

// TestLicenceCheckCharCoverage pins what the check covers: type code,
// issuer, serial and version, without the prefix and the dots.
func TestLicenceCheckCharCoverage(t *testing.T) {
	c, err := LicenceCheckChar("11100000000013338W032", "11220000013544541J", "2430599", "001")
	if err != nil || c != 'F' {
		t.Fatalf("check = %c, %v; want F", c, err)
	}
	withPrefix := mod3736("121563005211100000000013338W03211220000013544541J2430599001")
	if withPrefix == 'F' {
		t.Fatal("the prefix-covering variant gives the same character: the example does not discriminate")
	}
	if _, err := LicenceCheckChar("a", "", "", ""); CodeOf(err) != CodeCharset {
		t.Fatalf("lower case: %v", err)
	}
}

func TestParseLicenceIDRejects(t *testing.T) {
	good := knownLicenceIDs()[0]
	tests := []struct {
		name, in string
		code     Code
		field    string
	}{
		{"empty", "", CodeStructure, "prefix"},
		{"other prefix", strings.Replace(good, "3005", "3006", 1), CodeStructure, "prefix"},
		{"wrong check", good[:len(good)-1] + "G", CodeChecksum, "check"},
		{"lower-case check", strings.Replace(knownLicenceIDs()[2], ".S", ".s", 1), CodeStructure, "check"},
		{"two check chars", good + "F", CodeStructure, "check"},
		{"four parts", "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001", CodeStructure, ""},
		{"six parts", good + ".1", CodeStructure, ""},
		{"short type code", strings.Replace(good, "W032", "W03", 1), CodeStructure, "type_code"},
		{"lower-case type", strings.Replace(good, "W032", "w032", 1), CodeStructure, "type_code"},
		{"short issuer", strings.Replace(good, "541J", "54J", 1), CodeStructure, "issuer"},
		{"issuer bad USCC check", strings.Replace(good, "541J", "541K", 1), CodeStructure, "issuer"},
		{"empty serial", strings.Replace(good, ".2430599.", "..", 1), CodeStructure, "serial"},
		{"serial too long", strings.Replace(good, "2430599", strings.Repeat("9", 33), 1), CodeLength, ""},
		{"serial with dash", strings.Replace(good, "2430599", "243-599", 1), CodeStructure, "serial"},
		{"version 000", strings.Replace(good, ".001.", ".000.", 1), CodeStructure, "version"},
		{"version 2 digits", strings.Replace(good, ".001.", ".01.", 1), CodeStructure, "version"},
		{"version letters", strings.Replace(good, ".001.", ".0A1.", 1), CodeStructure, "version"},
		{"too long", good + strings.Repeat("9", LicenceIDMaxLen), CodeLength, ""},
		{"full-width dot", strings.Replace(good, "W032.", "W032．", 1), CodeStructure, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseLicenceID(tt.in)
			var e *Error
			if !errors.As(err, &e) || e.Kind != KindLicence || e.Code != tt.code || e.Field != tt.field || e.Reason == "" || e.ReasonZH == "" {
				t.Fatalf("ParseLicenceID(%q) = %#v; want %s on field %q", tt.in, err, tt.code, tt.field)
			}
			if ValidateLicenceID(tt.in) == nil {
				t.Fatal("ValidateLicenceID accepts it")
			}
		})
	}
}

func TestNewLicenceID(t *testing.T) {
	const typ, issuer = "112306000128140287001", "112306000128140287"
	tests := []struct {
		name        string
		typ, issuer string
		serial      string
		v           int
		wantErr     string // field
	}{
		{"ok", typ, issuer, "202600000001", 1, ""},
		{"ok 999", typ, issuer, "X", 999, ""},
		{"version 0", typ, issuer, "1", 0, "version"},
		{"version 1000", typ, issuer, "1", 1000, "version"},
		{"issuer check", typ, "112306000128140288", "1", 1, "issuer"},
		{"type 20", typ[:20], issuer, "1", 1, "type_code"},
		{"serial lower", typ, issuer, "abc", 1, "serial"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := NewLicenceID(tt.typ, tt.issuer, tt.serial, tt.v)
			if tt.wantErr != "" {
				var e *Error
				if !errors.As(err, &e) || e.Field != tt.wantErr {
					t.Fatalf("err %v, want one on %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			back, err := ParseLicenceID(id.String())
			if err != nil || back != id {
				t.Fatalf("round trip %s: %+v, %v", id, back, err)
			}
			// Any single-character change of the covered part is caught.
			s := id.String()
			for i := len(LicencePrefix); i < len(s)-2; i++ {
				if s[i] == '.' {
					continue
				}
				for _, c := range []byte(LicenceAlphabet) {
					if c == s[i] {
						continue
					}
					mut := s[:i] + string(c) + s[i+1:]
					if _, err := ParseLicenceID(mut); err == nil {
						t.Fatalf("%s: the change at %d to %c is not detected (%s)", s, i, c, mut)
					}
				}
			}
		})
	}
}

// FuzzParseLicenceID: the parser never panics; it refuses with a licence
// *Error, or accepts an identifier that renders back to the input and whose
// parts rebuild it.
func FuzzParseLicenceID(f *testing.F) {
	for _, s := range knownLicenceIDs() {
		f.Add(s)
	}
	f.Add("1.2.156.3005.2.")
	f.Add("1.2.156.3005.2.....")
	f.Add("1.2.156.3005.2.112306000128140287001.112306000128140287.202600000001.001.0")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseLicenceID(s)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Kind != KindLicence || e.Reason == "" || e.ReasonZH == "" {
				t.Fatalf("%q: error %v is not a licence *Error", s, err)
			}
			return
		}
		if id.String() != s {
			t.Fatalf("%q renders as %q", s, id)
		}
		again, err := NewLicenceID(id.TypeCode, id.Issuer, id.Serial, id.Version)
		if err != nil || again != id {
			t.Fatalf("%q: rebuilt as %+v, %v", s, again, err)
		}
	})
}
