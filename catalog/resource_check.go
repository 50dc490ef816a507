package catalog

import (
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/tongban/tongban/schemas"
)

// resourceCode is the form of a resource code, e.g. PS-POP-001.
var resourceCode = regexp.MustCompile(`^[A-Z0-9][A-Z0-9-]{2,63}$`)

// schemaErrKey matches the key path at the start of a schemas.Schema.Validate
// error: "fields", "fields[2]" or "fields[2].name".
var schemaErrKey = regexp.MustCompile(`^fields(?:\[(\d+)\])?(?:\.([a-z_]+))?`)

// checkResource checks one decoded resource on its own; the checks that need
// the other files (unique code, provider) are in Load. It fills in the default
// format. fieldsOK is false when the fields key could not be read as a list.
// schemaOK says whether the fields are sound enough to check rules against.
func checkResource(d *doc, r *Resource, fieldsOK bool) (schemaOK bool) {
	if requireStr(d, "code", r.Code, "the resource code (资源代码), e.g. PS-POP-001") && !resourceCode.MatchString(r.Code) {
		d.addAt("code", "%q: want 3 to 64 characters of A-Z, 0-9 and -, not starting with - (e.g. PS-POP-001)", r.Code)
	}
	requireStr(d, "name", r.Name, "the resource name (资源名称)")
	requireStr(d, "provider", r.Provider, "the code of the providing department (提供方), as in departments.yaml")

	checkSchema(d, r.Schema)
	fields := r.Schema
	if !fieldsOK || len(fields.Fields) == 0 {
		fields = schemas.Schema{} // fields problems are already reported; do not add noise
	}
	checkSubject(d, r.Subject, fields)
	checkLatestBy(d, r.Subject, fields)
	checkPrimaryKey(d, r.PrimaryKey, fields)

	checkChoice(d, "share_type", r.ShareType, ShareUnconditional, ShareConditional, ShareNone)
	if r.ShareType == ShareConditional || r.ShareType == ShareNone {
		requireBasis(d, "share_basis", r.ShareBasis, "share_type", r.ShareType, "sharing")
	}
	checkChoice(d, "open_type", r.OpenType, OpenOpen, OpenConditional, OpenClosed)
	if r.OpenType == OpenConditional || r.OpenType == OpenClosed {
		requireBasis(d, "open_basis", r.OpenBasis, "open_type", r.OpenType, "opening")
	}
	checkChoice(d, "update_cycle", r.UpdateCycle, CycleRealtime, CycleDaily, CycleWeekly, CycleMonthly, CycleQuarterly, CycleYearly)
	if r.Format == "" && !d.bad["format"] {
		r.Format = FormatTable
	} else {
		checkChoice(d, "format", r.Format, FormatTable)
	}
	return fieldsOK && r.Schema.Validate() == nil
}

// requireStr reports a missing value and says whether there is one to check further.
func requireStr(d *doc, key, val, what string) bool {
	if d.bad[key] {
		return false
	}
	if val == "" {
		d.addAt(key, "required: %s", what)
		return false
	}
	return true
}

// checkChoice checks that val is one of choices.
func checkChoice(d *doc, key, val string, choices ...string) {
	want := orList(choices)
	if requireStr(d, key, val, want) && !slices.Contains(choices, val) {
		d.addAt(key, "%q is not allowed (want %s)", val, want)
	}
}

// requireBasis reports a missing legal basis at the line of the type that needs it.
func requireBasis(d *doc, key, val, typeKey, typeVal, what string) {
	if d.bad[key] || strings.TrimSpace(val) != "" {
		return
	}
	line := d.line(typeKey)
	if l, ok := d.pos[key]; ok {
		line = l
	}
	d.add(line, key, "required when %s is %s: cite the law, regulation or rule that restricts %s (法律、法规、规章依据)", typeKey, typeVal, what)
}

// orList renders choices as "a, b or c".
func orList(choices []string) string {
	if len(choices) == 1 {
		return choices[0]
	}
	return strings.Join(choices[:len(choices)-1], ", ") + " or " + choices[len(choices)-1]
}

// checkSubject checks the subject type and its key field against the fields
// (empty when the fields could not be read).
func checkSubject(d *doc, s Subject, fields schemas.Schema) {
	if d.bad["subject"] {
		return
	}
	if _, present := d.pos["subject"]; !present {
		d.addAt("subject", "required: type (person, legal_person or none) and, unless none, the field holding the subject's key")
		return
	}
	checkChoice(d, "subject.type", s.Type, SubjectPerson, SubjectLegalPerson, SubjectNone)
	switch s.Type {
	case SubjectNone:
		if s.Field != "" {
			d.addAt("subject.field", "%q: must be left out when subject.type is none", s.Field)
		}
	case SubjectPerson, SubjectLegalPerson:
		what := "the field holding the citizen ID (身份证号)"
		if s.Type == SubjectLegalPerson {
			what = "the field holding the unified social credit code (统一社会信用代码)"
		}
		if !requireStr(d, "subject.field", s.Field, what) || len(fields.Fields) == 0 {
			return
		}
		f, ok := fields.Field(s.Field)
		switch {
		case !ok:
			d.addAt("subject.field", "%q is not one of the fields", s.Field)
		case f.Nullable:
			d.addAt("subject.field", "field %q is nullable: a subject key field must be required (nullable: false)", s.Field)
		case f.Type.Kind != "" && f.Type.Kind != schemas.String:
			d.addAt("subject.field", "field %q has type %s: a subject key field must be a string", s.Field, f.Type)
		}
	}
}

// checkLatestBy checks subject.latest_by: a required date or timestamp field
// of a resource about persons or legal persons.
func checkLatestBy(d *doc, s Subject, fields schemas.Schema) {
	const key = "subject.latest_by"
	if s.LatestBy == "" || d.bad[key] || d.bad["subject"] {
		return
	}
	if s.Type == SubjectNone {
		d.addAt(key, "only meaningful when subject.type is person or legal_person: it orders a subject's records when the hub merges them")
		return
	}
	if len(fields.Fields) == 0 {
		return
	}
	f, ok := fields.Field(s.LatestBy)
	switch {
	case !ok:
		d.addAt(key, "%q is not one of the fields", s.LatestBy)
	case f.Type.Kind != "" && f.Type.Kind != schemas.Date && f.Type.Kind != schemas.Timestamp:
		d.addAt(key, "field %q has type %s: latest_by must name a date or timestamp field", s.LatestBy, f.Type)
	case f.Nullable:
		d.addAt(key, "field %q is nullable: records without it could not be ordered, so latest_by must name a required field (nullable: false)", s.LatestBy)
	}
}

// checkPrimaryKey checks the primary key against the fields (empty when the
// fields could not be read).
func checkPrimaryKey(d *doc, pk []string, fields schemas.Schema) {
	if d.bad["primary_key"] {
		return
	}
	if _, present := d.pos["primary_key"]; !present {
		d.addAt("primary_key", "required: the list of fields that identify a record")
		return
	}
	if len(pk) == 0 {
		d.addAt("primary_key", "the list is empty: at least one field is required")
		return
	}
	for i, name := range pk {
		key := indexPath("primary_key", i)
		if !requireStr(d, key, name, "a field name") {
			continue
		}
		if j := slices.Index(pk, name); j < i {
			d.addAt(key, "%q is listed twice", name)
			continue
		}
		if len(fields.Fields) == 0 {
			continue
		}
		f, ok := fields.Field(name)
		switch {
		case !ok:
			d.addAt(key, "%q is not one of the fields", name)
		case f.Nullable:
			d.addAt(key, "field %q is nullable: primary key fields must be required (nullable: false)", name)
		}
	}
}

// checkSchema validates the fields with schemas.Schema.Validate, each field on
// its own first so that every bad field is reported, then the whole list
// (unique names, at least one field) when every field passed. Fields whose
// name or type was already reported while decoding are skipped.
func checkSchema(d *doc, s schemas.Schema) {
	if d.bad["fields"] {
		return
	}
	clean := true
	for i, f := range s.Fields {
		path := indexPath("fields", i)
		if d.bad[path] || d.bad[joinPath(path, "name")] || d.bad[joinPath(path, "type")] {
			clean = false
			continue
		}
		if err := (schemas.Schema{Fields: []schemas.Field{f}}).Validate(); err != nil {
			schemaProblem(d, err, i)
			clean = false
		}
	}
	if clean {
		if err := s.Validate(); err != nil {
			schemaProblem(d, err, -1)
		}
	}
}

// schemaProblem reports a schemas.Schema.Validate error at the line of the key
// it names. index, when not negative, replaces the field index in the error
// (a one-field schema calls its field fields[0]).
func schemaProblem(d *doc, err error, index int) {
	msg := err.Error()
	m := schemaErrKey.FindStringSubmatch(msg)
	if m == nil {
		d.addAt("fields", "%s", msg)
		return
	}
	key := "fields"
	if m[1] != "" {
		i, _ := strconv.Atoi(m[1])
		if index >= 0 {
			i = index
		}
		key = indexPath(key, i)
	}
	if m[2] != "" {
		key = joinPath(key, m[2])
	}
	rest := msg[len(m[0]):]
	switch {
	case strings.HasPrefix(rest, ": "):
		rest = rest[2:]
	case strings.HasPrefix(rest, " "):
		// `fields[0].name "X": problem` becomes `problem (got "X")`.
		rest = rest[1:]
		if q, err := strconv.QuotedPrefix(rest); err == nil && strings.HasPrefix(rest[len(q):], ": ") {
			rest = rest[len(q)+2:] + " (got " + q + ")"
		}
	}
	d.addAt(key, "%s", rest)
}
