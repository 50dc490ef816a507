package store

import (
	"database/sql"
	"fmt"
)

// rowScanner is what a row scan function reads: *sql.Row or *sql.Rows.
type rowScanner = interface {
	Scan(dest ...any) error
}

// collectRows reads every row of rs with scan and closes rs; errors are
// wrapped as "what: …".
func collectRows[T any](rs *sql.Rows, what string, scan func(rowScanner) (T, error)) ([]T, error) {
	defer rs.Close()
	var out []T
	for rs.Next() {
		v, err := scan(rs)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}
