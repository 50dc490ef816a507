package mysql

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/tongban/tongban/connectors"
	"github.com/tongban/tongban/wire"
)

// Describe implements connectors.Connector: the table's columns, or an error
// naming every catalog field that is missing or of an incompatible type.
func (c *Connector) Describe(ctx context.Context, src connectors.Source) ([]connectors.SourceColumn, error) {
	_, p, err := c.open(ctx, src, false)
	if err != nil {
		return nil, err
	}
	return p.sourceColumns(), nil
}

// Snapshot implements connectors.Connector with keyset pagination:
// SELECT … WHERE key > last key ORDER BY key LIMIT chunk rows, one chunk per page.
func (c *Connector) Snapshot(ctx context.Context, src connectors.Source, after []string, emit func(connectors.Chunk) error) error {
	db, p, err := c.open(ctx, src, true)
	if err != nil {
		return err
	}
	var args []any
	if len(after) > 0 {
		if args, err = p.afterArgs(after); err != nil {
			return err
		}
	}
	r := newPageReader(p, false)
	defer r.release()
	for {
		chunk, err := r.read(ctx, db, p.snapshotQuery(args != nil), args)
		if err != nil {
			return err
		}
		if chunk.Rows > 0 {
			if err := emit(chunk); err != nil {
				return err
			}
		}
		if chunk.Rows < p.chunkRows {
			return nil
		}
		if args, err = p.afterArgs(chunk.LastKey); err != nil {
			return err
		}
	}
}

// Changes implements connectors.Connector: rows with watermark >= since in
// (watermark, key) order, paged by WHERE wm > ? OR (wm = ? AND key > ?).
// Rows whose watermark is NULL are never changes.
func (c *Connector) Changes(ctx context.Context, src connectors.Source, since string, emit func(connectors.Chunk) error) error {
	if src.Watermark == "" {
		return fmt.Errorf("resource %s: no watermark column configured, so there are no changes to read", src.Resource)
	}
	db, p, err := c.open(ctx, src, true)
	if err != nil {
		return err
	}
	var args []any
	if since != "" {
		v, err := watermarkParam(p.wm.kind, since)
		if err != nil {
			return fmt.Errorf("resource %s: since %q for watermark column %s (%s): %w", src.Resource, since, p.wm.src.Name, p.wm.src.ColumnType, err)
		}
		args = []any{v}
	}
	r := newPageReader(p, true)
	defer r.release()
	query := p.changesQuery(true, since != "")
	for {
		chunk, err := r.read(ctx, db, query, args)
		if err != nil {
			return err
		}
		if chunk.Rows > 0 {
			if err := emit(chunk); err != nil {
				return err
			}
		}
		if chunk.Rows < p.chunkRows {
			return nil
		}
		wm, err := watermarkParam(p.wm.kind, chunk.MaxWatermark)
		if err != nil {
			return fmt.Errorf("resource %s: watermark %q: %w", src.Resource, chunk.MaxWatermark, err)
		}
		keys, err := p.afterArgs(chunk.LastKey)
		if err != nil {
			return err
		}
		args = append([]any{wm, wm}, keys...)
		query = p.changesQuery(false, false)
	}
}

// KeySet implements connectors.Connector: the primary keys in key order,
// one page of at most chunk rows keys per call of emit.
func (c *Connector) KeySet(ctx context.Context, src connectors.Source, emit func(keys [][]string) error) error {
	db, p, err := c.open(ctx, src, true)
	if err != nil {
		return err
	}
	var args []any
	raw := make([]sql.RawBytes, len(p.key))
	dest := make([]any, len(raw))
	for i := range raw {
		dest[i] = &raw[i]
	}
	for {
		page, err := func() ([][]string, error) {
			rows, err := db.QueryContext(ctx, p.keySetQuery(args != nil), args...)
			if err != nil {
				return nil, fmt.Errorf("resource %s: read keys of %s: %w", src.Resource, p.table, err)
			}
			defer rows.Close()
			var page [][]string
			for rows.Next() {
				if err := rows.Scan(dest...); err != nil {
					return nil, fmt.Errorf("resource %s: read keys of %s: %w", src.Resource, p.table, err)
				}
				key := make([]string, len(p.key))
				for i, k := range p.key {
					col := p.cols[k]
					cell := wire.Cell{Null: raw[i] == nil}
					var err error
					if !cell.Null {
						err = col.conv(raw[i], &cell)
					}
					key[i] = cellText(col.field.Type, &cell)
					if err != nil {
						return nil, fmt.Errorf("resource %s: column %s (field %s) of the key after %q: %w",
							src.Resource, col.src.Name, col.field.Name, lastKey(page), err)
					}
				}
				page = append(page, key)
			}
			if err := rows.Err(); err != nil {
				return nil, fmt.Errorf("resource %s: read keys of %s: %w", src.Resource, p.table, err)
			}
			return page, nil
		}()
		if err != nil {
			return err
		}
		if len(page) > 0 {
			if err := emit(page); err != nil {
				return err
			}
		}
		if len(page) < p.chunkRows {
			return nil
		}
		if args, err = p.afterArgs(page[len(page)-1]); err != nil {
			return err
		}
	}
}

func lastKey(page [][]string) []string {
	if len(page) == 0 {
		return nil
	}
	return page[len(page)-1]
}
