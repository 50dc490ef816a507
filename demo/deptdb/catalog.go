package deptdb

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
)

// querier is what reads the catalog: a database's pool or a session's pinned connection.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// column is a column of a table as SQLite's catalog tells it.
type column struct {
	name  string
	typ   colType
	dflt  sql.NullString // SQLite's text of the DEFAULT clause
	pkPos int            // 1-based position in the primary key, 0 if not in it
}

// tableColumns reads the columns of a table in order; none when the table does not exist.
func tableColumns(ctx context.Context, q querier, table string) ([]column, error) {
	rows, err := q.QueryContext(ctx, `SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?)`, table)
	if err != nil {
		return nil, fmt.Errorf("columns of table %s: %w", table, err)
	}
	defer rows.Close()
	var cols []column
	for rows.Next() {
		var c column
		var decl string
		var notNull bool
		if err := rows.Scan(&c.name, &decl, &notNull, &c.dflt, &c.pkPos); err != nil {
			return nil, fmt.Errorf("columns of table %s: %w", table, err)
		}
		t, ok := parseDecltype(decl)
		if !ok {
			t = affinityType(decl)
		}
		t.notNull = t.notNull || notNull || c.pkPos > 0
		t.primary = c.pkPos > 0
		c.typ = t
		cols = append(cols, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("columns of table %s: %w", table, err)
	}
	return cols, nil
}

// affinityType is the MySQL type shown for a column deptdb did not create.
func affinityType(decl string) colType {
	d := strings.ToUpper(decl)
	switch {
	case strings.Contains(d, "INT"):
		return colType{name: "BIGINT"}
	case strings.Contains(d, "REAL"), strings.Contains(d, "FLOA"), strings.Contains(d, "DOUB"):
		return colType{name: "DOUBLE"}
	case strings.Contains(d, "BLOB"):
		return colType{name: "LONGBLOB"}
	}
	return colType{name: "LONGTEXT"}
}

// tableNames lists the tables of a database in name order.
func tableNames(ctx context.Context, q querier) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("list tables: %w", err)
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	return names, nil
}

// index is an index of a table in MySQL's terms.
type index struct {
	name   string // PRIMARY for the primary key
	unique bool
	cols   []string
}

// tableIndexes lists the primary key and the indexes deptdb created for a table.
func tableIndexes(ctx context.Context, q querier, table string, cols []column) ([]index, error) {
	var out []index
	var pk []column
	for _, c := range cols {
		if c.pkPos > 0 {
			pk = append(pk, c)
		}
	}
	if len(pk) > 0 {
		sort.Slice(pk, func(i, j int) bool { return pk[i].pkPos < pk[j].pkPos })
		ix := index{name: "PRIMARY", unique: true}
		for _, c := range pk {
			ix.cols = append(ix.cols, c.name)
		}
		out = append(out, ix)
	}
	rows, err := q.QueryContext(ctx, `SELECT name, "unique" FROM pragma_index_list(?) WHERE origin = 'c' ORDER BY name`, table)
	if err != nil {
		return nil, fmt.Errorf("indexes of table %s: %w", table, err)
	}
	var names []index
	for rows.Next() {
		var ix index
		if err := rows.Scan(&ix.name, &ix.unique); err != nil {
			rows.Close()
			return nil, fmt.Errorf("indexes of table %s: %w", table, err)
		}
		names = append(names, ix)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("indexes of table %s: %w", table, err)
	}
	for _, ix := range names {
		icols, err := indexColumns(ctx, q, ix.name)
		if err != nil {
			return nil, err
		}
		ix.cols = icols
		ix.name = strings.TrimPrefix(ix.name, table+".")
		out = append(out, ix)
	}
	return out, nil
}

func indexColumns(ctx context.Context, q querier, name string) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT name FROM pragma_index_info(?) ORDER BY seqno`, name)
	if err != nil {
		return nil, fmt.Errorf("columns of index %s: %w", name, err)
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var c sql.NullString
		if err := rows.Scan(&c); err != nil {
			return nil, fmt.Errorf("columns of index %s: %w", name, err)
		}
		cols = append(cols, c.String)
	}
	return cols, rows.Err()
}

// findColumn looks a column up by name, as MySQL does: case-insensitively.
func findColumn(cols []column, name string) (column, bool) {
	for _, c := range cols {
		if strings.EqualFold(c.name, name) {
			return c, true
		}
	}
	return column{}, false
}
