// Package pipeline moves one resource's rows from its connector to Kafka.
// A reader goroutine calls the connector (a snapshot in key order from the
// checkpoint, then changes since the watermark minus an overlap, every
// interval; periodically a reconcile that turns rows deleted at the source
// into tombstones) and puts chunks into a bounded queue, so the reader
// blocks while Kafka is behind. A producer goroutine writes each chunk's
// batches as Kafka messages, synchronously, and advances the checkpoint only
// after Kafka acknowledged every message of the chunk. Kafka or connector
// failures never end the pipeline: it keeps its position, backs off and
// retries, and reports the failure in metrics, logs and its status.
package pipeline

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/tongban/tongban/agent/checkpoint"
	"github.com/tongban/tongban/agent/config"
	"github.com/tongban/tongban/agent/hubclient"
	"github.com/tongban/tongban/agent/metrics"
	"github.com/tongban/tongban/connectors"
)

// Writer is what a pipeline needs of Kafka; *kafka.Writer (synchronous,
// RequiredAcks all) is one. WriteMessages returns after every message is
// acknowledged, or with an error.
type Writer interface {
	WriteMessages(ctx context.Context, msgs ...kafka.Message) error
}

// KeyLister pages through the hub's live keys of a resource in byte order;
// *hubclient.Client is one.
type KeyLister interface {
	Keys(ctx context.Context, resource, after string, limit int) (hubclient.KeyPage, error)
}

// Checkpoints loads and saves checkpoints; *checkpoint.Store is one.
type Checkpoints interface {
	Load(resource string) (checkpoint.Checkpoint, bool, error)
	Save(cp checkpoint.Checkpoint) error
}

// Defaults of Config.
const (
	DefaultWriteBackoffMin     = 100 * time.Millisecond
	DefaultWriteBackoffMax     = 10 * time.Second
	DefaultConnectorBackoffMin = time.Second
	DefaultConnectorBackoffMax = 30 * time.Second
	DefaultKeyPageSize         = 1000 // the hub serves at most 1000 keys a page
	DefaultWriteTimeout        = 10 * time.Second
)

// PhaseError is the status phase of a resource that cannot run (its source
// does not match the catalog, or its connector does not start).
const PhaseError = "error"

// Config is everything one pipeline needs.
type Config struct {
	File       string // the agent config file, for messages
	Resource   config.Resource
	Definition hubclient.Definition
	Dept       string
	Partitions int // of the ingest topic
	// QueueChunks bounds the chunks read ahead of Kafka.
	QueueChunks  int
	WriteTimeout time.Duration // bound of one write attempt
	// TempDir holds reconcile's spilled key runs ("" = the system's).
	TempDir string

	Connector   connectors.Connector
	Writer      Writer
	Hub         KeyLister // nil disables reconcile
	Checkpoints Checkpoints
	Metrics     *metrics.Metrics
	Logger      *slog.Logger
	// Notify, if set, is called when the status changes in a way worth a
	// prompt heartbeat (phase, error). It must not block.
	Notify func()

	WriteBackoffMin, WriteBackoffMax         time.Duration
	ConnectorBackoffMin, ConnectorBackoffMax time.Duration
	KeyPageSize                              int // hub keys per request
	SortMemoryKeys                           int // reconcile keys held in memory before spilling
}

// Pipeline runs one resource.
type Pipeline struct {
	cfg   Config
	src   connectors.Source
	log   *slog.Logger
	m     *metrics.Metrics
	code  string
	runID string
	seq   atomic.Uint64

	// reconcileOK is false when the configured primary key differs from the
	// catalog's: the hub's record keys could not be matched.
	reconcileOK bool

	rowsRead, rowsSent, rowsAcked atomic.Int64

	mu        sync.Mutex
	cp        checkpoint.Checkpoint // last saved
	phase     string                // status phase (checkpoint phase, or PhaseError)
	errs      map[string]string     // last error by origin (kafka, connector, …)
	lastError string
}

// New checks the configuration against the catalog definition and returns
// a pipeline ready to Run.
func New(cfg Config) (*Pipeline, error) {
	if cfg.Connector == nil || cfg.Writer == nil || cfg.Checkpoints == nil || cfg.Metrics == nil {
		return nil, errors.New("pipeline: connector, writer, checkpoints and metrics are required")
	}
	if cfg.Partitions < 1 {
		return nil, fmt.Errorf("pipeline %s: partitions %d: want at least 1", cfg.Resource.Code, cfg.Partitions)
	}
	if cfg.Definition.Resource.Code != cfg.Resource.Code {
		return nil, fmt.Errorf("pipeline %s: catalog definition is of resource %q", cfg.Resource.Code, cfg.Definition.Resource.Code)
	}
	src, err := BuildSource(cfg.File, cfg.Resource, cfg.Definition, cfg.Partitions)
	if err != nil {
		return nil, err
	}
	if cfg.QueueChunks < 1 {
		cfg.QueueChunks = config.DefaultQueueChunks
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = DefaultWriteTimeout
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.WriteBackoffMin, DefaultWriteBackoffMin)
	def(&cfg.WriteBackoffMax, DefaultWriteBackoffMax)
	def(&cfg.ConnectorBackoffMin, DefaultConnectorBackoffMin)
	def(&cfg.ConnectorBackoffMax, DefaultConnectorBackoffMax)
	if cfg.KeyPageSize <= 0 {
		cfg.KeyPageSize = DefaultKeyPageSize
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	var id [6]byte
	_, _ = rand.Read(id[:])
	p := &Pipeline{
		cfg: cfg, src: src, m: cfg.Metrics, code: cfg.Resource.Code,
		log:         log.With("resource", cfg.Resource.Code),
		runID:       hex.EncodeToString(id[:]),
		reconcileOK: slices.Equal(src.PrimaryKey, cfg.Definition.Resource.PrimaryKey),
		errs:        make(map[string]string),
		phase:       checkpoint.PhaseSnapshot,
	}
	return p, nil
}

// Source is what the pipeline asks the connector for.
func (p *Pipeline) Source() connectors.Source { return p.src }

// Run moves rows until ctx is done, then finishes the chunk being written
// and returns nil. It returns an error only when the resource cannot run at
// all (its checkpoint is unreadable); source mismatches are retried, with
// the error in the status, so a fixed table is picked up without a restart.
func (p *Pipeline) Run(ctx context.Context) error {
	cp, ok, err := p.cfg.Checkpoints.Load(p.code)
	if err != nil {
		p.setPhase(PhaseError)
		p.setError("checkpoint", err)
		return err
	}
	fp := p.cfg.Definition.SchemaFingerprint()
	switch {
	case !ok:
		cp = checkpoint.Checkpoint{Resource: p.code, Phase: checkpoint.PhaseSnapshot, Fingerprint: fp}
		p.log.Info("no checkpoint: starting with a full snapshot")
	case cp.Fingerprint != fp:
		p.log.Warn("the catalog schema changed since the checkpoint: starting a new full snapshot",
			"checkpoint_fingerprint", cp.Fingerprint, "fingerprint", fp)
		cp = checkpoint.Checkpoint{Resource: p.code, Phase: checkpoint.PhaseSnapshot, Fingerprint: fp}
	case p.cfg.Resource.Mode == config.ModeSnapshot && cp.Phase == checkpoint.PhaseIncremental:
		p.log.Info("mode changed to snapshot: the next full snapshot is due after the interval", "checkpoint", cp.Summary())
		cp.Phase = checkpoint.PhaseIdle
	case p.cfg.Resource.Mode == config.ModeIncremental && cp.Phase == checkpoint.PhaseIdle:
		p.log.Info("mode changed to incremental: starting with a full snapshot to find the watermark")
		cp = checkpoint.Checkpoint{Resource: p.code, Phase: checkpoint.PhaseSnapshot, Fingerprint: fp}
	default:
		p.log.Info("resuming from checkpoint", "checkpoint", cp.Summary())
	}
	p.mu.Lock()
	p.cp = cp
	p.mu.Unlock()
	p.setPhase(cp.Phase)

	if err := p.describe(ctx); err != nil {
		return nil // ctx done
	}
	if !p.reconcileOK && p.cfg.Resource.ReconcileInterval > 0 && p.cfg.Hub != nil {
		p.log.Warn("reconcile disabled: the configured primary key differs from the catalog's, so source keys cannot be matched with the hub's",
			"primary_key", p.src.PrimaryKey, "catalog_primary_key", p.cfg.Definition.Resource.PrimaryKey)
	}

	queue := make(chan item, p.cfg.QueueChunks)
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); p.read(ctx, cp.Clone(), queue) }()
	go func() { defer wg.Done(); p.produce(ctx, queue) }()
	go func() { defer wg.Done(); p.watchLag(ctx) }()
	wg.Wait()
	p.m.QueueDepth.WithLabelValues(p.code).Set(0)
	return nil
}

// describe checks the source against the catalog, retrying with a backoff
// while it fails; it returns an error only when ctx is done.
func (p *Pipeline) describe(ctx context.Context) error {
	b := newBackoff(p.cfg.ConnectorBackoffMin, p.cfg.ConnectorBackoffMax)
	for {
		cols, err := p.cfg.Connector.Describe(ctx, p.src)
		if err == nil {
			p.log.Info("source matches the catalog", "table", p.src.Table, "source_columns", len(cols))
			p.clearError("describe")
			p.mu.Lock()
			phase := p.cp.Phase
			p.mu.Unlock()
			p.setPhase(phase)
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		p.m.ConnectorErrors.WithLabelValues(p.code).Inc()
		p.setPhase(PhaseError)
		p.setError("describe", fmt.Errorf("resource stopped until the source can be read and matches the catalog: %w", err))
		p.log.Error("resource stopped: the source cannot be read or does not match the catalog; checking again later",
			"error", err, "retry_in", b.peek())
		if !b.wait(ctx) {
			return ctx.Err()
		}
	}
}

// newBatchID returns a batch id unique across runs.
func (p *Pipeline) newBatchID() string {
	return fmt.Sprintf("%s-%s-%d", p.code, p.runID, p.seq.Add(1))
}

// watchLag keeps the lag gauge current.
func (p *Pipeline) watchLag(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		p.m.CheckpointLag.WithLabelValues(p.code).Set(p.lag(time.Now()))
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
