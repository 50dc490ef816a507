package deptdb

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
)

// sysDB is an in-memory SQLite database with an attached schema information_schema. Queries
// on information_schema run there after its tables are filled from the catalogs of all
// databases; SELECTs without tables that deptdb does not answer itself run there too.
type sysDB struct {
	mu sync.Mutex
	db *sql.DB
	c  *sql.Conn
}

// infoTable is a table of information_schema; its columns carry encoded MySQL types (see
// colType.decltype) so that result sets are typed as MariaDB types them.
type infoTable struct {
	name string
	cols [][2]string // name, declared type
}

const (
	isName   = "TEXT NN VARCHAR(64)"
	isNameN  = "TEXT VARCHAR(64)"
	isLong   = "TEXT LONGTEXT"
	isBigint = "INTEGER UNSIGNED BIGINT(21)"
)

// infoTables lists the information_schema tables and columns deptdb fills.
func infoTables() []infoTable {
	return []infoTable{
		{"SCHEMATA", [][2]string{
			{"CATALOG_NAME", "TEXT NN VARCHAR(512)"}, {"SCHEMA_NAME", isName},
			{"DEFAULT_CHARACTER_SET_NAME", "TEXT NN VARCHAR(32)"}, {"DEFAULT_COLLATION_NAME", "TEXT NN VARCHAR(64)"},
			{"SQL_PATH", "TEXT VARCHAR(512)"}}},
		{"TABLES", [][2]string{
			{"TABLE_CATALOG", "TEXT NN VARCHAR(512)"}, {"TABLE_SCHEMA", isName}, {"TABLE_NAME", isName},
			{"TABLE_TYPE", isName}, {"ENGINE", isNameN}, {"VERSION", isBigint}, {"ROW_FORMAT", "TEXT VARCHAR(10)"},
			{"TABLE_ROWS", isBigint}, {"TABLE_COLLATION", "TEXT VARCHAR(64)"}, {"TABLE_COMMENT", "TEXT NN VARCHAR(2048)"}}},
		{"COLUMNS", [][2]string{
			{"TABLE_CATALOG", "TEXT NN VARCHAR(512)"}, {"TABLE_SCHEMA", isName}, {"TABLE_NAME", isName},
			{"COLUMN_NAME", isName}, {"ORDINAL_POSITION", "INTEGER UNSIGNED NN BIGINT(21)"}, {"COLUMN_DEFAULT", isLong},
			{"IS_NULLABLE", "TEXT NN VARCHAR(3)"}, {"DATA_TYPE", isName}, {"CHARACTER_MAXIMUM_LENGTH", isBigint},
			{"CHARACTER_OCTET_LENGTH", isBigint}, {"NUMERIC_PRECISION", isBigint}, {"NUMERIC_SCALE", isBigint},
			{"DATETIME_PRECISION", isBigint}, {"CHARACTER_SET_NAME", "TEXT VARCHAR(32)"},
			{"COLLATION_NAME", "TEXT VARCHAR(64)"}, {"COLUMN_TYPE", "TEXT NN LONGTEXT"}, {"COLUMN_KEY", "TEXT NN VARCHAR(3)"},
			{"EXTRA", "TEXT NN VARCHAR(80)"}, {"PRIVILEGES", "TEXT NN VARCHAR(80)"}, {"COLUMN_COMMENT", "TEXT NN VARCHAR(1024)"},
			{"IS_GENERATED", "TEXT NN VARCHAR(6)"}, {"GENERATION_EXPRESSION", isLong}}},
		{"STATISTICS", [][2]string{
			{"TABLE_CATALOG", "TEXT NN VARCHAR(512)"}, {"TABLE_SCHEMA", isName}, {"TABLE_NAME", isName},
			{"NON_UNIQUE", "INTEGER NN BIGINT(1)"}, {"INDEX_SCHEMA", isName}, {"INDEX_NAME", isName},
			{"SEQ_IN_INDEX", "INTEGER NN BIGINT(2)"}, {"COLUMN_NAME", isName}, {"COLLATION", "TEXT VARCHAR(1)"},
			{"CARDINALITY", "INTEGER BIGINT(21)"}, {"SUB_PART", "INTEGER BIGINT(3)"}, {"PACKED", "TEXT VARCHAR(10)"},
			{"NULLABLE", "TEXT NN VARCHAR(3)"}, {"INDEX_TYPE", "TEXT NN VARCHAR(16)"}, {"COMMENT", "TEXT VARCHAR(16)"},
			{"INDEX_COMMENT", "TEXT NN VARCHAR(1024)"}}},
		{"KEY_COLUMN_USAGE", [][2]string{
			{"CONSTRAINT_CATALOG", "TEXT NN VARCHAR(512)"}, {"CONSTRAINT_SCHEMA", isName}, {"CONSTRAINT_NAME", isName},
			{"TABLE_CATALOG", "TEXT NN VARCHAR(512)"}, {"TABLE_SCHEMA", isName}, {"TABLE_NAME", isName},
			{"COLUMN_NAME", isName}, {"ORDINAL_POSITION", "INTEGER NN BIGINT(10)"},
			{"POSITION_IN_UNIQUE_CONSTRAINT", "INTEGER BIGINT(10)"}, {"REFERENCED_TABLE_SCHEMA", isNameN},
			{"REFERENCED_TABLE_NAME", isNameN}, {"REFERENCED_COLUMN_NAME", isNameN}}},
		{"TABLE_CONSTRAINTS", [][2]string{
			{"CONSTRAINT_CATALOG", "TEXT NN VARCHAR(512)"}, {"CONSTRAINT_SCHEMA", isName}, {"CONSTRAINT_NAME", isName},
			{"TABLE_SCHEMA", isName}, {"TABLE_NAME", isName}, {"CONSTRAINT_TYPE", isName}}},
	}
}

func openSysDB(ctx context.Context) (*sysDB, error) {
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		return nil, fmt.Errorf("deptdb: system database: %w", err)
	}
	db.SetMaxOpenConns(1)
	c, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("deptdb: system database: %w", err)
	}
	stmts := []string{"ATTACH DATABASE ':memory:' AS information_schema"}
	for _, t := range infoTables() {
		var cols []string
		for _, c := range t.cols {
			def := quoteIdent(c[0]) + " " + c[1]
			if strings.HasPrefix(c[1], "TEXT") {
				def += " COLLATE NOCASE" // information_schema compares names case-insensitively
			}
			cols = append(cols, def)
		}
		stmts = append(stmts, "CREATE TABLE information_schema."+quoteIdent(t.name)+" ("+strings.Join(cols, ", ")+")")
	}
	for _, q := range stmts {
		if _, err := c.ExecContext(ctx, q); err != nil {
			c.Close()
			db.Close()
			return nil, fmt.Errorf("deptdb: system database: %s: %w", q, err)
		}
	}
	return &sysDB{db: db, c: c}, nil
}

func (y *sysDB) close() error {
	y.mu.Lock()
	defer y.mu.Unlock()
	err := y.c.Close()
	if cerr := y.db.Close(); err == nil {
		err = cerr
	}
	return err
}

// run runs fn on the system connection, one caller at a time.
func (y *sysDB) run(ctx context.Context, fn func(c *sql.Conn) error) error {
	y.mu.Lock()
	defer y.mu.Unlock()
	return fn(y.c)
}

// query answers a SELECT on information_schema.
func (y *sysDB) query(ctx context.Context, s *session, st *statement, sc *scope, args []any, emit sink) error {
	return y.run(ctx, func(c *sql.Conn) error {
		if err := y.fill(ctx, c, s); err != nil {
			return err
		}
		cc := &columnsCache{q: c}
		vals, err := s.bind(ctx, st, sc, cc, args)
		if err != nil {
			return err
		}
		return streamRows(ctx, c, st.tr.sqlite(""), vals, s.selectHints(ctx, st, sc, cc), emit)
	})
}

// fill replaces the contents of information_schema by the current catalogs. A database the
// session has a connection to is read through it, so the session sees its own DDL.
func (y *sysDB) fill(ctx context.Context, c *sql.Conn, s *session) error {
	if _, err := c.ExecContext(ctx, "BEGIN"); err != nil {
		return err
	}
	err := y.fillTx(ctx, c, s)
	if err != nil {
		_, _ = c.ExecContext(ctx, "ROLLBACK")
		return err
	}
	_, err = c.ExecContext(ctx, "COMMIT")
	return err
}

func (y *sysDB) fillTx(ctx context.Context, c *sql.Conn, s *session) error {
	tables := infoTables()
	inserts := map[string]string{}
	for _, t := range tables {
		if _, err := c.ExecContext(ctx, "DELETE FROM information_schema."+quoteIdent(t.name)); err != nil {
			return err
		}
		inserts[t.name] = "INSERT INTO information_schema." + quoteIdent(t.name) + " VALUES (" +
			strings.TrimSuffix(strings.Repeat("?,", len(t.cols)), ",") + ")"
	}
	ins := func(table string, vals ...any) error {
		_, err := c.ExecContext(ctx, inserts[table], vals...)
		return err
	}
	if err := ins("SCHEMATA", "def", "information_schema", "utf8mb3", "utf8mb3_general_ci", nil); err != nil {
		return err
	}
	for _, d := range s.srv.databaseNames() {
		var q querier = d.db
		if p := s.conns[d.name]; p != nil && p.d == d {
			q = p.c
		}
		if err := ins("SCHEMATA", "def", d.name, "utf8mb4", "utf8mb4_general_ci", nil); err != nil {
			return err
		}
		names, err := tableNames(ctx, q)
		if err != nil {
			return fmt.Errorf("information_schema of %s: %w", d.name, err)
		}
		for _, table := range names {
			if err := fillTable(ctx, q, d.name, table, ins); err != nil {
				return fmt.Errorf("information_schema of %s.%s: %w", d.name, table, err)
			}
		}
	}
	return nil
}

func fillTable(ctx context.Context, q querier, db, table string, ins func(string, ...any) error) error {
	cols, err := tableColumns(ctx, q, table)
	if err != nil {
		return err
	}
	idx, err := tableIndexes(ctx, q, table, cols)
	if err != nil {
		return err
	}
	if err := ins("TABLES", "def", db, table, "BASE TABLE", "InnoDB", int64(10), "Dynamic", nil, "utf8mb4_general_ci", ""); err != nil {
		return err
	}
	key := map[string]string{}
	for _, ix := range idx {
		k := strings.ToLower(ix.cols[0])
		switch {
		case ix.name == "PRIMARY":
			for _, c := range ix.cols {
				key[strings.ToLower(c)] = "PRI"
			}
		case ix.unique && len(ix.cols) == 1 && key[k] == "":
			key[k] = "UNI"
		case key[k] == "":
			key[k] = "MUL"
		}
		for i, col := range ix.cols {
			nullable := ""
			if c, ok := findColumn(cols, col); ok && !c.typ.notNull {
				nullable = "YES"
			}
			if err := ins("STATISTICS", "def", db, table, boolCount(!ix.unique), db, ix.name, int64(i+1), col, "A",
				nil, nil, nil, nullable, "BTREE", "", ""); err != nil {
				return err
			}
			if ix.unique {
				if err := ins("KEY_COLUMN_USAGE", "def", db, ix.name, "def", db, table, col, int64(i+1), nil, nil, nil, nil); err != nil {
					return err
				}
			}
		}
		if ix.unique {
			kind := "UNIQUE"
			if ix.name == "PRIMARY" {
				kind = "PRIMARY KEY"
			}
			if err := ins("TABLE_CONSTRAINTS", "def", db, ix.name, db, table, kind); err != nil {
				return err
			}
		}
	}
	for i, c := range cols {
		t := c.typ
		nullable := "YES"
		if t.notNull {
			nullable = "NO"
		}
		var charset, collation any
		if t.isCharacter() {
			charset, collation = "utf8mb4", "utf8mb4_general_ci"
		}
		if err := ins("COLUMNS", "def", db, table, c.name, int64(i+1), columnDefault(c.dflt), nullable, t.dataType(),
			nullable64(t.charMaxLength()), nullable64(t.charOctetLength()), nullable64(t.numericPrecision()),
			nullable64(t.numericScale()), nullable64(t.datetimePrecision()), charset, collation, t.columnType(),
			key[strings.ToLower(c.name)], "", "select,insert,update,references", "", "NEVER", nil); err != nil {
			return err
		}
	}
	return nil
}

// nullable64 maps -1 to NULL.
func nullable64(v int64) any {
	if v < 0 {
		return nil
	}
	return v
}

// columnDefault renders SQLite's DEFAULT text as MariaDB's COLUMN_DEFAULT.
func columnDefault(d sql.NullString) any {
	if !d.Valid {
		return nil
	}
	if strings.HasPrefix(d.String, "(") && strings.Contains(d.String, "strftime") {
		return "current_timestamp()"
	}
	if strings.HasPrefix(d.String, "(") && strings.Contains(d.String, "date(") {
		return "curdate()"
	}
	return d.String
}
