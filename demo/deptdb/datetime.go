package deptdb

import (
	"time"
)

// datetime is a MySQL DATE/DATETIME value without time zone.
type datetime struct {
	year, month, day, hour, minute, second, micro int
}

// parseDatetime accepts 'YYYY-MM-DD', 'YYYY-MM-DD HH:MM:SS' and 'YYYY-MM-DD HH:MM:SS.f…'
// (a 'T' may separate date and time; month, day and time fields may have one digit; up to 9
// fractional digits, truncated to microseconds as MariaDB does). Zero dates and impossible
// dates fail with errBadValue.
func parseDatetime(s string) (datetime, error) {
	var d datetime
	p := dtParser{s: s}
	var ok bool
	if d.year, ok = p.num(4, 4); !ok || !p.lit('-') {
		return d, errBadValue
	}
	if d.month, ok = p.num(1, 2); !ok || !p.lit('-') {
		return d, errBadValue
	}
	if d.day, ok = p.num(1, 2); !ok {
		return d, errBadValue
	}
	if !p.done() {
		if !p.lit(' ') && !p.lit('T') {
			return d, errBadValue
		}
		if d.hour, ok = p.num(1, 2); !ok || !p.lit(':') {
			return d, errBadValue
		}
		if d.minute, ok = p.num(1, 2); !ok || !p.lit(':') {
			return d, errBadValue
		}
		if d.second, ok = p.num(1, 2); !ok {
			return d, errBadValue
		}
		if p.lit('.') {
			start := p.i
			frac, ok := p.num(1, 9)
			if !ok {
				return d, errBadValue
			}
			n := p.i - start
			for ; n < 6; n++ {
				frac *= 10
			}
			for ; n > 6; n-- {
				frac /= 10
			}
			d.micro = frac
		}
		if !p.done() {
			return d, errBadValue
		}
	}
	if d.year < 1 || d.month < 1 || d.month > 12 || d.day < 1 || d.day > daysIn(d.year, d.month) ||
		d.hour > 23 || d.minute > 59 || d.second > 59 {
		return d, errBadValue
	}
	return d, nil
}

func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

type dtParser struct {
	s string
	i int
}

func (p *dtParser) done() bool { return p.i == len(p.s) }

func (p *dtParser) lit(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

// num reads between min and max decimal digits.
func (p *dtParser) num(minDigits, maxDigits int) (int, bool) {
	v, n := 0, 0
	for n < maxDigits && p.i < len(p.s) && isDigit(p.s[p.i]) {
		v = v*10 + int(p.s[p.i]-'0')
		p.i++
		n++
	}
	return v, n >= minDigits
}

// truncate keeps fsp fractional digits.
func (d datetime) truncate(fsp int) datetime {
	div := 1
	for i := fsp; i < 6; i++ {
		div *= 10
	}
	d.micro -= d.micro % div
	return d
}

// dateString is 'YYYY-MM-DD'.
func (d datetime) dateString() string {
	b := make([]byte, 0, 10)
	return string(d.appendDate(b))
}

// storedString is the canonical stored form 'YYYY-MM-DD HH:MM:SS.ffffff'.
func (d datetime) storedString() string {
	b := make([]byte, 0, 26)
	b = d.appendDate(b)
	b = append(b, ' ')
	b = append2(b, d.hour)
	b = append(b, ':')
	b = append2(b, d.minute)
	b = append(b, ':')
	b = append2(b, d.second)
	b = append(b, '.')
	m := d.micro
	var frac [6]byte
	for i := 5; i >= 0; i-- {
		frac[i] = byte('0' + m%10)
		m /= 10
	}
	return string(append(b, frac[:]...))
}

func (d datetime) appendDate(b []byte) []byte {
	y := d.year
	b = append(b, byte('0'+y/1000%10), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-')
	b = append2(b, d.month)
	b = append(b, '-')
	return append2(b, d.day)
}

func append2(b []byte, v int) []byte { return append(b, byte('0'+v/10%10), byte('0'+v%10)) }

func fromTime(t time.Time) datetime {
	return datetime{
		year: t.Year(), month: int(t.Month()), day: t.Day(),
		hour: t.Hour(), minute: t.Minute(), second: t.Second(), micro: t.Nanosecond() / 1000,
	}
}

// isStoredDatetime reports whether s has exactly the canonical stored DATETIME shape.
func isStoredDatetime(s string) bool {
	if len(s) != 26 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch i {
		case 4, 7:
			if s[i] != '-' {
				return false
			}
		case 10:
			if s[i] != ' ' {
				return false
			}
		case 13, 16:
			if s[i] != ':' {
				return false
			}
		case 19:
			if s[i] != '.' {
				return false
			}
		default:
			if !isDigit(s[i]) {
				return false
			}
		}
	}
	return true
}

// isStoredDate reports whether s has exactly the stored DATE shape.
func isStoredDate(s string) bool { return len(s) == 10 && isStoredDatetime(s+" 00:00:00.000000") }
