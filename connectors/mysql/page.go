package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/tongban/tongban/connectors"
	"github.com/tongban/tongban/wire"
)

// pageReader runs page queries and turns their rows into chunks: each row is
// converted from its raw bytes, routed to its partition's Arrow builder and
// the builders are encoded when full (Source.BatchRows) and at the end of the
// page. One pageReader serves one call; its buffers are reused across pages.
type pageReader struct {
	p       *plan
	changes bool // the watermark column follows the catalog columns

	raw  []sql.RawBytes
	dest []any
	vals []any
	// keyText holds the current row's key as text; keyKnown says whether
	// it has been read yet (for error messages).
	keyText  []string
	keyKnown bool
	isKey    []bool

	builders []*wire.Builder // by partition, created on first use
	wmLast   []byte
}

func newPageReader(p *plan, changes bool) *pageReader {
	n := len(p.cols)
	if changes {
		n++
	}
	r := &pageReader{
		p: p, changes: changes,
		raw: make([]sql.RawBytes, n), dest: make([]any, n),
		vals:     make([]any, len(p.cols)),
		keyText:  make([]string, len(p.key)),
		isKey:    make([]bool, len(p.cols)),
		builders: make([]*wire.Builder, max(p.src.Partitions, 1)),
	}
	for i := range r.raw {
		r.dest[i] = &r.raw[i]
	}
	for _, k := range p.key {
		r.isKey[k] = true
	}
	return r
}

func (r *pageReader) release() {
	for _, b := range r.builders {
		if b != nil {
			b.Release()
		}
	}
}

// read runs one page query and returns its rows as a chunk. _version of
// every row is the time just before the query was sent.
func (r *pageReader) read(ctx context.Context, stmts *stmtCache, query string, args []any) (connectors.Chunk, error) {
	var chunk connectors.Chunk
	stmt, err := stmts.get(ctx, query)
	if err != nil {
		return chunk, fmt.Errorf("resource %s: %w", r.p.src.Resource, err)
	}
	version := time.Now().UnixMicro()
	rows, err := stmt.QueryContext(ctx, args...)
	if err != nil {
		return chunk, fmt.Errorf("resource %s: read %s: %w", r.p.src.Resource, r.p.table, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := rows.Scan(r.dest...); err != nil {
			return chunk, fmt.Errorf("resource %s: read %s: %w", r.p.src.Resource, r.p.table, err)
		}
		part, err := r.convertRow()
		if err != nil {
			return chunk, err
		}
		b := r.builder(part)
		if err := b.Append(r.vals, version); err != nil {
			return chunk, fmt.Errorf("resource %s: row with key (%s): %w", r.p.src.Resource, r.keyString(), err)
		}
		chunk.Rows++
		if r.p.src.BatchRows > 0 && b.Rows() >= r.p.src.BatchRows {
			if err := r.flush(&chunk, part); err != nil {
				return chunk, err
			}
		}
		if r.changes {
			r.wmLast = append(r.wmLast[:0], r.raw[len(r.raw)-1]...)
		}
	}
	if err := rows.Err(); err != nil {
		return chunk, fmt.Errorf("resource %s: read %s: %w", r.p.src.Resource, r.p.table, err)
	}
	for part, b := range r.builders {
		if b != nil && b.Rows() > 0 {
			if err := r.flush(&chunk, part); err != nil {
				return chunk, err
			}
		}
	}
	if chunk.Rows > 0 {
		chunk.LastKey = append([]string(nil), r.keyText...)
		if r.changes {
			if chunk.MaxWatermark, err = watermarkText(r.p.wm.kind, r.wmLast); err != nil {
				return chunk, fmt.Errorf("resource %s: watermark column %s of the row with key (%s): %w",
					r.p.src.Resource, r.p.wm.src.Name, r.keyString(), err)
			}
		}
	}
	return chunk, nil
}

// convertRow converts the scanned row into r.vals and returns its partition.
func (r *pageReader) convertRow() (int, error) {
	p := r.p
	r.keyKnown = false
	for i, k := range p.key {
		v, err := r.value(k)
		if err == nil {
			r.keyText[i], err = keyText(p.cols[k].field.Type, v)
		}
		if err != nil {
			return 0, r.rowError(p.cols[k], err)
		}
		r.vals[k] = v
	}
	r.keyKnown = true
	for i := range p.cols {
		if r.isKey[i] {
			continue
		}
		v, err := r.value(i)
		if err != nil {
			return 0, r.rowError(p.cols[i], err)
		}
		r.vals[i] = v
	}
	var subject string
	if p.subject >= 0 {
		var err error
		if subject, err = keyText(p.cols[p.subject].field.Type, r.vals[p.subject]); err != nil {
			return 0, r.rowError(p.cols[p.subject], err)
		}
	} else {
		subject = wire.RecordKey(r.keyText)
	}
	return wire.Partition(subject, p.src.Partitions), nil
}

// value converts column i of the scanned row; SQL NULL is nil.
func (r *pageReader) value(i int) (any, error) {
	if r.raw[i] == nil {
		return nil, nil
	}
	return r.p.cols[i].conv(r.raw[i])
}

func (r *pageReader) builder(part int) *wire.Builder {
	if r.builders[part] == nil {
		r.builders[part] = wire.NewBuilder(nil, r.p.schema)
	}
	return r.builders[part]
}

// flush encodes a partition's rows as one batch of the chunk.
func (r *pageReader) flush(chunk *connectors.Chunk, part int) error {
	b := r.builders[part]
	rows := b.Rows()
	rec := b.NewRecord()
	defer rec.Release()
	ipc, err := wire.EncodeRecord(rec)
	if err != nil {
		return fmt.Errorf("resource %s: %w", r.p.src.Resource, err)
	}
	chunk.Batches = append(chunk.Batches, connectors.PartitionBatch{Partition: part, IPC: ipc, Rows: rows})
	return nil
}

// keyString renders the current row's key for messages.
func (r *pageReader) keyString() string {
	parts := make([]string, len(r.p.key))
	for i, k := range r.p.key {
		if r.keyKnown {
			parts[i] = r.p.cols[k].field.Name + "=" + r.keyText[i]
		} else {
			parts[i] = r.p.cols[k].field.Name + " raw " + quoteRaw(r.raw[k])
		}
	}
	return strings.Join(parts, ", ")
}

// rowError names the resource, the column and the row's key.
func (r *pageReader) rowError(col planColumn, err error) error {
	return fmt.Errorf("resource %s: column %s (field %s) of the row with key (%s): %w",
		r.p.src.Resource, col.src.Name, col.field.Name, r.keyString(), err)
}
