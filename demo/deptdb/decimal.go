package deptdb

import (
	"errors"
	"strconv"
	"strings"
)

// errOutOfRange marks a value that does not fit its column.
var errOutOfRange = errors.New("out of range")

// errBadValue marks a value that is not a value of the column's type.
var errBadValue = errors.New("incorrect value")

// errTooLong marks text or bytes longer than the column.
var errTooLong = errors.New("data too long")

// maxDecimalExponent bounds the exponent accepted in decimal text, so that "1e999999999" is
// rejected instead of allocating a billion digits. DECIMAL has at most 65 digits.
const maxDecimalExponent = 200

// normDecimal renders a number given as text ("12.3", "-1.5e2", " 7 ") as a DECIMAL(precision,
// scale) value with exactly scale decimals, rounding half away from zero as MySQL does. It
// fails with errBadValue for text that is not a number and errOutOfRange when the integer part
// has more than precision-scale digits.
func normDecimal(s string, precision, scale int) (string, error) {
	s = strings.TrimSpace(s)
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	mant, expPart, hasExp := strings.Cut(strings.ToLower(s), "e")
	intPart, fracPart, _ := strings.Cut(mant, ".")
	if intPart == "" && fracPart == "" || !allDigits(intPart) || !allDigits(fracPart) {
		return "", errBadValue
	}
	exp := 0
	if hasExp {
		e, err := strconv.Atoi(expPart)
		if err != nil || expPart == "" || expPart[0] == ' ' {
			return "", errBadValue
		}
		if e > maxDecimalExponent || e < -maxDecimalExponent {
			if e > 0 && strings.Trim(intPart+fracPart, "0") != "" {
				return "", errOutOfRange
			}
			e = 0
			intPart, fracPart = "0", ""
		}
		exp = e
	}
	digits := intPart + fracPart
	point := len(intPart) + exp // position of the decimal point within digits
	switch {
	case point < 0:
		digits = strings.Repeat("0", -point) + digits
		point = 0
	case point > len(digits):
		digits += strings.Repeat("0", point-len(digits))
	}
	ip, fp := digits[:point], digits[point:]
	// Round fp to scale digits, half away from zero.
	roundUp := len(fp) > scale && fp[scale] >= '5'
	if len(fp) > scale {
		fp = fp[:scale]
	} else {
		fp += strings.Repeat("0", scale-len(fp))
	}
	all := []byte(ip + fp)
	if roundUp {
		k := len(all) - 1
		for ; k >= 0; k-- {
			if all[k] == '9' {
				all[k] = '0'
				continue
			}
			all[k]++
			break
		}
		if k < 0 {
			all = append([]byte{'1'}, all...)
		}
	}
	ip, fp = string(all[:len(all)-scale]), string(all[len(all)-scale:])
	ip = strings.TrimLeft(ip, "0")
	if len(ip) > precision-scale {
		return "", errOutOfRange
	}
	if ip == "" {
		ip = "0"
	}
	out := ip
	if scale > 0 {
		out += "." + fp
	}
	if neg && strings.Trim(ip+fp, "0") != "" {
		out = "-" + out
	}
	return out, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// decimalCollation is the SQLite collation of DECIMAL columns: it orders deptdb's decimal text
// by value, so comparisons, ORDER BY, MIN and MAX and indexes on DECIMAL columns agree with
// MySQL. Text that is not a plain decimal sorts after all numbers, by bytes.
const decimalCollation = "DECIMAL"

// compareDecimal compares two decimal strings ("-12.30") by value.
func compareDecimal(a, b string) int {
	na, ia, fa, oka := splitDecimal(a)
	nb, ib, fb, okb := splitDecimal(b)
	switch {
	case !oka && !okb:
		return strings.Compare(a, b)
	case !oka:
		return 1
	case !okb:
		return -1
	}
	if na != nb {
		if na {
			return -1
		}
		return 1
	}
	c := compareMagnitude(ia, fa, ib, fb)
	if na {
		return -c
	}
	return c
}

// splitDecimal splits "-012.340" into negative, integer digits without leading zeros and
// fraction digits without trailing zeros; zero is never negative.
func splitDecimal(s string) (neg bool, ip, fp string, ok bool) {
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	ip, fp, _ = strings.Cut(s, ".")
	if ip == "" && fp == "" || !allDigits(ip) || !allDigits(fp) {
		return false, "", "", false
	}
	ip = strings.TrimLeft(ip, "0")
	fp = strings.TrimRight(fp, "0")
	if ip == "" && fp == "" {
		neg = false
	}
	return neg, ip, fp, true
}

func compareMagnitude(ia, fa, ib, fb string) int {
	if len(ia) != len(ib) {
		if len(ia) < len(ib) {
			return -1
		}
		return 1
	}
	if c := strings.Compare(ia, ib); c != 0 {
		return c
	}
	return strings.Compare(fa, fb) // no trailing zeros: byte order is value order
}
