package deptdb

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dolthub/vitess/go/sqltypes"
	querypb "github.com/dolthub/vitess/go/vt/proto/query"
)

// number is a numeric literal of a statement, kept as text so that DECIMAL columns get it
// exactly.
type number string

// bindValue converts a parameter of COM_STMT_EXECUTE to a Go value: nil, int64, float64 or
// string (strings and blobs arrive alike; columns turn them into bytes where needed).
func bindValue(bv *querypb.BindVariable) (any, error) {
	if bv == nil {
		return nil, nil
	}
	v := string(bv.Value)
	switch {
	case bv.Type == sqltypes.Null:
		return nil, nil
	case sqltypes.IsSigned(bv.Type):
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("parameter %q: %w", v, err)
		}
		return n, nil
	case sqltypes.IsUnsigned(bv.Type):
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("parameter %q: %w", v, err)
		}
		if n <= math.MaxInt64 {
			return int64(n), nil
		}
		return number(v), nil
	case sqltypes.IsFloat(bv.Type):
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, fmt.Errorf("parameter %q: %w", v, err)
		}
		return f, nil
	case bv.Type == sqltypes.Decimal:
		return number(v), nil
	}
	return v, nil
}

// sqliteArg makes a value bindable by SQLite.
func sqliteArg(v any) any {
	switch x := v.(type) {
	case number:
		if n, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return n
		}
		if f, err := strconv.ParseFloat(string(x), 64); err == nil {
			return f
		}
		return string(x)
	case bool:
		if x {
			return int64(1)
		}
		return int64(0)
	}
	return v
}

// valueText renders a value for error messages and text columns.
func valueText(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case string:
		return x
	case []byte:
		return string(x)
	case number:
		return string(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		if x {
			return "1"
		}
		return "0"
	}
	return fmt.Sprint(v)
}

// intRange is the range of values of an integer column.
func (t colType) intRange() (lo, hi int64) {
	var bits uint
	switch t.name {
	case "TINYINT":
		bits = 8
	case "SMALLINT":
		bits = 16
	case "MEDIUMINT":
		bits = 24
	default:
		bits = 32
	}
	switch {
	case t.name == "YEAR":
		return 0, 2155
	case t.name == "BIGINT":
		if t.unsigned {
			return 0, math.MaxInt64 // SQLite integers are signed 64-bit
		}
		return math.MinInt64, math.MaxInt64
	case t.unsigned:
		return 0, 1<<bits - 1
	default:
		return -(1 << (bits - 1)), 1<<(bits-1) - 1
	}
}

// toStored converts a value for a column to the form deptdb stores in SQLite: integers as
// int64, floats as float64, DECIMAL as text with exactly the declared scale, DATE as
// 'YYYY-MM-DD', DATETIME/TIMESTAMP as 'YYYY-MM-DD HH:MM:SS.ffffff' (digits beyond the declared
// precision zeroed), text as string, binary as []byte. It fails with errBadValue or
// errOutOfRange (wrapped) for values the column cannot hold.
func (t colType) toStored(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if b, ok := v.(bool); ok {
		v = sqliteArg(b)
	}
	switch t.kind() {
	case kindInt:
		n, err := toInt(v)
		if err != nil {
			return nil, err
		}
		lo, hi := t.intRange()
		if n < lo || n > hi {
			return nil, errOutOfRange
		}
		return n, nil
	case kindFloat:
		switch x := v.(type) {
		case int64:
			return float64(x), nil
		case float64:
			return x, nil
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(valueText(v)), 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, errBadValue
		}
		return f, nil
	case kindDecimal:
		s := valueText(v)
		if f, ok := v.(float64); ok {
			s = strconv.FormatFloat(f, 'f', -1, 64)
		}
		return normDecimal(s, t.length, t.scale)
	case kindDate:
		d, err := parseDatetime(strings.TrimSpace(valueText(v)))
		if err != nil {
			return nil, err
		}
		return d.dateString(), nil
	case kindDatetime:
		d, err := parseDatetime(strings.TrimSpace(valueText(v)))
		if err != nil {
			return nil, err
		}
		return d.truncate(t.scale).storedString(), nil
	case kindText:
		s := valueText(v)
		if !utf8.ValidString(s) {
			return nil, errBadValue
		}
		if max := t.charMaxLength(); t.base().maxLen > 0 && int64(len(s)) > max ||
			t.base().maxLen == 0 && int64(utf8.RuneCountInString(s)) > max {
			return nil, errTooLong
		}
		return s, nil
	case kindBinary:
		var b []byte
		switch x := v.(type) {
		case []byte:
			b = x
		default:
			b = []byte(valueText(v))
		}
		if max := t.charMaxLength(); int64(len(b)) > max {
			return nil, errTooLong
		}
		if t.name == "BINARY" && len(b) < t.length {
			b = append(append([]byte(nil), b...), make([]byte, t.length-len(b))...)
		}
		return b, nil
	}
	return nil, fmt.Errorf("column type %s has no storage conversion", t.name)
}

func toInt(v any) (int64, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case float64:
		return roundFloat(x)
	}
	s := strings.TrimSpace(valueText(v))
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	if allDigits(strings.TrimPrefix(s, "-")) && s != "" && s != "-" {
		return 0, errOutOfRange
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, errBadValue
	}
	return roundFloat(f)
}

func roundFloat(f float64) (int64, error) {
	r := math.Round(f)
	if math.IsNaN(r) || r < math.MinInt64 || r >= math.MaxInt64 {
		return 0, errOutOfRange
	}
	return int64(r), nil
}

// forComparison converts a value compared with a column so that SQLite compares it with the
// stored form: DATE and DATETIME values in canonical text, DECIMAL with the column's scale,
// text as bytes for binary columns. Values that do not convert are left alone (a comparison
// with a malformed date is false, not an error).
func (t colType) forComparison(v any) any {
	switch t.kind() {
	case kindDate, kindDatetime, kindDecimal:
		if s, err := t.toStored(v); err == nil {
			return s
		}
	case kindBinary:
		if s, ok := v.(string); ok {
			return []byte(s)
		}
	}
	return sqliteArg(v)
}

// toWire converts a value read from SQLite for a result column of type t.
func (t colType) toWire(v any) (sqltypes.Value, error) {
	if v == nil {
		return sqltypes.NULL, nil
	}
	typ := t.vtType()
	switch t.kind() {
	case kindInt:
		n, err := toInt(v)
		if err != nil {
			return sqltypes.NULL, fmt.Errorf("%s value %q: %w", t.name, valueText(v), err)
		}
		if t.unsigned && n < 0 {
			return sqltypes.NULL, fmt.Errorf("%s UNSIGNED value %d: %w", t.name, n, errOutOfRange)
		}
		if lo, hi := t.wireRange(); n < lo || n > hi {
			return sqltypes.NULL, fmt.Errorf("%s value %d: %w", t.name, n, errOutOfRange)
		}
		return sqltypes.MakeTrusted(typ, strconv.AppendInt(nil, n, 10)), nil
	case kindFloat:
		var f float64
		switch x := v.(type) {
		case float64:
			f = x
		case int64:
			f = float64(x)
		default:
			p, err := strconv.ParseFloat(strings.TrimSpace(valueText(v)), 64)
			if err != nil {
				return sqltypes.NULL, fmt.Errorf("%s value %q: %w", t.name, valueText(v), errBadValue)
			}
			f = p
		}
		bits := 64
		if t.name == "FLOAT" {
			bits = 32
		}
		return sqltypes.MakeTrusted(typ, strconv.AppendFloat(nil, f, 'g', -1, bits)), nil
	case kindDecimal:
		s := valueText(v)
		if f, ok := v.(float64); ok {
			s = strconv.FormatFloat(f, 'f', -1, 64)
		}
		d, err := normDecimal(s, max(t.length, 65), t.scale)
		if err != nil {
			return sqltypes.NULL, fmt.Errorf("DECIMAL value %q: %w", s, err)
		}
		return sqltypes.MakeTrusted(typ, []byte(d)), nil
	case kindDate:
		s := valueText(v)
		if !isStoredDate(s) {
			d, err := parseDatetime(s)
			if err != nil {
				return sqltypes.NULL, fmt.Errorf("DATE value %q: %w", s, err)
			}
			s = d.dateString()
		}
		return sqltypes.MakeTrusted(typ, []byte(s)), nil
	case kindDatetime:
		s := valueText(v)
		if !isStoredDatetime(s) {
			d, err := parseDatetime(s)
			if err != nil {
				return sqltypes.NULL, fmt.Errorf("%s value %q: %w", t.name, s, err)
			}
			s = d.storedString()
		}
		n := 19
		if t.scale > 0 {
			n += 1 + min(t.scale, 6)
		}
		return sqltypes.MakeTrusted(typ, []byte(s[:n])), nil
	case kindText, kindBinary:
		switch x := v.(type) {
		case []byte:
			return sqltypes.MakeTrusted(typ, x), nil
		default:
			return sqltypes.MakeTrusted(typ, []byte(valueText(v))), nil
		}
	}
	return sqltypes.NULL, fmt.Errorf("column type %s has no wire conversion", t.name)
}

// wireRange is the range the wire type can carry (YEAR travels as a 16-bit integer).
func (t colType) wireRange() (lo, hi int64) {
	if t.name == "YEAR" {
		return 0, 9999
	}
	return t.intRange()
}

// nullTypeName names the type of a result column with nothing but NULLs.
const nullTypeName = "NULL"

// inferType picks a result column type from the values of an expression column (one SQLite
// reports no declared type for). complete says whether vals are all the rows.
func inferType(vals []any, complete bool) colType {
	var ints, floats, texts, blobs, nulls int
	for _, v := range vals {
		switch v.(type) {
		case nil:
			nulls++
		case int64:
			ints++
		case float64:
			floats++
		case []byte:
			blobs++
		default:
			texts++
		}
	}
	switch {
	case blobs > 0 && texts == 0 && ints == 0 && floats == 0:
		return colType{name: "LONGBLOB"}
	case texts > 0 || blobs > 0:
		return colType{name: "LONGTEXT"}
	case floats > 0:
		return colType{name: "DOUBLE"}
	case ints > 0:
		return colType{name: "BIGINT"}
	case complete:
		return colType{name: nullTypeName}
	}
	return colType{name: "LONGTEXT"}
}
