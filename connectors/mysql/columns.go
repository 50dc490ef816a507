package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"github.com/tongban/tongban/schemas"
)

// columnsQuery reads a table's columns. The demo's in-process MySQL-wire
// server answers exactly this form, so keep the column list and the WHERE
// clause as they are.
const columnsQuery = "SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, CHARACTER_SET_NAME, " +
	"NUMERIC_PRECISION, NUMERIC_SCALE, COLUMN_KEY FROM information_schema.COLUMNS " +
	"WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION"

// srcColumn is one column as information_schema describes it.
type srcColumn struct {
	Name       string
	DataType   string // lower case, e.g. "varchar"
	ColumnType string // lower case, e.g. "varchar(18)", "bigint(20) unsigned"
	Nullable   bool
	Charset    string // lower case; empty for non-text columns
	Precision  int    // -1 when not numeric
	Scale      int    // -1 when not numeric
	Key        string // PRI, UNI, MUL or empty
}

// readColumns returns the table's columns in table order.
func readColumns(ctx context.Context, db *sql.DB, schema, table string) ([]srcColumn, error) {
	rows, err := db.QueryContext(ctx, columnsQuery, schema, table)
	if err != nil {
		return nil, fmt.Errorf("read columns of %s.%s: %w", schema, table, err)
	}
	defer rows.Close()
	var cols []srcColumn
	for rows.Next() {
		var name, dataType, colType, nullable, charset, prec, scale, key sql.NullString
		if err := rows.Scan(&name, &dataType, &colType, &nullable, &charset, &prec, &scale, &key); err != nil {
			return nil, fmt.Errorf("read columns of %s.%s: %w", schema, table, err)
		}
		c := srcColumn{
			Name:       name.String,
			DataType:   strings.ToLower(strings.TrimSpace(dataType.String)),
			ColumnType: strings.ToLower(strings.TrimSpace(colType.String)),
			Nullable:   strings.EqualFold(nullable.String, "YES"),
			Charset:    strings.ToLower(charset.String),
			Precision:  atoiOr(prec, -1),
			Scale:      atoiOr(scale, -1),
			Key:        strings.ToUpper(key.String),
		}
		if c.ColumnType == "" {
			c.ColumnType = c.DataType
		}
		cols = append(cols, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read columns of %s.%s: %w", schema, table, err)
	}
	return cols, nil
}

func atoiOr(s sql.NullString, def int) int {
	if !s.Valid {
		return def
	}
	n, err := strconv.Atoi(strings.TrimSpace(s.String))
	if err != nil {
		return def
	}
	return n
}

// srcKind groups MySQL types by how their values are read.
type srcKind int

const (
	kindOther srcKind = iota
	kindInt
	kindBit
	kindDecimal
	kindFloat
	kindText
	kindBinary
	kindDate
	kindDateTime
)

func (c srcColumn) kind() srcKind {
	switch c.DataType {
	case "tinyint", "smallint", "mediumint", "int", "integer", "bigint", "year", "bool", "boolean":
		return kindInt
	case "bit":
		return kindBit
	case "decimal", "numeric", "dec", "fixed":
		return kindDecimal
	case "float", "double", "real", "double precision":
		return kindFloat
	case "char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set", "json", "nchar", "nvarchar":
		return kindText
	case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob":
		return kindBinary
	case "date":
		return kindDate
	case "datetime", "timestamp":
		return kindDateTime
	}
	return kindOther
}

func (c srcColumn) unsigned() bool { return strings.Contains(c.ColumnType, "unsigned") }

// intDigits is the number of decimal digits the largest value of an
// integer column has.
func (c srcColumn) intDigits() int {
	u := c.unsigned()
	switch c.DataType {
	case "tinyint", "bool", "boolean":
		return 3
	case "smallint":
		return 5
	case "mediumint":
		if u {
			return 8
		}
		return 7
	case "int", "integer":
		return 10
	case "year":
		return 4
	}
	if u {
		return 20
	}
	return 19
}

// width is the number in parentheses of a type such as bit(1) or tinyint(1), or 0.
func (c srcColumn) width() int {
	_, rest, ok := strings.Cut(c.ColumnType, "(")
	if !ok {
		return 0
	}
	n, _, ok := strings.Cut(rest, ")")
	if !ok {
		return 0
	}
	w, err := strconv.Atoi(n)
	if err != nil {
		return 0
	}
	return w
}

// isFlag reports a tinyint(1) or bit(1) column, MySQL's booleans.
func (c srcColumn) isFlag() bool {
	switch c.DataType {
	case "bool", "boolean":
		return true
	case "tinyint", "bit":
		return c.width() == 1
	}
	return false
}

// decimalType is the exact decimal type of a decimal or integer column.
func (c srcColumn) decimalType() (schemas.Type, bool) {
	switch c.kind() {
	case kindDecimal:
		if c.Precision < 1 || c.Scale < 0 {
			return schemas.Type{}, false
		}
		return schemas.Type{Kind: schemas.Decimal, Precision: int32(c.Precision), Scale: int32(c.Scale)}, true
	case kindInt:
		return schemas.Type{Kind: schemas.Decimal, Precision: int32(c.intDigits()), Scale: 0}, true
	}
	return schemas.Type{}, false
}

// textCharsetForEncoding reports whether a column may hold text in a foreign
// encoding that the connector decodes itself: latin1 and ascii columns (read
// as their raw bytes) and binary ones.
func (c srcColumn) textCharsetForEncoding() bool {
	switch c.kind() {
	case kindBinary:
		return true
	case kindText:
		return c.Charset == "latin1" || c.Charset == "ascii"
	}
	return false
}

// carries reports whether every value of the column can be read as type t
// without loss. encoded says the config names a real encoding for the column.
func (c srcColumn) carries(t schemas.Type, encoded bool) bool {
	k := c.kind()
	if encoded {
		return t.Kind == schemas.String && c.textCharsetForEncoding()
	}
	switch t.Kind {
	case schemas.String:
		return k == kindText
	case schemas.Int64:
		// bigint unsigned is accepted: values over 2^63-1 fail at read.
		return k == kindInt || (k == kindBit && c.width() <= 63)
	case schemas.Bool:
		return c.isFlag()
	case schemas.Float64:
		return k == kindFloat
	case schemas.Decimal:
		d, ok := c.decimalType()
		return ok && t.Widens(d)
	case schemas.Date:
		return k == kindDate
	case schemas.Timestamp:
		return k == kindDateTime || k == kindDate
	case schemas.Bytes:
		return k == kindBinary
	}
	return false
}

// watermarkKind is the kind of a column usable as a watermark.
func (c srcColumn) watermarkKind() (srcKind, bool) {
	switch k := c.kind(); k {
	case kindDateTime, kindDate, kindInt:
		return k, true
	}
	return kindOther, false
}
