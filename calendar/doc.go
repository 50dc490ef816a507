// Package calendar is the working-day calendar (工作日历) of Tongban: public
// holidays and make-up working days (调休) kept as data, and the working-day
// arithmetic the regulations' deadlines need (e.g. an objection is decided
// "within 2 working days", 大庆 第33条 / 吉林 第46条).
//
// A calendar file is YAML, one key per year:
//
//	2026:
//	  holidays:
//	    - {from: 2026-02-15, to: 2026-02-23, name: 春节}
//	  workdays: [2026-02-14, 2026-02-28]
//
// holidays are days off (inclusive ranges, any weekday); workdays are weekend
// days that are working days. Every other Monday-Friday is a working day and
// every other Saturday and Sunday a rest day.
//
// A year that is not in the file has no known arrangement. Its weekends are
// still rest days, but the calendar never pretends to know: IsWorkday reports
// covered = false, and AddWorkdays and WorkdaysBetween return their best
// estimate together with an error for which errors.Is(err, ErrNotCovered)
// holds.
//
// Dates are calendar dates: a time.Time stands for its calendar date in its own
// location, and the clock time is ignored.
package calendar
