package calendar

import (
	"slices"
	"time"
)

// Calendar is a loaded working-day calendar. It is immutable and safe for
// concurrent use.
type Calendar struct {
	source   string         // file name, for messages
	years    map[int]bool   // the years the file declares
	holidays map[day]string // day off -> holiday name
	workdays map[day]bool   // make-up working days
}

// Day describes one calendar date.
type Day struct {
	Date    time.Time // midnight of the date, in the location of the time asked about
	Workday bool      // a working day (工作日)
	Covered bool      // the calendar knows the date's arrangement; false: only weekends were taken as rest days
	Holiday string    // name of the public holiday the date belongs to, e.g. "春节"; empty otherwise
	MakeUp  bool      // a weekend day that is a working day (调休上班)
}

// Source is the file name the calendar was loaded from.
func (c *Calendar) Source() string { return c.source }

// Years returns the years the calendar covers, ascending.
func (c *Calendar) Years() []int {
	ys := make([]int, 0, len(c.years))
	for y := range c.years {
		ys = append(ys, y)
	}
	slices.Sort(ys)
	return ys
}

// Day describes t's calendar date (in t's location).
func (c *Calendar) Day(t time.Time) Day {
	d := dayOf(t)
	work, covered := c.workday(d)
	name := c.holidays[d]
	return Day{
		Date:    d.in(t.Location()),
		Workday: work,
		Covered: covered,
		Holiday: name,
		MakeUp:  c.workdays[d],
	}
}

// IsWorkday reports whether t's calendar date (in t's location) is a working
// day. covered is false when the date's year is not in the calendar file; the
// answer then only knows weekends (Saturday and Sunday are rest days, every
// other day a working day) and must not be taken as certain.
func (c *Calendar) IsWorkday(t time.Time) (workday, covered bool) {
	return c.workday(dayOf(t))
}

// workday is IsWorkday on a day number. A date listed in the file is covered
// even if its year is not (a holiday block may reach into the next year).
func (c *Calendar) workday(d day) (workday, covered bool) {
	if _, off := c.holidays[d]; off {
		return false, true
	}
	if c.workdays[d] {
		return true, true
	}
	return !d.weekend(), c.years[d.year()]
}
