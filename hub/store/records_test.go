package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

const testDept = "11230000MB0000001X"

func live(resource, key string, version int64, data string) Record {
	return Record{Resource: resource, Key: key, Dept: testDept, Version: version, Data: json.RawMessage(data), BatchID: fmt.Sprintf("b-%d", version)}
}

func tomb(resource, key string, version int64) Record {
	return Record{Resource: resource, Key: key, Dept: testDept, Version: version, Deleted: true, BatchID: fmt.Sprintf("t-%d", version)}
}

// wantRecord is the expected stored state of one key.
type wantRecord struct {
	resource, key string
	version       int64
	deleted       bool
	data          string // "" for none
	batchID       string
}

func checkStored(t *testing.T, db *DB, want []wantRecord) {
	t.Helper()
	ctx := context.Background()
	for _, w := range want {
		got, ok, err := db.GetRecord(ctx, w.resource, w.key)
		if err != nil {
			t.Fatalf("GetRecord(%s, %q): %v", w.resource, w.key, err)
		}
		if !ok {
			t.Errorf("GetRecord(%s, %q): not found", w.resource, w.key)
			continue
		}
		if got.Resource != w.resource || got.Key != w.key || got.Version != w.version || got.Deleted != w.deleted ||
			string(got.Data) != w.data || (w.data == "") != (got.Data == nil) || got.Dept != testDept {
			t.Errorf("GetRecord(%s, %q) = {version %d, deleted %v, data %q (nil %v), dept %q}, want {version %d, deleted %v, data %q}",
				w.resource, w.key, got.Version, got.Deleted, got.Data, got.Data == nil, got.Dept, w.version, w.deleted, w.data)
		}
		if w.batchID != "" && got.BatchID != w.batchID {
			t.Errorf("GetRecord(%s, %q).BatchID = %q, want %q", w.resource, w.key, got.BatchID, w.batchID)
		}
		if got.IngestedAt.IsZero() || got.IngestedAt.Location() != time.UTC {
			t.Errorf("GetRecord(%s, %q).IngestedAt = %v, want a UTC time", w.resource, w.key, got.IngestedAt)
		}
	}
}

func TestApplyRules(t *testing.T) {
	type step struct {
		recs []Record
		want ApplyResult
	}
	cases := []struct {
		name  string
		steps []step
		want  []wantRecord
	}{
		{
			name:  "insert new",
			steps: []step{{[]Record{live("R", "k1", 10, `{"a":1}`)}, ApplyResult{Applied: 1}}},
			want:  []wantRecord{{"R", "k1", 10, false, `{"a":1}`, "b-10"}},
		},
		{
			name: "older version skipped",
			steps: []step{
				{[]Record{live("R", "k1", 10, `{"a":1}`)}, ApplyResult{Applied: 1}},
				{[]Record{live("R", "k1", 9, `{"a":0}`)}, ApplyResult{Skipped: 1}},
			},
			want: []wantRecord{{"R", "k1", 10, false, `{"a":1}`, "b-10"}},
		},
		{
			name: "equal version applied idempotently",
			steps: []step{
				{[]Record{live("R", "k1", 10, `{"a":1}`)}, ApplyResult{Applied: 1}},
				{[]Record{live("R", "k1", 10, `{"a":1}`)}, ApplyResult{Applied: 1}},
				{[]Record{live("R", "k1", 10, `{"a":1}`)}, ApplyResult{Applied: 1}},
			},
			want: []wantRecord{{"R", "k1", 10, false, `{"a":1}`, "b-10"}},
		},
		{
			name: "newer version replaces",
			steps: []step{
				{[]Record{live("R", "k1", 10, `{"a":1}`)}, ApplyResult{Applied: 1}},
				{[]Record{live("R", "k1", 11, `{"a":2}`)}, ApplyResult{Applied: 1}},
			},
			want: []wantRecord{{"R", "k1", 11, false, `{"a":2}`, "b-11"}},
		},
		{
			name: "tombstone then older upsert stays deleted",
			steps: []step{
				{[]Record{live("R", "k1", 10, `{"a":1}`)}, ApplyResult{Applied: 1}},
				{[]Record{tomb("R", "k1", 20)}, ApplyResult{Applied: 1}},
				{[]Record{live("R", "k1", 15, `{"a":3}`)}, ApplyResult{Skipped: 1}},
			},
			want: []wantRecord{{"R", "k1", 20, true, "", "t-20"}},
		},
		{
			name: "tombstone then newer upsert resurrects",
			steps: []step{
				{[]Record{live("R", "k1", 10, `{"a":1}`)}, ApplyResult{Applied: 1}},
				{[]Record{tomb("R", "k1", 20)}, ApplyResult{Applied: 1}},
				{[]Record{live("R", "k1", 25, `{"a":4}`)}, ApplyResult{Applied: 1}},
			},
			want: []wantRecord{{"R", "k1", 25, false, `{"a":4}`, "b-25"}},
		},
		{
			name: "tombstone of an unknown key is kept",
			steps: []step{
				{[]Record{tomb("R", "k1", 20)}, ApplyResult{Applied: 1}},
				{[]Record{live("R", "k1", 19, `{"a":1}`)}, ApplyResult{Skipped: 1}},
			},
			want: []wantRecord{{"R", "k1", 20, true, "", "t-20"}},
		},
		{
			name: "older tombstone skipped",
			steps: []step{
				{[]Record{live("R", "k1", 30, `{"a":1}`)}, ApplyResult{Applied: 1}},
				{[]Record{tomb("R", "k1", 29)}, ApplyResult{Skipped: 1}},
			},
			want: []wantRecord{{"R", "k1", 30, false, `{"a":1}`, "b-30"}},
		},
		{
			name: "same key twice in a batch, ascending",
			steps: []step{
				{[]Record{live("R", "k1", 5, `{"a":5}`), live("R", "k1", 7, `{"a":7}`)}, ApplyResult{Applied: 2}},
			},
			want: []wantRecord{{"R", "k1", 7, false, `{"a":7}`, "b-7"}},
		},
		{
			name: "same key in a batch, out of order",
			steps: []step{
				{[]Record{live("R", "k1", 6, `{"a":6}`)}, ApplyResult{Applied: 1}},
				{[]Record{live("R", "k1", 5, `{"a":5}`), live("R", "k1", 8, `{"a":8}`), live("R", "k1", 7, `{"a":7}`),
					tomb("R", "k1", 8)}, ApplyResult{Applied: 2, Skipped: 2}},
			},
			want: []wantRecord{{"R", "k1", 8, true, "", "t-8"}},
		},
		{
			name: "mixed batch over resources",
			steps: []step{
				{[]Record{live("R", "k1", 10, `{"a":1}`), live("S", "k1", 1, `{"s":1}`), live("R", "k2", 10, `{"b":1}`)},
					ApplyResult{Applied: 3}},
				{[]Record{live("R", "k1", 9, `{}`), live("S", "k1", 2, `{"s":2}`), tomb("R", "k2", 11), live("R", "k3", 1, `{"c":1}`)},
					ApplyResult{Applied: 3, Skipped: 1}},
			},
			want: []wantRecord{
				{"R", "k1", 10, false, `{"a":1}`, ""},
				{"R", "k2", 11, true, "", ""},
				{"R", "k3", 1, false, `{"c":1}`, ""},
				{"S", "k1", 2, false, `{"s":2}`, ""},
			},
		},
	}
	eachBackend(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		for ci, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				// Each case in its own resources, so cases cannot see each other.
				prefix := fmt.Sprintf("c%d", ci)
				for si, s := range c.steps {
					recs := slices.Clone(s.recs)
					for i := range recs {
						recs[i].Resource = prefix + recs[i].Resource
					}
					got, err := db.ApplyRecords(ctx, recs)
					if err != nil {
						t.Fatalf("step %d: ApplyRecords: %v", si, err)
					}
					if got.Applied != s.want.Applied || got.Skipped != s.want.Skipped {
						t.Errorf("step %d: ApplyRecords = %+v, want %+v", si, got, s.want)
					}
				}
				want := slices.Clone(c.want)
				for i := range want {
					want[i].resource = prefix + want[i].resource
				}
				checkStored(t, db, want)
			})
		}
	})
}

// TestApplyRecordsLargeBatch crosses the statement chunk sizes and checks
// the counts of a batch mixing newer, equal, older and new records.
func TestApplyRecordsLargeBatch(t *testing.T) {
	n := 2345
	if testing.Short() {
		n = 1200
	}
	eachBackend(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		first := make([]Record, n)
		for i := range first {
			first[i] = live("big", fmt.Sprintf("key-%06d", i), 100, fmt.Sprintf(`{"i":%d,"name":"张三%d"}`, i, i))
		}
		res, err := db.ApplyRecords(ctx, first)
		if err != nil {
			t.Fatal(err)
		}
		if res.Applied != n || res.Skipped != 0 {
			t.Fatalf("first apply = %+v, want %d applied", res, n)
		}
		// i%4: 0 newer, 1 equal, 2 older, 3 older tombstone; plus n/2 new keys.
		var second []Record
		var want ApplyResult
		for i := 0; i < n; i++ {
			k := fmt.Sprintf("key-%06d", i)
			switch i % 4 {
			case 0:
				second = append(second, live("big", k, 101, fmt.Sprintf(`{"i":%d,"v":2}`, i)))
				want.Applied++
			case 1:
				second = append(second, live("big", k, 100, fmt.Sprintf(`{"i":%d,"name":"张三%d"}`, i, i)))
				want.Applied++
			case 2:
				second = append(second, live("big", k, 99, `{"old":true}`))
				want.Skipped++
			case 3:
				second = append(second, tomb("big", k, 50))
				want.Skipped++
			}
		}
		for i := n; i < n+n/2; i++ {
			second = append(second, tomb("big", fmt.Sprintf("key-%06d", i), 1))
			want.Applied++
		}
		// Reverse, so the batch is not in key order.
		slices.Reverse(second)
		res, err = db.ApplyRecords(ctx, second)
		if err != nil {
			t.Fatal(err)
		}
		if res.Applied != want.Applied || res.Skipped != want.Skipped {
			t.Fatalf("second apply = %+v, want %+v", res, want)
		}
		counts, err := db.CountRecords(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(counts) != 1 || counts[0].Live != int64(n) || counts[0].Deleted != int64(n/2) {
			t.Fatalf("CountRecords = %+v, want big: %d live, %d deleted", counts, n, n/2)
		}
		checkStored(t, db, []wantRecord{
			{"big", "key-000000", 101, false, `{"i":0,"v":2}`, ""},
			{"big", "key-000001", 100, false, `{"i":1,"name":"张三1"}`, ""},
			{"big", "key-000002", 100, false, `{"i":2,"name":"张三2"}`, ""},
			{"big", "key-000003", 100, false, `{"i":3,"name":"张三3"}`, ""},
			{"big", fmt.Sprintf("key-%06d", n), 1, true, "", ""},
		})
	})
}

func TestApplyRecordsInvalid(t *testing.T) {
	good := live("R", "ok", 1, `{"a":1}`)
	cases := []struct {
		name    string
		rec     Record
		wantErr string
	}{
		{"empty resource", Record{Key: "k", Dept: testDept, Data: json.RawMessage(`{}`)}, "resource is empty"},
		{"empty key", Record{Resource: "R", Dept: testDept, Data: json.RawMessage(`{}`)}, "key is empty"},
		{"empty dept", Record{Resource: "R", Key: "k", Data: json.RawMessage(`{}`)}, "dept is empty"},
		{"long key", live("R", strings.Repeat("键", maxKeyLen+1), 1, `{}`), "key is 256 characters long"},
		{"long resource", live(strings.Repeat("r", maxResourceLen+1), "k", 1, `{}`), "resource is 65 characters long"},
		{"invalid utf8 key", live("R", "k\xff", 1, `{}`), "not valid UTF-8"},
		{"no data", live("R", "k", 1, ``), "data is empty"},
		{"bad json", live("R", "k", 1, `{"a":`), "data is not valid JSON"},
		{"json array", live("R", "k", 1, `[1,2]`), "not a JSON object"},
		{"json string", live("R", "k", 1, `"x"`), "not a JSON object"},
		{"bad time", Record{Resource: "R", Key: "k", Dept: testDept, Data: json.RawMessage(`{}`),
			IngestedAt: time.Date(99999, 1, 1, 0, 0, 0, 0, time.UTC)}, "outside years"},
	}
	eachBackend(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				_, err := db.ApplyRecords(ctx, []Record{good, c.rec})
				if err == nil || !strings.Contains(err.Error(), c.wantErr) || !strings.Contains(err.Error(), "record 1") {
					t.Fatalf("ApplyRecords error = %v, want one naming record 1 and %q", err, c.wantErr)
				}
				if _, ok, err := db.GetRecord(ctx, "R", "ok"); err != nil || ok {
					t.Fatalf("after a failed apply, GetRecord(R, ok) = %v, %v; want nothing written", ok, err)
				}
			})
		}
		// A tombstone needs no data and ignores any given.
		res, err := db.ApplyRecords(ctx, []Record{{Resource: "R", Key: "t", Dept: testDept, Version: 3, Deleted: true, Data: json.RawMessage(`{"x":1}`)}})
		if err != nil || res.Applied != 1 {
			t.Fatalf("tombstone with data: %+v, %v", res, err)
		}
		checkStored(t, db, []wantRecord{{"R", "t", 3, true, "", ""}})
		if res, err := db.ApplyRecords(ctx, nil); err != nil || res.Applied != 0 || res.Skipped != 0 {
			t.Fatalf("ApplyRecords(nil) = %+v, %v", res, err)
		}
	})
}

func TestUnicodeRoundTrip(t *testing.T) {
	cases := []struct {
		name, resource, key, data string
	}{
		{"chinese", "人口基本信息", "230102199001011234", `{"姓名":"张三","住址":"黑龙江省大庆市萨尔图区","备注":null}`},
		{"emoji", "R", "key😀", `{"nick":"小明😀👨‍👩‍👧","flag":"🇨🇳"}`},
		{"4-byte han", "R", "𠀀𪚥", `{"name":"𠀀𪚥","n":1.5,"b":true}`},
		{"separator in key", "R", "a\x1fb\x1f张", `{"a":"x\u0000y","esc":"\"quoted\"\\"}`},
		{"whitespace kept", "R", "ws", "{ \"a\" : [1, 2,\n 3] }"},
		{"case differs", "R", "Key", `{"case":"upper"}`},
		{"case differs 2", "R", "key", `{"case":"lower"}`},
		{"trailing space", "R", "key ", `{"case":"space"}`},
		{"max key", "R", strings.Repeat("键", maxKeyLen), `{"long":true}`},
	}
	eachBackend(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		var recs []Record
		for _, c := range cases {
			recs = append(recs, live(c.resource, c.key, 1, c.data))
		}
		res, err := db.ApplyRecords(ctx, recs)
		if err != nil {
			t.Fatal(err)
		}
		if res.Applied != len(cases) {
			t.Fatalf("Applied = %d, want %d (keys must stay distinct)", res.Applied, len(cases))
		}
		for _, c := range cases {
			got, ok, err := db.GetRecord(ctx, c.resource, c.key)
			if err != nil || !ok {
				t.Fatalf("%s: GetRecord = %v, %v", c.name, ok, err)
			}
			if got.Resource != c.resource || got.Key != c.key || string(got.Data) != c.data {
				t.Errorf("%s: got (%q, %q, %q), want (%q, %q, %q)", c.name, got.Resource, got.Key, got.Data, c.resource, c.key, c.data)
			}
		}
	})
}

func TestListRecordsAndKeysPaging(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		var (
			recs    []Record
			all     []string // every key, sorted
			liveKey []string // live keys, sorted
		)
		for i := 0; i < 53; i++ {
			k := fmt.Sprintf("k%03d", i)
			if i%10 == 3 {
				k = fmt.Sprintf("张%02d", i) // beyond ASCII: sorts after "k..."
			}
			if i%5 == 0 {
				recs = append(recs, tomb("P", k, int64(i)))
			} else {
				recs = append(recs, live("P", k, int64(i), fmt.Sprintf(`{"i":%d}`, i)))
				liveKey = append(liveKey, k)
			}
			all = append(all, k)
		}
		recs = append(recs, live("Q", "k000", 1, `{}`), live("O", "zzz", 1, `{}`)) // neighbours
		if _, err := db.ApplyRecords(ctx, recs); err != nil {
			t.Fatal(err)
		}
		slices.Sort(all)
		slices.Sort(liveKey)

		for _, limit := range []int{1, 7, 53, 100} {
			for _, includeDeleted := range []bool{false, true} {
				var got []string
				after := ""
				for pages := 0; ; pages++ {
					if pages > 100 {
						t.Fatal("paging does not end")
					}
					page, err := db.ListRecords(ctx, "P", after, limit, includeDeleted)
					if err != nil {
						t.Fatal(err)
					}
					if len(page) > limit {
						t.Fatalf("page of %d > limit %d", len(page), limit)
					}
					for _, r := range page {
						got = append(got, r.Key)
						if r.Resource != "P" || r.Deleted != (r.Version%5 == 0) || (r.Data == nil) != r.Deleted {
							t.Fatalf("record %+v inconsistent", r)
						}
					}
					if len(page) < limit {
						break
					}
					after = page[len(page)-1].Key
				}
				want := liveKey
				if includeDeleted {
					want = all
				}
				if !slices.Equal(got, want) {
					t.Errorf("ListRecords(limit %d, deleted %v) keys = %q, want %q", limit, includeDeleted, got, want)
				}
			}

			var got []KeyVersion
			after := ""
			for {
				page, err := db.ListKeys(ctx, "P", after, limit)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, page...)
				if len(page) < limit {
					break
				}
				after = page[len(page)-1].Key
			}
			if len(got) != len(liveKey) {
				t.Fatalf("ListKeys(limit %d) returned %d keys, want %d", limit, len(got), len(liveKey))
			}
			for i, kv := range got {
				r, _, err := db.GetRecord(ctx, "P", kv.Key)
				if err != nil {
					t.Fatal(err)
				}
				if kv.Key != liveKey[i] || kv.Version != r.Version {
					t.Errorf("ListKeys[%d] = %+v, want key %q version %d", i, kv, liveKey[i], r.Version)
				}
			}
		}
		if _, err := db.ListRecords(ctx, "P", "", 0, false); err == nil {
			t.Error("ListRecords with limit 0: want an error")
		}
		if _, err := db.ListKeys(ctx, "P", "", -1); err == nil {
			t.Error("ListKeys with limit -1: want an error")
		}
		if page, err := db.ListRecords(ctx, "none", "", 10, true); err != nil || len(page) != 0 {
			t.Errorf("ListRecords of an unknown resource = %v, %v", page, err)
		}
	})
}

func TestCountRecords(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		if got, err := db.CountRecords(ctx); err != nil || len(got) != 0 {
			t.Fatalf("CountRecords on an empty store = %v, %v", got, err)
		}
		t1 := time.Date(2024, 3, 1, 8, 0, 0, 123456000, time.UTC)
		t2 := time.Date(2024, 3, 2, 9, 30, 15, 654321000, time.FixedZone("CST", 8*3600))
		at := func(r Record, t time.Time) Record { r.IngestedAt = t; return r }
		recs := []Record{
			at(live("B", "1", 1, `{}`), t1), at(live("B", "2", 1, `{}`), t2), at(tomb("B", "3", 1), t1),
			at(live("A", "1", 1, `{}`), t1), at(tomb("A", "2", 1), t1), at(tomb("A", "3", 1), t1),
		}
		if _, err := db.ApplyRecords(ctx, recs); err != nil {
			t.Fatal(err)
		}
		got, err := db.CountRecords(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := []ResourceCount{
			{Resource: "A", Live: 1, Deleted: 2, LastIngest: t1},
			{Resource: "B", Live: 2, Deleted: 1, LastIngest: t2.UTC()},
		}
		if len(got) != len(want) {
			t.Fatalf("CountRecords = %+v, want %+v", got, want)
		}
		for i := range want {
			if got[i].Resource != want[i].Resource || got[i].Live != want[i].Live || got[i].Deleted != want[i].Deleted ||
				!got[i].LastIngest.Equal(want[i].LastIngest) {
				t.Errorf("CountRecords[%d] = %+v, want %+v", i, got[i], want[i])
			}
		}
		r, _, err := db.GetRecord(ctx, "B", "2")
		if err != nil {
			t.Fatal(err)
		}
		if !r.IngestedAt.Equal(t2) || r.IngestedAt.Location() != time.UTC {
			t.Errorf("IngestedAt = %v, want %v in UTC with microseconds", r.IngestedAt, t2)
		}
	})
}

// TestApplyRecordsConcurrent applies overlapping batches from several
// goroutines: no call may fail (lock upgrades, deadlocks and insert races are
// handled), every record is counted once, and each key ends at its highest
// version.
func TestApplyRecordsConcurrent(t *testing.T) {
	const workers, keys, rounds = 4, 200, 5
	eachBackend(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		var (
			wg    sync.WaitGroup
			mu    sync.Mutex
			total ApplyResult
			errs  []error
		)
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for r := 0; r < rounds; r++ {
					batch := make([]Record, 0, keys)
					for k := 0; k < keys; k++ {
						// Versions differ per worker and round; order differs per worker.
						kk := k
						if w%2 == 1 {
							kk = keys - 1 - k
						}
						v := int64(r*workers + w)
						batch = append(batch, live("C", fmt.Sprintf("k%04d", kk), v, fmt.Sprintf(`{"w":%d,"r":%d}`, w, r)))
					}
					res, err := db.ApplyRecords(ctx, batch)
					mu.Lock()
					if err != nil {
						errs = append(errs, err)
					}
					total.Applied += res.Applied
					total.Skipped += res.Skipped
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		if total.Applied+total.Skipped != workers*keys*rounds {
			t.Fatalf("applied %d + skipped %d != %d records", total.Applied, total.Skipped, workers*keys*rounds)
		}
		maxV := int64((rounds-1)*workers + workers - 1)
		page, err := db.ListKeys(ctx, "C", "", keys+1)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) != keys {
			t.Fatalf("%d keys stored, want %d", len(page), keys)
		}
		for _, kv := range page {
			if kv.Version != maxV {
				t.Errorf("key %s at version %d, want %d", kv.Key, kv.Version, maxV)
			}
		}
	})
}

func TestInvalidRecordErrorIsMarked(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *DB) {
		_, err := db.ApplyRecords(context.Background(), []Record{{Resource: "R", Key: "", Dept: "D", Version: 1, Data: json.RawMessage(`{}`)}})
		if !errors.Is(err, ErrInvalidRecord) {
			t.Fatalf("error %v is not ErrInvalidRecord", err)
		}
	})
}
