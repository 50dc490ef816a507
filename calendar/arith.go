package calendar

import (
	"fmt"
	"slices"
	"time"
)

// MaxSpanDays bounds the calendar days AddWorkdays and WorkdaysBetween walk
// (about 100 years); longer spans are refused as input errors.
const MaxSpanDays = 36525

// AddWorkdays returns the date of the n-th working day after start: start's
// own date never counts, whether or not it is a working day, so the first
// working day is the first working day strictly after start. This is how
// "within n working days" (n个工作日内) is counted: a request received on a
// Friday before a holiday with n = 2 is due on the second working day after the
// holiday. The deadline is the end of the returned date. The result is
// midnight in start's location; n = 0 returns start's date.
//
// If a day walked lies in a year the calendar does not cover, the result is
// still computed (weekends as the only rest days there) and returned together
// with a *NotCoveredError (errors.Is(err, ErrNotCovered)). Any other error
// (n < 0, span too long) comes with the zero time.
func (c *Calendar) AddWorkdays(start time.Time, n int) (time.Time, error) {
	if n < 0 {
		return time.Time{}, fmt.Errorf("add working days: n = %d: must not be negative", n)
	}
	d := dayOf(start)
	first := d
	var uncovered []int
	for left := n; left > 0; {
		d++
		if d-first > MaxSpanDays {
			return time.Time{}, fmt.Errorf("add working days: %d working days after %s span more than %d days", n, first, MaxSpanDays)
		}
		work, covered := c.workday(d)
		if !covered {
			uncovered = addYear(uncovered, d.year())
		}
		if work {
			left--
		}
	}
	return d.in(start.Location()), c.notCovered(uncovered)
}

// WorkdaysBetween counts the working days after a's date up to and including
// b's date (each in its own location), so that
// WorkdaysBetween(s, AddWorkdays(s, n)) == n. If b's date is before a's the
// count is negative: -WorkdaysBetween(b, a). Uncovered years are handled as in
// AddWorkdays: the count is returned with a *NotCoveredError.
func (c *Calendar) WorkdaysBetween(a, b time.Time) (int, error) {
	from, to := dayOf(a), dayOf(b)
	sign := 1
	if to < from {
		from, to, sign = to, from, -1
	}
	if to-from > MaxSpanDays {
		return 0, fmt.Errorf("count working days: %s to %s spans more than %d days", from, to, MaxSpanDays)
	}
	var uncovered []int
	n := 0
	for d := from + 1; d <= to; d++ {
		work, covered := c.workday(d)
		if !covered {
			uncovered = addYear(uncovered, d.year())
		}
		if work {
			n++
		}
	}
	return sign * n, c.notCovered(uncovered)
}

// addYear appends y to the ascending list ys unless it is there.
func addYear(ys []int, y int) []int {
	if i, found := slices.BinarySearch(ys, y); !found {
		ys = slices.Insert(ys, i, y)
	}
	return ys
}

// notCovered returns a *NotCoveredError for years, or nil if there are none.
func (c *Calendar) notCovered(years []int) error {
	if len(years) == 0 {
		return nil
	}
	return &NotCoveredError{Source: c.source, Years: years}
}
