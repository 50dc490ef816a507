package deptdb

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/dolthub/vitess/go/mysql"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// MySQL error numbers deptdb sends that the mysql package does not name.
const (
	erTruncatedWrongValueForField = 1366
	erWarnDataOutOfRange          = 1264
	erDataTooLong                 = 1406
	erCheckConstraintViolated     = 3819
	erWrongArguments              = 1210
)

// sqlError builds the MySQL error the client receives.
func sqlError(num int, state, format string, args ...any) *mysql.SQLError {
	return mysql.NewSQLError(num, state, format, args...)
}

// notSupported is ER_NOT_SUPPORTED_YET naming what deptdb does not do.
func notSupported(format string, args ...any) *mysql.SQLError {
	return sqlError(mysql.ERNotSupportedYet, "42000", "deptdb does not support "+format, args...)
}

// valueError is the MySQL error for a value that cannot be stored in a column.
func valueError(err error, t colType, db, table, column string, v any, row int) *mysql.SQLError {
	text := valueText(v)
	if len(text) > 64 {
		text = text[:64] + "…"
	}
	switch {
	case errors.Is(err, errOutOfRange):
		return sqlError(erWarnDataOutOfRange, "22003", "Out of range value for column '%s' at row %d", column, row)
	case errors.Is(err, errTooLong):
		return sqlError(erDataTooLong, "22001", "Data too long for column '%s' at row %d", column, row)
	case t.kind() == kindDate || t.kind() == kindDatetime:
		return sqlError(mysql.ERTruncatedWrongValue, "22007", "Incorrect %s value: '%s' for column `%s`.`%s`.`%s` at row %d",
			strings.ToLower(t.name), text, db, table, column, row)
	}
	return sqlError(erTruncatedWrongValueForField, "22007", "Incorrect %s value: '%s' for column `%s`.`%s`.`%s` at row %d",
		t.dataType(), text, db, table, column, row)
}

// mysqlError turns an error of SQLite (or of deptdb) into the MySQL error the client gets.
func mysqlError(err error) error {
	if err == nil {
		return nil
	}
	var me *mysql.SQLError
	if errors.As(err, &me) {
		return me
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return sqlError(mysql.ERQueryInterrupted, "70100", "Query execution was interrupted: %v", err)
	}
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return sqlError(mysql.ERUnknownError, mysql.SSUnknownSQLState, "%v", err)
	}
	msg := se.Error()
	switch code := se.Code(); {
	case code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY || code == sqlite3.SQLITE_CONSTRAINT_UNIQUE:
		key := "PRIMARY"
		if code == sqlite3.SQLITE_CONSTRAINT_UNIQUE && !strings.Contains(msg, "PRIMARY") {
			key = afterLast(msg, "failed: ")
		}
		return sqlError(mysql.ERDupEntry, mysql.SSDupKey, "Duplicate entry for key '%s' (%s)", key, msg)
	case code == sqlite3.SQLITE_CONSTRAINT_NOTNULL:
		col := afterLast(msg, ".")
		col = strings.TrimSuffix(col, ")")
		if i := strings.IndexAny(col, " ("); i >= 0 {
			col = col[:i]
		}
		return sqlError(mysql.ERBadNullError, "23000", "Column '%s' cannot be null", col)
	case code == sqlite3.SQLITE_CONSTRAINT_CHECK:
		return sqlError(erCheckConstraintViolated, "HY000", "Check constraint violated: %s", msg)
	case code&0xff == sqlite3.SQLITE_BUSY || code&0xff == sqlite3.SQLITE_LOCKED:
		if code == sqlite3.SQLITE_BUSY_SNAPSHOT {
			return sqlError(mysql.ERLockDeadlock, mysql.SSLockDeadlock,
				"Deadlock found when trying to get lock; try restarting transaction (%s)", msg)
		}
		return sqlError(mysql.ERLockWaitTimeout, mysql.SSLockDeadlock,
			"Lock wait timeout exceeded; try restarting transaction (%s)", msg)
	case code&0xff == sqlite3.SQLITE_INTERRUPT:
		return sqlError(mysql.ERQueryInterrupted, "70100", "Query execution was interrupted")
	case strings.Contains(msg, "no such table"):
		return sqlError(mysql.ERNoSuchTable, mysql.SSUnknownTable, "Table '%s' doesn't exist", afterLast(msg, "no such table: "))
	case strings.Contains(msg, "no such column"):
		return sqlError(mysql.ERBadFieldError, mysql.SSBadFieldError, "Unknown column '%s' in 'field list'", afterLast(msg, "no such column: "))
	case strings.Contains(msg, "already exists"):
		return sqlError(mysql.ERTableExists, "42S01", "%s", msg)
	case strings.Contains(msg, "syntax error") || strings.Contains(msg, "no such function"):
		return sqlError(mysql.ERParseError, "42000", "You have an error in your SQL syntax (SQLite: %s)", msg)
	}
	return sqlError(mysql.ERUnknownError, mysql.SSUnknownSQLState, "%s", msg)
}

func afterLast(s, sep string) string {
	if i := strings.LastIndex(s, sep); i >= 0 {
		return strings.TrimSpace(s[i+len(sep):])
	}
	return s
}

// parseError is ER_PARSE_ERROR for a statement deptdb (Vitess' MySQL parser) cannot read.
func parseError(err error) *mysql.SQLError {
	return sqlError(mysql.ERParseError, "42000", "You have an error in your SQL syntax: %v", err)
}

// wrapf adds context to an error but keeps a MySQL error as it is.
func wrapf(err error, format string, args ...any) error {
	var me *mysql.SQLError
	if errors.As(err, &me) {
		return err
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}
