package deptdb

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/dolthub/vitess/go/mysql"
	"github.com/dolthub/vitess/go/sqltypes"
	"github.com/dolthub/vitess/go/vt/sqlparser"
)

// execDDL runs CREATE TABLE, DROP TABLE and TRUNCATE TABLE. Like MySQL, DDL first commits an
// open transaction.
func (s *session) execDDL(ctx context.Context, st *statement, d *sqlparser.DDL, emit sink) error {
	if d.ViewSpec != nil || len(d.FromViews) > 0 || d.TriggerSpec != nil || d.ProcedureSpec != nil || d.EventSpec != nil {
		return notSupported("%s (views, triggers, procedures, events)", st.verb)
	}
	if err := s.commit(ctx); err != nil {
		return err
	}
	switch strings.ToLower(d.Action) {
	case sqlparser.CreateStr:
		if d.IndexSpec != nil || d.TableSpec == nil {
			return notSupported("%s", st.verb)
		}
		stmts, err := createTableSQL(d)
		if err != nil {
			return err
		}
		c, db, err := s.tableConn(ctx, d.Table)
		if err != nil {
			return err
		}
		if !d.IfNotExists {
			cols, err := tableColumns(ctx, c, d.Table.Name.String())
			if err != nil {
				return err
			}
			if len(cols) > 0 {
				return sqlError(mysql.ERTableExists, "42S01", "Table '%s' already exists", d.Table.Name.String())
			}
		}
		if err := runAll(ctx, c, stmts); err != nil {
			return wrapf(err, "create table %s.%s", db, d.Table.Name.String())
		}
		return emit(&sqltypes.Result{})
	case sqlparser.DropStr:
		for _, tn := range d.FromTables {
			c, db, err := s.tableConn(ctx, tn)
			if err != nil {
				return err
			}
			cols, err := tableColumns(ctx, c, tn.Name.String())
			if err != nil {
				return err
			}
			if len(cols) == 0 {
				if d.IfExists {
					continue
				}
				return sqlError(mysql.ERBadTable, "42S02", "Unknown table '%s.%s'", db, tn.Name.String())
			}
			if _, err := c.ExecContext(ctx, "DROP TABLE "+quoteIdent(tn.Name.String())); err != nil {
				return err
			}
		}
		return emit(&sqltypes.Result{})
	case sqlparser.TruncateStr:
		c, db, err := s.tableConn(ctx, d.Table)
		if err != nil {
			return err
		}
		cols, err := tableColumns(ctx, c, d.Table.Name.String())
		if err != nil {
			return err
		}
		if len(cols) == 0 {
			return sqlError(mysql.ERNoSuchTable, mysql.SSUnknownTable, "Table '%s.%s' doesn't exist", db, d.Table.Name.String())
		}
		if _, err := c.ExecContext(ctx, "DELETE FROM "+quoteIdent(d.Table.Name.String())); err != nil {
			return err
		}
		return emit(&sqltypes.Result{})
	}
	return notSupported("%s", st.verb)
}

// tableConn is the connection to the database of a (possibly qualified) table name.
func (s *session) tableConn(ctx context.Context, tn sqlparser.TableName) (*sql.Conn, string, error) {
	db := tn.DbQualifier.String()
	if db == "" {
		db = s.db
	}
	if strings.EqualFold(db, "information_schema") {
		return nil, "", sqlError(1044, "42000", "Access denied for user 'root'@'%%' to database 'information_schema'")
	}
	c, err := s.conn(ctx, db)
	return c, db, err
}

// runAll runs statements in one SQLite transaction.
func runAll(ctx context.Context, c *sql.Conn, stmts []string) error {
	if _, err := c.ExecContext(ctx, "BEGIN"); err != nil {
		return err
	}
	for _, q := range stmts {
		if _, err := c.ExecContext(ctx, q); err != nil {
			_, _ = c.ExecContext(ctx, "ROLLBACK")
			return fmt.Errorf("%w (SQLite statement: %s)", err, q)
		}
	}
	_, err := c.ExecContext(ctx, "COMMIT")
	return err
}

// execDBDDL runs CREATE DATABASE and DROP DATABASE.
func (s *session) execDBDDL(ctx context.Context, d *sqlparser.DBDDL, emit sink) error {
	if err := s.commit(ctx); err != nil {
		return err
	}
	switch strings.ToLower(d.Action) {
	case sqlparser.CreateStr:
		created, err := s.srv.createDatabase(ctx, d.DBName, d.IfNotExists)
		if err != nil {
			return err
		}
		return emit(&sqltypes.Result{RowsAffected: boolCount(created)})
	case sqlparser.DropStr:
		if p := s.conns[d.DBName]; p != nil {
			_ = p.c.Close()
			delete(s.conns, d.DBName)
		}
		dropped, err := s.srv.dropDatabase(d.DBName, d.IfExists)
		if err != nil {
			return err
		}
		if s.db == d.DBName {
			s.db = ""
		}
		return emit(&sqltypes.Result{RowsAffected: boolCount(dropped)})
	}
	return notSupported("%s DATABASE", strings.ToUpper(d.Action))
}

func boolCount(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// execSet accepts SET statements as no-ops (SET NAMES, sql_mode, time_zone, user variables,
// SET TRANSACTION …), except that autocommit cannot be turned off.
func (s *session) execSet(ctx context.Context, set *sqlparser.Set, emit sink) error {
	for _, e := range set.Exprs {
		if e.Name == nil {
			continue
		}
		name := strings.ToLower(strings.TrimPrefix(e.Name.Name.String(), "@@"))
		name = strings.TrimPrefix(strings.TrimPrefix(name, "session."), "local.")
		if name != "autocommit" {
			continue
		}
		v := strings.ToLower(strings.Trim(sqlparser.String(e.Expr), "'`\""))
		switch v {
		case "1", "on", "true":
			if err := s.commit(ctx); err != nil {
				return err
			}
		default:
			return notSupported("SET autocommit = %s; use BEGIN … COMMIT", v)
		}
	}
	return emit(&sqltypes.Result{})
}

// execShow answers SHOW DATABASES and SHOW TABLES.
func (s *session) execShow(ctx context.Context, sh *sqlparser.Show, emit sink) error {
	text := colType{name: "VARCHAR", length: 64, notNull: true}
	switch strings.ToLower(sh.Type) {
	case "databases", "schemas":
		if sh.Filter != nil {
			return notSupported("SHOW DATABASES with LIKE or WHERE")
		}
		res := &sqltypes.Result{Fields: fieldsOf([]string{"Database"}, []colType{text})}
		res.Rows = append(res.Rows, []sqltypes.Value{sqltypes.NewVarChar("information_schema")})
		for _, d := range s.srv.databaseNames() {
			res.Rows = append(res.Rows, []sqltypes.Value{sqltypes.NewVarChar(d.name)})
		}
		return emit(res)
	case "tables":
		db := s.db
		if sh.ShowTablesOpt != nil {
			if sh.ShowTablesOpt.Filter != nil || sh.Full {
				return notSupported("SHOW FULL TABLES and SHOW TABLES with LIKE or WHERE")
			}
			if sh.ShowTablesOpt.DbName != "" {
				db = sh.ShowTablesOpt.DbName
			}
		}
		c, err := s.conn(ctx, db)
		if err != nil {
			return err
		}
		names, err := tableNames(ctx, c)
		if err != nil {
			return err
		}
		res := &sqltypes.Result{Fields: fieldsOf([]string{"Tables_in_" + db}, []colType{text})}
		for _, n := range names {
			res.Rows = append(res.Rows, []sqltypes.Value{sqltypes.NewVarChar(n)})
		}
		return emit(res)
	}
	return notSupported("SHOW %s", strings.ToUpper(sh.Type))
}
