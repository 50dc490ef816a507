package quality

import (
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/tongban/tongban/identifier"
)

// The rule kinds.
const (
	KindRequired       = "required"         // value present, not null, not blank
	KindLength         = "length"           // Min/Max characters (runes, not bytes)
	KindPattern        = "pattern"          // Pattern (Go regexp) matches the whole value
	KindCodeList       = "code_list"        // value is one of Codes, or of the list named List
	KindRange          = "range"            // Min/Max decimal numbers, compared exactly
	KindDateRange      = "date_range"       // Min/Max dates YYYY-MM-DD or "today"
	KindCitizenID      = "citizen_id"       // GB 11643 citizen ID; a 15-digit legacy ID is fixed by upgrading; optional region list (Codes or List)
	KindUSCC           = "uscc"             // GB 32100 unified social credit code
	KindCitizenIDBirth = "citizen_id_birth" // birth date in the citizen ID in Field equals the date in field With
	KindCitizenIDSex   = "citizen_id_sex"   // sex in the citizen ID in Field equals the GB/T 2261.1 code in field With
)

// Kinds lists every rule kind.
func Kinds() []string {
	return []string{KindRequired, KindLength, KindPattern, KindCodeList, KindRange, KindDateRange,
		KindCitizenID, KindUSCC, KindCitizenIDBirth, KindCitizenIDSex}
}

// Today is the Min/Max of a date_range rule that means the check's reference date.
const Today = "today"

// Limits on rule parameters.
const (
	MaxPatternLength = 1000 // characters of a pattern
	maxDecimalLength = 200  // characters of a decimal (rule bound or value)
	maxExponent      = 400  // largest |exponent| of a decimal in e-notation
)

var fieldName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

// Rule is one declared check on one field. Which parameters a kind uses is
// given with the Kind constants; a parameter a kind does not use is an error.
// Compile validates rules and prepares them; rules from Parse and Load are
// compiled already.
type Rule struct {
	Kind    string   // one of the Kind constants
	Field   string   // the field checked
	Min     string   // length: characters; range: decimal; date_range: date or "today"
	Max     string   // as Min
	Pattern string   // pattern: Go regexp (RE2), anchored to the whole value
	Codes   []string // code_list: the codes; citizen_id: the allowed GB/T 2260 region codes (optional)
	List    string   // code_list, citizen_id: name of the list; its codes are taken from CodeList when Codes is empty
	With    string   // citizen_id_birth, citizen_id_sex: the other field
	Line    int      // line of the rule in its file; 0 when not loaded from a file

	c *compiled // nil until compiled
}

// compiled is the prepared form of a rule.
type compiled struct {
	minLen, maxLen     int // -1: no bound
	re                 *regexp.Regexp
	codes              map[string]bool // code_list: the codes; citizen_id: the regions, nil when not restricted
	minNum, maxNum     *big.Rat
	minDate, maxDate   string // YYYY-MM-DD; "" no bound
	minToday, maxToday bool
}

// keyError is a problem with one parameter of a rule.
type keyError struct {
	key, msg string
}

func (e *keyError) Error() string { return e.key + ": " + e.msg }

func keyErr(key, format string, args ...any) error {
	return &keyError{key: key, msg: fmt.Sprintf(format, args...)}
}

// Compile validates rules and returns compiled copies (the input is not
// changed). Every problem is a *Problem keyed "rules[i].key", joined into one
// error. Two rules of the same kind on the same field (and With) are refused.
func Compile(rules []Rule) ([]Rule, error) {
	return compileAll("", rules, nil)
}

// compileAll is Compile for the rules of file; lines[i] maps the keys of
// rules[i] to their lines (nil when not from a file).
func compileAll(file string, rules []Rule, lines []map[string]int) ([]Rule, error) {
	out := make([]Rule, len(rules))
	var errs []error
	seen := map[[3]string]int{}
	for i, r := range rules {
		out[i] = r
		var keyLines map[string]int
		if i < len(lines) {
			keyLines = lines[i]
		}
		c, rerrs := compile(r)
		for _, err := range rerrs {
			errs = append(errs, ruleProblem(file, i, r.Line, keyLines, err))
		}
		if len(rerrs) == 0 {
			out[i].c = c
		}
		k := [3]string{r.Kind, r.Field, r.With}
		if j, dup := seen[k]; dup {
			errs = append(errs, ruleProblem(file, i, r.Line, nil, fmt.Errorf("same %s rule on %q as rules[%d]", r.Kind, r.Field, j)))
		}
		seen[k] = i
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// ruleProblem turns a compile error of rules[i] into a Problem; lines maps a
// parameter key to its line in the file.
func ruleProblem(file string, i, line int, lines map[string]int, err error) *Problem {
	key := fmt.Sprintf("rules[%d]", i)
	msg := err.Error()
	var ke *keyError
	if errors.As(err, &ke) {
		key += "." + ke.key
		msg = ke.msg
		if l, ok := lines[ke.key]; ok {
			line = l
		}
	}
	return &Problem{File: file, Line: line, Key: key, Msg: msg}
}

// compile validates one rule and prepares it.
func compile(r Rule) (*compiled, []error) {
	var errs []error
	bad := func(key, format string, args ...any) { errs = append(errs, keyErr(key, format, args...)) }
	if !fieldName.MatchString(r.Field) {
		bad("field", "%q is not a field name (lower-case letters, digits and _, starting with a letter)", r.Field)
	}
	uses := map[string]bool{}
	switch r.Kind {
	case KindRequired, KindUSCC:
	case KindCitizenID:
		uses["codes"], uses["list"] = true, true
	case KindLength, KindRange, KindDateRange:
		uses["min"], uses["max"] = true, true
		if r.Min == "" && r.Max == "" {
			bad("max", "%s needs min, max or both", r.Kind)
		}
	case KindPattern:
		uses["pattern"] = true
	case KindCodeList:
		uses["codes"], uses["list"] = true, true
	case KindCitizenIDBirth, KindCitizenIDSex:
		uses["with"] = true
	default:
		bad("kind", "unknown rule kind %q (want one of %s)", r.Kind, strings.Join(Kinds(), ", "))
		return nil, errs
	}
	for _, p := range []struct {
		key string
		set bool
	}{{"min", r.Min != ""}, {"max", r.Max != ""}, {"pattern", r.Pattern != ""},
		{"codes", len(r.Codes) > 0}, {"list", r.List != ""}, {"with", r.With != ""}} {
		if p.set && !uses[p.key] {
			bad(p.key, "not used by a %s rule", r.Kind)
		}
	}
	c := &compiled{minLen: -1, maxLen: -1}
	switch r.Kind {
	case KindLength:
		c.minLen = parseLength("min", r.Min, bad)
		c.maxLen = parseLength("max", r.Max, bad)
		if c.minLen >= 0 && c.maxLen >= 0 && c.maxLen < c.minLen {
			bad("max", "%d is less than min %d", c.maxLen, c.minLen)
		}
	case KindPattern:
		switch {
		case r.Pattern == "":
			bad("pattern", "missing")
		case len([]rune(r.Pattern)) > MaxPatternLength:
			bad("pattern", "longer than %d characters", MaxPatternLength)
		default:
			re, err := regexp.Compile(`^(?:` + r.Pattern + `)$`)
			if err != nil {
				bad("pattern", "not a valid regular expression: %v", err)
			}
			c.re = re
		}
	case KindCodeList:
		if len(r.Codes) == 0 && r.List == "" {
			bad("codes", "a code_list rule needs codes or list")
		}
		c.codes = codeSet(r, bad)
	case KindCitizenID:
		// The region list is optional; without one only the province is checked
		// (by package identifier).
		if len(r.Codes) > 0 || r.List != "" {
			c.codes = codeSet(r, bad)
			for _, code := range r.Codes {
				if !identifier.ValidRegion(code) {
					bad("codes", "%q is not a six-digit GB/T 2260 region code", clip(code))
					break
				}
			}
		}
	case KindRange:
		if r.Min != "" {
			if c.minNum = parseDecimal(r.Min); c.minNum == nil {
				bad("min", "%q is not a decimal number", r.Min)
			}
		}
		if r.Max != "" {
			if c.maxNum = parseDecimal(r.Max); c.maxNum == nil {
				bad("max", "%q is not a decimal number", r.Max)
			}
		}
		if c.minNum != nil && c.maxNum != nil && c.maxNum.Cmp(c.minNum) < 0 {
			bad("max", "%s is less than min %s", r.Max, r.Min)
		}
	case KindDateRange:
		c.minDate, c.minToday = parseBound("min", r.Min, bad)
		c.maxDate, c.maxToday = parseBound("max", r.Max, bad)
		if c.minDate != "" && c.maxDate != "" && c.maxDate < c.minDate {
			bad("max", "%s is before min %s", c.maxDate, c.minDate)
		}
	case KindCitizenIDBirth, KindCitizenIDSex:
		switch {
		case !fieldName.MatchString(r.With):
			bad("with", "%q is not a field name", r.With)
		case r.With == r.Field:
			bad("with", "must name a field other than %q", r.Field)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return c, nil
}

// codeSet builds the code set of a code_list or citizen_id rule: Codes, or
// the built-in list named List when Codes is empty. A list that resolves to no
// codes is refused, so a rule never silently rejects every value.
func codeSet(r Rule, bad func(string, string, ...any)) map[string]bool {
	codes := r.Codes
	if len(codes) == 0 && r.List != "" {
		list, ok := CodeList(r.List)
		if !ok {
			bad("list", "unknown code list %q (built in: %s)", r.List, strings.Join(CodeListNames(), ", "))
		}
		for code := range list {
			codes = append(codes, code)
		}
	}
	set := make(map[string]bool, len(codes))
	for _, code := range codes {
		if set[code] {
			bad("codes", "code %q listed twice", clip(code))
		}
		set[code] = true
	}
	return set
}

// parseLength reads a length bound; "" is no bound (-1).
func parseLength(key, s string, bad func(string, string, ...any)) int {
	if s == "" {
		return -1
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 1<<30 {
		bad(key, "%q is not a length (a whole number of characters, 0 or more)", s)
		return -1
	}
	return n
}

// parseBound reads a date_range bound: "", a date or "today".
func parseBound(key, s string, bad func(string, string, ...any)) (date string, today bool) {
	switch s {
	case "":
		return "", false
	case Today:
		return "", true
	}
	if _, err := time.Parse(time.DateOnly, s); err != nil {
		bad(key, "%q is not a date YYYY-MM-DD or %q", s, Today)
		return "", false
	}
	return s, false
}
