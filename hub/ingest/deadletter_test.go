package ingest

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/tongban/tongban/schemas"
	"github.com/tongban/tongban/wire"
)

// badMessages returns, per case, a message that must become a dead letter.
func badMessages(t *testing.T, e *env) []struct {
	name, class, reason string
	msg                 kafka.Message
} {
	res := e.cat[testRes]
	good := people(1, 5)[0]
	goodPayload := encode(t, res.Schema, [][]any{good.values()}, []int64{5})
	m := meta(res, res.Schema, wire.OpUpsert, "bad")

	withMeta := func(f func(*wire.Meta)) kafka.Message {
		mm := m
		f(&mm)
		return wire.Message(mm, goodPayload)
	}
	dropHeader := func(name string) kafka.Message {
		msg := wire.Message(m, goodPayload)
		var hs []kafka.Header
		for _, h := range msg.Headers {
			if h.Key != name {
				hs = append(hs, h)
			}
		}
		msg.Headers = hs
		return msg
	}
	// A schema whose age column is a string: right fingerprint header, wrong type.
	wrongType := testSchema(t)
	wrongType.Fields[2].Type = mustType(t, "string")
	// A schema without the name column.
	missing := testSchema(t)
	missing.Fields = append(missing.Fields[:1:1], missing.Fields[2:]...)
	// A delete batch with a non-key column.
	withExtra, _ := res.Schema.Select([]string{"citizen_id", "name"})
	nullKey := good.values()
	nullKey[0] = nil

	return []struct {
		name, class, reason string
		msg                 kafka.Message
	}{
		{"garbage bytes", ReasonDecode, "decode arrow batch", wire.Message(m, []byte("this is not arrow"))},
		{"empty payload", ReasonDecode, "empty payload", wire.Message(m, nil)},
		{"no headers", ReasonHeaders, "tb-resource: missing", kafka.Message{Value: goodPayload}},
		{"missing fingerprint header", ReasonHeaders, "tb-schema-fp: missing", dropHeader(wire.HeaderFingerprint)},
		{"bad op", ReasonHeaders, `"merge" is neither`, withMeta(func(mm *wire.Meta) { mm.Op = "merge" })},
		{"unknown resource", ReasonUnknownResource, `resource "NO-SUCH-001" is not in the catalog`, withMeta(func(mm *wire.Meta) { mm.Resource = "NO-SUCH-001" })},
		{"wrong dept", ReasonWrongDept, `department "` + otherDept + `" does not provide`, withMeta(func(mm *wire.Meta) { mm.Dept = otherDept })},
		{"wrong fingerprint", ReasonFingerprint, `no schema version with fingerprint "0123456789abcdef"`, withMeta(func(mm *wire.Meta) { mm.Fingerprint = "0123456789abcdef" })},
		{"wrong column type", ReasonColumns, `column "age" has Arrow type utf8, want int64`,
			wire.Message(m, encode(t, wrongType, [][]any{{good.id, "x", "forty", nil, nil, nil, nil, nil, nil}}, []int64{5}))},
		{"missing column", ReasonColumns, `column "name" is missing`,
			wire.Message(m, encode(t, missing, [][]any{{good.id, nil, nil, nil, nil, nil, nil, nil}}, []int64{5}))},
		{"delete with extra column", ReasonColumns, `column "name" is not a primary-key field`,
			wire.Message(meta(res, res.Schema, wire.OpDelete, "bad"), encode(t, withExtra, [][]any{{good.id, "x"}}, []int64{5}))},
		{"delete without the key", ReasonColumns, `column "citizen_id" is missing`,
			wire.Message(meta(res, res.Schema, wire.OpDelete, "bad"), encode(t, schemas.Schema{}, [][]any{{}}, []int64{5}))},
		{"null primary key", ReasonRows, `primary-key field "citizen_id" is null`,
			wire.Message(m, encode(t, res.Schema, [][]any{good.values(), nullKey}, []int64{5, 5}))},
	}
}

func TestDeadLetters(t *testing.T) {
	e := newEnv(t, nil)
	cases := badMessages(t, e)
	// Interleave: bad, good, bad, good, … on the same partition; every good
	// row must arrive and every bad message be a dead letter.
	var msgs []kafka.Message
	var goods []row
	all := people(len(cases), 9)
	for i, c := range cases {
		msgs = append(msgs, c.msg)
		goods = append(goods, all[i])
		msgs = append(msgs, e.upserts("good", all[i])...)
	}
	for i := range msgs {
		msgs[i].Headers = append(msgs[i].Headers, kafka.Header{Key: "test-seq", Value: []byte{byte(i)}})
	}
	e.produce(msgs...)
	r := e.start("g", nil)
	s := r.waitMessages(t, int64(len(msgs)))
	checkRows(t, e, goods)
	if s.DeadLetters != int64(len(cases)) {
		t.Fatalf("dead letters %d, want %d: %+v", s.DeadLetters, len(cases), s)
	}

	ctx := context.Background()
	stored, err := e.db.ListDeadLetters(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != len(cases) {
		t.Fatalf("store has %d dead letters, want %d", len(stored), len(cases))
	}
	byReason := map[string]int{}
	for _, c := range cases {
		byReason[c.class]++
		found := false
		for _, d := range stored {
			if strings.HasPrefix(d.Reason, c.class+": ") && strings.Contains(d.Reason, c.reason) && string(d.Payload) == string(c.msg.Value) {
				found = true
				if d.Topic != testTopic || d.Headers == nil {
					t.Errorf("%s: stored dead letter %+v", c.name, d)
				}
				var hs []HeaderJSON
				if err := json.Unmarshal(d.Headers, &hs); err != nil || len(hs) != len(c.msg.Headers)+1 {
					t.Errorf("%s: stored headers %s (%v)", c.name, d.Headers, err)
				}
			}
		}
		if !found {
			t.Errorf("%s: no stored dead letter with reason %q; have:\n%s", c.name, c.reason, reasons(stored))
		}
	}
	for class, n := range byReason {
		if got := metricValue(t, r.reg, "tongban_hub_ingest_dead_letters_total", map[string]string{"reason": class}); got != float64(n) {
			t.Errorf("dead letter metric %s = %v, want %d", class, got, n)
		}
	}

	// The dead-letter topic has the original value and headers plus the reason
	// and the source position.
	rd := kafka.NewReader(kafka.ReaderConfig{Brokers: e.brokers, Topic: testDLQ, GroupID: "dlq-check", StartOffset: kafka.FirstOffset, MaxWait: 100 * time.Millisecond})
	defer rd.Close()
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for i := 0; i < len(cases); i++ {
		m, err := rd.FetchMessage(rctx)
		if err != nil {
			t.Fatalf("dead-letter topic: %d of %d: %v", i, len(cases), err)
		}
		var reason, seq, srcTopic, srcOffset string
		for _, h := range m.Headers {
			switch h.Key {
			case wire.HeaderReason:
				reason = string(h.Value)
			case "test-seq":
				seq = string(h.Value)
			case HeaderSourceTopic:
				srcTopic = string(h.Value)
			case HeaderSourceOffset:
				srcOffset = string(h.Value)
			}
		}
		if reason == "" || seq == "" || srcTopic != testTopic || srcOffset == "" {
			t.Errorf("dead-letter message headers %v", m.Headers)
			continue
		}
		c := cases[int(seq[0])/2]
		if !strings.Contains(reason, c.reason) || string(m.Value) != string(c.msg.Value) {
			t.Errorf("%s: dead-letter topic reason %q", c.name, reason)
		}
	}
}

func reasons(ds []storeDeadLetter) string {
	var b strings.Builder
	for _, d := range ds {
		b.WriteString("  " + d.Reason + "\n")
	}
	return b.String()
}

func TestOlderSchemaVersionIsReadIntoTheCurrentSchema(t *testing.T) {
	e := newEnv(t, nil)
	res := e.cat[testRes]
	// Version 1: income decimal(10,2) and no email; the catalog now widens
	// income to decimal(12,3) and adds a nullable email (version 2).
	v1 := testSchema(t)
	v1.Fields[4].Type = mustType(t, "decimal(10,2)")
	v2 := testSchema(t)
	v2.Fields[4].Type = mustType(t, "decimal(12,3)")
	v2.Fields = append(v2.Fields, schemas.Field{Name: "email", Type: mustType(t, "string"), Nullable: true})
	ctx := context.Background()
	db := openSQLite(t)
	e.db = db
	res.Schema = v1
	e.sync()
	res.Schema = v2
	got, err := SyncSchemas(ctx, db, []catalogResource{*res})
	if err != nil || len(got) != 1 || got[0].Version != 2 || !got[0].Added {
		t.Fatalf("sync to v2: %+v %v", got, err)
	}
	r := e.start("g", nil)

	old := people(1, 10)[0]
	m1 := meta(res, v1, wire.OpUpsert, "v1")
	m1.SchemaVersion = 1
	cur := people(2, 11)[1]
	vals := append(cur.values(), "a@example.cn")
	e.produce(wire.Message(m1, encode(t, v1, [][]any{old.values()}, []int64{10})),
		wire.Message(meta(res, v2, wire.OpUpsert, "v2"), encode(t, v2, [][]any{vals}, []int64{11})))
	if s := r.waitMessages(t, 2); s.DeadLetters != 0 {
		t.Fatalf("dead letters: %+v", s)
	}
	rec, _, _ := db.GetRecord(ctx, testRes, old.id)
	want := strings.Replace(old.wantData(), `"income":"1234.50"`, `"income":"1234.500"`, 1)
	want = strings.TrimSuffix(want, "}") + `,"email":null}`
	if string(rec.Data) != want {
		t.Fatalf("v1 row:\n got %s\nwant %s", rec.Data, want)
	}
	rec, _, _ = db.GetRecord(ctx, testRes, cur.id)
	want = strings.Replace(cur.wantData(), `"income":"1234.50"`, `"income":"1234.500"`, 1)
	want = strings.TrimSuffix(want, "}") + `,"email":"a@example.cn"}`
	if string(rec.Data) != want {
		t.Fatalf("v2 row:\n got %s\nwant %s", rec.Data, want)
	}
}
