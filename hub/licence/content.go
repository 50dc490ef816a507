package licence

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/emmansun/gmsm/sm3"
)

// Content is what one version of a licence says, and what its seal covers.
// Its canonical encoding (Canonical) is stored verbatim; the digest is the
// SM3 hash of that encoding.
type Content struct {
	Identifier string            `json:"identifier"` // GB/T 36904, this version's
	TypeCode   string            `json:"type_code"`
	TypeName   string            `json:"type_name"`
	Issuer     string            `json:"issuer"` // the issuing department's USCC
	IssuerName string            `json:"issuer_name"`
	HolderType string            `json:"holder_type"` // person | legal_person
	HolderID   string            `json:"holder_id"`   // citizen ID | USCC
	HolderName string            `json:"holder_name"`
	IssueDate  string            `json:"issue_date"` // of the licence (version 1), 2006-01-02
	ValidFrom  string            `json:"valid_from"`
	ValidUntil string            `json:"valid_until"`
	Fields     map[string]string `json:"fields"`
	Version    int               `json:"version"`
}

// Canonical is the canonical encoding of c: UTF-8 JSON with the keys of
// Content in the order above, the data fields in byte order of their names,
// no insignificant white space, no HTML escaping and no trailing newline.
// Strings are kept exactly as given (no Unicode normalisation). A verifier
// holding a licence's content encodes it this way and compares the SM3 hex
// digest with the store's.
func (c Content) Canonical() []byte {
	if c.Fields == nil {
		c.Fields = map[string]string{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	// A struct of strings, an int and a map of strings always encodes.
	_ = enc.Encode(c)
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// Digest is the SM3 digest of b in lower-case hex.
func Digest(b []byte) string {
	d := sm3.Sum(b)
	return hex.EncodeToString(d[:])
}

// ParseContent decodes a stored canonical encoding. It fails when b is not
// the canonical encoding of what it decodes to (an edited row, re-indented,
// with unknown keys...).
func ParseContent(b []byte) (Content, error) {
	var c Content
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Content{}, fmt.Errorf("licence content: %w", err)
	}
	if !bytes.Equal(c.Canonical(), b) {
		return Content{}, errors.New("licence content is not in canonical form")
	}
	return c, nil
}
