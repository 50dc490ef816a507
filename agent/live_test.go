package agent

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tongban/tongban/agent/config"
	"github.com/tongban/tongban/agent/hubclient"
	"github.com/tongban/tongban/catalog"
	"github.com/tongban/tongban/connectors"
	"github.com/tongban/tongban/schemas"
	"github.com/tongban/tongban/wire"
)

func liveSchema(t *testing.T) schemas.Schema {
	t.Helper()
	var fs []schemas.Field
	for _, f := range []struct {
		name, typ string
		null      bool
	}{{"id", "int64", false}, {"name", "string", false}, {"amount", "decimal(18,2)", true}, {"birth", "date", true},
		{"updated_at", "timestamp", false}, {"note", "string", true}, {"ok", "bool", true}, {"raw", "bytes", true}} {
		ty, err := schemas.ParseType(f.typ)
		if err != nil {
			t.Fatal(err)
		}
		fs = append(fs, schemas.Field{Name: f.name, Type: ty, Nullable: f.null})
	}
	return schemas.Schema{Fields: fs}
}

// chunkOf encodes rows as a lookup chunk.
func chunkOf(t *testing.T, s schemas.Schema, version int64, rows ...[]any) connectors.Chunk {
	t.Helper()
	b := wire.NewBuilder(nil, s)
	defer b.Release()
	for _, r := range rows {
		if err := b.Append(r, version); err != nil {
			t.Fatal(err)
		}
	}
	rec := b.NewRecord()
	defer rec.Release()
	ipc, err := wire.EncodeRecord(rec)
	if err != nil {
		t.Fatal(err)
	}
	return connectors.Chunk{Batches: []connectors.PartitionBatch{{IPC: ipc, Rows: len(rows)}}, Rows: len(rows)}
}

// fakeConn answers Lookup from a map of key → chunk.
type fakeConn struct {
	connectors.Connector // nil: other methods are not used
	rows                 map[string]connectors.Chunk
	err                  error
	keys                 [][]string
	mu                   sync.Mutex
}

func (f *fakeConn) Lookup(_ context.Context, _ connectors.Source, key []string) (connectors.Chunk, error) {
	f.mu.Lock()
	f.keys = append(f.keys, key)
	f.mu.Unlock()
	if f.err != nil {
		return connectors.Chunk{}, f.err
	}
	return f.rows[strings.Join(key, "|")], nil
}

func (f *fakeConn) Close() error { return nil }

func newTestResponder(t *testing.T, hub liveHub, conn connectors.Connector) *responder {
	t.Helper()
	s := liveSchema(t)
	defs := []hubclient.Definition{
		{Resource: catalog.Resource{Code: "LIVE-1", Live: true, PrimaryKey: []string{"id"}, Schema: s}},
		{Resource: catalog.Resource{Code: "COPY-1", PrimaryKey: []string{"id"}, Schema: s}},
		{Resource: catalog.Resource{Code: "OPTOUT-1", Live: true, PrimaryKey: []string{"id"}, Schema: s}},
	}
	// The catalog says live and the config does not opt out; the catalog
	// says copy only; the config opts out (live: false).
	rcs := []config.Resource{{Code: "LIVE-1", Table: "t", ChunkRows: 10, Live: true}, {Code: "COPY-1", Table: "t", ChunkRows: 10, Live: true},
		{Code: "OPTOUT-1", Table: "t", ChunkRows: 10}}
	served, err := liveSources("agent.yaml", rcs, defs)
	if err != nil {
		t.Fatal(err)
	}
	if len(served) != 1 || served["LIVE-1"] == nil {
		t.Fatalf("served %v, want only LIVE-1", served)
	}
	return &responder{hub: hub, agentID: "a1", log: slog.New(slog.DiscardHandler), m: newLiveMetrics(prometheus.NewRegistry()),
		served: served, wait: time.Second, retryMin: time.Millisecond, retryMax: 10 * time.Millisecond, now: time.Now,
		connect: func(config.Resource) (connectors.Connector, error) { return conn, nil }}
}

func TestResponderAnswers(t *testing.T) {
	s := liveSchema(t)
	conn := &fakeConn{rows: map[string]connectors.Chunk{
		"7": chunkOf(t, s, 1234, []any{int64(7), "张三", "12.30", "1990-01-02", "2026-01-01T08:09:10.123456", nil, true, []byte("hi")}),
		"8": chunkOf(t, s, 1, []any{int64(8), "a", nil, nil, "2026-01-01T00:00:00.000000", nil, nil, nil}, []any{int64(9), "b", nil, nil, "2026-01-01T00:00:00.000000", nil, nil, nil}),
	}}
	r := newTestResponder(t, nil, conn)
	tests := []struct {
		name     string
		req      hubclient.LiveRequest
		found    bool
		data     string
		version  int64
		errHas   string
		lookedUp bool
	}{
		{"found", hubclient.LiveRequest{ID: "1", Resource: "LIVE-1", Key: []string{"7"}}, true,
			`{"id":7,"name":"张三","amount":"12.30","birth":"1990-01-02","updated_at":"2026-01-01T08:09:10.123456","note":null,"ok":true,"raw":"aGk="}`, 1234, "", true},
		{"missing", hubclient.LiveRequest{ID: "2", Resource: "LIVE-1", Key: []string{"404"}}, false, "", 0, "", true},
		{"two rows", hubclient.LiveRequest{ID: "3", Resource: "LIVE-1", Key: []string{"8"}}, false, "", 0, "returned 2 rows", true},
		{"not live", hubclient.LiveRequest{ID: "4", Resource: "COPY-1", Key: []string{"7"}}, false, "", 0, "not served live", false},
		{"unknown resource", hubclient.LiveRequest{ID: "5", Resource: "X; DROP TABLE t", Key: []string{"7"}}, false, "", 0, "not served live", false},
		{"key too long", hubclient.LiveRequest{ID: "6", Resource: "LIVE-1", Key: []string{"7", "8"}}, false, "", 0, "the key has 2 values", false},
		{"no key", hubclient.LiveRequest{ID: "7", Resource: "LIVE-1"}, false, "", 0, "the key has 0 values", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn.keys = nil
			a := r.answer(context.Background(), tt.req)
			if a.ID != tt.req.ID {
				t.Errorf("answer id %q, want %q", a.ID, tt.req.ID)
			}
			if (len(conn.keys) > 0) != tt.lookedUp {
				t.Errorf("connector called %d times; want a lookup: %v", len(conn.keys), tt.lookedUp)
			}
			if tt.errHas != "" {
				if !strings.Contains(a.Error, tt.errHas) || a.Found || a.Data != nil {
					t.Fatalf("answer %+v, want an error containing %q", a, tt.errHas)
				}
				return
			}
			if a.Error != "" || a.Found != tt.found {
				t.Fatalf("answer %+v", a)
			}
			if tt.found {
				if string(a.Data) != tt.data || a.Version != tt.version {
					t.Errorf("data %s version %d\nwant %s version %d", a.Data, a.Version, tt.data, tt.version)
				}
				if !json.Valid(a.Data) {
					t.Errorf("data is not JSON: %s", a.Data)
				}
			} else if a.Data != nil || a.Version <= 0 {
				t.Errorf("not found: data %s version %d; want no data and the time of the read", a.Data, a.Version)
			}
		})
	}
	conn.err = errors.New("dial tcp: connection refused " + strings.Repeat("很长", 1000))
	a := r.answer(context.Background(), hubclient.LiveRequest{ID: "9", Resource: "LIVE-1", Key: []string{"7"}})
	if !strings.Contains(a.Error, "connection refused") || len([]rune(a.Error)) > maxLiveErrorRunes {
		t.Fatalf("connector failure answered %q (%d runes)", a.Error[:min(len(a.Error), 80)], len([]rune(a.Error)))
	}
}

// scriptedHub fails the first polls, then hands out requests once and
// records the answers.
type scriptedHub struct {
	mu        sync.Mutex
	failures  int
	polls     int
	pending   []hubclient.LiveRequest
	answers   []hubclient.LiveAnswer
	resources []string // of the last poll
	got       chan struct{}
}

func (h *scriptedHub) Poll(ctx context.Context, _ string, resources []string, _ int, wait time.Duration) ([]hubclient.LiveRequest, error) {
	h.mu.Lock()
	h.polls++
	h.resources = resources
	if h.failures > 0 {
		h.failures--
		h.mu.Unlock()
		return nil, errors.New("hub unreachable")
	}
	reqs := h.pending
	h.pending = nil
	h.mu.Unlock()
	if len(reqs) > 0 {
		return reqs, nil
	}
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(wait):
		return nil, nil
	}
}

func (h *scriptedHub) Answer(_ context.Context, as []hubclient.LiveAnswer) error {
	h.mu.Lock()
	h.answers = append(h.answers, as...)
	n := len(h.answers)
	h.mu.Unlock()
	if n == 2 {
		close(h.got)
	}
	return nil
}

func TestResponderRunBacksOffAndAnswers(t *testing.T) {
	s := liveSchema(t)
	conn := &fakeConn{rows: map[string]connectors.Chunk{
		"7": chunkOf(t, s, 5, []any{int64(7), "张三", nil, nil, "2026-01-01T00:00:00.000000", nil, nil, nil}),
	}}
	hub := &scriptedHub{failures: 3, got: make(chan struct{}), pending: []hubclient.LiveRequest{
		{ID: "a", Resource: "LIVE-1", Key: []string{"7"}}, {ID: "b", Resource: "LIVE-1", Key: []string{"1"}},
	}}
	r := newTestResponder(t, hub, conn)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.run(ctx); close(done) }()
	select {
	case <-hub.got:
	case <-time.After(20 * time.Second):
		t.Fatal("no answers posted")
	}
	cancel()
	<-done
	byID := map[string]hubclient.LiveAnswer{}
	for _, a := range hub.answers {
		byID[a.ID] = a
	}
	if a := byID["a"]; !a.Found || !strings.Contains(string(a.Data), `"name":"张三"`) {
		t.Errorf("answer a = %+v", a)
	}
	if b := byID["b"]; b.Found || b.Error != "" {
		t.Errorf("answer b = %+v, want not found", b)
	}
	if strings.Join(hub.resources, ",") != "LIVE-1" {
		t.Errorf("polled for %v, want only the live resource LIVE-1", hub.resources)
	}
	if hub.polls < 4 {
		t.Errorf("%d polls; the 3 failures should have been retried", hub.polls)
	}
}
