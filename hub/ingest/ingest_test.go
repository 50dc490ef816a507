package ingest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/tongban/tongban/hub/store"
)

func people(n int, version int64) []row {
	out := make([]row, n)
	for i := range out {
		var age any
		if i%3 != 0 {
			age = int64(20 + i%50)
		}
		out[i] = row{id: fmt.Sprintf("2306021990%08d", i), name: fmt.Sprintf("张三%d😀", i), age: age, version: version}
	}
	return out
}

func checkRows(t *testing.T, e *env, rows []row) {
	t.Helper()
	got := e.dump()
	live := 0
	for _, r := range got {
		if !r.Deleted {
			live++
		}
	}
	if live != len(rows) {
		t.Fatalf("store holds %d live records, want %d", live, len(rows))
	}
	for _, r := range rows {
		rec, ok, err := e.db.GetRecord(context.Background(), testRes, r.id)
		if err != nil || !ok {
			t.Fatalf("record %s: %v %v", r.id, ok, err)
		}
		if string(rec.Data) != r.wantData() || rec.Version != r.version || rec.Deleted || rec.Dept != testDept {
			t.Fatalf("record %s:\n got %s v%d deleted=%v dept=%s\nwant %s v%d", r.id, rec.Data, rec.Version, rec.Deleted, rec.Dept, r.wantData(), r.version)
		}
	}
}

func TestAppliesEveryRowOnceAndReplayIsANoOp(t *testing.T) {
	e := newEnv(t, nil)
	n := 3000
	if testing.Short() {
		n = 600
	}
	rows := people(n, 1000)
	var msgs []kafka.Message
	for i := 0; i < len(rows); i += 200 { // several batches per partition
		msgs = append(msgs, e.upserts(fmt.Sprintf("b%d", i), rows[i:min(i+200, len(rows))]...)...)
	}
	e.produce(msgs...)

	r := e.start("g1", nil)
	s := r.waitMessages(t, int64(len(msgs)))
	checkRows(t, e, rows)
	if s.DeadLetters != 0 || len(s.Resources) != 1 || s.Resources[0].RowsApplied != int64(n) || s.Resources[0].Batches != int64(len(msgs)) {
		t.Fatalf("stats %+v", s)
	}
	if got := metricValue(t, r.reg, "tongban_hub_ingest_rows_total", map[string]string{"resource": testRes, "outcome": "applied"}); got != float64(n) {
		t.Fatalf("rows applied metric %v, want %d", got, n)
	}
	if got := metricValue(t, r.reg, "tongban_hub_ingest_batch_rows", nil); got != float64(len(msgs)) {
		t.Fatalf("batch size observations %v, want %d", got, len(msgs))
	}
	if got := metricValue(t, r.reg, "tongban_hub_store_write_seconds", nil); got < 1 {
		t.Fatal("no store write latency observed")
	}
	if got := metricValue(t, r.reg, "tongban_hub_ingest_last_timestamp_seconds", map[string]string{"resource": testRes}); got <= 0 {
		t.Fatal("no last ingest time")
	}
	before := e.dump()
	r.stop(t)

	// The group committed everything: its offsets are at the end of every partition.
	checkCommitted(t, e, "g1")

	// Replay everything under a new group (as after an offset reset): same store.
	r2 := e.start("g2", nil)
	s2 := r2.waitMessages(t, int64(len(msgs)))
	after := e.dump()
	if !slices.EqualFunc(before, after, func(a, b store.Record) bool {
		return a.Key == b.Key && a.Version == b.Version && a.Deleted == b.Deleted && string(a.Data) == string(b.Data) && a.BatchID == b.BatchID
	}) {
		t.Fatal("replay changed the store")
	}
	if s2.DeadLetters != 0 {
		t.Fatalf("replay stats %+v", s2)
	}
}

// checkCommitted checks that group has committed the end of every partition.
func checkCommitted(t *testing.T, e *env, group string) {
	t.Helper()
	client := &kafka.Client{Addr: kafka.TCP(e.brokers...), Timeout: 10 * time.Second}
	ctx := context.Background()
	parts := make([]int, testParts)
	for i := range parts {
		parts[i] = i
	}
	off, err := client.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{testTopic: parts}})
	if err != nil {
		t.Fatal(err)
	}
	var req []kafka.OffsetRequest
	for _, p := range parts {
		req = append(req, kafka.LastOffsetOf(p))
	}
	last, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{testTopic: req}})
	if err != nil {
		t.Fatal(err)
	}
	ends := map[int]int64{}
	for _, po := range last.Topics[testTopic] {
		ends[po.Partition] = po.LastOffset
	}
	for _, po := range off.Topics[testTopic] {
		end := ends[po.Partition]
		if end > 0 && po.CommittedOffset != end {
			t.Errorf("partition %d: committed %d, end %d", po.Partition, po.CommittedOffset, end)
		}
	}
}

func TestVersionRuleAndTombstones(t *testing.T) {
	testVersionRuleAndTombstones(t, newEnv(t, nil))
}

func testVersionRuleAndTombstones(t *testing.T, e *env) {
	r := e.start("g", nil)
	a, b := people(2, 0)[0], people(2, 0)[1]

	newer, older := a, a
	newer.version, newer.name = 200, "新"
	older.version, older.name = 100, "旧"
	e.produce(e.upserts("new", newer)...)
	r.waitMessages(t, 1)
	e.produce(e.upserts("old", older)...)
	r.waitMessages(t, 2)
	checkRows(t, e, []row{newer})
	if got := metricValue(t, r.reg, "tongban_hub_ingest_rows_total", map[string]string{"resource": testRes, "outcome": "skipped"}); got != 1 {
		t.Fatalf("skipped rows %v, want 1", got)
	}

	// A tombstone newer than the row deletes it; an older upsert does not
	// resurrect it; a newer one does.
	b.version = 50
	e.produce(e.upserts("b", b)...)
	r.waitMessages(t, 3)
	e.produce(e.deletes("del", 300, a.id, b.id))
	r.waitMessages(t, 4)
	for _, id := range []string{a.id, b.id} {
		rec, ok, err := e.db.GetRecord(context.Background(), testRes, id)
		if err != nil || !ok || !rec.Deleted || rec.Version != 300 || rec.Data != nil {
			t.Fatalf("after tombstone %s: %+v %v %v", id, rec, ok, err)
		}
	}
	if live, _ := e.db.ListKeys(context.Background(), testRes, "", 10); len(live) != 0 {
		t.Fatalf("live keys after tombstones: %v", live)
	}
	stale := a
	stale.version = 250
	e.produce(e.upserts("stale", stale)...)
	r.waitMessages(t, 5)
	if rec, _, _ := e.db.GetRecord(context.Background(), testRes, a.id); !rec.Deleted {
		t.Fatal("an older upsert resurrected a deleted row")
	}
	again := a
	again.version, again.name = 400, "重新登记"
	e.produce(e.upserts("again", again)...)
	r.waitMessages(t, 6)
	rec, _, _ := e.db.GetRecord(context.Background(), testRes, a.id)
	if rec.Deleted || rec.Version != 400 || string(rec.Data) != again.wantData() {
		t.Fatalf("re-insert: %+v", rec)
	}
	r.stop(t)
}

// flakyStore fails the first failures ApplyRecords calls, as a database
// that is down would, and passes everything else to the real store.
type flakyStore struct {
	*store.DB
	failures int
	calls    int
}

func (f *flakyStore) ApplyRecords(ctx context.Context, recs []store.Record) (store.ApplyResult, error) {
	f.calls++
	if f.calls <= f.failures {
		return store.ApplyResult{}, fmt.Errorf("store: apply: dial tcp 127.0.0.1:3306: connection refused")
	}
	return f.DB.ApplyRecords(ctx, recs)
}

func TestStoreErrorsAreRetriedNotDeadLettered(t *testing.T) {
	e := newEnv(t, nil)
	flaky := &flakyStore{DB: e.db, failures: 3}
	rows := people(50, 7)
	e.produce(e.upserts("b", rows...)...)
	r := e.start("g", flaky)
	r.waitMessages(t, int64(len(e.upserts("b", rows...))))
	checkRows(t, e, rows)
	s := r.in.Stats()
	if s.DeadLetters != 0 || s.RetryErrors < 3 || s.LastError == "" || s.Retrying {
		t.Fatalf("stats %+v", s)
	}
	if got := metricValue(t, r.reg, "tongban_hub_ingest_errors_total", map[string]string{"op": "store_apply"}); got != 3 {
		t.Fatalf("store error metric %v, want 3", got)
	}
	if n, _ := e.db.CountDeadLetters(context.Background()); n != 0 {
		t.Fatalf("%d dead letters for a store outage", n)
	}
}

func TestCancelFinishesAndCommits(t *testing.T) {
	e := newEnv(t, nil)
	rows := people(100, 1)
	msgs := e.upserts("b", rows...)
	e.produce(msgs...)
	r := e.start("g", nil)
	r.waitMessages(t, int64(len(msgs)))
	r.stop(t)
	checkCommitted(t, e, "g")
	// Restarting the same group finds nothing old to do: a new message is the
	// only one handled.
	r2 := e.start("g", nil)
	extra := people(101, 2)[100]
	e.produce(e.upserts("x", extra)...)
	r2.waitMessages(t, 1)
	checkRows(t, e, append(rows, extra))
}
