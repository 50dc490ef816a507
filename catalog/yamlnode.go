package catalog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// yamlErrLine matches the position yaml.v3 puts into syntax errors.
var yamlErrLine = regexp.MustCompile(`(?s)^yaml: line (\d+): (.*)$`)

// entry is one key and its value in a YAML mapping.
type entry struct {
	key, val *yaml.Node
}

// doc walks one parsed YAML file, recording where each key path was found
// and reporting problems under the file's name.
type doc struct {
	file  string
	ps    *problems
	pos   map[string]int  // key path -> line, "" is the root mapping
	bad   map[string]bool // key paths already reported, so later checks stay quiet
	lines int             // lines in the file, to keep reported lines inside it
}

func newDoc(file string, ps *problems) *doc {
	return &doc{file: file, ps: ps, pos: map[string]int{}, bad: map[string]bool{}}
}

// add reports a problem at line about key path key.
func (d *doc) add(line int, key, format string, args ...any) {
	if key != "" {
		d.bad[key] = true
	}
	// At the end of the input yaml.v3 may count a line after the last one.
	if d.lines > 0 && line > d.lines {
		line = d.lines
	}
	d.ps.add(d.file, line, key, format, args...)
}

// addAt reports a problem about key path key at the line where key (or the
// nearest enclosing key) was found.
func (d *doc) addAt(key, format string, args ...any) {
	d.add(d.line(key), key, format, args...)
}

// line returns where key path was found, falling back to its parents.
func (d *doc) line(path string) int {
	for {
		if l, ok := d.pos[path]; ok {
			return l
		}
		if path == "" {
			return 0
		}
		path = parentPath(path)
	}
}

// parentPath strips the last key or index: "fields[2].type" -> "fields[2]" -> "fields" -> "".
func parentPath(path string) string {
	if strings.HasSuffix(path, "]") {
		if i := strings.LastIndexByte(path, '['); i >= 0 {
			return path[:i]
		}
	}
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[:i]
	}
	return ""
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

func indexPath(parent string, i int) string {
	return parent + "[" + strconv.Itoa(i) + "]"
}

// parse reads data as exactly one YAML document whose root is a mapping, and
// returns that mapping, or nil after reporting why not. what names the content
// expected, for messages.
func (d *doc) parse(data []byte, what string) (root *yaml.Node) {
	defer func() {
		// yaml.v3 is third-party code: a panic on hostile input must not take
		// the hub or agent down; it becomes a problem in this file.
		if r := recover(); r != nil {
			d.add(0, "", "YAML parser failed: %v", r)
			root = nil
		}
	}()
	d.lines = bytes.Count(data, []byte("\n")) + 1
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var n yaml.Node
	if err := dec.Decode(&n); err != nil {
		if errors.Is(err, io.EOF) {
			d.add(0, "", "empty file: want %s", what)
		} else {
			d.syntax(data, err)
		}
		return nil
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		d.add(extra.Line, "", "a second YAML document: a file holds exactly one (%s)", what)
		return nil
	case !errors.Is(err, io.EOF):
		d.syntax(data, err)
		return nil
	}
	top := &n
	if top.Kind == yaml.DocumentNode && len(top.Content) == 1 {
		top = top.Content[0]
	}
	top = resolve(top)
	if top.Kind != yaml.MappingNode {
		d.add(top.Line, "", "want %s (a mapping of keys), got %s", what, describe(top))
		return nil
	}
	d.pos[""] = top.Line
	return top
}

// syntax reports a YAML syntax error at the line yaml.v3 names. yaml.v3
// prints scanner errors with 1-based lines but parser errors with 0-based
// ones (the start of the enclosing list or mapping, or the problem), and
// leaves the line out when it is the first; this puts them all 1-based.
func (d *doc) syntax(data []byte, err error) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 1
	if m := yamlErrLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
		if yamlParserProblem(msg) {
			line++
		}
	} else if name, ok := strings.CutPrefix(msg, "unknown anchor '"); ok {
		line = lineOf(data, "*"+strings.TrimSuffix(name, "' referenced"))
	}
	d.add(line, "", "YAML syntax error: %s", msg)
}

// yamlParserProblem reports whether msg is one of the errors of yaml.v3's
// parser (as opposed to its scanner), whose lines it prints 0-based.
func yamlParserProblem(msg string) bool {
	switch msg {
	case "did not find expected ',' or ']'", "did not find expected ',' or '}'",
		"did not find expected '-' indicator", "did not find expected <document start>",
		"did not find expected <stream-start>", "did not find expected key",
		"did not find expected node content", "found duplicate %TAG directive",
		"found duplicate %YAML directive", "found incompatible YAML document":
		return true
	}
	return false
}

// lineOf returns the 1-based line of the first occurrence of s in data, or 0.
func lineOf(data []byte, s string) int {
	i := bytes.Index(data, []byte(s))
	if i < 0 {
		return 0
	}
	return bytes.Count(data[:i], []byte("\n")) + 1
}

// resolve follows aliases (*name) to the anchored node.
func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// describe names a node's kind for messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.ShortTag() == "!!null" {
			return "nothing (null)"
		}
		return fmt.Sprintf("the value %q", n.Value)
	}
	return "an unexpected YAML node"
}

// mapping reads the mapping at path, reporting values that are not mappings,
// duplicate keys and keys not in known. It records the line of every key.
func (d *doc) mapping(path string, n *yaml.Node, known ...string) (map[string]entry, bool) {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		d.add(n.Line, path, "want a mapping with keys %s, got %s", strings.Join(known, ", "), describe(n))
		return nil, false
	}
	if _, ok := d.pos[path]; !ok {
		d.pos[path] = n.Line
	}
	out := make(map[string]entry, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			d.add(k.Line, path, "keys must be plain words, got %s", describe(k))
			continue
		}
		kp := joinPath(path, k.Value)
		switch {
		case !slices.Contains(known, k.Value):
			d.add(k.Line, kp, "unknown key (want one of %s)", strings.Join(known, ", "))
		case out[k.Value].key != nil:
			d.add(k.Line, kp, "given twice (first on line %d)", out[k.Value].key.Line)
		default:
			out[k.Value] = entry{key: k, val: v}
			d.pos[kp] = k.Line
		}
	}
	return out, true
}

// str returns the string value of key in m: "" when absent or null. A list
// or mapping where a string belongs is reported.
func (d *doc) str(m map[string]entry, path, key string) string {
	e, ok := m[key]
	if !ok {
		return ""
	}
	return d.scalar(joinPath(path, key), e.val)
}

// scalar returns the text of a scalar node at path, "" for null.
func (d *doc) scalar(path string, n *yaml.Node) string {
	if n.Kind != yaml.ScalarNode {
		d.add(n.Line, path, "want a single value, got %s", describe(n))
		return ""
	}
	if n.ShortTag() == "!!null" {
		return ""
	}
	return n.Value
}

// boolean returns the value of key in m: false when absent. Only YAML 1.2
// booleans (true, false) are accepted, so "yes" or "1" are reported.
func (d *doc) boolean(m map[string]entry, path, key string) bool {
	e, ok := m[key]
	if !ok {
		return false
	}
	n, kp := e.val, joinPath(path, key)
	var b bool
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
		d.add(n.Line, kp, "want true or false, got %s", describe(n))
		return false
	}
	return b
}

// list returns the elements of the sequence at key in m, recording the line
// of each element as path[i]; ok is false when the key is absent or its value
// is not a list (which is reported).
func (d *doc) list(m map[string]entry, path, key string) (elems []*yaml.Node, ok bool) {
	e, found := m[key]
	if !found {
		return nil, false
	}
	kp := joinPath(path, key)
	n := e.val
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return nil, true // "key:" with nothing: an empty list
	}
	if n.Kind != yaml.SequenceNode {
		d.add(n.Line, kp, "want a list, got %s", describe(n))
		return nil, false
	}
	out := make([]*yaml.Node, len(n.Content))
	for i, c := range n.Content {
		out[i] = resolve(c)
		d.pos[indexPath(kp, i)] = out[i].Line
	}
	return out, true
}
