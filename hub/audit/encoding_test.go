package audit

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm3"

	"github.com/tongban/tongban/hub/store"
)

func fullEntry() store.AuditEntry {
	return store.AuditEntry{
		Seq: 42, At: time.Date(2026, 5, 1, 9, 30, 0, 123456000, time.UTC),
		Actor: "tok-1", Dept: "112306000128140287", Action: ActionShareRead, Resource: "RES01",
		SubjectType: "person", SubjectID: "110105194912310029", Fields: []string{"姓名", "住址"},
		Purpose: "办理低保", ItemCode: "ITEM-1", Result: Allowed, Reason: "", Detail: []byte(`{"n":1}`),
		PrevHash: bytes.Repeat([]byte{0xab}, HashLen),
	}
}

// TestEncodeLayout builds the documented layout by hand for one entry.
func TestEncodeLayout(t *testing.T) {
	e := fullEntry()
	var want []byte
	str := func(s string) {
		want = binary.BigEndian.AppendUint32(want, uint32(len(s)))
		want = append(want, s...)
	}
	want = append(want, "TBAUDIT\x01"...)
	want = binary.BigEndian.AppendUint64(want, 42)
	want = binary.BigEndian.AppendUint64(want, uint64(e.At.UnixMicro()))
	for _, s := range []string{"tok-1", "112306000128140287", "share.read", "RES01", "person", "110105194912310029"} {
		str(s)
	}
	want = binary.BigEndian.AppendUint32(want, 2)
	str("姓名")
	str("住址")
	for _, s := range []string{"办理低保", "ITEM-1", "allowed", "", `{"n":1}`, string(e.PrevHash)} {
		str(s)
	}
	got := Encode(e)
	if !bytes.Equal(got, want) {
		t.Fatalf("Encode =\n%s\nwant\n%s", hex.Dump(got), hex.Dump(want))
	}
	sum := sm3.Sum(append(append([]byte(nil), e.PrevHash...), want...))
	if h := Hash(e); !bytes.Equal(h, sum[:]) {
		t.Fatalf("Hash = %x, want SM3(prev||encoding) = %x", h, sum)
	}
}

// TestEncodeDistinguishes: changing any one field changes the encoding and
// the hash, including moves of bytes between neighbouring fields.
func TestEncodeDistinguishes(t *testing.T) {
	base := fullEntry()
	edits := map[string]func(e *store.AuditEntry){
		"seq":            func(e *store.AuditEntry) { e.Seq++ },
		"at":             func(e *store.AuditEntry) { e.At = e.At.Add(time.Microsecond) },
		"actor":          func(e *store.AuditEntry) { e.Actor += "x" },
		"dept":           func(e *store.AuditEntry) { e.Dept = "" },
		"action":         func(e *store.AuditEntry) { e.Action = ActionShareLive },
		"resource":       func(e *store.AuditEntry) { e.Resource = "RES02" },
		"subject type":   func(e *store.AuditEntry) { e.SubjectType = "legal_person" },
		"subject id":     func(e *store.AuditEntry) { e.SubjectID = "110105194912310030" },
		"field added":    func(e *store.AuditEntry) { e.Fields = append(slices.Clone(e.Fields), "") },
		"field changed":  func(e *store.AuditEntry) { e.Fields = []string{"姓名", "电话"} },
		"fields joined":  func(e *store.AuditEntry) { e.Fields = []string{"姓名住址"} },
		"fields order":   func(e *store.AuditEntry) { e.Fields = []string{"住址", "姓名"} },
		"purpose":        func(e *store.AuditEntry) { e.Purpose = "其他" },
		"item code":      func(e *store.AuditEntry) { e.ItemCode = "" },
		"result":         func(e *store.AuditEntry) { e.Result = Denied },
		"reason":         func(e *store.AuditEntry) { e.Reason = "x" },
		"detail":         func(e *store.AuditEntry) { e.Detail = []byte(`{"n":2}`) },
		"prev hash":      func(e *store.AuditEntry) { e.PrevHash = GenesisHash() },
		"actor to dept":  func(e *store.AuditEntry) { e.Actor, e.Dept = "tok-", "1"+e.Dept },
		"purpose to msg": func(e *store.AuditEntry) { e.Purpose, e.ItemCode = e.Purpose+"I", "TEM-1" },
	}
	seen := map[string]string{string(Encode(base)): "base"}
	for name, edit := range edits {
		e := base
		edit(&e)
		enc := string(Encode(e))
		if other, dup := seen[enc]; dup {
			t.Fatalf("%s encodes as %s", name, other)
		}
		seen[enc] = name
		if bytes.Equal(Hash(e), Hash(base)) {
			t.Fatalf("%s: hash unchanged", name)
		}
	}
}

func TestDecodeRoundTripAndRefusals(t *testing.T) {
	e := fullEntry()
	enc := Encode(e)
	got, err := Decode(enc)
	if err != nil {
		t.Fatal(err)
	}
	if !sameEntry(got, e) {
		t.Fatalf("Decode(Encode(e)) = %+v, want %+v", got, e)
	}
	for _, tc := range []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "magic"},
		{"wrong magic", append([]byte("TBAUDIT\x02"), enc[8:]...), "magic"},
		{"cut", enc[:len(enc)-1], "ends early"},
		{"trailing", append(slices.Clone(enc), 0), "after the end"},
		{"huge field count", hugeFieldCount(enc), "fields"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Decode(tc.b); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Decode = %v, want an error with %q", err, tc.want)
			}
		})
	}
}

// hugeFieldCount returns enc with its field count set to 2^32-1.
func hugeFieldCount(enc []byte) []byte {
	b := slices.Clone(enc)
	off := len(magic) + 16
	for range 6 {
		off += 4 + int(binary.BigEndian.Uint32(b[off:]))
	}
	binary.BigEndian.PutUint32(b[off:], 0xffffffff)
	return b
}

// sameEntry compares what the encoding covers (not Hash).
func sameEntry(a, b store.AuditEntry) bool {
	return a.Seq == b.Seq && a.At.UnixMicro() == b.At.UnixMicro() && a.Actor == b.Actor && a.Dept == b.Dept &&
		a.Action == b.Action && a.Resource == b.Resource && a.SubjectType == b.SubjectType && a.SubjectID == b.SubjectID &&
		slices.Equal(a.Fields, b.Fields) && a.Purpose == b.Purpose && a.ItemCode == b.ItemCode && a.Result == b.Result &&
		a.Reason == b.Reason && bytes.Equal(a.Detail, b.Detail) && bytes.Equal(a.PrevHash, b.PrevHash)
}

// FuzzDecode: whatever Decode accepts re-encodes to the same bytes, so the
// encoding is canonical, and decoding never panics.
func FuzzDecode(f *testing.F) {
	f.Add(Encode(fullEntry()))
	f.Add(Encode(store.AuditEntry{}))
	f.Add([]byte("TBAUDIT\x01"))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := Decode(b)
		if err != nil {
			return
		}
		if re := Encode(e); !bytes.Equal(re, b) {
			t.Fatalf("Encode(Decode(b)) differs:\n%x\n%x", re, b)
		}
	})
}

// FuzzEncodeInjective: two entries built from fuzzed fields encode alike only
// when they are the same entry, and each decodes back to itself.
func FuzzEncodeInjective(f *testing.F) {
	f.Add(int64(1), int64(0), "a", "b", "c|d", "e", "f", int64(1), int64(0), "a", "bc", "|d", "e", "f")
	f.Add(int64(2), int64(5), "", "x", "", "\x00", "y", int64(2), int64(5), "", "x", "\x00", "", "y")
	f.Fuzz(func(t *testing.T, seq1, at1 int64, actor1, dept1, fields1, purpose1, detail1 string,
		seq2, at2 int64, actor2, dept2, fields2, purpose2, detail2 string) {
		mk := func(seq, at int64, actor, dept, fields, purpose, detail string) store.AuditEntry {
			var fs []string
			if fields != "" {
				fs = strings.Split(fields, "|")
			}
			e := store.AuditEntry{Seq: seq, At: time.UnixMicro(at).UTC(), Actor: actor, Dept: dept, Fields: fs,
				Purpose: purpose, PrevHash: []byte(actor + dept)}
			if detail != "" {
				e.Detail = []byte(detail)
			}
			return e
		}
		a := mk(seq1, at1, actor1, dept1, fields1, purpose1, detail1)
		b := mk(seq2, at2, actor2, dept2, fields2, purpose2, detail2)
		ea, eb := Encode(a), Encode(b)
		if bytes.Equal(ea, eb) != sameEntry(a, b) {
			t.Fatalf("entries %+v and %+v: equal encodings %v, equal entries %v", a, b, bytes.Equal(ea, eb), sameEntry(a, b))
		}
		for _, x := range []struct {
			e   store.AuditEntry
			enc []byte
		}{{a, ea}, {b, eb}} {
			d, err := Decode(x.enc)
			if err != nil || !sameEntry(d, x.e) {
				t.Fatalf("Decode(Encode(%+v)) = %+v, %v", x.e, d, err)
			}
		}
	})
}
