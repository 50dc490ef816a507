// Package config reads and validates the agent's YAML configuration: the
// department, the hub, Kafka, the state directory and, per resource, where
// its rows are and how to read them. Every option that can have a default
// has one; a bad file is refused with errors naming the file, the line and
// the key.
package config

import (
	"log/slog"
	"time"
)

// Defaults of the options.
const (
	DefaultTopic             = "tongban.ingest"
	DefaultWriteTimeout      = 10 * time.Second
	DefaultStateDir          = "data/agent"
	DefaultMetricsListen     = "127.0.0.1:9101"
	DefaultQueueChunks       = 4
	DefaultHeartbeatInterval = 10 * time.Second
	DefaultConnector         = "mysql"
	DefaultInterval          = 10 * time.Second // incremental mode: pause between change polls
	DefaultSnapshotInterval  = time.Hour        // snapshot mode: pause between full snapshots
	DefaultOverlap           = 5 * time.Second
	DefaultReconcileInterval = time.Minute
	DefaultChunkRows         = 5000
)

// MetricsOff as metrics_listen disables the metrics endpoint.
const MetricsOff = "off"

// Limits of numeric options.
const (
	MaxQueueChunks = 1024
	MaxChunkRows   = 1_000_000
)

// Resource modes.
const (
	// ModeSnapshot reads the whole table, then again every interval.
	ModeSnapshot = "snapshot"
	// ModeIncremental reads the whole table once, then polls the watermark.
	ModeIncremental = "incremental"
)

// Config is a loaded and validated agent configuration.
type Config struct {
	// File is the path the configuration was read from (for messages).
	File string
	// Dept is the department code (its USCC) the agent sends for.
	Dept string
	// AgentID names this agent at the hub; default dept + "-" + hostname.
	AgentID string
	Hub     Hub
	Kafka   Kafka
	// StateDir holds the checkpoints and the cached catalog definitions.
	StateDir string
	// MetricsListen is the host:port of /metrics; "" means disabled.
	MetricsListen string
	// QueueChunks bounds the chunks read ahead of Kafka per resource.
	QueueChunks int
	Resources   []Resource
}

// Hub says how to reach the hub.
type Hub struct {
	URL   string
	Token string
	// HeartbeatInterval is the pause between heartbeats.
	HeartbeatInterval time.Duration
}

// Kafka says where to send the batches.
type Kafka struct {
	Brokers      []string
	Topic        string
	WriteTimeout time.Duration // bound of one attempt to write a chunk
}

// Resource is one catalog resource the agent reads from a source table.
type Resource struct {
	Code string
	// Connector is the built-in connector's name; empty when ConnectorPath is set.
	Connector string
	// ConnectorPath is an external connector plugin binary (absolute or
	// relative to the working directory); empty for a built-in one.
	ConnectorPath string
	DSN           string
	Table         string
	// Columns maps catalog field → source column where they differ.
	Columns map[string]string
	// Encodings maps catalog field → real encoding (gbk, gb18030) of text
	// stored in a column declared with another charset.
	Encodings map[string]string
	// PrimaryKey overrides the catalog's primary key (catalog field names).
	PrimaryKey        []string
	Watermark         string
	Mode              string
	Interval          time.Duration
	Overlap           time.Duration
	ReconcileInterval time.Duration // 0 disables reconcile
	ChunkRows         int
	BatchRows         int // cap of rows per Arrow batch inside a chunk; 0: no cap
	// Live lets the agent answer live lookups (请求响应) of the resource
	// when the catalog marks it live; false refuses them. Default true.
	Live bool
	// Line is where the resource starts in the file, for messages.
	Line int
}

// ConnectorName names the resource's connector for logs: the built-in name
// or the external binary's path.
func (r Resource) ConnectorName() string {
	if r.ConnectorPath != "" {
		return r.ConnectorPath
	}
	return r.Connector
}

// LogValue keeps the DSN's password out of logs.
func (r Resource) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("code", r.Code),
		slog.String("connector", r.ConnectorName()),
		slog.String("dsn", RedactDSN(r.DSN)),
		slog.String("table", r.Table),
		slog.String("mode", r.Mode),
	)
}

// Resource returns the resource with that code.
func (c *Config) Resource(code string) (Resource, bool) {
	for _, r := range c.Resources {
		if r.Code == code {
			return r, true
		}
	}
	return Resource{}, false
}

// Codes lists the resource codes in file order.
func (c *Config) Codes() []string {
	out := make([]string, len(c.Resources))
	for i, r := range c.Resources {
		out[i] = r.Code
	}
	return out
}
