package store

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// dialect holds what differs between the two backends. Both use "?" as the
// placeholder, so query text differs only where SQL itself does.
type dialect struct {
	name string
	// forUpdate is appended to the SELECT that reads stored versions before a
	// write in the same transaction: row locks on MySQL; SQLite already holds
	// the database write lock (BEGIN IMMEDIATE).
	forUpdate string
	// writeTx are the options of read-then-write transactions.
	writeTx *sql.TxOptions
	// upsertRecordsSuffix follows the VALUES list of the source_records upsert.
	upsertRecordsSuffix string
	// subjectFrom is the FROM clause of reads by subject. Without
	// statistics SQLite would read the primary key (resource, record_key)
	// for "subject IN (…) AND resource IN (…)", scanning every record of
	// the resource; the hint makes both backends use the subject index.
	subjectFrom string
	// maxApplyAttempts bounds the retries of ApplyRecords on retryable errors.
	maxApplyAttempts int
	isDuplicate      func(error) bool
	isRetryable      func(error) bool
}

// sqliteBusyTimeout is how long a SQLite connection waits for the write lock.
const sqliteBusyTimeout = 10 * time.Second

func sqliteDialect() *dialect {
	return &dialect{
		name:    DriverSQLite,
		writeTx: &sql.TxOptions{},
		// Applied only when the incoming version is at least the stored one.
		upsertRecordsSuffix: ` ON CONFLICT(resource, record_key) DO UPDATE SET
 dept = excluded.dept, deleted = excluded.deleted, data = excluded.data,
 batch_id = excluded.batch_id, ingested_at = excluded.ingested_at,
 subject = COALESCE(excluded.subject, source_records.subject), version = excluded.version
 WHERE excluded.version >= source_records.version`,
		subjectFrom:      `source_records INDEXED BY source_records_subject`,
		maxApplyAttempts: 1,
		isDuplicate:      sqliteIsDuplicate,
		isRetryable:      func(error) bool { return false },
	}
}

func mysqlDialect() *dialect {
	// MySQL evaluates ON DUPLICATE KEY UPDATE assignments left to right and a
	// later IF sees the columns already assigned, so version is assigned last.
	const cond = `VALUES(version) >= version`
	return &dialect{
		name:      DriverMySQL,
		forUpdate: " FOR UPDATE",
		// READ COMMITTED: SELECT ... FOR UPDATE locks the existing rows only,
		// without gap locks that make concurrent inserts deadlock.
		writeTx: &sql.TxOptions{Isolation: sql.LevelReadCommitted},
		upsertRecordsSuffix: ` ON DUPLICATE KEY UPDATE
 dept = IF(` + cond + `, VALUES(dept), dept),
 deleted = IF(` + cond + `, VALUES(deleted), deleted),
 data = IF(` + cond + `, VALUES(data), data),
 batch_id = IF(` + cond + `, VALUES(batch_id), batch_id),
 ingested_at = IF(` + cond + `, VALUES(ingested_at), ingested_at),
 subject = IF(` + cond + `, COALESCE(VALUES(subject), subject), subject),
 version = IF(` + cond + `, VALUES(version), version)`,
		subjectFrom:      `source_records FORCE INDEX (source_records_subject)`,
		maxApplyAttempts: 5,
		isDuplicate:      mysqlIsDuplicate,
		isRetryable:      mysqlIsRetryable,
	}
}

// sqlitePath validates a sqlite DSN, which must be a plain file path.
func sqlitePath(dsn string) (string, error) {
	switch {
	case strings.TrimSpace(dsn) == "":
		return "", errors.New("DSN is empty (want the database file path)")
	case strings.ContainsRune(dsn, 0):
		return "", errors.New("DSN contains a NUL byte")
	case strings.ContainsRune(dsn, '?'):
		return "", fmt.Errorf("DSN %q contains '?': give a plain file path, the store sets the connection options itself", dsn)
	case strings.HasPrefix(dsn, "file:"):
		return "", fmt.Errorf("DSN %q is a URI: give a plain file path", dsn)
	case dsn == ":memory:" || strings.HasPrefix(dsn, ":memory:"):
		return "", errors.New("DSN :memory: is not supported (each pooled connection would get its own database): give a file path")
	}
	return dsn, nil
}

// openSQLite opens the database file named by dsn; target names it for errors.
func openSQLite(dsn string) (db *sql.DB, target string, err error) {
	path, err := sqlitePath(dsn)
	if err != nil {
		return nil, "", err
	}
	target = "database file " + path
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, "", fmt.Errorf("create directory of database file %s: %w", path, err)
		}
	}
	// _txlock=immediate: every write transaction takes the write lock at BEGIN,
	// so a transaction that reads then writes never fails to upgrade its lock.
	q := fmt.Sprintf("?_pragma=busy_timeout(%d)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)&_txlock=immediate",
		sqliteBusyTimeout.Milliseconds())
	db, err = sql.Open(DriverSQLite, path+q)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", target, err)
	}
	return db, target, nil
}

// openMySQL opens the database named by a go-sql-driver DSN; target names
// the server and database (never the password) for errors.
func openMySQL(dsn string) (db *sql.DB, target string, err error) {
	if strings.TrimSpace(dsn) == "" {
		return nil, "", errors.New("DSN is empty (want user:pass@tcp(host:3306)/dbname)")
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		// The DSN may carry a password: never echo it.
		return nil, "", fmt.Errorf("parse DSN: %w", err)
	}
	if cfg.DBName == "" {
		return nil, "", errors.New("DSN names no database (want user:pass@tcp(host:3306)/dbname)")
	}
	target = fmt.Sprintf("database %s at %s(%s) as %q", cfg.DBName, cfg.Net, cfg.Addr, cfg.User)
	// Times are written and read as UTC; text is utf8mb4 whatever the DSN says;
	// placeholders are interpolated client side (one round trip per statement,
	// safe with utf8mb4).
	cfg.Loc = time.UTC
	cfg.ParseTime = true
	cfg.InterpolateParams = true
	if err := cfg.Apply(mysql.Charset("utf8mb4", "utf8mb4_bin")); err != nil {
		return nil, "", fmt.Errorf("%s: set charset: %w", target, err)
	}
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", target, err)
	}
	db = sql.OpenDB(conn)
	db.SetConnMaxLifetime(3 * time.Minute)
	db.SetMaxIdleConns(8)
	return db, target, nil
}

func sqliteIsDuplicate(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code() {
	case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE:
		return true
	}
	return false
}

// MySQL error numbers.
const (
	mysqlErrDupEntry     = 1062
	mysqlErrLockDeadlock = 1213
)

func mysqlIsDuplicate(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.Number == mysqlErrDupEntry
}

// mysqlIsRetryable reports errors after which ApplyRecords runs its
// transaction again: a deadlock, or a key inserted by a concurrent
// transaction between the version read and the insert.
func mysqlIsRetryable(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && (me.Number == mysqlErrLockDeadlock || me.Number == mysqlErrDupEntry)
}
