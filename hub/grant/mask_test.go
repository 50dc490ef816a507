package grant

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestMask(t *testing.T) {
	cases := []struct {
		fn   func(string) string
		in   string
		want string
	}{
		{MaskCitizenID, "23060219900307001X", "230602***********X"},
		{MaskCitizenID, "230602900307001", "230602********1"},
		{MaskCitizenID, "1234567", "*******"},
		{MaskName, "张三丰", "张**"},
		{MaskName, "欧阳娜娜", "欧***"},
		{MaskName, "李", "*"},
		{MaskPhone, "13812345678", "138****5678"},
		{MaskPhone, "1234567", "*******"},
		{MaskText, "黑龙江省大庆市", "黑*****市"},
		{MaskText, "abc", "***"},
		{MaskText, "", ""},
	}
	for _, c := range cases {
		if got := c.fn(c.in); got != c.want {
			t.Errorf("mask(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	for field, want := range map[string]string{"citizen_id": "230602***********X", "legal_rep_citizen_id": "230602***********X",
		"phone": "230***********001X", "name": "2*****************", "legal_rep_name": "2*****************", "address": "2****************X"} {
		if got := MaskValue(field, "23060219900307001X"); got != want {
			t.Errorf("MaskValue(%s) = %v, want %s", field, got, want)
		}
	}
	if MaskValue("x", nil) != nil || MaskValue("x", 12.5) != "***" {
		t.Error("non-text values")
	}
}

func TestFilterFields(t *testing.T) {
	rec := map[string]any{"id": "1", "name": "张三", "phone": "13812345678", "note": "n", "extra": "x"}
	d := Decision{Allowed: true, Resource: "UNC", Fields: []string{"id", "name", "phone", "gone"}, Masked: []string{"phone"}}
	got := FilterFields(rec, d)
	want := map[string]any{"id": "1", "name": "张三", "phone": "138****5678"}
	if len(got) != len(want) {
		t.Fatalf("FilterFields = %v", got)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if rec["phone"] != "13812345678" {
		t.Error("record changed")
	}
	if FilterFields(rec, Decision{Fields: []string{"id"}}) != nil {
		t.Error("denied decision yields data")
	}
	raw, err := FilterJSON(json.RawMessage(`{"id":"1","name":"王五","phone":null}`), Decision{Allowed: true, Fields: []string{"name", "phone"}, Masked: []string{"name", "phone"}})
	if err != nil || string(raw) != `{"name":"王*","phone":null}` {
		t.Errorf("FilterJSON = %s, %v", raw, err)
	}
	if _, err := FilterJSON(json.RawMessage(`[1]`), Decision{Allowed: true}); err == nil {
		t.Error("FilterJSON accepted a list")
	}
	if _, err := FilterJSON(json.RawMessage(`{}`), Decision{}); err == nil {
		t.Error("FilterJSON accepted a denial")
	}
}

// FuzzMask: every rule keeps the length in characters, keeps at most its
// head and tail, and never returns a string equal to a long enough input
// made of non-mask characters.
func FuzzMask(f *testing.F) {
	for _, s := range []string{"23060219900307001X", "张三", "13812345678", "", "a", "\xff\xfe", "****"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rules := []struct {
			fn         func(string) string
			head, tail int
		}{{MaskCitizenID, 6, 1}, {MaskName, 1, 0}, {MaskPhone, 3, 4}, {MaskText, 1, 1}}
		n := utf8.RuneCountInString(s)
		for _, r := range rules {
			out := r.fn(s)
			rs, in := []rune(out), []rune(s)
			if len(rs) != n {
				t.Fatalf("mask(%q) = %q: %d characters, want %d", s, out, len(rs), n)
			}
			kept := 0
			for i := range rs {
				if rs[i] != maskRune {
					kept++
					if rs[i] != in[i] {
						t.Fatalf("mask(%q) = %q: character %d changed", s, out, i)
					}
				}
			}
			if kept > r.head+r.tail {
				t.Fatalf("mask(%q) = %q keeps %d characters", s, out, kept)
			}
			if n > 0 && !strings.ContainsRune(s, maskRune) && out == s {
				t.Fatalf("mask(%q) revealed the value", s)
			}
		}
	})
}
