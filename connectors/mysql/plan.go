package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/tongban/tongban/connectors"
	"github.com/tongban/tongban/schemas"
)

// plan is everything one call needs to read a source: the validated names,
// the columns matched to the table and their value conversions, and the SQL.
type plan struct {
	src       connectors.Source
	table     tableName // schema filled in
	schema    schemas.Schema
	cols      []planColumn // the catalog fields, in Source.Columns order
	key       []int        // indexes into cols of the primary key, in key order
	subject   int          // index into cols of the subject key; -1: the record key
	wm        *wmColumn    // nil without a watermark
	chunkRows int
	source    []srcColumn // every column of the table
}

// planColumn is one catalog field and the source column it is read from.
type planColumn struct {
	field       schemas.Field
	encoding    string
	src         srcColumn
	quoted      string // `name`
	expr        string // the select expression
	placeholder string // the parameter form in key comparisons
	conv        converter
}

// wmColumn is the watermark column.
type wmColumn struct {
	src    srcColumn
	quoted string
	kind   srcKind
}

// checkSource validates the parts of a Source that do not need the database:
// names, key and subject fields, encodings and sizes. forRead adds the
// partition and chunk settings.
func checkSource(src connectors.Source, forRead bool) (tableName, error) {
	var problems []string
	add := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	table, err := parseTable(src.Table)
	if err != nil {
		add("%v", err)
	}
	if len(src.Columns) == 0 {
		add("no columns")
	}
	fields := make(map[string]connectors.Column, len(src.Columns))
	for i, c := range src.Columns {
		switch {
		case c.Field.Name == "":
			add("columns[%d]: no field name", i)
			continue
		case fields[c.Field.Name].Field.Name != "":
			add("field %q: listed twice", c.Field.Name)
		case !validType(c.Field.Type):
			add("field %q: unknown type %q", c.Field.Name, c.Field.Type)
		}
		fields[c.Field.Name] = c
		if _, err := quoteColumn(c.SourceName()); err != nil {
			add("field %q: source %v", c.Field.Name, err)
		}
		if c.Encoding != "" {
			if _, err := textEncoding(c.Encoding); err != nil {
				add("field %q: %v", c.Field.Name, err)
			} else if c.Field.Type.Kind != schemas.String {
				add("field %q: encoding %q is for string fields, not %s", c.Field.Name, c.Encoding, c.Field.Type)
			}
		}
	}
	if len(src.PrimaryKey) == 0 {
		add("no primary key")
	}
	seen := make(map[string]bool)
	for _, k := range src.PrimaryKey {
		c, ok := fields[k]
		switch {
		case !ok:
			add("primary key field %q is not among the columns", k)
		case seen[k]:
			add("primary key field %q listed twice", k)
		case c.Encoding != "":
			add("primary key field %q: an encoding (%s) is not supported on key columns", k, c.Encoding)
		}
		seen[k] = true
	}
	if src.SubjectKey != "" {
		if _, ok := fields[src.SubjectKey]; !ok {
			add("subject key field %q is not among the columns", src.SubjectKey)
		}
	}
	if src.Watermark != "" {
		if _, err := quoteColumn(src.Watermark); err != nil {
			add("watermark %v", err)
		}
	}
	if forRead {
		if src.Partitions < 1 {
			add("partitions %d: want at least 1", src.Partitions)
		}
		if src.ChunkRows < 0 {
			add("chunk rows %d: want 0 (default %d) or more", src.ChunkRows, DefaultChunkRows)
		}
		if src.BatchRows < 0 {
			add("batch rows %d: want 0 (no cap) or more", src.BatchRows)
		}
	}
	if len(problems) > 0 {
		return tableName{}, fmt.Errorf("resource %s: %s", src.Resource, strings.Join(problems, "; "))
	}
	return table, nil
}

// validType reports a type a catalog may declare.
func validType(t schemas.Type) bool {
	switch t.Kind {
	case schemas.String, schemas.Int64, schemas.Float64, schemas.Date, schemas.Timestamp, schemas.Bool, schemas.Bytes:
		return true
	case schemas.Decimal:
		return t.Precision >= 1 && t.Precision <= schemas.MaxDecimalPrecision && t.Scale >= 0 && t.Scale <= t.Precision
	}
	return false
}

// newPlan reads the table's columns and matches the source against them. The
// error lists every field that is missing or whose type cannot carry the
// catalog type, naming the field, the source column and both types.
func newPlan(ctx context.Context, db *sql.DB, dbName string, src connectors.Source, forRead bool) (*plan, error) {
	table, err := checkSource(src, forRead)
	if err != nil {
		return nil, err
	}
	if table.Schema == "" {
		if dbName == "" {
			return nil, fmt.Errorf("resource %s: table %q names no schema and the DSN names no database", src.Resource, src.Table)
		}
		table.Schema = dbName
	}
	source, err := readColumns(ctx, db, table.Schema, table.Name)
	if err != nil {
		return nil, fmt.Errorf("resource %s: %w", src.Resource, err)
	}
	if len(source) == 0 {
		return nil, fmt.Errorf("resource %s: table %s does not exist (information_schema lists no columns for it)", src.Resource, table)
	}
	byName := make(map[string]srcColumn, len(source))
	for _, c := range source {
		byName[strings.ToLower(c.Name)] = c
	}

	p := &plan{src: src, table: table, subject: -1, source: source, chunkRows: src.ChunkRows}
	if p.chunkRows == 0 {
		p.chunkRows = DefaultChunkRows
	}
	var problems []string
	add := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	for _, c := range src.Columns {
		p.schema.Fields = append(p.schema.Fields, c.Field)
		sc, ok := byName[strings.ToLower(c.SourceName())]
		if !ok {
			add("field %q (source column %q): no such column in %s", c.Field.Name, c.SourceName(), table)
			continue
		}
		if !sc.carries(c.Field.Type, c.Encoding != "") {
			if c.Encoding != "" {
				add("field %q (source column %q): encoding %s needs a latin1, ascii or binary column read as string, not %s %s carrying %s",
					c.Field.Name, sc.Name, c.Encoding, sc.ColumnType, charsetText(sc), c.Field.Type)
			} else {
				add("field %q (source column %q): MySQL type %s cannot carry catalog type %s", c.Field.Name, sc.Name, sc.ColumnType, c.Field.Type)
			}
			continue
		}
		conv, err := newConverter(c.Field.Type, sc, c.Encoding)
		if err != nil {
			add("field %q (source column %q): %v", c.Field.Name, sc.Name, err)
			continue
		}
		quoted := "`" + sc.Name + "`"
		pc := planColumn{field: c.Field, encoding: c.Encoding, src: sc, quoted: quoted, expr: quoted, placeholder: "?", conv: conv}
		if c.Encoding != "" {
			pc.expr = "CAST(" + quoted + " AS BINARY)"
		}
		if sc.DataType == "float" && slices.Contains(src.PrimaryKey, c.Field.Name) {
			// Paging compares the column with its value's decimal, which a
			// single-precision value never equals: a page would never end.
			add("primary key field %q (source column %q): a FLOAT key cannot be paged exactly; key the resource by another column", c.Field.Name, sc.Name)
			continue
		}
		if sc.DataType == "float" {
			// The text protocol prints a FLOAT with six significant digits
			// (123456789 reads 123457000); as a DOUBLE it is exact, and the
			// converter rounds it back to single precision.
			pc.expr = "(" + quoted + " + 0e0)"
		}
		if t := c.Field.Type; t.Kind == schemas.Decimal {
			pc.placeholder = fmt.Sprintf("CAST(? AS DECIMAL(%d,%d))", t.Precision, t.Scale)
		}
		p.cols = append(p.cols, pc)
	}
	if len(problems) == 0 {
		p.checkKey(&problems)
	}
	if src.Watermark != "" {
		sc, ok := byName[strings.ToLower(src.Watermark)]
		switch {
		case !ok:
			add("watermark column %q: no such column in %s", src.Watermark, table)
		default:
			k, ok := sc.watermarkKind()
			if !ok {
				add("watermark column %q: MySQL type %s is not a date, date-time or integer", sc.Name, sc.ColumnType)
			}
			p.wm = &wmColumn{src: sc, quoted: "`" + sc.Name + "`", kind: k}
		}
	}
	if len(problems) > 0 {
		return p, fmt.Errorf("resource %s: table %s: %s", src.Resource, table, strings.Join(problems, "; "))
	}
	return p, nil
}

// checkKey resolves the key and subject fields and checks that the key
// columns are the table's primary key (or one unique column). A table
// without a primary key (a view) cannot be checked and is accepted.
func (p *plan) checkKey(problems *[]string) {
	index := make(map[string]int, len(p.cols))
	for i, c := range p.cols {
		index[c.field.Name] = i
	}
	var names []string
	for _, k := range p.src.PrimaryKey {
		p.key = append(p.key, index[k])
		names = append(names, p.cols[index[k]].src.Name)
	}
	if p.src.SubjectKey != "" {
		p.subject = index[p.src.SubjectKey]
	}
	var pri []string
	for _, c := range p.source {
		if c.Key == "PRI" {
			pri = append(pri, c.Name)
		}
	}
	if len(pri) == 0 {
		return
	}
	if len(names) == 1 && p.cols[p.key[0]].src.Key == "UNI" {
		return
	}
	if !sameNames(names, pri) {
		*problems = append(*problems, fmt.Sprintf("primary key %v: source columns (%s) are not the table's primary key (%s)",
			p.src.PrimaryKey, strings.Join(names, ", "), strings.Join(pri, ", ")))
	}
}

// sameNames compares two lists of column names as sets, ignoring case.
func sameNames(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	set := make(map[string]bool, len(a))
	for _, n := range a {
		set[strings.ToLower(n)] = true
	}
	for _, n := range b {
		if !set[strings.ToLower(n)] {
			return false
		}
	}
	return true
}

func charsetText(c srcColumn) string {
	if c.Charset == "" {
		return "(no charset)"
	}
	return "charset " + c.Charset
}

// sourceColumns is Describe's answer.
func (p *plan) sourceColumns() []connectors.SourceColumn {
	out := make([]connectors.SourceColumn, len(p.source))
	for i, c := range p.source {
		out[i] = connectors.SourceColumn{Name: c.Name, SourceType: c.ColumnType, Nullable: c.Nullable, Charset: c.Charset, PrimaryKey: c.Key == "PRI"}
	}
	return out
}

// selectList is the catalog columns' select expressions, plus extra ones.
func (p *plan) selectList(extra ...string) string {
	exprs := make([]string, 0, len(p.cols)+len(extra))
	for _, c := range p.cols {
		exprs = append(exprs, c.expr)
	}
	return strings.Join(append(exprs, extra...), ", ")
}

// keyList is the key columns, comma separated, in key order.
func (p *plan) keyList() string {
	names := make([]string, len(p.key))
	for i, k := range p.key {
		names[i] = p.cols[k].quoted
	}
	return strings.Join(names, ", ")
}

// keyAfter is the condition "key > the given key": `a` > ? for one column;
// for several `a` >= ? AND (`a`, `b`) > (?, ?), where the redundant first
// term lets MariaDB, which does not use an index for a row comparison,
// start a range scan at the key instead of reading the index from its
// start on every page. Its parameters are afterArgs.
func (p *plan) keyAfter() string {
	if len(p.key) == 1 {
		c := p.cols[p.key[0]]
		return c.quoted + " > " + c.placeholder
	}
	holders := make([]string, len(p.key))
	for i, k := range p.key {
		holders[i] = p.cols[k].placeholder
	}
	first := p.cols[p.key[0]]
	return first.quoted + " >= " + first.placeholder + " AND (" + p.keyList() + ") > (" + strings.Join(holders, ", ") + ")"
}

// afterArgs are keyAfter's parameters for a key given as text.
func (p *plan) afterArgs(key []string) ([]any, error) {
	args, err := p.keyArgs(key)
	if err != nil || len(args) == 1 {
		return args, err
	}
	return append([]any{args[0]}, args...), nil
}

// keyEquals is the condition "key = the given key".
func (p *plan) keyEquals() string {
	conds := make([]string, len(p.key))
	for i, k := range p.key {
		conds[i] = p.cols[k].quoted + " = " + p.cols[k].placeholder
	}
	return strings.Join(conds, " AND ")
}

func (p *plan) limit() string { return " LIMIT " + strconv.Itoa(p.chunkRows) }

// snapshotQuery pages through the table in key order.
func (p *plan) snapshotQuery(after bool) string {
	q := "SELECT " + p.selectList() + " FROM " + p.table.Quoted()
	if after {
		q += " WHERE " + p.keyAfter()
	}
	return q + " ORDER BY " + p.keyList() + p.limit()
}

// keySetQuery pages through the keys.
func (p *plan) keySetQuery(after bool) string {
	q := "SELECT " + p.keyList() + " FROM " + p.table.Quoted()
	if after {
		q += " WHERE " + p.keyAfter()
	}
	return q + " ORDER BY " + p.keyList() + p.limit()
}

// changesQuery pages through the rows in (watermark, key) order: the first
// page from the watermark since (or every non-NULL watermark), the next ones
// after the last row's (watermark, key).
func (p *plan) changesQuery(first, since bool) string {
	w := p.wm.quoted
	q := "SELECT " + p.selectList(w) + " FROM " + p.table.Quoted() + " WHERE "
	switch {
	case first && since:
		q += w + " >= ?"
	case first:
		q += w + " IS NOT NULL"
	default:
		// (w > a) OR (w = a AND key > k), written as w >= a AND (w > a OR key > k):
		// the same rows, with the range on w leading so an index on (w, key)
		// is used for a range scan (SQLite cannot use it for the OR form).
		q += w + " >= ? AND (" + w + " > ? OR (" + p.keyAfter() + "))"
	}
	return q + " ORDER BY " + w + ", " + p.keyList() + p.limit()
}

// lookupQuery reads one row by key.
func (p *plan) lookupQuery() string {
	return "SELECT " + p.selectList() + " FROM " + p.table.Quoted() + " WHERE " + p.keyEquals() + " LIMIT 1"
}

// keyArgs turns key text (as in Chunk.LastKey) into query parameters.
func (p *plan) keyArgs(key []string) ([]any, error) {
	if len(key) != len(p.key) {
		return nil, fmt.Errorf("resource %s: key %q has %d values, the primary key %v has %d",
			p.src.Resource, key, len(key), p.src.PrimaryKey, len(p.key))
	}
	args := make([]any, len(key))
	for i, k := range p.key {
		f := p.cols[k].field
		v, err := keyParam(f.Type, key[i])
		if err != nil {
			return nil, fmt.Errorf("resource %s: key field %q: %w", p.src.Resource, f.Name, err)
		}
		args[i] = v
	}
	return args, nil
}
