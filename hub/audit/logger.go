// Package audit is the hub's tamper-evident audit trail (数据使用可追溯):
// every share call, live call, grant decision and subscription is logged with
// who, which resource and subject, which fields, purpose, item code, result
// and time, in an append-only log whose entries are chained with SM3 (each
// hash covers the entry and the previous hash; see Encode). Verify recomputes
// the chain and names the first edited, deleted or inserted entry.
//
// A Logger appends entries with group commit: concurrent Append calls are
// written together in one store transaction, and each returns once its own
// entry is durable.
package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tongban/tongban/hub/store"
)

// Actions logged by the hub. The log accepts any action name; these are the
// ones the hub's services use.
const (
	ActionShareRead           = "share.read"           // a record read through the sharing API
	ActionShareLive           = "share.live"           // a live (pass-through) call to a department
	ActionGrantRequest        = "grant.request"        // a conditional-share application filed
	ActionGrantDecide         = "grant.decide"         // a conditional-share application answered
	ActionSubscriptionRequest = "subscription.request" // a subscription requested
	ActionSubscriptionApprove = "subscription.approve" // a subscription approved or refused
	ActionSubscriptionDeliver = "subscription.deliver" // records delivered to a subscriber
	ActionConflictDecide      = "conflict.decide"      // the bureau decided a merge conflict
	ActionObjectionDecide     = "objection.decide"     // an objection decided or verified
)

// Results of a logged call.
const (
	Allowed = store.AuditAllowed // served
	Denied  = store.AuditDenied  // refused: Reason says why
	Error   = store.AuditError   // failed: Reason says how
)

// Entry is what a caller logs: who (Actor, Dept) did what (Action on
// Resource, about a subject, which Fields), why (Purpose, ItemCode), with what
// Result, when (At).
type Entry struct {
	// At is when the call happened; the time of Append when zero.
	At time.Time
	// Actor is the caller's API token id (auth.Principal.TokenID).
	Actor string
	// Dept is the caller's department code; empty for the bureau (admin).
	Dept string
	// Action is one of the Action constants (required).
	Action string
	// Resource is the catalog resource code.
	Resource string
	// SubjectType ("person", "legal_person") and SubjectID (citizen ID,
	// USCC) name the data subject, when there is one.
	SubjectType, SubjectID string
	// Fields are the field names read, asked for or decided on.
	Fields []string
	// Purpose is the stated reason of use (用证事由); ItemCode the government
	// service item (事项编码) it serves.
	Purpose, ItemCode string
	// Result is Allowed, Denied or Error (required); Reason says why.
	Result, Reason string
	// Detail is optional JSON: request id, record count, grant id, ...
	Detail json.RawMessage
}

func (e Entry) record() store.AuditEntry {
	return store.AuditEntry{
		At: e.At, Actor: e.Actor, Dept: e.Dept, Action: e.Action, Resource: e.Resource,
		SubjectType: e.SubjectType, SubjectID: e.SubjectID, Fields: e.Fields, Purpose: e.Purpose,
		ItemCode: e.ItemCode, Result: e.Result, Reason: e.Reason, Detail: e.Detail,
	}
}

// Appender is what a Logger needs of the store (*store.DB).
type Appender interface {
	AppendAudit(ctx context.Context, entries []store.AuditEntry, seal store.AuditSealer) ([]store.AuditEntry, error)
}

// Defaults of Config.
const (
	DefaultMaxBatch     = 512
	DefaultFlushTimeout = 30 * time.Second
)

// ErrClosed is returned by Append after Close.
var ErrClosed = errors.New("audit: logger is closed")

// Config of a Logger.
type Config struct {
	Store Appender // required
	// Registry, when set, gets tongban_audit_entries_total{action,result},
	// tongban_audit_append_seconds, tongban_audit_batch_entries and
	// tongban_audit_append_errors_total.
	Registry prometheus.Registerer
	Logger   *slog.Logger
	// MaxBatch is the most entries written in one transaction
	// (DefaultMaxBatch when 0); an AppendBatch is never split.
	MaxBatch int
	// FlushTimeout bounds one transaction (DefaultFlushTimeout when 0).
	FlushTimeout time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Logger appends audit entries. It is safe for concurrent use; Close it to
// write what is queued and stop its goroutine.
type Logger struct {
	st           Appender
	log          *slog.Logger
	now          func() time.Time
	maxBatch     int
	flushTimeout time.Duration
	m            metrics

	mu     sync.Mutex
	queue  []*pending
	closed bool
	wake   chan struct{} // capacity 1: the flusher has work or must stop
	done   chan struct{} // closed when the flusher has stopped
}

// pending is one Append or AppendBatch waiting for its transaction.
type pending struct {
	entries []store.AuditEntry
	start   time.Time
	done    chan result // capacity 1
}

type result struct {
	seqs []int64
	err  error
}

// New returns a Logger and starts its flusher.
func New(cfg Config) (*Logger, error) {
	if cfg.Store == nil {
		return nil, errors.New("audit: Store is required")
	}
	if cfg.MaxBatch < 0 || cfg.FlushTimeout < 0 {
		return nil, fmt.Errorf("audit: MaxBatch %d and FlushTimeout %s must not be negative", cfg.MaxBatch, cfg.FlushTimeout)
	}
	l := &Logger{st: cfg.Store, log: cfg.Logger, now: cfg.Now, maxBatch: cfg.MaxBatch, flushTimeout: cfg.FlushTimeout,
		m: newMetrics(), wake: make(chan struct{}, 1), done: make(chan struct{})}
	if l.log == nil {
		l.log = slog.Default()
	}
	if l.now == nil {
		l.now = time.Now
	}
	if l.maxBatch == 0 {
		l.maxBatch = DefaultMaxBatch
	}
	if l.flushTimeout == 0 {
		l.flushTimeout = DefaultFlushTimeout
	}
	if cfg.Registry != nil {
		if err := l.m.register(cfg.Registry); err != nil {
			return nil, err
		}
	}
	go l.run()
	return l, nil
}

// Append logs e and returns its seq once it is durable. e is checked first
// (action and result required, detail JSON); text is cut to the column limits.
// If ctx ends first, Append returns its error but the entry may still be
// written.
func (l *Logger) Append(ctx context.Context, e Entry) (int64, error) {
	seqs, err := l.AppendBatch(ctx, []Entry{e})
	if err != nil {
		return 0, err
	}
	return seqs[0], nil
}

// AppendBatch logs es in one transaction (all or none) and returns their seqs,
// in order, once they are durable.
func (l *Logger) AppendBatch(ctx context.Context, es []Entry) ([]int64, error) {
	if len(es) == 0 {
		return nil, nil
	}
	start := l.now()
	p := &pending{entries: make([]store.AuditEntry, len(es)), start: start, done: make(chan result, 1)}
	for i, e := range es {
		rec, err := store.NormalizeAuditEntry(e.record(), start)
		if err != nil {
			return nil, fmt.Errorf("audit: entry %d (%s): %w", i, e.Action, err)
		}
		p.entries[i] = rec
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil, ErrClosed
	}
	l.queue = append(l.queue, p)
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
	select {
	case r := <-p.done:
		return r.seqs, r.err
	case <-ctx.Done():
		return nil, fmt.Errorf("audit: append %s: %w (the entry may still be written)", es[0].Action, ctx.Err())
	}
}

// Close stops accepting entries, writes those queued and stops the flusher;
// it returns early with ctx's error.
func (l *Logger) Close(ctx context.Context) error {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
	select {
	case <-l.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("audit: close: %w", ctx.Err())
	}
}

// run is the flusher: it writes the queue in batches, one transaction at a
// time. Entries arriving during a write join the next batch, so batches grow
// with the load (group commit) without a timer delaying a lone entry.
func (l *Logger) run() {
	defer close(l.done)
	for {
		l.mu.Lock()
		for len(l.queue) == 0 && !l.closed {
			l.mu.Unlock()
			<-l.wake
			l.mu.Lock()
		}
		if len(l.queue) == 0 {
			l.mu.Unlock()
			return
		}
		k, n := 0, 0
		for k < len(l.queue) && (k == 0 || n+len(l.queue[k].entries) <= l.maxBatch) {
			n += len(l.queue[k].entries)
			k++
		}
		batch := l.queue[:k:k]
		l.queue = append([]*pending(nil), l.queue[k:]...)
		l.mu.Unlock()
		l.flush(batch, n)
	}
}

// flush writes batch (n entries) in one transaction and answers its callers.
func (l *Logger) flush(batch []*pending, n int) {
	entries := make([]store.AuditEntry, 0, n)
	for _, p := range batch {
		entries = append(entries, p.entries...)
	}
	// Not any caller's context: a caller giving up must not fail the others.
	ctx, cancel := context.WithTimeout(context.Background(), l.flushTimeout)
	defer cancel()
	stored, err := l.st.AppendAudit(ctx, entries, Seal)
	l.m.batch.Observe(float64(n))
	if err != nil {
		l.m.errors.Add(float64(n))
		l.log.ErrorContext(ctx, "audit: append failed", "entries", n, "err", err)
		err = fmt.Errorf("audit: append: %w", err)
	}
	end := l.now()
	i := 0
	for _, p := range batch {
		r := result{err: err}
		if err == nil {
			r.seqs = make([]int64, len(p.entries))
			for j := range p.entries {
				e := stored[i+j]
				r.seqs[j] = e.Seq
				l.m.entries.WithLabelValues(e.Action, e.Result).Inc()
			}
		}
		i += len(p.entries)
		l.m.seconds.Observe(end.Sub(p.start).Seconds())
		p.done <- r
	}
}

type metrics struct {
	entries *prometheus.CounterVec
	seconds prometheus.Histogram
	batch   prometheus.Histogram
	errors  prometheus.Counter
}

func newMetrics() metrics {
	return metrics{
		entries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tongban_audit_entries_total", Help: "Audit entries written (durable), by action and result.",
		}, []string{"action", "result"}),
		seconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "tongban_audit_append_seconds",
			Help:    "Time from an Append call to its entry being durable (queue wait plus transaction).",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		batch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "tongban_audit_batch_entries", Help: "Entries written per audit transaction (group commit).",
			Buckets: prometheus.ExponentialBuckets(1, 2, 11),
		}),
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tongban_audit_append_errors_total", Help: "Audit entries whose transaction failed (the caller got an error).",
		}),
	}
}

func (m metrics) register(r prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{m.entries, m.seconds, m.batch, m.errors} {
		if err := r.Register(c); err != nil {
			return fmt.Errorf("audit: register metrics: %w", err)
		}
	}
	return nil
}
