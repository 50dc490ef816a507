package datagen

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
)

// mysqlServerDSN is the scratch server: TB_TEST_MYSQL_DSN or local MariaDB as root.
func mysqlServerDSN() string {
	if dsn := os.Getenv("TB_TEST_MYSQL_DSN"); dsn != "" {
		return dsn
	}
	return "root@tcp(127.0.0.1:3306)/"
}

// scratchDB creates database tb_test_<random>, returns a handle on it and
// drops it when the test ends.
func scratchDB(t *testing.T) *sql.DB {
	t.Helper()
	ctx := t.Context()
	server, err := sql.Open("mysql", mysqlServerDSN())
	if err != nil {
		t.Fatalf("open %s: %v", mysqlServerDSN(), err)
	}
	t.Cleanup(func() { server.Close() })
	if err := server.PingContext(ctx); err != nil {
		t.Fatalf("MariaDB at %s is not reachable (set TB_TEST_MYSQL_DSN to point elsewhere): %v", mysqlServerDSN(), err)
	}
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	name := "tb_test_datagen_" + hex.EncodeToString(b)
	if _, err := server.ExecContext(ctx, "CREATE DATABASE `"+name+"` DEFAULT CHARSET utf8mb4"); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		if _, err := server.ExecContext(context.Background(), "DROP DATABASE `"+name+"`"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	base := mysqlServerDSN()
	slash := strings.LastIndex(base, "/")
	dsn := base[:slash+1] + name + "?parseTime=true&loc=UTC&charset=utf8mb4"
	if q := strings.Index(base[slash:], "?"); q >= 0 {
		dsn = base[:slash+1] + name + base[slash+q:] + "&parseTime=true&loc=UTC"
	}
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatalf("open %s: %v", dsn, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// scanAll reads a table in primary-key order, turning []byte into string.
func scanAll(t *testing.T, db *sql.DB, tb Table) [][]any {
	t.Helper()
	q := fmt.Sprintf("SELECT `%s` FROM `%s` ORDER BY `%s`", strings.Join(tb.ColumnNames(), "`, `"), tb.Name, tb.PrimaryKey[0])
	rows, err := db.QueryContext(t.Context(), q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out [][]any
	for rows.Next() {
		vals := make([]any, len(tb.Columns))
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatalf("scan %s: %v", tb.Name, err)
		}
		for i, v := range vals {
			if b, ok := v.([]byte); ok {
				vals[i] = string(b)
			}
		}
		out = append(out, vals)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("read %s: %v", tb.Name, err)
	}
	return out
}

func TestInsertMySQL(t *testing.T) {
	db := scratchDB(t)
	ctx := t.Context()
	cfg := Config{Seed: 2024, Population: 20000, LegalPersons: 3000, CivilAffairs: 3000}
	if testing.Short() {
		cfg.Population = 6000
	}
	for _, table := range allTables() {
		t.Run(table, func(t *testing.T) {
			tb, _ := LookupTable(table)
			total, _ := RowCount(cfg, table)
			var calls []int
			if err := InsertMySQL(ctx, db, cfg, table, func(done, n int) {
				if n != total {
					t.Errorf("progress total %d, want %d", n, total)
				}
				calls = append(calls, done)
			}); err != nil {
				t.Fatalf("InsertMySQL(%s): %v", table, err)
			}
			if len(calls) != (total+insertBatchRows*batchesPerTx-1)/(insertBatchRows*batchesPerTx) || calls[len(calls)-1] != total {
				t.Errorf("progress calls %v for %d rows", calls, total)
			}
			for i := 1; i < len(calls); i++ {
				if calls[i] <= calls[i-1] {
					t.Errorf("progress went from %d to %d", calls[i-1], calls[i])
				}
			}

			var count int
			if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM `"+table+"`").Scan(&count); err != nil {
				t.Fatal(err)
			}
			if count != total {
				t.Fatalf("%s has %d rows, want %d", table, count, total)
			}

			// Every stored row equals the regenerated one.
			want := make(map[string][]any, total)
			if err := Rows(cfg, table, func(row []any) error {
				want[fmt.Sprint(row[0])] = row
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			stored := scanAll(t, db, tb)
			nulls := 0
			for _, got := range stored {
				w, ok := want[fmt.Sprint(got[0])]
				if !ok {
					t.Fatalf("stored row %v was not generated", got)
				}
				for i, c := range tb.Columns {
					if !sameValue(got[i], w[i]) {
						t.Fatalf("%s %v column %s: stored %#v, generated %#v", table, got[0], c.Name, got[i], w[i])
					}
					if got[i] == nil {
						nulls++
					}
				}
			}
			if table != TableCivilAffairs && nulls == 0 {
				t.Errorf("%s: no NULL addresses stored", table)
			}
		})
	}

	// Chinese text survives the round trip byte for byte.
	var name string
	if err := db.QueryRowContext(ctx, "SELECT name FROM legal_person WHERE name LIKE '%公司' LIMIT 1").Scan(&name); err != nil || !strings.HasSuffix(name, "公司") {
		t.Errorf("Chinese LIKE query: %q, %v", name, err)
	}
	var charset string
	if err := db.QueryRowContext(ctx, "SELECT CCSA.character_set_name FROM information_schema.`TABLES` T JOIN information_schema.`COLLATION_CHARACTER_SET_APPLICABILITY` CCSA ON CCSA.collation_name = T.table_collation WHERE T.table_schema = DATABASE() AND T.table_name = 'population'").Scan(&charset); err != nil || charset != "utf8mb4" {
		t.Errorf("population charset %q, %v", charset, err)
	}

	// Creating a table again fails, naming it.
	err := InsertMySQL(ctx, db, cfg, TablePopulation, nil)
	if err == nil || !strings.Contains(err.Error(), "create table population") {
		t.Errorf("second InsertMySQL(population) = %v, want a create-table error", err)
	}
}

// TestInsertMySQLDefects: rows with seeded defects are insertable as they
// are, and the stored rows are the generated ones.
func TestInsertMySQLDefects(t *testing.T) {
	db := scratchDB(t)
	cfg := Config{Seed: 77, Population: 3000, LegalPersons: 600, CivilAffairs: 2000, Defects: 15}
	manifest := Defects(cfg)
	if len(manifest) != 15*10 {
		t.Fatalf("%d manifest entries, want 150", len(manifest))
	}
	for _, table := range allTables() {
		tb, _ := LookupTable(table)
		if err := InsertMySQL(t.Context(), db, cfg, table, nil); err != nil {
			t.Fatalf("InsertMySQL(%s): %v", table, err)
		}
		stored := map[string][]any{}
		for _, row := range scanAll(t, db, tb) {
			stored[fmt.Sprint(row[0])] = row
		}
		if err := Rows(cfg, table, func(row []any) error {
			got, ok := stored[fmt.Sprint(row[0])]
			if !ok {
				return fmt.Errorf("%s row %v not stored", table, row[0])
			}
			for i, c := range tb.Columns {
				if !sameValue(got[i], row[i]) {
					return fmt.Errorf("%s %v column %s: stored %#v, generated %#v", table, row[0], c.Name, got[i], row[i])
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		for _, d := range manifest {
			if _, ok := stored[d.Key]; d.Table == table && !ok {
				t.Errorf("defect %+v: key not stored", d)
			}
		}
	}
}

// sameValue compares a scanned value with a generated one.
func sameValue(got, want any) bool {
	switch w := want.(type) {
	case time.Time:
		g, ok := got.(time.Time)
		return ok && g.Equal(w)
	case nil:
		return got == nil
	case int64:
		return fmt.Sprint(got) == fmt.Sprint(w) // text protocol returns digits
	default:
		return got == want
	}
}

func TestInsertMySQLCancelled(t *testing.T) {
	db := scratchDB(t)
	ctx, cancel := context.WithCancel(t.Context())
	cfg := Config{Seed: 1, Population: 20000}
	err := InsertMySQL(ctx, db, cfg, TablePopulation, func(done, total int) {
		if done >= 5000 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("InsertMySQL after cancel = %v, want context.Canceled", err)
	}
	var count int
	if err := db.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM population").Scan(&count); err != nil {
		t.Fatal(err)
	}
	// Committed transactions stay; the open one is rolled back.
	if count != 5000 {
		t.Errorf("%d rows after cancelling at the first commit, want 5000", count)
	}
}

func TestInsertMySQLBadArguments(t *testing.T) {
	db := scratchDB(t)
	if err := InsertMySQL(t.Context(), db, Config{Population: 1}, "people", nil); err == nil || !strings.Contains(err.Error(), "people") {
		t.Errorf("unknown table: %v", err)
	}
	if err := InsertMySQL(t.Context(), db, Config{Population: -1}, TablePopulation, nil); err == nil || !strings.Contains(err.Error(), "Population") {
		t.Errorf("bad config: %v", err)
	}
	var n int
	if err := db.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM information_schema.TABLES WHERE table_schema = DATABASE()").Scan(&n); err != nil || n != 0 {
		t.Errorf("%d tables created by rejected calls, %v", n, err)
	}
}
