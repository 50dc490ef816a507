package identifier

import (
	"fmt"
	"time"
	"unicode/utf8"
)

// Sex codes of GB/T 2261.1, as carried by the citizen ID's sequence number
// (odd = male, even = female).
const (
	SexMale   = 1
	SexFemale = 2
)

// CitizenIDLength is the length of a GB 11643-1999 citizen ID; LegacyCitizenIDLength
// that of the 15-digit numbers issued before it.
const (
	CitizenIDLength       = 18
	LegacyCitizenIDLength = 15
)

// minBirthYear is the earliest birth year accepted.
const minBirthYear = 1900

// citizenWeights are the ISO 7064 MOD 11-2 weights 2^(17-i) mod 11 of positions 1..17.
const citizenWeights = "\x07\x09\x0a\x05\x08\x04\x02\x01\x06\x03\x07\x09\x0a\x05\x08\x04\x02"

// citizenCheckChars maps (sum mod 11) to the check character.
const citizenCheckChars = "10X98765432"

// CitizenID is a parsed, valid 18-character citizen ID.
type CitizenID struct {
	ID         string    // canonical form (upper-case X)
	Region     string    // six-digit administrative division code of the registration place
	Province   string    // name of the province of Region, e.g. "黑龙江省"
	Birth      time.Time // birth date, midnight UTC
	Sequence   int       // sequence number 0..999 within region and birth date
	Sex        int       // SexMale or SexFemale (GB/T 2261.1), from the sequence number's parity
	Check      byte      // check character '0'..'9' or 'X'
	Normalised bool      // the input ended in a lower-case x and ID is its upper-cased form
}

// CitizenIDCheckChar returns the ISO 7064 MOD 11-2 check character of the first
// 17 characters of a citizen ID (which must be digits).
func CitizenIDCheckChar(first17 string) (byte, error) {
	if len(first17) != CitizenIDLength-1 {
		return 0, citizenErr(CodeLength, "", 0,
			fmt.Sprintf("check character needs exactly 17 digits, got %d characters", utf8.RuneCountInString(first17)),
			fmt.Sprintf("计算校验码需要17位数字，实际为%d位", utf8.RuneCountInString(first17)))
	}
	if i := firstNonDigit(first17); i >= 0 {
		return 0, charsetErr(KindCitizenID, first17, i, "all 17 characters must be digits", "17位均应为数字")
	}
	return citizenCheck(first17), nil
}

// citizenCheck computes the check character of 17 digits (not verified here).
func citizenCheck(first17 string) byte {
	sum := 0
	for i := 0; i < CitizenIDLength-1; i++ {
		sum += int(first17[i]-'0') * int(citizenWeights[i])
	}
	return citizenCheckChars[sum%11]
}

// ValidateCitizenID validates an 18-character citizen ID against GB 11643-1999,
// with today as the latest allowed birth date. A lower-case final x is accepted
// (ParseCitizenID reports that it needs normalising). The error is an *Error.
func ValidateCitizenID(id string) error {
	_, err := parseCitizenID(id, time.Now(), false)
	return err
}

// ValidateCitizenIDAt is ValidateCitizenID with the reference time now: the birth
// date may not be after now's calendar date (in now's location).
func ValidateCitizenIDAt(id string, now time.Time) error {
	_, err := parseCitizenID(id, now, false)
	return err
}

// ParseCitizenID validates id (see ValidateCitizenID) and returns its parts.
func ParseCitizenID(id string) (CitizenID, error) {
	return ParseCitizenIDAt(id, time.Now())
}

// ParseCitizenIDAt is ParseCitizenID with the reference time now for the
// birth-date check. A zero now means time.Now().
func ParseCitizenIDAt(id string, now time.Time) (CitizenID, error) {
	return parseCitizenID(id, now, true)
}

// parseCitizenID does the work; names says whether to look up the province name.
func parseCitizenID(id string, now time.Time, names bool) (CitizenID, error) {
	if len(id) != CitizenIDLength {
		n := utf8.RuneCountInString(id)
		if n == CitizenIDLength {
			// Right number of characters but some are multi-byte: name the first.
			i := firstNonASCII(id)
			return CitizenID{}, charsetErr(KindCitizenID, id, i,
				"positions 1-17 must be digits and position 18 a digit or X",
				"前17位应为数字，第18位应为数字或X")
		}
		if len(id) == LegacyCitizenIDLength && firstNonDigit(id) < 0 {
			return CitizenID{}, citizenErr(CodeLength, "", 0,
				"is a 15-digit legacy number; upgrade it to 18 characters with UpgradeCitizenID",
				"为15位旧身份号码，需升位为18位")
		}
		return CitizenID{}, citizenErr(CodeLength, "", 0,
			fmt.Sprintf("must be %d characters, got %d", CitizenIDLength, n),
			fmt.Sprintf("身份号码应为%d位，实际为%d位", CitizenIDLength, n))
	}
	if i := firstNonDigit(id[:CitizenIDLength-1]); i >= 0 {
		return CitizenID{}, charsetErr(KindCitizenID, id, i,
			"positions 1-17 must be digits and position 18 a digit or X",
			"前17位应为数字，第18位应为数字或X")
	}
	last := id[CitizenIDLength-1]
	normalised := false
	switch {
	case isDigit(last), last == 'X':
	case last == 'x':
		normalised = true
	default:
		return CitizenID{}, charsetErr(KindCitizenID, id, CitizenIDLength-1,
			"positions 1-17 must be digits and position 18 a digit or X",
			"前17位应为数字，第18位应为数字或X")
	}
	region := id[:6]
	if err := checkRegion(KindCitizenID, region); err != nil {
		return CitizenID{}, err
	}
	if now.IsZero() {
		now = time.Now()
	}
	birth, err := checkBirth(id[6:14], now)
	if err != nil {
		return CitizenID{}, err
	}
	want := citizenCheck(id[:CitizenIDLength-1])
	got := last
	if normalised {
		got = 'X'
	}
	if got != want {
		return CitizenID{}, citizenErr(CodeChecksum, "check", CitizenIDLength,
			fmt.Sprintf("check character is %c, want %c", got, want),
			fmt.Sprintf("校验码应为%c，实际为%c", want, got))
	}
	seq := atoi(id[14:17])
	sex := SexFemale
	if seq%2 == 1 {
		sex = SexMale
	}
	province := ""
	if names {
		province, _ = ProvinceName(region[:2])
	}
	canonical := id
	if normalised {
		canonical = id[:CitizenIDLength-1] + "X"
	}
	return CitizenID{
		ID:         canonical,
		Region:     region,
		Province:   province,
		Birth:      birth,
		Sequence:   seq,
		Sex:        sex,
		Check:      want,
		Normalised: normalised,
	}, nil
}

// NormalizeCitizenID returns the canonical 18-character form of a valid citizen
// ID: a lower-case final x is upper-cased and a 15-digit legacy number upgraded.
func NormalizeCitizenID(id string, now time.Time) (string, error) {
	if len(id) == LegacyCitizenIDLength {
		return UpgradeCitizenID(id)
	}
	c, err := ParseCitizenIDAt(id, now)
	if err != nil {
		return "", err
	}
	return c.ID, nil
}

// UpgradeCitizenID turns a 15-digit legacy citizen ID (region, YYMMDD, sequence)
// into the 18-character form: "19" is inserted before the two-digit year and the
// MOD 11-2 check character appended. Region and birth date are validated.
func UpgradeCitizenID(id15 string) (string, error) {
	if len(id15) != LegacyCitizenIDLength {
		n := utf8.RuneCountInString(id15)
		return "", citizenErr(CodeLength, "", 0,
			fmt.Sprintf("legacy number must be %d digits, got %d characters", LegacyCitizenIDLength, n),
			fmt.Sprintf("旧身份号码应为%d位，实际为%d位", LegacyCitizenIDLength, n))
	}
	if i := firstNonDigit(id15); i >= 0 {
		return "", charsetErr(KindCitizenID, id15, i, "all 15 characters of a legacy number must be digits", "旧身份号码15位均应为数字")
	}
	if err := checkRegion(KindCitizenID, id15[:6]); err != nil {
		return "", err
	}
	first17 := id15[:6] + "19" + id15[6:]
	// A 19xx date is never in the future, so any reference time after 1999 will do.
	if _, err := checkBirth(first17[6:14], time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		return "", err
	}
	return first17 + string(citizenCheck(first17)), nil
}

// FormatCitizenID builds a valid citizen ID from its parts: region (six digits,
// valid province), birth date (its calendar date in its own location; 1900 to
// 9999) and sequence (0..999, odd for men, even for women).
func FormatCitizenID(region string, birth time.Time, seq int) (string, error) {
	if err := checkRegion(KindCitizenID, region); err != nil {
		return "", err
	}
	y, m, d := birth.Date()
	if y < minBirthYear || y > 9999 {
		return "", citizenErr(CodeBirthdate, "birth_date", 7,
			fmt.Sprintf("birth year %d is outside 1900-9999", y),
			fmt.Sprintf("出生年份%d超出1900-9999范围", y))
	}
	if seq < 0 || seq > 999 {
		return "", citizenErr(CodeSequence, "sequence", 15,
			fmt.Sprintf("sequence %d is outside 0-999", seq),
			fmt.Sprintf("顺序码%d超出0-999范围", seq))
	}
	var b [CitizenIDLength]byte
	copy(b[:6], region)
	putDigits(b[6:10], y)
	putDigits(b[10:12], int(m))
	putDigits(b[12:14], d)
	putDigits(b[14:17], seq)
	b[17] = citizenCheck(string(b[:17]))
	return string(b[:]), nil
}

// checkRegion validates a six-digit region code: digits, starting with a
// province code; USCCs may also carry the national code 100000.
func checkRegion(kind Kind, region string) error {
	if len(region) == 6 && firstNonDigit(region) < 0 && (isProvince(region[:2]) || kind == KindUSCC && region == nationalRegion) {
		return nil
	}
	pos := 1
	if kind == KindUSCC {
		pos = 3
	}
	return &Error{
		Kind: kind, Code: CodeRegion, Field: "region", Pos: pos,
		Reason:   fmt.Sprintf("region code %q does not start with a GB/T 2260 province code", region),
		ReasonZH: fmt.Sprintf("行政区划码%q的前两位不是GB/T 2260省级行政区划代码", region),
	}
}

// checkBirth validates eight digits YYYYMMDD as a birth date between 1900-01-01
// and now's calendar date.
func checkBirth(s string, now time.Time) (time.Time, error) {
	y, m, d := atoi(s[:4]), atoi(s[4:6]), atoi(s[6:8])
	if m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return time.Time{}, citizenErr(CodeBirthdate, "birth_date", 7,
			fmt.Sprintf("birth date %s is not a calendar date", s),
			fmt.Sprintf("出生日期%s不是有效日期", s))
	}
	if y < minBirthYear {
		return time.Time{}, citizenErr(CodeBirthdate, "birth_date", 7,
			fmt.Sprintf("birth date %s is before %d", s, minBirthYear),
			fmt.Sprintf("出生日期%s早于%d年", s, minBirthYear))
	}
	ny, nm, nd := now.Date()
	if y > ny || (y == ny && (m > int(nm) || (m == int(nm) && d > nd))) {
		return time.Time{}, citizenErr(CodeBirthdate, "birth_date", 7,
			fmt.Sprintf("birth date %s is after the reference date %04d%02d%02d", s, ny, nm, nd),
			fmt.Sprintf("出生日期%s晚于当前日期%04d%02d%02d", s, ny, nm, nd))
	}
	return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC), nil
}

func citizenErr(code Code, field string, pos int, reason, reasonZH string) *Error {
	return &Error{Kind: KindCitizenID, Code: code, Field: field, Pos: pos, Reason: reason, ReasonZH: reasonZH}
}

// charsetErr reports the character starting at byte offset i of s.
func charsetErr(kind Kind, s string, i int, rule, ruleZH string) *Error {
	r, _ := utf8.DecodeRuneInString(s[i:])
	pos := utf8.RuneCountInString(s[:i]) + 1
	return &Error{
		Kind: kind, Code: CodeCharset, Pos: pos,
		Reason:   fmt.Sprintf("character %q at position %d is not allowed: %s", r, pos, rule),
		ReasonZH: fmt.Sprintf("第%d位字符%q不合法：%s", pos, r, ruleZH),
	}
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	default:
		return 31
	}
}

// firstNonDigit returns the byte offset of the first non-digit in s, or -1.
func firstNonDigit(s string) int {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return i
		}
	}
	return -1
}

// firstNonASCII returns the byte offset of the first non-ASCII byte in s, or -1.
func firstNonASCII(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return i
		}
	}
	return -1
}

// atoi converts a short run of digits (already checked) to an int.
func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// putDigits writes n as exactly len(b) zero-padded decimal digits.
func putDigits(b []byte, n int) {
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = byte('0' + n%10)
		n /= 10
	}
}
