package catalog

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/tongban/tongban/quality"
)

// ruleSpec is one rule as written in a field's rules: list, before it is
// resolved and compiled.
type ruleSpec struct {
	path     string       // key path of the item, e.g. "fields[3].rules[1]"; the field's path for an implicit rule
	rule     quality.Rule // Field is filled in from the enclosing field
	ok       bool         // decoded without problems
	implicit bool         // the required rule a non-nullable field gets without asking
	fromList bool         // Codes were filled from a catalog code list
}

// ruleItemKeys are the keys of a rule written as a mapping: the quality rule
// keys except field, which is the enclosing field.
func ruleItemKeys() []string {
	return []string{"kind", "min", "max", "pattern", "codes", "list", "with"}
}

// bareKinds are the rule kinds without parameters, which may be written as a
// bare word.
func bareKinds() []string {
	return []string{quality.KindRequired, quality.KindCitizenID, quality.KindUSCC}
}

// ruleExample shows the parameters a rule kind takes, for messages.
func ruleExample(kind string) string {
	switch kind {
	case quality.KindLength:
		return "{kind: length, max: 50}"
	case quality.KindPattern:
		return "{kind: pattern, pattern: '1[3-9][0-9]{9}'}"
	case quality.KindCodeList:
		return "{kind: code_list, codes: [a, b]} or {kind: code_list, list: GB/T 2261.1}"
	case quality.KindRange:
		return "{kind: range, min: 0}"
	case quality.KindDateRange:
		return "{kind: date_range, min: 1900-01-01, max: today}"
	case quality.KindCitizenIDBirth:
		return "{kind: citizen_id_birth, with: birth_date}"
	case quality.KindCitizenIDSex:
		return "{kind: citizen_id_sex, with: sex}"
	}
	return "{kind: " + kind + "}"
}

// decodeRules reads the rules: list of the field at path (m is the field's
// mapping).
func decodeRules(d *doc, m map[string]entry, path string) []ruleSpec {
	elems, ok := d.list(m, path, "rules")
	if !ok {
		return nil
	}
	out := make([]ruleSpec, 0, len(elems))
	for i, n := range elems {
		out = append(out, decodeRule(d, indexPath(joinPath(path, "rules"), i), n))
	}
	return out
}

// decodeRule reads one item of a rules: list: a bare kind or a mapping.
func decodeRule(d *doc, path string, n *yaml.Node) ruleSpec {
	before := d.ps.count()
	s := ruleSpec{path: path, rule: quality.Rule{Line: n.Line}}
	if n.Kind == yaml.ScalarNode {
		kind := d.scalar(path, n)
		switch {
		case kind == "":
			d.add(n.Line, path, "want a rule: one of %s, or a mapping with kind and its parameters", orList(bareKinds()))
		case slices.Contains(bareKinds(), kind):
		case slices.Contains(quality.Kinds(), kind):
			d.add(n.Line, path, "a %s rule has parameters: write it as a mapping, e.g. %s", kind, ruleExample(kind))
		default:
			d.add(n.Line, path, "unknown rule kind %q (want one of %s)", kind, strings.Join(quality.Kinds(), ", "))
		}
		s.rule.Kind = kind
		s.ok = d.ps.count() == before
		return s
	}
	m, ok := d.mapping(path, n, ruleItemKeys()...)
	if !ok {
		return s
	}
	val := func(key string) string {
		e, ok := m[key]
		if !ok {
			return ""
		}
		kp := joinPath(path, key)
		v := d.scalar(kp, e.val)
		if v == "" && !d.bad[kp] {
			d.add(e.val.Line, kp, "must not be empty (leave the key out instead)")
		}
		return v
	}
	r := &s.rule
	r.Kind, r.Min, r.Max, r.Pattern = val("kind"), val("min"), val("max"), val("pattern")
	r.List, r.With = val("list"), val("with")
	kindKey := joinPath(path, "kind")
	switch {
	case d.bad[kindKey]:
	case r.Kind == "":
		d.add(n.Line, kindKey, "required: the rule kind (%s)", strings.Join(quality.Kinds(), ", "))
	case !slices.Contains(quality.Kinds(), r.Kind):
		d.addAt(kindKey, "unknown rule kind %q (want one of %s)", r.Kind, strings.Join(quality.Kinds(), ", "))
	}
	if e, ok := m["codes"]; ok {
		r.Codes = decodeCodes(d, joinPath(path, "codes"), e.val)
		if r.List != "" {
			d.addAt(joinPath(path, "list"), "give codes or list, not both")
		}
	}
	s.ok = d.ps.count() == before
	return s
}

// decodeCodes reads the codes of a code_list rule: a non-empty list of texts
// or numbers.
func decodeCodes(d *doc, path string, n *yaml.Node) []string {
	if n.Kind != yaml.SequenceNode {
		d.add(n.Line, path, "want a list of codes, got %s", describe(n))
		return nil
	}
	if len(n.Content) == 0 {
		d.add(n.Line, path, "the list is empty: give at least one code, or leave codes out")
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for i, c := range n.Content {
		c = resolve(c)
		if c.Kind != yaml.ScalarNode || c.ShortTag() == "!!null" || c.Value == "" {
			d.add(c.Line, indexPath(path, i), "a code must be text or a number, got %s", describe(c))
			continue
		}
		out = append(out, c.Value)
	}
	return out
}

// checkRules resolves and compiles the rules of a resource: an implicit
// required rule for every non-nullable field outside the primary key (the
// primary key's nulls are refused before any rule runs), then the declared
// rules, in field order. A rule naming a catalog code list gets the list's
// codes. schemaOK is false when the fields have problems, so that rules are
// only decoded, not checked against them. specs[i] are the rules of field i.
func checkRules(d *doc, r *Resource, specs [][]ruleSpec, lists map[string][]string, schemaOK bool) {
	if !schemaOK || len(specs) != len(r.Schema.Fields) {
		return
	}
	before := d.ps.count()
	var rules []quality.Rule
	var from []ruleSpec // from[i] is where rules[i] was declared
	for i, f := range r.Schema.Fields {
		declared := specs[i]
		explicit := slices.ContainsFunc(declared, func(s ruleSpec) bool { return s.rule.Kind == quality.KindRequired })
		if !f.Nullable && !explicit && !slices.Contains(r.PrimaryKey, f.Name) {
			path := indexPath("fields", i)
			rules = append(rules, quality.Rule{Kind: quality.KindRequired, Field: f.Name, Line: d.line(path)})
			from = append(from, ruleSpec{path: path, ok: true, implicit: true})
		}
		for _, s := range declared {
			if !s.ok {
				continue
			}
			s.rule.Field = f.Name
			if s.rule.List != "" {
				if codes, ok := lists[s.rule.List]; ok {
					if codes == nil {
						continue // the list's problems are reported in its file
					}
					s.rule.Codes, s.fromList = codes, true
				} else if _, builtin := quality.CodeList(s.rule.List); !builtin {
					d.addAt(joinPath(s.path, "list"), "unknown code list %q (%s)", s.rule.List, knownLists(lists))
					continue
				}
			}
			rules = append(rules, s.rule)
			from = append(from, s)
		}
	}
	if len(rules) == 0 {
		return
	}
	reportRuleErrors(d, quality.ValidateAgainst(rules, r.Schema), from)
	compiled, err := quality.Compile(rules)
	reportRuleErrors(d, err, from)
	if d.ps.count() == before {
		r.Rules = compiled
	}
}

// knownLists names the code lists a rule may use, for messages.
func knownLists(catalogLists map[string][]string) string {
	names := make([]string, 0, len(catalogLists))
	for n := range catalogLists {
		names = append(names, n)
	}
	slices.Sort(names)
	s := "built in: " + strings.Join(quality.CodeListNames(), ", ")
	if len(names) > 0 {
		s = "in " + codeListsDir + "/: " + strings.Join(names, ", ") + "; " + s
	}
	return s
}

// qualityKey matches the key of a quality.Problem: "rules[3]" or "rules[3].max".
var qualityKey = regexp.MustCompile(`^rules\[(\d+)\](?:\.([a-z_]+))?$`)

// qualityRef matches a reference to another rule in a quality message.
var qualityRef = regexp.MustCompile(`rules\[(\d+)\]`)

// reportRuleErrors reports the problems quality found in rules at the keys
// of the resource file they came from (from[i] for rules[i]). A key already
// reported is not reported again, so ValidateAgainst and Compile do not say
// the same thing twice.
func reportRuleErrors(d *doc, err error, from []ruleSpec) {
	if err == nil {
		return
	}
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	for _, e := range errs {
		var p *quality.Problem
		if !errors.As(e, &p) {
			d.addAt("fields", "%v", e)
			continue
		}
		key, msg := "fields", p.Msg
		if m := qualityKey.FindStringSubmatch(p.Key); m != nil {
			if i, _ := strconv.Atoi(m[1]); i < len(from) {
				key = ruleProblemKey(d, from[i], m[2])
			}
		}
		msg = qualityRef.ReplaceAllStringFunc(msg, func(ref string) string {
			i, _ := strconv.Atoi(qualityRef.FindStringSubmatch(ref)[1])
			if i < len(from) {
				return from[i].path
			}
			return ref
		})
		if d.bad[key] {
			continue
		}
		d.addAt(key, "%s", msg)
	}
}

// ruleProblemKey is the key of the resource file a problem with parameter
// param ("" for the rule as a whole) of the rule declared at s concerns.
func ruleProblemKey(d *doc, s ruleSpec, param string) string {
	switch {
	case s.implicit || param == "":
		return s.path
	case param == "field":
		// The field is the enclosing one: the kind is what does not fit it.
		if _, ok := d.pos[joinPath(s.path, "kind")]; ok {
			return joinPath(s.path, "kind")
		}
		return s.path
	case param == "codes" && s.fromList:
		return joinPath(s.path, "list")
	}
	return joinPath(s.path, param)
}

// ruleJSON is a rule in the resource JSON: the keys of a quality rule file.
type ruleJSON struct {
	Kind    string   `json:"kind"`
	Field   string   `json:"field"`
	Min     string   `json:"min,omitempty"`
	Max     string   `json:"max,omitempty"`
	Pattern string   `json:"pattern,omitempty"`
	Codes   []string `json:"codes,omitempty"`
	List    string   `json:"list,omitempty"`
	With    string   `json:"with,omitempty"`
	Line    int      `json:"line,omitempty"` // in the resource file
}

// rulesToJSON converts rules for the resource JSON; nil for none.
func rulesToJSON(rules []quality.Rule) []ruleJSON {
	if len(rules) == 0 {
		return nil
	}
	out := make([]ruleJSON, len(rules))
	for i, r := range rules {
		out[i] = ruleJSON{Kind: r.Kind, Field: r.Field, Min: r.Min, Max: r.Max, Pattern: r.Pattern,
			Codes: r.Codes, List: r.List, With: r.With, Line: r.Line}
	}
	return out
}

// rulesFromJSON converts and compiles rules read from the resource JSON.
func rulesFromJSON(in []ruleJSON) ([]quality.Rule, error) {
	if len(in) == 0 {
		return nil, nil
	}
	rules := make([]quality.Rule, len(in))
	for i, r := range in {
		rules[i] = quality.Rule{Kind: r.Kind, Field: r.Field, Min: r.Min, Max: r.Max, Pattern: r.Pattern,
			Codes: r.Codes, List: r.List, With: r.With, Line: r.Line}
	}
	out, err := quality.Compile(rules)
	if err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	return out, nil
}
