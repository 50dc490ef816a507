package catalog

import (
	"gopkg.in/yaml.v3"

	"github.com/tongban/tongban/schemas"
)

// decodeResource reads one resource file into a Resource, reporting YAML
// problems (syntax, unknown or repeated keys, values of the wrong kind, field
// types, rules as written). It returns nil when the file is not a mapping at
// all. fieldsOK is false when the fields key is present but not a list.
// rules[i] are the rules declared on field i, resolved and compiled later by
// checkRules.
func decodeResource(d *doc, data []byte) (r *Resource, fieldsOK bool, rules [][]ruleSpec) {
	root := d.parse(data, "one resource")
	if root == nil {
		return nil, false, nil
	}
	m, _ := d.mapping("", root,
		"code", "name", "description", "provider", "subject", "primary_key", "fields",
		"share_type", "share_basis", "open_type", "open_basis", "update_cycle", "format", "live")
	r = &Resource{
		Code:        d.str(m, "", "code"),
		Name:        d.str(m, "", "name"),
		Description: d.str(m, "", "description"),
		Provider:    d.str(m, "", "provider"),
		ShareType:   d.str(m, "", "share_type"),
		ShareBasis:  d.str(m, "", "share_basis"),
		OpenType:    d.str(m, "", "open_type"),
		OpenBasis:   d.str(m, "", "open_basis"),
		UpdateCycle: d.str(m, "", "update_cycle"),
		Format:      d.str(m, "", "format"),
		Live:        d.boolean(m, "", "live"),
	}
	if e, ok := m["subject"]; ok {
		if sm, ok := d.mapping("subject", e.val, "type", "field", "latest_by"); ok {
			r.Subject = Subject{Type: d.str(sm, "subject", "type"), Field: d.str(sm, "subject", "field"),
				LatestBy: d.str(sm, "subject", "latest_by")}
		}
	}
	if elems, ok := d.list(m, "", "primary_key"); ok {
		r.PrimaryKey = make([]string, 0, len(elems))
		for i, n := range elems {
			r.PrimaryKey = append(r.PrimaryKey, d.scalar(indexPath("primary_key", i), n))
		}
	}
	elems, ok := d.list(m, "", "fields")
	_, present := m["fields"]
	fieldsOK = ok || !present
	for i, n := range elems {
		f, fr := decodeField(d, indexPath("fields", i), n)
		r.Schema.Fields = append(r.Schema.Fields, f)
		rules = append(rules, fr)
	}
	return r, fieldsOK, rules
}

// decodeField reads one entry of fields. That the name and type are present
// and the type parses is checked here; everything else about the field is
// left to schemas.Schema.Validate (see checkSchema). The field's rules are
// returned as written.
func decodeField(d *doc, path string, n *yaml.Node) (schemas.Field, []ruleSpec) {
	m, ok := d.mapping(path, n, "name", "type", "nullable", "sensitivity", "description", "rules")
	if !ok {
		return schemas.Field{}, nil
	}
	f := schemas.Field{
		Name:        d.str(m, path, "name"),
		Nullable:    d.boolean(m, path, "nullable"),
		Sensitivity: d.str(m, path, "sensitivity"),
		Description: d.str(m, path, "description"),
	}
	nameKey, typeKey := joinPath(path, "name"), joinPath(path, "type")
	if f.Name == "" && !d.bad[nameKey] {
		d.addAt(nameKey, "required: the field's name (the column name)")
	}
	switch spelled := d.str(m, path, "type"); {
	case d.bad[typeKey]:
	case spelled == "":
		d.addAt(typeKey, "required (string, int64, float64, decimal(p,s), date, timestamp, bool or bytes)")
	default:
		t, err := schemas.ParseType(spelled)
		if err != nil {
			d.addAt(typeKey, "%v", err)
		}
		f.Type = t
	}
	return f, decodeRules(d, m, path)
}
