package catalog

import (
	"fmt"
	"strings"
)

// departmentsFile is the file, relative to the catalog directory, that lists
// the departments.
const departmentsFile = "departments.yaml"

// Department is a government department (政务部门) that provides or uses data.
type Department struct {
	Code      string `json:"code" yaml:"code"` // unified social credit code (统一社会信用代码) of the department
	Name      string `json:"name" yaml:"name"`
	ShortName string `json:"short_name,omitempty" yaml:"short_name,omitempty"`
}

// usccAlphabet holds the characters a unified social credit code may use
// (GB 32100: 0-9 and A-Z without I, O, Z, S, V).
const usccAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// usccLength is the length of a unified social credit code.
const usccLength = 18

// checkUSCCFormat checks the length and alphabet of a unified social credit
// code. The check character is verified by package identifier, not here.
func checkUSCCFormat(code string) error {
	pos := 0
	for _, r := range code {
		pos++
		if r > 0x7f || !strings.ContainsRune(usccAlphabet, r) {
			hint := ""
			switch {
			case r >= 'a' && r <= 'z':
				hint = "; write letters in upper case"
			case strings.ContainsRune("IOZSV", r):
				hint = "; GB 32100 leaves out I, O, Z, S and V"
			}
			return fmt.Errorf("%q is not a unified social credit code: character %d (%q) is not one of 0-9, A-Z without I, O, Z, S, V%s", code, pos, r, hint)
		}
	}
	if len(code) != usccLength {
		return fmt.Errorf("%q is not a unified social credit code: want %d characters, got %d", code, usccLength, len(code))
	}
	return nil
}

// decodeDepartments reads departments.yaml. ok is false when the file could
// not be read as a list of departments at all, so provider checks against it
// would only add noise.
func decodeDepartments(d *doc, data []byte) (depts []Department, ok bool) {
	root := d.parse(data, "a mapping with the key departments (a list)")
	if root == nil {
		return nil, false
	}
	top, _ := d.mapping("", root, "departments")
	elems, ok := d.list(top, "", "departments")
	if !ok {
		if _, present := top["departments"]; !present {
			d.add(d.line(""), "departments", "required: the list of departments")
		}
		return nil, false
	}
	if len(elems) == 0 {
		d.addAt("departments", "the list is empty: at least one department is required")
		return nil, true
	}
	first := map[string]int{} // code -> line of its first listing
	for i, n := range elems {
		path := indexPath("departments", i)
		m, isMap := d.mapping(path, n, "code", "name", "short_name")
		if !isMap {
			continue
		}
		dep := Department{
			Code:      d.str(m, path, "code"),
			Name:      d.str(m, path, "name"),
			ShortName: d.str(m, path, "short_name"),
		}
		codeKey, nameKey := joinPath(path, "code"), joinPath(path, "name")
		switch {
		case d.bad[codeKey]:
		case dep.Code == "":
			d.addAt(codeKey, "required: the department's unified social credit code (统一社会信用代码)")
		default:
			if err := checkUSCCFormat(dep.Code); err != nil {
				d.addAt(codeKey, "%v", err)
			} else if l, dup := first[dep.Code]; dup {
				d.addAt(codeKey, "%q is listed twice (first on line %d)", dep.Code, l)
			} else {
				first[dep.Code] = d.line(codeKey)
			}
		}
		if dep.Name == "" && !d.bad[nameKey] {
			d.addAt(nameKey, "required: the department's full name")
		}
		depts = append(depts, dep)
	}
	return depts, true
}
