package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tongban/tongban/hub/store"
	"github.com/tongban/tongban/wire"
)

// DefaultGroupID is the consumer group of the hub.
const DefaultGroupID = "tongban-hub"

// Store is what ingest needs of the hub store (*store.DB).
type Store interface {
	ApplyRecords(ctx context.Context, recs []store.Record) (store.ApplyResult, error)
	SchemaVersions(ctx context.Context, resource string) ([]store.SchemaVersion, error)
	AddDeadLetter(ctx context.Context, d store.DeadLetter) error
}

// QualityStore keeps quarantine entries and quality fixes (*store.DB).
type QualityStore interface {
	UpdateQuarantine(ctx context.Context, ups []store.QuarantineUpdate) (store.QuarantineResult, error)
	RecordFixes(ctx context.Context, fixes []store.QualityFix) error
}

// Merger merges the subjects whose source records changed into golden
// records (package merge).
type Merger interface {
	Merge(ctx context.Context, refs []store.SubjectRef) error
}

// Config of an Ingester. Zero values take the defaults named on each field.
type Config struct {
	Brokers         []string // Kafka bootstrap addresses; required
	Topic           string   // ingest topic; wire.DefaultIngestTopic
	DeadLetterTopic string   // wire.DefaultDeadLetterTopic
	GroupID         string   // DefaultGroupID

	Store    Store                 // required
	Catalog  Catalog               // required; *catalog.Catalog
	Registry prometheus.Registerer // metrics are registered here; required
	Logger   *slog.Logger          // slog.Default()

	// Quality, when set, turns on the quality checks: every upsert is checked
	// against its resource's rules; failures are quarantined here instead of
	// stored. Without it every record is stored unchecked.
	Quality QualityStore
	// Merger, when set, is called after every store commit with the
	// subjects that changed, before the offsets are committed.
	Merger Merger

	// MaxGroupMessages bounds the messages applied in one store transaction
	// (64); MaxGroupRows bounds their rows (20000; a single larger message is
	// still applied alone).
	MaxGroupMessages int
	MaxGroupRows     int
	// Linger is how long to wait for more messages once a group has one (10ms).
	Linger time.Duration
	// MinBackoff and MaxBackoff bound the wait between retries of a failed
	// store or Kafka write (100ms, 5s).
	MinBackoff, MaxBackoff time.Duration
}

func (c *Config) setDefaults() error {
	if len(c.Brokers) == 0 {
		return errors.New("ingest: no Kafka brokers")
	}
	if c.Store == nil {
		return errors.New("ingest: no store")
	}
	if c.Catalog == nil {
		return errors.New("ingest: no catalog")
	}
	if c.Registry == nil {
		return errors.New("ingest: no metrics registry")
	}
	if c.Topic == "" {
		c.Topic = wire.DefaultIngestTopic
	}
	if c.DeadLetterTopic == "" {
		c.DeadLetterTopic = wire.DefaultDeadLetterTopic
	}
	if c.Topic == c.DeadLetterTopic {
		return fmt.Errorf("ingest: the dead-letter topic must differ from the ingest topic %q", c.Topic)
	}
	if c.GroupID == "" {
		c.GroupID = DefaultGroupID
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.MaxGroupMessages <= 0 {
		c.MaxGroupMessages = 64
	}
	if c.MaxGroupRows <= 0 {
		c.MaxGroupRows = 20000
	}
	if c.Linger <= 0 {
		c.Linger = 10 * time.Millisecond
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = 100 * time.Millisecond
	}
	if c.MaxBackoff < c.MinBackoff {
		c.MaxBackoff = max(5*time.Second, c.MinBackoff)
	}
	return nil
}
