package schemas

import (
	"strings"
	"testing"
)

func TestParseType(t *testing.T) {
	cases := []struct {
		in      string
		want    Type
		wantErr string
	}{
		{"string", Type{Kind: String}, ""},
		{" Int64 ", Type{Kind: Int64}, ""},
		{"decimal(18,2)", Type{Kind: Decimal, Precision: 18, Scale: 2}, ""},
		{"decimal( 5 , 0 )", Type{Kind: Decimal, Precision: 5, Scale: 0}, ""},
		{"timestamp", Type{Kind: Timestamp}, ""},
		{"decimal(39,2)", Type{}, "precision must be 1 to 38"},
		{"decimal(5,6)", Type{}, "scale must be 0 to the precision"},
		{"decimal(5)", Type{}, "decimal needs the form"},
		{"decimal(a,b)", Type{}, "whole numbers"},
		{"decimal(5,2", Type{}, "decimal needs the form"},
		{"strng", Type{}, `unknown type "strng"`},
		{"", Type{}, "unknown type"},
	}
	for _, c := range cases {
		got, err := ParseType(c.in)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("ParseType(%q) error = %v, want %q", c.in, err, c.wantErr)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("ParseType(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
		back, err := ParseType(got.String())
		if err != nil || back != got {
			t.Errorf("round trip of %v: %v, %v", got, back, err)
		}
		if ft, err := FromArrow(got.Arrow()); err != nil || ft != got {
			t.Errorf("FromArrow(Arrow(%v)) = %v, %v", got, ft, err)
		}
	}
}

func FuzzParseType(f *testing.F) {
	for _, s := range []string{"string", "decimal(18,2)", "decimal(,)", "decimal(38,38)", "date"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ty, err := ParseType(s)
		if err != nil {
			return
		}
		back, err := ParseType(ty.String())
		if err != nil || back != ty {
			t.Fatalf("%q parsed to %v which does not round-trip: %v %v", s, ty, back, err)
		}
	})
}

func field(name, typ string, nullable bool) Field {
	ty, err := ParseType(typ)
	if err != nil {
		panic(err)
	}
	return Field{Name: name, Type: ty, Nullable: nullable}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name    string
		s       Schema
		wantErr string
	}{
		{"ok", Schema{Fields: []Field{field("a", "string", false), field("b_2", "date", true)}}, ""},
		{"empty", Schema{}, "at least one field"},
		{"upper", Schema{Fields: []Field{field("Name", "string", false)}}, `fields[0].name "Name"`},
		{"reserved", Schema{Fields: []Field{field("_version", "int64", false)}}, "must be lower-case"},
		{"dup", Schema{Fields: []Field{field("a", "string", false), field("a", "int64", false)}}, `fields[1].name "a": declared twice`},
		{"notype", Schema{Fields: []Field{{Name: "a"}}}, "fields[0].type: missing"},
		{"sens", Schema{Fields: []Field{{Name: "a", Type: Type{Kind: String}, Sensitivity: "top"}}}, `fields[0].sensitivity "top"`},
	}
	for _, c := range cases {
		err := c.s.Validate()
		if c.wantErr == "" && err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
		if c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.wantErr)
		}
	}
}

func TestFingerprint(t *testing.T) {
	a := Schema{Fields: []Field{field("id", "string", false), field("amt", "decimal(10,2)", true)}}
	b := a
	b.Fields = append([]Field(nil), a.Fields...)
	b.Fields[0].Description = "changed"
	b.Fields[0].Sensitivity = SensitivityPersonal
	if a.Fingerprint() != b.Fingerprint() {
		t.Error("description/sensitivity changed the fingerprint")
	}
	variants := []Schema{
		{Fields: []Field{field("id", "string", true), field("amt", "decimal(10,2)", true)}},
		{Fields: []Field{field("id", "string", false), field("amt", "decimal(10,3)", true)}},
		{Fields: []Field{field("amt", "decimal(10,2)", true), field("id", "string", false)}},
		{Fields: []Field{field("id", "string", false)}},
	}
	seen := map[string]bool{a.Fingerprint(): true}
	for i, v := range variants {
		if seen[v.Fingerprint()] {
			t.Errorf("variant %d collides", i)
		}
		seen[v.Fingerprint()] = true
	}
}

func TestCompatible(t *testing.T) {
	base := Schema{Fields: []Field{field("id", "string", false), field("name", "string", true), field("amt", "decimal(10,2)", false), field("n", "int64", false)}}
	cases := []struct {
		name    string
		next    Schema
		wantErr []string
	}{
		{"same", base, nil},
		{"add nullable", Schema{Fields: append(append([]Field(nil), base.Fields...), field("x", "date", true))}, nil},
		{"drop nullable", Schema{Fields: []Field{field("id", "string", false), field("amt", "decimal(10,2)", false), field("n", "int64", false)}}, nil},
		{"widen decimal", Schema{Fields: []Field{field("id", "string", false), field("name", "string", true), field("amt", "decimal(12,3)", false), field("n", "decimal(20,0)", false)}}, nil},
		{"add required", Schema{Fields: append(append([]Field(nil), base.Fields...), field("x", "date", false))}, []string{`added field "x" must be nullable`}},
		{"drop required", Schema{Fields: []Field{field("id", "string", false), field("name", "string", true), field("amt", "decimal(10,2)", false)}}, []string{`required field "n" was removed`}},
		{"type change", Schema{Fields: []Field{field("id", "int64", false), field("name", "string", true), field("amt", "decimal(10,1)", false), field("n", "int64", false)}}, []string{`field "id" changed type from string to int64`, `field "amt" changed type`}},
		{"tighten", Schema{Fields: []Field{field("id", "string", false), field("name", "string", false), field("amt", "decimal(10,2)", false), field("n", "int64", false)}}, []string{`field "name" changed from nullable to required`}},
	}
	for _, c := range cases {
		err := Compatible(base, c.next)
		if len(c.wantErr) == 0 {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		for _, w := range c.wantErr {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", c.name, err, w)
			}
		}
	}
}
