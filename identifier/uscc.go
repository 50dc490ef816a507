package identifier

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// USCCLength is the length of a unified social credit code.
const USCCLength = 18

// USCCAlphabet holds the 31 characters a USCC may use (no I, O, Z, S, V); a
// character's value is its index.
const USCCAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// usccWeights are the GB 32100 weights 3^(i-1) mod 31 of positions 1..17.
const usccWeights = "\x01\x03\x09\x1b\x13\x1a\x10\x11\x14\x1d\x19\x0d\x08\x18\x0a\x1e\x1c"

// usccTypeData lists the registration-authority and organisation-type codes of
// GB 32100-2015 appendix A: two characters, authority, type, one a line.
const usccTypeData = `
11 机构编制 机关
12 机构编制 事业单位
13 机构编制 中央编办直接管理机构编制的群众团体
19 机构编制 其他
21 外交 外国常驻新闻机构
29 外交 其他
31 司法行政 律师执业机构
32 司法行政 公证处
33 司法行政 基层法律服务所
34 司法行政 司法鉴定机构
35 司法行政 仲裁委员会
39 司法行政 其他
41 文化 外国在华文化中心
49 文化 其他
51 民政 社会团体
52 民政 民办非企业单位
53 民政 基金会
59 民政 其他
61 旅游 外国旅游部门常驻代表机构
62 旅游 港澳台地区旅游部门常驻内地代表机构
69 旅游 其他
71 宗教 宗教活动场所
72 宗教 宗教院校
79 宗教 其他
81 工会 基层工会
89 工会 其他
91 工商 企业
92 工商 个体工商户
93 工商 农民专业合作社
A1 中央军委改革和编制办公室 军队事业单位
A9 中央军委改革和编制办公室 其他
N1 农业 组级集体经济组织
N2 农业 村级集体经济组织
N3 农业 乡镇级集体经济组织
N9 农业 其他
Y1 其他 其他
`

// USCC is a parsed, valid unified social credit code.
type USCC struct {
	Code          string // the 18 characters
	Authority     byte   // registration authority code (登记管理部门码), position 1
	Type          byte   // organisation type code (机构类别码), position 2
	AuthorityName string // e.g. "工商"; empty if the code pair is not in GB 32100 appendix A
	TypeName      string // e.g. "企业"; empty if the code pair is not in GB 32100 appendix A
	Region        string // administrative division code, positions 3-8
	Province      string // province name of Region, or "全国" for 100000
	OrgCode       string // GB 11714 organisation code, positions 9-17 (body and its check character)
	Check         byte   // check character, position 18
}

// usccValue returns the value of a USCC character (its index in USCCAlphabet),
// or -1 if it is not in the alphabet.
func usccValue(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'A' && c <= 'H':
		return int(c-'A') + 10
	case c >= 'J' && c <= 'N':
		return int(c-'J') + 18
	case c >= 'P' && c <= 'R':
		return int(c-'P') + 23
	case c == 'T' || c == 'U':
		return int(c-'T') + 26
	case c >= 'W' && c <= 'Y':
		return int(c-'W') + 28
	default:
		return -1
	}
}

// usccCheck computes the check character of 17 valid alphabet characters.
func usccCheck(first17 string) byte {
	sum := 0
	for i := 0; i < USCCLength-1; i++ {
		sum += usccValue(first17[i]) * int(usccWeights[i])
	}
	return USCCAlphabet[(31-sum%31)%31]
}

// USCCCheckChar returns the GB 32100 check character of the first 17
// characters of a USCC (which must be in USCCAlphabet).
func USCCCheckChar(first17 string) (byte, error) {
	if len(first17) != USCCLength-1 {
		n := utf8.RuneCountInString(first17)
		return 0, usccErr(CodeLength, "", 0,
			fmt.Sprintf("check character needs exactly 17 characters, got %d", n),
			fmt.Sprintf("计算校验码需要17位字符，实际为%d位", n))
	}
	if i := firstNonUSCC(first17); i >= 0 {
		return 0, charsetErr(KindUSCC, first17, i, usccCharsetRule(first17[i]), usccCharsetRuleZH(first17[i]))
	}
	return usccCheck(first17), nil
}

// ValidateUSCC validates a unified social credit code against GB 32100-2015:
// length, alphabet, region (province or 100000), the embedded GB 11714
// organisation code and the MOD 31 check character. The error is an *Error.
func ValidateUSCC(code string) error {
	_, err := parseUSCC(code, false)
	return err
}

// ParseUSCC validates code (see ValidateUSCC) and returns its parts.
func ParseUSCC(code string) (USCC, error) {
	return parseUSCC(code, true)
}

// parseUSCC does the work; names says whether to look up province and type names.
func parseUSCC(code string, names bool) (USCC, error) {
	if len(code) != USCCLength {
		n := utf8.RuneCountInString(code)
		if n == USCCLength {
			i := firstNonASCII(code)
			return USCC{}, charsetErr(KindUSCC, code, i, usccCharsetRule(code[i]), usccCharsetRuleZH(code[i]))
		}
		return USCC{}, usccErr(CodeLength, "", 0,
			fmt.Sprintf("must be %d characters, got %d", USCCLength, n),
			fmt.Sprintf("统一社会信用代码应为%d位，实际为%d位", USCCLength, n))
	}
	if i := firstNonUSCC(code); i >= 0 {
		return USCC{}, charsetErr(KindUSCC, code, i, usccCharsetRule(code[i]), usccCharsetRuleZH(code[i]))
	}
	region := code[2:8]
	if i := firstNonDigit(region); i >= 0 {
		return USCC{}, &Error{
			Kind: KindUSCC, Code: CodeRegion, Field: "region", Pos: 3 + i,
			Reason:   fmt.Sprintf("region code %q (positions 3-8) must be digits", region),
			ReasonZH: fmt.Sprintf("登记管理机关行政区划码%q（第3-8位）应为数字", region),
		}
	}
	if err := checkRegion(KindUSCC, region); err != nil {
		return USCC{}, err
	}
	org := code[8:17]
	if c := org[8]; !isDigit(c) && c != 'X' {
		return USCC{}, usccErr(CodeOrgCode, "org_code", 17,
			fmt.Sprintf("organisation code %s: check character %c must be a digit or X", org, c),
			fmt.Sprintf("组织机构代码%s的校验码%c应为数字或X", org, c))
	}
	if want := orgCheck(org[:8]); want != org[8] {
		return USCC{}, usccErr(CodeOrgCode, "org_code", 17,
			fmt.Sprintf("organisation code %s: check character is %c, want %c (GB 11714)", org, org[8], want),
			fmt.Sprintf("组织机构代码%s的校验码应为%c，实际为%c（GB 11714）", org, want, org[8]))
	}
	if want := usccCheck(code[:17]); want != code[17] {
		return USCC{}, usccErr(CodeChecksum, "check", 18,
			fmt.Sprintf("check character is %c, want %c", code[17], want),
			fmt.Sprintf("校验码应为%c，实际为%c", want, code[17]))
	}
	u := USCC{Code: code, Authority: code[0], Type: code[1], Region: region, OrgCode: org, Check: code[17]}
	if names {
		u.AuthorityName, u.TypeName = usccTypeName(code[:2])
		u.Province = "全国"
		if region != nationalRegion {
			u.Province, _ = ProvinceName(region[:2])
		}
	}
	return u, nil
}

// FormatUSCC builds a valid USCC from its parts: authority and type codes
// (alphabet characters), region (province or 100000) and the eight-character
// organisation code body (alphabet characters); both check characters are computed.
func FormatUSCC(authority, typ byte, region, orgBody string) (string, error) {
	if usccValue(authority) < 0 || usccValue(typ) < 0 {
		head := string([]byte{authority, typ})
		i := 0
		if usccValue(authority) >= 0 {
			i = 1
		}
		return "", charsetErr(KindUSCC, head, i, usccCharsetRule(head[i]), usccCharsetRuleZH(head[i]))
	}
	if err := checkRegion(KindUSCC, region); err != nil {
		return "", err
	}
	if len(orgBody) != OrgCodeLength-1 || firstNonUSCC(orgBody) >= 0 {
		return "", usccErr(CodeOrgCode, "org_code", 9,
			fmt.Sprintf("organisation code body %q must be 8 characters from %s", orgBody, USCCAlphabet),
			fmt.Sprintf("组织机构代码本体%q应为8位且取自%s", orgBody, USCCAlphabet))
	}
	var b [USCCLength]byte
	b[0], b[1] = authority, typ
	copy(b[2:8], region)
	copy(b[8:16], orgBody)
	b[16] = orgCheck(orgBody)
	b[17] = usccCheck(string(b[:17]))
	return string(b[:]), nil
}

// usccTypeName looks up the authority and type names of a two-character prefix.
func usccTypeName(prefix string) (authority, typ string) {
	i := strings.Index(usccTypeData, "\n"+prefix+" ")
	if i < 0 {
		return "", ""
	}
	rest := usccTypeData[i+4:]
	line := rest[:strings.IndexByte(rest, '\n')]
	authority, typ, _ = strings.Cut(line, " ")
	return authority, typ
}

func firstNonUSCC(s string) int {
	for i := 0; i < len(s); i++ {
		if usccValue(s[i]) < 0 {
			return i
		}
	}
	return -1
}

func usccCharsetRule(c byte) string {
	switch {
	case c >= 'a' && c <= 'z':
		return "letters must be upper case, from " + USCCAlphabet
	case c == 'I' || c == 'O' || c == 'Z' || c == 'S' || c == 'V':
		return "I, O, Z, S and V are not used; allowed: " + USCCAlphabet
	default:
		return "allowed characters are " + USCCAlphabet
	}
}

func usccCharsetRuleZH(c byte) string {
	switch {
	case c >= 'a' && c <= 'z':
		return "字母应为大写，取自" + USCCAlphabet
	case c == 'I' || c == 'O' || c == 'Z' || c == 'S' || c == 'V':
		return "不使用I、O、Z、S、V，可用字符为" + USCCAlphabet
	default:
		return "可用字符为" + USCCAlphabet
	}
}

func usccErr(code Code, field string, pos int, reason, reasonZH string) *Error {
	return &Error{Kind: KindUSCC, Code: code, Field: field, Pos: pos, Reason: reason, ReasonZH: reasonZH}
}
