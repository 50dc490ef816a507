package opendata

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"

	"github.com/tongban/tongban/catalog"
	"github.com/tongban/tongban/hub/grant"
	"github.com/tongban/tongban/hub/store"
	"github.com/tongban/tongban/schemas"
	"github.com/tongban/tongban/wire"
)

// maskedNonText replaces a masked value that is not text (grant.MaskValue).
const maskedNonText = "***"

// FieldPlan says what a release does to each field of res, in field order:
// public and unclassified fields as is, personal ones masked, sensitive and
// internal ones (and any unknown class) omitted. The subject key of a
// resource about persons is masked even when declared public or left
// unclassified.
func FieldPlan(res *catalog.Resource) []store.OpenReleaseField {
	out := make([]store.OpenReleaseField, 0, len(res.Schema.Fields))
	personKey := ""
	if res.Subject.Type == catalog.SubjectPerson {
		personKey = res.Subject.Field
	}
	for _, f := range res.Schema.Fields {
		t := store.OpenFieldOmitted
		switch f.Sensitivity {
		case "", schemas.SensitivityPublic:
			t = store.OpenFieldAsIs
			if f.Name == personKey {
				t = store.OpenFieldMasked
			}
		case schemas.SensitivityPersonal:
			t = store.OpenFieldMasked
		}
		out = append(out, store.OpenReleaseField{Name: f.Name, Type: f.Type.String(), Sensitivity: f.Sensitivity,
			Treatment: t, Description: f.Description})
	}
	return out
}

// column turns one field's stored JSON values into CSV text and Arrow values.
type column struct {
	name string
	typ  schemas.Type        // the catalog type (of as-is fields)
	mask func(string) string // masked fields: the masking rule; published as text
	b    array.Builder
}

// releaseSchema is the Arrow schema of a release's published fields:
// masked fields become strings; every field is nullable; a field's
// description rides in its metadata.
func releaseSchema(res *catalog.Resource, plan []store.OpenReleaseField) *arrow.Schema {
	var fs []arrow.Field
	for i, p := range plan {
		if p.Treatment == store.OpenFieldOmitted {
			continue
		}
		dt := res.Schema.Fields[i].Type.Arrow()
		if p.Treatment == store.OpenFieldMasked {
			dt = arrow.BinaryTypes.String
		}
		var md arrow.Metadata
		if p.Description != "" {
			md = arrow.NewMetadata([]string{"description"}, []string{p.Description})
		}
		fs = append(fs, arrow.Field{Name: p.Name, Type: dt, Nullable: true, Metadata: md})
	}
	return arrow.NewSchema(fs, nil)
}

// newColumns returns the published columns of res, bound to the builders of
// rb (one per published field, in order).
func newColumns(res *catalog.Resource, plan []store.OpenReleaseField, rb *array.RecordBuilder) []column {
	var cols []column
	for i, p := range plan {
		if p.Treatment == store.OpenFieldOmitted {
			continue
		}
		c := column{name: p.Name, typ: res.Schema.Fields[i].Type, b: rb.Field(len(cols))}
		if p.Treatment == store.OpenFieldMasked {
			c.mask = grant.MaskerFor(p.Name)
		}
		cols = append(cols, c)
	}
	return cols
}

// jsonString decodes a JSON string value.
func jsonString(raw json.RawMessage) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1]), true
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// timeLayouts are the stored forms of dates and timestamps (wire.Value
// writes the first two).
func timeLayouts() []string {
	return []string{wire.TimestampLayout, wire.DateLayout, "2006-01-02 15:04:05.999999", time.RFC3339Nano}
}

func parseStoredTime(s string) (time.Time, error) {
	for _, l := range timeLayouts() {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date or time", s)
}

// add appends one stored value (absent, null or JSON) to the column's
// builder and returns its CSV text ("" for null).
func (c *column) add(raw json.RawMessage, present bool) (string, error) {
	if !present || len(raw) == 0 || string(raw) == "null" {
		c.b.AppendNull()
		return "", nil
	}
	if c.mask != nil {
		s, ok := jsonString(raw)
		if ok {
			s = c.mask(s)
		} else {
			s = maskedNonText
		}
		c.b.(*array.StringBuilder).Append(s)
		return s, nil
	}
	bad := func(err error) (string, error) {
		return "", fmt.Errorf("field %q (%s): stored value %.64s: %w", c.name, c.typ, raw, err)
	}
	// text is a string value's content, or the JSON text of a number or bool.
	text, isString := jsonString(raw)
	if !isString {
		text = string(raw)
	}
	switch c.typ.Kind {
	case schemas.String:
		if !isString {
			return bad(fmt.Errorf("not text"))
		}
		c.b.(*array.StringBuilder).Append(text)
	case schemas.Int64:
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return bad(err)
		}
		c.b.(*array.Int64Builder).Append(n)
	case schemas.Float64:
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return bad(err)
		}
		c.b.(*array.Float64Builder).Append(f)
	case schemas.Decimal:
		n, err := decimal128.FromString(text, c.typ.Precision, c.typ.Scale)
		if err != nil {
			return bad(err)
		}
		c.b.(*array.Decimal128Builder).Append(n)
	case schemas.Date:
		t, err := parseStoredTime(text)
		if err != nil {
			return bad(err)
		}
		c.b.(*array.Date32Builder).Append(arrow.Date32FromTime(t))
	case schemas.Timestamp:
		t, err := parseStoredTime(text)
		if err != nil {
			return bad(err)
		}
		wall := time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
		c.b.(*array.TimestampBuilder).Append(arrow.Timestamp(wall.UnixMicro()))
	case schemas.Bool:
		v, err := strconv.ParseBool(text)
		if err != nil || isString {
			return bad(fmt.Errorf("not true or false"))
		}
		c.b.(*array.BooleanBuilder).Append(v)
	case schemas.Bytes:
		if !isString {
			return bad(fmt.Errorf("not base64 text"))
		}
		b, err := base64.StdEncoding.DecodeString(text)
		if err != nil {
			return bad(err)
		}
		c.b.(*array.BinaryBuilder).Append(b)
	default:
		return bad(fmt.Errorf("type %s cannot be published", c.typ))
	}
	return text, nil
}
