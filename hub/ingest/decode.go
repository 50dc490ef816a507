package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/segmentio/kafka-go"

	"github.com/tongban/tongban/catalog"
	"github.com/tongban/tongban/hub/store"
	"github.com/tongban/tongban/schemas"
	"github.com/tongban/tongban/wire"
)

// Reason classes of dead letters (the label of the dead-letter metric).
const (
	ReasonHeaders         = "headers"          // tb-* headers missing or malformed
	ReasonUnknownResource = "unknown_resource" // resource not in the catalog
	ReasonWrongDept       = "wrong_dept"       // sender is not the resource's provider
	ReasonFingerprint     = "fingerprint"      // no known schema version has the fingerprint
	ReasonDecode          = "decode"           // payload is not one Arrow record batch
	ReasonColumns         = "columns"          // columns do not match the schema version
	ReasonRows            = "rows"             // a row cannot be stored (null key, bad text, …)
)

// Store column limits the records must respect (see package store): a record
// the store would refuse is a dead letter, never a store error to retry.
const (
	maxKeyRunes     = 255
	maxBatchIDRunes = 128
)

// rejection is why a message is a dead letter.
type rejection struct {
	class  string
	detail string
}

func (r *rejection) String() string { return r.class + ": " + r.detail }

func reject(class, format string, args ...any) *rejection {
	return &rejection{class: class, detail: fmt.Sprintf(format, args...)}
}

// Catalog is what ingest needs of the catalog (*catalog.Catalog).
type Catalog interface {
	Resource(code string) (*catalog.Resource, bool)
}

// versionLookup finds a schema version by fingerprint; known lists the
// readable versions when the fingerprint is not found.
type versionLookup func(ctx context.Context, resource, fp string) (v knownVersion, known []int, ok bool, err error)

// decoded is a message that passed every check.
type decoded struct {
	meta    wire.Meta
	res     *catalog.Resource
	records []store.Record
	// values holds each upsert record's field values (nil for tombstones)
	// when the resource has quality rules or a subject, for the checks and
	// the subject key.
	values []map[string]any
}

// decodeMessage checks one message and turns its rows into records. A
// rejection means a dead letter; an error means the store failed while
// looking up schema versions and the message must be tried again.
func decodeMessage(ctx context.Context, cat Catalog, versions versionLookup, msg kafka.Message, now time.Time) (d decoded, rej *rejection, err error) {
	meta, perr := wire.ParseHeaders(msg.Headers)
	if perr != nil {
		return decoded{}, reject(ReasonHeaders, "%v", perr), nil
	}
	if rj := checkHeaderText(meta); rj != nil {
		return decoded{}, rj, nil
	}
	res, ok := cat.Resource(meta.Resource)
	if !ok {
		return decoded{}, reject(ReasonUnknownResource, "resource %q is not in the catalog", meta.Resource), nil
	}
	if meta.Dept != res.Provider {
		return decoded{}, reject(ReasonWrongDept, "department %q does not provide resource %s (its provider is %s)", meta.Dept, res.Code, res.Provider), nil
	}
	kv, known, ok, err := versions(ctx, res.Code, meta.Fingerprint)
	if err != nil {
		return decoded{}, nil, err
	}
	if !ok {
		return decoded{}, reject(ReasonFingerprint, "resource %s has no schema version with fingerprint %q (header says version %d; known versions %v, current fingerprint %s)",
			res.Code, meta.Fingerprint, meta.SchemaVersion, known, res.Schema.Fingerprint()), nil
	}
	recs, values, rj := decodeRows(res, kv, meta, msg.Value, now)
	if rj != nil {
		return decoded{}, rj, nil
	}
	return decoded{meta: meta, res: res, records: recs, values: values}, nil, nil
}

func checkHeaderText(m wire.Meta) *rejection {
	for _, h := range []struct{ name, v string }{
		{wire.HeaderResource, m.Resource}, {wire.HeaderDept, m.Dept}, {wire.HeaderBatchID, m.BatchID},
	} {
		if !utf8.ValidString(h.v) {
			return reject(ReasonHeaders, "header %s: not valid UTF-8", h.name)
		}
	}
	if n := utf8.RuneCountInString(m.BatchID); n > maxBatchIDRunes {
		return reject(ReasonHeaders, "header %s: %d characters long (at most %d)", wire.HeaderBatchID, n, maxBatchIDRunes)
	}
	return nil
}

// decodeRows decodes the Arrow payload, checks its columns against the
// schema version the sender used and converts every row to a record of the
// current catalog schema. It never panics on hostile input: a panic inside
// the Arrow reader becomes a rejection.
func decodeRows(res *catalog.Resource, kv knownVersion, meta wire.Meta, payload []byte, now time.Time) (recs []store.Record, values []map[string]any, rej *rejection) {
	defer func() {
		if p := recover(); p != nil {
			recs, values, rej = nil, nil, reject(ReasonDecode, "arrow batch could not be read: %v", p)
		}
	}()
	rec, err := wire.DecodeRecord(payload)
	if err != nil {
		return nil, nil, reject(ReasonDecode, "%v", err)
	}
	defer rec.Release()

	cols, rj := mapColumns(res, kv, meta.Op, rec.Schema())
	if rj != nil {
		return nil, nil, rj
	}
	wantValues := meta.Op != wire.OpDelete && (len(res.Rules) > 0 || res.SubjectKeyField() != "")
	n := int(rec.NumRows())
	recs = make([]store.Record, 0, n)
	if wantValues {
		values = make([]map[string]any, 0, n)
	}
	keyParts := make([]string, len(res.PrimaryKey))
	var buf bytes.Buffer
	verCol := rec.Column(cols.version)
	for i := 0; i < n; i++ {
		if verCol.IsNull(i) {
			return nil, nil, reject(ReasonRows, "row %d: %s is null", i, schemas.VersionColumn)
		}
		version, _ := wire.Value(verCol, i).(int64)
		for k, c := range cols.key {
			col := rec.Column(c.index)
			if col.IsNull(i) {
				return nil, nil, reject(ReasonRows, "row %d: primary-key field %q is null", i, res.PrimaryKey[k])
			}
			keyParts[k] = c.text(col, i)
		}
		key := wire.RecordKey(keyParts)
		if !utf8.ValidString(key) {
			return nil, nil, reject(ReasonRows, "row %d: primary key is not valid UTF-8", i)
		}
		if key == "" {
			return nil, nil, reject(ReasonRows, "row %d: primary key is empty", i)
		}
		if nr := utf8.RuneCountInString(key); nr > maxKeyRunes {
			return nil, nil, reject(ReasonRows, "row %d: primary key is %d characters long (at most %d)", i, nr, maxKeyRunes)
		}
		r := store.Record{
			Resource: res.Code, Key: key, Dept: meta.Dept, Version: version,
			Deleted: meta.Op == wire.OpDelete, BatchID: meta.BatchID, IngestedAt: now,
		}
		if !r.Deleted {
			var vals map[string]any
			if wantValues {
				vals = make(map[string]any, len(res.Schema.Fields))
			}
			buf.Reset()
			if rj := writeData(&buf, res, cols.fields, rec, i, vals); rj != nil {
				return nil, nil, rj
			}
			r.Data = json.RawMessage(bytes.Clone(buf.Bytes()))
			if wantValues {
				values = append(values, vals)
				r.Subject = subjectOf(res, vals)
			}
		} else if wantValues {
			values = append(values, nil)
		}
		recs = append(recs, r)
	}
	return recs, values, nil
}

// subjectOf returns the subject key of a record's values ("" when the
// resource has no subject or the value is not text).
func subjectOf(res *catalog.Resource, vals map[string]any) string {
	f := res.SubjectKeyField()
	if f == "" {
		return ""
	}
	s, _ := vals[f].(string)
	return s
}

// column is where a catalog field's values are in the batch (index -1: not
// sent, null), and how to widen them from the sender's type.
type column struct {
	index int
	from  schemas.Type // the type in the sender's schema version
	to    schemas.Type // the type in the current catalog
}

// value returns row i as the JSON value of the catalog type.
func (c column) value(col arrow.Array, i int) any {
	v := wire.Value(col, i)
	if v == nil || c.from == c.to {
		return v
	}
	return widen(v, c.from, c.to)
}

// text returns row i as record-key text.
func (c column) text(col arrow.Array, i int) string {
	if c.from == c.to {
		return wire.Text(col, i)
	}
	if s, ok := c.value(col, i).(string); ok {
		return s
	}
	return wire.Text(col, i)
}

// widen converts a JSON value of type from to type to, for the widenings
// schemas.Type.Widens allows: int64 or decimal into a decimal of larger
// scale. Decimal values are text with exactly the target scale.
func widen(v any, from, to schemas.Type) any {
	if to.Kind != schemas.Decimal {
		return v
	}
	var s string
	switch x := v.(type) {
	case int64:
		s = strconv.FormatInt(x, 10)
	case string:
		s = x
	default:
		return v
	}
	intPart, frac, _ := strings.Cut(s, ".")
	if int(to.Scale) > len(frac) {
		frac += strings.Repeat("0", int(to.Scale)-len(frac))
	}
	if frac == "" {
		return intPart
	}
	return intPart + "." + frac
}

// columnMap says where everything is in a batch.
type columnMap struct {
	fields  []column // per current catalog field (upserts only)
	key     []column // per primary-key field
	version int      // index of _version
}

// mapColumns checks the batch's columns: an upsert carries exactly the fields
// of the sender's schema version with their Arrow types, plus _version; a
// delete carries exactly the primary-key fields plus _version. Order does not
// matter; every name must appear once.
func mapColumns(res *catalog.Resource, kv knownVersion, op wire.Op, as *arrow.Schema) (columnMap, *rejection) {
	idx := make(map[string]int, as.NumFields())
	for i, f := range as.Fields() {
		if _, dup := idx[f.Name]; dup {
			return columnMap{}, reject(ReasonColumns, "column %q appears twice", f.Name)
		}
		idx[f.Name] = i
	}
	cm := columnMap{version: -1}
	vi, ok := idx[schemas.VersionColumn]
	switch {
	case !ok:
		return columnMap{}, reject(ReasonColumns, "column %s is missing", schemas.VersionColumn)
	case !arrow.TypeEqual(as.Field(vi).Type, arrow.PrimitiveTypes.Int64):
		return columnMap{}, reject(ReasonColumns, "column %s has type %s, want int64", schemas.VersionColumn, as.Field(vi).Type)
	}
	cm.version = vi

	expect := kv.schema.Fields // the columns this op must carry
	if op == wire.OpDelete {
		pk, err := kv.schema.Select(res.PrimaryKey)
		if err != nil {
			return columnMap{}, reject(ReasonColumns, "schema version %d of %s lacks a primary-key field: %v", kv.version, res.Code, err)
		}
		expect = pk.Fields
	}
	for _, f := range expect {
		i, ok := idx[f.Name]
		if !ok {
			return columnMap{}, reject(ReasonColumns, "%s batch of %s (schema version %d): column %q is missing", op, res.Code, kv.version, f.Name)
		}
		if want := f.Type.Arrow(); !arrow.TypeEqual(as.Field(i).Type, want) {
			return columnMap{}, reject(ReasonColumns, "%s batch of %s (schema version %d): column %q has Arrow type %s, want %s (catalog type %s)",
				op, res.Code, kv.version, f.Name, as.Field(i).Type, want, f.Type)
		}
	}
	if extra := as.NumFields() - len(expect) - 1; extra > 0 {
		for _, f := range as.Fields() {
			if f.Name == schemas.VersionColumn {
				continue
			}
			if _, ok := (schemas.Schema{Fields: expect}).Field(f.Name); !ok {
				what := "is not a field of the resource's schema version"
				if op == wire.OpDelete {
					what = "is not a primary-key field (a delete batch carries only the primary key)"
				}
				return columnMap{}, reject(ReasonColumns, "%s batch of %s (schema version %d): column %q %s", op, res.Code, kv.version, f.Name, what)
			}
		}
	}

	colOf := func(name string) (column, *rejection) {
		cur, _ := res.Schema.Field(name)
		sent, inVersion := kv.schema.Field(name)
		i, inBatch := idx[name]
		if !inVersion || !inBatch {
			return column{index: -1, from: cur.Type, to: cur.Type}, nil
		}
		if !cur.Type.Widens(sent.Type) {
			return column{}, reject(ReasonColumns, "field %q of %s: type %s of schema version %d cannot be read as the catalog's %s",
				name, res.Code, sent.Type, kv.version, cur.Type)
		}
		return column{index: i, from: sent.Type, to: cur.Type}, nil
	}
	for _, name := range res.PrimaryKey {
		c, rj := colOf(name)
		if rj != nil {
			return columnMap{}, rj
		}
		if c.index < 0 {
			return columnMap{}, reject(ReasonColumns, "primary-key field %q is not in the batch", name)
		}
		cm.key = append(cm.key, c)
	}
	if op == wire.OpUpsert {
		for _, f := range res.Schema.Fields {
			c, rj := colOf(f.Name)
			if rj != nil {
				return columnMap{}, rj
			}
			cm.fields = append(cm.fields, c)
		}
	}
	return cm, nil
}

// writeData writes row i as a JSON object of the catalog's fields, in
// catalog order; a field the sender's version lacks is null.
// When vals is not nil it also receives every field's value.
func writeData(buf *bytes.Buffer, res *catalog.Resource, cols []column, rec arrow.RecordBatch, i int, vals map[string]any) *rejection {
	buf.WriteByte('{')
	for j, f := range res.Schema.Fields {
		if j > 0 {
			buf.WriteByte(',')
		}
		name, _ := json.Marshal(f.Name)
		buf.Write(name)
		buf.WriteByte(':')
		c := cols[j]
		if c.index < 0 {
			buf.WriteString("null")
			if vals != nil {
				vals[f.Name] = nil
			}
			continue
		}
		v := c.value(rec.Column(c.index), i)
		if vals != nil {
			vals[f.Name] = v
		}
		if s, ok := v.(string); ok && !utf8.ValidString(s) {
			return reject(ReasonRows, "row %d: field %q is not valid UTF-8", i, f.Name)
		}
		b, err := json.Marshal(v)
		if err != nil {
			return reject(ReasonRows, "row %d: field %q: %v", i, f.Name, err)
		}
		buf.Write(b)
	}
	buf.WriteByte('}')
	return nil
}
