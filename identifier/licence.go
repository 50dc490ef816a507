package identifier

import (
	"fmt"
	"strconv"
	"strings"
)

// The e-licence identifier (电子证照标识, GB/T 36904-2018):
//
//	1.2.156.3005.2.<type code>.<issuer>.<serial>.<version>.<check>
//
//	1.2.156.3005.2  the fixed object-identifier prefix of e-licences
//	type code       证照类型代码, 21 characters 0-9 A-Z (GB/T 36902: the code of
//	                the department keeping the licence catalogue entry, 18,
//	                and a 3-digit sequence)
//	issuer          证照颁发机构代码: the issuer's unified social credit code, 18
//	serial          流水号, assigned by the issuer
//	version         版本号, 3 digits, 001 for the first issue
//	check           校验位, 1 character, ISO/IEC 7064 MOD 37,36 (GB/T 17710)
//
// What the check character covers. The standard computes it over the type
// code, issuer code, serial and version written one after the other, without
// the fixed prefix and without the dots. Checked against identifiers found in
// public government systems and their code, every well-formed one agrees:
//
//	1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F
//	1.2.156.3005.2.11100000000013338W087.11370800MB28559184.37080001202411010001.001.3
//	1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.002.S
//	1.2.156.3005.2.11100000000013338W009.11330105002500287C.2025052201.002.0
//
// (covering the prefix as well, or the dots, gives other characters for all
// of them), and the Java helpers issuing such identifiers call their check
// function on typeCode+issuer+serial+version.
//
// The serial's length. The standard leaves the serial to the issuer: the
// identifiers in use carry serials of 7, 9, 10, 11, 12 and 20 characters, and
// some 32-character hexadecimal ones (UUIDs in upper case). This package
// accepts 1 to LicenceSerialMaxLen characters of 0-9 and A-Z (the MOD 37,36
// alphabet; lower case is refused, as in the other parts) and generates
// what the caller gives. The hub's store assigns 12-digit serials: the issue
// year and an 8-digit sequence.

// KindLicence is the Kind of errors about an e-licence identifier.
const KindLicence Kind = "licence_id"

// CodeStructure: the identifier does not have the prefix and the dotted parts
// of GB/T 36904.
const CodeStructure Code = "structure"

// LicencePrefix is the fixed object-identifier prefix of every e-licence
// identifier (1.2.156 China, 3005 e-licences, 2 the identifier scheme).
const LicencePrefix = "1.2.156.3005.2."

// Lengths of the identifier's parts.
const (
	LicenceTypeCodeLen  = 21
	LicenceIssuerLen    = USCCLength
	LicenceVersionLen   = 3
	LicenceSerialMaxLen = 32
	// LicenceIDMaxLen is the longest identifier this package accepts.
	LicenceIDMaxLen = len(LicencePrefix) + LicenceTypeCodeLen + 1 + LicenceIssuerLen + 1 + LicenceSerialMaxLen + 1 + LicenceVersionLen + 2
)

// LicenceAlphabet is the MOD 37,36 alphabet: a character's value is its index.
const LicenceAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

// LicenceID is a parsed, valid e-licence identifier.
type LicenceID struct {
	TypeCode string // 21 characters
	Issuer   string // the issuer's USCC
	Serial   string
	Version  int // 1..999
	Check    byte
}

// String renders the identifier.
func (l LicenceID) String() string {
	return fmt.Sprintf("%s%s.%s.%s.%03d.%c", LicencePrefix, l.TypeCode, l.Issuer, l.Serial, l.Version, l.Check)
}

// Base is the identifier without version and check character: the licence
// across its versions, "<type code>.<issuer>.<serial>".
func (l LicenceID) Base() string { return l.TypeCode + "." + l.Issuer + "." + l.Serial }

// WithVersion returns the identifier of another version of the same licence,
// its check character computed.
func (l LicenceID) WithVersion(v int) (LicenceID, error) {
	return NewLicenceID(l.TypeCode, l.Issuer, l.Serial, v)
}

func licenceValue(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10
	}
	return -1
}

// mod3736 is the ISO/IEC 7064 MOD 37,36 hybrid system's check character of
// s, whose characters must all be in LicenceAlphabet.
func mod3736(s string) byte {
	const m = 36
	p := m
	for i := 0; i < len(s); i++ {
		x := (p + licenceValue(s[i])) % m
		if x == 0 {
			x = m
		}
		p = (x * 2) % (m + 1)
	}
	return LicenceAlphabet[(m+1-p)%m]
}

// LicenceCheckChar returns the MOD 37,36 check character of the type code,
// issuer, serial and version (as written, 3 digits) concatenated.
func LicenceCheckChar(typeCode, issuer, serial, version string) (byte, error) {
	body := typeCode + issuer + serial + version
	if i := firstNonLicence(body); i >= 0 {
		return 0, licenceErr(CodeCharset, "", 0, fmt.Sprintf("character %q is not one of 0-9, A-Z", body[i]),
			fmt.Sprintf("字符 %q 不是 0-9、A-Z", body[i]))
	}
	return mod3736(body), nil
}

// NewLicenceID builds the identifier of version v of the licence with the
// given type code, issuer (a valid USCC, GB 32100) and serial, computing its
// check character.
func NewLicenceID(typeCode, issuer, serial string, v int) (LicenceID, error) {
	if err := checkLicenceParts(typeCode, issuer, serial); err != nil {
		return LicenceID{}, err
	}
	if v < 1 || v > 999 {
		return LicenceID{}, licenceErr(CodeStructure, "version", 0, fmt.Sprintf("version %d is out of range 1..999", v),
			fmt.Sprintf("版本号 %d 超出 1..999", v))
	}
	if err := ValidateUSCC(issuer); err != nil {
		return LicenceID{}, licenceErr(CodeStructure, "issuer", 0, "the issuer is not a valid unified social credit code: "+err.Error(),
			"颁发机构代码不是有效的统一社会信用代码")
	}
	ver := fmt.Sprintf("%03d", v)
	return LicenceID{TypeCode: typeCode, Issuer: issuer, Serial: serial, Version: v,
		Check: mod3736(typeCode + issuer + serial + ver)}, nil
}

// FormatLicenceID is NewLicenceID rendered as a string.
func FormatLicenceID(typeCode, issuer, serial string, v int) (string, error) {
	id, err := NewLicenceID(typeCode, issuer, serial, v)
	if err != nil {
		return "", err
	}
	return id.String(), nil
}

// ValidateLicenceID reports whether s is a well-formed e-licence identifier
// with a correct check character.
func ValidateLicenceID(s string) error {
	_, err := ParseLicenceID(s)
	return err
}

// ParseLicenceID parses and checks an e-licence identifier: prefix, parts
// and their lengths and alphabets, the issuer as a valid USCC (GB 32100,
// its own check character included), version 001..999 and the MOD 37,36
// check character.
func ParseLicenceID(s string) (LicenceID, error) {
	if len(s) > LicenceIDMaxLen {
		return LicenceID{}, licenceErr(CodeLength, "", 0, fmt.Sprintf("%d characters long (at most %d)", len(s), LicenceIDMaxLen),
			fmt.Sprintf("长度 %d 超过上限 %d", len(s), LicenceIDMaxLen))
	}
	if !strings.HasPrefix(s, LicencePrefix) {
		return LicenceID{}, licenceErr(CodeStructure, "prefix", 1, "does not start with "+LicencePrefix,
			"不以 "+LicencePrefix+" 开头")
	}
	parts := strings.Split(s[len(LicencePrefix):], ".")
	if len(parts) != 5 {
		return LicenceID{}, licenceErr(CodeStructure, "", 0,
			fmt.Sprintf("want 5 dot-separated parts after the prefix (type code, issuer, serial, version, check), got %d", len(parts)),
			fmt.Sprintf("前缀后应有 5 段（类型代码、颁发机构代码、流水号、版本号、校验位），实有 %d 段", len(parts)))
	}
	typeCode, issuer, serial, ver, check := parts[0], parts[1], parts[2], parts[3], parts[4]
	if err := checkLicenceParts(typeCode, issuer, serial); err != nil {
		return LicenceID{}, err
	}
	if err := ValidateUSCC(issuer); err != nil {
		return LicenceID{}, licenceErr(CodeStructure, "issuer", 0, "the issuer is not a valid unified social credit code: "+err.Error(),
			"颁发机构代码不是有效的统一社会信用代码")
	}
	if len(ver) != LicenceVersionLen || firstNonDigit(ver) >= 0 || ver == "000" {
		return LicenceID{}, licenceErr(CodeStructure, "version", 0, fmt.Sprintf("version %q is not 3 digits 001-999", ver),
			fmt.Sprintf("版本号 %q 不是 001-999 的 3 位数字", ver))
	}
	if len(check) != 1 || licenceValue(check[0]) < 0 {
		return LicenceID{}, licenceErr(CodeStructure, "check", len(s), fmt.Sprintf("check %q is not one character 0-9, A-Z", check),
			fmt.Sprintf("校验位 %q 不是一个 0-9、A-Z 字符", check))
	}
	want := mod3736(typeCode + issuer + serial + ver)
	if check[0] != want {
		return LicenceID{}, licenceErr(CodeChecksum, "check", len(s), fmt.Sprintf("check character is %c, want %c", check[0], want),
			fmt.Sprintf("校验位为 %c，应为 %c", check[0], want))
	}
	v, _ := strconv.Atoi(ver)
	return LicenceID{TypeCode: typeCode, Issuer: issuer, Serial: serial, Version: v, Check: check[0]}, nil
}

// ValidLicenceTypeCode reports whether s has the form of a licence type code:
// 21 characters 0-9, A-Z.
func ValidLicenceTypeCode(s string) bool {
	return len(s) == LicenceTypeCodeLen && firstNonLicence(s) < 0
}

// ValidLicenceSerial reports whether s has the form of a serial: 1 to
// LicenceSerialMaxLen characters 0-9, A-Z.
func ValidLicenceSerial(s string) bool {
	return len(s) >= 1 && len(s) <= LicenceSerialMaxLen && firstNonLicence(s) < 0
}

func checkLicenceParts(typeCode, issuer, serial string) error {
	switch {
	case !ValidLicenceTypeCode(typeCode):
		return licenceErr(CodeStructure, "type_code", 0, fmt.Sprintf("type code %q is not 21 characters 0-9, A-Z", clip(typeCode)),
			fmt.Sprintf("证照类型代码 %q 不是 21 位 0-9、A-Z 字符", clip(typeCode)))
	case len(issuer) != LicenceIssuerLen || firstNonLicence(issuer) >= 0:
		return licenceErr(CodeStructure, "issuer", 0, fmt.Sprintf("issuer %q is not 18 characters 0-9, A-Z", clip(issuer)),
			fmt.Sprintf("颁发机构代码 %q 不是 18 位 0-9、A-Z 字符", clip(issuer)))
	case !ValidLicenceSerial(serial):
		return licenceErr(CodeStructure, "serial", 0, fmt.Sprintf("serial %q is not 1-%d characters 0-9, A-Z", clip(serial), LicenceSerialMaxLen),
			fmt.Sprintf("流水号 %q 不是 1-%d 位 0-9、A-Z 字符", clip(serial), LicenceSerialMaxLen))
	}
	return nil
}

// clip keeps error messages short.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

func firstNonLicence(s string) int {
	for i := 0; i < len(s); i++ {
		if licenceValue(s[i]) < 0 {
			return i
		}
	}
	return -1
}

func licenceErr(code Code, field string, pos int, reason, reasonZH string) *Error {
	return &Error{Kind: KindLicence, Code: code, Field: field, Pos: pos, Reason: reason, ReasonZH: reasonZH}
}
