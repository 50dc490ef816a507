package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// testMySQLServer is the MariaDB the tests use (root, no password); the
// environment variable TONGBAN_TEST_MYSQL may name another server DSN
// (without a database).
const testMySQLServer = "root@tcp(127.0.0.1:3306)/"

func mysqlServerDSN() string {
	if v := os.Getenv("TONGBAN_TEST_MYSQL"); v != "" {
		return v
	}
	return testMySQLServer
}

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
		return Config{Driver: DriverMySQL, DSN: createMySQLDatabase(tb)}
	}
	tb.Fatalf("unknown test driver %q", driver)
	return Config{}
}

func createMySQLDatabase(tb testing.TB) string {
	tb.Helper()
	server := mysqlServerDSN()
	root, err := sql.Open("mysql", server)
	if err != nil {
		tb.Fatalf("MySQL test server DSN %q: %v", server, err)
	}
	tb.Cleanup(func() { _ = root.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := root.PingContext(ctx); err != nil {
		tb.Fatalf("MariaDB/MySQL at %q is unreachable; the store tests need it running (root, no password): %v", server, err)
	}
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		tb.Fatal(err)
	}
	name := "tb_test_" + hex.EncodeToString(b[:])
	if _, err := root.ExecContext(ctx, "CREATE DATABASE "+name+" CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"); err != nil {
		tb.Fatalf("create test database %s: %v", name, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := root.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name); err != nil {
			tb.Errorf("drop test database %s: %v", name, err)
		}
	})
	cfg, err := mysql.ParseDSN(server)
	if err != nil {
		tb.Fatalf("MySQL test server DSN %q: %v", server, err)
	}
	cfg.DBName = name
	return cfg.FormatDSN()
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
