package wire

import (
	"fmt"
	"testing"
	"time"

	"github.com/tongban/tongban/schemas"
)

// benchBatchRows is the rows of one batch: the agent's default chunk size.
const benchBatchRows = 5000

// benchSchema is a population-like resource: citizen ID, Chinese name and
// address, phone, dates and a decimal.
func benchSchema(b *testing.B) schemas.Schema {
	b.Helper()
	var s schemas.Schema
	for _, f := range []struct {
		name, typ string
		null      bool
	}{
		{"citizen_id", "string", false}, {"name", "string", false}, {"sex", "string", false},
		{"birth_date", "date", false}, {"ethnicity", "string", false}, {"address", "string", true},
		{"phone", "string", false}, {"household_type", "string", false}, {"updated_at", "timestamp", false},
		{"income", "decimal(12,2)", false},
	} {
		ty, err := schemas.ParseType(f.typ)
		if err != nil {
			b.Fatal(err)
		}
		s.Fields = append(s.Fields, schemas.Field{Name: f.name, Type: ty, Nullable: f.null})
	}
	return s
}

func benchRows(n int) [][]any {
	rows := make([][]any, n)
	born := time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	upd := time.Date(2025, 6, 1, 8, 30, 0, 0, time.UTC)
	for i := range rows {
		rows[i] = []any{
			fmt.Sprintf("23060219%08d%02d", 19700101+i%9000, i%100), "欧阳明华", "男",
			born.AddDate(0, 0, i%20000), "汉族", fmt.Sprintf("黑龙江省大庆市萨尔图区中央大街%d号%d单元", i%900, i%9),
			fmt.Sprintf("139%08d", i), "城镇", upd.Add(time.Duration(i) * time.Microsecond),
			fmt.Sprintf("%d.%02d", i%100000, i%100),
		}
	}
	return rows
}

// BenchmarkBuilderEncode measures appending a 5,000-row batch to a Builder
// and encoding it as an Arrow IPC stream (one op = one batch).
func BenchmarkBuilderEncode(b *testing.B) {
	s := benchSchema(b)
	rows := benchRows(benchBatchRows)
	bld := NewBuilder(nil, s)
	defer bld.Release()
	var size int
	b.ReportAllocs()
	for b.Loop() {
		for i, r := range rows {
			if err := bld.Append(r, int64(i)); err != nil {
				b.Fatal(err)
			}
		}
		rec := bld.NewRecord()
		payload, err := EncodeRecord(rec)
		rec.Release()
		if err != nil {
			b.Fatal(err)
		}
		size = len(payload)
	}
	b.SetBytes(int64(size))
	b.ReportMetric(float64(benchBatchRows*b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkDecodeRecord measures decoding a 5,000-row batch and reading every
// value back as the hub does (one op = one batch).
func BenchmarkDecodeRecord(b *testing.B) {
	s := benchSchema(b)
	bld := NewBuilder(nil, s)
	defer bld.Release()
	for i, r := range benchRows(benchBatchRows) {
		if err := bld.Append(r, int64(i)); err != nil {
			b.Fatal(err)
		}
	}
	rec := bld.NewRecord()
	payload, err := EncodeRecord(rec)
	rec.Release()
	if err != nil {
		b.Fatal(err)
	}
	b.Run("decode", func(b *testing.B) {
		b.SetBytes(int64(len(payload)))
		b.ReportAllocs()
		for b.Loop() {
			r, err := DecodeRecord(payload)
			if err != nil {
				b.Fatal(err)
			}
			if r.NumRows() != benchBatchRows {
				b.Fatalf("decoded %d rows", r.NumRows())
			}
			r.Release()
		}
		b.ReportMetric(float64(benchBatchRows*b.N)/b.Elapsed().Seconds(), "rows/s")
	})
	b.Run("decode+values", func(b *testing.B) {
		b.SetBytes(int64(len(payload)))
		b.ReportAllocs()
		for b.Loop() {
			r, err := DecodeRecord(payload)
			if err != nil {
				b.Fatal(err)
			}
			for c := 0; c < int(r.NumCols()); c++ {
				col := r.Column(c)
				for i := 0; i < col.Len(); i++ {
					_ = Value(col, i)
				}
			}
			r.Release()
		}
		b.ReportMetric(float64(benchBatchRows*b.N)/b.Elapsed().Seconds(), "rows/s")
	})
}
