package deptdb

import (
	"context"
	"strings"
	"time"

	"github.com/dolthub/vitess/go/sqltypes"
	"github.com/dolthub/vitess/go/vt/sqlparser"
)

// sink receives the results of a statement: either one result without fields (OK: rows
// affected) or results with fields and rows, the first carrying the first rows.
type sink func(*sqltypes.Result) error

// execute runs an analysed statement with the client's parameters.
func (s *session) execute(ctx context.Context, st *statement, args []any, emit sink) error {
	if len(args) != st.params {
		return sqlError(erWrongArguments, "HY000", "Incorrect arguments to mysqld_stmt_execute: %d parameters for %d placeholders", len(args), st.params)
	}
	switch n := st.ast.(type) {
	case *sqlparser.Select, *sqlparser.SetOp, *sqlparser.ParenSelect:
		return s.execSelect(ctx, st, args, emit)
	case *sqlparser.Insert:
		return s.execInsert(ctx, st, n, args, emit)
	case *sqlparser.Update, *sqlparser.Delete:
		return s.execWrite(ctx, st, args, emit)
	case *sqlparser.DDL:
		return s.execDDL(ctx, st, n, emit)
	case *sqlparser.DBDDL:
		return s.execDBDDL(ctx, n, emit)
	case *sqlparser.Set:
		return s.execSet(ctx, n, emit)
	case *sqlparser.Use:
		if _, err := s.srv.database(n.DBName.String()); err != nil {
			return err
		}
		s.db = n.DBName.String()
		return emit(&sqltypes.Result{})
	case *sqlparser.Begin:
		// The parser drops WITH CONSISTENT SNAPSHOT; the statement text still has it.
		snapshot := strings.Contains(strings.ToUpper(strings.Join(strings.Fields(st.query), " ")), "CONSISTENT SNAPSHOT")
		if err := s.begin(ctx, snapshot); err != nil {
			return err
		}
		return emit(&sqltypes.Result{})
	case *sqlparser.Commit:
		if err := s.commit(ctx); err != nil {
			return err
		}
		return emit(&sqltypes.Result{})
	case *sqlparser.Rollback:
		if err := s.rollback(ctx); err != nil {
			return err
		}
		return emit(&sqltypes.Result{})
	case *sqlparser.Show:
		return s.execShow(ctx, n, emit)
	}
	return notSupported("%s", st.verb)
}

// slotValues computes the value of every slot: the client's parameters, lifted literals and
// the current time (one instant per statement, as in MySQL).
func slotValues(tr *translation, args []any, now time.Time, db string) []any {
	vals := make([]any, len(tr.slots))
	for i, sl := range tr.slots {
		switch sl.kind {
		case slotParam:
			if sl.param < len(args) {
				vals[i] = args[sl.param]
			}
		case slotString:
			vals[i] = sl.text
		case slotBytes:
			vals[i] = []byte(sl.text)
		case slotNow:
			vals[i] = timeText(now.Local(), sl.fsp)
		case slotUTCNow:
			vals[i] = timeText(now.UTC(), sl.fsp)
		case slotCurDate:
			vals[i] = fromTime(now.Local()).dateString()
		case slotUTCDate:
			vals[i] = fromTime(now.UTC()).dateString()
		case slotDatabase:
			if db != "" {
				vals[i] = db
			}
		}
	}
	return vals
}

// timeText formats a time as MySQL's NOW(fsp) does.
func timeText(t time.Time, fsp int) string {
	s := fromTime(t).truncate(fsp).storedString()
	if fsp == 0 {
		return s[:19]
	}
	return s[:20+fsp]
}

// columnsCache reads table columns once per statement execution.
type columnsCache struct {
	q     querier
	cache map[string][]column
}

func (c *columnsCache) columns(ctx context.Context, table string) ([]column, error) {
	key := strings.ToLower(table)
	if cols, ok := c.cache[key]; ok {
		return cols, nil
	}
	cols, err := tableColumns(ctx, c.q, table)
	if err != nil {
		return nil, err
	}
	if c.cache == nil {
		c.cache = map[string][]column{}
	}
	c.cache[key] = cols
	return cols, nil
}

// resolve finds the declared type of a column reference among the statement's tables.
func (c *columnsCache) resolve(ctx context.Context, sc *scope, col *sqlparser.ColName) (column, string, bool) {
	qual := col.Qualifier.Name.String()
	for _, t := range sc.tables {
		if qual != "" && !strings.EqualFold(qual, t.alias) && !(t.alias == "" && strings.EqualFold(qual, t.name)) {
			continue
		}
		cols, err := c.columns(ctx, t.name)
		if err != nil {
			continue
		}
		if found, ok := findColumn(cols, col.Name.String()); ok {
			return found, t.name, true
		}
	}
	return column{}, "", false
}

// bind computes the SQLite arguments of a DML statement: slot values converted to the type
// of the column they are compared with or assigned to.
func (s *session) bind(ctx context.Context, st *statement, sc *scope, cc *columnsCache, args []any) ([]any, error) {
	vals := slotValues(st.tr, args, time.Now(), s.db)
	for i, v := range vals {
		tg, ok := st.targets[i]
		if !ok {
			vals[i] = sqliteArg(v)
			continue
		}
		col, table, ok := cc.resolve(ctx, sc, tg.col)
		if !ok {
			vals[i] = sqliteArg(v)
			continue
		}
		if !tg.store {
			vals[i] = col.typ.forComparison(v)
			continue
		}
		stored, err := col.typ.toStored(v)
		if err != nil {
			return nil, valueError(err, col.typ, sc.db, table, col.name, v, 1)
		}
		vals[i] = stored
	}
	return vals, nil
}

// execWrite runs an UPDATE or DELETE.
func (s *session) execWrite(ctx context.Context, st *statement, args []any, emit sink) error {
	sc, err := scopeOf(st, s.db)
	if err != nil {
		return err
	}
	if sc.infoSchema {
		return sqlError(1044, "42000", "Access denied for user 'root'@'%%' to database 'information_schema'")
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
	res, err := c.ExecContext(ctx, st.tr.sqlite(sc.dropQual), vals...)
	if err != nil {
		return err
	}
	n, _ := res.RowsAffected()
	return emit(&sqltypes.Result{RowsAffected: uint64(n)})
}
