package mysql

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// dateTime is a DATE, DATETIME or TIMESTAMP value as MySQL writes it: wall
// clock fields without a zone. MySQL's zero date has all date fields 0.
type dateTime struct {
	year, month, day, hour, minute, second, micro int
}

// parseDateTime reads "YYYY-MM-DD", optionally followed by " HH:MM:SS" (or
// "THH:MM:SS") and up to six fraction digits. It accepts MySQL's zero date
// and rejects every other impossible date.
func parseDateTime(b []byte) (dateTime, error) {
	var dt dateTime
	bad := func() (dateTime, error) { return dateTime{}, fmt.Errorf("%q is not a date or date-time", b) }
	if len(b) < 10 || b[4] != '-' || b[7] != '-' {
		return bad()
	}
	var ok bool
	if dt.year, ok = digits(b[0:4]); !ok {
		return bad()
	}
	if dt.month, ok = digits(b[5:7]); !ok {
		return bad()
	}
	if dt.day, ok = digits(b[8:10]); !ok {
		return bad()
	}
	rest := b[10:]
	if len(rest) > 0 {
		if len(rest) < 9 || (rest[0] != ' ' && rest[0] != 'T') || rest[3] != ':' || rest[6] != ':' {
			return bad()
		}
		if dt.hour, ok = digits(rest[1:3]); !ok {
			return bad()
		}
		if dt.minute, ok = digits(rest[4:6]); !ok {
			return bad()
		}
		if dt.second, ok = digits(rest[7:9]); !ok {
			return bad()
		}
		frac := rest[9:]
		if len(frac) > 0 {
			if frac[0] != '.' || len(frac) < 2 || len(frac) > 7 {
				return bad()
			}
			if dt.micro, ok = digits(frac[1:]); !ok {
				return bad()
			}
			for i := len(frac) - 1; i < 6; i++ {
				dt.micro *= 10
			}
		}
	}
	if dt.isZero() {
		if dt.hour != 0 || dt.minute != 0 || dt.second != 0 || dt.micro != 0 {
			return bad()
		}
		return dt, nil
	}
	if dt.month < 1 || dt.month > 12 || dt.day < 1 || dt.day > daysIn(dt.year, dt.month) ||
		dt.hour > 23 || dt.minute > 59 || dt.second > 59 {
		return bad()
	}
	return dt, nil
}

// digits parses a run of ASCII digits.
func digits(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, len(b) > 0
}

func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// isZero reports MySQL's zero date 0000-00-00.
func (d dateTime) isZero() bool { return d.year == 0 && d.month == 0 && d.day == 0 }

// Time is the value as a time.Time whose UTC wall clock is the source's.
func (d dateTime) Time() time.Time {
	return time.Date(d.year, time.Month(d.month), d.day, d.hour, d.minute, d.second, d.micro*1000, time.UTC)
}

// DateText renders YYYY-MM-DD.
func (d dateTime) DateText() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.year, d.month, d.day)
}

// DateTimeText renders YYYY-MM-DD HH:MM:SS.ffffff, the form MySQL compares
// correctly with DATETIME and TIMESTAMP columns.
func (d dateTime) DateTimeText() string {
	return fmt.Sprintf("%04d-%02d-%02d %02d:%02d:%02d.%06d", d.year, d.month, d.day, d.hour, d.minute, d.second, d.micro)
}

var errOverflow = errors.New("overflows int64")

// parseInt64 reads a decimal integer as MySQL writes it, without allocating.
func parseInt64(b []byte) (int64, error) {
	if len(b) == 0 {
		return 0, errors.New("empty integer")
	}
	neg := false
	s := b
	if s[0] == '-' || s[0] == '+' {
		neg = s[0] == '-'
		s = s[1:]
	}
	if len(s) == 0 {
		return 0, fmt.Errorf("%q is not an integer", b)
	}
	var n uint64
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%q is not an integer", b)
		}
		if n > (math.MaxUint64-9)/10 {
			return 0, fmt.Errorf("%s %w", b, errOverflow)
		}
		n = n*10 + uint64(c-'0')
	}
	switch {
	case neg && n <= 1<<63:
		return -int64(n-1) - 1, nil
	case !neg && n <= math.MaxInt64:
		return int64(n), nil
	}
	return 0, fmt.Errorf("%s %w", b, errOverflow)
}

// bitValue reads a BIT column's big-endian bytes.
func bitValue(b []byte) (uint64, error) {
	if len(b) > 8 {
		return 0, fmt.Errorf("BIT value of %d bytes is wider than 64 bits", len(b))
	}
	var n uint64
	for _, c := range b {
		n = n<<8 | uint64(c)
	}
	return n, nil
}

// checkDecimal checks a decimal's text as MySQL writes it (optional sign,
// digits, optional fraction of at most scale digits).
func checkDecimal(b []byte, scale int) error {
	bad := func() error { return fmt.Errorf("%s is not a decimal", quoteRaw(b)) }
	s := b
	if len(s) > 0 && (s[0] == '-' || s[0] == '+') {
		s = s[1:]
	}
	intPart, frac := s, []byte(nil)
	for i, c := range s {
		if c == '.' {
			intPart, frac = s[:i], s[i+1:]
			if len(frac) == 0 {
				return bad()
			}
			break
		}
	}
	if len(intPart) == 0 {
		return bad()
	}
	for _, c := range intPart {
		if c < '0' || c > '9' {
			return bad()
		}
	}
	for _, c := range frac {
		if c < '0' || c > '9' {
			return bad()
		}
	}
	if len(frac) > scale {
		return fmt.Errorf("%s has more than %d decimals", quoteRaw(b), scale)
	}
	return nil
}

// parseBoolText reads a bool as record keys write it.
func parseBoolText(s string) (bool, error) {
	switch s {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("%q is not true or false", s)
}

// quoteRaw renders a raw value for an error message, shortened.
func quoteRaw(b []byte) string {
	const max = 64
	if len(b) > max {
		return strconv.Quote(string(b[:max])) + "…"
	}
	return strconv.Quote(string(b))
}
