package deptdb

import (
	"bytes"
	"database/sql"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// allTypesTable has a column of every type the connector and the demo use.
const allTypesTable = "CREATE TABLE `all_types` (" +
	"`id` BIGINT NOT NULL, `v` VARCHAR(50), `c` CHAR(3), `txt` TEXT, `i` INT, `u` INT UNSIGNED, " +
	"`ti` TINYINT(1), `si` SMALLINT, `d` DECIMAL(12,2), `d0` DECIMAL(5,0), `dt` DATE, `ts6` DATETIME(6), " +
	"`ts0` DATETIME, `tstamp` TIMESTAMP(3) NULL, `dbl` DOUBLE, `f` FLOAT, `b` BLOB, `vb` VARBINARY(8), " +
	"`j` JSON, `y` YEAR, PRIMARY KEY (`id`)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"

const allTypesColumns = "`id`, `v`, `c`, `txt`, `i`, `u`, `ti`, `si`, `d`, `d0`, `dt`, `ts6`, `ts0`, `tstamp`, `dbl`, `f`, `b`, `vb`, `j`, `y`"

func utc(y int, mo time.Month, d, h, mi, s, ns int) time.Time {
	return time.Date(y, mo, d, h, mi, s, ns, time.UTC)
}

// allTypesRows are inserted with parameters (server-side prepared statements).
var allTypesArgs = [][]any{
	{int64(1), "hello", "abc", "long text", int64(-2147483648), int64(4294967295), true, int64(-32768),
		"12.3", "12345", utc(2024, 2, 29, 0, 0, 0, 0), utc(2024, 1, 2, 3, 4, 5, 123456000),
		"2024-01-02 03:04:05", "2024-01-02 03:04:05.123", 1.5, 1.25, []byte{0, 1, 2, 255}, []byte("ab"),
		`{"a":1}`, int64(2024)},
	{int64(2), nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil},
	{int64(3), "张三😀", "中文", "emoji 😀 text\nwith 'quotes' and \\backslash", int64(2147483647), int64(0), false,
		int64(32767), 1234.567, "-1", "1970-01-01", "2038-01-19 03:14:07.999999", utc(1999, 12, 31, 23, 59, 59, 0),
		utc(2000, 1, 1, 0, 0, 0, 0), -1e300, float32(3.5), []byte{}, []byte{0xff}, `[]`, int64(1999)},
}

// allTypesLiteral is inserted as text, the way a loader without parameters would.
const allTypesLiteral = "INSERT INTO `all_types` (" + allTypesColumns + ") VALUES (4, 'it''s \\'quoted\\'', \"x\", " +
	"'tab\\there', -1, 0, 1, 0, '-12.345', 0, '2000-01-01', '2000-01-01 00:00:00.000001', '2000-01-01 12:00:00', " +
	"NULL, 0.1, -0.5, X'DEADBEEF', _binary'bin', '{}', 2000)"

// allTypesWant is what go-sql-driver (parseTime=true) scans into interface{} values, after
// normalise.
var allTypesWant = [][]any{
	{int64(1), "hello", "abc", "long text", int64(-2147483648), int64(4294967295), int64(1), int64(-32768),
		"12.30", "12345", utc(2024, 2, 29, 0, 0, 0, 0), utc(2024, 1, 2, 3, 4, 5, 123456000),
		utc(2024, 1, 2, 3, 4, 5, 0), utc(2024, 1, 2, 3, 4, 5, 123000000), 1.5, 1.25, "\x00\x01\x02\xff", "ab",
		`{"a":1}`, int64(2024)},
	{int64(2), nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil},
	{int64(3), "张三😀", "中文", "emoji 😀 text\nwith 'quotes' and \\backslash", int64(2147483647), int64(0), int64(0),
		int64(32767), "1234.57", "-1", utc(1970, 1, 1, 0, 0, 0, 0), utc(2038, 1, 19, 3, 14, 7, 999999000),
		utc(1999, 12, 31, 23, 59, 59, 0), utc(2000, 1, 1, 0, 0, 0, 0), -1e300, 3.5, "", "\xff", `[]`, int64(1999)},
	{int64(4), "it's 'quoted'", "x", "tab\there", int64(-1), int64(0), int64(1), int64(0), "-12.35", "0",
		utc(2000, 1, 1, 0, 0, 0, 0), utc(2000, 1, 1, 0, 0, 0, 1000), utc(2000, 1, 1, 12, 0, 0, 0), nil, 0.1, -0.5,
		"\xde\xad\xbe\xef", "bin", "{}", int64(2000)},
}

// loadAllTypes creates all_types and inserts its rows both ways.
func loadAllTypes(t *testing.T, db *sql.DB) {
	t.Helper()
	mustExec(t, db, allTypesTable)
	ph := strings.TrimSuffix(strings.Repeat("?, ", 20), ", ")
	for _, row := range allTypesArgs {
		mustExec(t, db, "INSERT INTO `all_types` ("+allTypesColumns+") VALUES ("+ph+")", row...)
	}
	mustExec(t, db, allTypesLiteral)
}

// columnInfo is what a connector can learn about a result column from go-sql-driver.
type columnInfo struct {
	Name, Type     string
	Nullable       bool
	Prec, Scale    int64
	HasDecimalSize bool
	ScanType       string
}

// readAll reads a query's rows as normalised values, with its column descriptions.
func readAll(t *testing.T, db *sql.DB, q string, args ...any) ([][]any, []columnInfo) {
	t.Helper()
	rows, err := db.Query(q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cts, err := rows.ColumnTypes()
	if err != nil {
		t.Fatal(err)
	}
	var info []columnInfo
	for _, ct := range cts {
		nullable, _ := ct.Nullable()
		p, s, ok := ct.DecimalSize()
		info = append(info, columnInfo{Name: ct.Name(), Type: ct.DatabaseTypeName(), Nullable: nullable,
			Prec: p, Scale: s, HasDecimalSize: ok, ScanType: ct.ScanType().String()})
	}
	var out [][]any
	for rows.Next() {
		vals := make([]any, len(cts))
		ptrs := make([]any, len(cts))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatalf("%s: scan: %v", q, err)
		}
		for i := range vals {
			vals[i] = normalise(vals[i])
		}
		out = append(out, vals)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return out, info
}

// normalise makes scanned values comparable: bytes as strings, integers as int64, floats as
// float64.
func normalise(v any) any {
	switch x := v.(type) {
	case []byte:
		return string(x)
	case uint64:
		return int64(x)
	case int32:
		return int64(x)
	case float32:
		return float64(x)
	}
	return v
}

func TestRoundTripAllTypes(t *testing.T) {
	srv := startServer(t, "rt", "rt_interpolated")
	t.Run("interpolateParams", func(t *testing.T) {
		// go-sql-driver's client-side interpolation sends every value as a literal: strings
		// with backslash escapes, times as text, bytes as _binary'…'.
		db, err := sql.Open("mysql", srv.DSN("rt_interpolated")+"&interpolateParams=true")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		loadAllTypes(t, db)
		got, info := readAll(t, db, "SELECT "+allTypesColumns+" FROM `all_types` WHERE `id` >= ? ORDER BY `id`", 0)
		if len(got) != len(allTypesWant) {
			t.Fatalf("got %d rows, want %d", len(got), len(allTypesWant))
		}
		for r := range allTypesWant {
			for c := range allTypesWant[r] {
				if !equalValue(got[r][c], allTypesWant[r][c]) {
					t.Errorf("row %d column %s = %#v, want %#v", r, info[c].Name, got[r][c], allTypesWant[r][c])
				}
			}
		}
	})
	db := openDB(t, srv, "rt")
	loadAllTypes(t, db)
	for _, tc := range []struct {
		name string
		q    string
		args []any
	}{
		{"text protocol", "SELECT " + allTypesColumns + " FROM `all_types` ORDER BY `id`", nil},
		{"binary protocol", "SELECT " + allTypesColumns + " FROM `all_types` WHERE `id` >= ? ORDER BY `id`", []any{0}},
		{"star", "SELECT * FROM all_types WHERE id IN (?, ?, ?, ?) ORDER BY id DESC LIMIT 10", []any{1, 2, 3, 4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, info := readAll(t, db, tc.q, tc.args...)
			want := allTypesWant
			if strings.Contains(tc.q, "DESC") {
				want = [][]any{allTypesWant[3], allTypesWant[2], allTypesWant[1], allTypesWant[0]}
			}
			if len(got) != len(want) {
				t.Fatalf("got %d rows, want %d", len(got), len(want))
			}
			for r := range want {
				for c := range want[r] {
					if !equalValue(got[r][c], want[r][c]) {
						t.Errorf("row %d column %s = %#v, want %#v", r, info[c].Name, got[r][c], want[r][c])
					}
				}
			}
			wantTypes := []string{"BIGINT", "VARCHAR", "CHAR", "TEXT", "INT", "UNSIGNED INT", "TINYINT", "SMALLINT",
				"DECIMAL", "DECIMAL", "DATE", "DATETIME", "DATETIME", "TIMESTAMP", "DOUBLE", "FLOAT", "BLOB",
				"VARBINARY", "TEXT", "YEAR"}
			for i, w := range wantTypes {
				if info[i].Type != w {
					t.Errorf("column %s has type %s, want %s", info[i].Name, info[i].Type, w)
				}
			}
			if info[0].Nullable || !info[1].Nullable {
				t.Errorf("nullability: id %v, v %v; want false, true", info[0].Nullable, info[1].Nullable)
			}
			if info[8].Prec != 12 || info[8].Scale != 2 || info[11].Scale != 6 {
				t.Errorf("DECIMAL(12,2) size %d,%d, DATETIME(6) scale %d", info[8].Prec, info[8].Scale, info[11].Scale)
			}
		})
	}
}

func equalValue(a, b any) bool {
	if ta, ok := a.(time.Time); ok {
		tb, ok := b.(time.Time)
		return ok && ta.Equal(tb)
	}
	if ba, ok := a.([]byte); ok {
		bb, ok := b.([]byte)
		return ok && bytes.Equal(ba, bb)
	}
	return reflect.DeepEqual(a, b)
}

func TestExpressionColumns(t *testing.T) {
	srv := startServer(t, "ex")
	db := openDB(t, srv, "ex")
	loadAllTypes(t, db)
	got, info := readAll(t, db, "SELECT COUNT(*), MAX(`ts6`), MIN(`d`), MAX(`d`), MAX(`v`), SUM(`i`), MAX(`dt`), SUM(`d`) FROM `all_types`")
	want := []any{int64(4), utc(2038, 1, 19, 3, 14, 7, 999999000), "-12.35", "1234.57", "张三😀", int64(-2), utc(2024, 2, 29, 0, 0, 0, 0), "1234.52"}
	for i := range want {
		if !equalValue(got[0][i], want[i]) {
			t.Errorf("%s = %#v, want %#v", info[i].Name, got[0][i], want[i])
		}
	}
	if info[0].Name != "COUNT(*)" || info[5].Name != "SUM(`i`)" {
		t.Errorf("column names %q, %q", info[0].Name, info[5].Name)
	}
	if info[0].Type != "BIGINT" || info[1].Type != "DATETIME" || info[2].Type != "DECIMAL" || info[6].Type != "DATE" || info[7].Type != "DECIMAL" {
		t.Errorf("types %+v", info)
	}
	// An empty table: MAX is NULL but still typed.
	got, info = readAll(t, db, "SELECT COUNT(*), MAX(`ts6`) FROM `all_types` WHERE `id` > ?", 100)
	if got[0][0] != int64(0) || got[0][1] != nil || info[1].Type != "DATETIME" {
		t.Errorf("empty aggregate = %#v %+v", got[0], info)
	}
}

func TestServerSelects(t *testing.T) {
	srv := startServer(t, "sv")
	db := openDB(t, srv, "sv")
	var version, dbName, version2 string
	var packet uint64
	if err := db.QueryRow("SELECT @@version, @@max_allowed_packet, DATABASE(), VERSION()").Scan(&version, &packet, &dbName, &version2); err != nil {
		t.Fatal(err)
	}
	if version != ServerVersion || version2 != ServerVersion || packet != maxAllowedPacket || dbName != "sv" {
		t.Errorf("got %q %d %q %q", version, packet, dbName, version2)
	}
	var autocommit int64
	var mode string
	if err := db.QueryRow("SELECT @@session.autocommit, @@SQL_MODE").Scan(&autocommit, &mode); err != nil || autocommit != 1 || mode == "" {
		t.Errorf("autocommit %d, sql_mode %q, err %v", autocommit, mode, err)
	}
	var two int64
	if err := db.QueryRow("SELECT 1 + 1").Scan(&two); err != nil || two != 2 {
		t.Errorf("SELECT 1 + 1 = %d, %v", two, err)
	}
	var echo string
	if err := db.QueryRow("SELECT ?", "回声").Scan(&echo); err != nil || echo != "回声" {
		t.Errorf("SELECT ? = %q, %v", echo, err)
	}
	var now time.Time
	if err := db.QueryRow("SELECT NOW(6)").Scan(&now); err != nil || now.IsZero() {
		t.Errorf("SELECT NOW(6) = %v, %v", now, err)
	}
	for _, q := range []string{"SET NAMES utf8mb4", "SET NAMES 'utf8mb4' COLLATE 'utf8mb4_general_ci'", "SET sql_mode = 'STRICT_TRANS_TABLES'",
		"SET @x = 1", "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED", "SET autocommit = 1", "SET time_zone = '+00:00'"} {
		mustExec(t, db, q)
	}
}

func TestInformationSchema(t *testing.T) {
	srv := startServer(t, "dept")
	db := openDB(t, srv, "dept")
	mustExec(t, db, "CREATE TABLE `biz` (`uscc` CHAR(18) NOT NULL, `seq` INT NOT NULL, `name` VARCHAR(100) NOT NULL, "+
		"`capital` DECIMAL(18,4), `founded` DATE, `updated_at` DATETIME(6) NOT NULL, `ok` TINYINT(1), "+
		"PRIMARY KEY (`seq`, `uscc`), KEY `k_upd` (`updated_at`)) DEFAULT CHARSET=utf8mb4")
	const q = "SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, CHARACTER_SET_NAME, NUMERIC_PRECISION, " +
		"NUMERIC_SCALE, DATETIME_PRECISION, COLUMN_KEY FROM information_schema.COLUMNS " +
		"WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION"
	got, info := readAll(t, db, q, "dept", "biz")
	want := [][]any{
		{"uscc", "char", "char(18)", "NO", "utf8mb4", nil, nil, nil, "PRI"},
		{"seq", "int", "int(11)", "NO", nil, int64(10), int64(0), nil, "PRI"},
		{"name", "varchar", "varchar(100)", "NO", "utf8mb4", nil, nil, nil, ""},
		{"capital", "decimal", "decimal(18,4)", "YES", nil, int64(18), int64(4), nil, ""},
		{"founded", "date", "date", "YES", nil, nil, nil, nil, ""},
		{"updated_at", "datetime", "datetime(6)", "NO", nil, nil, nil, int64(6), "MUL"},
		{"ok", "tinyint", "tinyint(1)", "YES", nil, int64(3), int64(0), nil, ""},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("information_schema.COLUMNS:\n got %v\nwant %v", got, want)
	}
	if info[0].Type != "VARCHAR" || info[5].Type != "UNSIGNED BIGINT" {
		t.Errorf("column types %+v", info)
	}
	// Names compare case-insensitively, as in MariaDB; unknown tables have no columns.
	if got, _ := readAll(t, db, q, "DEPT", "BIZ"); len(got) != len(want) {
		t.Errorf("upper-case names: %d rows", len(got))
	}
	if got, _ := readAll(t, db, q, "dept", "nosuch"); len(got) != 0 {
		t.Errorf("unknown table: %v", got)
	}
	pk, _ := readAll(t, db, "SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = ? "+
		"AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION", "dept", "biz")
	if fmt.Sprint(pk) != "[[seq] [uscc]]" {
		t.Errorf("KEY_COLUMN_USAGE primary key = %v", pk)
	}
	// Names compare case-insensitively, so k_upd sorts before PRIMARY (as in MariaDB).
	stats, _ := readAll(t, db, "SELECT INDEX_NAME, SEQ_IN_INDEX, COLUMN_NAME, NON_UNIQUE FROM information_schema.STATISTICS "+
		"WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY INDEX_NAME, SEQ_IN_INDEX", "dept", "biz")
	if fmt.Sprint(stats) != "[[k_upd 1 updated_at 1] [PRIMARY 1 seq 0] [PRIMARY 2 uscc 0]]" {
		t.Errorf("STATISTICS = %v", stats)
	}
	tables, _ := readAll(t, db, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()")
	if fmt.Sprint(tables) != "[[biz]]" {
		t.Errorf("TABLES = %v", tables)
	}
}
