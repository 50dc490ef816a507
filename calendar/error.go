package calendar

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrNotCovered is matched (errors.Is) by the error returned when an answer
// depends on a year the calendar file does not cover.
var ErrNotCovered = errors.New("year not covered by the working-day calendar")

// NotCoveredError names the years an answer depended on that the calendar does
// not cover; in those years only weekends were taken as rest days.
type NotCoveredError struct {
	Source string // the calendar's file name
	Years  []int  // ascending
}

// Error implements error.
func (e *NotCoveredError) Error() string {
	ys := make([]string, len(e.Years))
	for i, y := range e.Years {
		ys[i] = strconv.Itoa(y)
	}
	return fmt.Sprintf("%s: year %s not covered: holidays and make-up working days unknown, only weekends taken as rest days",
		e.Source, strings.Join(ys, ", "))
}

// Is makes errors.Is(err, ErrNotCovered) true.
func (e *NotCoveredError) Is(target error) bool { return target == ErrNotCovered }

// Problem is one thing wrong in a calendar file. Parse and Load return every
// problem found joined into one error (errors.Join); errors.As finds them.
type Problem struct {
	File string // the file name given to Parse (the path for Load)
	Line int    // 1-based; 0 when the problem concerns the file as a whole
	Key  string // key path, e.g. "2026.holidays[1].to"; empty for syntax errors
	Msg  string
}

// Error renders the problem as "file:line: key: problem".
func (p *Problem) Error() string {
	loc := p.File
	if p.Line > 0 {
		loc = fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	if p.Key == "" {
		return loc + ": " + p.Msg
	}
	return loc + ": " + p.Key + ": " + p.Msg
}
