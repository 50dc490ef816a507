package mysql

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tongban/tongban/connectors"
)

const peopleTable = `CREATE TABLE people (
	id_card CHAR(18) NOT NULL PRIMARY KEY,
	name VARCHAR(32) NOT NULL,
	amount DECIMAL(12,2) NOT NULL,
	birth DATE NOT NULL,
	updated DATETIME(6) NOT NULL,
	note VARCHAR(32) NULL,
	score DOUBLE NOT NULL,
	KEY updated_idx (updated)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`

// person is generated row i of a people table of n rows, in wire.Value form.
// Keys are a permutation of 0..n-1 so key order is not insertion order.
func person(i, n int) map[string]any {
	name := fmt.Sprintf("张%d", i)
	if i%97 == 0 {
		name += "😀"
	}
	amount := fmt.Sprintf("%d.%02d", (i*37)%1000000, i%100)
	if i%11 == 0 && i > 0 {
		amount = "-" + amount
	}
	var note any
	if i%5 != 0 {
		note = fmt.Sprintf("备注%d", i)
	}
	base := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	return map[string]any{
		"id_card": fmt.Sprintf("110105%012d", (i*7919)%n),
		"name":    name,
		"amount":  amount,
		"birth":   time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i%20000).Format("2006-01-02"),
		"updated": base.Add(time.Duration(i)*time.Second + time.Duration(i%1000000)*time.Microsecond).Format("2006-01-02T15:04:05.000000"),
		"note":    note,
		"score":   float64(i) / 7,
	}
}

// fillPeople inserts n generated rows, 1000 to a statement.
func fillPeople(t testing.TB, d *testDB, n int) {
	t.Helper()
	d.exec(peopleTable)
	const per = 1000
	for start := 0; start < n; start += per {
		end := min(start+per, n)
		var q strings.Builder
		q.WriteString("INSERT INTO people (id_card, name, amount, birth, updated, note, score) VALUES ")
		args := make([]any, 0, (end-start)*7)
		for i := start; i < end; i++ {
			if i > start {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?, ?, ?, ?, ?, ?)")
			p := person(i, n)
			args = append(args, p["id_card"], p["name"], p["amount"], p["birth"],
				strings.Replace(p["updated"].(string), "T", " ", 1), p["note"], p["score"])
		}
		d.exec(q.String(), args...)
	}
}

func peopleSource(dsn string) connectors.Source {
	return connectors.Source{
		Resource: "PEOPLE", DSN: dsn, Table: "people",
		Columns: []connectors.Column{
			{Field: field("id_card", "string", false)},
			{Field: field("name", "string", false)},
			{Field: field("amount", "decimal(12,2)", false)},
			{Field: field("birth", "date", false)},
			{Field: field("updated", "timestamp", false)},
			{Field: field("note", "string", true)},
			{Field: field("score", "float64", false)},
		},
		PrimaryKey: []string{"id_card"}, SubjectKey: "id_card", Watermark: "updated",
		Partitions: 6, ChunkRows: 7000, BatchRows: 1000,
	}
}

func TestSnapshotLargeTable(t *testing.T) {
	n := 100_000
	if testing.Short() {
		n = 20_000
	}
	d := newTestDB(t)
	fillPeople(t, d, n)
	want := make(map[string]map[string]any, n)
	for i := range n {
		p := person(i, n)
		want[p["id_card"].(string)] = p
	}
	src := peopleSource(d.dsn)
	c := New()
	defer c.Close()
	ctx := context.Background()

	seen := make(map[string]bool, n)
	var chunkKeys [][]string
	var chunkRows []int
	prevKey := ""
	var prevVersion int64
	err := c.Snapshot(ctx, src, nil, func(ch connectors.Chunk) error {
		rows := decodeChunk(t, src, ch)
		if ch.Rows > src.ChunkRows {
			t.Errorf("chunk of %d rows over chunk_rows %d", ch.Rows, src.ChunkRows)
		}
		maxKey := ""
		for _, r := range rows {
			key := r.key[0]
			if seen[key] {
				t.Fatalf("row %s delivered twice", key)
			}
			seen[key] = true
			if key <= prevKey {
				t.Fatalf("row %s arrived after key %s", key, prevKey)
			}
			maxKey = max(maxKey, key)
			if w, ok := want[key]; !ok {
				t.Fatalf("unexpected row %s", key)
			} else if !reflect.DeepEqual(r.values, w) {
				t.Fatalf("row %s = %v, want %v", key, r.values, w)
			}
			if r.version != rows[0].version || r.version < prevVersion || r.version <= 0 {
				t.Fatalf("row %s has version %d; the chunk's first row %d, the previous chunk's %d", key, r.version, rows[0].version, prevVersion)
			}
		}
		if !reflect.DeepEqual(ch.LastKey, []string{maxKey}) {
			t.Errorf("LastKey %q, largest key in the chunk %q", ch.LastKey, maxKey)
		}
		prevKey = maxKey
		prevVersion = rows[0].version
		chunkKeys = append(chunkKeys, ch.LastKey)
		chunkRows = append(chunkRows, ch.Rows)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != n {
		t.Fatalf("%d distinct rows, want %d", len(seen), n)
	}
	if wantChunks := (n + src.ChunkRows - 1) / src.ChunkRows; len(chunkKeys) != wantChunks {
		t.Errorf("%d chunks, want %d", len(chunkKeys), wantChunks)
	}

	// Resuming after the third chunk's last key reads exactly the rest.
	done := chunkRows[0] + chunkRows[1] + chunkRows[2]
	rest := 0
	err = c.Snapshot(ctx, src, chunkKeys[2], func(ch connectors.Chunk) error {
		for _, r := range decodeChunk(t, src, ch) {
			if r.key[0] <= chunkKeys[2][0] {
				t.Fatalf("resumed read returned %s, not after %s", r.key[0], chunkKeys[2][0])
			}
		}
		rest += ch.Rows
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if rest != n-done {
		t.Errorf("resumed read returned %d rows, want %d", rest, n-done)
	}
}
