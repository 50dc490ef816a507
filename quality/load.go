package quality

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"gopkg.in/yaml.v3"
)

// MaxFileSize is the largest rule file Load reads.
const MaxFileSize = 1 << 20

// Load reads, validates and compiles the rule file at path.
func Load(path string) ([]Rule, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load quality rules: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("load quality rules %s: %w", path, err)
	}
	if len(data) > MaxFileSize {
		return nil, &Problem{File: path, Msg: fmt.Sprintf("larger than %d bytes", MaxFileSize)}
	}
	return Parse(data, path)
}

// ruleKeys are the keys a rule mapping may have.
func ruleKeys() []string {
	return []string{"kind", "field", "min", "max", "pattern", "codes", "list", "with"}
}

// loader collects the problems of one file.
type loader struct {
	file     string
	problems []error
}

func (l *loader) add(n *yaml.Node, key, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	l.problems = append(l.problems, &Problem{File: l.file, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)})
}

// Parse validates and compiles a rule file's YAML (see the package
// documentation for the format); file names it in messages. Every problem is a
// *Problem ("file:line: rules[i].key: problem"), joined into one error.
func Parse(data []byte, file string) ([]Rule, error) {
	l := &loader{file: file}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &Problem{File: file, Msg: "not valid YAML: " + err.Error()}
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, &Problem{File: file, Msg: "empty: a rules list is required"}
	}
	root := resolve(doc.Content[0])
	if root.Kind != yaml.MappingNode {
		return nil, &Problem{File: file, Line: root.Line, Msg: "must be a mapping with rules (and optionally lists), got " + describe(root)}
	}
	top := l.mapping(root, "", []string{"rules", "lists"})
	lists := l.lists(top["lists"])
	rulesNode := top["rules"]
	if rulesNode == nil {
		l.add(root, "rules", "missing")
		return nil, errors.Join(l.problems...)
	}
	if rulesNode.Kind != yaml.SequenceNode {
		l.add(rulesNode, "rules", "must be a list, got %s", describe(rulesNode))
		return nil, errors.Join(l.problems...)
	}
	rules := make([]Rule, 0, len(rulesNode.Content))
	lines := make([]map[string]int, 0, len(rulesNode.Content))
	for i, n := range rulesNode.Content {
		r, keyLines, ok := l.rule(resolve(n), fmt.Sprintf("rules[%d]", i), lists)
		if !ok {
			r, keyLines = Rule{Kind: KindRequired, Field: "x", Line: n.Line}, nil // placeholder keeps indexes
		}
		rules = append(rules, r)
		lines = append(lines, keyLines)
	}
	if len(l.problems) > 0 {
		return nil, errors.Join(l.problems...)
	}
	return compileAll(file, rules, lines)
}

// mapping returns the values of a mapping by key, reporting unknown and
// repeated keys.
func (l *loader) mapping(n *yaml.Node, path string, known []string) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		key := join(path, k.Value)
		switch {
		case k.Kind != yaml.ScalarNode:
			l.add(k, path, "keys must be text, got %s", describe(k))
		case !contains(known, k.Value):
			l.add(k, key, "unknown key (want one of %v)", known)
		case out[k.Value] != nil:
			l.add(k, key, "declared twice")
		default:
			out[k.Value] = v
		}
	}
	return out
}

// lists reads the lists: section, a mapping of list name to codes.
func (l *loader) lists(n *yaml.Node) map[string][]string {
	out := map[string][]string{}
	if n == nil || isNull(n) {
		return out
	}
	if n.Kind != yaml.MappingNode {
		l.add(n, "lists", "must be a mapping of list names to codes, got %s", describe(n))
		return out
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		key := join("lists", k.Value)
		if _, builtin := CodeList(k.Value); builtin {
			l.add(k, key, "name of a built-in code list; choose another")
			continue
		}
		if _, dup := out[k.Value]; dup || k.Kind != yaml.ScalarNode || k.Value == "" {
			l.add(k, key, "list names must be distinct, non-empty text")
			continue
		}
		codes, ok := l.codes(v, key)
		if ok && len(codes) == 0 {
			l.add(v, key, "empty list")
		}
		out[k.Value] = codes
	}
	return out
}

// codes reads a list of scalar codes.
func (l *loader) codes(n *yaml.Node, path string) ([]string, bool) {
	if n.Kind != yaml.SequenceNode {
		l.add(n, path, "must be a list of codes, got %s", describe(n))
		return nil, false
	}
	out := make([]string, 0, len(n.Content))
	for j, c := range n.Content {
		c = resolve(c)
		if c.Kind != yaml.ScalarNode || isNull(c) {
			l.add(c, fmt.Sprintf("%s[%d]", path, j), "a code must be text or a number, got %s", describe(c))
			return nil, false
		}
		out = append(out, c.Value)
	}
	return out, true
}

// rule decodes one rule mapping; keyLines maps each key to its line.
func (l *loader) rule(n *yaml.Node, path string, lists map[string][]string) (Rule, map[string]int, bool) {
	if n.Kind != yaml.MappingNode {
		l.add(n, path, "must be a mapping with kind and field, got %s", describe(n))
		return Rule{}, nil, false
	}
	before := len(l.problems)
	m := l.mapping(n, path, ruleKeys())
	r := Rule{Line: n.Line}
	keyLines := map[string]int{}
	scalar := func(key string) string {
		v := m[key]
		if v == nil {
			return ""
		}
		keyLines[key] = v.Line
		if v.Kind != yaml.ScalarNode || isNull(v) || v.Value == "" {
			l.add(v, path+"."+key, "must be non-empty text, got %s", describe(v))
			return ""
		}
		return v.Value
	}
	r.Kind, r.Field = scalar("kind"), scalar("field")
	r.Min, r.Max, r.Pattern = scalar("min"), scalar("max"), scalar("pattern")
	r.List, r.With = scalar("list"), scalar("with")
	for _, key := range []string{"kind", "field"} {
		if m[key] == nil {
			l.add(n, path+"."+key, "missing")
		}
	}
	if v := m["codes"]; v != nil {
		keyLines["codes"] = v.Line
		r.Codes, _ = l.codes(v, path+".codes")
		if len(r.Codes) == 0 && v.Kind == yaml.SequenceNode {
			l.add(v, path+".codes", "empty list")
		}
	}
	if r.List != "" {
		if m["codes"] != nil {
			l.add(m["list"], path+".list", "give codes or list, not both")
		} else if codes, ok := lists[r.List]; ok {
			r.Codes = codes
		}
	}
	return r, keyLines, len(l.problems) == before
}

// resolve follows aliases.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

// describe names a node for messages.
func describe(n *yaml.Node) string {
	switch {
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case isNull(n):
		return "null"
	case n.Kind == yaml.ScalarNode:
		return strconv.Quote(clip(n.Value))
	}
	return "nothing"
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}
