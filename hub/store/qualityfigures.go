package store

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// QualityFix is a value the quality checks corrected rather than rejected
// (e.g. a 15-digit citizen ID upgraded to 18 characters).
type QualityFix struct {
	// ID is assigned by the store.
	ID       int64
	Resource string
	Key      string
	Field    string
	Rule     string
	// Original and Fixed are the value before and after the fix; they are
	// made valid UTF-8 and cut to 16 KiB.
	Original string
	Fixed    string
	Version  int64
	// FixedAt is set to the current time when zero.
	FixedAt time.Time
}

// QualityFigure is one daily quality figure of a resource: a dimension
// (completeness, validity, ...) at resource level (Field "") or of one field.
type QualityFigure struct {
	Day         string // YYYY-MM-DD; set by the store when read
	Resource    string
	Dept        string
	Dimension   string
	Field       string
	Value       float64
	Numerator   int64
	Denominator int64
	// ComputedAt is set to the current time when zero.
	ComputedAt time.Time
}

const (
	maxDimensionLen = 32
	maxFixesLimit   = 1000
	dayLayout       = time.DateOnly
)

// RecordFixes stores fixes, one row per (resource, key, field, rule): a fix
// replaces the stored one when its version is at least the stored version
// (so a redelivery is idempotent and an older one changes nothing).
func (s *DB) RecordFixes(ctx context.Context, fixes []QualityFix) error {
	if len(fixes) == 0 {
		return nil
	}
	now := time.Now()
	rows := make([][]any, 0, len(fixes))
	for i, f := range fixes {
		for _, c := range []struct {
			name, v string
			max     int
		}{{"resource", f.Resource, maxResourceLen}, {"key", f.Key, maxKeyLen}, {"field", f.Field, maxFieldLen}, {"rule", f.Rule, maxRuleLen}} {
			if err := checkText(c.name, c.v, c.max, true); err != nil {
				return fmt.Errorf("store: record fixes: fix %d: %w: %w", i, ErrInvalidRecord, err)
			}
		}
		at, err := timeArg("fixed at", f.FixedAt, now)
		if err != nil {
			return fmt.Errorf("store: record fixes: fix %d: %w: %w", i, ErrInvalidRecord, err)
		}
		rows = append(rows, []any{f.Resource, f.Key, f.Field, f.Rule, truncateText(f.Original, maxQualityText),
			truncateText(f.Fixed, maxQualityText), f.Version, at})
	}
	q := `INSERT INTO quality_fixes (resource, record_key, field, rule, original, fixed, version, fixed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	if s.d.name == DriverMySQL {
		const cond = `VALUES(version) >= version`
		q += ` ON DUPLICATE KEY UPDATE original = IF(` + cond + `, VALUES(original), original),
 fixed = IF(` + cond + `, VALUES(fixed), fixed), fixed_at = IF(` + cond + `, VALUES(fixed_at), fixed_at),
 version = IF(` + cond + `, VALUES(version), version)`
	} else {
		q += ` ON CONFLICT(resource, record_key, field, rule) DO UPDATE SET original = excluded.original,
 fixed = excluded.fixed, fixed_at = excluded.fixed_at, version = excluded.version WHERE excluded.version >= quality_fixes.version`
	}
	tx, err := s.db.BeginTx(ctx, s.d.writeTx)
	if err != nil {
		return fmt.Errorf("store: record fixes: begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	stmt, err := tx.PrepareContext(ctx, q)
	if err != nil {
		return fmt.Errorf("store: record fixes: %w", err)
	}
	defer stmt.Close()
	for _, args := range rows {
		if _, err := stmt.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("store: record fix %s/%q %s: %w", args[0], args[1], args[2], err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: record fixes: commit: %w", err)
	}
	return nil
}

// ListFixes returns up to limit fixes with id > after, in id order; of
// resource only unless it is empty.
func (s *DB) ListFixes(ctx context.Context, resource string, after int64, limit int) ([]QualityFix, error) {
	if limit <= 0 || limit > maxFixesLimit {
		return nil, fmt.Errorf("store: list fixes: limit %d is not in 1..%d", limit, maxFixesLimit)
	}
	q := `SELECT id, resource, record_key, field, rule, original, fixed, version, fixed_at FROM quality_fixes WHERE id > ?`
	args := []any{after}
	if resource != "" {
		q += ` AND resource = ?`
		args = append(args, resource)
	}
	q += ` ORDER BY id LIMIT ?`
	args = append(args, limit)
	rs, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list fixes: %w", err)
	}
	defer rs.Close()
	var out []QualityFix
	for rs.Next() {
		var (
			f  QualityFix
			at dbTime
		)
		if err := rs.Scan(&f.ID, &f.Resource, &f.Key, &f.Field, &f.Rule, &f.Original, &f.Fixed, &f.Version, &at); err != nil {
			return nil, fmt.Errorf("store: list fixes: %w", err)
		}
		f.FixedAt = at.Time
		out = append(out, f)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("store: list fixes: %w", err)
	}
	return out, nil
}

// checkDay validates a YYYY-MM-DD day.
func checkDay(name, day string) error {
	if _, err := time.Parse(dayLayout, day); err != nil {
		return fmt.Errorf("%s %q is not a date YYYY-MM-DD", name, day)
	}
	return nil
}

// SaveQualityFigures replaces, in one transaction, the figures of day of
// every resource named in figs with figs.
func (s *DB) SaveQualityFigures(ctx context.Context, day string, figs []QualityFigure) error {
	if err := checkDay("day", day); err != nil {
		return fmt.Errorf("store: save quality figures: %w", err)
	}
	now := time.Now()
	var resources []string
	args := make([][]any, 0, len(figs))
	for i, f := range figs {
		for _, c := range []struct {
			name, v  string
			max      int
			required bool
		}{{"resource", f.Resource, maxResourceLen, true}, {"dept", f.Dept, maxDeptLen, false},
			{"dimension", f.Dimension, maxDimensionLen, true}, {"field", f.Field, maxFieldLen, false}} {
			if err := checkText(c.name, c.v, c.max, c.required); err != nil {
				return fmt.Errorf("store: save quality figures of %s: figure %d: %w", day, i, err)
			}
		}
		if math.IsNaN(f.Value) || math.IsInf(f.Value, 0) {
			return fmt.Errorf("store: save quality figures of %s: figure %d (%s %s %s): value %v is not a finite number",
				day, i, f.Resource, f.Dimension, f.Field, f.Value)
		}
		at, err := timeArg("computed at", f.ComputedAt, now)
		if err != nil {
			return fmt.Errorf("store: save quality figures of %s: figure %d: %w", day, i, err)
		}
		resources = append(resources, f.Resource)
		args = append(args, []any{day, f.Resource, f.Dimension, f.Field, f.Dept, f.Value, f.Numerator, f.Denominator, at})
	}
	slices.Sort(resources)
	resources = slices.Compact(resources)
	if err := s.saveFigures(ctx, day, resources, args); err != nil {
		return fmt.Errorf("store: save quality figures of %s: %w", day, err)
	}
	return nil
}

func (s *DB) saveFigures(ctx context.Context, day string, resources []string, rows [][]any) (err error) {
	tx, err := s.db.BeginTx(ctx, s.d.writeTx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	for start := 0; start < len(resources); start += quarantineChunkRows {
		end := min(start+quarantineChunkRows, len(resources))
		a := []any{day}
		for _, r := range resources[start:end] {
			a = append(a, r)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM quality_daily WHERE day = ? AND resource IN (?`+
			strings.Repeat(",?", end-start-1)+`)`, a...); err != nil {
			return fmt.Errorf("delete: %w", err)
		}
	}
	q := `INSERT INTO quality_daily (day, resource, dimension, field, dept, value, numerator, denominator, computed_at)
 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
	for _, a := range rows {
		if _, err := tx.ExecContext(ctx, q, a...); err != nil {
			if s.d.isDuplicate(err) {
				return fmt.Errorf("%s %s field %q given twice: %w", a[1], a[2], a[3], ErrDuplicate)
			}
			return fmt.Errorf("insert: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

const selectFigures = `SELECT day, resource, dept, dimension, field, value, numerator, denominator, computed_at FROM quality_daily`

// QualityFigures returns the figures of resource (of every resource when
// empty) from fromDay to toDay inclusive (YYYY-MM-DD; either may be empty
// for no bound), ordered by day, resource, dimension, field.
func (s *DB) QualityFigures(ctx context.Context, resource, fromDay, toDay string) ([]QualityFigure, error) {
	q := selectFigures + ` WHERE 1 = 1`
	var args []any
	if resource != "" {
		q += ` AND resource = ?`
		args = append(args, resource)
	}
	if fromDay != "" {
		if err := checkDay("from day", fromDay); err != nil {
			return nil, fmt.Errorf("store: quality figures: %w", err)
		}
		q += ` AND day >= ?`
		args = append(args, fromDay)
	}
	if toDay != "" {
		if err := checkDay("to day", toDay); err != nil {
			return nil, fmt.Errorf("store: quality figures: %w", err)
		}
		q += ` AND day <= ?`
		args = append(args, toDay)
	}
	q += ` ORDER BY day, resource, dimension, field`
	out, err := s.queryFigures(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: quality figures of %q: %w", resource, err)
	}
	return out, nil
}

// LatestQualityFigures returns, for every resource with figures, those of its
// latest day, ordered by resource, dimension, field.
func (s *DB) LatestQualityFigures(ctx context.Context) ([]QualityFigure, error) {
	out, err := s.queryFigures(ctx, selectFigures+` q WHERE q.day = (SELECT MAX(l.day) FROM quality_daily l WHERE l.resource = q.resource)
 ORDER BY q.resource, q.dimension, q.field`)
	if err != nil {
		return nil, fmt.Errorf("store: latest quality figures: %w", err)
	}
	return out, nil
}

func (s *DB) queryFigures(ctx context.Context, q string, args ...any) ([]QualityFigure, error) {
	rs, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []QualityFigure
	for rs.Next() {
		var (
			f  QualityFigure
			at dbTime
		)
		if err := rs.Scan(&f.Day, &f.Resource, &f.Dept, &f.Dimension, &f.Field, &f.Value, &f.Numerator, &f.Denominator, &at); err != nil {
			return nil, err
		}
		f.ComputedAt = at.Time
		out = append(out, f)
	}
	return out, rs.Err()
}

// SharedSubjectRecords returns how many live records of resource share their
// subject with another live record of resource (records without a subject
// share nothing): what the uniqueness figure counts as duplicates.
func (s *DB) SharedSubjectRecords(ctx context.Context, resource string) (int64, error) {
	var n int64
	err := s.db.QueryRowContext(ctx, `SELECT COALESCE(SUM(n), 0) FROM (SELECT COUNT(*) AS n FROM source_records
 WHERE resource = ? AND deleted = 0 AND subject IS NOT NULL GROUP BY subject HAVING COUNT(*) > 1) d`, resource).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: count shared subjects of %s: %w", resource, err)
	}
	return n, nil
}
