package store

import (
	"fmt"
	"time"
)

// Times are stored in UTC with microseconds: DATETIME(6) on MySQL, fixed-width
// text in this layout on SQLite (so text order is time order). Both backends
// are written with the same text; MySQL parses it into DATETIME(6).
const dbTimeLayout = "2006-01-02 15:04:05.000000"

// dbTimeParseLayout also accepts fewer (or no) fraction digits, as MySQL
// renders DATETIME values when times are not parsed by the driver.
const dbTimeParseLayout = "2006-01-02 15:04:05.999999"

// formatDBTime renders t (in UTC, truncated to microseconds) for storage.
func formatDBTime(t time.Time) string {
	return t.UTC().Format(dbTimeLayout)
}

// parseDBTime parses a stored time.
func parseDBTime(s string) (time.Time, error) {
	t, err := time.ParseInLocation(dbTimeParseLayout, s, time.UTC)
	if err != nil {
		return time.Time{}, fmt.Errorf("stored time %q: %w", s, err)
	}
	return t, nil
}

// timeArg returns the storage form of t for the named field, or of now when t
// is zero. Times outside years 1000–9999 (the DATETIME range) are refused.
func timeArg(field string, t, now time.Time) (string, error) {
	if t.IsZero() {
		t = now
	}
	t = t.UTC()
	if y := t.Year(); y < 1000 || y > 9999 {
		return "", fmt.Errorf("%s: time %s is outside years 1000-9999", field, t.Format(time.RFC3339Nano))
	}
	return formatDBTime(t), nil
}

// dbTime scans a stored time: a time.Time (MySQL with parsed times) or text
// (SQLite, MySQL aggregates). NULL leaves Valid false.
type dbTime struct {
	Time  time.Time
	Valid bool
}

// Scan implements sql.Scanner.
func (d *dbTime) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*d = dbTime{}
		return nil
	case time.Time:
		*d = dbTime{Time: x.UTC(), Valid: true}
		return nil
	case string:
		return d.parse(x)
	case []byte:
		return d.parse(string(x))
	default:
		return fmt.Errorf("stored time: unexpected type %T", v)
	}
}

func (d *dbTime) parse(s string) error {
	t, err := parseDBTime(s)
	if err != nil {
		return err
	}
	*d = dbTime{Time: t, Valid: true}
	return nil
}
