package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// migrationLockTimeout bounds the wait for another process migrating the same
// MySQL database.
const migrationLockTimeout = 60 * time.Second

// execQuerier is what running a migration needs: a *sql.Conn or a *sql.Tx.
type execQuerier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// migrate brings the schema up to the last of ms (ascending versions): each
// pending migration runs with its record in schema_migrations, in one
// transaction on SQLite (whose write lock also serialises concurrent
// openers); on MySQL, under a named lock per database since DDL cannot be
// transactional there.
func (s *DB) migrate(ctx context.Context, ms []migration) error {
	for i, m := range ms {
		if m.version != i+1 {
			return fmt.Errorf("migrations: migration %d (%s) has version %d, want %d", i, m.name, m.version, i+1)
		}
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migrations: connect: %w", err)
	}
	defer conn.Close()

	if s.d.name == DriverMySQL {
		release, err := mysqlMigrationLock(ctx, conn)
		if err != nil {
			return err
		}
		defer release()
	}

	createTable := `CREATE TABLE IF NOT EXISTS schema_migrations (
  version    INTEGER NOT NULL PRIMARY KEY,
  name       TEXT    NOT NULL,
  applied_at TEXT    NOT NULL
)`
	if s.d.name == DriverMySQL {
		createTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version    INT          NOT NULL PRIMARY KEY,
  name       VARCHAR(255) NOT NULL,
  applied_at DATETIME(6)  NOT NULL
)` + mysqlTable
	}
	if _, err := conn.ExecContext(ctx, createTable); err != nil {
		return fmt.Errorf("migrations: create schema_migrations: %w", err)
	}

	var newest sql.NullInt64
	if err := conn.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&newest); err != nil {
		return fmt.Errorf("migrations: read schema_migrations: %w", err)
	}
	if newest.Valid && newest.Int64 > int64(len(ms)) {
		return fmt.Errorf("migrations: database schema is at version %d, newer than this binary knows (%d): upgrade the hub",
			newest.Int64, len(ms))
	}

	for _, m := range ms {
		if err := s.runMigration(ctx, conn, m); err != nil {
			return fmt.Errorf("migrations: %d (%s): %w", m.version, m.name, err)
		}
	}
	return nil
}

// runMigration applies m unless schema_migrations already records it.
func (s *DB) runMigration(ctx context.Context, conn *sql.Conn, m migration) (err error) {
	var (
		eq execQuerier = conn
		tx *sql.Tx
	)
	if s.d.name == DriverSQLite {
		tx, err = conn.BeginTx(ctx, nil) // BEGIN IMMEDIATE
		if err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		defer func() {
			if err != nil {
				_ = tx.Rollback()
			}
		}()
		eq = tx
	}

	var n int
	if err := eq.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, m.version).Scan(&n); err != nil {
		return fmt.Errorf("read schema_migrations: %w", err)
	}
	if n > 0 {
		if tx != nil {
			return tx.Rollback()
		}
		return nil
	}
	for i, stmt := range m.statements(s.d.name) {
		if _, err := eq.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("statement %d: %w", i+1, err)
		}
	}
	if _, err := eq.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		m.version, m.name, formatDBTime(time.Now())); err != nil {
		return fmt.Errorf("record in schema_migrations: %w", err)
	}
	if tx != nil {
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("commit: %w", err)
		}
	}
	slog.InfoContext(ctx, "store: applied schema migration", "driver", s.d.name, "version", m.version, "name", m.name)
	return nil
}

// mysqlMigrationLock takes a server-wide named lock for the current database
// on conn, and returns its release.
func mysqlMigrationLock(ctx context.Context, conn *sql.Conn) (func(), error) {
	const name = `LEFT(CONCAT('tongban.migrate.', DATABASE()), 64)`
	var got sql.NullInt64
	if err := conn.QueryRowContext(ctx, `SELECT GET_LOCK(`+name+`, ?)`, int(migrationLockTimeout.Seconds())).Scan(&got); err != nil {
		return nil, fmt.Errorf("migrations: take lock: %w", err)
	}
	if !got.Valid || got.Int64 != 1 {
		return nil, errors.New("migrations: another process holds the migration lock of this database (waited " +
			migrationLockTimeout.String() + ")")
	}
	return func() {
		// Released with the connection anyway; a failure here is harmless.
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), `DO RELEASE_LOCK(`+name+`)`)
	}, nil
}
