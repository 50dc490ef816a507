package objection

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tongban/tongban/catalog"
	"github.com/tongban/tongban/hub/store"
	"github.com/tongban/tongban/identifier"
)

// MaxTextRunes bounds a reason or a note, in characters.
const MaxTextRunes = 2000

// InputError is a request the service refuses: Field names the request key
// (subject_type, subject_id, field, reason, filer.kind, filer.id, result,
// note, dept) so the API answers 400 naming it.
type InputError struct {
	Field string
	Msg   string
}

func (e *InputError) Error() string { return e.Field + ": " + e.Msg }

func inputErr(field, format string, args ...any) error {
	return &InputError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Filing is what an objector files.
type Filing struct {
	SubjectType string
	SubjectID   string
	Field       string
	Reason      string
	// Filer is set when the bureau files on behalf of a data subject (kind
	// "subject", id the subject's own citizen ID or USCC); nil when a
	// department files as itself.
	Filer *Filer
}

// Filer names who objects.
type Filer struct {
	Kind string
	ID   string
}

// ValidateFiling checks f against the catalog's golden-record declarations
// and returns it normalised: subject id in canonical form (a 15-digit
// citizen ID upgraded, a final x upper-cased), reason trimmed. now bounds a
// citizen ID's birth date.
func ValidateFiling(cat *catalog.Catalog, f Filing, now time.Time) (Filing, error) {
	var spec *catalog.SubjectSpec
	switch f.SubjectType {
	case catalog.SubjectPerson, catalog.SubjectLegalPerson:
		var ok bool
		if spec, ok = cat.SubjectSpec(f.SubjectType); !ok {
			return Filing{}, inputErr("subject_type", "主体类型 %q 没有数据项声明 / the catalog declares no golden record for %q", f.SubjectType, f.SubjectType)
		}
	case "":
		return Filing{}, inputErr("subject_type", "缺少主体类型 / subject_type is required (person or legal_person)")
	default:
		return Filing{}, inputErr("subject_type", "主体类型 %q 无效 / subject_type %q is not person or legal_person", clip(f.SubjectType), clip(f.SubjectType))
	}
	id, err := normaliseSubject(f.SubjectType, f.SubjectID, now)
	if err != nil {
		return Filing{}, inputErr("subject_id", "%v", err)
	}
	f.SubjectID = id
	if f.Field == "" {
		return Filing{}, inputErr("field", "缺少数据项 / field is required")
	}
	if !hasField(spec, f.Field) {
		return Filing{}, inputErr("field", "%s 没有数据项 %q / %s has no field %q", f.SubjectType, clip(f.Field), f.SubjectType, clip(f.Field))
	}
	reason, err := checkNote(f.Reason, true)
	if err != nil {
		return Filing{}, inputErr("reason", "%v", err)
	}
	f.Reason = reason
	if f.Filer != nil {
		if f.Filer.Kind != store.FilerSubject {
			return Filing{}, inputErr("filer.kind", "filer kind %q: only \"subject\" (a data subject at the service window) may be named", clip(f.Filer.Kind))
		}
		fid, err := normaliseSubject(f.SubjectType, f.Filer.ID, now)
		if err != nil {
			return Filing{}, inputErr("filer.id", "%v", err)
		}
		if fid != f.SubjectID {
			return Filing{}, inputErr("filer.id", "数据主体只能对本人数据提出异议 / a data subject objects to its own data only: filer id is not subject_id")
		}
		f.Filer = &Filer{Kind: store.FilerSubject, ID: fid}
	}
	return f, nil
}

// normaliseSubject validates a citizen ID (person) or USCC (legal_person).
func normaliseSubject(typ, id string, now time.Time) (string, error) {
	if id == "" {
		return "", errors.New("缺少主体标识 / the subject's identifier is required")
	}
	if typ == catalog.SubjectPerson {
		n, err := identifier.NormalizeCitizenID(id, now)
		if err != nil {
			return "", fmt.Errorf("身份证号无效 / invalid citizen ID: %w", err)
		}
		return n, nil
	}
	if err := identifier.ValidateUSCC(id); err != nil {
		return "", fmt.Errorf("统一社会信用代码无效 / invalid USCC: %w", err)
	}
	return id, nil
}

func hasField(spec *catalog.SubjectSpec, name string) bool {
	_, ok := specField(spec, name)
	return ok
}

func specField(spec *catalog.SubjectSpec, name string) (*catalog.SubjectField, bool) {
	for i := range spec.Fields {
		if spec.Fields[i].Name == name {
			return &spec.Fields[i], true
		}
	}
	return nil, false
}

// checkNote trims a reason or note and checks it: valid UTF-8, no control
// characters but line breaks and tabs, at most MaxTextRunes characters.
func checkNote(s string, required bool) (string, error) {
	if !utf8.ValidString(s) {
		return "", errors.New("不是有效的 UTF-8 / not valid UTF-8")
	}
	s = strings.TrimSpace(s)
	if s == "" {
		if required {
			return "", errors.New("不能为空 / must not be empty")
		}
		return "", nil
	}
	if n := utf8.RuneCountInString(s); n > MaxTextRunes {
		return "", fmt.Errorf("超过 %d 字 / %d characters, at most %d", MaxTextRunes, n, MaxTextRunes)
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' {
			return "", fmt.Errorf("含控制字符 / contains control character %U", r)
		}
	}
	return s, nil
}

// clip shortens user input echoed in a message.
func clip(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if utf8.RuneCountInString(s) <= 64 {
		return s
	}
	return string([]rune(s)[:64]) + "…"
}
