package wire

import (
	"encoding/base64"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/tongban/tongban/schemas"
)

// Text layouts of dates and timestamps in JSON and in record keys.
const (
	DateLayout      = "2006-01-02"
	TimestampLayout = "2006-01-02T15:04:05.000000"
)

// Builder appends Go values to a record batch of a schema plus _version.
// Accepted values per kind: string (string, []byte); int64 (any Go integer);
// float64 (float32/64); decimal (string "12.30", int64); date and timestamp
// (time.Time, whose wall-clock fields are kept as written, or text in the
// layouts above); bool; bytes ([]byte, string); nil for NULL.
type Builder struct {
	schema schemas.Schema
	b      *array.RecordBuilder
	rows   int
	conv   []any // reused per row: converted values before they are appended
}

// NewBuilder starts a batch. Release it when done.
func NewBuilder(mem memory.Allocator, s schemas.Schema) *Builder {
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	return &Builder{schema: s, b: array.NewRecordBuilder(mem, s.Arrow())}
}

// Rows is the number of rows appended since the last NewRecord.
func (b *Builder) Rows() int { return b.rows }

// Append adds one row: values in schema order, and the row's version.
// On error nothing is appended.
func (b *Builder) Append(values []any, version int64) error {
	if len(values) != len(b.schema.Fields) {
		return fmt.Errorf("row has %d values, schema has %d fields", len(values), len(b.schema.Fields))
	}
	// Convert first so a bad value leaves the builders untouched.
	if cap(b.conv) < len(values) {
		b.conv = make([]any, len(values))
	}
	conv := b.conv[:len(values)]
	for i, v := range values {
		c, err := convert(b.schema.Fields[i].Type, v)
		if err != nil {
			return fmt.Errorf("field %q: %w", b.schema.Fields[i].Name, err)
		}
		conv[i] = c
	}
	for i, c := range conv {
		appendConverted(b.b.Field(i), c)
	}
	b.b.Field(len(values)).(*array.Int64Builder).Append(version)
	b.rows++
	return nil
}

// NewRecord returns the rows appended so far as a record batch and resets the
// builder. The caller releases the record.
func (b *Builder) NewRecord() arrow.RecordBatch {
	b.rows = 0
	return b.b.NewRecordBatch()
}

// Release frees the builder.
func (b *Builder) Release() { b.b.Release() }

func convert(t schemas.Type, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch t.Kind {
	case schemas.String:
		switch x := v.(type) {
		case string:
			return x, nil
		case []byte:
			return string(x), nil
		}
	case schemas.Int64:
		switch x := v.(type) {
		case int64:
			return x, nil
		case int:
			return int64(x), nil
		case int32:
			return int64(x), nil
		case int16:
			return int64(x), nil
		case int8:
			return int64(x), nil
		case uint32:
			return int64(x), nil
		case uint64:
			if x > math.MaxInt64 {
				return nil, fmt.Errorf("%d overflows int64", x)
			}
			return int64(x), nil
		case string:
			n, err := strconv.ParseInt(x, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%q is not an integer", x)
			}
			return n, nil
		}
	case schemas.Float64:
		switch x := v.(type) {
		case float64:
			return x, nil
		case float32:
			return float64(x), nil
		case string:
			f, err := strconv.ParseFloat(x, 64)
			if err != nil {
				return nil, fmt.Errorf("%q is not a number", x)
			}
			return f, nil
		}
	case schemas.Decimal:
		switch x := v.(type) {
		case string:
			return ParseDecimal(x, t)
		case []byte:
			return ParseDecimal(x, t)
		case int64:
			return ParseDecimal(strconv.FormatInt(x, 10), t)
		default:
			return nil, fmt.Errorf("%T is not a decimal", v)
		}
	case schemas.Date:
		tm, err := asTime(v, DateLayout)
		if err != nil {
			return nil, err
		}
		return arrow.Date32FromTime(wall(tm)), nil
	case schemas.Timestamp:
		tm, err := asTime(v, TimestampLayout)
		if err != nil {
			return nil, err
		}
		return arrow.Timestamp(wall(tm).UnixMicro()), nil
	case schemas.Bool:
		switch x := v.(type) {
		case bool:
			return x, nil
		case int64:
			return x != 0, nil
		}
	case schemas.Bytes:
		switch x := v.(type) {
		case []byte:
			return x, nil
		case string:
			return []byte(x), nil
		}
	}
	return nil, fmt.Errorf("a %T cannot be a %s", v, t)
}

// parseSmallDecimal is the fast path for the common plain decimal text
// ("-1234.50") with at most 18 digits and no more fraction digits than the
// scale: exact in int64, no big.Float. Anything else reports !ok and takes
// decimal128.FromString.
func parseSmallDecimal[T string | []byte](s T, scale int32) (decimal128.Num, bool) {
	neg := false
	if len(s) > 0 && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if len(s) == 0 {
		return decimal128.Num{}, false
	}
	var v int64
	digits, frac := 0, -1
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			if digits == 18 {
				return decimal128.Num{}, false
			}
			v = v*10 + int64(c-'0')
			digits++
			if frac >= 0 {
				frac++
			}
		case c == '.' && frac < 0:
			frac = 0
		default:
			return decimal128.Num{}, false
		}
	}
	if digits == 0 {
		return decimal128.Num{}, false
	}
	if frac < 0 {
		frac = 0
	}
	if int32(frac) > scale || int(scale)-frac+digits > 18 {
		return decimal128.Num{}, false
	}
	for i := frac; i < int(scale); i++ {
		v *= 10
	}
	if neg {
		v = -v
	}
	return decimal128.FromI64(v), true
}

// wall keeps a time's wall-clock fields and drops its zone: sources hold local
// DATETIMEs without zone, and they travel as written.
func wall(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}

func asTime(v any, layout string) (time.Time, error) {
	switch x := v.(type) {
	case time.Time:
		return x, nil
	case string:
		for _, l := range []string{layout, DateLayout, TimestampLayout, "2006-01-02 15:04:05.999999", time.RFC3339Nano} {
			if t, err := time.Parse(l, x); err == nil {
				return t, nil
			}
		}
		return time.Time{}, fmt.Errorf("%q is not a date/time", x)
	}
	return time.Time{}, fmt.Errorf("a %T is not a date/time", v)
}

func appendConverted(fb array.Builder, v any) {
	if v == nil {
		fb.AppendNull()
		return
	}
	switch b := fb.(type) {
	case *array.StringBuilder:
		b.Append(v.(string))
	case *array.Int64Builder:
		b.Append(v.(int64))
	case *array.Float64Builder:
		b.Append(v.(float64))
	case *array.Decimal128Builder:
		b.Append(v.(decimal128.Num))
	case *array.Date32Builder:
		b.Append(v.(arrow.Date32))
	case *array.TimestampBuilder:
		b.Append(v.(arrow.Timestamp))
	case *array.BooleanBuilder:
		b.Append(v.(bool))
	case *array.BinaryBuilder:
		b.Append(v.([]byte))
	}
}

// Value returns row i of a column as its JSON value (see the type table in
// docs/ARCHITECTURE.md): string, int64, float64, decimal text, date and
// timestamp text, bool, base64 bytes, or nil.
func Value(col arrow.Array, i int) any {
	if col.IsNull(i) {
		return nil
	}
	switch c := col.(type) {
	case *array.String:
		return c.Value(i)
	case *array.Int64:
		return c.Value(i)
	case *array.Float64:
		return c.Value(i)
	case *array.Decimal128:
		return c.Value(i).ToString(c.DataType().(*arrow.Decimal128Type).Scale)
	case *array.Date32:
		return c.Value(i).ToTime().Format(DateLayout)
	case *array.Timestamp:
		return time.UnixMicro(int64(c.Value(i))).UTC().Format(TimestampLayout)
	case *array.Boolean:
		return c.Value(i)
	case *array.Binary:
		return base64.StdEncoding.EncodeToString(c.Value(i))
	}
	return col.ValueStr(i)
}

// Text returns row i of a column as the text used in record keys: the JSON
// value without quotes; NULL is the empty string.
func Text(col arrow.Array, i int) string {
	switch v := Value(col, i).(type) {
	case nil:
		return ""
	case string:
		return v
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	default:
		return fmt.Sprint(v)
	}
}
