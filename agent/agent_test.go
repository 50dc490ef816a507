package agent

import (
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/tongban/tongban/agent/checkpoint"
	"github.com/tongban/tongban/wire"
)

func snapshotRows() int {
	if testing.Short() {
		return 5000
	}
	return 20000
}

// TestSnapshotArrivesExactlyOnce: a full snapshot of the table arrives on
// Kafka exactly once, with equal values, each row on its subject's partition.
func TestSnapshotArrivesExactlyOnce(t *testing.T) {
	n := snapshotRows()
	db := newTestDB(t)
	db.insertRows(t, 1, n)
	kb := newTestBroker(t)
	hub := newTestHub(t)
	state := t.TempDir()
	ra := startAgent(t, agentYAML(hub.srv.URL, kb.addr, state, db.dsn, agentSettings{mode: "snapshot", chunkRows: 1000, interval: "1h"}))

	waitFor(t, "the snapshot to complete", 2*time.Minute, func() (bool, string) {
		cp, ok := loadCheckpoint(t, state)
		return ok && cp.Phase == checkpoint.PhaseIdle, fmt.Sprintf("%+v", cp)
	})
	cp, _ := loadCheckpoint(t, state)
	if cp.SnapshotRows != int64(n) {
		t.Errorf("checkpoint counts %d snapshot rows, want %d", cp.SnapshotRows, n)
	}

	recs := readAll(t, kb.addr)
	if len(recs) != n {
		t.Errorf("Kafka holds %d rows, want exactly %d", len(recs), n)
	}
	keys := distinctKeys(recs, wire.OpUpsert)
	if len(keys) != n {
		t.Errorf("Kafka holds %d distinct keys, want %d", len(keys), n)
	}
	for k, c := range keys {
		if c != 1 {
			t.Errorf("key %s arrived %d times", k, c)
		}
	}
	fp := testCatalogResource(t).Schema.Fingerprint()
	checked := 0
	for _, r := range recs {
		id := keyInt(t, r.key)
		if id < 1 || id > n {
			t.Fatalf("unexpected key %d", id)
		}
		if want := wire.Partition(r.values["citizen_id"].(string), testParts); r.partition != want || r.meta.Partition != want {
			t.Errorf("key %d on partition %d (header %d), want %d", id, r.partition, r.meta.Partition, want)
		}
		if r.meta.Resource != testResource || r.meta.Dept != testDept || r.meta.Fingerprint != fp || r.meta.SchemaVersion != 1 || r.op != wire.OpUpsert {
			t.Fatalf("headers %+v", r.meta)
		}
		if wantCols := []string{"id", "citizen_id", "name", "amount", "birth", "_version"}; !reflect.DeepEqual(r.columns, wantCols) {
			t.Fatalf("columns %v, want %v", r.columns, wantCols)
		}
		if id%97 == 0 || id%10 == 0 {
			if want := sourceRow(id); !reflect.DeepEqual(r.values, want) {
				t.Errorf("row %d = %v, want %v", id, r.values, want)
			}
			checked++
		}
	}
	if checked == 0 {
		t.Error("no row values checked")
	}

	// Metrics and heartbeat report the work.
	m := ra.a.Metrics()
	if got := metricValue(t, m.RowsAcked.WithLabelValues(testResource)); got != float64(n) {
		t.Errorf("rows_acked_total = %v, want %d", got, n)
	}
	resp, err := http.Get("http://" + ra.a.MetricsAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, name := range []string{"tongban_agent_rows_read_total", "tongban_agent_batch_rows_bucket", "tongban_agent_kafka_write_seconds_bucket",
		"tongban_agent_checkpoint_lag_seconds", "tongban_agent_queue_depth", `tongban_agent_phase{phase="idle",resource="TB-TEST-001"} 1`} {
		if !strings.Contains(string(body), name) {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	waitFor(t, "a heartbeat reporting the snapshot", 30*time.Second, func() (bool, string) {
		hb, ok := hub.lastHeartbeat()
		ok = ok && len(hb.Resources) == 1 && hb.Resources[0].Phase == checkpoint.PhaseIdle && hb.Resources[0].RowsAcked == int64(n) &&
			hb.AgentID == "test-agent" && hb.Version == "test"
		return ok, fmt.Sprintf("%+v", hb)
	})
}

// TestResumesMidSnapshot stops the agent after some chunks and restarts it:
// the second run starts after the checkpoint's key, and together the runs
// send every row exactly once (the stop is graceful).
func TestResumesMidSnapshot(t *testing.T) {
	n := snapshotRows()
	db := newTestDB(t)
	db.insertRows(t, 1, n)
	kb := newTestBroker(t)
	hub := newTestHub(t)
	state := t.TempDir()
	yaml := agentYAML(hub.srv.URL, kb.addr, state, db.dsn, agentSettings{mode: "incremental", chunkRows: 200, interval: "1h", queueChunks: 1})

	first := startAgent(t, yaml)
	waitFor(t, "some snapshot chunks acknowledged", 2*time.Minute, func() (bool, string) {
		cp, ok := loadCheckpoint(t, state)
		return ok && cp.SnapshotRows >= int64(n/4), fmt.Sprintf("%+v", cp)
	})
	first.stop(t)
	cp, _ := loadCheckpoint(t, state)
	if cp.Phase != checkpoint.PhaseSnapshot || len(cp.SnapshotLastKey) != 1 || cp.SnapshotStartWatermark == "" {
		t.Fatalf("checkpoint after the stop: %+v", cp)
	}
	resumeAfter := keyInt(t, cp.SnapshotLastKey[0])
	if resumeAfter >= n {
		t.Fatalf("the first run finished the snapshot (last key %d); nothing to resume", resumeAfter)
	}
	firstRun := readAll(t, kb.addr)
	if len(firstRun) != int(cp.SnapshotRows) {
		t.Errorf("first run put %d rows on Kafka, its checkpoint acknowledges %d", len(firstRun), cp.SnapshotRows)
	}

	second := startAgent(t, yaml)
	waitFor(t, "the snapshot to complete", 2*time.Minute, func() (bool, string) {
		cp, ok := loadCheckpoint(t, state)
		return ok && cp.Phase == checkpoint.PhaseIncremental, fmt.Sprintf("%+v", cp)
	})
	second.stop(t)

	recs := readAll(t, kb.addr)
	runs := sortedRuns(recs)
	if len(runs) != 2 {
		t.Fatalf("messages come from %d pipeline runs, want 2", len(runs))
	}
	secondRows := 0
	for _, r := range recs {
		if r.runID != runs[1] {
			continue
		}
		secondRows++
		if id := keyInt(t, r.key); id <= resumeAfter {
			t.Errorf("second run sent key %d, at or before the checkpoint's key %d", id, resumeAfter)
		}
	}
	if want := n - resumeAfter; secondRows < want {
		t.Errorf("second run sent %d rows, want at least the %d after the checkpoint", secondRows, want)
	}
	keys := distinctKeys(recs, wire.OpUpsert)
	if len(keys) != n {
		t.Errorf("%d distinct keys on Kafka, want %d", len(keys), n)
	}
	// The snapshot rows (before the incremental phase re-reads the overlap
	// window) are exactly one per row.
	snapshot := 0
	for _, c := range keys {
		snapshot += min(c, 1)
	}
	if snapshot != n {
		t.Errorf("snapshot covered %d rows, want %d", snapshot, n)
	}
	dups := len(recs) - n
	// The incremental phase may re-read the rows within the overlap of the
	// snapshot's start watermark (1s: at most a couple of rows here).
	if dups < 0 || dups > 5 {
		t.Errorf("%d rows on Kafka for %d keys: %d extra", len(recs), n, dups)
	}
}

// TestIncrementalPicksUpInsertAndUpdate: after the snapshot, an insert and
// an update at the source reach Kafka within the following polls.
func TestIncrementalPicksUpInsertAndUpdate(t *testing.T) {
	const n = 300
	db := newTestDB(t)
	db.insertRows(t, 1, n)
	kb := newTestBroker(t)
	hub := newTestHub(t)
	state := t.TempDir()
	startAgent(t, agentYAML(hub.srv.URL, kb.addr, state, db.dsn, agentSettings{mode: "incremental", chunkRows: 100, interval: "100ms"}))
	waitCaughtUp(t, state)

	db.exec(t, "INSERT INTO person (id, citizen_id, name, amount, birth, updated_at) VALUES (?, ?, ?, ?, ?, NOW(6))",
		n+1, "230600000000009999", "新来的李四", "1.50", "2001-02-03")
	db.exec(t, "UPDATE person SET name = ?, amount = ?, updated_at = NOW(6) WHERE id = ?", "改名王五", "99.99", 7)

	waitFor(t, "the insert and the update on Kafka", time.Minute, func() (bool, string) {
		var inserted, updated bool
		for _, r := range readAll(t, kb.addr) {
			switch keyInt(t, r.key) {
			case n + 1:
				inserted = inserted || r.values["name"] == "新来的李四" && r.values["amount"] == "1.50"
			case 7:
				updated = updated || r.values["name"] == "改名王五" && r.values["amount"] == "99.99"
			}
		}
		return inserted && updated, fmt.Sprintf("inserted=%v updated=%v", inserted, updated)
	})
	// The update's version is newer than the row's snapshot version.
	var snapV, updV int64
	for _, r := range readAll(t, kb.addr) {
		if r.key == "7" {
			if r.values["name"] == "改名王五" {
				updV = max(updV, r.version)
			} else if snapV == 0 {
				snapV = r.version
			}
		}
	}
	if updV <= snapV {
		t.Errorf("update version %d is not newer than the snapshot version %d", updV, snapV)
	}
	cp, _ := loadCheckpoint(t, state)
	if cp.Watermark == "" || compareText(cp.Watermark, cp.SnapshotStartWatermark) <= 0 {
		t.Errorf("watermark %q did not advance past the snapshot start %q", cp.Watermark, cp.SnapshotStartWatermark)
	}
}

func compareText(a, b string) int { return strings.Compare(a, b) }

// TestQuietTableStopsRereading: after a burst of updates, the change polls
// re-read the overlap window only until it has passed; then they read
// nothing (the rows are not sent again), and a later change is still picked
// up. Before, every poll of a quiet table re-sent the window for ever.
func TestQuietTableStopsRereading(t *testing.T) {
	const n, updated = 100, 40
	db := newTestDB(t)
	db.insertRows(t, 1, n)
	kb := newTestBroker(t)
	hub := newTestHub(t)
	state := t.TempDir()
	startAgent(t, agentYAML(hub.srv.URL, kb.addr, state, db.dsn, agentSettings{mode: "incremental", chunkRows: 100, interval: "50ms", overlap: "300ms"}))
	waitCaughtUp(t, state)

	db.exec(t, "UPDATE person SET name = '批量更新', updated_at = NOW(6) WHERE id <= ?", updated)
	copies := func(name string) int {
		c := 0
		for _, r := range readAll(t, kb.addr) {
			if r.values["name"] == name {
				c++
			}
		}
		return c
	}
	// Stable: ten polls in a row (checkpointed cycles, each after its rows
	// were acknowledged) sent no copy of the updated rows.
	var (
		last, stable int
		lastCycle    time.Time
	)
	waitFor(t, "the change polls to stop re-sending the updated rows", time.Minute, func() (bool, string) {
		cp, _ := loadCheckpoint(t, state)
		c := copies("批量更新")
		switch {
		case c != last:
			last, stable, lastCycle = c, 0, cp.CaughtUpAt
		case !cp.CaughtUpAt.Equal(lastCycle):
			stable++
			lastCycle = cp.CaughtUpAt
		}
		return c >= updated && stable >= 10, fmt.Sprintf("%d copies of %d updated rows, %d polls since the last one", c, updated, stable)
	})
	if last%updated != 0 {
		t.Errorf("%d copies of the %d updated rows: not whole re-reads", last, updated)
	}

	db.exec(t, "INSERT INTO person (id, citizen_id, name, amount, birth, updated_at) VALUES (?, ?, ?, ?, ?, NOW(6))",
		n+1, "230600000000009998", "安静之后", "2.00", "2001-02-03")
	waitFor(t, "the insert after the quiet period on Kafka", time.Minute, func() (bool, string) {
		c := copies("安静之后") // and again while its own overlap lasts
		return c >= 1, fmt.Sprintf("%d copies", c)
	})
}

// TestReconcileSendsTombstone: a row deleted at the source is deleted at the
// hub by a tombstone, and no other key is touched, although the source
// orders its integer keys numerically and the hub by text.
func TestReconcileSendsTombstone(t *testing.T) {
	const n = 400
	db := newTestDB(t)
	db.insertRows(t, 1, n)
	kb := newTestBroker(t)
	hub := newTestHub(t)
	state := t.TempDir()
	startAgent(t, agentYAML(hub.srv.URL, kb.addr, state, db.dsn, agentSettings{mode: "incremental", chunkRows: 100, interval: "100ms", reconcileInterval: "200ms"}))

	// The test hub learns the keys from Kafka, as the real one does.
	waitFor(t, "the hub to hold every row", time.Minute, func() (bool, string) {
		hub.apply(readAll(t, kb.addr))
		return hub.liveKeys() == n, fmt.Sprintf("%d live keys", hub.liveKeys())
	})
	cp, _ := loadCheckpoint(t, state)
	reconciledBefore := cp.ReconciledAt

	const gone = 123
	db.exec(t, "DELETE FROM person WHERE id = ?", gone)
	var tomb record
	waitFor(t, "a tombstone for the deleted row", time.Minute, func() (bool, string) {
		recs := readAll(t, kb.addr)
		hub.apply(recs)
		for _, r := range recs {
			if r.op == wire.OpDelete {
				tomb = r
				if r.key == fmt.Sprint(gone) {
					return true, ""
				}
			}
		}
		return false, fmt.Sprintf("%d live keys at the hub", hub.liveKeys())
	})
	// Only that key is ever tombstoned, however many reconciles ran.
	waitFor(t, "another reconcile after the tombstone", time.Minute, func() (bool, string) {
		cp, _ := loadCheckpoint(t, state)
		return cp.ReconciledAt.After(reconciledBefore.Add(time.Second)), cp.ReconciledAt.String()
	})
	recs := readAll(t, kb.addr)
	for k := range distinctKeys(recs, wire.OpDelete) {
		if k != fmt.Sprint(gone) {
			t.Errorf("tombstone for key %s, which the source still has", k)
		}
	}
	if want := []string{"id", "_version"}; !reflect.DeepEqual(tomb.columns, want) {
		t.Errorf("tombstone columns %v, want %v", tomb.columns, want)
	}
	if want := wire.Partition(wire.RecordKey([]string{fmt.Sprint(gone)}), testParts); tomb.partition != want {
		t.Errorf("tombstone on partition %d, want %d (record key)", tomb.partition, want)
	}
	var upsertV int64
	for _, r := range recs {
		if r.key == fmt.Sprint(gone) && r.op == wire.OpUpsert {
			upsertV = max(upsertV, r.version)
		}
	}
	if tomb.version <= upsertV {
		t.Errorf("tombstone version %d is not newer than the row's %d", tomb.version, upsertV)
	}
	if hub.liveKeys() != n-1 {
		t.Errorf("hub has %d live keys, want %d", hub.liveKeys(), n-1)
	}
}

// TestKafkaOutage closes the broker mid-snapshot and starts a new one on the
// same port and data dir: the agent keeps its position while Kafka is down,
// reports it, and completes afterwards with nothing lost.
func TestKafkaOutage(t *testing.T) {
	n := snapshotRows() / 2
	db := newTestDB(t)
	db.insertRows(t, 1, n)
	kb := newTestBroker(t)
	hub := newTestHub(t)
	state := t.TempDir()
	ra := startAgent(t, agentYAML(hub.srv.URL, kb.addr, state, db.dsn,
		agentSettings{mode: "snapshot", chunkRows: 250, interval: "1h", writeTimeout: "2s", queueChunks: 1}))
	waitFor(t, "some chunks acknowledged", time.Minute, func() (bool, string) {
		cp, ok := loadCheckpoint(t, state)
		return ok && cp.SnapshotRows >= 500, fmt.Sprintf("%+v", cp)
	})
	kb.stop()

	writeErrors := func() float64 { return metricValue(t, ra.a.Metrics().KafkaWriteErrors.WithLabelValues(testResource)) }
	waitFor(t, "the agent to notice Kafka is down", time.Minute, func() (bool, string) {
		return writeErrors() >= 1, ""
	})
	down, _ := loadCheckpoint(t, state)
	waitFor(t, "more failed attempts", time.Minute, func() (bool, string) {
		return writeErrors() >= 3, fmt.Sprint(writeErrors())
	})
	still, _ := loadCheckpoint(t, state)
	if still.SnapshotRows != down.SnapshotRows || !reflect.DeepEqual(still.SnapshotLastKey, down.SnapshotLastKey) {
		t.Fatalf("checkpoint moved while Kafka was down: %+v then %+v", down, still)
	}
	waitFor(t, "a heartbeat reporting the Kafka error", 30*time.Second, func() (bool, string) {
		hb, ok := hub.lastHeartbeat()
		return ok && len(hb.Resources) == 1 && strings.Contains(hb.Resources[0].LastError, "kafka"), fmt.Sprintf("%+v", hb)
	})

	kb.restart(t)
	waitFor(t, "the snapshot to complete after the broker returned", 2*time.Minute, func() (bool, string) {
		cp, ok := loadCheckpoint(t, state)
		return ok && cp.Phase == checkpoint.PhaseIdle, fmt.Sprintf("%+v", cp)
	})
	recs := readAll(t, kb.addr)
	keys := distinctKeys(recs, wire.OpUpsert)
	if len(keys) != n {
		t.Errorf("%d distinct keys on Kafka after the outage, want %d", len(keys), n)
	}
	for i := 1; i <= n; i++ {
		if keys[fmt.Sprint(i)] == 0 {
			t.Errorf("row %d lost", i)
			break
		}
	}
	t.Logf("outage: %d rows on Kafka for %d keys (%d re-sent), %v failed write attempts", len(recs), n, len(recs)-n, writeErrors())
	waitFor(t, "the Kafka error to clear from the heartbeat", 30*time.Second, func() (bool, string) {
		hb, ok := hub.lastHeartbeat()
		return ok && len(hb.Resources) == 1 && hb.Resources[0].LastError == "", fmt.Sprintf("%+v", hb)
	})
}

// metricValue reads a counter or gauge.
func metricValue(t *testing.T, m prometheus.Metric) float64 {
	t.Helper()
	var d dto.Metric
	if err := m.Write(&d); err != nil {
		t.Fatal(err)
	}
	switch {
	case d.Counter != nil:
		return d.Counter.GetValue()
	case d.Gauge != nil:
		return d.Gauge.GetValue()
	}
	t.Fatalf("metric %v is neither a counter nor a gauge", m.Desc())
	return 0
}
