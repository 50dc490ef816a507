// Package deptdb is an in-process MySQL server for `tongban demo`: each demo department gets
// "its own MySQL database" on a machine that has nothing but Go. The MySQL wire protocol is
// Vitess' (github.com/dolthub/vitess/go/mysql, no query engine); every database is one SQLite
// file (modernc.org/sqlite, WAL, synchronous=NORMAL) named <Dir>/<database>.sqlite (Start
// opens the configured databases and every such file already in Dir). Clients log in as root
// without a password; go-sql-driver/mysql works over TCP as against MariaDB, with text queries
// and with server-side prepared statements (COM_STMT_PREPARE/EXECUTE), so DSN needs no
// interpolateParams (client-side interpolation works as well).
//
// # How statements run
//
// SELECT, INSERT, UPDATE and DELETE are lexed (lexer.go) and parsed by Vitess' MySQL parser.
// The lexer lifts every string literal and NOW()-like function out of the statement into a
// bound value, so SQLite never sees MySQL escapes and every value compared with or assigned to
// a column is converted to that column's stored form first. SELECT, UPDATE and DELETE then run
// on SQLite as written, apart from these rewrites: `ident` becomes "ident"; <=> becomes IS;
// || and && become OR and AND; CAST(? AS DECIMAL(p,s)) becomes the bare parameter (converted
// to the compared column's DECIMAL), CAST(x AS BINARY) becomes CAST(x AS BLOB), AS CHAR, DATE,
// DATETIME and TIME become AS TEXT, AS SIGNED and UNSIGNED become AS INTEGER; COLLATE clauses, index
// hints (USE/FORCE/IGNORE INDEX) and a trailing FOR UPDATE / FOR SHARE / LOCK IN SHARE MODE
// are dropped; a database qualifier (db.t, db.t.col) is dropped and the statement runs in that
// database's file. INSERT and REPLACE are regenerated from the parse tree with all values
// bound. CREATE TABLE is translated (ddl.go); the other supported statements are answered by
// deptdb itself.
//
// Column types: a column's declared MySQL type is kept in its SQLite declared type, after an
// affinity keyword: "TEXT NN PK DECIMAL(12,2)" (see colType.decltype). SQLite reports it for
// every result column that reads a table column, so result sets carry MySQL types:
// go-sql-driver with parseTime=true scans DATE/DATETIME/TIMESTAMP into time.Time, DECIMAL into
// a string with the declared scale ("12.30"), integers into int64, NULL into nil. Expression
// columns are typed from the statement (COUNT is BIGINT, MAX/MIN of a column has the column's
// type, NOW() is DATETIME) or, failing that, from their values. Stored forms, enforced by
// CHECK constraints: integers as INTEGER, FLOAT/DOUBLE as REAL, DECIMAL(p,s) as text with
// exactly s decimals (rounded half away from zero; compared, sorted and indexed by value
// through a DECIMAL collation), DATE as 'YYYY-MM-DD', DATETIME(fsp)/TIMESTAMP(fsp) as
// 'YYYY-MM-DD HH:MM:SS.ffffff' (digits beyond fsp are truncated, as MariaDB does), text as
// UTF-8 TEXT, binary types as BLOB. Tables with a primary key are WITHOUT ROWID tables
// clustered on it, as in InnoDB, so keyset chunks (WHERE pk > ? ORDER BY pk LIMIT n) are index
// range reads.
//
// # Supported SQL
//
//   - CREATE TABLE [IF NOT EXISTS] [db.]t (col type [NOT NULL | NULL] [DEFAULT literal |
//     NULL | CURRENT_TIMESTAMP[(n)] | CURRENT_DATE] [ON UPDATE CURRENT_TIMESTAMP[(n)]]
//     [PRIMARY KEY | UNIQUE [KEY]] [COMMENT '…'], …, PRIMARY KEY (cols), [UNIQUE] KEY|INDEX
//     name (cols), …) [ENGINE=…] [DEFAULT CHARSET=…] [COLLATE=…] [COMMENT=…]. Types: TINYINT,
//     SMALLINT, MEDIUMINT, INT/INTEGER, BIGINT (with display width, UNSIGNED), BOOL/BOOLEAN
//     (TINYINT(1)), YEAR, DECIMAL/NUMERIC(p,s), FLOAT, DOUBLE/REAL, DATE, DATETIME(fsp),
//     TIMESTAMP(fsp), CHAR(n), VARCHAR(n), TINYTEXT, TEXT, MEDIUMTEXT, LONGTEXT, JSON (as
//     LONGTEXT, like MariaDB), BINARY(n), VARBINARY(n), TINYBLOB, BLOB, MEDIUMBLOB, LONGBLOB.
//     Character sets and collations are accepted and ignored: text is utf8mb4, compared
//     byte-wise (binary collation).
//   - DROP TABLE [IF EXISTS] t, …; TRUNCATE [TABLE] t.
//   - CREATE DATABASE [IF NOT EXISTS] d; DROP DATABASE [IF EXISTS] d; USE d; SHOW DATABASES;
//     SHOW TABLES [FROM d].
//   - INSERT [IGNORE] INTO t [(cols)] VALUES (…), (…) … and REPLACE INTO …, values being
//     literals, ?, NULL, TRUE/FALSE, -number, NOW()/CURRENT_TIMESTAMP; optional ON DUPLICATE
//     KEY UPDATE col = VALUES(col) | alias.col (VALUES … AS alias) | literal | ?. Any number of
//     rows and parameters (split into several SQLite statements, all or nothing).
//   - SELECT, UPDATE, DELETE in the syntax MySQL and SQLite share: backtick identifiers,
//     WHERE with = <> != < <= > >= <=> IN BETWEEN LIKE IS [NOT] NULL AND OR NOT, row values
//     (a, b) > (?, ?), ORDER BY, LIMIT n [OFFSET m] and LIMIT m, n, GROUP BY, HAVING, joins
//     and subqueries within one database, COUNT/MAX/MIN/SUM/AVG. Functions are SQLite's, except
//     NOW(), CURRENT_TIMESTAMP, LOCALTIME[STAMP], SYSDATE(), CURDATE(), CURRENT_DATE,
//     UTC_TIMESTAMP(), UTC_DATE(), DATABASE(), SCHEMA(), which deptdb evaluates once per
//     statement (local time, as MySQL's SYSTEM time zone).
//   - SELECT without tables: @@version, @@max_allowed_packet, @@autocommit, @@sql_mode,
//     @@character_set_*, @@collation_*, @@time_zone, @@transaction_isolation and other common
//     variables (@@session. / @@global. prefixes), DATABASE(), VERSION(), CONNECTION_ID(),
//     USER(), literals and ?; other expressions are evaluated by SQLite (SELECT 1 + 1).
//   - information_schema: SCHEMATA, TABLES, COLUMNS, STATISTICS, KEY_COLUMN_USAGE and
//     TABLE_CONSTRAINTS, with MariaDB's columns and values (COLUMN_TYPE 'bigint(20)',
//     'decimal(12,2)', 'datetime(6)'; CHARACTER_SET_NAME 'utf8mb4' for text, NULL otherwise;
//     COLUMN_KEY 'PRI' for primary-key columns, 'UNI', 'MUL'), queryable with any SELECT that
//     reads only information_schema. Names compare case-insensitively. The primary key is in
//     COLUMN_KEY, and in KEY_COLUMN_USAGE / STATISTICS (CONSTRAINT_NAME / INDEX_NAME 'PRIMARY',
//     ordered by ORDINAL_POSITION / SEQ_IN_INDEX).
//   - SET … (NAMES, CHARACTER SET, sql_mode, time_zone, @user := …, SESSION TRANSACTION …):
//     accepted and ignored, except SET autocommit = 0, which is refused.
//   - BEGIN, START TRANSACTION [WITH CONSISTENT SNAPSHOT | READ ONLY | READ WRITE], COMMIT,
//     ROLLBACK. Transactions are SQLite transactions (snapshot isolation: a reader sees the
//     database as of its first read; writers queue for up to 10 s); DDL commits an open one, as
//     in MySQL. A transaction that reads and then writes after another connection committed
//     fails with ER_LOCK_DEADLOCK (1213): retry it, as after a MySQL deadlock.
//
// Everything else (ALTER TABLE, views, AUTO_INCREMENT, ENUM/SET/BIT/TIME/spatial types,
// foreign keys, INSERT … SELECT, statements across databases, stored programs, LOAD DATA,
// GRANT …) fails with ER_NOT_SUPPORTED_YET (1235) naming the statement; unparsable SQL fails
// with ER_PARSE_ERROR (1064). Errors of SQLite are mapped to MySQL's: duplicate key 1062, NOT
// NULL 1048, unknown table 1146, unknown column 1054, wrong value 1366/1292, out of range
// 1264, too long 1406 (the same numbers MariaDB gives; TestSameAsMariaDB checks). A failed
// statement never ends the connection.
//
// Known differences: the Vitess parser behind COM_STMT_PREPARE rejects a few MySQL forms
// (FORCE INDEX (PRIMARY) needs `PRIMARY`); affected-row counts of UPDATE are matched rows;
// NOW() in a DEFAULT has millisecond precision; user variables are not kept; an error found
// after the first 1024 rows of a result were sent ends the connection, as in MySQL.
package deptdb
