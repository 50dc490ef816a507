package catalog

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// resourcesDir is the folder, relative to the catalog directory, holding one
// resource per *.yaml file.
const resourcesDir = "resources"

// Catalog is a loaded and validated catalog directory.
type Catalog struct {
	Dir         string       `json:"dir"`
	Departments []Department `json:"departments"`
	Resources   []Resource   `json:"resources"` // in file-name order
	// Subjects are the golden-record declarations from subjects.yaml
	// (optional; without it nothing is merged).
	Subjects []SubjectSpec `json:"subjects,omitempty"`
	// CodeLists are the code lists of codelists/*.yaml (optional), in
	// file-name order; rules name them with list:.
	CodeLists []CodeList `json:"code_lists,omitempty"`
	// Licences is the licence catalogue (证照目录) of licences.yaml (optional; licence.go).
	Licences []LicenceType `json:"licence_types,omitempty"`
}

// source is one file's name (relative to the catalog directory) and bytes.
type source struct {
	name string
	data []byte
}

// inputs are the files of a catalog directory.
type inputs struct {
	depts     *source  // nil when missing or unreadable
	resources []source // resources/*.yaml
	codeLists []source // codelists/*.yaml
	subjects  *source  // nil when there is no subjects.yaml
}

// Load reads and validates the catalog in dir: departments.yaml,
// resources/*.yaml and, when present, codelists/*.yaml and subjects.yaml.
// A missing or unreadable directory is an error of its own;
// otherwise the error joins (errors.Join) one *Problem per thing wrong, each
// "file:line: key: problem" with the file relative to dir.
func Load(dir string) (*Catalog, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("catalog: %s is not a directory", dir)
	}
	var ps problems
	var in inputs
	switch data, err := os.ReadFile(filepath.Join(dir, departmentsFile)); {
	case errors.Is(err, fs.ErrNotExist):
		ps.add(departmentsFile, 0, "", "missing: a catalog lists its departments in %s", departmentsFile)
	case err != nil:
		ps.add(departmentsFile, 0, "", "cannot read: %v", err)
	default:
		in.depts = &source{name: departmentsFile, data: data}
	}
	in.resources = readYAMLDir(dir, resourcesDir, true, &ps)
	in.codeLists = readYAMLDir(dir, codeListsDir, false, &ps)
	switch data, err := os.ReadFile(filepath.Join(dir, subjectsFile)); {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		ps.add(subjectsFile, 0, "", "cannot read: %v", err)
	default:
		in.subjects = &source{name: subjectsFile, data: data}
	}
	c := build(dir, in, &ps)
	c.Licences = loadLicences(dir, c, &ps)
	if ps.count() > 0 {
		return nil, fmt.Errorf("catalog %s: %d problem(s):\n%w", dir, ps.count(), errors.Join(ps.errs()...))
	}
	return c, nil
}

// readYAMLDir reads sub/*.yaml in name order: the resources (required) or
// the code lists (optional).
func readYAMLDir(dir, sub string, required bool, ps *problems) []source {
	before := ps.count()
	entries, err := os.ReadDir(filepath.Join(dir, sub))
	switch {
	case errors.Is(err, fs.ErrNotExist) && !required:
		return nil
	case errors.Is(err, fs.ErrNotExist):
		ps.add(sub, 0, "", "missing directory: a catalog keeps one resource per file in %s/*.yaml", sub)
		return nil
	case err != nil:
		ps.add(sub, 0, "", "cannot read: %v", err)
		return nil
	}
	var out []source
	for _, e := range entries { // os.ReadDir sorts by name
		name := e.Name()
		rel := path.Join(sub, name)
		switch {
		case e.IsDir() || strings.HasPrefix(name, "."):
			continue
		case strings.HasSuffix(name, ".yml"):
			ps.add(rel, 0, "", "files in %s/ must end in .yaml; this file is not read", sub)
			continue
		case !strings.HasSuffix(name, ".yaml"):
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, sub, name))
		if err != nil {
			ps.add(rel, 0, "", "cannot read: %v", err)
			continue
		}
		out = append(out, source{name: rel, data: data})
	}
	if required && len(out) == 0 && ps.count() == before {
		ps.add(sub, 0, "", "no resource files (*.yaml): the catalog is empty")
	}
	return out
}

// build decodes and checks the files, adding problems to ps. The catalog it
// returns is only meaningful when ps holds none.
func build(dir string, in inputs, ps *problems) *Catalog {
	c := &Catalog{Dir: dir}
	deptsOK := false
	if in.depts != nil {
		c.Departments, deptsOK = decodeDepartments(newDoc(in.depts.name, ps), in.depts.data)
	}
	type place struct {
		file string
		line int
	}
	// Code list name -> its codes, for rules; nil for a list with problems,
	// so that rules naming it are not reported as well.
	lists := map[string][]string{}
	listNames := map[string]place{}
	for _, src := range in.codeLists {
		d := newDoc(src.name, ps)
		before := ps.count()
		l := decodeCodeList(d, src.data)
		if l == nil {
			continue
		}
		l.File = src.name
		if l.Name != "" && !d.bad["name"] {
			if first, dup := listNames[l.Name]; dup {
				d.addAt("name", "%q is already the name of the code list in %s:%d", l.Name, first.file, first.line)
			} else {
				listNames[l.Name] = place{src.name, d.line("name")}
				lists[l.Name] = nil
				if ps.count() == before {
					lists[l.Name] = l.Values()
				}
			}
		}
		c.CodeLists = append(c.CodeLists, *l)
	}
	codes := map[string]place{}
	resourcesComplete := true
	for _, src := range in.resources {
		d := newDoc(src.name, ps)
		r, fieldsOK, rules := decodeResource(d, src.data)
		if r == nil {
			resourcesComplete = false
			continue
		}
		schemaOK := checkResource(d, r, fieldsOK)
		checkRules(d, r, rules, lists, schemaOK)
		r.File = src.name
		if r.Code != "" && !d.bad["code"] {
			if first, dup := codes[r.Code]; dup {
				d.addAt("code", "%q is already the code of the resource in %s:%d", r.Code, first.file, first.line)
			} else {
				codes[r.Code] = place{src.name, d.line("code")}
			}
		}
		if deptsOK && r.Provider != "" && !d.bad["provider"] {
			checkProvider(d, r.Provider, c.Departments)
		}
		c.Resources = append(c.Resources, *r)
	}
	if in.subjects != nil {
		c.Subjects = decodeSubjects(newDoc(in.subjects.name, ps), in.subjects.data, c, resourcesComplete)
	}
	return c
}

// checkProvider reports a provider that is not a department code, suggesting
// the department when a name was written instead of its code.
func checkProvider(d *doc, provider string, depts []Department) {
	for _, dep := range depts {
		if dep.Code == provider {
			return
		}
	}
	for _, dep := range depts {
		if dep.Code != "" && (provider == dep.Name || provider == dep.ShortName || strings.EqualFold(provider, dep.Code)) {
			d.addAt("provider", "%q is not a department code; did you mean %s (%s)?", provider, dep.Code, dep.Name)
			return
		}
	}
	d.addAt("provider", "%q is not the code of a department in %s", provider, departmentsFile)
}

// Resource returns the resource with the given code.
func (c *Catalog) Resource(code string) (*Resource, bool) {
	i := slices.IndexFunc(c.Resources, func(r Resource) bool { return r.Code == code })
	if i < 0 {
		return nil, false
	}
	return &c.Resources[i], true
}

// Department returns the department with the given code.
func (c *Catalog) Department(code string) (*Department, bool) {
	i := slices.IndexFunc(c.Departments, func(d Department) bool { return d.Code == code })
	if i < 0 {
		return nil, false
	}
	return &c.Departments[i], true
}

// ResourcesOf returns the resources the department provides, in catalog order.
func (c *Catalog) ResourcesOf(dept string) []*Resource {
	var out []*Resource
	for i := range c.Resources {
		if c.Resources[i].Provider == dept {
			out = append(out, &c.Resources[i])
		}
	}
	return out
}
