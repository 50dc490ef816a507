package quality

import "fmt"

// Problem is one thing wrong in a rule file or a rule. Parse, Load and Compile
// return every problem found joined into one error (errors.Join); errors.As
// finds them.
type Problem struct {
	File string // the rule file; empty for rules written in Go
	Line int    // 1-based; 0 when unknown
	Key  string // key path, e.g. "rules[3].max"; empty for syntax errors
	Msg  string
}

// Error renders the problem as "file:line: key: problem".
func (p *Problem) Error() string {
	loc := p.File
	if p.Line > 0 {
		loc = fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	switch {
	case loc == "":
		return p.Key + ": " + p.Msg
	case p.Key == "":
		return loc + ": " + p.Msg
	}
	return loc + ": " + p.Key + ": " + p.Msg
}
