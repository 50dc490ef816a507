// Package changefeed publishes every golden-record change to a compacted
// Kafka topic per base library (tongban.golden.<library>), so later
// consumers (the licence store, the open-data portal, subscribing
// departments) follow the population and legal-person libraries.
//
// Changes reach Kafka through an outbox: the merge writes each change into
// the store in the same transaction as the golden record, and the Publisher
// moves outbox rows to Kafka and deletes them only after Kafka has
// acknowledged them (RequireAll). A crash in between publishes a change
// twice, which a compacted topic keyed by subject absorbs.
//
// Message: key = subject ID (citizen ID or USCC); value = the golden record
// as JSON, or no value (a tombstone) when the subject has no field left;
// headers tb-subject-type and tb-library.
package changefeed

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"github.com/tongban/tongban/hub/store"
	"github.com/tongban/tongban/topics"
)

// DefaultTopicPrefix prefixes the library name in the topic name.
const DefaultTopicPrefix = "tongban.golden."

// Topic returns the change topic of a base library.
func Topic(prefix, library string) string { return prefix + library }

// Outbox is what the publisher needs of the store (*store.DB).
type Outbox interface {
	PendingGoldenChanges(ctx context.Context, limit int) ([]store.GoldenChange, error)
	DeleteGoldenChanges(ctx context.Context, ids []int64) error
}

// Config of a Publisher.
type Config struct {
	Brokers     []string // required
	TopicPrefix string   // DefaultTopicPrefix
	Outbox      Outbox   // required
	// Partitions of the change topics the publisher creates (6).
	Partitions int
	Registry   prometheus.Registerer // required
	Logger     *slog.Logger          // slog.Default()
	// Batch is the most changes published at once (1000).
	Batch int
	// Interval is how often an idle publisher looks at the outbox (1s);
	// Notify wakes it sooner.
	Interval time.Duration
	// MaxBackoff bounds the wait after a failure (5s).
	MaxBackoff time.Duration
}

// Publisher moves outbox rows to Kafka.
type Publisher struct {
	cfg       Config
	w         *kafka.Writer
	wake      chan struct{}
	published *prometheus.CounterVec
	failures  prometheus.Counter
	pending   prometheus.Gauge

	mu      sync.Mutex
	ensured map[string]bool // libraries whose topic exists
}

// New creates a publisher and registers its metrics. It does not contact
// Kafka; the topics are created by the hub at start-up.
func New(cfg Config) (*Publisher, error) {
	if len(cfg.Brokers) == 0 || cfg.Outbox == nil || cfg.Registry == nil {
		return nil, errors.New("changefeed: Brokers, Outbox and Registry are required")
	}
	if cfg.TopicPrefix == "" {
		cfg.TopicPrefix = DefaultTopicPrefix
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 1000
	}
	if cfg.Partitions <= 0 {
		cfg.Partitions = 6
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 5 * time.Second
	}
	p := &Publisher{
		cfg:     cfg,
		wake:    make(chan struct{}, 1),
		ensured: map[string]bool{},
		w: &kafka.Writer{
			Addr: kafka.TCP(cfg.Brokers...),
			// Same key, same partition: compaction keeps each subject's last state.
			Balancer:     &kafka.Hash{},
			RequiredAcks: kafka.RequireAll,
			BatchTimeout: 5 * time.Millisecond,
			BatchSize:    cfg.Batch,
			MaxAttempts:  3,
		},
		published: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tongban_golden_published_total",
			Help: "Golden-record changes published to the change topics, by base library.",
		}, []string{"library"}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tongban_golden_publish_failures_total",
			Help: "Failed attempts to publish golden-record changes (retried).",
		}),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tongban_golden_outbox_pending",
			Help: "Golden-record changes read from the outbox in the last round and not yet published.",
		}),
	}
	for _, c := range []prometheus.Collector{p.published, p.failures, p.pending} {
		if err := cfg.Registry.Register(c); err != nil {
			return nil, fmt.Errorf("changefeed: register metrics: %w", err)
		}
	}
	return p, nil
}

// EnsureTopics creates the compacted change topics of libraries that this
// publisher has not seen yet. PublishOnce calls it for every library it
// meets, so an outbox row of a library added or renamed in the catalog
// does not wait for ever on a missing topic.
func (p *Publisher) EnsureTopics(ctx context.Context, libraries []string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	specs := map[string]topics.Spec{}
	for _, lib := range libraries {
		if !p.ensured[lib] {
			specs[Topic(p.cfg.TopicPrefix, lib)] = topics.Spec{Partitions: p.cfg.Partitions, Compact: true}
		}
	}
	if len(specs) == 0 {
		return nil
	}
	if err := topics.EnsureSpecs(ctx, p.cfg.Brokers, specs); err != nil {
		return fmt.Errorf("changefeed: golden-record change topics: %w", err)
	}
	for _, lib := range libraries {
		p.ensured[lib] = true
	}
	return nil
}

// Notify wakes the publisher (after a merge wrote changes). It never blocks.
func (p *Publisher) Notify() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Run publishes until ctx is cancelled, then closes the writer.
func (p *Publisher) Run(ctx context.Context) error {
	defer p.w.Close()
	backoff := 100 * time.Millisecond
	for {
		n, err := p.PublishOnce(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			p.failures.Inc()
			p.cfg.Logger.WarnContext(ctx, "changefeed: publish failed; retrying", "err", err, "backoff", backoff)
			if !sleep(ctx, backoff, nil) {
				return nil
			}
			backoff = min(2*backoff, p.cfg.MaxBackoff)
			continue
		}
		backoff = 100 * time.Millisecond
		if n == p.cfg.Batch {
			continue // more waiting
		}
		if !sleep(ctx, p.cfg.Interval, p.wake) {
			return nil
		}
	}
}

// PublishOnce publishes up to Batch pending changes and deletes them from
// the outbox; it returns how many it published.
func (p *Publisher) PublishOnce(ctx context.Context) (int, error) {
	changes, err := p.cfg.Outbox.PendingGoldenChanges(ctx, p.cfg.Batch)
	if err != nil {
		return 0, fmt.Errorf("changefeed: read outbox: %w", err)
	}
	p.pending.Set(float64(len(changes)))
	if len(changes) == 0 {
		return 0, nil
	}
	libs := make([]string, 0, 2)
	for _, c := range changes {
		if !slices.Contains(libs, c.Library) {
			libs = append(libs, c.Library)
		}
	}
	if err := p.EnsureTopics(ctx, libs); err != nil {
		return 0, err
	}
	msgs := make([]kafka.Message, len(changes))
	ids := make([]int64, len(changes))
	for i, c := range changes {
		msgs[i] = kafka.Message{
			Topic: Topic(p.cfg.TopicPrefix, c.Library),
			Key:   []byte(c.SubjectID),
			Value: c.Payload, // nil: tombstone
			Headers: []kafka.Header{
				{Key: "tb-subject-type", Value: []byte(c.SubjectType)},
				{Key: "tb-library", Value: []byte(c.Library)},
			},
		}
		ids[i] = c.ID
	}
	if err := p.w.WriteMessages(ctx, msgs...); err != nil {
		return 0, fmt.Errorf("changefeed: write %d changes: %w", len(msgs), err)
	}
	if err := p.cfg.Outbox.DeleteGoldenChanges(context.WithoutCancel(ctx), ids); err != nil {
		// Published but still in the outbox: the next round publishes them
		// again, which the compacted topic absorbs.
		return 0, fmt.Errorf("changefeed: delete %d published changes from the outbox: %w", len(ids), err)
	}
	for _, c := range changes {
		p.published.WithLabelValues(c.Library).Inc()
	}
	p.pending.Set(0)
	return len(changes), nil
}

// sleep waits d, or until wake fires; false when ctx ends first.
func sleep(ctx context.Context, d time.Duration, wake <-chan struct{}) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	case <-wake:
		return true
	}
}
