package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

func goldenOf(lib string, fields map[string]string, version int64, ingested time.Time) GoldenRecord {
	g := GoldenRecord{SubjectType: "person", SubjectID: "110101199003077777", Library: lib, Fields: map[string]GoldenField{}}
	for name, v := range fields {
		g.Fields[name] = GoldenField{Value: json.RawMessage(v), Provenance: Provenance{Dept: "D1", Resource: "POP-1", Key: "k1", Version: version, IngestedAt: ingested}}
	}
	return g
}

func TestWriteMergeGolden(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		t0 := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
		write := func(g GoldenRecord, at time.Time) MergeResult {
			t.Helper()
			res, err := writeMerge(ctx, db, []SubjectMerge{{Golden: g}}, at)
			if err != nil {
				t.Fatal(err)
			}
			return res
		}
		steps := []struct {
			name          string
			golden        GoldenRecord
			wantChanged   int
			wantFields    int
			wantRevision  int64
			wantFound     bool
			wantNameValue string
		}{
			{"first", goldenOf("population", map[string]string{"name": `"张三"`, "sex": `"1"`}, 1, t0), 1, 2, 1, true, `"张三"`},
			{"same again", goldenOf("population", map[string]string{"name": `"张三"`, "sex": `"1"`}, 1, t0), 0, 0, 1, true, `"张三"`},
			{"only ingested_at differs", goldenOf("population", map[string]string{"name": `"张三"`, "sex": `"1"`}, 1, t0.Add(time.Hour)), 0, 0, 1, true, `"张三"`},
			{"whitespace of the JSON differs", goldenOf("population", map[string]string{"name": ` "张三" `, "sex": `"1"`}, 1, t0), 0, 0, 1, true, `"张三"`},
			{"value changes", goldenOf("population", map[string]string{"name": `"张四"`, "sex": `"1"`}, 1, t0), 1, 1, 2, true, `"张四"`},
			{"version changes", goldenOf("population", map[string]string{"name": `"张四"`, "sex": `"1"`}, 2, t0), 1, 2, 3, true, `"张四"`},
			{"field cleared", goldenOf("population", map[string]string{"name": `"张四"`}, 2, t0), 1, 1, 4, true, `"张四"`},
			{"html-ish value round trips", goldenOf("population", map[string]string{"name": `"<a&b>"`}, 2, t0), 1, 1, 5, true, `"\u003ca\u0026b\u003e"`},
			{"html-ish value again", goldenOf("population", map[string]string{"name": `"<a&b>"`}, 2, t0), 0, 0, 5, true, `"\u003ca\u0026b\u003e"`},
			{"all cleared", goldenOf("population", nil, 2, t0), 1, 1, 6, false, ""},
			{"all cleared again", goldenOf("population", nil, 2, t0), 0, 0, 6, false, ""},
		}
		outbox := 0
		for i, s := range steps {
			res := write(s.golden, t0.Add(time.Duration(i)*time.Minute))
			if res.GoldenChanged != s.wantChanged || res.FieldsChanged != s.wantFields || res.ByLibrary["population"].GoldenChanged != s.wantChanged {
				t.Fatalf("%s: result %+v, want %d changed, %d fields", s.name, res, s.wantChanged, s.wantFields)
			}
			outbox += s.wantChanged
			if i == 0 {
				// The outbox row carries the record as it is when read.
				changes, err := db.PendingGoldenChanges(ctx, 100)
				if err != nil {
					t.Fatal(err)
				}
				var first GoldenRecord
				if len(changes) != 1 {
					t.Fatalf("%s: %d outbox rows, want 1", s.name, len(changes))
				}
				if err := json.Unmarshal(changes[0].Payload, &first); err != nil {
					t.Fatal(err)
				}
				if first.Revision != 1 || string(first.Fields["name"].Value) != `"张三"` || first.Fields["name"].Provenance.Resource != "POP-1" {
					t.Fatalf("first outbox payload = %s", changes[0].Payload)
				}
			}
			g, found, err := db.GetGolden(ctx, "person", "110101199003077777")
			if err != nil {
				t.Fatal(err)
			}
			if found != s.wantFound {
				t.Fatalf("%s: found = %v", s.name, found)
			}
			if found && (g.Revision != s.wantRevision || string(g.Fields["name"].Value) != s.wantNameValue || g.Library != "population") {
				t.Fatalf("%s: golden %+v, want revision %d name %s", s.name, g, s.wantRevision, s.wantNameValue)
			}
		}
		hist, err := db.FieldHistory(ctx, "person", "110101199003077777", "sex", 10)
		if err != nil {
			t.Fatal(err)
		}
		// Newest first: cleared (provenance kept), version 2, first value.
		if len(hist) != 3 || !hist[0].Cleared || string(hist[0].Value) != "null" || hist[0].Provenance == nil || hist[0].Provenance.Version != 2 ||
			string(hist[1].Value) != `"1"` || hist[1].Provenance.Version != 2 || hist[2].Provenance.Version != 1 {
			t.Fatalf("sex history = %+v", hist)
		}
		all, err := db.FieldHistory(ctx, "person", "110101199003077777", "", 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 8 {
			t.Fatalf("history has %d rows, want 8: %+v", len(all), all)
		}
		changes, err := db.PendingGoldenChanges(ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(changes) != outbox {
			t.Fatalf("outbox has %d rows, want %d", len(changes), outbox)
		}
		// Every field is cleared now: every row pending says so (the topic
		// is compacted; the latest state is what is published).
		for _, c := range changes {
			if c.Payload != nil || c.Library != "population" || c.SubjectID != "110101199003077777" {
				t.Fatalf("outbox row = %+v, want a nil payload", c)
			}
		}
		if err := db.DeleteGoldenChanges(ctx, []int64{changes[0].ID, changes[1].ID}); err != nil {
			t.Fatal(err)
		}
		rest, err := db.PendingGoldenChanges(ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(rest) != outbox-2 || rest[0].ID != changes[2].ID {
			t.Fatalf("after delete: %d rows", len(rest))
		}
		if _, err := db.FieldHistory(ctx, "person", "x", "", 0); err == nil {
			t.Error("limit 0 accepted")
		}
		if _, err := writeMerge(ctx, db, []SubjectMerge{{Golden: GoldenRecord{SubjectType: "person", Library: "p"}}}, t0); err == nil {
			t.Error("a subject without id was accepted")
		}
		if _, err := writeMerge(ctx, db, []SubjectMerge{{Golden: goldenOf("population", map[string]string{"x": `{bad`}, 1, t0)}}, t0); err == nil {
			t.Error("an invalid JSON value was accepted")
		}
	})
}

func TestSubjectRecords(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		var recs []Record
		var subjects []string
		for i := 0; i < 1200; i++ {
			s := fmt.Sprintf("S%05d", i)
			subjects = append(subjects, s)
			recs = append(recs, Record{Resource: "R1", Key: s, Dept: "D", Subject: s, Version: 1, Data: json.RawMessage(`{"a":1}`)})
			if i%2 == 0 {
				recs = append(recs, Record{Resource: "R2", Key: s + "-x", Dept: "D", Subject: s, Version: 1, Data: json.RawMessage(`{"a":2}`)})
			}
			if i%3 == 0 {
				recs = append(recs, Record{Resource: "R3", Key: s, Dept: "D", Subject: s, Version: 1, Data: json.RawMessage(`{"a":3}`)})
			}
		}
		if _, err := db.ApplyRecords(ctx, recs); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ApplyRecords(ctx, []Record{{Resource: "R1", Key: "S00002", Dept: "D", Version: 2, Deleted: true}}); err != nil {
			t.Fatal(err)
		}
		got, err := db.SubjectRecords(ctx, []string{"R1", "R2"}, subjects)
		if err != nil {
			t.Fatal(err)
		}
		// 1200 of R1 less one tombstone, 600 of R2; none of R3.
		if len(got) != 1799 {
			t.Fatalf("%d records, want 1799", len(got))
		}
		for i := 1; i < len(got); i++ {
			if got[i-1].Resource > got[i].Resource || (got[i-1].Resource == got[i].Resource && got[i-1].Subject >= got[i].Subject) {
				t.Fatalf("records out of order at %d", i)
			}
		}
		few, err := db.SubjectRecords(ctx, []string{"R1", "R3"}, []string{"S00003", "S00003", "nobody"})
		if err != nil {
			t.Fatal(err)
		}
		if len(few) != 2 || few[0].Resource != "R1" || few[1].Resource != "R3" || few[0].Subject != "S00003" {
			t.Fatalf("few = %+v", few)
		}
	})
}

// FuzzAppendObject: the golden record's data object is byte for byte what
// json.Marshal writes for the same map of canonical values.
func FuzzAppendObject(f *testing.F) {
	f.Add("name", `"张三"`, "x<y", `{"b":1, "a":[1,2]}`, "a\u2028b", `"<&>"`)
	f.Add("", `null`, "$sources", `1.50`, "é", `"\u00e9"`)
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2, k3, v3 string) {
		fields := map[string]json.RawMessage{}
		for _, kv := range [][2]string{{k1, v1}, {k2, v2}, {k3, v3}} {
			v, err := CanonicalJSON(json.RawMessage(kv[1]))
			if err != nil {
				continue
			}
			fields[kv[0]] = v
		}
		want, err := json.Marshal(fields)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendObject(nil, fields); !bytes.Equal(got, want) {
			t.Fatalf("appendObject %s, json.Marshal %s", got, want)
		}
	})
}
