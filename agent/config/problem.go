package config

import (
	"errors"
	"fmt"
	"strings"
)

// Problem is one thing wrong with a configuration file.
type Problem struct {
	File string
	Line int    // 0 when the problem has no place in the file
	Key  string // dotted path, e.g. "resources[0].mode"
	Msg  string
}

func (p *Problem) Error() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
	}
	if p.Key != "" {
		b.WriteString(": ")
		b.WriteString(p.Key)
	}
	b.WriteString(": ")
	b.WriteString(p.Msg)
	return b.String()
}

// problems collects the problems of one file.
type problems struct {
	file string
	list []*Problem
}

func (ps *problems) add(line int, key, format string, a ...any) {
	ps.list = append(ps.list, &Problem{File: ps.file, Line: line, Key: key, Msg: fmt.Sprintf(format, a...)})
}

// err joins the problems into one error (nil if there are none). Each
// problem stays reachable with errors.As.
func (ps *problems) err() error {
	if len(ps.list) == 0 {
		return nil
	}
	errs := make([]error, len(ps.list))
	for i, p := range ps.list {
		errs[i] = p
	}
	return fmt.Errorf("agent config %s: %d problem(s):\n%w", ps.file, len(ps.list), errors.Join(errs...))
}

// Problems returns every *Problem in err (as joined by Load).
func Problems(err error) []*Problem {
	var out []*Problem
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		if p, ok := e.(*Problem); ok {
			out = append(out, p)
			return
		}
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				walk(x)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return out
}
