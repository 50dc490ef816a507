// Package store is the hub's SQL store: the department library (the latest
// version of every source record), schema versions per resource, agent
// statuses, API tokens and dead letters.
//
// One concrete type, DB, serves two backends through database/sql: SQLite
// (the embedded default, modernc.org/sqlite) and MySQL (production,
// github.com/go-sql-driver/mysql; MariaDB and TiDB speak the same protocol).
// Schema migrations run in Open. Consumers define their own small interfaces
// over the methods they use.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Driver names accepted in Config.Driver.
const (
	DriverSQLite = "sqlite"
	DriverMySQL  = "mysql"
)

// Config selects the backend.
type Config struct {
	// Driver is "sqlite" or "mysql".
	Driver string
	// DSN is, for sqlite, the database file path (its directory is created);
	// for mysql, a go-sql-driver DSN that names a database, e.g.
	// "user:pass@tcp(127.0.0.1:3306)/tongban".
	DSN string
}

// DB is the hub store. It is safe for concurrent use.
type DB struct {
	db    *sql.DB
	d     *dialect
	stmts stmtCache
}

// maxIdleConns is how many idle connections the pool keeps.
// It is not a cap on open connections (a request never waits for one).
const maxIdleConns = 256

// ErrDuplicate is wrapped by errors of writes that would create a second row
// under an existing unique key (schema version, token id or hash).
var ErrDuplicate = errors.New("already exists")

// ErrNotFound is wrapped by errors of writes aimed at a row that does not exist.
var ErrNotFound = errors.New("not found")

// Open connects to the backend named in cfg, checks the connection and runs
// the pending schema migrations.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	var (
		d      *dialect
		sdb    *sql.DB
		target string // what is opened, for errors: never the password
		err    error
	)
	switch cfg.Driver {
	case DriverSQLite:
		d = sqliteDialect()
		sdb, target, err = openSQLite(cfg.DSN)
	case DriverMySQL:
		d = mysqlDialect()
		sdb, target, err = openMySQL(cfg.DSN)
	case "":
		return nil, errors.New("store: open: driver is empty (want \"sqlite\" or \"mysql\")")
	default:
		return nil, fmt.Errorf("store: open: unknown driver %q (want \"sqlite\" or \"mysql\")", cfg.Driver)
	}
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", cfg.Driver, err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := sdb.PingContext(pingCtx); err != nil {
		_ = sdb.Close()
		return nil, fmt.Errorf("store: open %s %s: connect: %w", cfg.Driver, target, err)
	}
	// database/sql keeps 2 idle connections by default: under concurrent
	// API calls connections would be opened and closed all the time (on
	// SQLite each new one re-prepares its statements).
	sdb.SetMaxIdleConns(maxIdleConns)
	s := &DB{db: sdb, d: d}
	if err := s.migrate(ctx, migrations()); err != nil {
		_ = sdb.Close()
		return nil, fmt.Errorf("store: open %s %s: %w", cfg.Driver, target, err)
	}
	return s, nil
}

// Close closes the connection pool.
func (s *DB) Close() error {
	_ = s.closeStatements()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("store: close %s: %w", s.d.name, err)
	}
	return nil
}

// Driver returns the backend name, "sqlite" or "mysql".
func (s *DB) Driver() string { return s.d.name }
