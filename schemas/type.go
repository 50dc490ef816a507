// Package schemas describes record schemas: field types, their Arrow form,
// fingerprints that identify a schema version, and the compatibility rule
// between two versions of one resource's schema.
package schemas

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// Kind is the base kind of a field type.
type Kind string

// The field kinds a catalog may declare.
const (
	String    Kind = "string"
	Int64     Kind = "int64"
	Float64   Kind = "float64"
	Decimal   Kind = "decimal"
	Date      Kind = "date"
	Timestamp Kind = "timestamp"
	Bool      Kind = "bool"
	Bytes     Kind = "bytes"
)

// MaxDecimalPrecision is the widest decimal a field may declare (decimal128).
const MaxDecimalPrecision = 38

// Type is a field type: a kind, and for decimals a precision and scale.
type Type struct {
	Kind      Kind
	Precision int32
	Scale     int32
}

// ParseType reads a type as written in a catalog file: string, int64, float64,
// decimal(p,s), date, timestamp, bool or bytes.
func ParseType(s string) (Type, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	switch Kind(t) {
	case String, Int64, Float64, Date, Timestamp, Bool, Bytes:
		return Type{Kind: Kind(t)}, nil
	}
	if rest, ok := strings.CutPrefix(t, "decimal("); ok {
		body, ok := strings.CutSuffix(rest, ")")
		if !ok {
			return Type{}, fmt.Errorf("type %q: decimal needs the form decimal(precision,scale)", s)
		}
		ps, ss, ok := strings.Cut(body, ",")
		if !ok {
			return Type{}, fmt.Errorf("type %q: decimal needs the form decimal(precision,scale)", s)
		}
		p, err1 := strconv.Atoi(strings.TrimSpace(ps))
		sc, err2 := strconv.Atoi(strings.TrimSpace(ss))
		if err1 != nil || err2 != nil {
			return Type{}, fmt.Errorf("type %q: precision and scale must be whole numbers", s)
		}
		if p < 1 || p > MaxDecimalPrecision {
			return Type{}, fmt.Errorf("type %q: precision must be 1 to %d", s, MaxDecimalPrecision)
		}
		if sc < 0 || sc > p {
			return Type{}, fmt.Errorf("type %q: scale must be 0 to the precision %d", s, p)
		}
		return Type{Kind: Decimal, Precision: int32(p), Scale: int32(sc)}, nil
	}
	return Type{}, fmt.Errorf("unknown type %q (want string, int64, float64, decimal(p,s), date, timestamp, bool or bytes)", s)
}

// String renders the type as a catalog writes it; ParseType reads it back.
func (t Type) String() string {
	if t.Kind == Decimal {
		return fmt.Sprintf("decimal(%d,%d)", t.Precision, t.Scale)
	}
	return string(t.Kind)
}

// MarshalText lets a Type appear as its catalog spelling in JSON and YAML.
func (t Type) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText parses the catalog spelling.
func (t *Type) UnmarshalText(b []byte) error {
	v, err := ParseType(string(b))
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// Arrow returns the Arrow data type that carries values of this type.
func (t Type) Arrow() arrow.DataType {
	switch t.Kind {
	case String:
		return arrow.BinaryTypes.String
	case Int64:
		return arrow.PrimitiveTypes.Int64
	case Float64:
		return arrow.PrimitiveTypes.Float64
	case Decimal:
		return &arrow.Decimal128Type{Precision: t.Precision, Scale: t.Scale}
	case Date:
		return arrow.FixedWidthTypes.Date32
	case Timestamp:
		return &arrow.TimestampType{Unit: arrow.Microsecond}
	case Bool:
		return arrow.FixedWidthTypes.Boolean
	case Bytes:
		return arrow.BinaryTypes.Binary
	}
	return arrow.Null
}

// FromArrow is the inverse of Arrow for the types Arrow() produces.
func FromArrow(dt arrow.DataType) (Type, error) {
	switch d := dt.(type) {
	case *arrow.StringType:
		return Type{Kind: String}, nil
	case *arrow.Int64Type:
		return Type{Kind: Int64}, nil
	case *arrow.Float64Type:
		return Type{Kind: Float64}, nil
	case *arrow.Decimal128Type:
		return Type{Kind: Decimal, Precision: d.Precision, Scale: d.Scale}, nil
	case *arrow.Date32Type:
		return Type{Kind: Date}, nil
	case *arrow.TimestampType:
		if d.Unit == arrow.Microsecond && d.TimeZone == "" {
			return Type{Kind: Timestamp}, nil
		}
	case *arrow.BooleanType:
		return Type{Kind: Bool}, nil
	case *arrow.BinaryType:
		return Type{Kind: Bytes}, nil
	}
	return Type{}, fmt.Errorf("arrow type %s has no catalog type", dt)
}

// Widens reports whether a value of type from is always representable as type t
// without loss: the same type, int64 to decimal with room, or a decimal to a wider
// decimal with at least the same scale.
func (t Type) Widens(from Type) bool {
	if t == from {
		return true
	}
	switch {
	case t.Kind == Decimal && from.Kind == Decimal:
		return t.Scale >= from.Scale && t.Precision-t.Scale >= from.Precision-from.Scale
	case t.Kind == Decimal && from.Kind == Int64:
		return t.Precision-t.Scale >= 19
	case t.Kind == Float64 && from.Kind == Int64:
		return false // int64 does not fit a float64 exactly
	}
	return false
}
