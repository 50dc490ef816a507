package opendata

import (
	"fmt"
	"strconv"
)

// Latest is the release reference of the newest release.
const Latest = "latest"

// maxReleaseDigits bounds a release number's text (int64 has 19 digits).
const maxReleaseDigits = 18

// ParseReleaseRef reads a release reference of a download path: "latest"
// (n is 0) or a release number 1, 2, … in decimal without sign, leading
// zeros or spaces, of at most 18 digits.
func ParseReleaseRef(s string) (int64, error) {
	if s == Latest {
		return 0, nil
	}
	switch {
	case s == "":
		return 0, fmt.Errorf("release is empty: give a release number (1, 2, …) or %q", Latest)
	case len(s) > maxReleaseDigits:
		return 0, fmt.Errorf("release %.40q is not a release number: at most %d digits", s, maxReleaseDigits)
	case s[0] == '0':
		return 0, fmt.Errorf("release %q is not a release number: numbers start at 1, without leading zeros", s)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("release %q is not a release number (1, 2, …) or %q", s, Latest)
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("release %q: %w", s, err)
	}
	return n, nil
}
