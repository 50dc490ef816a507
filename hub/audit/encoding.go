package audit

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/emmansun/gmsm/sm3"

	"github.com/tongban/tongban/hub/store"
)

// The canonical encoding of an audit entry, version 1: what its hash covers.
// Every field is present, in this order; integers are big-endian; each
// variable-length value is prefixed by its length, so no two different
// entries encode alike (Decode inverts Encode):
//
//	magic        8 bytes  "TBAUDIT\x01"
//	seq          uint64
//	at           int64    Unix time in microseconds (UTC; the store keeps microseconds)
//	actor        str
//	dept         str
//	action       str
//	resource     str
//	subject_type str
//	subject_id   str
//	fields       uint32 count, then count × str
//	purpose      str
//	item_code    str
//	result       str
//	reason       str
//	detail       str      the JSON bytes as stored; empty when there is none
//	prev_hash    str
//
//	str = uint32 byte length || bytes
//
// The hash is SM3(prev_hash || encoding), prev_hash being the previous
// entry's hash, or GenesisHash for seq 1.
const magic = "TBAUDIT\x01"

// HashLen is the length of an entry hash (SM3).
const HashLen = sm3.Size

// GenesisHash returns the prev_hash of the first entry: 32 zero bytes.
func GenesisHash() []byte { return make([]byte, HashLen) }

// Encode returns the canonical encoding of e (see the package constants).
// At counts in whole microseconds, as the store keeps it; Fields and Detail
// encode the same nil or empty.
func Encode(e store.AuditEntry) []byte {
	n := len(magic) + 8 + 8 + 4 + 15*4 + len(e.Actor) + len(e.Dept) + len(e.Action) + len(e.Resource) +
		len(e.SubjectType) + len(e.SubjectID) + len(e.Purpose) + len(e.ItemCode) + len(e.Result) + len(e.Reason) +
		len(e.Detail) + len(e.PrevHash)
	for _, f := range e.Fields {
		n += 4 + len(f)
	}
	b := make([]byte, 0, n)
	b = append(b, magic...)
	b = binary.BigEndian.AppendUint64(b, uint64(e.Seq))
	b = binary.BigEndian.AppendUint64(b, uint64(e.At.UnixMicro()))
	for _, s := range []string{e.Actor, e.Dept, e.Action, e.Resource, e.SubjectType, e.SubjectID} {
		b = appendStr(b, s)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(e.Fields)))
	for _, f := range e.Fields {
		b = appendStr(b, f)
	}
	for _, s := range []string{e.Purpose, e.ItemCode, e.Result, e.Reason} {
		b = appendStr(b, s)
	}
	b = appendStr(b, string(e.Detail))
	b = appendStr(b, string(e.PrevHash))
	return b
}

func appendStr(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

// Hash returns SM3(e.PrevHash || Encode(e)): the hash e must carry.
func Hash(e store.AuditEntry) []byte {
	h := sm3.New()
	h.Write(e.PrevHash)
	h.Write(Encode(e))
	return h.Sum(nil)
}

// Seal is the store.AuditSealer of the chain: Hash.
func Seal(e store.AuditEntry) []byte { return Hash(e) }

// errShort is wrapped when the encoding ends early.
var errShort = errors.New("encoding ends early")

// Decode parses a canonical encoding back into an entry (Hash unset; At in
// UTC; Fields and Detail nil when empty). It refuses anything Encode would not
// produce: a wrong magic, lengths past the end, trailing bytes.
func Decode(b []byte) (store.AuditEntry, error) {
	d := decoder{b: b}
	var e store.AuditEntry
	if !bytes.HasPrefix(b, []byte(magic)) {
		return e, errors.New("audit: decode: not an audit entry encoding (magic)")
	}
	d.b = d.b[len(magic):]
	e.Seq = int64(d.u64())
	e.At = time.UnixMicro(int64(d.u64())).UTC()
	for _, p := range []*string{&e.Actor, &e.Dept, &e.Action, &e.Resource, &e.SubjectType, &e.SubjectID} {
		*p = d.str()
	}
	if n := d.u32(); n > 0 {
		// Each field takes at least its 4-byte length: a count beyond that
		// is refused before allocating.
		if d.err == nil && uint64(n) > uint64(len(d.b))/4 {
			d.err = fmt.Errorf("%d fields: %w", n, errShort)
		}
		if d.err == nil {
			e.Fields = make([]string, n)
			for i := range e.Fields {
				e.Fields[i] = d.str()
			}
		}
	}
	for _, p := range []*string{&e.Purpose, &e.ItemCode, &e.Result, &e.Reason} {
		*p = d.str()
	}
	if s := d.str(); s != "" {
		e.Detail = []byte(s)
	}
	if s := d.str(); s != "" {
		e.PrevHash = []byte(s)
	}
	if d.err != nil {
		return store.AuditEntry{}, fmt.Errorf("audit: decode: %w", d.err)
	}
	if len(d.b) > 0 {
		return store.AuditEntry{}, fmt.Errorf("audit: decode: %d bytes after the end", len(d.b))
	}
	return e, nil
}

// decoder reads big-endian values; after the first error it reads zeros.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) take(n uint64) []byte {
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.err = errShort
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) u64() uint64 {
	if v := d.take(8); v != nil {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

func (d *decoder) u32() uint32 {
	if v := d.take(4); v != nil {
		return binary.BigEndian.Uint32(v)
	}
	return 0
}

func (d *decoder) str() string {
	n := d.u32()
	return string(d.take(uint64(n)))
}
