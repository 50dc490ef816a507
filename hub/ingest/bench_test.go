package ingest

import (
	"fmt"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

// BenchmarkIngest measures rows per second from the ingest topic into a
// SQLite store, batches of 500 rows spread over the partitions.
func BenchmarkIngest(b *testing.B) {
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		e := newEnv(b, nil)
		rows := people(20000, int64(i+1))
		var msgs []kafka.Message
		for j := 0; j < len(rows); j += 500 {
			msgs = append(msgs, e.upserts(fmt.Sprintf("b%d", j), rows[j:j+500]...)...)
		}
		e.produce(msgs...)
		b.StartTimer()
		start := time.Now()
		r := e.start("bench", nil)
		r.waitMessages(b, int64(len(msgs)))
		b.ReportMetric(float64(len(rows))/time.Since(start).Seconds(), "rows/s")
		b.StopTimer()
		r.stop(b)
	}
}
