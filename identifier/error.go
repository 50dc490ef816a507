// Package identifier validates, parses and generates the two identifiers every
// record in Tongban is keyed by: the resident citizen ID number (公民身份号码,
// GB 11643-1999) and the unified social credit code (统一社会信用代码, GB 32100-2015),
// including the organisation code (组织机构代码, GB 11714) embedded in the latter.
package identifier

import (
	"errors"
	"fmt"
)

// Kind names the identifier an Error is about.
type Kind string

// The identifier kinds.
const (
	KindCitizenID Kind = "citizen_id"
	KindUSCC      Kind = "uscc"
	KindOrgCode   Kind = "org_code"
)

// Code classifies why an identifier was rejected.
type Code string

// The rejection codes.
const (
	CodeLength    Code = "length"    // wrong number of characters
	CodeCharset   Code = "charset"   // a character outside the allowed set at its position
	CodeRegion    Code = "region"    // administrative division code not valid (GB/T 2260)
	CodeBirthdate Code = "birthdate" // birth date not a calendar date, before 1900 or in the future
	CodeOrgCode   Code = "orgcode"   // embedded GB 11714 organisation code has a wrong check character
	CodeChecksum  Code = "checksum"  // final check character does not match
	CodeSequence  Code = "sequence"  // sequence number out of range or not matching the sex (building IDs only)
)

// Error is the typed error every validator in this package returns. Use
// errors.As to get at it, or errors.Is(err, &Error{Code: CodeChecksum}) to test
// the code (Kind and Field in the target are compared only when set).
type Error struct {
	Kind     Kind   // which identifier
	Code     Code   // why it was rejected
	Field    string // the part of the identifier at fault, e.g. "birth_date", "check"; empty if the whole value
	Pos      int    // 1-based position of the first offending character; 0 if not about one character
	Reason   string // English explanation
	ReasonZH string // Chinese explanation
}

// Error implements error; the message is English and names the kind, field and code.
func (e *Error) Error() string {
	field := ""
	if e.Field != "" {
		field = " " + e.Field
	}
	return fmt.Sprintf("invalid %s%s (%s): %s", e.Kind, field, e.Code, e.Reason)
}

// Is reports whether target is an *Error with the same Code (and the same Kind
// and Field when the target sets them).
func (e *Error) Is(target error) bool {
	var t *Error
	if !errors.As(target, &t) || t == nil {
		return false
	}
	if t.Code != e.Code {
		return false
	}
	if t.Kind != "" && t.Kind != e.Kind {
		return false
	}
	return t.Field == "" || t.Field == e.Field
}

// CodeOf returns the Code of err if it is (or wraps) an *Error, and "" otherwise.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}
