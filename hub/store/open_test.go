package store

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestReopenRunsNoMigrationTwice(t *testing.T) {
	for _, driver := range testBackends() {
		t.Run(driver, func(t *testing.T) {
			ctx := context.Background()
			cfg := testConfig(t, driver)
			db, err := Open(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			v1, t1, err := db.appliedMigrations(ctx)
			if err != nil {
				t.Fatal(err)
			}
			want := make([]int, len(migrations()))
			for i := range want {
				want[i] = i + 1
			}
			if !slices.Equal(v1, want) {
				t.Fatalf("applied migrations = %v, want %v", v1, want)
			}
			if _, err := db.ApplyRecords(ctx, []Record{live("R", "k", 1, `{"kept":true}`)}); err != nil {
				t.Fatal(err)
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}

			db = openConfig(t, cfg)
			v2, t2, err := db.appliedMigrations(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(v1, v2) || !slices.EqualFunc(t1, t2, func(a, b time.Time) bool { return a.Equal(b) }) {
				t.Fatalf("re-open changed schema_migrations: %v %v -> %v %v", v1, t1, v2, t2)
			}
			checkStored(t, db, []wantRecord{{"R", "k", 1, false, `{"kept":true}`, ""}})

			// A migration that fails when run twice: migrating twice must run it once.
			ms := append(migrations(), migration{
				version: len(migrations()) + 1,
				name:    "test table",
				sqlite:  []string{`CREATE TABLE once_only (x INTEGER)`},
				mysql:   []string{`CREATE TABLE once_only (x INT)`},
			})
			for i := 0; i < 2; i++ {
				if err := db.migrate(ctx, ms); err != nil {
					t.Fatalf("migrate #%d: %v", i+1, err)
				}
			}
			v3, _, err := db.appliedMigrations(ctx)
			if err != nil || len(v3) != len(ms) {
				t.Fatalf("applied after the extra migration = %v, %v", v3, err)
			}

			// The database is now newer than the binary's migrations.
			if _, err := Open(ctx, cfg); err == nil || !strings.Contains(err.Error(), "newer than this binary") {
				t.Fatalf("Open of a newer schema: err = %v, want a 'newer than this binary' error", err)
			}
		})
	}
}

// TestMigrationFailureRollsBack: on SQLite a failing migration leaves neither
// its tables nor its record.
func TestMigrationFailureRollsBack(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t, DriverSQLite)
	ms := append(migrations(), migration{
		version: len(migrations()) + 1,
		name:    "broken",
		sqlite:  []string{`CREATE TABLE half (x INTEGER)`, `CREATE TABLE broken (`},
	})
	err := db.migrate(ctx, ms)
	if err == nil || !strings.Contains(err.Error(), "broken") || !strings.Contains(err.Error(), "statement 2") {
		t.Fatalf("migrate = %v, want an error naming the migration and statement 2", err)
	}
	var n int
	if err := db.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE name = 'half'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("table of the failed migration exists (%d, %v)", n, err)
	}
	if v, _, _ := db.appliedMigrations(ctx); len(v) != len(migrations()) {
		t.Fatalf("applied = %v", v)
	}
	if err := db.migrate(ctx, []migration{{version: 2, name: "gap"}}); err == nil || !strings.Contains(err.Error(), "want 1") {
		t.Fatalf("migrate with a numbering gap = %v", err)
	}
}

func TestOpenSQLite(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "a", "b")
	path := filepath.Join(dir, "hub.db")
	db := openConfig(t, Config{Driver: DriverSQLite, DSN: path})
	if db.Driver() != DriverSQLite {
		t.Fatalf("Driver() = %q", db.Driver())
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database file: %v", err)
	}
	conn, err := db.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, c := range []struct{ pragma, want string }{
		{"journal_mode", "wal"},
		{"synchronous", "1"}, // NORMAL
		{"foreign_keys", "1"},
		{"busy_timeout", "10000"},
	} {
		var got string
		if err := conn.QueryRowContext(ctx, "PRAGMA "+c.pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("PRAGMA %s = %q, want %q", c.pragma, got, c.want)
		}
	}
}

func TestOpenMySQLSettings(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t, DriverMySQL)
	if db.Driver() != DriverMySQL {
		t.Fatalf("Driver() = %q", db.Driver())
	}
	var charset, collation string
	if err := db.db.QueryRowContext(ctx, `SELECT @@character_set_connection, @@collation_connection`).Scan(&charset, &collation); err != nil {
		t.Fatal(err)
	}
	if charset != "utf8mb4" {
		t.Errorf("connection charset = %q, want utf8mb4", charset)
	}
	var dataCharset sql.NullString
	if err := db.db.QueryRowContext(ctx, `SELECT CHARACTER_SET_NAME FROM information_schema.COLUMNS
 WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'source_records' AND COLUMN_NAME = 'data'`).Scan(&dataCharset); err != nil {
		t.Fatal(err)
	}
	if dataCharset.String != "utf8mb4" {
		t.Errorf("source_records.data charset = %q, want utf8mb4", dataCharset.String)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, []byte(strings.Repeat("not a database ", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		cfg  Config
		want []string
	}{
		{"no driver", Config{DSN: "x"}, []string{"driver is empty"}},
		{"unknown driver", Config{Driver: "postgres", DSN: "x"}, []string{`unknown driver "postgres"`}},
		{"sqlite empty", Config{Driver: DriverSQLite}, []string{"open sqlite", "DSN is empty"}},
		{"sqlite query", Config{Driver: DriverSQLite, DSN: "hub.db?_pragma=x"}, []string{"open sqlite", "contains '?'"}},
		{"sqlite uri", Config{Driver: DriverSQLite, DSN: "file:hub.db"}, []string{"open sqlite", "URI"}},
		{"sqlite memory", Config{Driver: DriverSQLite, DSN: ":memory:"}, []string{"open sqlite", ":memory:"}},
		{"sqlite dir is a file", Config{Driver: DriverSQLite, DSN: filepath.Join(file, "hub.db")}, []string{"open sqlite", "create directory"}},
		{"sqlite not a database", Config{Driver: DriverSQLite, DSN: file}, []string{"open sqlite", file}},
		{"mysql empty", Config{Driver: DriverMySQL}, []string{"open mysql", "DSN is empty"}},
		{"mysql bad dsn", Config{Driver: DriverMySQL, DSN: "root:secret@tcp(127.0.0.1:3306"}, []string{"open mysql", "parse DSN"}},
		{"mysql no database", Config{Driver: DriverMySQL, DSN: "root@tcp(127.0.0.1:3306)/"}, []string{"open mysql", "names no database"}},
		{"mysql unreachable", Config{Driver: DriverMySQL, DSN: "root:secret@tcp(127.0.0.1:1)/x?timeout=2s"}, []string{"open mysql", "connect"}},
		{"mysql unknown database", Config{Driver: DriverMySQL, DSN: "root@tcp(127.0.0.1:3306)/tb_test_does_not_exist"}, []string{"open mysql", "connect"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db, err := Open(ctx, c.cfg)
			if err == nil {
				db.Close()
				t.Fatal("Open succeeded, want an error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Open error = %q, want it to contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("Open error %q leaks the password", err)
			}
		})
	}
}
