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
// parsed from its raw bytes into typed cells, routed to its partition's Arrow
// builder and the builders are encoded when full (Source.BatchRows) and at
// the end of the page. One pageReader serves one call; its buffers are reused
// across rows and pages, so a row costs no allocation of its own.
type pageReader struct {
	p       *plan
	changes bool // the watermark column follows the catalog columns

	raw   []sql.RawBytes
	dest  []any
	cells []wire.Cell
	// key holds the current row's key as its record key text (the parts
	// joined by wire.KeySeparator), keyEnds where each part ends;
	// keyKnown says whether it has been read yet (for error messages).
	key      []byte
	keyEnds  []int
	keyKnown bool
	isKey    []bool
	subject  []byte

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
		cells:    make([]wire.Cell, len(p.cols)),
		keyEnds:  make([]int, len(p.key)),
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
// every row is the time just before the query was sent. The driver
// interpolates args into the query text (parseDSN), so the rows come in the
// text protocol: every value as the text the converters read, on the first
// page and the later ones alike.
func (r *pageReader) read(ctx context.Context, db *sql.DB, query string, args []any) (connectors.Chunk, error) {
	var chunk connectors.Chunk
	version := time.Now().UnixMicro()
	rows, err := db.QueryContext(ctx, query, args...)
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
		if err := b.AppendCells(r.cells, version); err != nil {
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
		chunk.LastKey = r.keyParts()
		if r.changes {
			if chunk.MaxWatermark, err = watermarkText(r.p.wm.kind, r.wmLast); err != nil {
				return chunk, fmt.Errorf("resource %s: watermark column %s of the row with key (%s): %w",
					r.p.src.Resource, r.p.wm.src.Name, r.keyString(), err)
			}
		}
	}
	return chunk, nil
}

// convertRow converts the scanned row into r.cells and returns its partition.
func (r *pageReader) convertRow() (int, error) {
	p := r.p
	r.keyKnown = false
	r.key = r.key[:0]
	for i, k := range p.key {
		if err := r.convert(k); err != nil {
			return 0, r.rowError(p.cols[k], err)
		}
		if i > 0 {
			r.key = append(r.key, wire.KeySeparator...)
		}
		r.key = wire.AppendCellText(r.key, p.cols[k].field.Type, &r.cells[k])
		r.keyEnds[i] = len(r.key)
	}
	r.keyKnown = true
	for i := range p.cols {
		if r.isKey[i] {
			continue
		}
		if err := r.convert(i); err != nil {
			return 0, r.rowError(p.cols[i], err)
		}
	}
	subject := r.key
	if p.subject >= 0 {
		r.subject = wire.AppendCellText(r.subject[:0], p.cols[p.subject].field.Type, &r.cells[p.subject])
		subject = r.subject
	}
	return wire.PartitionBytes(subject, p.src.Partitions), nil
}

// convert parses column i of the scanned row into its cell; SQL NULL is a
// NULL cell.
func (r *pageReader) convert(i int) error {
	c := &r.cells[i]
	*c = wire.Cell{Null: r.raw[i] == nil}
	if c.Null {
		return nil
	}
	return r.p.cols[i].conv(r.raw[i], c)
}

// keyParts is the current row's key, one text per key column.
func (r *pageReader) keyParts() []string {
	parts := make([]string, len(r.keyEnds))
	start := 0
	for i, end := range r.keyEnds {
		parts[i] = string(r.key[start:end])
		start = end + len(wire.KeySeparator)
	}
	return parts
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
	var text []string
	if r.keyKnown {
		text = r.keyParts()
	}
	for i, k := range r.p.key {
		if r.keyKnown {
			parts[i] = r.p.cols[k].field.Name + "=" + text[i]
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
