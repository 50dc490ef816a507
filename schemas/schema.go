package schemas

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// VersionColumn is the reserved column every record batch carries beside the
// catalog fields: the time the agent observed the row, in Unix microseconds.
const VersionColumn = "_version"

// Sensitivity levels of a field (分类分级), lowest first.
const (
	SensitivityPublic   = "public"   // 公开
	SensitivityInternal = "internal" // 内部
	SensitivityPersonal = "personal" // 个人信息
	SensitivitySecret   = "sensitive"
)

var fieldName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

// Field is one field (信息项) of a resource.
type Field struct {
	Name        string `json:"name" yaml:"name"`
	Type        Type   `json:"type" yaml:"type"`
	Nullable    bool   `json:"nullable" yaml:"nullable"`
	Sensitivity string `json:"sensitivity,omitempty" yaml:"sensitivity,omitempty"`
	Description string `json:"description,omitempty" yaml:"description,omitempty"`
}

// Schema is an ordered list of fields.
type Schema struct {
	Fields []Field `json:"fields" yaml:"fields"`
}

// Validate checks names, types and sensitivity levels, and that names are unique.
// Errors name the field.
func (s Schema) Validate() error {
	if len(s.Fields) == 0 {
		return errors.New("fields: at least one field is required")
	}
	seen := make(map[string]bool, len(s.Fields))
	for i, f := range s.Fields {
		switch {
		case !fieldName.MatchString(f.Name):
			return fmt.Errorf("fields[%d].name %q: must be lower-case letters, digits and _ starting with a letter, at most 63 characters", i, f.Name)
		case f.Name == VersionColumn:
			return fmt.Errorf("fields[%d].name %q: reserved", i, f.Name)
		case seen[f.Name]:
			return fmt.Errorf("fields[%d].name %q: declared twice", i, f.Name)
		case f.Type.Kind == "":
			return fmt.Errorf("fields[%d].type: missing for field %q", i, f.Name)
		}
		switch f.Sensitivity {
		case "", SensitivityPublic, SensitivityInternal, SensitivityPersonal, SensitivitySecret:
		default:
			return fmt.Errorf("fields[%d].sensitivity %q: want public, internal, personal or sensitive", i, f.Sensitivity)
		}
		seen[f.Name] = true
	}
	return nil
}

// Index returns the position of the named field, or -1.
func (s Schema) Index(name string) int {
	for i, f := range s.Fields {
		if f.Name == name {
			return i
		}
	}
	return -1
}

// Field returns the named field.
func (s Schema) Field(name string) (Field, bool) {
	if i := s.Index(name); i >= 0 {
		return s.Fields[i], true
	}
	return Field{}, false
}

// Select returns the schema of the named fields, in the order given.
func (s Schema) Select(names []string) (Schema, error) {
	out := Schema{Fields: make([]Field, 0, len(names))}
	for _, n := range names {
		f, ok := s.Field(n)
		if !ok {
			return Schema{}, fmt.Errorf("field %q is not in the schema", n)
		}
		out.Fields = append(out.Fields, f)
	}
	return out, nil
}

// Arrow returns the Arrow schema of a record batch of this schema: the fields in
// order, then the reserved _version column. Every catalog field is nullable in
// Arrow: a NULL in a required field is a quality finding for the hub to
// quarantine, not a reason for the agent to drop the row.
func (s Schema) Arrow() *arrow.Schema {
	fs := make([]arrow.Field, 0, len(s.Fields)+1)
	for _, f := range s.Fields {
		fs = append(fs, arrow.Field{Name: f.Name, Type: f.Type.Arrow(), Nullable: true})
	}
	fs = append(fs, arrow.Field{Name: VersionColumn, Type: arrow.PrimitiveTypes.Int64})
	return arrow.NewSchema(fs, nil)
}

// Fingerprint identifies the shape of the schema: names, types and nullability in
// order. Descriptions and sensitivity do not change it.
func (s Schema) Fingerprint() string {
	var b strings.Builder
	for _, f := range s.Fields {
		fmt.Fprintf(&b, "%s:%s:%t;", f.Name, f.Type, f.Nullable)
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:8])
}

// Compatible checks that records written under old can be read under next: no
// field removed unless it was nullable, no type changed except a lossless
// widening, no nullable field made required, and every added field nullable.
// The error lists every problem, naming the fields.
func Compatible(old, next Schema) error {
	var problems []string
	for _, of := range old.Fields {
		nf, ok := next.Field(of.Name)
		switch {
		case !ok && !of.Nullable:
			problems = append(problems, fmt.Sprintf("required field %q was removed", of.Name))
		case !ok:
		case !nf.Type.Widens(of.Type):
			problems = append(problems, fmt.Sprintf("field %q changed type from %s to %s", of.Name, of.Type, nf.Type))
		case of.Nullable && !nf.Nullable:
			problems = append(problems, fmt.Sprintf("field %q changed from nullable to required", of.Name))
		}
	}
	for _, nf := range next.Fields {
		if _, ok := old.Field(nf.Name); !ok && !nf.Nullable {
			problems = append(problems, fmt.Sprintf("added field %q must be nullable", nf.Name))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("incompatible schema change: %s", strings.Join(problems, "; "))
	}
	return nil
}
