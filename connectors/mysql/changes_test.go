package mysql

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/tongban/tongban/connectors"
)

// readChanges runs Changes and returns the row ids, ordered by id within
// each chunk (a chunk's rows are grouped by partition, so arrival order
// inside it means nothing), with each chunk's MaxWatermark. It fails on a
// duplicate.
func readChanges(t *testing.T, c *Connector, src connectors.Source, since string) ([][]int64, []string) {
	t.Helper()
	var ids [][]int64
	var marks []string
	seen := map[int64]bool{}
	for _, ch := range collect(t, func(emit func(connectors.Chunk) error) error {
		return c.Changes(context.Background(), src, since, emit)
	}) {
		if ch.Rows > src.ChunkRows {
			t.Errorf("chunk of %d rows", ch.Rows)
		}
		var chunk []int64
		for _, r := range decodeChunk(t, src, ch) {
			id := r.values["id"].(int64)
			if seen[id] {
				t.Fatalf("row %d returned twice", id)
			}
			seen[id] = true
			chunk = append(chunk, id)
		}
		slices.Sort(chunk)
		ids = append(ids, chunk)
		marks = append(marks, ch.MaxWatermark)
	}
	return ids, marks
}

func TestChanges(t *testing.T) {
	d := newTestDB(t)
	d.exec(`CREATE TABLE events (id INT NOT NULL PRIMARY KEY, updated DATETIME(6) NULL, ver BIGINT NOT NULL,
		d DATE NULL, val VARCHAR(16) NULL, KEY (updated), KEY (ver))`)
	// Ten rows share each of the first two watermarks so that ties cross
	// page boundaries (four rows a page); one row has no watermark.
	const t1, t2 = "2024-05-01 10:00:00", "2024-05-01 10:00:00.5"
	for id := 25; id >= 1; id-- { // inserted against key order
		var u any
		switch {
		case id <= 10:
			u = t1
		case id <= 20:
			u = t2
		case id <= 24:
			u = fmt.Sprintf("2024-05-02 0%d:00:00.000123", id-20)
		}
		// ver ties the same way.
		d.exec("INSERT INTO events VALUES (?, ?, ?, ?, ?)", id, u, (id-1)/10, "2024-05-01", fmt.Sprint("v", id))
	}
	src := connectors.Source{
		Resource: "EVENTS", DSN: d.dsn, Table: "events",
		Columns: []connectors.Column{
			{Field: field("id", "int64", false)}, {Field: field("updated", "timestamp", true)},
			{Field: field("val", "string", true)},
		},
		PrimaryKey: []string{"id"}, Watermark: "updated", Partitions: 2, ChunkRows: 4,
	}
	c := New()
	defer c.Close()

	// The expected chunks: MariaDB's (watermark, id) order cut into pages
	// of four, each sorted by id.
	order := func(where string, args ...any) [][]int64 {
		rows, err := d.db.Query("SELECT id FROM events WHERE "+where+" ORDER BY updated, id", args...)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		return pages(ids, 4)
	}

	tests := []struct {
		name, since, where string
		args               []any
	}{
		{"all", "", "updated IS NOT NULL", nil},
		{"since a tie", "2024-05-01 10:00:00.500000", "updated >= ?", []any{t2}},
		{"since in T form", "2024-05-01T10:00:00.5", "updated >= ?", []any{t2}},
		{"since a date", "2024-05-02", "updated >= ?", []any{"2024-05-02"}},
		{"since the future", "2030-01-01 00:00:00", "updated >= ?", []any{"2030-01-01"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ids, marks := readChanges(t, c, src, tt.since)
			want := order(tt.where, tt.args...)
			if !reflect.DeepEqual(ids, want) {
				t.Fatalf("ids %v, want %v", ids, want)
			}
			for j, m := range marks {
				last := lastOfPage(d, want[j], "updated")
				var w string
				if err := d.db.QueryRow("SELECT DATE_FORMAT(updated, '%Y-%m-%d %H:%i:%s.%f') FROM events WHERE id = ?", last).Scan(&w); err != nil {
					t.Fatal(err)
				}
				if m != w {
					t.Errorf("chunk %d MaxWatermark %q, want %q", j, m, w)
				}
			}
		})
	}

	// After the source changes, reading since the last mark finds exactly
	// the rows changed at or after it.
	_, marks := readChanges(t, c, src, "")
	last := marks[len(marks)-1]
	d.exec("UPDATE events SET updated = '2024-06-01 00:00:00.000001', val = 'new' WHERE id IN (3, 15)")
	d.exec("INSERT INTO events VALUES (30, '2024-06-01 00:00:00.000001', 9, NULL, 'ins')")
	ids, _ := readChanges(t, c, src, last)
	if want := order("updated >= ?", last); !reflect.DeepEqual(ids, want) || len(ids[0]) != 4 {
		t.Errorf("changes since %s: %v, want %v (the last old row and the three changed)", last, ids, want)
	}

	// An integer watermark with ties.
	isrc := src
	isrc.Watermark = "ver"
	ids, marks = readChanges(t, c, isrc, "1")
	rows, err := d.db.Query("SELECT id FROM events WHERE ver >= 1 ORDER BY ver, id")
	if err != nil {
		t.Fatal(err)
	}
	var all []int64
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		all = append(all, id)
	}
	rows.Close()
	if want := pages(all, 4); !reflect.DeepEqual(ids, want) {
		t.Errorf("integer watermark: ids %v, want %v", ids, want)
	}
	if marks[len(marks)-1] != "9" || marks[0] != "1" {
		t.Errorf("integer watermark marks %q", marks)
	}

	// A DATE watermark.
	dsrc := src
	dsrc.Watermark = "d"
	ids, marks = readChanges(t, c, dsrc, "2024-05-01")
	if n := len(slices.Concat(ids...)); n != 25 || marks[0] != "2024-05-01" {
		t.Errorf("date watermark: %d rows, marks %q", n, marks)
	}

	for _, tt := range []struct {
		name  string
		src   connectors.Source
		since string
		want  string
	}{
		{"bad datetime since", src, "yesterday", `since "yesterday" for watermark column updated (datetime(6))`},
		{"impossible date", src, "2024-02-30 00:00:00", `since "2024-02-30 00:00:00"`},
		{"bad integer since", isrc, "1.5", `since "1.5" for watermark column ver`},
		{"no watermark", func() connectors.Source { s := src; s.Watermark = ""; return s }(), "", "no watermark column configured"},
		{"text watermark", func() connectors.Source { s := src; s.Watermark = "val"; return s }(), "", `watermark column "val": MySQL type varchar(16) is not a date, date-time or integer`},
		{"missing watermark", func() connectors.Source { s := src; s.Watermark = "nope"; return s }(), "", `watermark column "nope": no such column`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := c.Changes(context.Background(), tt.src, tt.since, func(connectors.Chunk) error { return nil })
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}

// pages cuts ids into pages of n, each sorted.
func pages(ids []int64, n int) [][]int64 {
	var out [][]int64
	for len(ids) > 0 {
		p := slices.Clone(ids[:min(n, len(ids))])
		slices.Sort(p)
		out = append(out, p)
		ids = ids[len(p):]
	}
	return out
}

// lastOfPage is the id of the row of a page that sorts last by (wm, id).
func lastOfPage(d *testDB, page []int64, wm string) int64 {
	d.t.Helper()
	args := make([]any, len(page))
	for i, id := range page {
		args[i] = id
	}
	var id int64
	q := "SELECT id FROM events WHERE id IN (?" + strings.Repeat(", ?", len(page)-1) + ") ORDER BY " + wm + " DESC, id DESC LIMIT 1"
	if err := d.db.QueryRow(q, args...).Scan(&id); err != nil {
		d.t.Fatal(err)
	}
	return id
}
