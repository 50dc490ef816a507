package store

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
)

// BenchmarkApplyRecords applies 1000-record batches: "insert" with new keys
// every batch, "update" with the same keys at a newer version. It reports
// records/s.
func BenchmarkApplyRecords(b *testing.B) {
	const batch = 1000
	for _, driver := range testBackends() {
		for _, mode := range []string{"insert", "update"} {
			b.Run(driver+"/"+mode, func(b *testing.B) {
				db := openTestDB(b, driver)
				ctx := context.Background()
				recs := make([]Record, batch)
				data := make([]json.RawMessage, batch)
				for j := range data {
					data[j] = json.RawMessage(fmt.Sprintf(
						`{"id_number":"23010219900101%04d","name":"张三%d","gender":"男","birth_date":"1990-01-01",`+
							`"address":"黑龙江省大庆市萨尔图区中央大街%d号","phone":null,"registered_at":"2020-05-06T07:08:09.000000","score":"12.30"}`,
						j, j, j))
				}
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; b.Loop(); i++ {
					for j := range recs {
						key, version := fmt.Sprintf("%08d-%04d", i, j), int64(1)
						if mode == "update" {
							key, version = fmt.Sprintf("%04d", j), int64(i+1)
						}
						recs[j] = Record{Resource: "population", Key: key, Dept: testDept, Version: version,
							Data: data[j], BatchID: "bench"}
					}
					res, err := db.ApplyRecords(ctx, recs)
					if err != nil {
						b.Fatal(err)
					}
					if res.Applied != batch {
						b.Fatalf("applied %d of %d", res.Applied, batch)
					}
				}
				b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "records/s")
			})
		}
	}
}
