package merge

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNormalize(t *testing.T) {
	cases := []struct {
		name string
		in   any
		want string
	}{
		{"null", nil, ""},
		{"empty", "", ""},
		{"blank", " \t\u3000 ", ""},
		{"trim", "  张三 ", "张三"},
		{"full-width letters", "ＡＢＣ１２３", "abc123"},
		{"full-width space between CJK", "张\u3000三", "张三"},
		{"space between CJK", "黑龙江省 齐齐哈尔市  龙沙区", "黑龙江省齐齐哈尔市龙沙区"},
		{"space kept next to ASCII", "中关村 A 座", "中关村 a 座"},
		{"whitespace runs collapse", "Li \t\n  Lei", "li lei"},
		{"case fold ASCII only", "ÄBC Def", "Äbc def"},
		{"full-width parentheses", "某某公司（分公司）", "某某公司(分公司)"},
		{"date iso", "2024-03-05", "2024-03-05"},
		{"date short", "2024-3-5", "2024-03-05"},
		{"date slashes", "2024/3/5", "2024-03-05"},
		{"date dots", "2024.03.05", "2024-03-05"},
		{"date compact", "20240305", "2024-03-05"},
		{"date chinese", "2024年3月5日", "2024-03-05"},
		{"date full-width digits", "２０２４－０３－０５", "2024-03-05"},
		{"midnight timestamp", "2024-03-05T00:00:00.000000", "2024-03-05"},
		{"midnight timestamp with space", "2024-03-05 00:00:00", "2024-03-05"},
		{"timestamp not midnight stays", "2024-03-05T08:30:00.000000", "2024-03-05t08:30:00.000000"},
		{"impossible date stays", "2024-02-30", "2024-02-30"},
		{"eight digits not a date", "12345678", "12345678"},
		{"decimal trailing zero", "12.30", "12.3"},
		{"decimal number", 12.3, "12.3"},
		{"decimal json number", json.Number("12.30"), "12.3"},
		{"decimal exponent", json.Number("1.23e1"), "12.3"},
		{"decimal whole", "100.00", "100"},
		{"decimal whole number", 100.0, "100"},
		{"decimal leading zeros", "007.50", "7.5"},
		{"decimal zero", "-0.00", "0"},
		{"decimal plus", "+1.50", "1.5"},
		{"decimal negative", "-1.50", "-1.5"},
		{"integer code keeps zeros", "010010", "010010"},
		{"bool", true, "true"},
		{"list", []any{"a", 1.0}, `["a",1]`},
		{"invalid utf-8", "a\xffb", "a\uFFFDb"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Normalize(c.in); got != c.want {
				t.Errorf("Normalize(%#v) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

// fullWidth writes the printable ASCII of s in its full-width form and the
// space as the ideographic space.
func fullWidth(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == ' ':
			b.WriteRune('\u3000')
		case r > ' ' && r < 0x7F:
			b.WriteRune(r - 0x21 + 0xFF01)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"", " 张 三 ", "ＡＢＣ", "2024/3/5", "2024年3月5日", "12.30", "-0.0", "20240305", "2024-03-05T00:00:00.000000", "a\u3000b", "中 a 文"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := Normalize(s)
		if again := Normalize(n); again != n {
			t.Fatalf("not idempotent: Normalize(%q) = %q, then %q", s, n, again)
		}
		if !utf8.ValidString(n) {
			t.Fatalf("Normalize(%q) = %q is not valid UTF-8", s, n)
		}
		ascii := true
		for i := 0; i < len(s); i++ {
			if s[i] >= utf8.RuneSelf {
				ascii = false
				break
			}
		}
		if ascii {
			if fw := Normalize(fullWidth(s)); fw != n {
				t.Fatalf("full-width form of %q normalises to %q, the ASCII to %q", s, fw, n)
			}
		}
	})
}
