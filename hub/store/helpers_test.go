package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/tongban/tongban/internal/testdb"
)

// testBackends are the drivers every table-driven test runs against.
func testBackends() []string { return []string{DriverSQLite, DriverMySQL} }

// testConfig returns a Config for a fresh, empty database of driver: a file in
// a new temporary directory, or a new MySQL database tb_test_<random> dropped
// when the test ends. An unreachable MySQL fails the test.
func testConfig(tb testing.TB, driver string) Config {
	tb.Helper()
	switch driver {
	case DriverSQLite:
		return Config{Driver: DriverSQLite, DSN: filepath.Join(tb.TempDir(), "state", "hub.db")}
	case DriverMySQL:
		return Config{Driver: DriverMySQL, DSN: testdb.MySQL(tb)}
	}
	tb.Fatalf("unknown test driver %q", driver)
	return Config{}
}

// openTestDB opens a fresh store of driver, closed when the test ends.
func openTestDB(tb testing.TB, driver string) *DB {
	tb.Helper()
	return openConfig(tb, testConfig(tb, driver))
}

func openConfig(tb testing.TB, cfg Config) *DB {
	tb.Helper()
	db, err := Open(context.Background(), cfg)
	if err != nil {
		tb.Fatalf("Open(%s): %v", cfg.Driver, err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return db
}

// eachBackend runs fn as a subtest per backend on a fresh store.
func eachBackend(t *testing.T, fn func(t *testing.T, db *DB)) {
	t.Helper()
	for _, driver := range testBackends() {
		t.Run(driver, func(t *testing.T) {
			fn(t, openTestDB(t, driver))
		})
	}
}

// appliedMigrations returns the recorded migration versions with their
// application times, ascending.
func (s *DB) appliedMigrations(ctx context.Context) ([]int, []time.Time, error) {
	rs, err := s.db.QueryContext(ctx, `SELECT version, applied_at FROM schema_migrations ORDER BY version`)
	if err != nil {
		return nil, nil, err
	}
	defer rs.Close()
	var (
		vs []int
		ts []time.Time
	)
	for rs.Next() {
		var (
			v  int
			at dbTime
		)
		if err := rs.Scan(&v, &at); err != nil {
			return nil, nil, err
		}
		vs = append(vs, v)
		ts = append(ts, at.Time)
	}
	return vs, ts, rs.Err()
}

// writeMerge stores precomputed merge outcomes through MergeSubjects (no
// source records are read: compute returns the given outcomes).
func writeMerge(ctx context.Context, db *DB, merges []SubjectMerge, at time.Time) (MergeResult, error) {
	subjects := make([]string, 0, len(merges))
	for _, m := range merges {
		subjects = append(subjects, m.Golden.SubjectID)
	}
	if len(subjects) == 1 && subjects[0] == "" {
		subjects[0] = "-" // an outcome without a subject id, to test its refusal
	}
	return db.MergeSubjects(ctx, nil, subjects, func([]Record) ([]SubjectMerge, error) { return merges, nil }, at)
}
