package mysql

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/tongban/tongban/connectors"
)

// BenchmarkSnapshot reads a 100,000-row table through the connector (Arrow
// batches split over 6 partitions) and, as the baseline in the same run, with
// a plain SELECT * scanned into sql.RawBytes. It reports rows/s of both and
// their ratio (connector / raw).
func BenchmarkSnapshot(b *testing.B) {
	const n = 100_000
	d := newTestDB(b)
	fillPeople(b, d, n)
	src := peopleSource(d.dsn)
	src.ChunkRows, src.BatchRows = 10000, 2000
	c := New()
	defer c.Close()
	ctx := context.Background()

	var connTime, rawTime time.Duration
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		rows := 0
		if err := c.Snapshot(ctx, src, nil, func(ch connectors.Chunk) error {
			rows += ch.Rows
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		connTime += time.Since(start)
		if rows != n {
			b.Fatalf("connector read %d rows", rows)
		}

		start = time.Now()
		if got := rawScan(b, d.db); got != n {
			b.Fatalf("raw scan read %d rows", got)
		}
		rawTime += time.Since(start)
	}
	total := float64(n * b.N)
	connRate := total / connTime.Seconds()
	rawRate := total / rawTime.Seconds()
	b.ReportMetric(connRate, "connector-rows/s")
	b.ReportMetric(rawRate, "raw-rows/s")
	b.ReportMetric(connRate/rawRate, "ratio")
}

// rawScan is the baseline: every row and column, no conversion.
func rawScan(b *testing.B, db *sql.DB) int {
	rows, err := db.Query("SELECT * FROM people")
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		b.Fatal(err)
	}
	raw := make([]sql.RawBytes, len(cols))
	dest := make([]any, len(cols))
	for i := range raw {
		dest[i] = &raw[i]
	}
	n := 0
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			b.Fatal(err)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	return n
}
