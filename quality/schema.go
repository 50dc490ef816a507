package quality

import (
	"errors"
	"fmt"

	"github.com/tongban/tongban/schemas"
)

// ValidateAgainst checks that rules fit a resource's schema: every field they
// name exists, and each kind suits the field's type (length, pattern,
// citizen_id, uscc on strings; code_list on strings or int64; range on int64,
// float64 or decimal; date_range on date, timestamp or string; the With field
// of citizen_id_birth a date, timestamp or string, of citizen_id_sex a string
// or int64). A citizen_id rule's region list is data, not a field, so it
// does not concern the schema; Compile checks it. Problems are keyed
// "rules[i].field" and joined.
func ValidateAgainst(rules []Rule, s schemas.Schema) error {
	var errs []error
	for i, r := range rules {
		bad := func(key, format string, args ...any) {
			errs = append(errs, &Problem{Line: r.Line, Key: fmt.Sprintf("rules[%d].%s", i, key), Msg: fmt.Sprintf(format, args...)})
		}
		f, ok := s.Field(r.Field)
		if !ok {
			bad("field", "%q is not a field of the schema", r.Field)
			continue
		}
		if want := fieldKinds(r.Kind); want != nil && !kindIn(f.Type.Kind, want) {
			bad("field", "a %s rule does not apply to %s field %q (want %v)", r.Kind, f.Type, r.Field, want)
		}
		if r.Kind != KindCitizenIDBirth && r.Kind != KindCitizenIDSex {
			continue
		}
		w, ok := s.Field(r.With)
		if !ok {
			bad("with", "%q is not a field of the schema", r.With)
			continue
		}
		want := []schemas.Kind{schemas.String, schemas.Int64}
		if r.Kind == KindCitizenIDBirth {
			want = []schemas.Kind{schemas.Date, schemas.Timestamp, schemas.String}
		}
		if !kindIn(w.Type.Kind, want) {
			bad("with", "%s field %q cannot be compared by a %s rule (want %v)", w.Type, r.With, r.Kind, want)
		}
	}
	return errors.Join(errs...)
}

// fieldKinds are the field types a rule kind applies to; nil means any.
func fieldKinds(kind string) []schemas.Kind {
	switch kind {
	case KindLength, KindPattern, KindCitizenID, KindUSCC, KindCitizenIDBirth, KindCitizenIDSex:
		return []schemas.Kind{schemas.String}
	case KindCodeList:
		return []schemas.Kind{schemas.String, schemas.Int64}
	case KindRange:
		return []schemas.Kind{schemas.Int64, schemas.Float64, schemas.Decimal}
	case KindDateRange:
		return []schemas.Kind{schemas.Date, schemas.Timestamp, schemas.String}
	}
	return nil
}

func kindIn(k schemas.Kind, list []schemas.Kind) bool {
	for _, e := range list {
		if e == k {
			return true
		}
	}
	return false
}
