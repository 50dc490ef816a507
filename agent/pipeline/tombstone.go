package pipeline

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"

	"github.com/tongban/tongban/connectors"
	"github.com/tongban/tongban/schemas"
	"github.com/tongban/tongban/wire"
)

// tombstoner builds delete batches: the primary-key fields plus _version,
// one Arrow batch per partition.
//
// Partitioning: a tombstone must land where the row's upserts landed when
// possible. If the subject field is part of the primary key, its value picks
// the partition, as for upserts. Otherwise (a subject-keyed resource whose
// key is not the subject, e.g. a licence number) the tombstone only knows
// the key, so the record key picks the partition; the hub applies records by
// version, not by arrival order, so a tombstone on another partition than the
// row's upserts is still applied correctly.
type tombstoner struct {
	p        *Pipeline
	schema   schemas.Schema // the primary-key fields
	version  int64
	subject  int // index of the subject field in the key; -1: the record key
	builders []*wire.Builder
	rows     int
	values   []any
}

func newTombstoner(p *Pipeline, version int64) (*tombstoner, error) {
	r := p.cfg.Definition.Resource
	s, err := r.Schema.Select(r.PrimaryKey)
	if err != nil {
		return nil, fmt.Errorf("primary-key schema of %s: %w", r.Code, err)
	}
	return &tombstoner{
		p: p, schema: s, version: version,
		subject:  slices.Index(r.PrimaryKey, r.SubjectKeyField()),
		builders: make([]*wire.Builder, p.src.Partitions),
		values:   make([]any, len(s.Fields)),
	}, nil
}

// add appends a tombstone for a record key.
func (t *tombstoner) add(key string) error {
	parts := wire.SplitKey(key)
	if len(parts) != len(t.schema.Fields) {
		return fmt.Errorf("key has %d parts, the primary key has %d fields", len(parts), len(t.schema.Fields))
	}
	for i, f := range t.schema.Fields {
		v, err := keyValue(f.Type, parts[i])
		if err != nil {
			return fmt.Errorf("field %q: %w", f.Name, err)
		}
		t.values[i] = v
	}
	subject := key
	if t.subject >= 0 {
		subject = parts[t.subject]
	}
	part := wire.Partition(subject, t.p.src.Partitions)
	if t.builders[part] == nil {
		t.builders[part] = wire.NewBuilder(nil, t.schema)
	}
	if err := t.builders[part].Append(t.values, t.version); err != nil {
		return err
	}
	t.rows++
	return nil
}

// chunk encodes the pending tombstones and resets.
func (t *tombstoner) chunk() connectors.Chunk {
	var c connectors.Chunk
	for part, b := range t.builders {
		if b == nil || b.Rows() == 0 {
			continue
		}
		rows := b.Rows()
		rec := b.NewRecord()
		payload, err := wire.EncodeRecord(rec)
		rec.Release()
		if err != nil {
			// Encoding a well-formed in-memory batch does not fail; if it
			// ever does, these tombstones wait for the next reconcile.
			t.p.log.Error("reconcile: encode tombstones", "error", err)
			continue
		}
		c.Batches = append(c.Batches, connectors.PartitionBatch{Partition: part, IPC: payload, Rows: rows})
		c.Rows += rows
	}
	t.rows = 0
	return c
}

func (t *tombstoner) release() {
	for _, b := range t.builders {
		if b != nil {
			b.Release()
		}
	}
}

// keyValue turns one part of a record key's text back into a value the
// Arrow builder takes (the inverse of wire.Text for key types).
func keyValue(t schemas.Type, s string) (any, error) {
	switch t.Kind {
	case schemas.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not a bool", s)
		}
		return b, nil
	case schemas.Bytes:
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not base64", s)
		}
		return b, nil
	}
	return s, nil
}
