package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/tongban/tongban/catalog"
	"github.com/tongban/tongban/hub/store"
	"github.com/tongban/tongban/schemas"
	"github.com/tongban/tongban/wire"
)

const (
	testTopic = "t.ingest"
	testDLQ   = "t.deadletter"
	testDept  = "112306000128140287"
	otherDept = "112306000128140362"
	testRes   = "TEST-PEOPLE-001"
	testParts = 6
)

// testCatalog is a catalog of resources built in Go.
type testCatalog map[string]*catalog.Resource

func (c testCatalog) Resource(code string) (*catalog.Resource, bool) {
	r, ok := c[code]
	return r, ok
}

func mustType(t testing.TB, s string) schemas.Type {
	t.Helper()
	ty, err := schemas.ParseType(s)
	if err != nil {
		t.Fatal(err)
	}
	return ty
}

func testSchema(t testing.TB) schemas.Schema {
	t.Helper()
	var s schemas.Schema
	for _, f := range []struct {
		name, typ string
		null      bool
	}{
		{"citizen_id", "string", false}, {"name", "string", false}, {"age", "int64", true},
		{"score", "float64", true}, {"income", "decimal(12,2)", true}, {"born", "date", true},
		{"updated_at", "timestamp", true}, {"alive", "bool", true}, {"photo", "bytes", true},
	} {
		s.Fields = append(s.Fields, schemas.Field{Name: f.name, Type: mustType(t, f.typ), Nullable: f.null})
	}
	return s
}

func testResource(t testing.TB) *catalog.Resource {
	return &catalog.Resource{
		Code: testRes, Name: "测试人口", Provider: testDept,
		Subject:    catalog.Subject{Type: catalog.SubjectPerson, Field: "citizen_id"},
		PrimaryKey: []string{"citizen_id"}, Schema: testSchema(t),
		ShareType: catalog.ShareUnconditional, OpenType: catalog.OpenClosed, UpdateCycle: catalog.CycleDaily,
		Format: catalog.FormatTable, File: "resources/test.yaml",
	}
}

// env is one test's broker, store and catalog.
type env struct {
	t       testing.TB
	brokers []string
	db      *store.DB
	cat     testCatalog
	writer  *kafka.Writer
}

func newEnv(t testing.TB, db *store.DB) *env {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(testParts, testTopic, testDLQ))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	if db == nil {
		db = openSQLite(t)
	}
	e := &env{t: t, brokers: c.ListenAddrs(), db: db, cat: testCatalog{testRes: testResource(t)}}
	e.writer = &kafka.Writer{Addr: kafka.TCP(e.brokers...), Topic: testTopic, Balancer: wire.Balancer{},
		RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond}
	t.Cleanup(func() { _ = e.writer.Close() })
	e.sync()
	return e
}

func openSQLite(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), store.Config{Driver: store.DriverSQLite, DSN: filepath.Join(t.TempDir(), "hub.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// sync records the catalog schemas as schema versions.
func (e *env) sync() {
	e.t.Helper()
	var rs []catalog.Resource
	for _, r := range e.cat {
		rs = append(rs, *r)
	}
	if _, err := SyncSchemas(context.Background(), e.db, rs); err != nil {
		e.t.Fatal(err)
	}
}

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// running is an Ingester running in a goroutine.
type running struct {
	in     *Ingester
	reg    *prometheus.Registry
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
}

func (r *running) stop(t testing.TB) {
	t.Helper()
	r.once.Do(func() {
		r.cancel()
		select {
		case r.err = <-r.done:
		case <-time.After(60 * time.Second):
			r.err = fmt.Errorf("ingester did not stop")
		}
	})
	if r.err != nil {
		t.Fatal(r.err)
	}
}

func (e *env) start(group string, st Store) *running {
	return e.startWith(group, st, nil)
}

// startWith starts an ingester whose config is adjusted by edit (if not nil).
func (e *env) startWith(group string, st Store, edit func(*Config)) *running {
	e.t.Helper()
	if st == nil {
		st = e.db
	}
	reg := prometheus.NewRegistry()
	cfg := Config{Brokers: e.brokers, Topic: testTopic, DeadLetterTopic: testDLQ, GroupID: group,
		Store: st, Catalog: e.cat, Registry: reg, Logger: testLogger(e.t), MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond}
	if edit != nil {
		edit(&cfg)
	}
	in, err := New(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{in: in, reg: reg, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- in.Run(ctx) }()
	e.t.Cleanup(func() { r.stop(e.t) })
	return r
}

// waitMessages polls until the ingester has handled n messages.
func (r *running) waitMessages(t testing.TB, n int64) Stats {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		s := r.in.Stats()
		if s.Messages >= n {
			if s.Messages > n {
				t.Fatalf("handled %d messages, want %d", s.Messages, n)
			}
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("handled %d of %d messages in time; stats %+v", s.Messages, n, s)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// row is a test row of testSchema.
type row struct {
	id      string
	name    string
	age     any
	version int64
}

func (r row) values() []any {
	return []any{r.id, r.name, r.age, 1.5, "1234.5", "1990-02-28", "2026-01-02 03:04:05.123456", true, []byte{1, 2}}
}

// wantData is the JSON the store must hold for r.
func (r row) wantData() string {
	age := "null"
	if r.age != nil {
		age = fmt.Sprint(r.age)
	}
	name, _ := json.Marshal(r.name)
	return `{"citizen_id":"` + r.id + `","name":` + string(name) + `,"age":` + age +
		`,"score":1.5,"income":"1234.50","born":"1990-02-28","updated_at":"2026-01-02T03:04:05.123456","alive":true,"photo":"AQI="}`
}

func meta(res *catalog.Resource, s schemas.Schema, op wire.Op, batch string) wire.Meta {
	return wire.Meta{Resource: res.Code, Dept: res.Provider, Fingerprint: s.Fingerprint(), SchemaVersion: 1,
		BatchID: batch, Op: op}
}

// encode builds one Arrow batch of s from rows of values.
func encode(t testing.TB, s schemas.Schema, rows [][]any, versions []int64) []byte {
	t.Helper()
	b := wire.NewBuilder(nil, s)
	defer b.Release()
	for i, r := range rows {
		if err := b.Append(r, versions[i]); err != nil {
			t.Fatal(err)
		}
	}
	rec := b.NewRecord()
	defer rec.Release()
	p, err := wire.EncodeRecord(rec)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// upserts builds upsert messages of rows, one per partition of the subject key.
func (e *env) upserts(batch string, rows ...row) []kafka.Message {
	e.t.Helper()
	res := e.cat[testRes]
	byPart := map[int][]row{}
	for _, r := range rows {
		p := wire.Partition(r.id, testParts)
		byPart[p] = append(byPart[p], r)
	}
	parts := make([]int, 0, len(byPart))
	for p := range byPart {
		parts = append(parts, p)
	}
	sort.Ints(parts)
	var out []kafka.Message
	for _, p := range parts {
		var vals [][]any
		var vers []int64
		for _, r := range byPart[p] {
			vals = append(vals, r.values())
			vers = append(vers, r.version)
		}
		m := meta(res, res.Schema, wire.OpUpsert, batch+"-"+strconv.Itoa(p))
		m.Partition = p
		out = append(out, wire.Message(m, encode(e.t, res.Schema, vals, vers)))
	}
	return out
}

// deletes builds one tombstone message.
func (e *env) deletes(batch string, version int64, ids ...string) kafka.Message {
	e.t.Helper()
	res := e.cat[testRes]
	pk, err := res.Schema.Select(res.PrimaryKey)
	if err != nil {
		e.t.Fatal(err)
	}
	var vals [][]any
	var vers []int64
	for _, id := range ids {
		vals = append(vals, []any{id})
		vers = append(vers, version)
	}
	return wire.Message(meta(res, res.Schema, wire.OpDelete, batch), encode(e.t, pk, vals, vers))
}

func (e *env) produce(msgs ...kafka.Message) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.writer.WriteMessages(ctx, msgs...); err != nil {
		e.t.Fatal(err)
	}
}

// dump is the store's records of the test resource, without ingest times.
func (e *env) dump() []store.Record {
	e.t.Helper()
	var out []store.Record
	after := ""
	for {
		recs, err := e.db.ListRecords(context.Background(), testRes, after, 1000, true)
		if err != nil {
			e.t.Fatal(err)
		}
		if len(recs) == 0 {
			return out
		}
		for _, r := range recs {
			r.IngestedAt = time.Time{}
			out = append(out, r)
		}
		after = recs[len(recs)-1].Key
	}
}

// metricValue reads one sample from a registry.
func metricValue(t testing.TB, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, lp := range m.GetLabel() {
				have[lp.GetName()] = lp.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue next
				}
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue()
			case m.Gauge != nil:
				return m.Gauge.GetValue()
			case m.Histogram != nil:
				return float64(m.Histogram.GetSampleCount())
			}
		}
	}
	return 0
}

type (
	storeDeadLetter = store.DeadLetter
	catalogResource = catalog.Resource
)
