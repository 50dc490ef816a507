package quality

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"time"
)

// text renders a record value (as decoded from the hub store's JSON) as text;
// ok is false for nil.
func text(v any) (s string, ok bool) {
	switch v := v.(type) {
	case nil:
		return "", false
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	case float32:
		return strconv.FormatFloat(float64(v), 'f', -1, 32), true
	case int64:
		return strconv.FormatInt(v, 10), true
	case int:
		return strconv.Itoa(v), true
	case int32:
		return strconv.FormatInt(int64(v), 10), true
	case uint64:
		return strconv.FormatUint(v, 10), true
	case bool:
		return strconv.FormatBool(v), true
	case []byte:
		return string(v), true
	default:
		return fmt.Sprint(v), true
	}
}

// number returns a record value as an exact rational, or a reason it is not a
// number.
func number(v any) (*big.Rat, string, string) {
	switch v := v.(type) {
	case int64:
		return new(big.Rat).SetInt64(v), "", ""
	case int:
		return new(big.Rat).SetInt64(int64(v)), "", ""
	case int32:
		return new(big.Rat).SetInt64(int64(v)), "", ""
	case uint64:
		return new(big.Rat).SetUint64(v), "", ""
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, "is not a finite number", "不是有限数值"
		}
		// The shortest decimal that reads back as v: 0.1 is 0.1, not its binary expansion.
		return parseDecimal(strconv.FormatFloat(v, 'g', -1, 64)), "", ""
	case bool:
		return nil, "is a boolean, not a number", "是布尔值，不是数值"
	}
	s, _ := text(v)
	if r := parseDecimal(s); r != nil {
		return r, "", ""
	}
	return nil, "is not a decimal number", "不是有效的数值"
}

// parseDecimal reads [+-]digits[.digits][e[+-]digits] (a leading or trailing
// point allowed, as in ".5" and "5."), at most maxDecimalLength characters with
// an exponent of at most maxExponent; nil if s is not such a number.
func parseDecimal(s string) *big.Rat {
	if len(s) == 0 || len(s) > maxDecimalLength {
		return nil
	}
	i := 0
	if s[i] == '+' || s[i] == '-' {
		i++
	}
	digits := 0
	for ; i < len(s) && isDigit(s[i]); i++ {
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for ; i < len(s) && isDigit(s[i]); i++ {
			digits++
		}
	}
	if digits == 0 {
		return nil
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		start := i
		for ; i < len(s) && isDigit(s[i]); i++ {
		}
		if i == start {
			return nil
		}
		e, err := strconv.Atoi(s[start:i])
		if err != nil || e > maxExponent {
			return nil
		}
	}
	if i != len(s) {
		return nil
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return nil
	}
	return r
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// dateOf reads the calendar date at the start of a date ("2006-01-02") or
// timestamp ("2006-01-02T15:04:05.000000", or with a space) value, or an
// eight-digit YYYYMMDD; it returns it as YYYY-MM-DD.
func dateOf(s string) (string, bool) {
	switch {
	case len(s) == 8:
		t, err := time.Parse("20060102", s)
		if err != nil {
			return "", false
		}
		return t.Format(time.DateOnly), true
	case len(s) == 10, len(s) > 10 && (s[10] == 'T' || s[10] == ' '):
		if _, err := time.Parse(time.DateOnly, s[:10]); err != nil {
			return "", false
		}
		return s[:10], true
	}
	return "", false
}
