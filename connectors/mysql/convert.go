package mysql

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"

	"github.com/tongban/tongban/schemas"
	"github.com/tongban/tongban/wire"
)

// converter parses a column's raw (text protocol) value into c, typed for
// the field's kind as wire.Cell documents; it is not called for SQL NULL.
// c.Bytes may point into raw, which is only valid until the next row:
// wire.Builder.AppendCells copies it before then.
type converter func(raw []byte, c *wire.Cell) error

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
			return func(raw []byte, c *wire.Cell) (err error) {
				c.Bytes, err = d.decode(raw)
				return err
			}, nil
		}
		return func(raw []byte, c *wire.Cell) error {
			if !utf8.Valid(raw) {
				return fmt.Errorf("%s is not valid UTF-8", quoteRaw(raw))
			}
			c.Bytes = raw
			return nil
		}, nil
	case schemas.Int64:
		if k == kindBit {
			return func(raw []byte, c *wire.Cell) error {
				n, err := bitValue(raw)
				if err != nil {
					return err
				}
				if n > math.MaxInt64 {
					return fmt.Errorf("BIT value %d %w", n, errOverflow)
				}
				c.Int = int64(n)
				return nil
			}, nil
		}
		return func(raw []byte, c *wire.Cell) (err error) {
			c.Int, err = parseInt64(raw)
			return err
		}, nil
	case schemas.Bool:
		return func(raw []byte, c *wire.Cell) error {
			var n uint64
			var err error
			if k == kindBit {
				n, err = bitValue(raw)
			} else {
				var i int64
				i, err = parseInt64(raw)
				n = uint64(i)
			}
			c.Int = 0
			if n != 0 {
				c.Int = 1
			}
			return err
		}, nil
	case schemas.Float64:
		single := c.DataType == "float"
		return func(raw []byte, c *wire.Cell) error {
			f, err := strconv.ParseFloat(string(raw), 64)
			if err != nil {
				return fmt.Errorf("%s is not a number", quoteRaw(raw))
			}
			if single {
				// A FLOAT, read as a DOUBLE (plan): the shortest decimal
				// of its single-precision value (0.12345679, not
				// 0.12345679104328156), as the binary protocol gave it.
				f, _ = strconv.ParseFloat(strconv.FormatFloat(float64(float32(f)), 'g', -1, 32), 64)
			}
			c.Float = f
			return nil
		}, nil
	case schemas.Decimal:
		return func(raw []byte, c *wire.Cell) error {
			if err := checkDecimal(raw, int(t.Scale)); err != nil {
				return err
			}
			n, err := wire.ParseDecimal(raw, t)
			c.Dec = n
			return err
		}, nil
	case schemas.Date, schemas.Timestamp:
		date := t.Kind == schemas.Date
		return func(raw []byte, c *wire.Cell) error {
			d, err := parseDateTime(raw)
			if err != nil {
				return err
			}
			if d.isZero() {
				c.Null = true
				return nil
			}
			if date {
				c.Int = int64(arrow.Date32FromTime(d.Time()))
			} else {
				c.Int = d.Time().UnixMicro()
			}
			return nil
		}, nil
	case schemas.Bytes:
		return func(raw []byte, c *wire.Cell) error {
			c.Bytes = raw
			return nil
		}, nil
	}
	return nil, fmt.Errorf("no conversion from %s to %s", c.ColumnType, t)
}

// cellText renders a converted cell as record keys and partitioning see it:
// the text wire.Text gives for the value once it is in a batch.
func cellText(t schemas.Type, c *wire.Cell) string {
	return string(wire.AppendCellText(nil, t, c))
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
