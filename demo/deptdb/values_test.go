package deptdb

import (
	"errors"
	"math/big"
	"strings"
	"testing"
)

func TestNormDecimal(t *testing.T) {
	tests := []struct {
		in               string
		precision, scale int
		want             string
		err              error
	}{
		{"12.3", 10, 2, "12.30", nil},
		{"12", 10, 2, "12.00", nil},
		{"-0.005", 10, 2, "-0.01", nil},
		{"0.004", 10, 2, "0.00", nil},
		{"-0.004", 10, 2, "0.00", nil},
		{"12.345", 10, 2, "12.35", nil},
		{"12.344999", 10, 2, "12.34", nil},
		{"99.995", 4, 2, "", errOutOfRange},
		{"99.994", 4, 2, "99.99", nil},
		{"1.5e2", 10, 2, "150.00", nil},
		{"-1.5E-2", 10, 3, "-0.015", nil},
		{" +7 ", 5, 0, "7", nil},
		{"007.10", 5, 1, "7.1", nil},
		{".5", 3, 1, "0.5", nil},
		{"5.", 3, 1, "5.0", nil},
		{"123456", 5, 0, "", errOutOfRange},
		{"1e999", 65, 0, "", errOutOfRange},
		{"0e999", 65, 2, "0.00", nil},
		{"1e-999", 65, 2, "0.00", nil},
		{"abc", 10, 2, "", errBadValue},
		{"", 10, 2, "", errBadValue},
		{"1.2.3", 10, 2, "", errBadValue},
		{"1e", 10, 2, "", errBadValue},
		{"-", 10, 2, "", errBadValue},
		{"99999999999999999999999999999999999999999999999999999999999999999", 65, 0,
			"99999999999999999999999999999999999999999999999999999999999999999", nil},
	}
	for _, tc := range tests {
		got, err := normDecimal(tc.in, tc.precision, tc.scale)
		if !errors.Is(err, tc.err) || got != tc.want {
			t.Errorf("normDecimal(%q, %d, %d) = %q, %v; want %q, %v", tc.in, tc.precision, tc.scale, got, err, tc.want, tc.err)
		}
	}
}

// FuzzNormDecimal checks normDecimal against math/big: the result has exactly scale
// decimals and differs from the input by at most half a unit of the last place.
func FuzzNormDecimal(f *testing.F) {
	for _, s := range []string{"12.345", "-0.005", "1e3", "9.995", ".5", "abc", "1e-400"} {
		f.Add(s, uint8(2))
	}
	f.Fuzz(func(t *testing.T, s string, scale uint8) {
		sc := int(scale % 31)
		got, err := normDecimal(s, 65, sc)
		if err != nil {
			return
		}
		if i := strings.IndexByte(got, '.'); (sc == 0 && i >= 0) || (sc > 0 && len(got)-i-1 != sc) {
			t.Fatalf("normDecimal(%q, 65, %d) = %q: wrong number of decimals", s, sc, got)
		}
		in, ok := new(big.Rat).SetString(strings.TrimSpace(s))
		if !ok {
			// big.Rat rejects some forms MySQL accepts ("5.", "+.5e1"); nothing to compare.
			return
		}
		out, ok := new(big.Rat).SetString(got)
		if !ok {
			t.Fatalf("normDecimal(%q) = %q is not a number", s, got)
		}
		half := new(big.Rat).SetFrac64(1, 2)
		for i := 0; i < sc; i++ {
			half.Quo(half, big.NewRat(10, 1))
		}
		diff := new(big.Rat).Sub(in, out)
		if diff.Abs(diff).Cmp(half) > 0 {
			t.Fatalf("normDecimal(%q, 65, %d) = %q: off by %s", s, sc, got, diff.FloatString(40))
		}
	})
}

func TestCompareDecimal(t *testing.T) {
	ordered := []string{"-100.5", "-12.30", "-9.99", "-0.01", "0", "0.00", "-0.00", "0.009", "1.2", "1.20", "9", "10.00", "99.9", "100", "abc"}
	for i, a := range ordered {
		for j, b := range ordered {
			got := compareDecimal(a, b)
			equal := (a == "0" || a == "0.00" || a == "-0.00") && (b == "0" || b == "0.00" || b == "-0.00") ||
				(a == "1.2" || a == "1.20") && (b == "1.2" || b == "1.20")
			switch {
			case i == j || equal:
				if got != 0 {
					t.Errorf("compareDecimal(%q, %q) = %d, want 0", a, b, got)
				}
			case i < j && got >= 0, i > j && got <= 0:
				t.Errorf("compareDecimal(%q, %q) = %d, want order %d vs %d", a, b, got, i, j)
			}
		}
	}
}

// FuzzCompareDecimal checks that the DECIMAL collation is antisymmetric and agrees with
// math/big for numbers, which SQLite needs from a collation.
func FuzzCompareDecimal(f *testing.F) {
	f.Add("12.30", "-1.5")
	f.Add("0.00", "-0")
	f.Add("abc", "1")
	f.Fuzz(func(t *testing.T, a, b string) {
		ab, ba := compareDecimal(a, b), compareDecimal(b, a)
		if ab != -ba {
			t.Fatalf("compareDecimal(%q,%q) = %d but reversed %d", a, b, ab, ba)
		}
		_, _, _, oka := splitDecimal(a)
		_, _, _, okb := splitDecimal(b)
		ra, ok1 := new(big.Rat).SetString(a)
		rb, ok2 := new(big.Rat).SetString(b)
		if oka && okb && ok1 && ok2 {
			if want := ra.Cmp(rb); want != ab {
				t.Fatalf("compareDecimal(%q,%q) = %d, math/big says %d", a, b, ab, want)
			}
		}
	})
}

func TestParseDatetime(t *testing.T) {
	tests := []struct {
		in, stored string // stored "" means an error
	}{
		{"2024-01-02", "2024-01-02 00:00:00.000000"},
		{"2024-01-02 03:04:05", "2024-01-02 03:04:05.000000"},
		{"2024-01-02T03:04:05.5", "2024-01-02 03:04:05.500000"},
		{"2024-01-02 03:04:05.123456789", "2024-01-02 03:04:05.123456"},
		{"2024-1-2 3:4:5", "2024-01-02 03:04:05.000000"},
		{"2024-02-29", "2024-02-29 00:00:00.000000"},
		{"2023-02-29", ""},
		{"2024-13-01", ""},
		{"0000-00-00", ""},
		{"2024-01-02 24:00:00", ""},
		{"2024-01-02 ", ""},
		{"2024-01-02 03:04", ""},
		{"2024-01-02 03:04:05.", ""},
		{"20240102", ""},
		{"2024-01-02 03:04:05Z", ""},
		{"", ""},
	}
	for _, tc := range tests {
		d, err := parseDatetime(tc.in)
		switch {
		case tc.stored == "" && err == nil:
			t.Errorf("parseDatetime(%q) = %v, want an error", tc.in, d.storedString())
		case tc.stored != "" && err != nil:
			t.Errorf("parseDatetime(%q): %v", tc.in, err)
		case tc.stored != "" && d.storedString() != tc.stored:
			t.Errorf("parseDatetime(%q) = %q, want %q", tc.in, d.storedString(), tc.stored)
		}
	}
}

// FuzzParseDatetime checks that every accepted value prints in the stored shape and reads
// back to itself.
func FuzzParseDatetime(f *testing.F) {
	for _, s := range []string{"2024-01-02", "2024-01-02 03:04:05.123456", "2024-1-2T3:4:5.1", "9999-12-31 23:59:59.999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseDatetime(s)
		if err != nil {
			return
		}
		stored := d.storedString()
		if !isStoredDatetime(stored) || !isStoredDate(d.dateString()) {
			t.Fatalf("parseDatetime(%q) prints as %q / %q", s, stored, d.dateString())
		}
		again, err := parseDatetime(stored)
		if err != nil || again != d {
			t.Fatalf("%q → %q → %+v, %v", s, stored, again, err)
		}
	})
}

func TestToStored(t *testing.T) {
	col := func(decl string) colType {
		ct, ok := parseDecltype(decl)
		if !ok {
			t.Fatalf("bad decltype %q", decl)
		}
		return ct
	}
	tests := []struct {
		typ  string
		in   any
		want any
		err  error
	}{
		{"INTEGER BIGINT", "42", int64(42), nil},
		{"INTEGER BIGINT", 2.5, int64(3), nil},
		{"INTEGER BIGINT", number("-7"), int64(-7), nil},
		{"INTEGER BIGINT", "99999999999999999999", nil, errOutOfRange},
		{"INTEGER BIGINT", "x", nil, errBadValue},
		{"INTEGER TINYINT(1)", true, int64(1), nil},
		{"INTEGER TINYINT", int64(128), nil, errOutOfRange},
		{"INTEGER UNSIGNED TINYINT", int64(255), int64(255), nil},
		{"INTEGER UNSIGNED INT", int64(-1), nil, errOutOfRange},
		{"REAL DOUBLE", "1.5", 1.5, nil},
		{"REAL DOUBLE", int64(2), 2.0, nil},
		{"TEXT DECIMAL(5,2)", 1.005, "1.01", nil}, // the float's shortest text is 1.005
		{"TEXT DECIMAL(5,2)", number("123.456"), "123.46", nil},
		{"TEXT DECIMAL(5,2)", "1000", nil, errOutOfRange},
		{"TEXT DATE", "2024-01-02 10:00:00", "2024-01-02", nil},
		{"TEXT DATE", "2024-02-30", nil, errBadValue},
		{"TEXT DATETIME(0)", "2024-01-02 10:00:00.999", "2024-01-02 10:00:00.000000", nil},
		{"TEXT DATETIME(3)", "2024-01-02 10:00:00.123456", "2024-01-02 10:00:00.123000", nil},
		{"TEXT DATETIME(6)", "2024-01-02", "2024-01-02 00:00:00.000000", nil},
		{"TEXT TIMESTAMP(6)", "yesterday", nil, errBadValue},
		{"TEXT VARCHAR(2)", "中文", "中文", nil},
		{"TEXT VARCHAR(2)", "中文字", nil, errTooLong},
		{"TEXT VARCHAR(10)", int64(5), "5", nil},
		{"TEXT VARCHAR(10)", "\xff", nil, errBadValue},
		{"TEXT TINYTEXT", strings.Repeat("x", 256), nil, errTooLong},
		{"BLOB VARBINARY(3)", "abcd", nil, errTooLong},
		{"BLOB BINARY(3)", "a", []byte{'a', 0, 0}, nil},
		{"BLOB BLOB", "\xff", []byte{0xff}, nil},
		{"TEXT VARCHAR(3)", nil, nil, nil},
	}
	for _, tc := range tests {
		got, err := col(tc.typ).toStored(tc.in)
		if !errors.Is(err, tc.err) {
			t.Errorf("%s.toStored(%#v) error %v, want %v", tc.typ, tc.in, err, tc.err)
		}
		if tc.err != nil {
			continue
		}
		if valueText(got) != valueText(tc.want) || (got == nil) != (tc.want == nil) {
			t.Errorf("%s.toStored(%#v) = %#v, want %#v", tc.typ, tc.in, got, tc.want)
		}
	}
}

func TestDecltypeRoundTrip(t *testing.T) {
	for _, ct := range []colType{
		{name: "BIGINT"}, {name: "BIGINT", unsigned: true, notNull: true, primary: true},
		{name: "TINYINT", length: 1}, {name: "DECIMAL", length: 12, scale: 2, notNull: true},
		{name: "DATETIME", scale: 6}, {name: "TIMESTAMP"}, {name: "DATE"}, {name: "VARCHAR", length: 64},
		{name: "CHAR", length: 1}, {name: "LONGTEXT"}, {name: "BLOB"}, {name: "VARBINARY", length: 16},
		{name: "DOUBLE"}, {name: "FLOAT"}, {name: "YEAR", length: 4},
	} {
		got, ok := parseDecltype(ct.decltype())
		if !ok || got != ct {
			t.Errorf("parseDecltype(%q) = %+v, %v; want %+v", ct.decltype(), got, ok, ct)
		}
	}
	for _, bad := range []string{"", "TEXT", "INTEGER", "TEXT VARCHAR(", "TEXT FOO(1)", "TEXT BIGINT", "TEXT XX VARCHAR(3)", "TEXT VARCHAR(-1)"} {
		if got, ok := parseDecltype(bad); ok {
			t.Errorf("parseDecltype(%q) = %+v, want failure", bad, got)
		}
	}
}
