package catalog

import (
	"regexp"
	"slices"

	"gopkg.in/yaml.v3"

	"github.com/tongban/tongban/schemas"
)

// SourceRef names one field of one resource.
type SourceRef struct {
	Resource string `json:"resource"`
	Field    string `json:"field"`
}

// SubjectField is one field of a golden record (一数一源): exactly one
// authoritative source, and the other sources that carry the same datum and
// only cross-check it (多源校核).
type SubjectField struct {
	Name        string      `json:"name"`
	Description string      `json:"description,omitempty"`
	Authority   SourceRef   `json:"authority"`
	CrossCheck  []SourceRef `json:"cross_check,omitempty"`
}

// SubjectSpec declares the golden record of one subject type (person or
// legal_person), from subjects.yaml in the catalog directory.
type SubjectSpec struct {
	Type string `json:"type"` // SubjectPerson or SubjectLegalPerson
	// Library is the base library (基础库) the golden records form, e.g.
	// "population" (人口基础库) or "legal_person" (法人基础库); it names the
	// change topic.
	Library string         `json:"library"`
	Name    string         `json:"name,omitempty"` // e.g. 人口基础库
	Fields  []SubjectField `json:"fields"`
}

// SubjectSpec returns the golden-record declaration of a subject type.
func (c *Catalog) SubjectSpec(typ string) (*SubjectSpec, bool) {
	for i := range c.Subjects {
		if c.Subjects[i].Type == typ {
			return &c.Subjects[i], true
		}
	}
	return nil, false
}

// subjectsFile is the optional file, relative to the catalog directory, that
// declares the golden records (一数一源).
const subjectsFile = "subjects.yaml"

// libraryName is the form of a base library name: it names a Kafka topic.
var libraryName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

// subjectFieldName is the form of a golden-record field name (as a catalog field).
var subjectFieldName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

// decodeSubjects reads subjects.yaml and checks it against the resources of
// c. resourcesComplete is false when a resource file could not be read at
// all, so that a source naming an unknown resource is not reported (it may
// be in that file).
func decodeSubjects(d *doc, data []byte, c *Catalog, resourcesComplete bool) []SubjectSpec {
	root := d.parse(data, "subject types (person, legal_person) mapped to their golden records")
	if root == nil {
		return nil
	}
	before := d.ps.count()
	top, _ := d.mapping("", root, SubjectPerson, SubjectLegalPerson)
	if len(top) == 0 && d.ps.count() == before {
		d.add(d.line(""), "", "declares no golden record: give person, legal_person or both (or remove the file)")
	}
	var out []SubjectSpec
	libraries := map[string]int{} // library -> line of its first declaration
	for _, typ := range []string{SubjectPerson, SubjectLegalPerson} {
		e, ok := top[typ]
		if !ok {
			continue
		}
		if spec, ok := decodeSubjectSpec(d, typ, e.val, c, resourcesComplete, libraries); ok {
			out = append(out, spec)
		}
	}
	return out
}

// decodeSubjectSpec reads and checks the golden record of one subject type.
func decodeSubjectSpec(d *doc, typ string, n *yaml.Node, c *Catalog, complete bool, libraries map[string]int) (SubjectSpec, bool) {
	m, ok := d.mapping(typ, n, "library", "name", "fields")
	if !ok {
		return SubjectSpec{}, false
	}
	spec := SubjectSpec{Type: typ, Library: d.str(m, typ, "library"), Name: d.str(m, typ, "name")}
	libKey := joinPath(typ, "library")
	switch {
	case d.bad[libKey]:
	case spec.Library == "":
		d.add(d.line(typ), libKey, "required: the base library's name (基础库), e.g. population; it names the change topic")
	case !libraryName.MatchString(spec.Library):
		d.addAt(libKey, "%q: want lower-case letters, digits and _, starting with a letter, at most 63 characters", spec.Library)
	default:
		if at, dup := libraries[spec.Library]; dup {
			d.addAt(libKey, "%q is already the library of another subject type (line %d)", spec.Library, at)
		} else {
			libraries[spec.Library] = d.line(libKey)
		}
	}
	fieldsKey := joinPath(typ, "fields")
	elems, ok := d.list(m, typ, "fields")
	switch {
	case !ok && !d.bad[fieldsKey]:
		d.add(d.line(typ), fieldsKey, "required: the fields of the golden record, each with its authoritative source")
		return spec, true
	case !ok:
		return spec, true
	case len(elems) == 0:
		d.addAt(fieldsKey, "the list is empty: at least one field is required")
		return spec, true
	}
	first := map[string]int{} // field name -> line of its first declaration
	for i, fn := range elems {
		path := indexPath(fieldsKey, i)
		fm, ok := d.mapping(path, fn, "name", "description", "authority", "cross_check")
		if !ok {
			continue
		}
		f := SubjectField{Name: d.str(fm, path, "name"), Description: d.str(fm, path, "description")}
		nameKey := joinPath(path, "name")
		srcName := "" // the field name a shorthand source refers to; "" when the name is bad
		switch {
		case d.bad[nameKey]:
		case f.Name == "":
			d.addAt(nameKey, "required: the field's name in the golden record")
		case !subjectFieldName.MatchString(f.Name):
			d.addAt(nameKey, "%q: want lower-case letters, digits and _, starting with a letter, at most 63 characters", f.Name)
		default:
			srcName = f.Name
			if at, dup := first[f.Name]; dup {
				d.addAt(nameKey, "%q is already declared on line %d: 一数一源, one authoritative source per field", f.Name, at)
			} else {
				first[f.Name] = d.line(nameKey)
			}
		}
		authKey := joinPath(path, "authority")
		var authField schemas.Field
		authOK := false
		switch e, present := fm["authority"]; {
		case !present:
			d.add(d.line(path), authKey, "required: the one authoritative source (一数一源), a resource code or {resource, field}")
		case e.val.Kind == yaml.SequenceNode:
			d.add(e.val.Line, authKey, "一数一源: one authoritative source per field, not a list; name the other sources under cross_check")
		default:
			if ref, keys, ok := decodeSource(d, authKey, e.val, srcName); ok {
				f.Authority = ref
				authField, authOK = checkSource(d, keys, ref, typ, c, complete)
			}
		}
		if _, present := fm["cross_check"]; present {
			ccKey := joinPath(path, "cross_check")
			items, _ := d.list(fm, path, "cross_check")
			for j, cn := range items {
				key := indexPath(ccKey, j)
				ref, keys, ok := decodeSource(d, key, cn, srcName)
				if !ok {
					continue
				}
				switch {
				case ref == f.Authority:
					d.addAt(key, "%s.%s is the authority itself: cross_check lists the other sources of the datum", ref.Resource, ref.Field)
					continue
				case slices.Contains(f.CrossCheck, ref):
					d.addAt(key, "%s.%s is listed twice", ref.Resource, ref.Field)
					continue
				}
				f.CrossCheck = append(f.CrossCheck, ref)
				cf, ok := checkSource(d, keys, ref, typ, c, complete)
				if ok && authOK && !comparableKinds(authField.Type.Kind, cf.Type.Kind) {
					d.add(d.line(key), key, "%s.%s has type %s, which cannot be compared with the authority %s.%s of type %s",
						ref.Resource, ref.Field, cf.Type, f.Authority.Resource, f.Authority.Field, authField.Type)
				}
			}
		}
		spec.Fields = append(spec.Fields, f)
	}
	return spec, true
}

// sourceKeys are the keys to report a source's problems at: its resource and
// its field (the same key for the shorthand form).
type sourceKeys struct{ resource, field string }

// decodeSource reads a source: a resource code (the field has the golden
// field's name) or a mapping {resource, field}; field defaults to name. ok is
// false, with nothing more reported, when the field is left to name and name
// is "" (the golden field's name is bad, which is reported already).
func decodeSource(d *doc, path string, n *yaml.Node, name string) (SourceRef, sourceKeys, bool) {
	n = resolve(n)
	before := d.ps.count()
	if n.Kind == yaml.ScalarNode {
		ref := SourceRef{Resource: d.scalar(path, n), Field: name}
		if ref.Resource == "" && !d.bad[path] {
			d.add(n.Line, path, "want a resource code or {resource, field}, got %s", describe(n))
		}
		return ref, sourceKeys{path, path}, d.ps.count() == before && name != ""
	}
	m, ok := d.mapping(path, n, "resource", "field")
	if !ok {
		return SourceRef{}, sourceKeys{}, false
	}
	ref := SourceRef{Resource: d.str(m, path, "resource"), Field: d.str(m, path, "field")}
	keys := sourceKeys{joinPath(path, "resource"), joinPath(path, "field")}
	if ref.Resource == "" && !d.bad[keys.resource] {
		d.addAt(keys.resource, "required: the code of the resource carrying the datum")
	}
	if ref.Field == "" && !d.bad[keys.field] {
		ref.Field = name
	}
	return ref, keys, d.ps.count() == before && ref.Field != ""
}

// checkSource checks that a source names a field of a resource about the
// same subject type, and returns the field.
func checkSource(d *doc, keys sourceKeys, ref SourceRef, typ string, c *Catalog, complete bool) (schemas.Field, bool) {
	r, ok := c.Resource(ref.Resource)
	if !ok {
		if complete {
			d.addAt(keys.resource, "%q is not the code of a resource in %s/", ref.Resource, resourcesDir)
		}
		return schemas.Field{}, false
	}
	if r.Subject.Type != typ {
		d.addAt(keys.resource, "resource %s is about subject type %q, not %s: a golden record takes its fields from resources about the same subjects", ref.Resource, r.Subject.Type, typ)
		return schemas.Field{}, false
	}
	f, ok := r.Schema.Field(ref.Field)
	if !ok {
		d.addAt(keys.field, "resource %s has no field %q", ref.Resource, ref.Field)
		return schemas.Field{}, false
	}
	return f, f.Type.Kind != ""
}

// comparableKinds reports whether values of field types a and b can be
// compared when sources are cross-checked: the same kind, both numbers, both
// dates or timestamps, or either a string (text compares with anything).
func comparableKinds(a, b schemas.Kind) bool {
	if a == b || a == schemas.String || b == schemas.String {
		return true
	}
	group := func(k schemas.Kind) int {
		switch k {
		case schemas.Int64, schemas.Float64, schemas.Decimal:
			return 1
		case schemas.Date, schemas.Timestamp:
			return 2
		}
		return 0
	}
	return group(a) != 0 && group(a) == group(b)
}
