package deptdb

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/dolthub/vitess/go/mysql"
	"github.com/dolthub/vitess/go/sqltypes"
	"github.com/dolthub/vitess/go/vt/sqlparser"
)

// maxSQLiteParams is SQLite's limit on bound parameters per statement.
const maxSQLiteParams = 32766

// execInsert runs INSERT/REPLACE … VALUES: the values are converted to the columns' types and
// bound, in as few SQLite statements as SQLite's parameter limit allows.
func (s *session) execInsert(ctx context.Context, st *statement, ins *sqlparser.Insert, args []any, emit sink) error {
	sc, err := scopeOf(st, s.db)
	if err != nil {
		return err
	}
	if sc.infoSchema {
		return sqlError(1044, "42000", "Access denied for user 'root'@'%%' to database 'information_schema'")
	}
	var values sqlparser.Values
	switch r := ins.Rows.(type) {
	case sqlparser.AliasedValues:
		values = r.Values
	case *sqlparser.AliasedValues:
		values = r.Values
	case sqlparser.Values:
		values = r
	default:
		return notSupported("INSERT … SELECT")
	}
	if len(ins.Returning) > 0 || len(ins.Partitions) > 0 {
		return notSupported("INSERT with RETURNING or PARTITION")
	}
	c, err := s.conn(ctx, sc.db)
	if err != nil {
		return err
	}
	table := ins.Table.Name.String()
	all, err := tableColumns(ctx, c, table)
	if err != nil {
		return err
	}
	if len(all) == 0 {
		return sqlError(mysql.ERNoSuchTable, mysql.SSUnknownTable, "Table '%s.%s' doesn't exist", sc.db, table)
	}
	cols := all
	if len(ins.Columns) > 0 {
		cols = make([]column, len(ins.Columns))
		for i, ci := range ins.Columns {
			col, ok := findColumn(all, ci.String())
			if !ok {
				return sqlError(mysql.ERBadFieldError, mysql.SSBadFieldError, "Unknown column '%s' in 'field list'", ci.String())
			}
			cols[i] = col
		}
	}
	now := time.Now()
	slots := slotValues(st.tr, args, now, s.db)
	var value func(e sqlparser.Expr) (any, error)
	value = func(e sqlparser.Expr) (any, error) {
		switch x := e.(type) {
		case *sqlparser.SQLVal:
			if x.Type == sqlparser.ValArg {
				if slot := slotOf(x, st.argSlot); slot >= 0 {
					return slots[slot], nil
				}
				return nil, parseError(fmt.Errorf("unknown bind variable %s", x.Val))
			}
			return literalValue(x)
		case *sqlparser.NullVal:
			return nil, nil
		case sqlparser.BoolVal:
			return bool(x), nil
		case *sqlparser.CollateExpr:
			return value(x.Expr)
		case *sqlparser.UnaryExpr:
			if lit, ok := x.Expr.(*sqlparser.SQLVal); ok && x.Operator == sqlparser.UMinusStr &&
				(lit.Type == sqlparser.IntVal || lit.Type == sqlparser.FloatVal) {
				return number("-" + string(lit.Val)), nil
			}
		case *sqlparser.FuncExpr:
			if isNowFunc(x) {
				return timeText(now.Local(), 6), nil
			}
		}
		return nil, notSupported("the INSERT value %s (only literals, ?, NULL and NOW())", sqlparser.String(e))
	}
	rowArgs := make([]any, 0, len(values)*len(cols))
	for r, row := range values {
		if len(row) != len(cols) {
			return sqlError(1136, "21S01", "Column count doesn't match value count at row %d", r+1)
		}
		for i, e := range row {
			v, err := value(e)
			if err != nil {
				return err
			}
			stored, err := cols[i].typ.toStored(v)
			if err != nil {
				return valueError(err, cols[i].typ, sc.db, table, cols[i].name, v, r+1)
			}
			rowArgs = append(rowArgs, stored)
		}
	}
	// ON DUPLICATE KEY UPDATE col = VALUES(col) | alias.col | literal | ?
	var upd []string
	var updArgs []any
	valuesAlias := ""
	switch av := ins.Rows.(type) {
	case sqlparser.AliasedValues:
		valuesAlias = av.As.String()
	case *sqlparser.AliasedValues:
		valuesAlias = av.As.String()
	}
	for _, a := range ins.OnDup {
		col, ok := findColumn(all, a.Name.Name.String())
		if !ok {
			return sqlError(mysql.ERBadFieldError, mysql.SSBadFieldError, "Unknown column '%s' in 'field list'", a.Name.Name.String())
		}
		switch x := a.Expr.(type) {
		case *sqlparser.ValuesFuncExpr:
			upd = append(upd, quoteIdent(col.name)+" = excluded."+quoteIdent(x.Name.Name.String()))
			continue
		case *sqlparser.ColName:
			if valuesAlias != "" && strings.EqualFold(x.Qualifier.Name.String(), valuesAlias) {
				upd = append(upd, quoteIdent(col.name)+" = excluded."+quoteIdent(x.Name.String()))
				continue
			}
			return notSupported("ON DUPLICATE KEY UPDATE %s", sqlparser.String(a))
		}
		v, err := value(a.Expr)
		if err != nil {
			return notSupported("ON DUPLICATE KEY UPDATE %s", sqlparser.String(a))
		}
		stored, err := col.typ.toStored(v)
		if err != nil {
			return valueError(err, col.typ, sc.db, table, col.name, v, 1)
		}
		upd = append(upd, quoteIdent(col.name)+" = ?")
		updArgs = append(updArgs, stored)
	}
	verb := "INSERT INTO "
	switch {
	case strings.EqualFold(ins.Action, sqlparser.ReplaceStr):
		verb = "REPLACE INTO "
	case ins.Ignore != "":
		verb = "INSERT OR IGNORE INTO "
	}
	head := verb + quoteIdent(table)
	if len(ins.Columns) > 0 {
		names := make([]string, len(cols))
		for i, col := range cols {
			names[i] = col.name
		}
		head += " (" + quoteList(names) + ")"
	}
	tail := ""
	if len(upd) > 0 {
		tail = " ON CONFLICT DO UPDATE SET " + strings.Join(upd, ", ")
	}
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?,", len(cols)), ",") + ")"
	perStmt := max(1, (maxSQLiteParams-len(updArgs))/len(cols))
	chunks := (len(values) + perStmt - 1) / perStmt
	if chunks > 1 {
		if _, err := c.ExecContext(ctx, "SAVEPOINT deptdb_insert"); err != nil {
			return err
		}
	}
	var affected int64
	for k := 0; k < chunks; k++ {
		from, to := k*perStmt, min(len(values), (k+1)*perStmt)
		var b strings.Builder
		b.WriteString(head)
		b.WriteString(" VALUES ")
		for r := from; r < to; r++ {
			if r > from {
				b.WriteByte(',')
			}
			b.WriteString(tuple)
		}
		b.WriteString(tail)
		a := append(rowArgs[from*len(cols):to*len(cols):to*len(cols)], updArgs...)
		res, err := c.ExecContext(ctx, b.String(), a...)
		if err != nil {
			if chunks > 1 {
				_, _ = c.ExecContext(ctx, "ROLLBACK TO deptdb_insert")
				_, _ = c.ExecContext(ctx, "RELEASE deptdb_insert")
			}
			return err
		}
		n, _ := res.RowsAffected()
		affected += n
	}
	if chunks > 1 {
		if _, err := c.ExecContext(ctx, "RELEASE deptdb_insert"); err != nil {
			return err
		}
	}
	return emit(&sqltypes.Result{RowsAffected: uint64(affected)})
}
