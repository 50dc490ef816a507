package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/tongban/tongban/agent/checkpoint"
	"github.com/tongban/tongban/schemas"
	"github.com/tongban/tongban/wire"
)

// A 100,000-row MariaDB table reaches the hub exactly once with equal values
// (Chinese, emoji, NULLs, decimals, dates, a GBK column); then an insert, an
// update and a delete at the source are reflected.
func TestSpine100kThenInsertUpdateDelete(t *testing.T) {
	n := 100_000
	if testing.Short() {
		n = 20_000
	}
	s := newSpine(t, spineOpts{rows: n, chunkRows: 5000, interval: "1s"})
	s.startHub()
	t0 := time.Now()
	s.startAgent()
	s.waitLive(int64(n), 5*time.Minute)
	el := time.Since(t0)
	t.Logf("%d rows MariaDB → agent → Kafka → hub in %s (%.0f rows/s, including agent start-up)", n, el.Round(time.Millisecond), float64(n)/el.Seconds())
	s.checkExactlyOnce(n, nil, nil)

	// Changes after the snapshot.
	now := time.Now().UTC().Truncate(time.Microsecond)
	override := map[int]sourceRow{}
	for i := n; i < n+5; i++ { // inserts
		r := genRow(i)
		r.updatedAt, r.updatedTxt = now, now.Format("2006-01-02T15:04:05.000000")
		override[i] = r
		if _, err := s.db.Exec("INSERT INTO people VALUES (?,?,?,?,?,?,?)", r.args()...); err != nil {
			t.Fatal(err)
		}
	}
	for _, i := range []int{10, 5000, n - 1} { // updates
		r := genRow(i)
		r.name, r.note, r.amount = "更新后的名字", "已更新", "99999.99"
		r.updatedAt, r.updatedTxt = now, now.Format("2006-01-02T15:04:05.000000")
		override[i] = r
		if _, err := s.db.Exec("UPDATE people SET name=?, note=?, amount=?, updated_at=? WHERE id=?", r.name, r.note, r.amount, now.Format("2006-01-02 15:04:05.000000"), r.id); err != nil {
			t.Fatal(err)
		}
	}
	deleted := map[int]bool{20: true, 30000 % n: true}
	for i := range deleted {
		if _, err := s.db.Exec("DELETE FROM people WHERE id=?", genRow(i).id); err != nil {
			t.Fatal(err)
		}
	}
	t1 := time.Now()
	total := n + 5
	waitFor(t, "insert, update and delete at the hub", 2*time.Minute, func() (bool, string) {
		recs, err := s.hubRecords(false)
		if err != nil {
			return false, err.Error()
		}
		if len(recs) != total-len(deleted) {
			return false, fmt.Sprintf("%d live", len(recs))
		}
		for i, r := range override {
			if got, ok := recs[fmt.Sprint(r.id)]; !ok || got.Data["name"] != r.name {
				return false, fmt.Sprintf("row %d not yet updated", i)
			}
		}
		return true, ""
	})
	t.Logf("insert+update+delete reflected after %s (sync and reconcile interval 1s)", time.Since(t1).Round(time.Millisecond))
	s.checkExactlyOnce(total, override, deleted)
}

// kill -9 the agent in the middle of its snapshot: after a restart every row
// is there once, and the agent resumed from its checkpoint, not from zero.
func TestAgentKill9MidSnapshot(t *testing.T) {
	// The kill waits for 30,000 rows acknowledged by Kafka (the agent's
	// checkpoint), well above the agent's in-flight window (its queue of
	// unacknowledged 500-row chunks, about 5,000 rows), so a resume resends
	// fewer rows than were acknowledged and a restart from zero more,
	// however far the hub's ingest lags behind the agent.
	n := 60_000
	s := newSpine(t, spineOpts{rows: n, chunkRows: 500, interval: "1s"})
	s.startHub()
	s.startAgent()
	cps, err := checkpoint.Open(filepath.Join(s.dir, "agent-state"))
	if err != nil {
		t.Fatal(err)
	}
	load := func() checkpoint.Checkpoint {
		cp, _, err := cps.Load(resCode)
		if err != nil {
			t.Fatal(err)
		}
		return cp
	}
	// Polled closely (not waitFor's 200 ms): the whole snapshot may take
	// well under a second.
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(2 * time.Millisecond) {
		cp := load()
		if cp.Phase == checkpoint.PhaseSnapshot && cp.SnapshotRows >= 30_000 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for the snapshot to be under way: %s", cp.Summary())
		}
	}
	s.agent.kill()
	cp := load()
	if cp.Phase != checkpoint.PhaseSnapshot || cp.SnapshotRows >= int64(n) {
		t.Fatalf("the snapshot was complete at the kill (%s); the test proves nothing", cp.Summary())
	}
	acked := cp.SnapshotRows
	atKill, err := s.liveCount()
	if err != nil {
		t.Fatal(err)
	}
	received0 := s.rowsReceived()
	s.startAgent()
	s.waitLive(int64(n), 3*time.Minute)
	s.checkExactlyOnce(n, nil, nil)
	// Every row the hub received in all: a restart from zero would resend
	// at least the rows acknowledged before the kill.
	received := s.rowsReceived()
	resent := received - int64(n)
	// Besides the resumed snapshot's in-flight rows, the incremental polls
	// after it re-read the overlap window until the table has been quiet
	// for an overlap: about 9,000 rows here (three polls of the last three
	// seconds of watermarks), far fewer than were acknowledged.
	t.Logf("killed at %d rows acknowledged by Kafka (%d live at the hub, %d received); after restart %d rows received in all, %d sent twice",
		acked, atKill, received0, received, resent)
	if resent >= acked {
		t.Fatalf("%d rows were sent twice, at least the %d acknowledged before the kill: the agent restarted its snapshot from zero", resent, acked)
	}
}

// rowsReceived is the number of rows the hub applied or skipped as not newer.
func (s *spine) rowsReceived() int64 {
	var st struct {
		Resources []struct {
			Resource    string `json:"resource"`
			RowsApplied int64  `json:"rows_applied"`
			RowsSkipped int64  `json:"rows_skipped"`
		} `json:"resources"`
	}
	if _, err := apiGet("http://"+s.hubAddr, s.admin, "/api/v1/ingest/stats", &st); err != nil {
		s.t.Fatal(err)
	}
	for _, r := range st.Resources {
		if r.Resource == resCode {
			return r.RowsApplied + r.RowsSkipped
		}
	}
	return 0
}

// Stop and restart the embedded broker while the agent produces: nothing lost,
// nothing duplicated.
func TestBrokerRestartWhileProducing(t *testing.T) {
	n := 40_000
	s := newSpine(t, spineOpts{rows: n, chunkRows: 500, interval: "1s"})
	s.startHub()
	s.startAgent()
	waitFor(t, "production under way", 2*time.Minute, func() (bool, string) {
		c, err := s.liveCount()
		return err == nil && c >= 2000, fmt.Sprint(c, err)
	})
	addr := s.brokerAddr
	s.broker.Close()
	time.Sleep(2 * time.Second) // an outage the agent and hub must ride out
	s.startBroker(addr)
	s.waitLive(int64(n), 3*time.Minute)
	s.checkExactlyOnce(n, nil, nil)
	if s.agent.exited() || s.hub.exited() {
		t.Fatal("a process exited during the broker outage")
	}
}

// kill -9 the hub mid-ingest, restart it: nothing lost, nothing duplicated.
func TestHubKill9MidIngest(t *testing.T) {
	n := 40_000
	s := newSpine(t, spineOpts{rows: n, chunkRows: 500, interval: "1s"})
	s.startHub()
	s.startAgent()
	waitFor(t, "ingest under way", 2*time.Minute, func() (bool, string) {
		c, err := s.liveCount()
		return err == nil && c >= 3000, fmt.Sprint(c, err)
	})
	s.hub.kill()
	s.startHub()
	s.waitLive(int64(n), 3*time.Minute)
	s.checkExactlyOnce(n, nil, nil)
}

// Garbage and a batch with a wrong fingerprint on the ingest topic become dead
// letters with clear reasons; the hub keeps running and ingesting.
func TestBadMessagesBecomeDeadLetters(t *testing.T) {
	n := 1000
	s := newSpine(t, spineOpts{rows: n})
	s.startHub()
	w := &kafka.Writer{Addr: kafka.TCP(s.brokerAddr), Topic: wire.DefaultIngestTopic, RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond}
	defer w.Close()
	// A real batch of the resource's shape, but with a fingerprint no schema version has.
	ty := func(s string) schemas.Type { t, _ := schemas.ParseType(s); return t }
	sch := schemas.Schema{Fields: []schemas.Field{{Name: "id", Type: ty("int64")}, {Name: "citizen_id", Type: ty("string")}}}
	b := wire.NewBuilder(nil, sch)
	if err := b.Append([]any{int64(1), "x"}, 1); err != nil {
		t.Fatal(err)
	}
	rec := b.NewRecord()
	payload, err := wire.EncodeRecord(rec)
	rec.Release()
	b.Release()
	if err != nil {
		t.Fatal(err)
	}
	meta := wire.Meta{Resource: resCode, Dept: deptCode, Fingerprint: "deadbeefdeadbeef", SchemaVersion: 1, BatchID: "e2e-wrong-fp", Op: wire.OpUpsert}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.WriteMessages(ctx,
		kafka.Message{Value: []byte("this is not an Arrow batch")},
		wire.Message(meta, payload),
	); err != nil {
		t.Fatal(err)
	}
	var dls struct {
		DeadLetters []struct {
			BatchID string `json:"batch_id"`
			Reason  string `json:"reason"`
		} `json:"dead_letters"`
	}
	waitFor(t, "two dead letters", time.Minute, func() (bool, string) {
		if _, err := apiGet("http://"+s.hubAddr, s.admin, "/api/v1/deadletters?limit=10", &dls); err != nil {
			return false, err.Error()
		}
		return len(dls.DeadLetters) >= 2, fmt.Sprint(len(dls.DeadLetters))
	})
	var reasons []string
	for _, d := range dls.DeadLetters {
		reasons = append(reasons, d.Reason)
	}
	all := strings.Join(reasons, " | ")
	if !strings.Contains(all, "fingerprint") || !strings.Contains(all, wire.HeaderResource) {
		t.Errorf("reasons do not name the problems: %s", all)
	}
	// The hub still ingests good data.
	s.startAgent()
	s.waitLive(int64(n), 2*time.Minute)
	s.checkExactlyOnce(n, nil, nil)
}

// An invalid agent config and an invalid catalog stop start-up with an error
// naming the file and the key.
func TestBadConfigAndCatalogAreNamed(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "agent.yaml")
	writeFile(t, bad, "dept: X\nhub:\n  url: http://127.0.0.1:1\nkafka:\n  brokers: [127.0.0.1:1]\nresources:\n  - code: R-1\n    mode: sometimes\n    chunk_rows: -5\n")
	out, err := run(t, "agent", "-config", bad, "-check-config")
	if err == nil {
		t.Fatalf("agent accepted a bad config:\n%s", out)
	}
	for _, want := range []string{"agent.yaml", "mode", "chunk_rows"} {
		if !strings.Contains(out, want) {
			t.Errorf("agent error does not name %q:\n%s", want, out)
		}
	}

	cat := filepath.Join(dir, "catalog")
	writeFile(t, filepath.Join(cat, "departments.yaml"), catalogDepartments)
	writeFile(t, filepath.Join(cat, "resources/people.yaml"), strings.Replace(catalogResource, "type: \"decimal(18,2)\"", "type: money", 1))
	hubCfg := filepath.Join(dir, "hub.yaml")
	writeFile(t, hubCfg, fmt.Sprintf("sharing:\n  lists_dir: \"\"\nstore:\n  dsn: %q\ncatalog_dir: %q\nlisten: %q\nkafka:\n  embedded:\n    addr: 127.0.0.1:0\n    dir: %q\n",
		filepath.Join(dir, "hub.db"), cat, freeAddr(t), filepath.Join(dir, "kafka")))
	out, err = run(t, "hub", "-config", hubCfg)
	if err == nil {
		t.Fatalf("hub started with a bad catalog:\n%s", out)
	}
	for _, want := range []string{"people.yaml", "type", "money"} {
		if !strings.Contains(out, want) {
			t.Errorf("hub error does not name %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "hub.db")); err == nil {
		t.Log("note: the store file was created before the catalog was rejected")
	}
}
