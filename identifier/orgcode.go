package identifier

import (
	"fmt"
	"unicode/utf8"
)

// OrgCodeLength is the length of a GB 11714 organisation code: eight body
// characters and a check character (often printed as XXXXXXXX-X).
const OrgCodeLength = 9

// orgWeights are the GB 11714 weights of the eight body characters.
const orgWeights = "\x03\x07\x09\x0a\x05\x08\x04\x02"

// orgValue is the GB 11714 value of a body character: digits 0-9, letters A-Z
// 10-35; -1 for anything else.
func orgValue(c byte) int {
	switch {
	case isDigit(c):
		return int(c - '0')
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10
	default:
		return -1
	}
}

// orgCheck computes the check character of eight valid body characters:
// 11 - (weighted sum mod 11), where 10 is written X and 11 is written 0.
func orgCheck(body string) byte {
	sum := 0
	for i := 0; i < OrgCodeLength-1; i++ {
		sum += orgValue(body[i]) * int(orgWeights[i])
	}
	switch c := 11 - sum%11; c {
	case 10:
		return 'X'
	case 11:
		return '0'
	default:
		return byte('0' + c)
	}
}

// OrgCodeCheckChar returns the GB 11714 check character of an eight-character
// organisation code body (digits and upper-case letters).
func OrgCodeCheckChar(body string) (byte, error) {
	if len(body) != OrgCodeLength-1 {
		n := utf8.RuneCountInString(body)
		return 0, &Error{Kind: KindOrgCode, Code: CodeLength,
			Reason:   fmt.Sprintf("organisation code body must be 8 characters, got %d", n),
			ReasonZH: fmt.Sprintf("组织机构代码本体应为8位，实际为%d位", n)}
	}
	for i := 0; i < len(body); i++ {
		if orgValue(body[i]) < 0 {
			return 0, charsetErr(KindOrgCode, body, i, "body characters must be digits or upper-case letters", "本体代码应为数字或大写字母")
		}
	}
	return orgCheck(body), nil
}

// ValidateOrgCode validates a GB 11714 organisation code, either as nine
// characters or in the printed form with a hyphen before the check character.
func ValidateOrgCode(code string) error {
	if len(code) == OrgCodeLength+1 && code[OrgCodeLength-1] == '-' {
		code = code[:OrgCodeLength-1] + code[OrgCodeLength:]
	}
	if len(code) != OrgCodeLength {
		n := utf8.RuneCountInString(code)
		return &Error{Kind: KindOrgCode, Code: CodeLength,
			Reason:   fmt.Sprintf("must be %d characters (or XXXXXXXX-X), got %d", OrgCodeLength, n),
			ReasonZH: fmt.Sprintf("组织机构代码应为%d位，实际为%d位", OrgCodeLength, n)}
	}
	want, err := OrgCodeCheckChar(code[:OrgCodeLength-1])
	if err != nil {
		return err
	}
	if got := code[OrgCodeLength-1]; !isDigit(got) && got != 'X' {
		return charsetErr(KindOrgCode, code, OrgCodeLength-1, "the check character must be a digit or X", "校验码应为数字或X")
	}
	if got := code[OrgCodeLength-1]; got != want {
		return &Error{Kind: KindOrgCode, Code: CodeChecksum, Field: "check", Pos: OrgCodeLength,
			Reason:   fmt.Sprintf("check character is %q, want %c", rune(got), want),
			ReasonZH: fmt.Sprintf("校验码应为%c，实际为%q", want, rune(got))}
	}
	return nil
}
