package wire

import (
	"hash/fnv"
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
)

// TestPartitionIsFNV1a: the allocation-free hash is hash/fnv's New32a, for
// strings and bytes alike.
func TestPartitionIsFNV1a(t *testing.T) {
	for _, k := range []string{"", "a", "110101199003074514", "张三\x1f2", strings.Repeat("长", 100)} {
		for _, n := range []int{2, 6, 7, 64} {
			h := fnv.New32a()
			h.Write([]byte(k))
			want := int(h.Sum32() % uint32(n))
			if got := Partition(k, n); got != want {
				t.Errorf("Partition(%q, %d) = %d, want %d", k, n, got, want)
			}
			if got := PartitionBytes([]byte(k), n); got != want {
				t.Errorf("PartitionBytes(%q, %d) = %d, want %d", k, n, got, want)
			}
		}
	}
	if PartitionBytes([]byte("x"), 1) != 0 || PartitionBytes(nil, 0) != 0 {
		t.Error("single partition")
	}
}

// FuzzCells: a row appended as typed cells makes the same batch as the same
// values appended through Append, and AppendCellText is Text of each value.
func FuzzCells(f *testing.F) {
	f.Add("张三", int64(-5), 0.1, "12.30", int32(19000), int64(1717230600000001), true, []byte{0, 0xff}, uint8(0))
	f.Add("", int64(math.MinInt64), math.Inf(-1), "-0.01", int32(-719162), int64(-62135596800000000), false, []byte{}, uint8(0xff))
	f.Add("a\x1fb", int64(math.MaxInt64), -1e300, "9999999999999999.99", int32(2932896), int64(253402300799999999), true, []byte("x"), uint8(0x55))
	s := testSchema(f)
	f.Fuzz(func(t *testing.T, str string, n int64, fl float64, dec string, days int32, micros int64, flag bool, raw []byte, nulls uint8) {
		if !utf8.ValidString(str) {
			str = strings.ToValidUTF8(str, "?")
		}
		amt, err := ParseDecimal(dec, s.Fields[3].Type)
		if err != nil {
			amt, dec = decimal128.Num{}, "0.00"
		}
		if math.IsNaN(fl) {
			fl = 0 // arrays with NaN never compare equal
		}
		var b01 int64
		if flag {
			b01 = 1
		}
		cells := []Cell{{Bytes: []byte(str)}, {Int: n}, {Float: fl}, {Dec: amt}, {Int: int64(days)}, {Int: micros}, {Int: b01}, {Bytes: raw}}
		values := []any{str, n, fl, dec, arrow.Date32(days).ToTime(), time.UnixMicro(micros).UTC(), flag, raw}
		for i := range cells {
			if nulls&(1<<i) != 0 {
				cells[i] = Cell{Null: true, Int: 7, Bytes: []byte("ignored")}
				values[i] = nil
			}
		}
		viaCells, viaValues := NewBuilder(nil, s), NewBuilder(nil, s)
		defer viaCells.Release()
		defer viaValues.Release()
		if err := viaCells.AppendCells(cells, 9); err != nil {
			t.Fatal(err)
		}
		if err := viaValues.Append(values, 9); err != nil {
			t.Fatalf("values %#v: %v", values, err)
		}
		a, b := viaCells.NewRecord(), viaValues.NewRecord()
		defer a.Release()
		defer b.Release()
		for i, fld := range s.Fields {
			if !array.Equal(a.Column(i), b.Column(i)) {
				t.Fatalf("field %s: cells %v, values %v", fld.Name, a.Column(i), b.Column(i))
			}
			if got, want := string(AppendCellText(nil, fld.Type, &cells[i])), Text(a.Column(i), 0); got != want {
				t.Fatalf("field %s: AppendCellText %q, Text %q", fld.Name, got, want)
			}
		}
		if a.Column(len(s.Fields)).(interface{ Value(int) int64 }).Value(0) != 9 {
			t.Fatal("version")
		}
	})
}

func TestAppendCellsCountsFields(t *testing.T) {
	b := NewBuilder(nil, testSchema(t))
	defer b.Release()
	if err := b.AppendCells(make([]Cell, 3), 1); err == nil || b.Rows() != 0 {
		t.Fatalf("3 cells for 8 fields: %v, rows %d", err, b.Rows())
	}
}
