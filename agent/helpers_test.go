package agent

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	"github.com/segmentio/kafka-go"

	"github.com/tongban/tongban/agent/checkpoint"
	"github.com/tongban/tongban/agent/config"
	"github.com/tongban/tongban/agent/hubclient"
	"github.com/tongban/tongban/agent/pipeline"
	"github.com/tongban/tongban/broker"
	"github.com/tongban/tongban/catalog"
	"github.com/tongban/tongban/connectors/builtin"
	"github.com/tongban/tongban/schemas"
	"github.com/tongban/tongban/topics"
	"github.com/tongban/tongban/wire"
)

// connectorEnv makes the test binary serve a built-in connector: the agent
// under test starts it as its plugin process, as it starts itself in production.
const connectorEnv = "TONGBAN_AGENT_TEST_CONNECTOR"

func TestMain(m *testing.M) {
	if name := os.Getenv(connectorEnv); name != "" {
		if err := builtin.Serve(name, os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

const (
	testToken    = "test-dept-token"
	testDept     = "1123060001281401X7"
	testResource = "TB-TEST-001"
	testTopic    = "tb.test.ingest"
	testParts    = 6
)

// testCatalogResource is the catalog definition the test hub hands out:
// subject person by citizen_id, primary key id (so tombstones are
// partitioned by record key), an integer key whose text order is not its
// numeric order.
func testCatalogResource(t testing.TB) catalog.Resource {
	t.Helper()
	field := func(name, typ string, nullable bool) schemas.Field {
		ty, err := schemas.ParseType(typ)
		if err != nil {
			t.Fatal(err)
		}
		return schemas.Field{Name: name, Type: ty, Nullable: nullable}
	}
	return catalog.Resource{
		Code: testResource, Name: "测试人口", Provider: testDept,
		Subject:    catalog.Subject{Type: catalog.SubjectPerson, Field: "citizen_id"},
		PrimaryKey: []string{"id"},
		Schema: schemas.Schema{Fields: []schemas.Field{
			field("id", "int64", false),
			field("citizen_id", "string", false),
			field("name", "string", true),
			field("amount", "decimal(12,2)", true),
			field("birth", "date", true),
		}},
		ShareType: catalog.ShareUnconditional, OpenType: catalog.OpenClosed, UpdateCycle: catalog.CycleDaily, Format: catalog.FormatTable,
	}
}

// ---- MariaDB ----

type testDB struct {
	db   *sql.DB
	name string
	dsn  string
}

// newTestDB creates tb_test_<random> with the person table and drops it
// after the test. MariaDB must be reachable: the test fails otherwise.
func newTestDB(t *testing.T) *testDB {
	t.Helper()
	root, err := sql.Open("mysql", "root@tcp(127.0.0.1:3306)/?multiStatements=true")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := root.PingContext(ctx); err != nil {
		root.Close()
		t.Fatalf("MariaDB at 127.0.0.1:3306 (root, no password) is unreachable: %v — start it (scripts/test.sh does)", err)
	}
	name := fmt.Sprintf("tb_test_%d", rand.Uint64()%1_000_000_000_000)
	if _, err := root.Exec("CREATE DATABASE " + name + " CHARACTER SET utf8mb4"); err != nil {
		root.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := root.Exec("DROP DATABASE IF EXISTS " + name); err != nil {
			t.Errorf("drop %s: %v", name, err)
		}
		root.Close()
	})
	dsn := "root@tcp(127.0.0.1:3306)/" + name
	db, err := sql.Open("mysql", dsn+"?parseTime=false")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(`CREATE TABLE person (
  id BIGINT NOT NULL PRIMARY KEY,
  citizen_id VARCHAR(18) NOT NULL,
  name VARCHAR(50) CHARACTER SET utf8mb4 NULL,
  amount DECIMAL(12,2) NULL,
  birth DATE NULL,
  updated_at DATETIME(6) NOT NULL
) ENGINE=InnoDB`); err != nil {
		t.Fatal(err)
	}
	return &testDB{db: db, name: name, dsn: dsn}
}

// sourceRow is the expected JSON form of row i as the hub would read it.
func sourceRow(i int) map[string]any {
	row := map[string]any{
		"id":         int64(i),
		"citizen_id": fmt.Sprintf("2306%014d", i),
		"name":       fmt.Sprintf("张三%d号😀", i),
		"amount":     fmt.Sprintf("%d.%02d", i*3, i%100),
		"birth":      fmt.Sprintf("19%02d-%02d-%02d", 50+i%50, 1+i%12, 1+i%28),
	}
	if i%10 == 0 {
		row["name"] = nil
		row["amount"] = nil
	}
	return row
}

// insertRows inserts rows lo..hi with watermarks in the past (distinct,
// ascending with the id, the latest one second before the database's now).
func (d *testDB) insertRows(t *testing.T, lo, hi int) {
	t.Helper()
	const per = 1000
	for start := lo; start <= hi; start += per {
		var b strings.Builder
		b.WriteString("INSERT INTO person (id, citizen_id, name, amount, birth, updated_at) VALUES ")
		var args []any
		for i := start; i <= min(hi, start+per-1); i++ {
			if i > start {
				b.WriteString(",")
			}
			b.WriteString("(?, ?, ?, ?, ?, NOW(6) - INTERVAL ? SECOND)")
			r := sourceRow(i)
			args = append(args, i, r["citizen_id"], r["name"], r["amount"], r["birth"], hi-i+1)
		}
		if _, err := d.db.Exec(b.String(), args...); err != nil {
			t.Fatal(err)
		}
	}
}

func (d *testDB) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	if _, err := d.db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// ---- Kafka ----

type testBroker struct {
	b    *broker.Broker
	addr string
	dir  string
}

func newTestBroker(t *testing.T) *testBroker {
	t.Helper()
	dir := t.TempDir()
	b, err := broker.Start(context.Background(), broker.Config{Dir: dir, Partitions: testParts})
	if err != nil {
		t.Fatal(err)
	}
	tb := &testBroker{b: b, addr: b.Addr(), dir: dir}
	t.Cleanup(func() {
		if tb.b != nil {
			tb.b.Close()
		}
	})
	if err := topics.Ensure(context.Background(), []string{tb.addr}, map[string]int{testTopic: testParts}); err != nil {
		t.Fatal(err)
	}
	return tb
}

func (tb *testBroker) stop() {
	tb.b.Close()
	tb.b = nil
}

// restart starts a new broker on the same port with the same data dir.
func (tb *testBroker) restart(t *testing.T) {
	t.Helper()
	b, err := broker.Start(context.Background(), broker.Config{Addr: tb.addr, Dir: tb.dir, Partitions: testParts})
	if err != nil {
		t.Fatal(err)
	}
	tb.b = b
}

// ---- what arrived on Kafka ----

// record is one row of one consumed message.
type record struct {
	runID     string // from the batch id: one per pipeline run
	batchID   string
	op        wire.Op
	partition int // the Kafka partition it was read from
	meta      wire.Meta
	key       string
	version   int64
	values    map[string]any
	columns   []string
}

// readAll consumes every message of the topic, up to the end offsets read
// when it is called, and returns their rows.
func readAll(t *testing.T, addr string) []record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out []record
	for p := 0; p < testParts; p++ {
		conn, err := kafka.DialLeader(ctx, "tcp", addr, testTopic, p)
		if err != nil {
			t.Fatal(err)
		}
		end, err := conn.ReadLastOffset()
		conn.Close()
		if err != nil {
			t.Fatal(err)
		}
		if end == 0 {
			continue
		}
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{addr}, Topic: testTopic, Partition: p, MaxWait: 50 * time.Millisecond, MaxBytes: 64 << 20})
		for {
			m, err := r.ReadMessage(ctx)
			if err != nil {
				r.Close()
				t.Fatalf("partition %d: %v", p, err)
			}
			out = append(out, decodeMessage(t, m)...)
			if m.Offset >= end-1 {
				break
			}
		}
		r.Close()
	}
	return out
}

func decodeMessage(t *testing.T, m kafka.Message) []record {
	t.Helper()
	meta, err := wire.ParseHeaders(m.Headers)
	if err != nil {
		t.Fatalf("message at %d/%d: %v", m.Partition, m.Offset, err)
	}
	rec, err := wire.DecodeRecord(m.Value)
	if err != nil {
		t.Fatalf("message %s: %v", meta.BatchID, err)
	}
	defer rec.Release()
	parts := strings.Split(meta.BatchID, "-")
	runID := parts[len(parts)-2]
	cols := make([]string, rec.NumCols())
	for i := range cols {
		cols[i] = rec.ColumnName(i)
	}
	var out []record
	for i := 0; i < int(rec.NumRows()); i++ {
		r := record{runID: runID, batchID: meta.BatchID, op: meta.Op, partition: m.Partition, meta: meta, values: map[string]any{}, columns: cols}
		for c, name := range cols {
			v := wire.Value(rec.Column(c), i)
			if name == schemas.VersionColumn {
				r.version = v.(int64)
				continue
			}
			r.values[name] = v
		}
		r.key = wire.Text(rec.Column(0), i) // id is the only key field
		out = append(out, r)
	}
	return out
}

// ---- a stand-in for the hub's HTTP API ----

// testHub implements only what the agent calls: register, heartbeat and
// the live keys, the latter from the records the test feeds it (applied
// by version like the hub's store).
type testHub struct {
	t   *testing.T
	srv *httptest.Server
	res catalog.Resource

	mu         sync.Mutex
	down       bool
	registers  int
	heartbeats []hubclient.Heartbeat
	keys       map[string]keyState
}

type keyState struct {
	version int64
	deleted bool
}

func newTestHub(t *testing.T) *testHub {
	h := &testHub{t: t, res: testCatalogResource(t), keys: map[string]keyState{}}
	h.srv = httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *testHub) serve(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	down := h.down
	h.mu.Unlock()
	if down {
		http.Error(w, `{"error":"down for the test"}`, http.StatusServiceUnavailable)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+testToken {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":"bad token"}`))
		return
	}
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/api/v1/agents/register":
		var req struct {
			AgentID   string   `json:"agent_id"`
			Dept      string   `json:"dept"`
			Resources []string `json:"resources"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Dept != testDept || req.AgentID == "" {
			http.Error(w, `{"error":"bad registration"}`, http.StatusBadRequest)
			return
		}
		for _, c := range req.Resources {
			if c != testResource {
				w.WriteHeader(http.StatusForbidden)
				_, _ = fmt.Fprintf(w, `{"error":"resource %s is not provided by the department","field":"resources"}`, c)
				return
			}
		}
		body, _ := json.Marshal(h.res)
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		m["schema_version"] = 1
		m["fingerprint"] = h.res.Schema.Fingerprint()
		h.mu.Lock()
		h.registers++
		h.mu.Unlock()
		_ = json.NewEncoder(w).Encode(map[string]any{"resources": []any{m}})
	case r.Method == http.MethodPost && r.URL.Path == "/api/v1/agents/heartbeat":
		var hb hubclient.Heartbeat
		if err := json.NewDecoder(r.Body).Decode(&hb); err != nil {
			http.Error(w, `{"error":"bad heartbeat"}`, http.StatusBadRequest)
			return
		}
		h.mu.Lock()
		h.heartbeats = append(h.heartbeats, hb)
		h.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodGet && r.URL.Path == "/api/v1/resources/"+testResource+"/keys":
		after := r.URL.Query().Get("after")
		limit, err := strconv.Atoi(r.URL.Query().Get("limit"))
		if err != nil || limit < 1 {
			http.Error(w, `{"error":"bad limit","field":"limit"}`, http.StatusBadRequest)
			return
		}
		limit = min(limit, 150) // pages smaller than asked, like a capped server
		h.mu.Lock()
		var live []string
		for k, s := range h.keys {
			if !s.deleted && k > after {
				live = append(live, k)
			}
		}
		sort.Strings(live)
		page := struct {
			Keys []hubclient.KeyVersion `json:"keys"`
			Next string                 `json:"next_after"`
		}{Keys: []hubclient.KeyVersion{}}
		for _, k := range live[:min(limit, len(live))] {
			page.Keys = append(page.Keys, hubclient.KeyVersion{Key: k, Version: h.keys[k].version})
		}
		if len(live) > limit {
			page.Next = live[limit-1]
		}
		h.mu.Unlock()
		_ = json.NewEncoder(w).Encode(page)
	default:
		http.Error(w, `{"error":"not found"}`, http.StatusNotFound)
	}
}

// apply stores records the way the hub does: a newer or equal version wins.
func (h *testHub) apply(recs []record) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range recs {
		if s, ok := h.keys[r.key]; ok && s.version > r.version {
			continue
		}
		h.keys[r.key] = keyState{version: r.version, deleted: r.op == wire.OpDelete}
	}
}

func (h *testHub) liveKeys() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, s := range h.keys {
		if !s.deleted {
			n++
		}
	}
	return n
}

func (h *testHub) lastHeartbeat() (hubclient.Heartbeat, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.heartbeats) == 0 {
		return hubclient.Heartbeat{}, false
	}
	return h.heartbeats[len(h.heartbeats)-1], true
}

// ---- running the agent ----

type agentSettings struct {
	mode              string
	chunkRows         int
	interval          string
	overlap           string
	reconcileInterval string
	queueChunks       int
	writeTimeout      string
}

func agentYAML(hub, brokerAddr, stateDir, dsn string, s agentSettings) string {
	if s.queueChunks == 0 {
		s.queueChunks = 2
	}
	if s.writeTimeout == "" {
		s.writeTimeout = "5s"
	}
	if s.overlap == "" {
		s.overlap = "1s"
	}
	if s.reconcileInterval == "" {
		s.reconcileInterval = "0"
	}
	return fmt.Sprintf(`dept: %s
agent_id: test-agent
hub:
  url: %s
  token: %s
  heartbeat_interval: 200ms
kafka:
  brokers: [%s]
  topic: %s
  write_timeout: %s
state_dir: %s
metrics_listen: 127.0.0.1:0
queue_chunks: %d
resources:
  - code: %s
    dsn: %q
    table: person
    watermark: updated_at
    mode: %s
    interval: %s
    overlap: %s
    reconcile_interval: %s
    chunk_rows: %d
`, testDept, hub, testToken, brokerAddr, testTopic, s.writeTimeout, stateDir, s.queueChunks, testResource, dsn,
		s.mode, s.interval, s.overlap, s.reconcileInterval, s.chunkRows)
}

type runningAgent struct {
	a      *Agent
	logs   *syncBuffer
	cancel context.CancelFunc
	done   chan error
}

func startAgent(t *testing.T, yaml string) *runningAgent {
	t.Helper()
	cfg, err := config.Parse("test-agent.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	logBuf := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logBuf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	a, err := New(cfg, Options{
		Logger:  logger,
		Version: "test",
		ConnectorCommand: func(r config.Resource) *exec.Cmd {
			cmd := exec.Command(exe)
			cmd.Env = append(os.Environ(), connectorEnv+"="+r.Connector)
			return cmd
		},
		RetryMin: 50 * time.Millisecond, RetryMax: 500 * time.Millisecond,
		Pipeline: func(c *pipeline.Config) {
			c.WriteBackoffMin, c.WriteBackoffMax = 50*time.Millisecond, 500*time.Millisecond
			c.ConnectorBackoffMin, c.ConnectorBackoffMax = 50*time.Millisecond, 500*time.Millisecond
			c.KeyPageSize = 1000
			c.SortMemoryKeys = 128 // spill runs even in small tests
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ra := &runningAgent{a: a, logs: logBuf, cancel: cancel, done: make(chan error, 1)}
	go func() { ra.done <- a.Run(ctx) }()
	t.Cleanup(func() {
		ra.stop(t)
		if t.Failed() || os.Getenv("TB_AGENT_TEST_LOG") != "" {
			t.Logf("agent log:\n%s", logBuf.tail(60))
		}
	})
	return ra
}

// stop cancels the agent and waits for Run to return.
func (ra *runningAgent) stop(t *testing.T) {
	t.Helper()
	if ra.cancel == nil {
		return
	}
	ra.cancel()
	ra.cancel = nil
	select {
	case err := <-ra.done:
		if err != nil {
			t.Errorf("agent Run: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("agent did not stop within 60s of cancellation")
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) tail(n int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	lines := strings.Split(strings.TrimRight(s.b.String(), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func loadCheckpoint(t *testing.T, dir string) (checkpoint.Checkpoint, bool) {
	t.Helper()
	s, err := checkpoint.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	cp, ok, err := s.Load(testResource)
	if err != nil {
		t.Fatal(err)
	}
	return cp, ok
}

// waitFor polls cond until it holds or the deadline passes.
// waitCaughtUp waits for the agent's incremental phase and its first poll
// that caught up.
func waitCaughtUp(t *testing.T, state string) {
	t.Helper()
	waitFor(t, "the incremental phase", time.Minute, func() (bool, string) {
		cp, ok := loadCheckpoint(t, state)
		return ok && cp.Phase == checkpoint.PhaseIncremental && !cp.CaughtUpAt.IsZero(), fmt.Sprintf("%+v", cp)
	})
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	last := ""
	for {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s; last state: %s", timeout, what, last)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// keyInt parses a record key (the id).
func keyInt(t *testing.T, k string) int {
	t.Helper()
	n, err := strconv.Atoi(k)
	if err != nil {
		t.Fatalf("key %q: %v", k, err)
	}
	return n
}

func distinctKeys(recs []record, op wire.Op) map[string]int {
	out := map[string]int{}
	for _, r := range recs {
		if r.op == op {
			out[r.key]++
		}
	}
	return out
}

func sortedRuns(recs []record) []string {
	var runs []string
	for _, r := range recs {
		if !slices.Contains(runs, r.runID) {
			runs = append(runs, r.runID)
		}
	}
	return runs
}
