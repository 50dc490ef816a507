package wire

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"

	"github.com/tongban/tongban/schemas"
)

// Cell is one value already converted to its field's kind: the typed fast
// path of a connector that parses its source's bytes itself, with no Go
// interface value per column. Which member holds the value depends on the
// kind:
//
//	String, Bytes  Bytes (a String's must be valid UTF-8)
//	Int64          Int
//	Bool           Int (0 is false)
//	Date           Int: days since 1970-01-01 (arrow.Date32)
//	Timestamp      Int: microseconds since 1970-01-01 00:00 of the wall clock
//	Float64        Float
//	Decimal        Dec, fitting the field's precision and scale (ParseDecimal)
//
// Null marks SQL NULL; the other members are then ignored.
type Cell struct {
	Null  bool
	Int   int64
	Float float64
	Dec   decimal128.Num
	// Bytes may point into a buffer the caller reuses: AppendCells copies it.
	Bytes []byte
}

// AppendCells adds one row of cells in schema order, and the row's version.
// The cells must hold valid values of their fields' kinds (the checks Append
// makes are the caller's); only their number is checked here.
func (b *Builder) AppendCells(cells []Cell, version int64) error {
	if len(cells) != len(b.schema.Fields) {
		return fmt.Errorf("row has %d values, schema has %d fields", len(cells), len(b.schema.Fields))
	}
	for i := range cells {
		c := &cells[i]
		fb := b.b.Field(i)
		if c.Null {
			fb.AppendNull()
			continue
		}
		switch x := fb.(type) {
		case *array.StringBuilder:
			x.BinaryBuilder.Append(c.Bytes)
		case *array.BinaryBuilder:
			x.Append(c.Bytes)
		case *array.Int64Builder:
			x.Append(c.Int)
		case *array.Float64Builder:
			x.Append(c.Float)
		case *array.Decimal128Builder:
			x.Append(c.Dec)
		case *array.Date32Builder:
			x.Append(arrow.Date32(c.Int))
		case *array.TimestampBuilder:
			x.Append(arrow.Timestamp(c.Int))
		case *array.BooleanBuilder:
			x.Append(c.Int != 0)
		}
	}
	b.b.Field(len(cells)).(*array.Int64Builder).Append(version)
	b.rows++
	return nil
}

// AppendCellText appends the text of a cell of type t exactly as Text renders
// the value once it is in a batch (record keys, partitioning); NULL appends
// nothing.
func AppendCellText(dst []byte, t schemas.Type, c *Cell) []byte {
	if c.Null {
		return dst
	}
	switch t.Kind {
	case schemas.String:
		return append(dst, c.Bytes...)
	case schemas.Int64:
		return strconv.AppendInt(dst, c.Int, 10)
	case schemas.Float64:
		return strconv.AppendFloat(dst, c.Float, 'g', -1, 64)
	case schemas.Decimal:
		return append(dst, c.Dec.ToString(t.Scale)...)
	case schemas.Date:
		return arrow.Date32(c.Int).ToTime().AppendFormat(dst, DateLayout)
	case schemas.Timestamp:
		return time.UnixMicro(c.Int).UTC().AppendFormat(dst, TimestampLayout)
	case schemas.Bool:
		return strconv.AppendBool(dst, c.Int != 0)
	case schemas.Bytes:
		return base64.StdEncoding.AppendEncode(dst, c.Bytes)
	}
	return dst
}

// ParseDecimal reads a decimal's text ("-1234.5") as a value of the decimal
// type t, which it must fit: at most t.Scale fraction digits are kept exactly
// and the digits must fit t.Precision.
func ParseDecimal[T string | []byte](s T, t schemas.Type) (decimal128.Num, error) {
	n, ok := parseSmallDecimal(s, t.Scale)
	if !ok {
		var err error
		if n, err = decimal128.FromString(string(s), t.Precision, t.Scale); err != nil {
			return decimal128.Num{}, fmt.Errorf("%q is not a %s: %w", s, t, err)
		}
	}
	if !n.FitsInPrecision(t.Precision) {
		return decimal128.Num{}, fmt.Errorf("%q does not fit %s", s, t)
	}
	return n, nil
}
