package wire

import (
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/segmentio/kafka-go"

	"github.com/tongban/tongban/schemas"
)

func testSchema(t testing.TB) schemas.Schema {
	t.Helper()
	var s schemas.Schema
	for _, f := range []struct{ name, typ string }{
		{"id", "string"}, {"n", "int64"}, {"f", "float64"}, {"amt", "decimal(18,2)"},
		{"d", "date"}, {"ts", "timestamp"}, {"ok", "bool"}, {"raw", "bytes"},
	} {
		ty, err := schemas.ParseType(f.typ)
		if err != nil {
			t.Fatal(err)
		}
		s.Fields = append(s.Fields, schemas.Field{Name: f.name, Type: ty, Nullable: true})
	}
	return s
}

func TestRoundTrip(t *testing.T) {
	s := testSchema(t)
	b := NewBuilder(nil, s)
	defer b.Release()
	loc := time.FixedZone("CST", 8*3600)
	rows := []struct {
		in   []any
		want []any
	}{
		{
			[]any{"张三😀", int64(-42), 1.5, "1234.5", time.Date(1990, 2, 28, 0, 0, 0, 0, loc), time.Date(2026, 11, 23, 9, 8, 7, 123456000, loc), true, []byte{0, 1, 2}},
			[]any{"张三😀", int64(-42), 1.5, "1234.50", "1990-02-28", "2026-11-23T09:08:07.123456", true, "AAEC"},
		},
		{
			[]any{nil, nil, nil, nil, nil, nil, nil, nil},
			[]any{nil, nil, nil, nil, nil, nil, nil, nil},
		},
		{
			[]any{[]byte("x"), 7, float32(0.5), int64(3), "2000-01-01", "2000-01-01 00:00:00.5", false, "s"},
			[]any{"x", int64(7), 0.5, "3.00", "2000-01-01", "2000-01-01T00:00:00.500000", false, "cw=="},
		},
	}
	for i, r := range rows {
		if err := b.Append(r.in, int64(100+i)); err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
	}
	rec := b.NewRecord()
	payload, err := EncodeRecord(rec)
	rec.Release()
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeRecord(payload)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Release()
	if int(got.NumRows()) != len(rows) || int(got.NumCols()) != len(s.Fields)+1 {
		t.Fatalf("decoded %dx%d", got.NumRows(), got.NumCols())
	}
	for i, r := range rows {
		for j, want := range r.want {
			if v := Value(got.Column(j), i); v != want {
				t.Errorf("row %d field %s = %#v, want %#v", i, s.Fields[j].Name, v, want)
			}
		}
		if v := Value(got.Column(len(s.Fields)), i); v != int64(100+i) {
			t.Errorf("row %d version = %v", i, v)
		}
	}
	if Text(got.Column(1), 0) != "-42" || Text(got.Column(1), 1) != "" || Text(got.Column(0), 0) != "张三😀" {
		t.Error("Text renders wrongly")
	}
}

func TestAppendRejectsWithoutSideEffects(t *testing.T) {
	s := testSchema(t)
	b := NewBuilder(nil, s)
	defer b.Release()
	bad := [][]any{
		{"a", "x", nil, nil, nil, nil, nil, nil},
		{"a", nil, nil, "1e999", nil, nil, nil, nil},
		{"a", nil, nil, "12345678901234567.123", nil, nil, nil, nil},
		{"a", nil, nil, nil, "yesterday", nil, nil, nil},
		{"a", nil, nil, nil, nil, nil, "true", nil},
		{"a"},
	}
	for i, row := range bad {
		if err := b.Append(row, 1); err == nil {
			t.Errorf("bad row %d accepted", i)
		}
	}
	if b.Rows() != 0 {
		t.Fatalf("rows = %d after rejected appends", b.Rows())
	}
	err := b.Append([]any{"a", "x", nil, nil, nil, nil, nil, nil}, 1)
	if err == nil || !strings.Contains(err.Error(), `field "n"`) {
		t.Errorf("error does not name the field: %v", err)
	}
}

func TestHeaders(t *testing.T) {
	m := Meta{Resource: "PS-POP-001", Dept: "D", Fingerprint: "fp", SchemaVersion: 2, BatchID: "b1", Op: OpDelete, Partition: 3}
	got, err := ParseHeaders(m.Headers())
	if err != nil {
		t.Fatal(err)
	}
	if got.Resource != m.Resource || got.Dept != m.Dept || got.Fingerprint != m.Fingerprint || got.SchemaVersion != 2 || got.BatchID != "b1" || got.Op != OpDelete || got.Partition != 3 {
		t.Fatalf("round trip: %+v", got)
	}
	cases := []struct {
		drop, set, val, want string
	}{
		{drop: HeaderResource, want: HeaderResource + ": missing"},
		{drop: HeaderFingerprint, want: HeaderFingerprint + ": missing"},
		{set: HeaderOp, val: "merge", want: `"merge" is neither`},
		{set: HeaderPartition, val: "x", want: "not a number"},
		{set: HeaderSchemaVersion, val: "", want: "not a number"},
	}
	for _, c := range cases {
		var hs []kafka.Header
		for _, h := range m.Headers() {
			if h.Key == c.drop {
				continue
			}
			if h.Key == c.set {
				h.Value = []byte(c.val)
			}
			hs = append(hs, h)
		}
		if _, err := ParseHeaders(hs); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v", c, err)
		}
	}
}

func TestPartitionAndBalancer(t *testing.T) {
	counts := make([]int, 6)
	for i := 0; i < 6000; i++ {
		p := Partition(strings.Repeat("x", i%7)+string(rune('a'+i%26))+string(rune(i)), 6)
		if p != Partition(strings.Repeat("x", i%7)+string(rune('a'+i%26))+string(rune(i)), 6) {
			t.Fatal("not deterministic")
		}
		counts[p]++
	}
	for p, c := range counts {
		if c < 500 {
			t.Errorf("partition %d got only %d of 6000", p, c)
		}
	}
	if Partition("x", 1) != 0 || Partition("x", 0) != 0 {
		t.Error("single partition")
	}
	msg := Message(Meta{Partition: 4, BatchID: "b"}, nil)
	if got := (Balancer{}).Balance(msg, 0, 1, 2, 3, 4, 5); got != 4 {
		t.Errorf("balance to %d, want 4", got)
	}
	if got := (Balancer{}).Balance(msg, 0, 1); got != 0 {
		t.Errorf("out of range partition went to %d", got)
	}
	if k := RecordKey([]string{"a", "b"}); len(SplitKey(k)) != 2 || SplitKey(k)[1] != "b" {
		t.Error("record key round trip")
	}
}

func TestDecodeRejectsGarbage(t *testing.T) {
	for _, p := range [][]byte{nil, []byte("garbage"), make([]byte, 64)} {
		if rec, err := DecodeRecord(p); err == nil {
			rec.Release()
			t.Errorf("decoded %q", p)
		}
	}
}

func FuzzDecodeRecord(f *testing.F) {
	s := testSchema(f)
	b := NewBuilder(nil, s)
	_ = b.Append([]any{"a", int64(1), 1.0, "1.00", "2000-01-01", "2000-01-01", true, []byte("x")}, 1)
	rec := b.NewRecord()
	good, _ := EncodeRecord(rec)
	rec.Release()
	b.Release()
	f.Add(good)
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, p []byte) {
		rec, err := DecodeRecord(p)
		if err != nil {
			return
		}
		defer rec.Release()
		for i := 0; i < int(rec.NumCols()); i++ {
			for j := 0; j < int(rec.NumRows()) && j < 10; j++ {
				_ = Value(rec.Column(i), j)
			}
		}
	})
}

func FuzzParseHeaders(f *testing.F) {
	f.Add("R", "D", "fp", "1", "b", "upsert", "0")
	f.Fuzz(func(t *testing.T, r, d, fp, v, b, op, p string) {
		hs := []kafka.Header{{Key: HeaderResource, Value: []byte(r)}, {Key: HeaderDept, Value: []byte(d)}, {Key: HeaderFingerprint, Value: []byte(fp)},
			{Key: HeaderSchemaVersion, Value: []byte(v)}, {Key: HeaderBatchID, Value: []byte(b)}, {Key: HeaderOp, Value: []byte(op)}, {Key: HeaderPartition, Value: []byte(p)}}
		m, err := ParseHeaders(hs)
		if err == nil && (m.Resource == "" || (m.Op != OpUpsert && m.Op != OpDelete) || m.Partition < 0) {
			t.Fatalf("accepted invalid meta %+v", m)
		}
	})
}

// The fast decimal path agrees with decimal128.FromString wherever it answers.
func FuzzSmallDecimal(f *testing.F) {
	for _, s := range []string{"0", "-1234.5", "+7.25", "999999999999999999", "1.", ".5", "-", "1.2.3", "12.345"} {
		f.Add(s, int32(2))
	}
	f.Fuzz(func(t *testing.T, s string, scale int32) {
		if scale < 0 || scale > 38 {
			return
		}
		n, ok := parseSmallDecimal(s, scale)
		if !ok {
			return
		}
		want, err := decimal128.FromString(s, 38, scale)
		if err != nil {
			t.Fatalf("fast path accepted %q (scale %d) that FromString rejects: %v", s, scale, err)
		}
		if n != want {
			t.Fatalf("%q scale %d: fast %s, FromString %s", s, scale, n.ToString(scale), want.ToString(scale))
		}
	})
}
