package catalog

import (
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/tongban/tongban/quality"
)

// codeListsDir is the optional folder, relative to the catalog directory,
// holding one code list per *.yaml file.
const codeListsDir = "codelists"

// CodeList is a list of codes (代码表) that quality rules name with `list:`,
// e.g. the administrative divisions of GB/T 2260.
type CodeList struct {
	Name  string `json:"name"`            // what rules write in list:, e.g. "GB/T 2260"
	Title string `json:"title,omitempty"` // e.g. 中华人民共和国行政区划代码
	Codes []Code `json:"codes"`           // in file order
	File  string `json:"file,omitempty"`  // relative to the catalog directory; set by Load
}

// Code is one entry of a code list.
type Code struct {
	Code string `json:"code"`
	Name string `json:"name"`
	// Retired, when set, is when the code went out of use (a year or a date).
	// Retired codes stay valid: old records carry them.
	Retired string `json:"retired,omitempty"`
}

// Values returns every code of the list, current and retired, in file order:
// what a rule naming the list accepts.
func (l *CodeList) Values() []string {
	out := make([]string, len(l.Codes))
	for i, c := range l.Codes {
		out[i] = c.Code
	}
	return out
}

// CodeList returns the catalog's code list with the given name. The lists
// built into package quality are not among them.
func (c *Catalog) CodeList(name string) (*CodeList, bool) {
	i := slices.IndexFunc(c.CodeLists, func(l CodeList) bool { return l.Name == name })
	if i < 0 {
		return nil, false
	}
	return &c.CodeLists[i], true
}

// retiredForm is a year, a year and month, or a date.
var retiredForm = regexp.MustCompile(`^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$`)

// decodeCodeList reads one code list file; nil when the file could not be
// read as a mapping at all.
func decodeCodeList(d *doc, data []byte) *CodeList {
	root := d.parse(data, "one code list (name, title, codes)")
	if root == nil {
		return nil
	}
	m, _ := d.mapping("", root, "name", "title", "codes")
	l := &CodeList{Name: d.str(m, "", "name"), Title: d.str(m, "", "title")}
	switch {
	case d.bad["name"]:
	case l.Name == "":
		d.add(d.line(""), "name", "required: the name rules give in list:, e.g. GB/T 2260")
	case l.Name != strings.TrimSpace(l.Name):
		d.addAt("name", "%q has leading or trailing spaces", l.Name)
	case slices.Contains(quality.CodeListNames(), l.Name):
		d.addAt("name", "%q is the name of a code list built into the quality rules (%s); choose another", l.Name, strings.Join(quality.CodeListNames(), ", "))
	}
	e, present := m["codes"]
	switch {
	case !present:
		d.add(d.line(""), "codes", "required: the list of codes, each {code, name}")
		return l
	case e.val.Kind == yaml.ScalarNode && e.val.ShortTag() == "!!null",
		e.val.Kind == yaml.SequenceNode && len(e.val.Content) == 0:
		d.addAt("codes", "the list is empty: at least one code is required")
		return l
	case e.val.Kind != yaml.SequenceNode:
		d.add(e.val.Line, "codes", "want a list, got %s", describe(e.val))
		return l
	}
	// A list may hold thousands of codes (GB/T 2260): the entries are read
	// straight from the nodes, recording no key positions, and lines and key
	// paths are only worked out for the entries with problems.
	elems := e.val.Content
	l.Codes = make([]Code, 0, len(elems))
	first := make(map[string]int, len(elems)) // code -> line of its first listing
	for i, n := range elems {
		n = resolve(n)
		c, lines, ok := fastCode(n)
		if !ok {
			path := indexPath("codes", i)
			d.pos[path] = n.Line
			if c, lines, ok = slowCode(d, path, n); !ok {
				continue
			}
		}
		key := func(k string) string { return joinPath(indexPath("codes", i), k) }
		switch {
		case lines.code < 0:
		case c.Code == "":
			d.add(lines.code, key("code"), "required: the code as records carry it")
		case c.Code != strings.TrimSpace(c.Code):
			d.add(lines.code, key("code"), "%q has leading or trailing spaces", c.Code)
		default:
			if at, dup := first[c.Code]; dup {
				d.add(lines.code, key("code"), "%q is listed twice (first on line %d)", c.Code, at)
			} else {
				first[c.Code] = lines.code
			}
		}
		if c.Name == "" && lines.name >= 0 {
			d.add(lines.name, key("name"), "required: what the code means (名称)")
		}
		if c.Retired != "" && !retiredForm.MatchString(c.Retired) {
			d.add(lines.retired, key("retired"), "%q: want the year (or date) the code went out of use, e.g. \"2000\" or 2000-06-30", c.Retired)
		}
		l.Codes = append(l.Codes, c)
	}
	return l
}

// codeLines are the lines of a code list entry's keys, to report problems
// at: the entry's line for a missing key, -1 when the key's value was
// already reported.
type codeLines struct{ code, name, retired int }

// fastCode reads a well-formed code list entry, a mapping of known keys,
// each once, to single values; ok is false for anything else, which slowCode
// then reads and reports.
func fastCode(n *yaml.Node) (c Code, lines codeLines, ok bool) {
	if n.Kind != yaml.MappingNode {
		return Code{}, codeLines{}, false
	}
	lines = codeLines{n.Line, n.Line, n.Line}
	var seen [3]bool
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || v.Kind != yaml.ScalarNode || v.ShortTag() == "!!null" {
			return Code{}, codeLines{}, false
		}
		var dst *string
		var line *int
		var j int
		switch k.Value {
		case "code":
			dst, line, j = &c.Code, &lines.code, 0
		case "name":
			dst, line, j = &c.Name, &lines.name, 1
		case "retired":
			dst, line, j = &c.Retired, &lines.retired, 2
		default:
			return Code{}, codeLines{}, false
		}
		if seen[j] {
			return Code{}, codeLines{}, false
		}
		seen[j] = true
		*dst, *line = v.Value, k.Line
	}
	return c, lines, true
}

// slowCode reads a code list entry with the catalog's usual checks.
func slowCode(d *doc, path string, n *yaml.Node) (Code, codeLines, bool) {
	cm, ok := d.mapping(path, n, "code", "name", "retired")
	if !ok {
		return Code{}, codeLines{}, false
	}
	c := Code{Code: d.str(cm, path, "code"), Name: d.str(cm, path, "name"), Retired: d.str(cm, path, "retired")}
	line := func(k string) int {
		if d.bad[joinPath(path, k)] {
			return -1
		}
		return d.line(joinPath(path, k))
	}
	return c, codeLines{line("code"), line("name"), line("retired")}, true
}
