package audit

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/tongban/tongban/hub/store"
)

// gatedStore is an Appender whose AppendAudit announces each call on entered
// and waits for a value on release before appending in memory (or failing
// with fail).
type gatedStore struct {
	entered chan int // batch sizes, as calls start
	release chan error
	mu      sync.Mutex
	seq     int64
	batches [][]store.AuditEntry
}

func newGatedStore() *gatedStore {
	return &gatedStore{entered: make(chan int, 100), release: make(chan error)}
}

func (g *gatedStore) AppendAudit(_ context.Context, es []store.AuditEntry, seal store.AuditSealer) ([]store.AuditEntry, error) {
	g.entered <- len(es)
	if err := <-g.release; err != nil {
		return nil, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	out := slices.Clone(es)
	for i := range out {
		g.seq++
		out[i].Seq = g.seq
		out[i].Hash = seal(out[i])
	}
	g.batches = append(g.batches, out)
	return out, nil
}

type appendResult struct {
	seqs []int64
	err  error
}

// TestLoggerGroupCommit: while one transaction is under way, appends queue
// and go together in the next; no Append returns before its transaction has
// returned; MaxBatch bounds a transaction but never splits an AppendBatch.
func TestLoggerGroupCommit(t *testing.T) {
	g := newGatedStore()
	reg := prometheus.NewRegistry()
	l, err := New(Config{Store: g, Registry: reg, MaxBatch: 4})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	results := make(chan appendResult, 10)
	appendAsync := func(es ...Entry) {
		go func() {
			seqs, err := l.AppendBatch(ctx, es)
			results <- appendResult{seqs, err}
		}()
	}
	appendAsync(sampleEntry(0))
	if n := <-g.entered; n != 1 {
		t.Fatalf("first transaction has %d entries", n)
	}
	// The first transaction is blocked: queue 3 single appends and a batch
	// of 3, then let everything through.
	for i := 1; i <= 3; i++ {
		appendAsync(sampleEntry(i))
	}
	appendAsync(sampleEntry(4), sampleEntry(5), sampleEntry(6))
	waitQueued(t, l, 4)
	select {
	case r := <-results:
		t.Fatalf("an Append returned before its transaction: %+v", r)
	default:
	}
	g.release <- nil
	var sizes []int
	for range 2 {
		sizes = append(sizes, <-g.entered)
		g.release <- nil
	}
	var all []int64
	for range 5 {
		r := <-results
		if r.err != nil {
			t.Fatal(r.err)
		}
		if len(r.seqs) == 3 && (r.seqs[1] != r.seqs[0]+1 || r.seqs[2] != r.seqs[0]+2) {
			t.Fatalf("the batch got seqs %v, not consecutive", r.seqs)
		}
		all = append(all, r.seqs...)
	}
	slices.Sort(all)
	if !slices.Equal(all, []int64{1, 2, 3, 4, 5, 6, 7}) {
		t.Fatalf("seqs %v", all)
	}
	// 6 queued entries with MaxBatch 4: the batch of 3 does not fit beside
	// 3 singles, and is not split.
	if slices.Max(sizes) > 4 || sizes[0]+sizes[1] != 6 {
		t.Fatalf("transaction sizes after the first: %v", sizes)
	}
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if got := metricValue(t, l.m.entries.WithLabelValues(ActionShareRead, Allowed)); got != 7 {
		t.Fatalf("entries_total = %v, want 7", got)
	}
	if got := metricValue(t, l.m.seconds); got != 5 {
		t.Fatalf("append_seconds counts %v calls, want 5", got)
	}
	if got := metricValue(t, l.m.batch); got != 3 {
		t.Fatalf("batch_entries counts %v transactions, want 3", got)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, mf := range mfs {
		names = append(names, mf.GetName())
	}
	if want := []string{"tongban_audit_append_errors_total", "tongban_audit_append_seconds",
		"tongban_audit_batch_entries", "tongban_audit_entries_total"}; !slices.Equal(names, want) {
		t.Fatalf("registered metrics %v, want %v", names, want)
	}
}

// waitQueued waits (without a clock) until n appends are queued.
func waitQueued(t *testing.T, l *Logger, n int) {
	t.Helper()
	for {
		l.mu.Lock()
		q := len(l.queue)
		l.mu.Unlock()
		if q == n {
			return
		}
		if q > n {
			t.Fatalf("%d queued, want %d", q, n)
		}
		runtime.Gosched()
	}
}

func TestLoggerStoreFailure(t *testing.T) {
	g := newGatedStore()
	l, err := New(Config{Store: g})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	done := make(chan error, 1)
	go func() {
		_, err := l.Append(ctx, sampleEntry(1))
		done <- err
	}()
	<-g.entered
	g.release <- errors.New("disk full")
	if err := <-done; err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Append = %v, want the store's error", err)
	}
	if got := metricValue(t, l.m.errors); got != 1 {
		t.Fatalf("errors_total = %v", got)
	}
	if got := metricValue(t, l.m.entries.WithLabelValues(ActionShareRead, Allowed)); got != 0 {
		t.Fatalf("entries_total = %v after a failure", got)
	}
	// Invalid entries fail at once, without a transaction.
	for _, e := range []Entry{{Result: Allowed}, {Action: ActionShareRead, Result: "maybe"}, {Action: "x", Result: Denied, Detail: []byte("{")}} {
		if _, err := l.Append(ctx, e); err == nil {
			t.Fatalf("Append(%+v) succeeded", e)
		}
	}
	select {
	case n := <-g.entered:
		t.Fatalf("a transaction of %d entries started for invalid entries", n)
	default:
	}
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(ctx, sampleEntry(2)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Append after Close = %v", err)
	}
}

func TestLoggerContextAndClose(t *testing.T) {
	g := newGatedStore()
	l, err := New(Config{Store: g})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := l.Append(ctx, sampleEntry(1))
		done <- err
	}()
	<-g.entered
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Append with a cancelled context = %v", err)
	}
	// Queue one more, then Close: it is written before Close returns.
	res := make(chan appendResult, 1)
	go func() {
		seqs, err := l.AppendBatch(context.Background(), []Entry{sampleEntry(2)})
		res <- appendResult{seqs, err}
	}()
	waitQueued(t, l, 1)
	closed := make(chan error, 1)
	go func() { closed <- l.Close(context.Background()) }()
	g.release <- nil // the cancelled caller's entry is still written
	<-g.entered
	g.release <- nil
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if r := <-res; r.err != nil || !slices.Equal(r.seqs, []int64{2}) {
		t.Fatalf("queued append: %+v", r)
	}
	if len(g.batches) != 2 {
		t.Fatalf("%d transactions", len(g.batches))
	}
	if _, err := New(Config{}); err == nil {
		t.Fatal("New without a store succeeded")
	}
}

// TestLoggerConcurrentProcesses: two Loggers on two store handles (two hub
// processes) on the same database, with many goroutines each, produce one
// intact chain holding every entry once.
func TestLoggerConcurrentProcesses(t *testing.T) {
	for _, driver := range backends {
		t.Run(driver, func(t *testing.T) {
			ts := newTestStore(t, driver)
			second := openStore(t, ts.cfg)
			ctx := context.Background()
			var loggers []*Logger
			for _, db := range []*store.DB{ts.db, second} {
				l, err := New(Config{Store: db, MaxBatch: 16})
				if err != nil {
					t.Fatal(err)
				}
				loggers = append(loggers, l)
			}
			const goroutines, each = 16, 20
			var (
				wg   sync.WaitGroup
				mu   sync.Mutex
				seqs []int64
				errs []error
			)
			for g := range goroutines {
				wg.Add(1)
				go func() {
					defer wg.Done()
					l := loggers[g%2]
					for i := range each {
						e := sampleEntry(g*each + i)
						e.Reason = fmt.Sprintf("g%d-%d", g, i)
						seq, err := l.Append(ctx, e)
						mu.Lock()
						seqs = append(seqs, seq)
						if err != nil {
							errs = append(errs, err)
						}
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			for _, l := range loggers {
				if err := l.Close(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if len(errs) > 0 {
				t.Fatalf("%d appends failed, first: %v", len(errs), errs[0])
			}
			slices.Sort(seqs)
			for i, s := range seqs {
				if s != int64(i+1) {
					t.Fatalf("returned seqs are not 1..%d: %v", goroutines*each, seqs)
				}
			}
			rep, err := Verify(ctx, ts.db, nil)
			if err != nil || !rep.OK() || rep.Entries != goroutines*each {
				t.Fatalf("verify: %+v %+v %v", rep, rep.Problem, err)
			}
			// Every entry is there once, with its own content.
			es, err := ts.db.ReadAudit(ctx, 0, goroutines*each, goroutines*each)
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for _, e := range es {
				if seen[e.Reason] {
					t.Fatalf("entry %q twice", e.Reason)
				}
				seen[e.Reason] = true
			}
		})
	}
}

// metricValue reads a counter, or the sample count of a histogram.
func metricValue(t *testing.T, m prometheus.Metric) float64 {
	t.Helper()
	var d dto.Metric
	if err := m.Write(&d); err != nil {
		t.Fatal(err)
	}
	switch {
	case d.Counter != nil:
		return d.Counter.GetValue()
	case d.Histogram != nil:
		return float64(d.Histogram.GetSampleCount())
	}
	t.Fatalf("metric %v is neither a counter nor a histogram", m.Desc())
	return 0
}
