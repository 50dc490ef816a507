package catalog

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"unicode/utf8"

	"github.com/tongban/tongban/identifier"
)

// licencesFile is the optional file, relative to the catalog directory, of
// the licence catalogue (证照目录, 大庆 第十一条): the licence types the
// e-licence store issues.
const licencesFile = "licences.yaml"

// LicenceType is one entry of the licence catalogue: a kind of licence
// (证照类型), who may issue it and what it holds.
type LicenceType struct {
	// Code is the licence type code (证照类型代码, GB/T 36902): 21
	// characters 0-9, A-Z; it is the second part of every licence
	// identifier of the type (GB/T 36904).
	Code string `json:"code"`
	Name string `json:"name"` // e.g. 营业执照
	// Issuers are the departments (their codes, from departments.yaml) that
	// issue licences of this type (签发机构).
	Issuers []string `json:"issuers"`
	// Holder is the kind of holder (持证主体): SubjectPerson (citizen ID) or
	// SubjectLegalPerson (USCC).
	Holder string `json:"holder"`
	// Fields are the licence's own data items, beyond holder and dates.
	Fields []LicenceField `json:"fields,omitempty"`
	File   string         `json:"file,omitempty"`
}

// LicenceField is a data item of a licence type. Values are text.
type LicenceField struct {
	Name     string `json:"name"`            // snake_case key
	Label    string `json:"label,omitempty"` // e.g. 注册资本
	Required bool   `json:"required,omitempty"`
	// MaxLength bounds the value in characters (MaxLicenceFieldRunes when 0).
	MaxLength int `json:"max_length,omitempty"`
}

// MaxLicenceFieldRunes is the default and largest max_length of a licence field.
const MaxLicenceFieldRunes = 2000

// licenceFieldName is the form of a licence field name.
var licenceFieldName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

// LicenceType returns the licence type with the given code.
func (c *Catalog) LicenceType(code string) (*LicenceType, bool) {
	i := slices.IndexFunc(c.Licences, func(t LicenceType) bool { return t.Code == code })
	if i < 0 {
		return nil, false
	}
	return &c.Licences[i], true
}

// Field returns the licence field with the given name.
func (t *LicenceType) Field(name string) (*LicenceField, bool) {
	i := slices.IndexFunc(t.Fields, func(f LicenceField) bool { return f.Name == name })
	if i < 0 {
		return nil, false
	}
	return &t.Fields[i], true
}

// MayIssue reports whether dept is an issuer of the type.
func (t *LicenceType) MayIssue(dept string) bool { return slices.Contains(t.Issuers, dept) }

// loadLicences reads licences.yaml of the catalog in dir, if there is one,
// and checks it against the departments of c; problems go to ps.
func loadLicences(dir string, c *Catalog, ps *problems) []LicenceType {
	data, err := os.ReadFile(filepath.Join(dir, licencesFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		ps.add(licencesFile, 0, "", "cannot read: %v", err)
		return nil
	}
	return decodeLicences(newDoc(licencesFile, ps), data, c)
}

// decodeLicences reads the licence catalogue:
//
//	licence_types:
//	  - code: "112306000128140287001"
//	    name: 营业执照
//	    issuers: ["112306000128140287"]
//	    holder: legal_person
//	    fields:
//	      - {name: business_scope, label: 经营范围, required: true}
func decodeLicences(d *doc, data []byte, c *Catalog) []LicenceType {
	root := d.parse(data, "a mapping with the key licence_types (a list)")
	if root == nil {
		return nil
	}
	top, _ := d.mapping("", root, "licence_types")
	elems, ok := d.list(top, "", "licence_types")
	if !ok {
		if _, present := top["licence_types"]; !present && !d.bad["licence_types"] {
			d.add(d.line(""), "licence_types", "required: the list of licence types (or remove the file)")
		}
		return nil
	}
	var out []LicenceType
	first := map[string]int{}
	for i, n := range elems {
		path := indexPath("licence_types", i)
		m, isMap := d.mapping(path, n, "code", "name", "issuers", "holder", "fields")
		if !isMap {
			continue
		}
		t := LicenceType{Code: d.str(m, path, "code"), Name: d.str(m, path, "name"),
			Holder: d.str(m, path, "holder"), File: licencesFile}
		codeKey := joinPath(path, "code")
		switch {
		case d.bad[codeKey]:
		case t.Code == "":
			d.addAt(codeKey, "required: the licence type code (证照类型代码), 21 characters 0-9, A-Z")
		case !identifier.ValidLicenceTypeCode(t.Code):
			d.addAt(codeKey, "%q is not a licence type code: want 21 characters 0-9, A-Z (GB/T 36902); quote it", t.Code)
		default:
			if l, dup := first[t.Code]; dup {
				d.addAt(codeKey, "%q is listed twice (first on line %d)", t.Code, l)
			} else {
				first[t.Code] = d.line(codeKey)
			}
		}
		if nameKey := joinPath(path, "name"); t.Name == "" && !d.bad[nameKey] {
			d.addAt(nameKey, "required: the licence's name, e.g. 营业执照")
		}
		holderKey := joinPath(path, "holder")
		if !d.bad[holderKey] && t.Holder != SubjectPerson && t.Holder != SubjectLegalPerson {
			d.addAt(holderKey, "%q: want %s (citizen ID) or %s (USCC)", t.Holder, SubjectPerson, SubjectLegalPerson)
		}
		t.Issuers = decodeIssuers(d, m, path, c)
		t.Fields = decodeLicenceFields(d, m, path)
		out = append(out, t)
	}
	return out
}

func decodeIssuers(d *doc, m map[string]entry, path string, c *Catalog) []string {
	key := joinPath(path, "issuers")
	elems, ok := d.list(m, path, "issuers")
	if !ok || len(elems) == 0 {
		if !d.bad[key] {
			d.add(d.line(path), key, "required: the codes of the departments that issue this licence (departments.yaml)")
		}
		return nil
	}
	var out []string
	for i, n := range elems {
		ip := indexPath(key, i)
		code := d.scalar(ip, n)
		if code == "" {
			if !d.bad[ip] {
				d.addAt(ip, "empty department code")
			}
			continue
		}
		if _, found := c.Department(code); !found {
			d.addAt(ip, "%q is not the code of a department in %s", code, departmentsFile)
			continue
		}
		if slices.Contains(out, code) {
			d.addAt(ip, "%q is listed twice", code)
			continue
		}
		out = append(out, code)
	}
	return out
}

func decodeLicenceFields(d *doc, m map[string]entry, path string) []LicenceField {
	key := joinPath(path, "fields")
	elems, ok := d.list(m, path, "fields")
	if !ok {
		return nil
	}
	var out []LicenceField
	seen := map[string]bool{}
	for i, n := range elems {
		fp := indexPath(key, i)
		fm, isMap := d.mapping(fp, n, "name", "label", "required", "max_length")
		if !isMap {
			continue
		}
		f := LicenceField{Name: d.str(fm, fp, "name"), Label: d.str(fm, fp, "label"), Required: d.boolean(fm, fp, "required")}
		nameKey := joinPath(fp, "name")
		switch {
		case d.bad[nameKey]:
		case !licenceFieldName.MatchString(f.Name):
			d.addAt(nameKey, "%q: want lower-case letters, digits and _, starting with a letter, at most 63 characters", f.Name)
		case seen[f.Name]:
			d.addAt(nameKey, "%q is given twice", f.Name)
		default:
			seen[f.Name] = true
		}
		if ml := d.str(fm, fp, "max_length"); ml != "" {
			var n int
			if _, err := fmt.Sscanf(ml, "%d", &n); err != nil || n < 1 || n > MaxLicenceFieldRunes || fmt.Sprint(n) != ml {
				d.addAt(joinPath(fp, "max_length"), "%q: want a whole number 1..%d", ml, MaxLicenceFieldRunes)
			} else {
				f.MaxLength = n
			}
		}
		if !utf8.ValidString(f.Label) {
			d.addAt(joinPath(fp, "label"), "not valid UTF-8")
		}
		out = append(out, f)
	}
	return out
}
