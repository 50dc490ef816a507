// Package connectors defines what the agent asks of a department database:
// its schema, a snapshot in chunks, changes since a watermark, its key set and
// a lookup by key. Connectors run as go-plugin processes (see package plugin)
// so a crashing driver cannot take the agent down; the built-in ones are the
// agent binary re-executed, an external one is any binary that serves the same
// gRPC protocol.
package connectors

import (
	"context"

	"github.com/tongban/tongban/schemas"
)

// Column maps one catalog field to its source column.
type Column struct {
	Field schemas.Field // the catalog field: name and type of the value the hub receives
	// Source is the column name in the source table; empty means Field.Name.
	Source string
	// Encoding names the real encoding of a text column whose declared charset
	// is wrong (a latin1 column holding GBK bytes): "gbk", "gb18030" or empty.
	Encoding string
}

// SourceName returns the source column name.
func (c Column) SourceName() string {
	if c.Source != "" {
		return c.Source
	}
	return c.Field.Name
}

// Source says where a resource's rows are and how to cut them into batches.
type Source struct {
	Resource string // resource code, for errors and logs
	DSN      string // driver-specific connection string
	Table    string // table name (may be schema-qualified)
	Columns  []Column
	// PrimaryKey are catalog field names; their source columns must form the table's key.
	PrimaryKey []string
	// Watermark is the source column that grows on every insert and update
	// (DATETIME/TIMESTAMP or an integer); empty means no incremental mode.
	Watermark string
	// SubjectKey is the catalog field whose value picks the partition; empty
	// means the record key does.
	SubjectKey string
	Partitions int // partitions of the ingest topic (>= 1)
	ChunkRows  int // rows per chunk (the agent's unit of checkpointing)
	// BatchRows caps the rows in one Arrow batch inside a chunk; 0 means no cap.
	BatchRows int
}

// SourceColumn describes one column as the source database declares it.
type SourceColumn struct {
	Name       string
	SourceType string // the database's own type, e.g. "varchar(18)", "decimal(18,2)"
	Nullable   bool
	Charset    string
	PrimaryKey bool
}

// PartitionBatch is one Arrow IPC stream of rows that all land on Partition.
type PartitionBatch struct {
	Partition int
	IPC       []byte
	Rows      int
}

// Chunk is a unit of reading: the rows of one query page, already split by
// partition and encoded, with the position to resume after it.
type Chunk struct {
	Batches []PartitionBatch
	Rows    int
	// LastKey is the primary key of the last row in the chunk (source order).
	LastKey []string
	// MaxWatermark is the watermark of the last row, in the connector's
	// canonical text form (Changes only).
	MaxWatermark string
}

// Connector is implemented by every connector, in-process and over gRPC alike.
type Connector interface {
	// Describe returns the source columns and fails naming every catalog field
	// that is missing from the source or whose source type cannot carry the
	// catalog type.
	Describe(ctx context.Context, src Source) ([]SourceColumn, error)
	// Snapshot reads every row in primary-key order, starting after the key
	// given (nil: from the first row), calling emit once per chunk. A chunk is
	// emitted only after it is fully read. emit's error stops the read and is returned.
	Snapshot(ctx context.Context, src Source, after []string, emit func(Chunk) error) error
	// Changes reads rows whose watermark is >= since (empty: all rows), in
	// (watermark, primary key) order, calling emit once per chunk.
	Changes(ctx context.Context, src Source, since string, emit func(Chunk) error) error
	// KeySet reads every primary key in key order, calling emit with pages of keys.
	KeySet(ctx context.Context, src Source, emit func(keys [][]string) error) error
	// Lookup reads one row by primary key; a missing row is a Chunk with Rows == 0.
	Lookup(ctx context.Context, src Source, key []string) (Chunk, error)
	// Close releases connections.
	Close() error
}
