package identifier

import "strings"

// Independent re-implementations of the check-character formulas, written from
// the standards' definitions rather than the package's tables, used as oracles.

// oracleCitizenCheck: ISO 7064 MOD 11-2. Weight of position i (1-based) is
// 2^(18-i) mod 11; the check value c satisfies (sum + c) mod 11 == 1, i.e.
// c = (12 - sum mod 11) mod 11, and the value 10 is written X.
func oracleCitizenCheck(first17 string) byte {
	sum := 0
	for i := 1; i <= 17; i++ {
		w := 1
		for k := 0; k < 18-i; k++ {
			w = w * 2 % 11
		}
		sum += int(first17[i-1]-'0') * w
	}
	c := (12 - sum%11) % 11
	if c == 10 {
		return 'X'
	}
	return byte('0' + c)
}

// oracleUSCCCheck: GB 32100. Weight of position i (1-based) is 3^(i-1) mod 31,
// values are indexes in the 31-character alphabet, check = 31 - sum mod 31
// (31 written as 0).
func oracleUSCCCheck(first17 string) byte {
	const alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
	sum, w := 0, 1
	for i := 0; i < 17; i++ {
		sum += strings.IndexByte(alphabet, first17[i]) * w
		w = w * 3 % 31
	}
	c := 31 - sum%31
	if c == 31 {
		c = 0
	}
	return alphabet[c]
}

// oracleOrgCheck: GB 11714. Values: digits as such, A=10 … Z=35; weights
// 3,7,9,10,5,8,4,2; check = 11 - sum mod 11, 10 written X, 11 written 0.
func oracleOrgCheck(body string) byte {
	weights := []int{3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := 0; i < 8; i++ {
		c := body[i]
		v := int(c - '0')
		if c >= 'A' {
			v = int(c-'A') + 10
		}
		sum += v * weights[i]
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

// withCitizenCheck appends the oracle's check character to 17 digits.
func withCitizenCheck(first17 string) string { return first17 + string(oracleCitizenCheck(first17)) }

// withUSCCChecks completes authority+type+region+orgBody (16 characters) with
// the organisation-code and USCC check characters.
func withUSCCChecks(first16 string) string {
	s := first16 + string(oracleOrgCheck(first16[8:16]))
	return s + string(oracleUSCCCheck(s))
}
