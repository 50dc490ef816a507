package grant

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/tongban/tongban/catalog"
)

// Lists are the bureau's sharing data kept as YAML (deploy/sharing): the
// application scenarios (吉林 第26条), the negative list (负面清单, 吉林
// 第24条) and the extras of the responsibility list (责任清单) beyond what
// the catalog's providers already say. The demand list is filed through the
// API and lives in the store.
type Lists struct {
	Scenarios []Scenario
	Negative  []NegativeEntry
	// Duties are the responsibility-list extras of the YAML files.
	Duties []Duty
}

// Scenario is an application scenario the bureau defines: a department
// eligible for it that names it in a request gets the grant at once.
type Scenario struct {
	Code        string `json:"code"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	LegalBasis  string `json:"legal_basis"`
	// AnyDept: every department is eligible; otherwise Depts are.
	AnyDept bool     `json:"any_dept"`
	Depts   []string `json:"departments,omitempty"`
	// ValidDays is how long a scenario grant lasts; 0: until revoked.
	ValidDays int                `json:"valid_days,omitempty"`
	Resources []ScenarioResource `json:"resources"`
	File      string             `json:"file"`
	Line      int                `json:"line"`
}

// ScenarioResource is a resource and the fields a scenario grants of it.
type ScenarioResource struct {
	Resource string   `json:"resource"`
	Fields   []string `json:"fields"`
}

// Eligible reports whether dept may use the scenario.
func (sc *Scenario) Eligible(dept string) bool {
	return sc.AnyDept || slices.Contains(sc.Depts, dept)
}

// Resource returns the scenario's entry for resource.
func (sc *Scenario) Resource(code string) (ScenarioResource, bool) {
	for _, r := range sc.Resources {
		if r.Resource == code {
			return r, true
		}
	}
	return ScenarioResource{}, false
}

// NegativeEntry is an entry of the negative list: a resource, or only some
// of its fields, that may not be shared, with the legal basis.
type NegativeEntry struct {
	Resource   string   `json:"resource"`
	Fields     []string `json:"fields,omitempty"` // empty: the whole resource
	LegalBasis string   `json:"legal_basis"`
	Reason     string   `json:"reason,omitempty"`
	File       string   `json:"file"`
	Line       int      `json:"line"`
}

// Duty is an entry of the responsibility list: department Dept must provide
// Resource (its Fields, all when empty) under Basis.
type Duty struct {
	Dept     string   `json:"dept"`
	Resource string   `json:"resource"`
	Name     string   `json:"name"`
	Fields   []string `json:"fields,omitempty"`
	Basis    string   `json:"basis,omitempty"`
	// Source is "catalog" (the resource's provider) or "list" (a YAML entry).
	Source string `json:"source"`
	// InCatalog is false for a duty whose resource is not catalogued yet.
	InCatalog bool   `json:"in_catalog"`
	File      string `json:"file,omitempty"`
	Line      int    `json:"line,omitempty"`
}

// Problem is one thing wrong in a sharing list file, rendered
// "file:line: key: problem". LoadDir and Parse return all of them joined.
type Problem struct {
	File string
	Line int
	Key  string
	Msg  string
}

func (p *Problem) Error() string {
	loc := p.File
	if p.Line > 0 {
		loc += ":" + strconv.Itoa(p.Line)
	}
	if p.Key == "" {
		return loc + ": " + p.Msg
	}
	return loc + ": " + p.Key + ": " + p.Msg
}

var scenarioCode = regexp.MustCompile(`^[A-Z][A-Z0-9-]{1,63}$`)

// Text limits of list entries, in characters.
const (
	maxListText  = 2000
	maxListName  = 200
	maxValidDays = 3660
	maxListBytes = 4 << 20
)

// LoadDir reads every *.yaml file of dir (in name order) and checks it
// against cat. Each file holds any of the top-level keys scenarios,
// negative and responsibilities.
func LoadDir(dir string, cat *catalog.Catalog) (*Lists, error) {
	if info, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("grant: sharing lists: %w", err)
	} else if !info.IsDir() {
		return nil, fmt.Errorf("grant: sharing lists: %s is not a directory", dir)
	}
	names, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, fmt.Errorf("grant: sharing lists %s: %w", dir, err)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("grant: sharing lists %s: no *.yaml file", dir)
	}
	sort.Strings(names)
	out := &Lists{}
	var errs []error
	for _, name := range names {
		data, err := readCapped(name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		l, err := Parse(name, data, cat)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out.Scenarios = append(out.Scenarios, l.Scenarios...)
		out.Negative = append(out.Negative, l.Negative...)
		out.Duties = append(out.Duties, l.Duties...)
	}
	errs = append(errs, crossCheck(out)...)
	seen := map[string]*Scenario{}
	for i := range out.Scenarios {
		sc := &out.Scenarios[i]
		if prev, ok := seen[sc.Code]; ok {
			errs = append(errs, &Problem{File: sc.File, Line: sc.Line, Key: "code",
				Msg: fmt.Sprintf("scenario %s is also defined at %s:%d", sc.Code, prev.File, prev.Line)})
		}
		seen[sc.Code] = sc
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

func readCapped(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("grant: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxListBytes+1))
	if err != nil {
		return nil, fmt.Errorf("grant: read %s: %w", name, err)
	}
	if len(data) > maxListBytes {
		return nil, &Problem{File: name, Msg: fmt.Sprintf("file is larger than %d bytes", maxListBytes)}
	}
	return data, nil
}

// parser walks one file's YAML nodes and collects problems.
type parser struct {
	file string
	cat  *catalog.Catalog
	errs []error
}

func (p *parser) add(n *yaml.Node, key, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	p.errs = append(p.errs, &Problem{File: p.file, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)})
}

// Parse reads one list file (name is for messages) and checks it against cat.
func Parse(name string, data []byte, cat *catalog.Catalog) (l *Lists, err error) {
	p := &parser{file: name, cat: cat}
	defer func() {
		// yaml.v3 is third-party code: a panic on hostile input becomes a
		// problem of this file, not a crash of the hub.
		if r := recover(); r != nil {
			l, err = nil, &Problem{File: name, Msg: fmt.Sprintf("YAML parser failed: %v", r)}
		}
	}()
	root := p.document(data)
	out := &Lists{}
	if root != nil {
		m := p.mapping(root, "", "scenarios", "negative", "responsibilities")
		if n, ok := m["scenarios"]; ok {
			for i, it := range p.list(n, "scenarios") {
				if sc, ok := p.scenario(it, "scenarios["+strconv.Itoa(i)+"]"); ok {
					out.Scenarios = append(out.Scenarios, sc)
				}
			}
		}
		if n, ok := m["negative"]; ok {
			for i, it := range p.list(n, "negative") {
				if e, ok := p.negative(it, "negative["+strconv.Itoa(i)+"]"); ok {
					out.Negative = append(out.Negative, e)
				}
			}
		}
		if n, ok := m["responsibilities"]; ok {
			for i, it := range p.list(n, "responsibilities") {
				if d, ok := p.duty(it, "responsibilities["+strconv.Itoa(i)+"]"); ok {
					out.Duties = append(out.Duties, d)
				}
			}
		}
	}
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	return out, nil
}

// document parses exactly one YAML document whose root is a mapping.
func (p *parser) document(data []byte) *yaml.Node {
	if !utf8.Valid(data) {
		p.add(nil, "", "file is not valid UTF-8")
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var n yaml.Node
	if err := dec.Decode(&n); err != nil {
		if errors.Is(err, io.EOF) {
			p.add(nil, "", "empty file: want a mapping with scenarios, negative or responsibilities")
		} else {
			p.syntax(err)
		}
		return nil
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		p.add(&extra, "", "a second YAML document: a file holds exactly one")
		return nil
	} else if !errors.Is(err, io.EOF) {
		p.syntax(err)
		return nil
	}
	top := &n
	if top.Kind == yaml.DocumentNode && len(top.Content) == 1 {
		top = top.Content[0]
	}
	if top.Kind != yaml.MappingNode {
		p.add(top, "", "want a mapping with scenarios, negative or responsibilities, got %s", describe(top))
		return nil
	}
	return top
}

// yamlErrLine matches the position yaml.v3 puts into syntax errors.
var yamlErrLine = regexp.MustCompile(`(?s)^yaml: line (\d+): (.*)$`)

// syntax reports a YAML syntax error at the line yaml.v3 names (its
// parser's lines may be one short; the catalog corrects them per message,
// here the line is a hint next to the message).
func (p *parser) syntax(err error) {
	if m := yamlErrLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		p.errs = append(p.errs, &Problem{File: p.file, Line: line, Msg: "YAML syntax error: " + m[2]})
		return
	}
	p.add(nil, "", "YAML syntax error: %s", strings.TrimPrefix(err.Error(), "yaml: "))
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		if n.ShortTag() == "!!null" {
			return "nothing (null)"
		}
		return fmt.Sprintf("the value %q", n.Value)
	}
	return "an unknown node"
}

func joinKey(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// mapping returns the keys of mapping n; unknown and repeated keys, aliases
// and merge keys are problems (lists are small: anchors buy nothing and
// invite alias bombs).
func (p *parser) mapping(n *yaml.Node, path string, allowed ...string) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	if n.Kind != yaml.MappingNode {
		p.add(n, path, "want a mapping, got %s", describe(n))
		return out
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := joinKey(path, k.Value)
		switch {
		case k.Kind != yaml.ScalarNode:
			p.add(k, path, "a key must be a plain name, got %s", describe(k))
			continue
		case v.Kind == yaml.AliasNode || v.Anchor != "":
			p.add(v, key, "anchors and aliases are not allowed in sharing lists")
			continue
		case !slices.Contains(allowed, k.Value):
			p.add(k, key, "unknown key %q (allowed: %s)", k.Value, strings.Join(allowed, ", "))
			continue
		}
		if _, dup := out[k.Value]; dup {
			p.add(k, key, "key given twice")
			continue
		}
		out[k.Value] = v
	}
	return out
}

func (p *parser) list(n *yaml.Node, path string) []*yaml.Node {
	if n.Kind != yaml.SequenceNode {
		p.add(n, path, "want a list, got %s", describe(n))
		return nil
	}
	for _, it := range n.Content {
		if it.Kind == yaml.AliasNode || it.Anchor != "" {
			p.add(it, path, "anchors and aliases are not allowed in sharing lists")
			return nil
		}
	}
	return n.Content
}

// str reads a string value; required ones must be present and non-empty.
func (p *parser) str(parent *yaml.Node, m map[string]*yaml.Node, path, key string, required bool, max int) string {
	n, ok := m[key]
	k := joinKey(path, key)
	if !ok {
		if required {
			p.add(parent, k, "missing")
		}
		return ""
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		p.add(n, k, "want text, got %s", describe(n))
		return ""
	}
	v := strings.TrimSpace(n.Value)
	switch {
	case v == "" && required:
		p.add(n, k, "is empty")
	case utf8.RuneCountInString(v) > max:
		p.add(n, k, "is %d characters long (at most %d)", utf8.RuneCountInString(v), max)
		return ""
	}
	return v
}

func (p *parser) strList(n *yaml.Node, path string) []string {
	items := p.list(n, path)
	out := make([]string, 0, len(items))
	for i, it := range items {
		k := path + "[" + strconv.Itoa(i) + "]"
		if it.Kind != yaml.ScalarNode || it.ShortTag() == "!!null" || strings.TrimSpace(it.Value) == "" {
			p.add(it, k, "want a non-empty name, got %s", describe(it))
			continue
		}
		if slices.Contains(out, it.Value) {
			p.add(it, k, "%q listed twice", it.Value)
			continue
		}
		out = append(out, it.Value)
	}
	return out
}

// resourceFields checks resource code and fields against the catalog.
func (p *parser) resourceFields(n *yaml.Node, path, code string, fieldsNode *yaml.Node, fields []string) (*catalog.Resource, bool) {
	r, ok := p.cat.Resource(code)
	if !ok {
		p.add(n, joinKey(path, "resource"), "%q is not a resource of the catalog", code)
		return nil, false
	}
	good := true
	for i, f := range fields {
		if r.Schema.Index(f) < 0 {
			p.add(fieldsNode, joinKey(path, "fields")+"["+strconv.Itoa(i)+"]", "%q is not a field of %s", f, code)
			good = false
		}
	}
	return r, good
}

func (p *parser) dept(n *yaml.Node, key, code string) bool {
	if _, ok := p.cat.Department(code); !ok {
		p.add(n, key, "%q is not a department of the catalog", code)
		return false
	}
	return true
}

func (p *parser) scenario(n *yaml.Node, path string) (Scenario, bool) {
	before := len(p.errs)
	m := p.mapping(n, path, "code", "name", "description", "legal_basis", "departments", "valid_days", "resources")
	sc := Scenario{File: p.file, Line: n.Line,
		Code:        p.str(n, m, path, "code", true, 64),
		Name:        p.str(n, m, path, "name", true, maxListName),
		Description: p.str(n, m, path, "description", false, maxListText),
		LegalBasis:  p.str(n, m, path, "legal_basis", true, maxListText),
	}
	if sc.Code != "" && !scenarioCode.MatchString(sc.Code) {
		p.add(m["code"], joinKey(path, "code"), "%q: want upper-case letters, digits and -, starting with a letter (e.g. SC-MARRIAGE)", sc.Code)
	}
	if d, ok := m["departments"]; !ok {
		p.add(n, joinKey(path, "departments"), `missing: give "any" or a list of department codes`)
	} else if d.Kind == yaml.ScalarNode && d.Value == "any" {
		sc.AnyDept = true
	} else if d.Kind == yaml.SequenceNode {
		sc.Depts = p.strList(d, joinKey(path, "departments"))
		if len(sc.Depts) == 0 && len(d.Content) == 0 {
			p.add(d, joinKey(path, "departments"), `empty list: give "any" or at least one department code`)
		}
		for i, c := range sc.Depts {
			p.dept(d, joinKey(path, "departments")+"["+strconv.Itoa(i)+"]", c)
		}
	} else {
		p.add(d, joinKey(path, "departments"), `want "any" or a list of department codes, got %s`, describe(d))
	}
	if v, ok := m["valid_days"]; ok {
		days, err := strconv.Atoi(v.Value)
		if v.Kind != yaml.ScalarNode || err != nil || days < 1 || days > maxValidDays {
			p.add(v, joinKey(path, "valid_days"), "want a whole number of days in 1..%d, got %s", maxValidDays, describe(v))
		} else {
			sc.ValidDays = days
		}
	}
	rs, ok := m["resources"]
	if !ok {
		p.add(n, joinKey(path, "resources"), "missing: a scenario grants at least one resource")
	} else {
		items := p.list(rs, joinKey(path, "resources"))
		if len(items) == 0 && rs.Kind == yaml.SequenceNode {
			p.add(rs, joinKey(path, "resources"), "empty: a scenario grants at least one resource")
		}
		for i, it := range items {
			rp := joinKey(path, "resources") + "[" + strconv.Itoa(i) + "]"
			rm := p.mapping(it, rp, "resource", "fields")
			sr := ScenarioResource{Resource: p.str(it, rm, rp, "resource", true, 64)}
			fn, ok := rm["fields"]
			if !ok {
				p.add(it, joinKey(rp, "fields"), "missing: name the fields the scenario needs (最小够用)")
				continue
			}
			sr.Fields = p.strList(fn, joinKey(rp, "fields"))
			if len(sr.Fields) == 0 {
				p.add(fn, joinKey(rp, "fields"), "empty: name the fields the scenario needs (最小够用)")
			}
			if sr.Resource == "" {
				continue
			}
			if _, dup := sc.Resource(sr.Resource); dup {
				p.add(it, joinKey(rp, "resource"), "%q listed twice in this scenario", sr.Resource)
				continue
			}
			if r, ok := p.resourceFields(it, rp, sr.Resource, fn, sr.Fields); ok && r.ShareType == catalog.ShareNone {
				p.add(it, joinKey(rp, "resource"), "%s is not shared (share_type none): a scenario cannot grant it", sr.Resource)
			}
			sc.Resources = append(sc.Resources, sr)
		}
	}
	return sc, len(p.errs) == before
}

func (p *parser) negative(n *yaml.Node, path string) (NegativeEntry, bool) {
	before := len(p.errs)
	m := p.mapping(n, path, "resource", "fields", "legal_basis", "reason")
	e := NegativeEntry{File: p.file, Line: n.Line,
		Resource:   p.str(n, m, path, "resource", true, 64),
		LegalBasis: p.str(n, m, path, "legal_basis", true, maxListText),
		Reason:     p.str(n, m, path, "reason", false, maxListText),
	}
	fn, hasFields := m["fields"]
	if hasFields {
		e.Fields = p.strList(fn, joinKey(path, "fields"))
		if len(e.Fields) == 0 && fn.Kind == yaml.SequenceNode {
			p.add(fn, joinKey(path, "fields"), "empty: leave fields out to list the whole resource")
		}
	}
	if e.Resource != "" {
		p.resourceFields(n, path, e.Resource, fn, e.Fields)
	}
	return e, len(p.errs) == before
}

func (p *parser) duty(n *yaml.Node, path string) (Duty, bool) {
	before := len(p.errs)
	m := p.mapping(n, path, "dept", "resource", "name", "fields", "basis")
	d := Duty{Source: "list", File: p.file, Line: n.Line,
		Dept:     p.str(n, m, path, "dept", true, 64),
		Resource: p.str(n, m, path, "resource", true, 64),
		Name:     p.str(n, m, path, "name", false, maxListName),
		Basis:    p.str(n, m, path, "basis", true, maxListText),
	}
	if d.Dept != "" {
		p.dept(m["dept"], joinKey(path, "dept"), d.Dept)
	}
	fn, hasFields := m["fields"]
	if hasFields {
		d.Fields = p.strList(fn, joinKey(path, "fields"))
	}
	if d.Resource != "" {
		if r, ok := p.cat.Resource(d.Resource); ok {
			d.InCatalog = true
			if d.Name == "" {
				d.Name = r.Name
			}
			p.resourceFields(n, path, d.Resource, fn, d.Fields)
		} else if d.Name == "" {
			p.add(n, joinKey(path, "name"), "missing: %s is not in the catalog yet, so name the resource", d.Resource)
		}
	}
	return d, len(p.errs) == before
}

// crossCheck refuses a scenario granting what the negative list forbids.
func crossCheck(l *Lists) []error {
	var errs []error
	for _, sc := range l.Scenarios {
		for _, sr := range sc.Resources {
			for _, e := range l.Negative {
				if e.Resource != sr.Resource {
					continue
				}
				for _, f := range sr.Fields {
					if len(e.Fields) == 0 || slices.Contains(e.Fields, f) {
						errs = append(errs, &Problem{File: sc.File, Line: sc.Line, Key: "scenarios." + sc.Code,
							Msg: fmt.Sprintf("grants %s.%s, which the negative list (%s:%d) forbids", sr.Resource, f, e.File, e.Line)})
					}
				}
			}
		}
	}
	return errs
}
