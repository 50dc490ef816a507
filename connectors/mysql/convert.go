package mysql

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow/decimal128"

	"github.com/tongban/tongban/schemas"
	"github.com/tongban/tongban/wire"
)

// converter turns a column's raw (text protocol) value into the Go value
// wire.Builder takes for the field's type; nil is NULL. The raw bytes are
// only valid until the next row, so a converter copies what it keeps.
type converter func(raw []byte) (any, error)

// newConverter picks the conversion from a source column to a catalog type.
// MySQL's zero date (0000-00-00) reads as NULL.
func newConverter(t schemas.Type, c srcColumn, encoding string) (converter, error) {
	k := c.kind()
	switch t.Kind {
	case schemas.String:
		if encoding != "" {
			d, err := newTextDecoder(encoding)
			if err != nil {
				return nil, err
			}
			return func(raw []byte) (any, error) { return d.decode(raw) }, nil
		}
		return func(raw []byte) (any, error) {
			if !utf8.Valid(raw) {
				return nil, fmt.Errorf("%s is not valid UTF-8", quoteRaw(raw))
			}
			return string(raw), nil
		}, nil
	case schemas.Int64:
		if k == kindBit {
			return func(raw []byte) (any, error) {
				n, err := bitValue(raw)
				if err != nil {
					return nil, err
				}
				if n > math.MaxInt64 {
					return nil, fmt.Errorf("BIT value %d %w", n, errOverflow)
				}
				return int64(n), nil
			}, nil
		}
		return func(raw []byte) (any, error) { return parseInt64(raw) }, nil
	case schemas.Bool:
		if k == kindBit {
			return func(raw []byte) (any, error) {
				n, err := bitValue(raw)
				return n != 0, err
			}, nil
		}
		return func(raw []byte) (any, error) {
			n, err := parseInt64(raw)
			return n != 0, err
		}, nil
	case schemas.Float64:
		return func(raw []byte) (any, error) {
			f, err := strconv.ParseFloat(string(raw), 64)
			if err != nil {
				return nil, fmt.Errorf("%s is not a number", quoteRaw(raw))
			}
			return f, nil
		}, nil
	case schemas.Decimal:
		scale := int(t.Scale)
		return func(raw []byte) (any, error) { return normDecimal(raw, scale) }, nil
	case schemas.Date, schemas.Timestamp:
		return func(raw []byte) (any, error) {
			d, err := parseDateTime(raw)
			if err != nil {
				return nil, err
			}
			if d.isZero() {
				return nil, nil
			}
			return d.Time(), nil
		}, nil
	case schemas.Bytes:
		// wire.Builder copies the bytes into the batch before the next row.
		return func(raw []byte) (any, error) { return []byte(raw), nil }, nil
	}
	return nil, fmt.Errorf("no conversion from %s to %s", c.ColumnType, t)
}

// keyText renders a converted value as record keys and partitioning see it:
// the same text wire.Text gives for the value once it is in a batch.
func keyText(t schemas.Type, v any) (string, error) {
	if v == nil {
		return "", nil
	}
	switch x := v.(type) {
	case string:
		if t.Kind == schemas.Decimal {
			n, err := decimal128.FromString(x, t.Precision, t.Scale)
			if err != nil {
				return "", fmt.Errorf("%q is not a %s: %w", x, t, err)
			}
			return n.ToString(t.Scale), nil
		}
		return x, nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	case bool:
		return strconv.FormatBool(x), nil
	case time.Time:
		if t.Kind == schemas.Date {
			return x.Format(wire.DateLayout), nil
		}
		return x.Format(wire.TimestampLayout), nil
	case []byte:
		return base64.StdEncoding.EncodeToString(x), nil
	}
	return "", fmt.Errorf("a %T has no key text", v)
}

// keyParam turns one value of a key's text back into a query parameter that
// MySQL compares the way it orders the column: numbers as numbers, dates and
// date-times as 'YYYY-MM-DD HH:MM:SS.ffffff', bytes decoded from base64.
// Decimals stay text; the query casts them.
func keyParam(t schemas.Type, s string) (any, error) {
	switch t.Kind {
	case schemas.String:
		return s, nil
	case schemas.Int64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not an int64", s)
		}
		return n, nil
	case schemas.Float64:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a float64", s)
		}
		return f, nil
	case schemas.Decimal:
		n, err := decimal128.FromString(s, t.Precision, t.Scale)
		if err != nil || !n.FitsInPrecision(t.Precision) {
			return nil, fmt.Errorf("%q is not a %s", s, t)
		}
		return n.ToString(t.Scale), nil
	case schemas.Date, schemas.Timestamp:
		d, err := parseDateTime([]byte(s))
		if err != nil {
			return nil, err
		}
		if t.Kind == schemas.Date {
			return d.DateText(), nil
		}
		return d.DateTimeText(), nil
	case schemas.Bool:
		b, err := parseBoolText(s)
		if err != nil {
			return nil, err
		}
		if b {
			return int64(1), nil
		}
		return int64(0), nil
	case schemas.Bytes:
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not base64", s)
		}
		return b, nil
	}
	return nil, fmt.Errorf("no key parameter for type %s", t)
}

// watermarkText renders a watermark value canonically: date-times as
// 'YYYY-MM-DD HH:MM:SS.ffffff', dates as 'YYYY-MM-DD', integers in decimal.
func watermarkText(k srcKind, raw []byte) (string, error) {
	switch k {
	case kindDateTime, kindDate:
		d, err := parseDateTime(raw)
		if err != nil {
			return "", err
		}
		if k == kindDate {
			return d.DateText(), nil
		}
		return d.DateTimeText(), nil
	case kindInt:
		if n, err := parseInt64(raw); err == nil {
			return strconv.FormatInt(n, 10), nil
		}
		n, err := strconv.ParseUint(string(raw), 10, 64)
		if err != nil {
			return "", fmt.Errorf("%s is not an integer", quoteRaw(raw))
		}
		return strconv.FormatUint(n, 10), nil
	}
	return "", fmt.Errorf("no watermark text for %s", quoteRaw(raw))
}

// watermarkParam checks a watermark text (Changes' since, or a row's) and
// renders the query parameter for it.
func watermarkParam(k srcKind, s string) (any, error) {
	switch k {
	case kindDateTime, kindDate:
		d, err := parseDateTime([]byte(s))
		if err != nil {
			return nil, errors.New("want YYYY-MM-DD or YYYY-MM-DD HH:MM:SS[.ffffff]")
		}
		if k == kindDate && d.hour == 0 && d.minute == 0 && d.second == 0 && d.micro == 0 {
			return d.DateText(), nil
		}
		return d.DateTimeText(), nil
	case kindInt:
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n, nil
		}
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return nil, errors.New("want an integer")
		}
		return n, nil
	}
	return nil, errors.New("not a watermark column")
}
