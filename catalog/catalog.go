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
}

// source is one file's name (relative to the catalog directory) and bytes.
type source struct {
	name string
	data []byte
}

// Load reads and validates the catalog in dir: departments.yaml and
// resources/*.yaml. A missing or unreadable directory is an error of its own;
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
	var depts *source
	switch data, err := os.ReadFile(filepath.Join(dir, departmentsFile)); {
	case errors.Is(err, fs.ErrNotExist):
		ps.add(departmentsFile, 0, "", "missing: a catalog lists its departments in %s", departmentsFile)
	case err != nil:
		ps.add(departmentsFile, 0, "", "cannot read: %v", err)
	default:
		depts = &source{name: departmentsFile, data: data}
	}
	resources := readResources(dir, &ps)
	c := build(dir, depts, resources, &ps)
	if ps.count() > 0 {
		return nil, fmt.Errorf("catalog %s: %d problem(s):\n%w", dir, ps.count(), errors.Join(ps.errs()...))
	}
	return c, nil
}

// readResources reads resources/*.yaml in name order.
func readResources(dir string, ps *problems) []source {
	before := ps.count()
	entries, err := os.ReadDir(filepath.Join(dir, resourcesDir))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		ps.add(resourcesDir, 0, "", "missing directory: a catalog keeps one resource per file in %s/*.yaml", resourcesDir)
		return nil
	case err != nil:
		ps.add(resourcesDir, 0, "", "cannot read: %v", err)
		return nil
	}
	var out []source
	for _, e := range entries { // os.ReadDir sorts by name
		name := e.Name()
		rel := path.Join(resourcesDir, name)
		switch {
		case e.IsDir() || strings.HasPrefix(name, "."):
			continue
		case strings.HasSuffix(name, ".yml"):
			ps.add(rel, 0, "", "resource files must end in .yaml; this file is not read")
			continue
		case !strings.HasSuffix(name, ".yaml"):
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, resourcesDir, name))
		if err != nil {
			ps.add(rel, 0, "", "cannot read: %v", err)
			continue
		}
		out = append(out, source{name: rel, data: data})
	}
	if len(out) == 0 && ps.count() == before {
		ps.add(resourcesDir, 0, "", "no resource files (*.yaml): the catalog is empty")
	}
	return out
}

// build decodes and checks the files, adding problems to ps. The catalog it
// returns is only meaningful when ps holds none.
func build(dir string, depts *source, resources []source, ps *problems) *Catalog {
	c := &Catalog{Dir: dir}
	deptsOK := false
	if depts != nil {
		c.Departments, deptsOK = decodeDepartments(newDoc(depts.name, ps), depts.data)
	}
	type place struct {
		file string
		line int
	}
	codes := map[string]place{}
	for _, src := range resources {
		d := newDoc(src.name, ps)
		r, fieldsOK := decodeResource(d, src.data)
		if r == nil {
			continue
		}
		checkResource(d, r, fieldsOK)
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
