package datagen

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

// Batching of InsertMySQL: rows per multi-row INSERT, statements per transaction.
const (
	insertBatchRows = 500
	batchesPerTx    = 10
)

// InsertMySQL creates the table in db (the DDL of Tables, which fails if the
// table exists) and fills it with the rows of cfg, streaming: multi-row
// INSERTs of 500 rows, committed every 5,000 rows. progress, if not nil, is
// called after every commit with the rows committed so far and the total.
// Times are sent as UTC wall-clock values, so the DSN should keep the
// driver's default loc=UTC.
func InsertMySQL(ctx context.Context, db *sql.DB, cfg Config, table string, progress func(done, total int)) error {
	t, err := LookupTable(table)
	if err != nil {
		return err
	}
	total, err := RowCount(cfg, table)
	if err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, t.DDL); err != nil {
		return fmt.Errorf("datagen: create table %s: %w", table, err)
	}
	ins := &inserter{ctx: ctx, db: db, table: t, total: total, progress: progress}
	defer ins.rollback()
	if err := Rows(cfg, table, ins.add); err != nil {
		return err
	}
	if err := ins.flush(); err != nil {
		return err
	}
	if err := ins.commit(); err != nil {
		return err
	}
	slog.DebugContext(ctx, "datagen: table filled", "table", table, "rows", total)
	return nil
}

// inserter buffers rows and writes them in multi-row INSERTs inside transactions.
type inserter struct {
	ctx      context.Context
	db       *sql.DB
	table    Table
	total    int
	progress func(done, total int)

	tx        *sql.Tx
	full      *sql.Stmt // prepared INSERT of insertBatchRows rows, on tx
	args      []any
	buffered  int // rows in args
	written   int // rows sent in the open transaction or before
	committed int // rows committed
	batches   int // statements in the open transaction
}

func (ins *inserter) add(row []any) error {
	if err := ins.ctx.Err(); err != nil {
		return fmt.Errorf("datagen: insert into %s after %d rows: %w", ins.table.Name, ins.committed, err)
	}
	if len(row) != len(ins.table.Columns) {
		return fmt.Errorf("datagen: %s row has %d values, want %d", ins.table.Name, len(row), len(ins.table.Columns))
	}
	ins.args = append(ins.args, row...)
	ins.buffered++
	if ins.buffered < insertBatchRows {
		return nil
	}
	if err := ins.flush(); err != nil {
		return err
	}
	if ins.batches >= batchesPerTx {
		return ins.commit()
	}
	return nil
}

// flush sends the buffered rows as one INSERT in the open transaction.
func (ins *inserter) flush() error {
	if ins.buffered == 0 {
		return nil
	}
	if ins.tx == nil {
		tx, err := ins.db.BeginTx(ins.ctx, nil)
		if err != nil {
			return fmt.Errorf("datagen: insert into %s: begin: %w", ins.table.Name, err)
		}
		ins.tx = tx
	}
	var err error
	if ins.buffered == insertBatchRows {
		if ins.full == nil {
			ins.full, err = ins.tx.PrepareContext(ins.ctx, insertSQL(ins.table, insertBatchRows))
			if err != nil {
				return fmt.Errorf("datagen: insert into %s: prepare: %w", ins.table.Name, err)
			}
		}
		_, err = ins.full.ExecContext(ins.ctx, ins.args...)
	} else {
		_, err = ins.tx.ExecContext(ins.ctx, insertSQL(ins.table, ins.buffered), ins.args...)
	}
	if err != nil {
		return fmt.Errorf("datagen: insert into %s rows %d-%d: %w", ins.table.Name, ins.written+1, ins.written+ins.buffered, err)
	}
	ins.written += ins.buffered
	ins.batches++
	ins.args, ins.buffered = ins.args[:0], 0
	return nil
}

// commit commits the open transaction, if any, and reports progress.
func (ins *inserter) commit() error {
	if ins.tx == nil {
		return nil
	}
	if ins.full != nil {
		ins.full.Close()
		ins.full = nil
	}
	err := ins.tx.Commit()
	ins.tx, ins.batches = nil, 0
	if err != nil {
		return fmt.Errorf("datagen: insert into %s: commit rows up to %d: %w", ins.table.Name, ins.written, err)
	}
	ins.committed = ins.written
	if ins.progress != nil {
		ins.progress(ins.committed, ins.total)
	}
	return nil
}

// rollback abandons an open transaction (after an error).
func (ins *inserter) rollback() {
	if ins.full != nil {
		ins.full.Close()
	}
	if ins.tx != nil {
		if err := ins.tx.Rollback(); err != nil && !errors.Is(err, sql.ErrTxDone) {
			slog.WarnContext(ins.ctx, "datagen: rollback failed", "table", ins.table.Name, "err", err)
		}
	}
}

// insertSQL returns INSERT INTO t (cols) VALUES (?,…),… for n rows.
func insertSQL(t Table, n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO `")
	b.WriteString(t.Name)
	b.WriteString("` (")
	for i, c := range t.Columns {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("`" + c.Name + "`")
	}
	b.WriteString(") VALUES ")
	tuple := "(" + strings.Repeat("?,", len(t.Columns)-1) + "?)"
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(tuple)
	}
	return b.String()
}
