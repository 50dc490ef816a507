package merge

import (
	"encoding/json"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"
)

// Normalize returns the comparison form of a JSON-decoded value (nil, bool,
// float64, json.Number, string, or a list or object), so that trivia do not
// raise conflicts: full-width characters become half-width, whitespace is
// trimmed and collapsed and dropped between CJK characters, ASCII letters
// are lower-cased, dates in common layouts become YYYY-MM-DD and decimals
// are written canonically. null (and an absent value) is "".
// Normalize(Normalize(v)) == Normalize(v) for every v.
func Normalize(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return formatFloat(x)
	case json.Number:
		if strings.ContainsAny(string(x), "eE") {
			if f, err := x.Float64(); err == nil {
				return formatFloat(f)
			}
		}
		return normalizeString(string(x))
	case string:
		return normalizeString(x)
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return ""
		}
		return normalizeString(string(b))
	}
}

func formatFloat(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	if f == 0 {
		return "0"
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

func normalizeString(s string) string {
	s = foldText(s)
	if d, ok := normalizeDate(s); ok {
		return d
	}
	if d, ok := normalizeDecimal(s); ok {
		return d
	}
	return s
}

// foldText folds width and ASCII case and tidies whitespace.
func foldText(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	s = width.Fold.String(s)
	// Collapse whitespace runs (including the ideographic space) to one
	// space, trim, and drop a space with CJK characters on both sides.
	runes := make([]rune, 0, len(s))
	pendingSpace := false
	for _, r := range s {
		if unicode.IsSpace(r) {
			pendingSpace = true
			continue
		}
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		if pendingSpace && len(runes) > 0 && !(isCJK(runes[len(runes)-1]) && isCJK(r)) {
			runes = append(runes, ' ')
		}
		pendingSpace = false
		runes = append(runes, r)
	}
	return string(runes)
}

// isCJK reports whether r is a CJK character or CJK punctuation, between
// which Chinese text has no spaces.
func isCJK(r rune) bool {
	switch {
	case unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul, unicode.Bopomofo):
		return true
	case r >= 0x3000 && r <= 0x303F: // CJK symbols and punctuation
		return true
	case r >= 0xFF00 && r <= 0xFFEF: // remaining full-width forms
		return true
	}
	return false
}

// dateLayouts are tried on folded (lower-cased) text. (Arrays returned by
// value: no package-level state, no allocation.)
func dateLayouts() [5]string {
	return [...]string{
		"2006-1-2",
		"2006/1/2",
		"2006.1.2",
		"20060102",
		"2006年1月2日",
	}
}

// timestampLayouts denote a date when the time is midnight.
func timestampLayouts() [7]string {
	return [...]string{
		"2006-1-2t15:04:05.999999999",
		"2006-1-2t15:04:05",
		"2006-1-2 15:04:05.999999999",
		"2006-1-2 15:04:05",
		"2006/1/2 15:04:05",
		"2006-1-2t15:04:05.999999999z",
		"2006-1-2t15:04:05z",
	}
}

var looksDate = regexp.MustCompile(`^\d{4}[-/.年]?\d{1,2}`)

func normalizeDate(s string) (string, bool) {
	if len(s) < 8 || !looksDate.MatchString(s) {
		return "", false
	}
	for _, l := range dateLayouts() {
		if t, err := time.Parse(l, s); err == nil {
			return t.Format("2006-01-02"), true
		}
	}
	for _, l := range timestampLayouts() {
		if t, err := time.Parse(l, s); err == nil {
			if t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0 {
				return t.Format("2006-01-02"), true
			}
			return "", false
		}
	}
	return "", false
}

var decimalText = regexp.MustCompile(`^[+-]?\d+\.\d+$`)

// normalizeDecimal writes a decimal with a fraction canonically: no sign
// for zero or "+", no leading zeros, no trailing fraction zeros. Integers
// are left alone (they may be codes with meaningful leading zeros).
func normalizeDecimal(s string) (string, bool) {
	if !decimalText.MatchString(s) {
		return "", false
	}
	neg := false
	switch s[0] {
	case '-':
		neg, s = true, s[1:]
	case '+':
		s = s[1:]
	}
	ip, fp, _ := strings.Cut(s, ".")
	ip = strings.TrimLeft(ip, "0")
	if ip == "" {
		ip = "0"
	}
	fp = strings.TrimRight(fp, "0")
	out := ip
	if fp != "" {
		out += "." + fp
	}
	if neg && out != "0" {
		out = "-" + out
	}
	return out, true
}
