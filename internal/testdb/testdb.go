// Package testdb gives tests a fresh database on the test MariaDB/MySQL
// server: 127.0.0.1:3306 as root without a password (what `make test`
// starts), or the server named by TONGBAN_TEST_MYSQL. It is imported by
// tests only.
package testdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// DefaultServer is the test server's DSN without a database.
const DefaultServer = "root@tcp(127.0.0.1:3306)/"

// Server returns the DSN of the test server, without a database.
func Server() string {
	if v := os.Getenv("TONGBAN_TEST_MYSQL"); v != "" {
		return v
	}
	return DefaultServer
}

// MySQL creates a database tb_test_<random> (utf8mb4, binary collation) on
// the test server, drops it when the test ends, and returns its DSN. An
// unreachable server fails the test: a skipped database test would be
// counted as a pass.
func MySQL(tb testing.TB) string {
	tb.Helper()
	server := Server()
	root, err := sql.Open("mysql", server)
	if err != nil {
		tb.Fatalf("MySQL test server DSN %q: %v", server, err)
	}
	tb.Cleanup(func() { _ = root.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := root.PingContext(ctx); err != nil {
		tb.Fatalf("MariaDB/MySQL at %q is unreachable; this test needs it running (root, no password; make test starts it): %v", server, err)
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
