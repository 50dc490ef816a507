package deptdb

import (
	"context"
	"database/sql"
	"strings"

	"github.com/dolthub/vitess/go/mysql"
	"github.com/dolthub/vitess/go/sqltypes"
	querypb "github.com/dolthub/vitess/go/vt/proto/query"
	"github.com/dolthub/vitess/go/vt/sqlparser"
)

// Result streaming: the first firstBatch rows are read before anything is sent, so errors
// usually reach the client as an error packet; then rows go out in batches.
const (
	firstBatch = 1024
	batchRows  = 256
)

// execSelect runs a SELECT.
func (s *session) execSelect(ctx context.Context, st *statement, args []any, emit sink) error {
	sc, err := scopeOf(st, s.db)
	if err != nil {
		return err
	}
	if sc.infoSchema {
		return s.srv.sys.query(ctx, s, st, sc, args, emit)
	}
	if sc.db == "" {
		if res, ok, err := s.serverSelect(st, args); ok || err != nil {
			if err != nil {
				return err
			}
			return emit(res)
		}
		return s.srv.sys.run(ctx, func(c *sql.Conn) error {
			cc := &columnsCache{q: c}
			vals, err := s.bind(ctx, st, sc, cc, args)
			if err != nil {
				return err
			}
			return streamRows(ctx, c, st.tr.sqlite(""), vals, s.selectHints(ctx, st, sc, cc), emit)
		})
	}
	c, err := s.conn(ctx, sc.db)
	if err != nil {
		return err
	}
	cc := &columnsCache{q: c}
	vals, err := s.bind(ctx, st, sc, cc, args)
	if err != nil {
		return err
	}
	return streamRows(ctx, c, st.tr.sqlite(sc.dropQual), vals, s.selectHints(ctx, st, sc, cc), emit)
}

// hint describes a result column from the statement: a type for expressions SQLite gives no
// declared type (COUNT is BIGINT, MAX/MIN of a column has the column's type, NOW() is
// DATETIME) and the name MySQL gives it (the expression as written).
type hint struct {
	typ  *colType
	name string
}

// selectHints describes the columns of a SELECT without '*'; nil otherwise.
func (s *session) selectHints(ctx context.Context, st *statement, sc *scope, cc *columnsCache) []hint {
	sel, ok := st.ast.(*sqlparser.Select)
	if !ok {
		return nil
	}
	hints := make([]hint, len(sel.SelectExprs))
	for i, se := range sel.SelectExprs {
		ae, ok := se.(*sqlparser.AliasedExpr)
		if !ok {
			return nil // a star: the positions of later columns are unknown
		}
		if _, isCol := ae.Expr.(*sqlparser.ColName); !isCol && ae.As.IsEmpty() && !strings.Contains(ae.InputExpression, "?") {
			hints[i].name = ae.InputExpression // SQLite would name it after its own text
		}
		switch e := unparen(ae.Expr).(type) {
		case *sqlparser.FuncExpr:
			switch e.Name.Lowered() {
			case "count":
				hints[i].typ = &colType{name: "BIGINT", length: 21, notNull: true}
			case "max", "min", "any_value", "sum":
				col, ok := columnArg(ctx, e, sc, cc)
				if !ok {
					continue
				}
				t := col.typ
				t.notNull, t.primary = false, false
				if e.Name.Lowered() == "sum" {
					if t.kind() != kindDecimal {
						continue // SQLite's integer or real sum is typed by its value
					}
					t.length = min(65, t.length+22) // as MySQL types SUM of a DECIMAL
				}
				hints[i].typ = &t
			}
		case *sqlparser.SQLVal:
			if slot := slotOf(e, st.argSlot); slot >= 0 {
				switch sl := st.tr.slots[slot]; sl.kind {
				case slotNow, slotUTCNow:
					hints[i].typ = &colType{name: "DATETIME", scale: sl.fsp, notNull: true}
				case slotCurDate, slotUTCDate:
					hints[i].typ = &colType{name: "DATE", notNull: true}
				}
			}
		}
	}
	return hints
}

// columnArg is the column a one-argument function is applied to: MAX(col).
func columnArg(ctx context.Context, f *sqlparser.FuncExpr, sc *scope, cc *columnsCache) (column, bool) {
	if len(f.Exprs) != 1 || f.Distinct {
		return column{}, false
	}
	arg, ok := f.Exprs[0].(*sqlparser.AliasedExpr)
	if !ok {
		return column{}, false
	}
	cn, ok := unparen(arg.Expr).(*sqlparser.ColName)
	if !ok {
		return column{}, false
	}
	col, _, ok := cc.resolve(ctx, sc, cn)
	return col, ok
}

// streamRows runs a query on SQLite and sends its rows with MySQL column types: the declared
// type of table columns (SQLite reports it), else the hint, else a type inferred from the
// values.
func streamRows(ctx context.Context, q querier, text string, vals []any, hints []hint, emit sink) error {
	rows, err := q.QueryContext(ctx, text, vals...)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	names := append([]string(nil), cols...)
	cts, err := rows.ColumnTypes()
	if err != nil {
		return err
	}
	types := make([]*colType, len(names))
	for i, ct := range cts {
		if t, ok := parseDecltype(ct.DatabaseTypeName()); ok {
			types[i] = &t
		} else if len(hints) == len(names) && hints[i].typ != nil {
			types[i] = hints[i].typ
		}
		if len(hints) == len(names) && hints[i].name != "" {
			names[i] = hints[i].name
		}
	}
	read := func(limit int) ([][]any, bool, error) {
		var batch [][]any
		for len(batch) < limit {
			if !rows.Next() {
				return batch, false, rows.Err()
			}
			row := make([]any, len(names))
			ptrs := make([]any, len(names))
			for i := range row {
				ptrs[i] = &row[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				return nil, false, err
			}
			batch = append(batch, row)
		}
		return batch, true, nil
	}
	batch, more, err := read(firstBatch)
	if err != nil {
		return err
	}
	fields := make([]*querypb.Field, len(names))
	for i := range names {
		if types[i] == nil {
			col := make([]any, len(batch))
			for r, row := range batch {
				col[r] = row[i]
			}
			t := inferType(col, !more)
			types[i] = &t
		}
		fields[i] = types[i].field(names[i])
	}
	send := func(batch [][]any) error {
		res := &sqltypes.Result{Fields: fields, Rows: make([][]sqltypes.Value, len(batch))}
		for r, row := range batch {
			out := make([]sqltypes.Value, len(row))
			for i, v := range row {
				w, err := types[i].toWire(v)
				if err != nil {
					return sqlError(mysql.ERUnknownError, mysql.SSUnknownSQLState, "column %s: %v", names[i], err)
				}
				out[i] = w
			}
			res.Rows[r] = out
		}
		return emit(res)
	}
	if err := send(batch); err != nil {
		return err
	}
	for more {
		if batch, more, err = read(batchRows); err != nil {
			return err
		}
		if len(batch) > 0 {
			if err := send(batch); err != nil {
				return err
			}
		}
	}
	return nil
}
