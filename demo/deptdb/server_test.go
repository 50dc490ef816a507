package deptdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	gomysql "github.com/go-sql-driver/mysql"
)

// mysqlErrNum is the MySQL error number of err, or 0.
func mysqlErrNum(err error) uint16 {
	var me *gomysql.MySQLError
	if errors.As(err, &me) {
		return me.Number
	}
	return 0
}

// planOf is SQLite's query plan for a statement as deptdb translates it.
func planOf(t *testing.T, srv *Server, db, q string) string {
	t.Helper()
	st, err := analyse(q)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := scopeOf(st, db)
	if err != nil {
		t.Fatal(err)
	}
	d, err := srv.database(db)
	if err != nil {
		t.Fatal(err)
	}
	args := make([]any, len(st.tr.slots))
	rows, err := d.db.Query("EXPLAIN QUERY PLAN "+st.tr.sqlite(sc.dropQual), args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	return strings.Join(plan, "; ")
}

func TestKeysetPagination(t *testing.T) {
	const n = 20000
	srv := startServer(t, "kp")
	db := openDB(t, srv, "kp")
	mustExec(t, db, "CREATE TABLE `kp` (`id` BIGINT NOT NULL, `name` VARCHAR(40) NOT NULL, `updated_at` DATETIME(6) NOT NULL, "+
		"PRIMARY KEY (`id`), KEY `k_upd` (`updated_at`, `id`)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4")
	rng := rand.New(rand.NewSource(7))
	ids := rng.Perm(n * 3)[:n] // random order, with gaps
	base := time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)
	const perInsert = 500
	for i := 0; i < n; i += perInsert {
		var sb strings.Builder
		args := make([]any, 0, perInsert*3)
		for j := i; j < i+perInsert; j++ {
			if j > i {
				sb.WriteString(",")
			}
			sb.WriteString("(?,?,?)")
			// Many rows share an updated_at, most of them whole seconds: the keyset must break
			// ties by id, and "08:00:05" must equal the stored "08:00:05.000000".
			ts := base.Add(time.Duration(ids[j]%997) * time.Second)
			if ids[j]%5 == 0 {
				ts = ts.Add(time.Duration(ids[j]%1000) * time.Microsecond)
			}
			args = append(args, ids[j], fmt.Sprintf("名字-%d", ids[j]), ts)
		}
		mustExec(t, db, "INSERT INTO `kp` (`id`, `name`, `updated_at`) VALUES "+sb.String(), args...)
	}

	const byID = "SELECT `id`, `name` FROM `kp` WHERE `id` > ? ORDER BY `id` LIMIT 5000"
	seen := map[int64]bool{}
	last := int64(-1)
	for pages := 0; ; pages++ {
		if pages > n {
			t.Fatal("pagination does not end")
		}
		rows, err := db.Query(byID, last)
		if err != nil {
			t.Fatal(err)
		}
		got := 0
		for rows.Next() {
			var id int64
			var name string
			if err := rows.Scan(&id, &name); err != nil {
				t.Fatal(err)
			}
			if id <= last || seen[id] || name != fmt.Sprintf("名字-%d", id) {
				t.Fatalf("row %d %q after %d (seen %v)", id, name, last, seen[id])
			}
			seen[id], last = true, id
			got++
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		if got == 0 {
			break
		}
	}
	if len(seen) != n {
		t.Errorf("paged %d distinct ids, want %d", len(seen), n)
	}

	const byTime = "SELECT `id`, `updated_at` FROM `kp` WHERE (`updated_at`, `id`) > (?, ?) ORDER BY `updated_at`, `id` LIMIT 5000"
	seen = map[int64]bool{}
	lastTS, lastID := time.Time{}, int64(-1)
	for pages := 0; ; pages++ {
		if pages > n {
			t.Fatal("pagination does not end")
		}
		rows, err := db.Query(byTime, lastTS, lastID)
		if err != nil {
			t.Fatal(err)
		}
		got := 0
		for rows.Next() {
			var id int64
			var ts time.Time
			if err := rows.Scan(&id, &ts); err != nil {
				t.Fatal(err)
			}
			if seen[id] || ts.Before(lastTS) || (ts.Equal(lastTS) && id <= lastID) {
				t.Fatalf("row (%v, %d) after (%v, %d), seen before: %v", ts, id, lastTS, lastID, seen[id])
			}
			seen[id], lastTS, lastID = true, ts, id
			got++
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		if got == 0 {
			break
		}
	}
	if len(seen) != n {
		t.Errorf("paged %d distinct ids by (updated_at, id), want %d", len(seen), n)
	}

	// The chunk queries read an index in order: no table scan, no sort.
	for q, index := range map[string]string{byID: "PRIMARY KEY", byTime: "k_upd"} {
		plan := planOf(t, srv, "kp", q)
		if !strings.Contains(plan, "SEARCH") || !strings.Contains(plan, index) || strings.Contains(plan, "TEMP B-TREE") {
			t.Errorf("plan of %s:\n%s\nwant a SEARCH on %s without sorting", q, plan, index)
		}
	}
}

func TestErrorsKeepServing(t *testing.T) {
	srv := startServer(t, "er")
	db := openDB(t, srv, "er")
	mustExec(t, db, "CREATE TABLE `t` (`id` BIGINT NOT NULL PRIMARY KEY, `n` INT NOT NULL, `d` DATE, `v` VARCHAR(3))")
	mustExec(t, db, "INSERT INTO `t` VALUES (1, 1, '2024-01-01', 'a')")
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	tests := []struct {
		q    string
		args []any
		want uint16
	}{
		{"ALTER TABLE t ADD COLUMN x INT", nil, 1235},
		{"CREATE TABLE e (a ENUM('x','y'))", nil, 1235},
		{"CREATE TABLE a (id BIGINT AUTO_INCREMENT PRIMARY KEY)", nil, 1235},
		{"GRANT ALL ON *.* TO 'x'@'%'", nil, 1235},
		{"INSERT INTO t SELECT * FROM t", nil, 1235},
		{"SET autocommit = 0", nil, 1235},
		{"CALL p()", nil, 1235},
		{"SELECT * FROM t WHERE", nil, 1064},
		{"SELECT 'unterminated", nil, 1064},
		{"SELECT @@no_such_variable", nil, 1193},
		{"SELECT * FROM nosuch", nil, 1146},
		{"SELECT * FROM t WHERE id = ?", []any{1}, 0},
		{"INSERT INTO nosuch VALUES (1)", nil, 1146},
		{"INSERT INTO t VALUES (2, 1)", nil, 1136},
		{"INSERT INTO t (id, nope) VALUES (2, 1)", nil, 1054},
		{"INSERT INTO t VALUES (1, 1, NULL, NULL)", nil, 1062},
		{"INSERT INTO t VALUES (?, ?, NULL, NULL)", []any{1, 1}, 1062},
		{"INSERT INTO t VALUES (2, NULL, NULL, NULL)", nil, 1048},
		{"INSERT INTO t VALUES (?, ?, NULL, NULL)", []any{2, "abc"}, 1366},
		{"INSERT INTO t VALUES (2, 1, '2024-02-30', NULL)", nil, 1292},
		{"INSERT INTO t VALUES (2, 1, NULL, 'abcd')", nil, 1406},
		{"INSERT INTO t VALUES (2, 99999999999, NULL, NULL)", nil, 1264},
		{"UPDATE t SET d = ? WHERE id = 1", []any{"not a date"}, 1292},
		{"UPDATE t SET n = 'x' WHERE id = 1", nil, 1366},
		{"UPDATE t SET d = v WHERE id = 1", nil, 3819},
		{"SELECT nosuchcol FROM t", nil, 1054},
		{"USE nosuch", nil, 1049},
		{"DROP TABLE nosuch", nil, 1051},
		{"CREATE TABLE t (a INT)", nil, 1050},
		{"SELECT * FROM other.t", nil, 1049},
		{"SELECT * FROM a.t JOIN b.u", nil, 1235},
		{"DELETE FROM information_schema.COLUMNS", nil, 1044},
	}
	for _, tc := range tests {
		_, err := conn.ExecContext(ctx, tc.q, tc.args...)
		if got := mysqlErrNum(err); got != tc.want {
			t.Errorf("%s: error %v (number %d), want number %d", tc.q, err, got, tc.want)
		}
		// The same connection keeps working after every error.
		var n int
		if err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM t WHERE id >= ?", 0).Scan(&n); err != nil || n != 1 {
			t.Fatalf("after %s: count %d, %v", tc.q, n, err)
		}
	}
	// A new connection works too.
	if err := openDB(t, srv, "er").Ping(); err != nil {
		t.Fatal(err)
	}
}

func TestAuth(t *testing.T) {
	srv := startServer(t, "au")
	for _, dsn := range []string{
		"bob@tcp(" + srv.Addr() + ")/au",
		"root:secret@tcp(" + srv.Addr() + ")/au",
	} {
		db, err := sql.Open("mysql", dsn)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Ping(); mysqlErrNum(err) != 1045 {
			t.Errorf("%s: %v, want error 1045", dsn, err)
		}
		db.Close()
	}
	db, err := sql.Open("mysql", srv.DSN("nosuch"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Ping(); mysqlErrNum(err) != 1049 {
		t.Errorf("unknown database: %v, want error 1049", err)
	}
}

func TestTransactions(t *testing.T) {
	srv := startServer(t, "tx")
	db := openDB(t, srv, "tx")
	other := openDB(t, srv, "tx")
	mustExec(t, db, "CREATE TABLE `t` (`id` BIGINT NOT NULL PRIMARY KEY, `v` VARCHAR(10))")
	count := func(q *sql.DB) int {
		var n int
		if err := q.QueryRow("SELECT COUNT(*) FROM `t`").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec("INSERT INTO `t` VALUES (?, ?)", 1, "a"); err != nil {
		t.Fatal(err)
	}
	var inTx int
	if err := tx.QueryRow("SELECT COUNT(*) FROM `t`").Scan(&inTx); err != nil || inTx != 1 {
		t.Fatalf("inside the transaction: %d, %v", inTx, err)
	}
	if n := count(other); n != 0 {
		t.Errorf("another connection sees %d uncommitted rows", n)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if n := count(other); n != 0 {
		t.Errorf("after rollback: %d rows", n)
	}
	tx, err = db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec("INSERT INTO `t` VALUES (?, ?), (?, ?)", 1, "a", 2, "b"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if n := count(other); n != 2 {
		t.Errorf("after commit: %d rows, want 2", n)
	}
	// A consistent snapshot does not see later commits.
	ctx := context.Background()
	c, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.ExecContext(ctx, "START TRANSACTION WITH CONSISTENT SNAPSHOT"); err != nil {
		t.Fatal(err)
	}
	mustExec(t, db, "INSERT INTO `t` VALUES (3, 'c')")
	var n int
	if err := c.QueryRowContext(ctx, "SELECT COUNT(*) FROM `t`").Scan(&n); err != nil || n != 2 {
		t.Errorf("snapshot sees %d rows (%v), want 2", n, err)
	}
	if _, err := c.ExecContext(ctx, "COMMIT"); err != nil {
		t.Fatal(err)
	}
	if err := c.QueryRowContext(ctx, "SELECT COUNT(*) FROM `t`").Scan(&n); err != nil || n != 3 {
		t.Errorf("after the snapshot: %d rows (%v), want 3", n, err)
	}
	// A transaction that read before another connection committed cannot write: 1213, as
	// after a deadlock; it is rolled back and can be retried.
	for _, q := range []string{"START TRANSACTION READ WRITE", "SELECT COUNT(*) FROM `t`"} {
		if _, err := c.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	mustExec(t, db, "INSERT INTO `t` VALUES (4, 'd')")
	if _, err := c.ExecContext(ctx, "INSERT INTO `t` VALUES (5, 'e')"); mysqlErrNum(err) != 1213 {
		t.Errorf("write after a stale read: %v, want error 1213", err)
	}
	for _, q := range []string{"ROLLBACK", "BEGIN", "INSERT INTO `t` VALUES (5, 'e')", "COMMIT"} {
		if _, err := c.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if n := count(other); n != 5 {
		t.Errorf("after the retry: %d rows, want 5", n)
	}
}

func TestDatabases(t *testing.T) {
	srv := startServer(t, "one")
	db := openDB(t, srv, "one")
	mustExec(t, db, "CREATE DATABASE `two`")
	mustExec(t, db, "CREATE DATABASE IF NOT EXISTS `two`")
	if _, err := db.Exec("CREATE DATABASE `two`"); mysqlErrNum(err) != 1007 {
		t.Errorf("CREATE DATABASE twice: %v", err)
	}
	mustExec(t, db, "CREATE TABLE `two`.`t` (`id` INT NOT NULL PRIMARY KEY, `v` VARCHAR(5))")
	mustExec(t, db, "INSERT INTO `two`.`t` (`id`, `v`) VALUES (?, ?)", 1, "x")
	var v string
	if err := db.QueryRow("SELECT `two`.`t`.`v` FROM `two`.`t` WHERE `two`.`t`.`id` = ?", 1).Scan(&v); err != nil || v != "x" {
		t.Errorf("qualified select: %q, %v", v, err)
	}
	ctx := context.Background()
	c, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.ExecContext(ctx, "USE `two`"); err != nil {
		t.Fatal(err)
	}
	var cur string
	if err := c.QueryRowContext(ctx, "SELECT DATABASE()").Scan(&cur); err != nil || cur != "two" {
		t.Errorf("DATABASE() = %q, %v", cur, err)
	}
	got, _ := readAll(t, db, "SHOW DATABASES")
	if fmt.Sprint(got) != "[[information_schema] [one] [two]]" {
		t.Errorf("SHOW DATABASES = %v", got)
	}
	if err := c.QueryRowContext(ctx, "SELECT `v` FROM `t`").Scan(&v); err != nil || v != "x" {
		t.Errorf("select after USE: %q, %v", v, err)
	}
	rows, err := c.QueryContext(ctx, "SHOW TABLES")
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, n)
	}
	rows.Close()
	if fmt.Sprint(tables) != "[t]" {
		t.Errorf("SHOW TABLES = %v", tables)
	}
	mustExec(t, db, "DROP DATABASE `two`")
	if _, err := c.ExecContext(ctx, "SELECT * FROM `t`"); mysqlErrNum(err) != 1049 {
		t.Errorf("using a dropped database: %v, want 1049", err)
	}
	if _, err := db.Exec("DROP DATABASE `two`"); mysqlErrNum(err) != 1008 {
		t.Errorf("DROP DATABASE twice: %v", err)
	}
	mustExec(t, db, "DROP DATABASE IF EXISTS `two`")
	if _, err := db.Exec("CREATE DATABASE `../x`"); mysqlErrNum(err) == 0 {
		t.Error("a database name with a path was accepted")
	}
}

func TestInsertVariants(t *testing.T) {
	srv := startServer(t, "iv")
	db := openDB(t, srv, "iv")
	mustExec(t, db, "CREATE TABLE `t` (`id` INT NOT NULL PRIMARY KEY, `v` VARCHAR(10), `n` INT NOT NULL DEFAULT 7, "+
		"`amt` DECIMAL(8,2) DEFAULT '1.5', `created` DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), "+
		"`updated` DATETIME(3) NULL DEFAULT NULL ON UPDATE CURRENT_TIMESTAMP(3))")
	before := time.Now().Add(-time.Second)
	mustExec(t, db, "INSERT INTO `t` (`id`, `v`) VALUES (1, 'a'), (2, 'b')")
	mustExec(t, db, "INSERT IGNORE INTO `t` (`id`, `v`) VALUES (1, 'zz'), (3, 'c')")
	mustExec(t, db, "REPLACE INTO `t` (`id`, `v`) VALUES (2, 'B')")
	mustExec(t, db, "INSERT INTO `t` (`id`, `v`, `n`) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE `v` = VALUES(`v`), `n` = ?", 3, "C", 1, 9)
	mustExec(t, db, "INSERT INTO `t` (`id`, `v`) VALUES (4, 'd') AS `new` ON DUPLICATE KEY UPDATE `v` = `new`.`v`")
	mustExec(t, db, "INSERT INTO `t` (`id`, `v`) VALUES (4, 'D') AS `new` ON DUPLICATE KEY UPDATE `v` = `new`.`v`")
	// An update by ON DUPLICATE KEY UPDATE sets the ON UPDATE column, as in MySQL.
	got, _ := readAll(t, db, "SELECT `id`, `v`, `n`, `amt`, `updated` IS NOT NULL FROM `t` ORDER BY `id`")
	want := "[[1 a 7 1.50 0] [2 B 7 1.50 0] [3 C 9 1.50 1] [4 D 7 1.50 1]]"
	if fmt.Sprint(got) != want {
		t.Errorf("rows = %v\nwant   %v", got, want)
	}
	// DEFAULT CURRENT_TIMESTAMP is the local wall-clock time (parseTime reads it as UTC).
	var created time.Time
	if err := db.QueryRow("SELECT `created` FROM `t` WHERE `id` = 1").Scan(&created); err != nil {
		t.Fatal(err)
	}
	local := func(t time.Time) time.Time {
		return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
	}
	if created.Before(local(before)) || created.After(local(time.Now().Add(time.Second))) {
		t.Errorf("created = %v, want about %v", created, local(time.Now()))
	}
	// ON UPDATE CURRENT_TIMESTAMP: set when another column changes, kept when set explicitly.
	mustExec(t, db, "UPDATE `t` SET `v` = ? WHERE `id` = ?", "a2", 1)
	mustExec(t, db, "UPDATE `t` SET `v` = 'b2', `updated` = '2001-02-03 04:05:06.789' WHERE `id` = 2")
	var upd1, upd2 time.Time
	if err := db.QueryRow("SELECT `updated` FROM `t` WHERE `id` = 1").Scan(&upd1); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow("SELECT `updated` FROM `t` WHERE `id` = 2").Scan(&upd2); err != nil {
		t.Fatal(err)
	}
	if upd1.Before(local(before)) || !upd2.Equal(time.Date(2001, 2, 3, 4, 5, 6, 789000000, time.UTC)) {
		t.Errorf("updated = %v and %v", upd1, upd2)
	}

	// More parameters than SQLite binds in one statement: split, and all or nothing.
	mustExec(t, db, "CREATE TABLE `big` (`a` INT NOT NULL PRIMARY KEY, `b` INT, `c` INT, `d` INT, `e` INT, `f` INT, `g` INT, `h` INT, `i` INT, `j` INT)")
	insertBig := func(rows int, dup bool) error {
		var sb strings.Builder
		args := make([]any, 0, rows*10)
		for r := 0; r < rows; r++ {
			if r > 0 {
				sb.WriteString(",")
			}
			sb.WriteString("(?,?,?,?,?,?,?,?,?,?)")
			key := r
			if dup && r == rows-1 {
				key = 0
			}
			for c := 0; c < 10; c++ {
				args = append(args, key*10+c)
			}
		}
		_, err := db.Exec("INSERT INTO `big` VALUES "+sb.String(), args...)
		return err
	}
	if err := insertBig(6000, true); mysqlErrNum(err) != 1062 {
		t.Errorf("insert with a duplicate in its last part: %v", err)
	}
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM `big`").Scan(&n); err != nil || n != 0 {
		t.Errorf("after the failed insert: %d rows, %v", n, err)
	}
	if err := insertBig(6000, false); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow("SELECT COUNT(*) FROM `big`").Scan(&n); err != nil || n != 6000 {
		t.Errorf("%d rows, %v; want 6000", n, err)
	}
	if _, err := db.Exec("TRUNCATE TABLE `big`"); err != nil {
		t.Fatal(err)
	}
	mustExec(t, db, "DROP TABLE IF EXISTS `big`, `nosuch`")
}

func TestConcurrentReadersAndWriter(t *testing.T) {
	const rows, updates, readers = 3000, 100, 4
	srv := startServer(t, "cc")
	db := openDB(t, srv, "cc")
	mustExec(t, db, "CREATE TABLE `acct` (`id` BIGINT NOT NULL PRIMARY KEY, `balance` DECIMAL(12,2) NOT NULL, `updated_at` DATETIME(6) NOT NULL)")
	for i := 0; i < rows; i += 500 {
		var sb strings.Builder
		var args []any
		for j := i; j < i+500; j++ {
			if j > i {
				sb.WriteString(",")
			}
			sb.WriteString("(?, '100.00', NOW(6))")
			args = append(args, j)
		}
		mustExec(t, db, "INSERT INTO `acct` VALUES "+sb.String(), args...)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errs := make(chan error, readers+1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the demo's writer: transfers, each in a transaction
		defer wg.Done()
		defer cancel()
		rng := rand.New(rand.NewSource(1))
		for u := 0; u < updates; u++ {
			a, b := rng.Intn(rows), rng.Intn(rows)
			tx, err := db.Begin()
			if err != nil {
				errs <- err
				return
			}
			_, err1 := tx.Exec("UPDATE `acct` SET `balance` = `balance` - 1, `updated_at` = ? WHERE `id` = ?", time.Now(), a)
			_, err2 := tx.Exec("UPDATE `acct` SET `balance` = `balance` + 1, `updated_at` = ? WHERE `id` = ?", time.Now(), b)
			if err := errors.Join(err1, err2); err != nil {
				_ = tx.Rollback()
				errs <- err
				return
			}
			if err := tx.Commit(); err != nil {
				errs <- err
				return
			}
		}
	}()
	for r := 0; r < readers; r++ {
		wg.Add(1)
		go func() { // the agent's connector: full keyset scans while the writer works
			defer wg.Done()
			for ctx.Err() == nil {
				last, seen := int64(-1), 0
				for {
					rs, err := db.Query("SELECT `id`, `balance` FROM `acct` WHERE `id` > ? ORDER BY `id` LIMIT 700", last)
					if err != nil {
						errs <- err
						return
					}
					got := 0
					for rs.Next() {
						var bal string
						if err := rs.Scan(&last, &bal); err != nil {
							errs <- err
							return
						}
						got++
					}
					rs.Close()
					seen += got
					if got == 0 {
						break
					}
				}
				if seen != rows {
					errs <- fmt.Errorf("a scan saw %d rows, want %d", seen, rows)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var total string
	if err := db.QueryRow("SELECT CAST(SUM(`balance`) AS CHAR) FROM `acct`").Scan(&total); err != nil {
		t.Fatal(err)
	}
	if total != fmt.Sprint(rows*100) && total != fmt.Sprintf("%d.0", rows*100) {
		t.Errorf("total balance %s, want %d: a transfer was lost or doubled", total, rows*100)
	}
}

func TestRestartKeepsData(t *testing.T) {
	dir := t.TempDir()
	start := func() *Server {
		srv, err := Start(context.Background(), Config{Dir: dir, Databases: []string{"keep"}, Logger: quietLogger()})
		if err != nil {
			t.Fatal(err)
		}
		return srv
	}
	srv := start()
	db, err := sql.Open("mysql", srv.DSN("keep"))
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, db, "CREATE TABLE `t` (`id` INT NOT NULL PRIMARY KEY, `amt` DECIMAL(6,3), `at` DATETIME(6))")
	mustExec(t, db, "INSERT INTO `t` VALUES (?, ?, ?)", 1, "1.5", "2024-01-02 03:04:05.000006")
	mustExec(t, db, "CREATE DATABASE `later`")
	mustExec(t, db, "CREATE TABLE `later`.`u` (`k` INT)")
	db.Close()
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	srv = start()
	defer srv.Close()
	db = openDB(t, srv, "keep")
	var amt string
	var at time.Time
	if err := db.QueryRow("SELECT `amt`, `at` FROM `t` WHERE `id` = ?", 1).Scan(&amt, &at); err != nil {
		t.Fatal(err)
	}
	if amt != "1.500" || !at.Equal(time.Date(2024, 1, 2, 3, 4, 5, 6000, time.UTC)) {
		t.Errorf("after restart: %q %v", amt, at)
	}
	if got, _ := readAll(t, openDB(t, srv, "later"), "SHOW TABLES"); fmt.Sprint(got) != "[[u]]" {
		t.Errorf("database created at run time, after restart: %v", got)
	}
}

func TestCloseStopsServing(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := Start(ctx, Config{Databases: []string{"c"}, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("mysql", srv.DSN("c"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Ping(); err != nil {
		t.Fatal(err)
	}
	addr := srv.Addr()
	cancel() // Start's context ends the server as Close does
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("the server still accepts connections after its context ended")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := srv.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, err := db.Exec("SELECT 1"); err == nil {
		t.Error("a query succeeded after Close")
	}
	if _, err := Start(context.Background(), Config{Databases: []string{"bad/name"}, Logger: quietLogger()}); err == nil {
		t.Error("Start accepted a bad database name")
	}
	if _, err := Start(context.Background(), Config{Addr: "256.0.0.1:1", Logger: quietLogger()}); err == nil {
		t.Error("Start accepted a bad address")
	}
}

// TestMySQLSyntax runs MySQL forms SQLite does not accept as such and checks their results.
func TestMySQLSyntax(t *testing.T) {
	srv := startServer(t, "sy")
	db := openDB(t, srv, "sy")
	mustExec(t, db, "CREATE TABLE `t` (`id` INT NOT NULL, `name` VARCHAR(20), `born` DATE, `at` DATETIME(6), PRIMARY KEY (`id`))")
	mustExec(t, db, "INSERT INTO `t` VALUES (1, 'O\\'Brien', DATE '2000-01-02', TIMESTAMP '2020-01-01 00:00:00'), "+
		"(2, N'中', '2000-01-03', NOW(6)), (3, _utf8mb4'x' COLLATE utf8mb4_bin, NULL, CURRENT_TIMESTAMP)")
	mustExec(t, db, "UPDATE `t` SET `at` = NOW() WHERE `id` = ?", 3)
	mustExec(t, db, "CREATE TABLE `u` (`k` VARCHAR(3) NOT NULL UNIQUE KEY COMMENT 'key', `v` INT) COMMENT='x' COLLATE=utf8mb4_bin")
	mustExec(t, db, "INSERT INTO `u` VALUES ('a', 1)")
	if _, err := db.Exec("INSERT INTO `u` VALUES ('a', 2)"); mysqlErrNum(err) != 1062 {
		t.Errorf("UNIQUE column: %v", err)
	}
	tests := []struct {
		q    string
		args []any
		want string
	}{
		{"SELECT `id` FROM `t` WHERE `name` = 'O\\'Brien' FOR UPDATE", nil, "[[1]]"},
		{"SELECT `id` FROM `t` WHERE `name` = \"O'Brien\" LOCK IN SHARE MODE", nil, "[[1]]"},
		{"SELECT `id` FROM `t` FORCE INDEX (`PRIMARY`) WHERE `id` > ? ORDER BY `id` LIMIT 1", []any{1}, "[[2]]"}, // the parser wants PRIMARY quoted
		{"SELECT `id` FROM `t` WHERE `born` <=> NULL", nil, "[[3]]"},
		{"SELECT `id` FROM `t` WHERE `id` = 1 || `id` = 2 && `name` = '中' ORDER BY `id`", nil, "[[1] [2]]"},
		{"SELECT `id` FROM `t` WHERE `born` = DATE '2000-01-02' # a comment\n", nil, "[[1]]"},
		{"SELECT `id` FROM `t` WHERE `at` = ? -- a comment", []any{"2020-01-01"}, "[[1]]"},
		{"SELECT `id` FROM `t` WHERE `at` > ? AND `at` <= NOW(6) ORDER BY `id`", []any{time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)}, "[[2] [3]]"},
		{"SELECT `id` FROM `t` WHERE `born` BETWEEN ? AND ? ORDER BY `id` DESC", []any{"2000-01-01 00:00:00", "2000-01-03"}, "[[2] [1]]"},
		{"SELECT `id` FROM `t` WHERE `id` IN (?, ?) ORDER BY 1", []any{3, "1"}, "[[1] [3]]"},
		{"SELECT COUNT(*) FROM `sy`.`t` WHERE `sy`.`t`.`id` >= ?", []any{1}, "[[3]]"},
		{"SELECT `id` FROM `t` LIMIT 1, 1", nil, "[[2]]"},
		{"SELECT `id` FROM `t` LIMIT ? OFFSET ?", []any{1, 2}, "[[3]]"},
		{"SELECT 1 FROM dual", nil, "[[1]]"},
		{"SELECT DATABASE() AS db, 'x' AS s, NULL AS n, ? AS p", []any{int64(5)}, "[[sy x <nil> 5]]"},
		{"SELECT name FROM t WHERE id = (SELECT MAX(id) FROM t)", nil, "[[x]]"},
		{"SELECT `born` IS NULL AS nb, COUNT(*) AS n FROM `t` GROUP BY `born` IS NULL HAVING COUNT(*) > ? ORDER BY nb", []any{0}, "[[0 2] [1 1]]"},
		{"SELECT a.`id`, b.`id` FROM `t` AS a JOIN `t` AS b ON b.`id` = a.`id` + 1 WHERE a.`born` < ? ORDER BY a.`id`", []any{"2000-01-03"}, "[[1 2]]"},
	}
	for _, tc := range tests {
		got, _ := readAll(t, db, tc.q, tc.args...)
		if fmt.Sprint(got) != tc.want {
			t.Errorf("%s = %v, want %s", tc.q, got, tc.want)
		}
	}
	mustExec(t, db, "TRUNCATE `u`")
	mustExec(t, db, "DELETE FROM `t` WHERE `name` LIKE 'O%' OR `id` IN (2)")
	got, _ := readAll(t, db, "SELECT `id` FROM `t`")
	if fmt.Sprint(got) != "[[3]]" {
		t.Errorf("after DELETE: %v", got)
	}
}

// TestConnectorQueries runs the statement shapes of the agent's MySQL connector
// (connectors/mysql) with its DSN settings: parseTime=false, so values arrive as MySQL's text.
func TestConnectorQueries(t *testing.T) {
	srv := startServer(t, "cq")
	db, err := sql.Open("mysql", "root@tcp("+srv.Addr()+")/cq?charset=utf8mb4&collation=utf8mb4_general_ci")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	mustExec(t, db, "CREATE TABLE `licence` (`org` CHAR(18) NOT NULL, `amt` DECIMAL(12,2) NOT NULL, `name` VARCHAR(50), "+
		"`gbk` VARBINARY(20), `updated_at` DATETIME(6) NOT NULL, PRIMARY KEY (`org`, `amt`))")
	var args []any
	var holders []string
	for i := 0; i < 30; i++ {
		holders = append(holders, "(?, ?, ?, ?, ?)")
		// amounts 9.50, 10.00, 10.50 …: text order differs from value order
		args = append(args, fmt.Sprintf("91110000MA0%07d", i%3), fmt.Sprintf("%d.%02d", 9+i/2, 50*(i%2)),
			fmt.Sprintf("企业%d", i), []byte{0xc6, 0xf3, byte(i)}, fmt.Sprintf("2024-03-01 10:00:%02d", i%4))
	}
	mustExec(t, db, "INSERT INTO `licence` (`org`, `amt`, `name`, `gbk`, `updated_at`) VALUES "+strings.Join(holders, ", "), args...)
	const cols = "`org`, `amt`, `name`, CAST(`gbk` AS BINARY), `updated_at`"
	const after = "`org` >= ? AND (`org`, `amt`) > (?, CAST(? AS DECIMAL(12,2)))"
	type row struct{ org, amt, name, gbk, upd string }
	scan := func(q string, args ...any) []row {
		t.Helper()
		rs, err := db.Query(q, args...)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		defer rs.Close()
		var out []row
		for rs.Next() {
			var r row
			if err := rs.Scan(&r.org, &r.amt, &r.name, &r.gbk, &r.upd); err != nil {
				t.Fatal(err)
			}
			out = append(out, r)
		}
		if err := rs.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	// Snapshot: key order, pages of 7.
	var all []row
	page := scan("SELECT " + cols + " FROM `licence` ORDER BY `org`, `amt` LIMIT 7")
	for len(page) > 0 {
		all = append(all, page...)
		last := page[len(page)-1]
		page = scan("SELECT "+cols+" FROM `licence` WHERE "+after+" ORDER BY `org`, `amt` LIMIT 7", last.org, last.org, last.amt)
	}
	if len(all) != 30 {
		t.Fatalf("snapshot read %d rows, want 30", len(all))
	}
	for i := 1; i < len(all); i++ {
		a, b := all[i-1], all[i]
		if a.org > b.org || a.org == b.org && compareDecimal(a.amt, b.amt) >= 0 {
			t.Errorf("rows out of key order: (%s, %s) then (%s, %s)", a.org, a.amt, b.org, b.amt)
		}
	}
	if r := all[0]; r.upd != "2024-03-01 10:00:00.000000" || len(r.gbk) != 3 || r.gbk[0] != 0xc6 || !strings.HasSuffix(r.amt, ".00") && !strings.HasSuffix(r.amt, ".50") {
		t.Errorf("first row %+v", r)
	}
	// Changes: (watermark, key) order from a watermark, then after the last row.
	var changed []row
	first := "SELECT " + cols + ", `updated_at` FROM `licence` WHERE `updated_at` >= ? ORDER BY `updated_at`, `org`, `amt` LIMIT 4"
	next := "SELECT " + cols + ", `updated_at` FROM `licence` WHERE (`updated_at` > ? OR (`updated_at` = ? AND " + after +
		")) ORDER BY `updated_at`, `org`, `amt` LIMIT 4"
	scan2 := func(q string, args ...any) []row {
		t.Helper()
		rs, err := db.Query(q, args...)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		defer rs.Close()
		var out []row
		for rs.Next() {
			var r row
			var wm string
			if err := rs.Scan(&r.org, &r.amt, &r.name, &r.gbk, &r.upd, &wm); err != nil {
				t.Fatal(err)
			}
			out = append(out, r)
		}
		return out
	}
	page = scan2(first, "2024-03-01 10:00:01")
	for len(page) > 0 {
		changed = append(changed, page...)
		l := page[len(page)-1]
		page = scan2(next, l.upd, l.upd, l.org, l.org, l.amt)
	}
	if len(changed) != 30-8 { // updated_at 10:00:00 are i%4 == 0: 8 rows
		t.Errorf("changes since 10:00:01: %d rows, want 22", len(changed))
	}
	// Lookup by key.
	one := scan("SELECT "+cols+" FROM `licence` WHERE `org` = ? AND `amt` = CAST(? AS DECIMAL(12,2)) LIMIT 1", all[5].org, all[5].amt)
	if len(one) != 1 || one[0] != all[5] {
		t.Errorf("lookup of %s/%s = %+v", all[5].org, all[5].amt, one)
	}
	// Decimals compare as values: 10.5 finds 10.50, and 9.5 < 10.
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM `licence` WHERE `amt` = CAST(? AS DECIMAL(12,2))", "10.5").Scan(&n); err != nil || n != 1 {
		t.Errorf("amt = 10.5: %d rows, %v; want 1", n, err)
	}
	if err := db.QueryRow("SELECT COUNT(*) FROM `licence` WHERE `amt` < ?", "10").Scan(&n); err != nil || n != 2 {
		t.Errorf("amt < 10: %d rows, %v; want 2 (9.00 and 9.50)", n, err)
	}
}
