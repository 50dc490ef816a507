package deptdb

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"testing"

	_ "github.com/go-sql-driver/mysql"
)

// startServer starts a server with the given databases in a test directory.
func startServer(t testing.TB, dbs ...string) *Server {
	t.Helper()
	srv, err := Start(context.Background(), Config{
		Dir:       t.TempDir(),
		Databases: dbs,
		Logger:    quietLogger(),
	})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return srv
}

// openDB connects go-sql-driver/mysql to a database of the server over TCP.
func openDB(t testing.TB, srv *Server, db string) *sql.DB {
	t.Helper()
	conn, err := sql.Open("mysql", srv.DSN(db))
	if err != nil {
		t.Fatalf("sql.Open: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := conn.Ping(); err != nil {
		t.Fatalf("ping %s: %v", srv.DSN(db), err)
	}
	return conn
}

func mustExec(t testing.TB, db *sql.DB, q string, args ...any) sql.Result {
	t.Helper()
	res, err := db.Exec(q, args...)
	if err != nil {
		t.Fatalf("%s: %v", truncate(q, 300), err)
	}
	return res
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
