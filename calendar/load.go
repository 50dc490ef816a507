package calendar

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"gopkg.in/yaml.v3"
)

// MaxFileSize is the largest calendar file Load reads.
const MaxFileSize = 1 << 20

// maxHolidayDays bounds one holiday block; real ones last at most nine days.
const maxHolidayDays = 31

// Load reads and validates the calendar file at path. Every problem found is
// reported as a *Problem ("file:line: key: problem"), joined into one error.
func Load(path string) (*Calendar, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load calendar: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("load calendar %s: %w", path, err)
	}
	if len(data) > MaxFileSize {
		return nil, &Problem{File: path, Msg: fmt.Sprintf("larger than %d bytes", MaxFileSize)}
	}
	return Parse(data, path)
}

// parser collects the problems of one file.
type parser struct {
	file     string
	problems []error
	cal      *Calendar
	where    map[day]string // key path that declared each listed day
}

func (p *parser) add(n *yaml.Node, key, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	p.problems = append(p.problems, &Problem{File: p.file, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)})
}

// Parse validates calendar YAML; file names it in messages.
func Parse(data []byte, file string) (*Calendar, error) {
	p := &parser{
		file:  file,
		cal:   &Calendar{source: file, years: map[int]bool{}, holidays: map[day]string{}, workdays: map[day]bool{}},
		where: map[day]string{},
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &Problem{File: file, Msg: "not valid YAML: " + err.Error()}
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, &Problem{File: file, Msg: "empty: at least one year is required"}
	}
	root := resolve(doc.Content[0])
	if root.Kind != yaml.MappingNode {
		p.add(root, "", "must be a mapping of years, got %s", describe(root))
		return nil, errors.Join(p.problems...)
	}
	if len(root.Content) == 0 {
		p.add(root, "", "no years: at least one year is required")
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := resolve(root.Content[i]), resolve(root.Content[i+1])
		year, err := strconv.Atoi(k.Value)
		if k.Kind != yaml.ScalarNode || err != nil || year < 1900 || year > 9999 {
			p.add(k, k.Value, "key must be a year 1900-9999")
			continue
		}
		if p.cal.years[year] {
			p.add(k, k.Value, "year declared twice")
			continue
		}
		p.cal.years[year] = true
		p.year(year, k.Value, v)
	}
	if len(p.problems) > 0 {
		return nil, errors.Join(p.problems...)
	}
	return p.cal, nil
}

// year decodes one year's mapping.
func (p *parser) year(year int, path string, n *yaml.Node) {
	if n.Kind != yaml.MappingNode {
		p.add(n, path, "must be a mapping with holidays and/or workdays, got %s", describe(n))
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		key := path + "." + k.Value
		if seen[k.Value] {
			p.add(k, key, "declared twice")
			continue
		}
		seen[k.Value] = true
		switch k.Value {
		case "holidays":
			for j, h := range p.list(v, key) {
				p.holiday(year, fmt.Sprintf("%s[%d]", key, j), h)
			}
		case "workdays":
			for j, w := range p.list(v, key) {
				p.workday(year, fmt.Sprintf("%s[%d]", key, j), w)
			}
		default:
			p.add(k, key, "unknown key (want holidays or workdays)")
		}
	}
}

// list returns the elements of a sequence (a null value is an empty list).
func (p *parser) list(n *yaml.Node, path string) []*yaml.Node {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		p.add(n, path, "must be a list, got %s", describe(n))
		return nil
	}
	out := make([]*yaml.Node, len(n.Content))
	for i, e := range n.Content {
		out[i] = resolve(e)
	}
	return out
}

// holiday decodes {from, to, name}.
func (p *parser) holiday(year int, path string, n *yaml.Node) {
	if n.Kind != yaml.MappingNode {
		p.add(n, path, "must be a mapping {from, to, name}, got %s", describe(n))
		return
	}
	vals := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		switch {
		case k.Value != "from" && k.Value != "to" && k.Value != "name":
			p.add(k, path+"."+k.Value, "unknown key (want from, to, name)")
		case vals[k.Value] != nil:
			p.add(k, path+"."+k.Value, "declared twice")
		default:
			vals[k.Value] = v
		}
	}
	ok := true
	for _, key := range []string{"from", "to", "name"} {
		if vals[key] == nil {
			p.add(n, path+"."+key, "missing")
			ok = false
		}
	}
	if !ok {
		return
	}
	from, okFrom := p.date(year, path+".from", vals["from"])
	to, okTo := p.date(year, path+".to", vals["to"])
	name := vals["name"]
	if name.Kind != yaml.ScalarNode || name.Value == "" || name.Tag == "!!null" {
		p.add(name, path+".name", "must be a non-empty name")
		return
	}
	if !okFrom || !okTo {
		return
	}
	if to < from {
		p.add(vals["to"], path+".to", "%s is before from %s", to, from)
		return
	}
	if to-from >= maxHolidayDays {
		p.add(vals["to"], path+".to", "holiday of %d days is longer than %d days", to-from+1, maxHolidayDays)
		return
	}
	for d := from; d <= to; d++ {
		if !p.claim(d, path, n) {
			return
		}
		p.cal.holidays[d] = name.Value
	}
}

// workday decodes one make-up working day.
func (p *parser) workday(year int, path string, n *yaml.Node) {
	d, ok := p.date(year, path, n)
	if !ok {
		return
	}
	if !d.weekend() {
		p.add(n, path, "%s is a %s, already a working day; workdays lists weekend days worked (调休上班)", d, d.weekday())
		return
	}
	if p.claim(d, path, n) {
		p.cal.workdays[d] = true
	}
}

// claim records that path declares d, reporting a date declared twice.
func (p *parser) claim(d day, path string, n *yaml.Node) bool {
	if prev, dup := p.where[d]; dup {
		p.add(n, path, "%s is already declared by %s", d, prev)
		return false
	}
	p.where[d] = path
	return true
}

// date decodes a YYYY-MM-DD scalar in year, or in the last month of the year
// before or the first month of the year after (a holiday block may straddle
// New Year).
func (p *parser) date(year int, path string, n *yaml.Node) (day, bool) {
	if n.Kind != yaml.ScalarNode {
		p.add(n, path, "must be a date YYYY-MM-DD, got %s", describe(n))
		return 0, false
	}
	t, err := time.Parse(time.DateOnly, n.Value)
	if err != nil {
		p.add(n, path, "%q is not a date YYYY-MM-DD", n.Value)
		return 0, false
	}
	y, m, _ := t.Date()
	if y != year && !(y == year-1 && m == time.December) && !(y == year+1 && m == time.January) {
		p.add(n, path, "%s is not in %d", n.Value, year)
		return 0, false
	}
	return dayOf(t), true
}

// resolve follows aliases.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
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
		return strconv.Quote(n.Value)
	default:
		return "nothing"
	}
}
