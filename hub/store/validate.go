package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Column limits, in characters, shared by both backends so that input a
// backend would refuse or truncate is refused the same way by both.
const (
	maxResourceLen    = 64
	maxKeyLen         = 255
	maxDeptLen        = 64
	maxBatchIDLen     = 128
	maxSubjectLen     = 64
	maxFingerprintLen = 128
	maxAgentIDLen     = 128
	maxAgentVerLen    = 128
	maxTokenIDLen     = 64
	maxTokenNameLen   = 255
	maxTokenHashLen   = 128
	maxTopicLen       = 249 // Kafka's own limit
	maxDeadLetterText = 255 // resource, dept, batch id of a dead letter

	maxLastErrorBytes = 8 << 10  // agent last error, truncated
	maxReasonBytes    = 16 << 10 // dead-letter reason, truncated
	// MaxDeadLetterPayload is how much of a dead letter's payload is kept.
	MaxDeadLetterPayload = 64 << 10
)

// checkText validates a text column value: valid UTF-8, at most maxRunes
// characters, non-empty when required.
func checkText(field, v string, maxRunes int, required bool) error {
	if v == "" {
		if required {
			return fmt.Errorf("%s is empty", field)
		}
		return nil
	}
	if !utf8.ValidString(v) {
		return fmt.Errorf("%s %q is not valid UTF-8", field, v)
	}
	if n := utf8.RuneCountInString(v); n > maxRunes {
		return fmt.Errorf("%s is %d characters long (at most %d)", field, n, maxRunes)
	}
	return nil
}

var errNotObject = errors.New("not a JSON object")

// checkJSON validates a JSON column value: valid UTF-8 JSON; an object when
// object is set.
func checkJSON(field string, raw []byte, object bool) error {
	if !utf8.Valid(raw) {
		return fmt.Errorf("%s is not valid UTF-8", field)
	}
	if !json.Valid(raw) {
		return fmt.Errorf("%s is not valid JSON", field)
	}
	if object {
		if t := bytes.TrimLeft(raw, " \t\r\n"); len(t) == 0 || t[0] != '{' {
			return fmt.Errorf("%s: %w", field, errNotObject)
		}
	}
	return nil
}

// jsonArg returns the storage form of an optional JSON value: NULL when nil.
func jsonArg(raw []byte) any {
	if raw == nil {
		return nil
	}
	return string(raw)
}

// truncateText makes s valid UTF-8 and cuts it to at most maxBytes bytes on a
// character boundary. It is for free text (error messages, reasons) that
// must be recorded whatever it holds.
func truncateText(s string, maxBytes int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= maxBytes {
		return s
	}
	cut := maxBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}
