package audit

import (
	"context"
	"testing"

	"github.com/tongban/tongban/hub/store"
)

// BenchmarkAppend measures Append from many concurrent callers on SQLite,
// with group commit (batched) and, as the baseline, one transaction per
// entry (MaxBatch 1). Reported as entries/s; compare the two.
func BenchmarkAppend(b *testing.B) {
	for _, bc := range []struct {
		name     string
		maxBatch int
	}{{"batched", DefaultMaxBatch}, {"unbatched", 1}} {
		b.Run(bc.name, func(b *testing.B) {
			ts := newTestStore(b, store.DriverSQLite)
			l, err := New(Config{Store: ts.db, MaxBatch: bc.maxBatch})
			if err != nil {
				b.Fatal(err)
			}
			e := sampleEntry(1)
			ctx := context.Background()
			b.SetParallelism(16) // callers per CPU, as concurrent API requests
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := l.Append(ctx, e); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
			if err := l.Close(ctx); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// BenchmarkVerify measures Verify over a SQLite log, in entries/s.
func BenchmarkVerify(b *testing.B) {
	ts := newTestStore(b, store.DriverSQLite)
	const n = 20000
	fill(b, ts.db, n)
	b.ResetTimer()
	for b.Loop() {
		rep, err := Verify(context.Background(), ts.db, nil)
		if err != nil || !rep.OK() {
			b.Fatal(rep.Problem, err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}
