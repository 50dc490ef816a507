package grant

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Masking rules (脱敏). Characters are counted as runes, so Chinese names
// mask per character. A value too short for its rule is masked entirely:
// keeping "first 6 and last 1" of a 5-character string would reveal it.
//
//   - citizen ID (身份证号): keep the first 6 (the region) and the last 1
//     (the check character): 230602********001X -> 230602***********X.
//   - name (姓名): keep the first character (the surname; a compound
//     surname such as 欧阳 keeps only 欧): 张三丰 -> 张**.
//   - phone (电话/手机): keep the first 3 and the last 4: 13812345678 ->
//     138****5678.
//   - anything else: keep the first and the last character when the value
//     has at least 4, else mask all.
//
// Non-text values (numbers, booleans) are replaced by "***": their form
// would reveal them; null stays null.
const maskRune = '*'

// MaskCitizenID masks a citizen ID: first 6 and last 1 characters kept.
func MaskCitizenID(s string) string { return keep(s, 6, 1) }

// MaskName masks a person's name: the first character (surname) kept.
func MaskName(s string) string { return keep(s, 1, 0) }

// MaskPhone masks a phone number: first 3 and last 4 characters kept.
func MaskPhone(s string) string { return keep(s, 3, 4) }

// MaskText masks other text: first and last character kept from 4 on.
func MaskText(s string) string { return keep(s, 1, 1) }

// keep masks s but its first head and last tail runes; when s is not longer
// than head+tail it is masked entirely (a single-rune name included).
func keep(s string, head, tail int) string {
	r := []rune(s)
	n := len(r)
	if n == 0 {
		return ""
	}
	if n <= head+tail || (head == 1 && tail == 1 && n < 4) {
		return strings.Repeat(string(maskRune), n)
	}
	out := make([]rune, n)
	for i := range r {
		if i < head || i >= n-tail {
			out[i] = r[i]
		} else {
			out[i] = maskRune
		}
	}
	return string(out)
}

// MaskerFor returns the masking rule of a field by its name: citizen IDs
// (citizen_id, id_card, *_citizen_id, legal_rep_id…), names (name,
// *_name), phones (phone, mobile, tel, *_phone); MaskText otherwise.
func MaskerFor(field string) func(string) string {
	f := strings.ToLower(field)
	switch {
	case strings.Contains(f, "citizen_id") || strings.Contains(f, "id_card") || strings.HasSuffix(f, "_id_no") || f == "id_no":
		return MaskCitizenID
	case strings.Contains(f, "phone") || strings.Contains(f, "mobile") || f == "tel" || strings.HasSuffix(f, "_tel"):
		return MaskPhone
	case f == "name" || strings.HasSuffix(f, "_name"):
		return MaskName
	}
	return MaskText
}

// MaskValue masks the value v of field.
func MaskValue(field string, v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		return MaskerFor(field)(x)
	}
	return "***"
}

// FilterFields returns the part of record a decision lets the caller see:
// only d.Fields, those in d.Masked masked. A denied decision yields nil.
// record is not changed.
func FilterFields(record map[string]any, d Decision) map[string]any {
	if !d.Allowed {
		return nil
	}
	out := make(map[string]any, len(d.Fields))
	masked := make(map[string]bool, len(d.Masked))
	for _, f := range d.Masked {
		masked[f] = true
	}
	for _, f := range d.Fields {
		v, ok := record[f]
		if !ok {
			continue
		}
		if masked[f] {
			v = MaskValue(f, v)
		}
		out[f] = v
	}
	return out
}

// FilterJSON is FilterFields on a JSON object (a stored record's data).
func FilterJSON(raw json.RawMessage, d Decision) (json.RawMessage, error) {
	if !d.Allowed {
		return nil, fmt.Errorf("grant: filter record of %s: the decision is a denial", d.Resource)
	}
	var rec map[string]any
	if err := json.Unmarshal(raw, &rec); err != nil {
		return nil, fmt.Errorf("grant: filter record of %s: %w", d.Resource, err)
	}
	out, err := json.Marshal(FilterFields(rec, d))
	if err != nil {
		return nil, fmt.Errorf("grant: filter record of %s: %w", d.Resource, err)
	}
	return out, nil
}
