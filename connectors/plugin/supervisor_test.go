package plugin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tongban/tongban/connectors"
	"github.com/tongban/tongban/schemas"
)

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func processGone(pid int) bool {
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

func TestCallsRoundTrip(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	src := connectors.Source{
		Resource: "R1", DSN: "dsn", Table: "t",
		Columns: []connectors.Column{
			{Field: schemas.Field{Name: "id", Type: schemas.Type{Kind: schemas.String}}},
			{Field: schemas.Field{Name: "amt", Type: schemas.Type{Kind: schemas.Decimal, Precision: 12, Scale: 2}, Nullable: true}, Source: "AMT", Encoding: "gbk"},
		},
		PrimaryKey: []string{"id"}, Watermark: "updated_at", Partitions: 6, ChunkRows: 3, BatchRows: 2,
	}

	cols, err := h.sup.Describe(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	want := []connectors.SourceColumn{
		{Name: "id", SourceType: "string", PrimaryKey: true},
		{Name: "AMT", SourceType: "decimal(12,2)", Nullable: true, Charset: "gbk", PrimaryKey: true},
	}
	if !reflect.DeepEqual(cols[1:], want) {
		t.Errorf("Describe columns = %+v, want %+v", cols[1:], want)
	}

	tests := []struct {
		name  string
		after []string
		keys  []string
	}{
		{"from start", nil, []string{"1", "2", "3"}},
		{"after a key", []string{"7"}, []string{"8", "9", "10"}},
	}
	for _, tt := range tests {
		t.Run("snapshot "+tt.name, func(t *testing.T) {
			var got []string
			err := h.sup.Snapshot(ctx, src, tt.after, func(c connectors.Chunk) error {
				if c.Rows != 1 || len(c.Batches) != 1 || c.Batches[0].Rows != 1 {
					return fmt.Errorf("chunk %+v", c)
				}
				got = append(got, c.LastKey...)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.keys) {
				t.Errorf("keys = %v, want %v", got, tt.keys)
			}
		})
	}

	var marks []string
	if err := h.sup.Changes(ctx, src, "2025-01-01 00:00:00.000000", func(c connectors.Chunk) error {
		marks = append(marks, c.MaxWatermark)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"2025-01-01 00:00:00.000000+updated_at"}; !reflect.DeepEqual(marks, want) {
		t.Errorf("Changes watermarks = %v, want %v", marks, want)
	}

	var keys [][]string
	if err := h.sup.KeySet(ctx, src, func(page [][]string) error {
		keys = append(keys, page...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	wantKeys := [][]string{{"0", "a"}, {"0", ""}, {"1", "a"}, {"1", ""}, {"2", "a"}, {"2", ""}}
	if !reflect.DeepEqual(keys, wantKeys) {
		t.Errorf("KeySet = %q, want %q", keys, wantKeys)
	}

	c, err := h.sup.Lookup(ctx, src, []string{"k1", "k2"})
	if err != nil {
		t.Fatal(err)
	}
	wantChunk := connectors.Chunk{Rows: 1, LastKey: []string{"k1", "k2"}, Batches: []connectors.PartitionBatch{{Partition: 2, IPC: []byte("row"), Rows: 1}}}
	if !reflect.DeepEqual(c, wantChunk) {
		t.Errorf("Lookup = %+v, want %+v", c, wantChunk)
	}
	c, err = h.sup.Lookup(ctx, src, []string{"missing"})
	if err != nil || c.Rows != 0 || len(c.Batches) != 0 {
		t.Errorf("Lookup of a missing key = %+v, %v; want an empty chunk", c, err)
	}

	src.Table = "fail"
	_, err = h.sup.Describe(ctx, src)
	if err == nil || !strings.Contains(err.Error(), `resource R1: table "fail" does not exist`) || strings.Contains(err.Error(), "rpc error") {
		t.Errorf("Describe error = %v, want the connector's own message", err)
	}
	if h.starts() != 1 || len(h.restartReasons()) != 0 {
		t.Errorf("starts = %d, restarts = %v; a connector error must not restart the plugin", h.starts(), h.restartReasons())
	}
}

func TestLargeChunkSpansMessages(t *testing.T) {
	h := newHarness(t)
	var got []connectors.Chunk
	err := h.sup.Snapshot(context.Background(), connectors.Source{Table: "big"}, nil, func(c connectors.Chunk) error {
		got = append(got, c)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("got %d chunks, want 1", len(got))
	}
	c := got[0]
	if c.Rows != 6 || !reflect.DeepEqual(c.LastKey, []string{"big", "key"}) || len(c.Batches) != 3 {
		t.Fatalf("chunk rows %d, last key %v, %d batches", c.Rows, c.LastKey, len(c.Batches))
	}
	for p, b := range c.Batches {
		if b.Partition != p || b.Rows != p+1 || !bytes.Equal(b.IPC, bytes.Repeat([]byte{byte('a' + p)}, 10<<20)) {
			t.Errorf("batch %d: partition %d rows %d, %d bytes", p, b.Partition, b.Rows, len(b.IPC))
		}
	}

	err = h.sup.Snapshot(context.Background(), connectors.Source{Table: "huge"}, nil, func(connectors.Chunk) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "lower batch_rows") {
		t.Errorf("oversized batch: err = %v, want a message-limit error", err)
	}
	if len(h.restartReasons()) != 0 {
		t.Errorf("an oversized batch restarted the plugin: %v", h.restartReasons())
	}
}

func TestKillDuringStream(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	first := h.pid()
	if got := h.servingPid(ctx); got != first {
		t.Fatalf("served by pid %d, started %d", got, first)
	}

	chunks := 0
	err := h.sup.Snapshot(ctx, connectors.Source{Table: "endless"}, nil, func(connectors.Chunk) error {
		chunks++
		if chunks == 3 {
			if err := syscall.Kill(first, syscall.SIGKILL); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		t.Fatal("Snapshot cut by kill -9 returned no error")
	}
	if !strings.Contains(err.Error(), "died") {
		t.Errorf("error %q does not say the plugin died", err)
	}
	eventually(t, "the crash to be reported", func() bool { return len(h.restartReasons()) == 1 })
	if reason := h.restartReasons()[0].Error(); !strings.Contains(reason, "killed") {
		t.Errorf("restart reason %q does not name the kill", reason)
	}
	if _, ok := h.log.find(slog.LevelError, "plugin process died"); !ok {
		t.Error("no error log for the crash")
	}
	if h.starts() != 1 {
		t.Errorf("the plugin was restarted before the next call (%d starts)", h.starts())
	}

	second := h.servingPid(ctx)
	if second == first {
		t.Fatalf("the next call was served by the killed process %d", first)
	}
	if !processGone(first) {
		t.Errorf("killed process %d still exists", first)
	}
	// The fresh process serves streams again.
	var last []string
	if err := h.sup.Snapshot(ctx, connectors.Source{Table: "t", ChunkRows: 2}, []string{"40"}, func(c connectors.Chunk) error {
		last = c.LastKey
		return nil
	}); err != nil || !reflect.DeepEqual(last, []string{"42"}) {
		t.Errorf("Snapshot after restart: last key %v, err %v", last, err)
	}
	if n := len(h.restartReasons()); n != 1 {
		t.Errorf("%d restarts reported, want 1", n)
	}
}

func TestPanicInConnector(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	first := h.pid()
	_, err := h.sup.Describe(ctx, connectors.Source{Table: "panic"})
	if err == nil || !strings.Contains(err.Error(), "died") {
		t.Fatalf("Describe that panics: err = %v, want a crash error", err)
	}
	eventually(t, "the crash to be reported", func() bool { return len(h.restartReasons()) == 1 })
	if !strings.Contains(h.restartReasons()[0].Error(), "exit status 2") {
		t.Errorf("restart reason %q does not carry the exit status", h.restartReasons()[0])
	}
	eventually(t, "the panic to reach the host log", func() bool {
		_, ok := h.log.find(slog.LevelError, "driver exploded")
		return ok
	})
	if pid := h.servingPid(ctx); pid == first {
		t.Errorf("served by the crashed process %d", pid)
	}
}

func TestDeathWhileIdleIsReported(t *testing.T) {
	h := newHarness(t)
	first := h.pid()
	if err := syscall.Kill(first, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the idle crash to be reported", func() bool { return len(h.restartReasons()) == 1 })
	if pid := h.servingPid(context.Background()); pid == first {
		t.Errorf("served by the killed process %d", pid)
	}
	if h.starts() != 2 {
		t.Errorf("%d starts, want 2", h.starts())
	}
}

func TestEmitErrorAndCancel(t *testing.T) {
	h := newHarness(t)
	n := 0
	err := h.sup.Snapshot(context.Background(), connectors.Source{Table: "endless"}, nil, func(connectors.Chunk) error {
		n++
		if n == 2 {
			return errStop
		}
		return nil
	})
	if !errors.Is(err, errStop) {
		t.Errorf("emit error came back as %v", err)
	}
	if n != 2 {
		t.Errorf("emit called %d times after failing", n)
	}

	ctx, cancel := context.WithCancel(context.Background())
	err = h.sup.Snapshot(ctx, connectors.Source{Table: "endless"}, nil, func(connectors.Chunk) error {
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Snapshot returned %v", err)
	}

	err = h.sup.KeySet(context.Background(), connectors.Source{ChunkRows: 5}, func([][]string) error { return errStop })
	if !errors.Is(err, errStop) {
		t.Errorf("KeySet emit error came back as %v", err)
	}
	if pid := h.servingPid(context.Background()); pid != h.pid() || h.starts() != 1 || len(h.restartReasons()) != 0 {
		t.Errorf("emit errors or cancellation restarted the plugin: starts %d, restarts %v", h.starts(), h.restartReasons())
	}
}

func TestPluginLogsReachHost(t *testing.T) {
	h := newHarness(t)
	h.servingPid(context.Background())
	eventually(t, "the plugin's warning in the host log", func() bool {
		_, ok := h.log.find(slog.LevelWarn, "describe called")
		return ok
	})
}

func TestClose(t *testing.T) {
	h := newHarness(t)
	pid := h.pid()
	if err := h.sup.Close(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the plugin process to exit", func() bool { return processGone(pid) })
	if _, err := h.sup.Describe(context.Background(), connectors.Source{}); !errors.Is(err, ErrClosed) {
		t.Errorf("Describe after Close: %v, want ErrClosed", err)
	}
	if len(h.restartReasons()) != 0 {
		t.Errorf("Close was reported as a crash: %v", h.restartReasons())
	}
	if err := h.sup.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestNewSupervisorErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no name", Config{Cmd: func() *exec.Cmd { return exec.Command("true") }}, "no name"},
		{"no command", Config{Name: "x"}, "no command"},
		{"missing binary", Config{Name: "x", Cmd: func() *exec.Cmd { return exec.Command("/nonexistent/connector") }}, "start plugin"},
		{"not a plugin", Config{Name: "x", Cmd: func() *exec.Cmd { return exec.Command("true") }}, "start plugin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Logger = slog.New(&recorder{})
			s, err := NewSupervisor(tt.cfg)
			if err == nil {
				s.Close()
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	lo, hi := 100*time.Millisecond, time.Second
	tests := []struct {
		deaths int
		want   time.Duration
	}{
		{0, 0}, {1, 100 * time.Millisecond}, {2, 200 * time.Millisecond}, {3, 400 * time.Millisecond},
		{4, 800 * time.Millisecond}, {5, time.Second}, {60, time.Second},
	}
	for _, tt := range tests {
		if got := backoff(tt.deaths, lo, hi); got != tt.want {
			t.Errorf("backoff(%d) = %v, want %v", tt.deaths, got, tt.want)
		}
	}
}
