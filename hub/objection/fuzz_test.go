package objection

import (
	"errors"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tongban/tongban/catalog"
)

// FuzzValidateFiling: the validator never panics; it either refuses with an
// InputError naming a request key, or returns a filing whose type, field,
// identifiers and reason are acceptable, and validating that again changes
// nothing.
func FuzzValidateFiling(f *testing.F) {
	f.Add("person", "11010119900307001X", "name", "姓名有误", "", "")
	f.Add("person", "110101900307001", "address", " moved\n", "subject", "110101900307001")
	f.Add("legal_person", "91110101MA01AB2C3D", "name", "x", "", "")
	f.Add("company", "", "", "", "dept", "x")
	f.Add("person", "11010119900307001x", "name", "\x00", "subject", "11010119900307001X")
	cat := testCatalog()
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, Zone())
	keys := map[string]bool{"subject_type": true, "subject_id": true, "field": true, "reason": true, "filer.kind": true, "filer.id": true}
	f.Fuzz(func(t *testing.T, typ, id, field, reason, filerKind, filerID string) {
		in := Filing{SubjectType: typ, SubjectID: id, Field: field, Reason: reason}
		if filerKind != "" || filerID != "" {
			in.Filer = &Filer{Kind: filerKind, ID: filerID}
		}
		out, err := ValidateFiling(cat, in, now)
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) || !keys[ie.Field] || !utf8.ValidString(ie.Msg) {
				t.Fatalf("error %v is not an InputError on a request key", err)
			}
			return
		}
		if out.SubjectType != catalog.SubjectPerson && out.SubjectType != catalog.SubjectLegalPerson {
			t.Fatalf("accepted subject type %q", out.SubjectType)
		}
		if out.Reason == "" || !utf8.ValidString(out.Reason) || utf8.RuneCountInString(out.Reason) > MaxTextRunes {
			t.Fatalf("accepted reason %q", out.Reason)
		}
		if out.Filer != nil && out.Filer.ID != out.SubjectID {
			t.Fatalf("filer %q is not the subject %q", out.Filer.ID, out.SubjectID)
		}
		again, err := ValidateFiling(cat, out, now)
		if err != nil || again.SubjectID != out.SubjectID || again.Reason != out.Reason {
			t.Fatalf("not idempotent: %+v -> %+v, %v", out, again, err)
		}
	})
}
