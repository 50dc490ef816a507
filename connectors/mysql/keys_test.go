package mysql

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/tongban/tongban/connectors"
)

// readAll snapshots a source and returns the rows' keys in arrival order,
// failing on a duplicate.
func readAll(t *testing.T, c *Connector, src connectors.Source, after []string) [][]string {
	t.Helper()
	var keys [][]string
	seen := map[string]bool{}
	for _, ch := range collect(t, func(emit func(connectors.Chunk) error) error {
		return c.Snapshot(context.Background(), src, after, emit)
	}) {
		if ch.Rows > src.ChunkRows {
			t.Errorf("chunk of %d rows, chunk_rows %d", ch.Rows, src.ChunkRows)
		}
		rows := decodeChunk(t, src, ch)
		// Rows of a chunk are split by partition; the key order is checked
		// against LastKey and across chunks by the caller.
		for _, r := range rows {
			k := strings.Join(r.key, "|")
			if seen[k] {
				t.Fatalf("key %q delivered twice", r.key)
			}
			seen[k] = true
		}
		keys = append(keys, ch.LastKey)
	}
	return keys
}

// TestKeyTypesPaging pages through tables keyed by each key type, three rows
// a page, and checks every row arrives once, the last keys follow the
// table's own key order, and KeySet and Lookup agree.
func TestKeyTypesPaging(t *testing.T) {
	d := newTestDB(t)
	tests := []struct {
		name    string
		colType string
		catalog string
		values  []string // SQL literals
	}{
		{"bigint", "BIGINT", "int64", []string{"-9223372036854775808", "-5", "0", "7", "42", "9223372036854775807", "100", "-100"}},
		{"varchar", "VARCHAR(16)", "string", []string{"'a'", "'B'", "'c'", "'张三'", "'😀'", "''", "'A b'", "'z'", "'Ö'"}},
		{"decimal", "DECIMAL(30,4)", "decimal(30,4)", []string{"-1.5", "0.0001", "12345678901234567890123456.1234", "12345678901234567890123456.1233", "0", "-0.0001", "3"}},
		{"date", "DATE", "date", []string{"'2000-02-29'", "'1970-01-01'", "'2024-12-31'", "'1000-01-01'", "'9999-12-31'"}},
		{"datetime", "DATETIME(6)", "timestamp", []string{"'2024-01-01 00:00:00'", "'2024-01-01 00:00:00.000001'", "'2023-12-31 23:59:59.999999'", "'2024-01-01 00:00:01'", "'1999-01-01 12:00:00.5'"}},
		{"varbinary", "VARBINARY(8)", "bytes", []string{"X'00'", "X'FF'", "X'0000'", "'a'", "X'7F80'", "X''"}},
		{"double", "DOUBLE", "float64", []string{"0.1", "-2.5", "1e10", "3.141592653589793", "-1e-300", "0"}},
		{"bool", "TINYINT(1)", "bool", []string{"0", "1"}},
	}
	c := New()
	defer c.Close()
	ctx := context.Background()
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			table := fmt.Sprintf("k%d", i)
			d.execT(t, fmt.Sprintf("CREATE TABLE %s (k %s NOT NULL PRIMARY KEY, v INT NOT NULL)", table, tt.colType))
			for j, v := range tt.values {
				d.execT(t, fmt.Sprintf("INSERT INTO %s VALUES (%s, %d)", table, v, j))
			}
			src := connectors.Source{
				Resource: "K", DSN: d.dsn, Table: table,
				Columns:    []connectors.Column{{Field: field("k", tt.catalog, false)}, {Field: field("v", "int64", false)}},
				PrimaryKey: []string{"k"}, Partitions: 3, ChunkRows: 3,
			}
			// The expected key order is the table's, read back through the
			// connector one row at a time.
			var all [][]string
			if err := c.KeySet(ctx, src, func(page [][]string) error {
				if len(page) > src.ChunkRows {
					t.Errorf("key page of %d keys", len(page))
				}
				all = append(all, page...)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if len(all) != len(tt.values) {
				t.Fatalf("KeySet returned %d keys, want %d: %q", len(all), len(tt.values), all)
			}
			// MariaDB's own order, by the v column each key row carries.
			var order []int64
			rows, err := d.db.Query(fmt.Sprintf("SELECT v FROM %s ORDER BY k", table))
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var v int64
				if err := rows.Scan(&v); err != nil {
					t.Fatal(err)
				}
				order = append(order, v)
			}
			rows.Close()
			last := readAll(t, c, src, nil)
			for j, lk := range last {
				want := all[min(3*j+2, len(all)-1)]
				if !reflect.DeepEqual(lk, want) {
					t.Errorf("chunk %d LastKey %q, want %q (key order %q)", j, lk, want, all)
				}
			}
			for j, k := range all {
				ch, err := c.Lookup(ctx, src, k)
				if err != nil {
					t.Fatalf("Lookup %q: %v", k, err)
				}
				rows := decodeChunk(t, src, ch)
				if len(rows) != 1 || !reflect.DeepEqual(rows[0].key, k) {
					t.Fatalf("Lookup %q returned %+v", k, rows)
				}
				if v := rows[0].values["v"]; v != order[j] {
					t.Errorf("key %q is number %d in KeySet order, MariaDB orders row %d there", k, j, order[j])
				}
				// Resuming after each key reads exactly the keys after it.
				n := 0
				for _, ch := range collect(t, func(emit func(connectors.Chunk) error) error { return c.Snapshot(ctx, src, k, emit) }) {
					n += ch.Rows
				}
				if n != len(all)-j-1 {
					t.Errorf("Snapshot after %q read %d rows, want %d", k, n, len(all)-j-1)
				}
			}
		})
	}
}

// TestCompositeKeyPaging pages through a (region, day, seq) key with page
// boundaries inside every key prefix.
func TestCompositeKeyPaging(t *testing.T) {
	d := newTestDB(t)
	d.exec(`CREATE TABLE visits (region VARCHAR(8) NOT NULL, day DATE NOT NULL, seq INT NOT NULL, note VARCHAR(16) NULL,
		PRIMARY KEY (region, day, seq)) DEFAULT CHARSET=utf8mb4`)
	regions := []string{"a", "B", "c", "东城"}
	n := 0
	for _, r := range regions {
		for day := 1; day <= 4; day++ {
			for seq := 1; seq <= 5; seq++ {
				d.exec("INSERT INTO visits VALUES (?, ?, ?, ?)", r, fmt.Sprintf("2024-03-%02d", day), seq*10-seq%2, fmt.Sprintf("n%d", n))
				n++
			}
		}
	}
	src := connectors.Source{
		Resource: "VISITS", DSN: d.dsn, Table: d.name + ".visits",
		Columns: []connectors.Column{
			{Field: field("region", "string", false)}, {Field: field("day", "date", false)},
			{Field: field("seq", "int64", false)}, {Field: field("note", "string", true)},
		},
		PrimaryKey: []string{"region", "day", "seq"}, Partitions: 4, ChunkRows: 7,
	}
	c := New()
	defer c.Close()
	ctx := context.Background()

	// The table's own order, straight from MariaDB.
	rows, err := d.db.Query("SELECT region, DATE_FORMAT(day, '%Y-%m-%d'), seq FROM visits ORDER BY region, day, seq")
	if err != nil {
		t.Fatal(err)
	}
	var order [][]string
	for rows.Next() {
		k := make([]string, 3)
		if err := rows.Scan(&k[0], &k[1], &k[2]); err != nil {
			t.Fatal(err)
		}
		order = append(order, k)
	}
	rows.Close()

	var keys [][]string
	if err := c.KeySet(ctx, src, func(page [][]string) error {
		keys = append(keys, page...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(keys, order) {
		t.Fatalf("KeySet order %q, want %q", keys, order)
	}
	last := readAll(t, c, src, nil)
	if len(last) != (n+6)/7 {
		t.Errorf("%d chunks for %d rows", len(last), n)
	}
	for j, lk := range last {
		if want := order[min(7*j+6, n-1)]; !reflect.DeepEqual(lk, want) {
			t.Errorf("chunk %d LastKey %q, want %q", j, lk, want)
		}
	}
	// Resume in the middle of a region.
	rest := readAll(t, c, src, order[9])
	if want := order[min(9+7, n-1)]; !reflect.DeepEqual(rest[0], want) {
		t.Errorf("first chunk after %q ends at %q, want %q", order[9], rest[0], want)
	}

	for _, tt := range []struct {
		name string
		key  []string
		want string
	}{
		{"too few values", []string{"a", "2024-03-01"}, "has 2 values, the primary key"},
		{"bad date", []string{"a", "March 1st", "9"}, `key field "day"`},
		{"bad int", []string{"a", "2024-03-01", "nine"}, `key field "seq"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := c.Lookup(ctx, src, tt.key); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Lookup error %v, want %q", err, tt.want)
			}
			err := c.Snapshot(ctx, src, tt.key, func(connectors.Chunk) error { return nil })
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Snapshot error %v, want %q", err, tt.want)
			}
		})
	}
	ch, err := c.Lookup(ctx, src, []string{"a' OR '1'='1", "2024-03-01", "9"})
	if err != nil || ch.Rows != 0 {
		t.Errorf("Lookup of a quoted key: %d rows, %v; want none (values are parameters)", ch.Rows, err)
	}
}
