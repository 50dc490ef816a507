package ingest

import (
	"context"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/segmentio/kafka-go"

	"github.com/tongban/tongban/wire"
)

func TestWiden(t *testing.T) {
	cases := []struct {
		v        any
		from, to string
		want     any
	}{
		{"12.30", "decimal(10,2)", "decimal(12,3)", "12.300"},
		{"-0.5", "decimal(3,1)", "decimal(5,3)", "-0.500"},
		{int64(42), "int64", "decimal(21,2)", "42.00"},
		{int64(-7), "int64", "decimal(19,0)", "-7"},
		{"3", "decimal(5,0)", "decimal(6,0)", "3"},
	}
	for _, c := range cases {
		if got := widen(c.v, mustType(t, c.from), mustType(t, c.to)); got != c.want {
			t.Errorf("widen(%v, %s, %s) = %v, want %v", c.v, c.from, c.to, got, c.want)
		}
	}
}

// FuzzDecodeMessage feeds arbitrary payloads and header values to the
// message checks: they must never panic, and whatever they accept must be
// storable (non-empty valid keys within the limit, JSON objects).
func FuzzDecodeMessage(f *testing.F) {
	res := testResource(f)
	cat := testCatalog{testRes: res}
	versions := func(_ context.Context, resource, fp string) (knownVersion, []int, bool, error) {
		if resource == testRes && fp == res.Schema.Fingerprint() {
			return knownVersion{version: 1, schema: res.Schema}, nil, true, nil
		}
		return knownVersion{}, []int{1}, false, nil
	}
	good := people(3, 1)
	var vals [][]any
	for _, r := range good {
		vals = append(vals, r.values())
	}
	payload := encode(f, res.Schema, vals, []int64{1, 2, 3})
	pk, _ := res.Schema.Select(res.PrimaryKey)
	del := encode(f, pk, [][]any{{"x"}, {"y"}}, []int64{1, 2})
	fp := res.Schema.Fingerprint()
	f.Add(testRes, testDept, fp, "upsert", "b1", payload)
	f.Add(testRes, testDept, fp, "delete", "b2", del)
	f.Add(testRes, testDept, fp, "upsert", "b3", del)
	f.Add(testRes, otherDept, fp, "upsert", "b4", payload)
	f.Add("X", testDept, "fp", "upsert", "", []byte("garbage"))
	f.Fuzz(func(t *testing.T, resource, dept, fp, op, batch string, payload []byte) {
		m := wire.Meta{Resource: resource, Dept: dept, Fingerprint: fp, SchemaVersion: 1, BatchID: batch, Op: wire.Op(op)}
		msg := kafka.Message{Value: payload, Headers: m.Headers()}
		d, rej, err := decodeMessage(context.Background(), cat, versions, msg, time.Now())
		if err != nil {
			t.Fatalf("lookup cannot fail here: %v", err)
		}
		if rej != nil {
			if rej.class == "" || rej.detail == "" {
				t.Fatalf("empty rejection %+v", rej)
			}
			return
		}
		for _, r := range d.records {
			if r.Key == "" || !utf8.ValidString(r.Key) || utf8.RuneCountInString(r.Key) > maxKeyRunes {
				t.Fatalf("accepted key %q", r.Key)
			}
			if r.Deleted != (m.Op == wire.OpDelete) || (!r.Deleted && (len(r.Data) == 0 || r.Data[0] != '{')) {
				t.Fatalf("accepted record %+v", r)
			}
		}
	})
}
