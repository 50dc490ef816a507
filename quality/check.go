package quality

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tongban/tongban/identifier"
)

// Violation is a value that fails a rule: what a quarantine entry shows.
type Violation struct {
	Field    string // the field checked
	Rule     string // the rule kind, e.g. "citizen_id"
	Value    any    // the original value (nil if missing)
	Reason   string // English, names the field and the expectation
	ReasonZH string // Chinese
}

// String renders the violation in English.
func (v Violation) String() string { return v.Field + " (" + v.Rule + "): " + v.Reason }

// Fix is a value a rule corrects rather than rejects, e.g. a 15-digit legacy
// citizen ID upgraded to 18 characters. Check does not change the record; the
// caller applies To and records the fix. Later rules see the fixed value.
type Fix struct {
	Field    string
	Rule     string // the rule kind that fixed it
	From     any    // the original value
	To       string // the corrected value
	Reason   string // English
	ReasonZH string // Chinese
}

// Check runs rules on record with the current time as the reference for
// "today" and for citizen IDs' birth dates. See CheckAt.
func Check(record map[string]any, rules []Rule) (fixes []Fix, violations []Violation) {
	return CheckAt(record, rules, time.Now())
}

// CheckAt runs rules, in order, on record: field name to JSON value as the hub
// store keeps it (string, json.Number, float64, int64, bool or nil). now's
// calendar date (in its location) is "today" for date_range rules and the
// latest birth date a citizen ID may carry.
//
// Rules should be compiled (Compile, Parse, Load); an uncompiled rule is
// compiled on each call, and one that does not compile yields a violation
// saying so rather than a panic. The result is nil, nil for a clean record.
func CheckAt(record map[string]any, rules []Rule, now time.Time) (fixes []Fix, violations []Violation) {
	value := func(field string) any {
		for i := len(fixes) - 1; i >= 0; i-- {
			if fixes[i].Field == field {
				return fixes[i].To
			}
		}
		return record[field]
	}
	for i := range rules {
		r := &rules[i]
		c := r.c
		if c == nil {
			var errs []error
			if c, errs = compile(*r); len(errs) > 0 {
				err := errors.Join(errs...)
				violations = append(violations, Violation{Field: r.Field, Rule: r.Kind, Value: record[r.Field],
					Reason:   "rule cannot be applied: " + strings.ReplaceAll(err.Error(), "\n", "; "),
					ReasonZH: "校验规则无效：" + strings.ReplaceAll(err.Error(), "\n", "; ")})
				continue
			}
		}
		v := value(r.Field)
		if r.Kind == KindRequired {
			if viol, bad := required(r, record, v); bad {
				violations = append(violations, viol)
			}
			continue
		}
		s, present := text(v)
		if !present {
			continue
		}
		fail := func(reason, reasonZH string) {
			violations = append(violations, Violation{Field: r.Field, Rule: r.Kind, Value: record[r.Field], Reason: reason, ReasonZH: reasonZH})
		}
		switch r.Kind {
		case KindLength:
			n := utf8.RuneCountInString(s)
			if c.minLen >= 0 && n < c.minLen {
				fail(fmt.Sprintf("%s has %d characters, fewer than the minimum %d", r.Field, n, c.minLen),
					fmt.Sprintf("%s长度为%d个字符，少于最小长度%d", r.Field, n, c.minLen))
			}
			if c.maxLen >= 0 && n > c.maxLen {
				fail(fmt.Sprintf("%s has %d characters, more than the maximum %d", r.Field, n, c.maxLen),
					fmt.Sprintf("%s长度为%d个字符，超过最大长度%d", r.Field, n, c.maxLen))
			}
		case KindPattern:
			if !c.re.MatchString(s) {
				fail(fmt.Sprintf("%s %q does not match the pattern %s", r.Field, clip(s), r.Pattern),
					fmt.Sprintf("%s“%s”不符合格式要求 %s", r.Field, clip(s), r.Pattern))
			}
		case KindCodeList:
			if !c.codes[s] {
				list := listName(r)
				fail(fmt.Sprintf("%s code %q is not in %s", r.Field, clip(s), list),
					fmt.Sprintf("%s代码“%s”不在代码表%s中", r.Field, clip(s), list))
			}
		case KindRange:
			checkRange(r, c, v, fail)
		case KindDateRange:
			checkDateRange(r, c, s, now, fail)
		case KindCitizenID:
			if fix, ok := checkCitizenID(r, c, v, s, now, fail); ok {
				fixes = append(fixes, fix)
			}
		case KindUSCC:
			if err := identifier.ValidateUSCC(s); err != nil {
				en, zh := idReason(err)
				fail(fmt.Sprintf("%s is not a valid unified social credit code: %s", r.Field, en),
					fmt.Sprintf("%s不是有效的统一社会信用代码：%s", r.Field, zh))
			}
		case KindCitizenIDBirth, KindCitizenIDSex:
			other, present := text(value(r.With))
			if !present {
				continue
			}
			id, ok := citizenID(s, now)
			if !ok {
				continue // the citizen_id rule reports it
			}
			if r.Kind == KindCitizenIDBirth {
				checkBirth(r, id, other, fail)
			} else {
				checkSex(r, id, other, fail)
			}
		}
	}
	return fixes, violations
}

// required reports a missing, null or blank value.
func required(r *Rule, record map[string]any, v any) (Violation, bool) {
	viol := Violation{Field: r.Field, Rule: r.Kind, Value: record[r.Field]}
	_, present := record[r.Field]
	switch s, ok := v.(string); {
	case !present:
		viol.Reason, viol.ReasonZH = r.Field+" is required but missing", r.Field+"为必填项，但缺失"
	case v == nil:
		viol.Reason, viol.ReasonZH = r.Field+" is required but null", r.Field+"为必填项，但为空值"
	case ok && strings.TrimSpace(s) == "":
		viol.Reason, viol.ReasonZH = r.Field+" is required but blank", r.Field+"为必填项，但为空白"
	default:
		return Violation{}, false
	}
	return viol, true
}

// checkRange compares a number exactly with the rule's bounds.
func checkRange(r *Rule, c *compiled, v any, fail func(string, string)) {
	s, _ := text(v)
	n, why, whyZH := number(v)
	if n == nil {
		fail(fmt.Sprintf("%s %q %s", r.Field, clip(s), why), fmt.Sprintf("%s“%s”%s", r.Field, clip(s), whyZH))
		return
	}
	if c.minNum != nil && n.Cmp(c.minNum) < 0 {
		fail(fmt.Sprintf("%s %s is less than the minimum %s", r.Field, clip(s), r.Min),
			fmt.Sprintf("%s数值%s小于最小值%s", r.Field, clip(s), r.Min))
	}
	if c.maxNum != nil && n.Cmp(c.maxNum) > 0 {
		fail(fmt.Sprintf("%s %s is more than the maximum %s", r.Field, clip(s), r.Max),
			fmt.Sprintf("%s数值%s大于最大值%s", r.Field, clip(s), r.Max))
	}
}

// checkDateRange compares a date with the rule's bounds.
func checkDateRange(r *Rule, c *compiled, s string, now time.Time, fail func(string, string)) {
	d, ok := dateOf(s)
	if !ok {
		fail(fmt.Sprintf("%s %q is not a date YYYY-MM-DD", r.Field, clip(s)),
			fmt.Sprintf("%s“%s”不是有效日期（应为YYYY-MM-DD）", r.Field, clip(s)))
		return
	}
	today := now.Format(time.DateOnly)
	lo, hi := c.minDate, c.maxDate
	if c.minToday {
		lo = today
	}
	if c.maxToday {
		hi = today
	}
	if lo != "" && d < lo {
		fail(fmt.Sprintf("%s %s is before the earliest allowed date %s", r.Field, d, lo),
			fmt.Sprintf("%s日期%s早于最早允许日期%s", r.Field, d, lo))
	}
	if hi != "" && d > hi {
		fail(fmt.Sprintf("%s %s is after the latest allowed date %s", r.Field, d, hi),
			fmt.Sprintf("%s日期%s晚于最晚允许日期%s", r.Field, d, hi))
	}
}

// checkCitizenID validates a citizen ID. A valid 15-digit legacy number and a
// lower-case final x are fixed, not failed. With a region list, the region
// code (the first six characters, the same in the legacy and upgraded forms)
// must be in it; a legacy ID outside it is still upgraded, and also failed.
func checkCitizenID(r *Rule, c *compiled, v any, s string, now time.Time, fail func(string, string)) (Fix, bool) {
	if legacy(s) {
		up, err := identifier.UpgradeCitizenID(s)
		if err != nil {
			en, zh := idReason(err)
			fail(fmt.Sprintf("%s is a 15-digit legacy citizen ID that cannot be upgraded: %s", r.Field, en),
				fmt.Sprintf("%s为15位旧身份号码，无法升位：%s", r.Field, zh))
			return Fix{}, false
		}
		checkRegion(r, c, up, fail)
		return Fix{Field: r.Field, Rule: r.Kind, From: v, To: up,
			Reason:   fmt.Sprintf("%s: 15-digit legacy citizen ID %s upgraded to %s (GB 11643)", r.Field, s, up),
			ReasonZH: fmt.Sprintf("%s：15位旧身份号码%s已升位为%s（GB 11643）", r.Field, s, up)}, true
	}
	if err := identifier.ValidateCitizenIDAt(s, now); err != nil {
		en, zh := idReason(err)
		fail(fmt.Sprintf("%s is not a valid citizen ID: %s", r.Field, en),
			fmt.Sprintf("%s不是有效的公民身份号码：%s", r.Field, zh))
		return Fix{}, false
	}
	checkRegion(r, c, s, fail)
	if s[len(s)-1] == 'x' {
		up := s[:len(s)-1] + "X"
		return Fix{Field: r.Field, Rule: r.Kind, From: v, To: up,
			Reason:   fmt.Sprintf("%s: check character x upper-cased", r.Field),
			ReasonZH: fmt.Sprintf("%s：校验码x已改为大写X", r.Field)}, true
	}
	return Fix{}, false
}

// checkRegion fails a valid 18-character citizen ID whose region code is not
// in the rule's region list (when it has one).
func checkRegion(r *Rule, c *compiled, id string, fail func(string, string)) {
	if c.codes == nil || c.codes[id[:6]] {
		return
	}
	region := id[:6]
	if r.List != "" {
		fail(fmt.Sprintf("%s: region code %s is not a %s code", r.Field, region, r.List),
			fmt.Sprintf("%s：行政区划代码 %s 不在 %s 中", r.Field, region, r.List))
		return
	}
	list := listName(r)
	fail(fmt.Sprintf("%s: region code %s is not in the allowed regions %s", r.Field, region, list),
		fmt.Sprintf("%s：行政区划代码 %s 不在允许的区划代码 %s 中", r.Field, region, list))
}

// legacy reports whether s has the form of a 15-digit legacy citizen ID.
func legacy(s string) bool {
	if len(s) != identifier.LegacyCitizenIDLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// citizenID returns the valid 18-character form of s (upgrading a legacy
// number), or false.
func citizenID(s string, now time.Time) (string, bool) {
	if legacy(s) {
		up, err := identifier.UpgradeCitizenID(s)
		return up, err == nil
	}
	return s, identifier.ValidateCitizenIDAt(s, now) == nil
}

// checkBirth compares the birth date in a valid 18-character ID with a date field.
func checkBirth(r *Rule, id, other string, fail func(string, string)) {
	inID := id[6:10] + "-" + id[10:12] + "-" + id[12:14]
	d, ok := dateOf(other)
	switch {
	case !ok:
		fail(fmt.Sprintf("%s %q is not a date, so it cannot be checked against the birth date %s in %s", r.With, clip(other), inID, r.Field),
			fmt.Sprintf("%s“%s”不是有效日期，无法与%s中的出生日期%s核对", r.With, clip(other), r.Field, inID))
	case d != inID:
		fail(fmt.Sprintf("birth date %s in %s disagrees with %s %s", inID, r.Field, r.With, d),
			fmt.Sprintf("%s中的出生日期%s与%s“%s”不一致", r.Field, inID, r.With, d))
	}
}

// checkSex compares the sex in a valid 18-character ID (odd sequence: male)
// with a GB/T 2261.1 sex code (男 and 女 are read as 1 and 2).
func checkSex(r *Rule, id, other string, fail func(string, string)) {
	want, wantZH := "1", "男性"
	if (id[16]-'0')%2 == 0 {
		want, wantZH = "2", "女性"
	}
	got := strings.TrimSpace(other)
	switch got {
	case "男":
		got = "1"
	case "女":
		got = "2"
	}
	if got != want {
		fail(fmt.Sprintf("%s %q disagrees with the sex in %s (GB/T 2261.1 code %s)", r.With, clip(other), r.Field, want),
			fmt.Sprintf("%s“%s”与%s中的性别（%s，代码%s）不一致", r.With, clip(other), r.Field, wantZH, want))
	}
}

// idReason extracts the English and Chinese reasons of an identifier error.
func idReason(err error) (string, string) {
	var e *identifier.Error
	if errors.As(err, &e) {
		return e.Reason, e.ReasonZH
	}
	return err.Error(), err.Error()
}

// listName names a code_list rule's list for messages.
func listName(r *Rule) string {
	if r.List != "" {
		return r.List
	}
	codes := append([]string(nil), r.Codes...)
	sort.Strings(codes)
	if len(codes) > 10 {
		codes = append(codes[:10], "…")
	}
	return "[" + strings.Join(codes, " ") + "]"
}

// clip shortens a value for a message.
func clip(s string) string {
	const limit = 64
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	return string([]rune(s)[:limit]) + "…"
}
