package calendar

import "time"

// day is a calendar date as the number of days since 1970-01-01.
type day int64

// dayOf returns t's calendar date in t's own location.
func dayOf(t time.Time) day {
	y, m, d := t.Date()
	return civil(y, int(m), d)
}

// civil converts a proleptic Gregorian date to a day number (H. Hinnant's
// days_from_civil).
func civil(y, m, d int) day {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return day(era*146097 + doe - 719468)
}

// date converts a day number back to year, month, day (civil_from_days).
func (d day) date() (y, m, dd int) {
	z := int(d) + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	dd = doy - (153*mp+2)/5 + 1
	m = mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return y, m, dd
}

// year is the calendar year of d.
func (d day) year() int {
	y, _, _ := d.date()
	return y
}

// weekend reports whether d is a Saturday or Sunday (1970-01-01 was a Thursday).
func (d day) weekend() bool {
	wd := (int64(d)%7 + 7 + 4) % 7 // 0 = Sunday
	return wd == 0 || wd == 6
}

// weekday is d's day of the week.
func (d day) weekday() time.Weekday {
	return time.Weekday((int64(d)%7 + 7 + 4) % 7)
}

// in returns d as midnight in loc.
func (d day) in(loc *time.Location) time.Time {
	y, m, dd := d.date()
	return time.Date(y, time.Month(m), dd, 0, 0, 0, 0, loc)
}

// String renders d as YYYY-MM-DD.
func (d day) String() string { return d.in(time.UTC).Format(time.DateOnly) }
