package plugin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tongban/tongban/connectors"
)

// The test binary doubles as the plugin: started with this variable set, it
// serves testConnector instead of running the tests, so the tests spawn and
// kill a real plugin process.
const pluginEnv = "TONGBAN_PLUGIN_TEST_SERVE"

func TestMain(m *testing.M) {
	if os.Getenv(pluginEnv) != "" {
		slog.SetDefault(slog.New(LogHandler(os.Stderr, slog.LevelDebug)))
		Serve(testConnector{})
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// testConnector is served by the plugin process. Its behaviour is picked by
// the table name, so each test can ask for a crash, a panic, an endless
// stream or oversized batches.
type testConnector struct{}

func (testConnector) Describe(_ context.Context, src connectors.Source) ([]connectors.SourceColumn, error) {
	slog.Warn("describe called", "table", src.Table)
	switch src.Table {
	case "panic":
		panic("driver exploded")
	case "fail":
		return nil, fmt.Errorf("resource %s: table %q does not exist", src.Resource, src.Table)
	}
	cols := []connectors.SourceColumn{{Name: "pid", SourceType: strconv.Itoa(os.Getpid())}}
	for _, c := range src.Columns {
		cols = append(cols, connectors.SourceColumn{
			Name: c.SourceName(), SourceType: c.Field.Type.String(), Nullable: c.Field.Nullable,
			Charset: c.Encoding, PrimaryKey: true,
		})
	}
	return cols, nil
}

func (testConnector) Snapshot(ctx context.Context, src connectors.Source, after []string, emit func(connectors.Chunk) error) error {
	start := 0
	if len(after) > 0 {
		n, err := strconv.Atoi(after[0])
		if err != nil {
			return fmt.Errorf("after %q: %w", after, err)
		}
		start = n
	}
	switch src.Table {
	case "endless":
		for i := start + 1; ; i++ {
			if err := ctx.Err(); err != nil {
				return err
			}
			c := connectors.Chunk{
				Batches: []connectors.PartitionBatch{{Partition: i % 3, IPC: bytes.Repeat([]byte{byte(i)}, 1024), Rows: 1}},
				Rows:    1,
				LastKey: []string{strconv.Itoa(i)},
			}
			if err := emit(c); err != nil {
				return err
			}
		}
	case "big", "huge":
		size := 10 << 20
		if src.Table == "huge" {
			size = MaxMessageBytes + 1
		}
		var c connectors.Chunk
		for p := range 3 {
			c.Batches = append(c.Batches, connectors.PartitionBatch{Partition: p, IPC: bytes.Repeat([]byte{byte('a' + p)}, size), Rows: p + 1})
			c.Rows += p + 1
		}
		c.LastKey = []string{"big", "key"}
		return emit(c)
	}
	for i := start + 1; i <= start+src.ChunkRows; i++ {
		if err := emit(connectors.Chunk{Rows: 1, LastKey: []string{strconv.Itoa(i)},
			Batches: []connectors.PartitionBatch{{Partition: 0, IPC: []byte{byte(i)}, Rows: 1}}}); err != nil {
			return err
		}
	}
	return nil
}

func (testConnector) Changes(_ context.Context, src connectors.Source, since string, emit func(connectors.Chunk) error) error {
	return emit(connectors.Chunk{Rows: 0, MaxWatermark: since + "+" + src.Watermark})
}

func (testConnector) KeySet(_ context.Context, src connectors.Source, emit func([][]string) error) error {
	for p := range src.ChunkRows {
		if err := emit([][]string{{strconv.Itoa(p), "a"}, {strconv.Itoa(p), ""}}); err != nil {
			return err
		}
	}
	return nil
}

func (testConnector) Lookup(_ context.Context, _ connectors.Source, key []string) (connectors.Chunk, error) {
	if len(key) == 1 && key[0] == "missing" {
		return connectors.Chunk{}, nil
	}
	return connectors.Chunk{Rows: 1, LastKey: key, Batches: []connectors.PartitionBatch{{Partition: 2, IPC: []byte("row"), Rows: 1}}}, nil
}

func (testConnector) Close() error { return nil }

// harness runs a Supervisor over the test binary and records what it reports.
type harness struct {
	t   *testing.T
	sup *Supervisor
	log *recorder

	mu       sync.Mutex
	cmds     []*exec.Cmd
	restarts []error
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{t: t, log: &recorder{}}
	sup, err := NewSupervisor(Config{
		Name: "test",
		Cmd: func() *exec.Cmd {
			cmd := exec.Command(os.Args[0])
			cmd.Env = append(os.Environ(), pluginEnv+"=1")
			h.mu.Lock()
			h.cmds = append(h.cmds, cmd)
			h.mu.Unlock()
			return cmd
		},
		Logger: slog.New(h.log),
		OnRestart: func(reason error) {
			h.mu.Lock()
			h.restarts = append(h.restarts, reason)
			h.mu.Unlock()
		},
		MinBackoff: 10 * time.Millisecond, // restarts in tests need not wait long
		MaxBackoff: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatalf("NewSupervisor: %v", err)
	}
	h.sup = sup
	t.Cleanup(func() { sup.Close() })
	return h
}

// pid is the process id of the latest plugin process started.
func (h *harness) pid() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.cmds[len(h.cmds)-1].Process.Pid
}

func (h *harness) starts() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.cmds)
}

func (h *harness) restartReasons() []error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]error(nil), h.restarts...)
}

// servingPid asks the plugin which process serves it.
func (h *harness) servingPid(ctx context.Context) int {
	h.t.Helper()
	cols, err := h.sup.Describe(ctx, connectors.Source{Resource: "R", Table: "t"})
	if err != nil {
		h.t.Fatalf("Describe: %v", err)
	}
	pid, err := strconv.Atoi(cols[0].SourceType)
	if err != nil {
		h.t.Fatalf("Describe answered %+v", cols)
	}
	return pid
}

// recorder is a slog handler that keeps the records it is given.
type recorder struct {
	mu      sync.Mutex
	records []slog.Record
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *recorder) WithGroup(string) slog.Handler            { return r }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	r.records = append(r.records, rec.Clone())
	r.mu.Unlock()
	return nil
}

// find returns the first record at level whose message contains text.
func (r *recorder) find(level slog.Level, text string) (slog.Record, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rec := range r.records {
		if rec.Level == level && bytes.Contains([]byte(rec.Message), []byte(text)) {
			return rec, true
		}
	}
	return slog.Record{}, false
}

var errStop = errors.New("stop here")
