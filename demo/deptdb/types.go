package deptdb

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/dolthub/vitess/go/sqltypes"
	querypb "github.com/dolthub/vitess/go/vt/proto/query"
)

// kind groups the MySQL column types by how deptdb stores and converts their values.
type kind int

const (
	kindInt      kind = iota + 1 // TINYINT … BIGINT, YEAR: SQLite INTEGER
	kindFloat                    // FLOAT, DOUBLE: SQLite REAL
	kindDecimal                  // DECIMAL(p,s): SQLite TEXT with exactly s decimals
	kindDate                     // DATE: SQLite TEXT 'YYYY-MM-DD'
	kindDatetime                 // DATETIME(fsp), TIMESTAMP(fsp): SQLite TEXT 'YYYY-MM-DD HH:MM:SS.ffffff'
	kindText                     // CHAR, VARCHAR, *TEXT (JSON is LONGTEXT, as in MariaDB): SQLite TEXT
	kindBinary                   // BINARY, VARBINARY, *BLOB: SQLite BLOB
)

// MySQL character set / collation ids sent in column definitions.
const (
	collationUTF8MB4 = 45 // utf8mb4_general_ci, what MariaDB sends for utf8mb4 text
	collationBinary  = 63
)

// Column definition flags of the MySQL protocol.
const (
	flagNotNull  = 1
	flagPriKey   = 2
	flagBlob     = 16
	flagUnsigned = 32
	flagBinary   = 128
	flagNum      = 32768
)

// colType is the declared MySQL type of a column, as deptdb keeps it.
type colType struct {
	name     string // canonical upper-case base name: BIGINT, VARCHAR, DECIMAL, DATETIME …
	length   int    // CHAR/VARCHAR/BINARY/VARBINARY length, DECIMAL precision, integer display width
	scale    int    // DECIMAL scale, DATETIME/TIMESTAMP fractional-second precision
	unsigned bool
	notNull  bool
	primary  bool
}

// baseType describes one supported MySQL base type.
type baseType struct {
	kind     kind
	affinity string // SQLite affinity keyword that starts the encoded declared type
	// defWidth is the display width MariaDB reports for integers (signed, unsigned).
	defWidth, defWidthUnsigned int
	// maxLen is the maximum length of TEXT/BLOB types.
	maxLen int64
}

// lookupBase returns the description of a canonical base type name.
func lookupBase(name string) (baseType, bool) {
	switch name {
	case "TINYINT":
		return baseType{kind: kindInt, affinity: "INTEGER", defWidth: 4, defWidthUnsigned: 3}, true
	case "SMALLINT":
		return baseType{kind: kindInt, affinity: "INTEGER", defWidth: 6, defWidthUnsigned: 5}, true
	case "MEDIUMINT":
		return baseType{kind: kindInt, affinity: "INTEGER", defWidth: 9, defWidthUnsigned: 8}, true
	case "INT":
		return baseType{kind: kindInt, affinity: "INTEGER", defWidth: 11, defWidthUnsigned: 10}, true
	case "BIGINT":
		return baseType{kind: kindInt, affinity: "INTEGER", defWidth: 20, defWidthUnsigned: 20}, true
	case "YEAR":
		return baseType{kind: kindInt, affinity: "INTEGER", defWidth: 4, defWidthUnsigned: 4}, true
	case "FLOAT", "DOUBLE":
		return baseType{kind: kindFloat, affinity: "REAL"}, true
	case "DECIMAL":
		return baseType{kind: kindDecimal, affinity: "TEXT"}, true
	case "DATE":
		return baseType{kind: kindDate, affinity: "TEXT"}, true
	case "DATETIME", "TIMESTAMP":
		return baseType{kind: kindDatetime, affinity: "TEXT"}, true
	case "CHAR", "VARCHAR":
		return baseType{kind: kindText, affinity: "TEXT"}, true
	case "TINYTEXT":
		return baseType{kind: kindText, affinity: "TEXT", maxLen: 255}, true
	case "TEXT":
		return baseType{kind: kindText, affinity: "TEXT", maxLen: 65535}, true
	case "MEDIUMTEXT":
		return baseType{kind: kindText, affinity: "TEXT", maxLen: 16777215}, true
	case "LONGTEXT":
		return baseType{kind: kindText, affinity: "TEXT", maxLen: 4294967295}, true
	case "BINARY", "VARBINARY":
		return baseType{kind: kindBinary, affinity: "BLOB"}, true
	case "TINYBLOB":
		return baseType{kind: kindBinary, affinity: "BLOB", maxLen: 255}, true
	case "BLOB":
		return baseType{kind: kindBinary, affinity: "BLOB", maxLen: 65535}, true
	case "MEDIUMBLOB":
		return baseType{kind: kindBinary, affinity: "BLOB", maxLen: 16777215}, true
	case "LONGBLOB":
		return baseType{kind: kindBinary, affinity: "BLOB", maxLen: 4294967295}, true
	}
	return baseType{}, false
}

// canonicalTypeName maps the spellings MySQL accepts to deptdb's base names. The second result
// is a length implied by the alias (BOOL is TINYINT(1)).
func canonicalTypeName(spelled string) (string, int) {
	name := strings.ToUpper(strings.Join(strings.Fields(spelled), " "))
	switch name {
	case "BOOL", "BOOLEAN":
		return "TINYINT", 1
	case "INTEGER", "INT4":
		return "INT", 0
	case "INT1":
		return "TINYINT", 0
	case "INT2":
		return "SMALLINT", 0
	case "INT3", "MIDDLEINT":
		return "MEDIUMINT", 0
	case "INT8":
		return "BIGINT", 0
	case "NUMERIC", "DEC", "FIXED":
		return "DECIMAL", 0
	case "REAL", "DOUBLE PRECISION", "FLOAT8":
		return "DOUBLE", 0
	case "FLOAT4":
		return "FLOAT", 0
	case "CHARACTER", "NCHAR", "NATIONAL CHAR", "NATIONAL CHARACTER":
		return "CHAR", 0
	case "CHARACTER VARYING", "NVARCHAR", "NATIONAL VARCHAR", "NATIONAL CHARACTER VARYING", "NCHAR VARCHAR":
		return "VARCHAR", 0
	case "JSON":
		return "LONGTEXT", 0
	}
	return name, 0
}

func (t colType) base() baseType {
	b, _ := lookupBase(t.name)
	return b
}

func (t colType) kind() kind { return t.base().kind }

// width is the integer display width MariaDB reports.
func (t colType) width() int {
	if t.length > 0 {
		return t.length
	}
	b := t.base()
	if t.unsigned {
		return b.defWidthUnsigned
	}
	return b.defWidth
}

// columnType renders the type the way MariaDB's information_schema.COLUMNS.COLUMN_TYPE does.
func (t colType) columnType() string {
	n := strings.ToLower(t.name)
	var s string
	switch t.kind() {
	case kindInt:
		s = fmt.Sprintf("%s(%d)", n, t.width())
	case kindDecimal:
		s = fmt.Sprintf("%s(%d,%d)", n, t.length, t.scale)
	case kindDatetime:
		s = n
		if t.scale > 0 {
			s = fmt.Sprintf("%s(%d)", n, t.scale)
		}
	case kindText, kindBinary:
		s = n
		if t.name == "CHAR" || t.name == "VARCHAR" || t.name == "BINARY" || t.name == "VARBINARY" {
			s = fmt.Sprintf("%s(%d)", n, t.length)
		}
	default:
		s = n
	}
	if t.unsigned {
		s += " unsigned"
	}
	return s
}

// dataType is information_schema.COLUMNS.DATA_TYPE.
func (t colType) dataType() string { return strings.ToLower(t.name) }

// isCharacter reports whether values of the type carry a character set.
func (t colType) isCharacter() bool { return t.kind() == kindText }

// charMaxLength is CHARACTER_MAXIMUM_LENGTH (characters for text, bytes for binary), or -1 for NULL.
func (t colType) charMaxLength() int64 {
	switch t.kind() {
	case kindText, kindBinary:
		if b := t.base(); b.maxLen > 0 {
			return b.maxLen
		}
		return int64(t.length)
	}
	return -1
}

// charOctetLength is CHARACTER_OCTET_LENGTH, or -1 for NULL.
func (t colType) charOctetLength() int64 {
	switch t.kind() {
	case kindText:
		if b := t.base(); b.maxLen > 0 {
			return b.maxLen
		}
		return int64(t.length) * 4
	case kindBinary:
		return t.charMaxLength()
	}
	return -1
}

// numericPrecision is NUMERIC_PRECISION, or -1 for NULL.
func (t colType) numericPrecision() int64 {
	switch t.name {
	case "TINYINT":
		return 3
	case "SMALLINT":
		return 5
	case "MEDIUMINT":
		return 7
	case "INT":
		return 10
	case "BIGINT":
		if t.unsigned {
			return 20
		}
		return 19
	case "DECIMAL":
		return int64(t.length)
	case "FLOAT":
		return 12
	case "DOUBLE":
		return 22
	}
	return -1
}

// numericScale is NUMERIC_SCALE, or -1 for NULL.
func (t colType) numericScale() int64 {
	switch t.kind() {
	case kindInt:
		if t.name == "YEAR" {
			return -1
		}
		return 0
	case kindDecimal:
		return int64(t.scale)
	}
	return -1
}

// datetimePrecision is DATETIME_PRECISION, or -1 for NULL.
func (t colType) datetimePrecision() int64 {
	if t.kind() == kindDatetime {
		return int64(t.scale)
	}
	return -1
}

// decltype encodes the type as the SQLite declared type of the column: the affinity keyword
// first (so SQLite's affinity rules pick it), then markers, then the MySQL base type with its
// arguments, e.g. "TEXT NN PK DECIMAL(12,2)". SQLite reports it back for every result column
// that reads a table column, which is how result sets get their MySQL column types.
func (t colType) decltype() string {
	var b strings.Builder
	b.WriteString(t.base().affinity)
	if t.unsigned {
		b.WriteString(" UNSIGNED")
	}
	if t.notNull {
		b.WriteString(" NN")
	}
	if t.primary {
		b.WriteString(" PK")
	}
	b.WriteByte(' ')
	b.WriteString(t.name)
	switch {
	case t.kind() == kindDecimal:
		fmt.Fprintf(&b, "(%d,%d)", t.length, t.scale)
	case t.kind() == kindDatetime:
		fmt.Fprintf(&b, "(%d)", t.scale)
	case t.length > 0:
		fmt.Fprintf(&b, "(%d)", t.length)
	}
	return b.String()
}

// parseDecltype decodes a declared type written by decltype. ok is false for anything else
// (expressions have no declared type).
func parseDecltype(s string) (colType, bool) {
	words := strings.Fields(strings.ToUpper(s))
	if len(words) < 2 {
		return colType{}, false
	}
	var t colType
	for _, w := range words[1 : len(words)-1] {
		switch w {
		case "UNSIGNED":
			t.unsigned = true
		case "NN":
			t.notNull = true
		case "PK":
			t.primary = true
		default:
			return colType{}, false
		}
	}
	last := words[len(words)-1]
	name, args, hasArgs := strings.Cut(last, "(")
	t.name = name
	b, ok := lookupBase(name)
	if !ok || b.affinity != words[0] {
		return colType{}, false
	}
	if hasArgs {
		args, ok = strings.CutSuffix(args, ")")
		if !ok {
			return colType{}, false
		}
		first, second, two := strings.Cut(args, ",")
		n, err := strconv.Atoi(strings.TrimSpace(first))
		if err != nil || n < 0 {
			return colType{}, false
		}
		switch b.kind {
		case kindDatetime:
			t.scale = n
		default:
			t.length = n
		}
		if two {
			m, err := strconv.Atoi(strings.TrimSpace(second))
			if err != nil || m < 0 {
				return colType{}, false
			}
			t.scale = m
		}
	}
	return t, true
}

// vtType is the Vitess (and so MySQL wire) type of the column.
func (t colType) vtType() querypb.Type {
	switch t.name {
	case "TINYINT":
		return pick(t.unsigned, sqltypes.Uint8, sqltypes.Int8)
	case "SMALLINT":
		return pick(t.unsigned, sqltypes.Uint16, sqltypes.Int16)
	case "MEDIUMINT":
		return pick(t.unsigned, sqltypes.Uint24, sqltypes.Int24)
	case "INT":
		return pick(t.unsigned, sqltypes.Uint32, sqltypes.Int32)
	case "BIGINT":
		return pick(t.unsigned, sqltypes.Uint64, sqltypes.Int64)
	case "YEAR":
		return sqltypes.Year
	case "FLOAT":
		return sqltypes.Float32
	case "DOUBLE":
		return sqltypes.Float64
	case "DECIMAL":
		return sqltypes.Decimal
	case "DATE":
		return sqltypes.Date
	case "DATETIME":
		return sqltypes.Datetime
	case "TIMESTAMP":
		return sqltypes.Timestamp
	case "CHAR":
		return sqltypes.Char
	case "VARCHAR":
		return sqltypes.VarChar
	case "BINARY":
		return sqltypes.Binary
	case "VARBINARY":
		return sqltypes.VarBinary
	}
	if t.kind() == kindBinary {
		return sqltypes.Blob
	}
	return sqltypes.Text
}

func pick(c bool, a, b querypb.Type) querypb.Type {
	if c {
		return a
	}
	return b
}

// field is the column definition sent to the client for a result column of this type.
func (t colType) field(name string) *querypb.Field {
	if t.name == nullTypeName {
		return &querypb.Field{Name: name, Type: sqltypes.Null, Charset: collationBinary, Flags: flagBinary}
	}
	f := &querypb.Field{Name: name, Type: t.vtType(), Charset: collationBinary}
	flags := uint32(0)
	if t.notNull {
		flags |= flagNotNull
	}
	if t.primary {
		flags |= flagPriKey
	}
	if t.unsigned {
		flags |= flagUnsigned
	}
	switch t.kind() {
	case kindInt:
		f.ColumnLength = uint32(t.width())
		flags |= flagNum
	case kindFloat:
		f.ColumnLength = uint32(t.numericPrecision())
		f.Decimals = 31 // NOT_FIXED_DEC
		flags |= flagNum
	case kindDecimal:
		l := t.length + 1 // sign
		if t.scale > 0 {
			l++ // point
		}
		if t.unsigned {
			l--
		}
		f.ColumnLength = uint32(l)
		f.Decimals = uint32(t.scale)
		flags |= flagNum
	case kindDate:
		f.ColumnLength = 10
		flags |= flagBinary
	case kindDatetime:
		f.ColumnLength = 19
		if t.scale > 0 {
			f.ColumnLength += uint32(t.scale) + 1
		}
		f.Decimals = uint32(t.scale)
		flags |= flagBinary
	case kindText:
		f.Charset = collationUTF8MB4
		f.ColumnLength = uint32(min(t.charOctetLength(), 1<<32-1))
		if t.base().maxLen > 0 {
			flags |= flagBlob
		}
	case kindBinary:
		f.ColumnLength = uint32(min(t.charOctetLength(), 1<<32-1))
		flags |= flagBinary
		if t.base().maxLen > 0 {
			flags |= flagBlob
		}
	}
	// Vitess uses the type's default flags when Flags is zero; the defaults are a subset of ours.
	f.Flags = flags
	return f
}
