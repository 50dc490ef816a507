package deptdb

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"reflect"
	"testing"
)

// mariaDBAddr is the MariaDB of the test environment (root, no password).
const mariaDBAddr = "127.0.0.1:3306"

// TestSameAsMariaDB loads the same table into MariaDB and into deptdb and checks that
// go-sql-driver reads the same values and the same column descriptions from both, and that
// information_schema.COLUMNS answers the same. The connector is developed against MariaDB; this
// is what "deptdb behaves like MariaDB" means.
func TestSameAsMariaDB(t *testing.T) {
	admin, err := sql.Open("mysql", "root@tcp("+mariaDBAddr+")/?parseTime=true&charset=utf8mb4")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() }) // after the DROP DATABASE below (cleanups run last first)
	if err := admin.Ping(); err != nil {
		t.Fatalf("MariaDB at %s is not reachable (%v); the comparison needs it (make test starts it)", mariaDBAddr, err)
	}
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	name := "tb_test_deptdb_" + hex.EncodeToString(b[:])
	mustExec(t, admin, "CREATE DATABASE `"+name+"` DEFAULT CHARACTER SET utf8mb4")
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP DATABASE `" + name + "`"); err != nil {
			t.Errorf("drop %s: %v", name, err)
		}
	})
	maria, err := sql.Open("mysql", "root@tcp("+mariaDBAddr+")/"+name+"?parseTime=true&charset=utf8mb4")
	if err != nil {
		t.Fatal(err)
	}
	defer maria.Close()
	srv := startServer(t, name)
	ours := openDB(t, srv, name)
	loadAllTypes(t, maria)
	loadAllTypes(t, ours)

	// The connector reads with parseTime=false: values as MySQL's text, which must match too.
	rawMaria, err := sql.Open("mysql", "root@tcp("+mariaDBAddr+")/"+name+"?charset=utf8mb4")
	if err != nil {
		t.Fatal(err)
	}
	defer rawMaria.Close()
	rawOurs, err := sql.Open("mysql", "root@tcp("+srv.Addr()+")/"+name+"?charset=utf8mb4")
	if err != nil {
		t.Fatal(err)
	}
	defer rawOurs.Close()
	compareQueries(t, maria, ours, name)
	compareQueries(t, rawMaria, rawOurs, name)

	// Failing statements fail with the same error numbers.
	for _, tc := range []struct {
		q    string
		args []any
	}{
		{"INSERT INTO `all_types` (`id`) VALUES (1)", nil},
		{"INSERT INTO `all_types` (`id`) VALUES (?)", []any{1}},
		{"INSERT INTO `all_types` (`id`, `i`) VALUES (?, ?)", []any{9, "abc"}},
		{"INSERT INTO `all_types` (`id`, `dt`) VALUES (9, '2023-02-29')", nil},
		{"INSERT INTO `all_types` (`id`, `ts6`) VALUES (?, ?)", []any{9, "not a time"}},
		{"INSERT INTO `all_types` (`id`, `c`) VALUES (9, 'abcd')", nil},
		{"INSERT INTO `all_types` (`id`, `si`) VALUES (9, 40000)", nil},
		{"INSERT INTO `all_types` (`id`, `d`) VALUES (9, '12345678901')", nil},
		{"INSERT INTO `all_types` (`id`, `d`) VALUES (9, 'x')", nil},
		{"INSERT INTO `all_types` (`id`, `v`) VALUES (NULL, 'x')", nil},
		{"INSERT INTO `all_types` (`id`, `v`) VALUES (9)", nil},
		{"INSERT INTO `all_types` (`id`, `nope`) VALUES (9, 1)", nil},
		{"INSERT INTO `nosuch` VALUES (1)", nil},
		{"SELECT * FROM `nosuch`", nil},
		{"UPDATE `all_types` SET `u` = ? WHERE `id` = 1", []any{-1}},
		{"CREATE TABLE `all_types` (`a` INT)", nil},
		{"DROP TABLE `nosuch`", nil},
		{"USE `nosuch_db_deptdb`", nil},
		{"SELECT @@nosuch_variable", nil},
	} {
		_, werr := maria.Exec(tc.q, tc.args...)
		_, gerr := ours.Exec(tc.q, tc.args...)
		if mysqlErrNum(werr) == 0 {
			t.Errorf("%s: MariaDB accepts it (%v)", tc.q, werr)
		}
		if mysqlErrNum(gerr) != mysqlErrNum(werr) {
			t.Errorf("%s: error %v, MariaDB %v", tc.q, gerr, werr)
		}
	}
}

// compareQueries runs queries on MariaDB and on deptdb and compares rows and column types.
func compareQueries(t *testing.T, maria, ours *sql.DB, name string) {
	t.Helper()
	for _, tc := range []struct {
		q    string
		args []any
	}{
		{"SELECT " + allTypesColumns + " FROM `all_types` ORDER BY `id`", nil},
		{"SELECT " + allTypesColumns + " FROM `all_types` WHERE `id` >= ? ORDER BY `id`", []any{0}},
		{"SELECT * FROM `all_types` WHERE (`id`, `v`) > (?, ?) OR `v` IS NULL ORDER BY `id`", []any{1, "a"}},
		{"SELECT COUNT(*), MAX(`ts6`), MIN(`d`), MAX(`d`), MAX(`v`), MAX(`dt`), MIN(`tstamp`), SUM(`d`) FROM `all_types`", nil},
		{"SELECT COUNT(*), MAX(`ts6`), MIN(`d`), MAX(`d`) FROM `all_types` WHERE `ts6` > ?", []any{"2000-01-01"}},
		{"SELECT `id` FROM `all_types` WHERE `ts6` = ?", []any{"2024-01-02 03:04:05.123456"}},
		{"SELECT `id` FROM `all_types` WHERE `dt` = ? OR `ts0` = ?", []any{"2024-02-29", "1999-12-31 23:59:59"}},
		{"SELECT `id` FROM `all_types` WHERE `d` = ?", []any{"12.3"}},
		{"SELECT `id`, `d` FROM `all_types` WHERE `d` > ? ORDER BY `d`", []any{"-100"}},
		{"SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, CHARACTER_SET_NAME, NUMERIC_PRECISION, " +
			"NUMERIC_SCALE, DATETIME_PRECISION, COLUMN_KEY FROM information_schema.COLUMNS " +
			"WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION", []any{name, "all_types"}},
		{"SELECT COLUMN_NAME, CHARACTER_MAXIMUM_LENGTH, CHARACTER_OCTET_LENGTH, ORDINAL_POSITION " +
			"FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
			[]any{name, "all_types"}},
	} {
		wantRows, wantCols := readAll(t, maria, tc.q, tc.args...)
		gotRows, gotCols := readAll(t, ours, tc.q, tc.args...)
		if len(wantRows) == 0 {
			t.Errorf("%s: MariaDB returns no rows; the comparison would prove nothing", tc.q)
		}
		if len(gotRows) != len(wantRows) {
			t.Errorf("%s: %d rows, MariaDB %d", tc.q, len(gotRows), len(wantRows))
			continue
		}
		for r := range wantRows {
			for c := range wantRows[r] {
				if !equalValue(gotRows[r][c], wantRows[r][c]) {
					t.Errorf("%s: row %d column %s = %#v, MariaDB %#v", tc.q, r, wantCols[c].Name, gotRows[r][c], wantRows[r][c])
				}
			}
		}
		for c := range wantCols {
			if !reflect.DeepEqual(gotCols[c], wantCols[c]) {
				t.Errorf("%s: column %+v, MariaDB %+v", tc.q, gotCols[c], wantCols[c])
			}
		}
	}

}
