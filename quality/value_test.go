package quality

import (
	"math/big"
	"testing"
)

func TestParseDecimal(t *testing.T) {
	tests := []struct {
		in   string
		want string // the exact value as a fraction; "" = rejected
	}{
		{"0", "0/1"},
		{"+1", "1/1"},
		{"-0.5", "-1/2"},
		{".5", "1/2"},
		{"5.", "5/1"},
		{"100.10", "1001/10"},
		{"1.5e2", "150/1"},
		{"1E-2", "1/100"},
		{"12345678901234567890.12", "1234567890123456789012/100"},
		{"1e400", "1" + zeros(400) + "/1"},
		{"1e401", ""},
		{"1/2", ""},
		{"0x10", ""},
		{"", ""},
		{".", ""},
		{"-", ""},
		{"1e", ""},
		{"Inf", ""},
		{"NaN", ""},
		{" 1", ""},
		{"1 ", ""},
		{"1_000", ""},
		{"１", ""}, // full-width digit
	}
	for _, tt := range tests {
		got := parseDecimal(tt.in)
		if tt.want == "" {
			if got != nil {
				t.Errorf("parseDecimal(%q) = %v; want rejected", tt.in, got)
			}
			continue
		}
		want, ok := new(big.Rat).SetString(tt.want)
		if !ok {
			t.Fatalf("bad test value %q", tt.want)
		}
		if got == nil || got.Cmp(want) != 0 {
			t.Errorf("parseDecimal(%q) = %v; want %v", tt.in, got, want)
		}
	}
}

func zeros(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = '0'
	}
	return string(b)
}

func TestDateOf(t *testing.T) {
	tests := []struct{ in, want string }{
		{"2026-02-14", "2026-02-14"},
		{"2026-02-14T08:00:00.000000", "2026-02-14"},
		{"2026-02-14 08:00:00", "2026-02-14"},
		{"20260214", "2026-02-14"},
		{"2026-02-29", ""},
		{"2026/02/14", ""},
		{"20261314", ""},
		{"2026-02-14X", ""},
		{"", ""},
	}
	for _, tt := range tests {
		got, ok := dateOf(tt.in)
		if ok != (tt.want != "") || got != tt.want {
			t.Errorf("dateOf(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
		}
	}
}
