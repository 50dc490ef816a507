package deptdb

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"
)

const personTable = "CREATE TABLE `person` (`id` VARCHAR(18) NOT NULL, `name` VARCHAR(40) NOT NULL, `gender` CHAR(1), " +
	"`birth` DATE, `addr` VARCHAR(200), `phone` VARCHAR(20), `income` DECIMAL(12,2), `n` BIGINT, `score` DOUBLE, " +
	"`updated_at` DATETIME(6) NOT NULL, PRIMARY KEY (`id`)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"

// insertPeople inserts rows [from, to) of the person table in one multi-row INSERT.
func insertPeople(tb testing.TB, db *sql.DB, from, to int) {
	tb.Helper()
	tuple := "(?,?,?,?,?,?,?,?,?,?)"
	q := "INSERT INTO `person` (`id`,`name`,`gender`,`birth`,`addr`,`phone`,`income`,`n`,`score`,`updated_at`) VALUES " +
		strings.TrimSuffix(strings.Repeat(tuple+",", to-from), ",")
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	args := make([]any, 0, (to-from)*10)
	for j := from; j < to; j++ {
		args = append(args, fmt.Sprintf("1101011990%08d", j), fmt.Sprintf("张三%d", j), "M",
			base.AddDate(0, 0, -j%20000), "北京市海淀区中关村大街1号", "13800000000",
			fmt.Sprintf("%d.%02d", j, j%100), int64(j), float64(j)/3, base.Add(time.Duration(j)*time.Microsecond))
	}
	if _, err := db.Exec(q, args...); err != nil {
		tb.Fatalf("insert rows %d-%d: %v", from, to, err)
	}
}

// TestLoad loads 100,000 rows (10,000 with -short) of 10 columns in 500-row INSERTs with
// parameters, then reads them back in keyset chunks of 5,000, and logs how long both took.
func TestLoad(t *testing.T) {
	total := 100000
	if testing.Short() {
		total = 10000
	}
	const per = 500
	srv := startServer(t, "load")
	db := openDB(t, srv, "load")
	mustExec(t, db, personTable)
	start := time.Now()
	for i := 0; i < total; i += per {
		insertPeople(t, db, i, i+per)
	}
	loaded := time.Since(start)

	start = time.Now()
	last, n := "", 0
	var sum int64
	for {
		rows, err := db.Query("SELECT `id`, `name`, `gender`, `birth`, `addr`, `phone`, `income`, `n`, `score`, `updated_at` "+
			"FROM `person` WHERE `id` > ? ORDER BY `id` LIMIT 5000", last)
		if err != nil {
			t.Fatal(err)
		}
		got := 0
		for rows.Next() {
			var id, name, gender, addr, phone, income string
			var birth, upd time.Time
			var nn int64
			var score float64
			if err := rows.Scan(&id, &name, &gender, &birth, &addr, &phone, &income, &nn, &score, &upd); err != nil {
				t.Fatal(err)
			}
			if id <= last || name != fmt.Sprintf("张三%d", nn) || income != fmt.Sprintf("%d.%02d", nn, nn%100) {
				t.Fatalf("row %s %s %s after %s", id, name, income, last)
			}
			last = id
			sum += nn
			got++
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		n += got
		if got == 0 {
			break
		}
	}
	read := time.Since(start)
	if n != total || sum != int64(total)*int64(total-1)/2 {
		t.Fatalf("read %d rows (sum %d), want %d", n, sum, total)
	}
	t.Logf("%d rows of 10 columns: loaded in %v with %d-row INSERTs (%.0f rows/s), read back in %v with 5000-row keyset chunks",
		total, loaded.Round(time.Millisecond), per, float64(total)/loaded.Seconds(), read.Round(time.Millisecond))
}

// BenchmarkInsert500Rows measures one 500-row INSERT of 10 columns with parameters.
func BenchmarkInsert500Rows(b *testing.B) {
	srv := startServer(b, "bench")
	db := openDB(b, srv, "bench")
	mustExec(b, db, personTable)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		insertPeople(b, db, i*500, (i+1)*500)
	}
	b.ReportMetric(float64(b.N*500)/b.Elapsed().Seconds(), "rows/s")
}
