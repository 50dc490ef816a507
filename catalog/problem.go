package catalog

import (
	"cmp"
	"fmt"
	"slices"
)

// Problem is one thing wrong in a catalog directory. Load returns every
// problem it found joined into one error (errors.Join); errors.As finds them.
type Problem struct {
	File string // relative to the catalog directory, e.g. "resources/population.yaml"
	Line int    // 1-based; 0 when the problem concerns the file as a whole
	Key  string // the key path, e.g. "fields[2].type"; empty for syntax errors
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

// problems collects the problems of a whole catalog.
type problems struct {
	list []*Problem
}

func (ps *problems) add(file string, line int, key, format string, args ...any) {
	ps.list = append(ps.list, &Problem{File: file, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)})
}

// count is the number of problems found so far; callers compare counts to see
// whether a step added any.
func (ps *problems) count() int { return len(ps.list) }

// errs returns the problems in file then line order (stable for equal places).
func (ps *problems) errs() []error {
	sorted := slices.Clone(ps.list)
	slices.SortStableFunc(sorted, func(a, b *Problem) int {
		return cmp.Or(cmp.Compare(fileRank(a.File), fileRank(b.File)), cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line))
	})
	out := make([]error, len(sorted))
	for i, p := range sorted {
		out[i] = p
	}
	return out
}

// fileRank puts the directory itself and departments.yaml before the code
// lists and resources, and subjects.yaml, which refers to them, last.
func fileRank(file string) int {
	switch file {
	case ".":
		return 0
	case departmentsFile:
		return 1
	case subjectsFile:
		return 3
	}
	return 2
}
