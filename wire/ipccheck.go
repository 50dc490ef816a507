package wire

import (
	"encoding/binary"
	"errors"
	"fmt"

	flatbuffers "github.com/google/flatbuffers/go"
)

// checkIPC walks the framing and flatbuffer metadata of an Arrow IPC stream
// before the Arrow reader sees it, and refuses what the exchange never sends
// and what would make the reader allocate by a declared length instead of
// by the bytes present: the Arrow Go reader sizes slices from vector lengths
// in the metadata (a 500-byte message declaring billions of schema fields
// exhausts memory), and sizes the body from the declared body length.
//
// It accepts only flat schemas of the primitive types the catalog maps to,
// without dictionaries or compression, and record batches whose buffers lie
// inside their body.
func checkIPC(payload []byte) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("malformed Arrow IPC metadata: %v", p)
		}
	}()
	rest := payload
	for n := 0; ; n++ {
		if len(rest) == 0 {
			return nil // end of stream without an EOS marker
		}
		if len(rest) < 4 {
			return fmt.Errorf("message %d: truncated length prefix", n)
		}
		word := binary.LittleEndian.Uint32(rest)
		rest = rest[4:]
		if word == 0 {
			return nil // EOS
		}
		if word == 0xFFFFFFFF {
			if len(rest) < 4 {
				return fmt.Errorf("message %d: truncated length prefix", n)
			}
			word = binary.LittleEndian.Uint32(rest)
			rest = rest[4:]
			if word == 0 {
				return nil
			}
		}
		metaLen := int64(word)
		if metaLen < 4 || metaLen > int64(len(rest)) {
			return fmt.Errorf("message %d: metadata length %d, but %d bytes remain", n, metaLen, len(rest))
		}
		meta := rest[:metaLen]
		rest = rest[metaLen:]
		bodyLen, err := checkMessage(meta)
		if err != nil {
			return fmt.Errorf("message %d: %w", n, err)
		}
		if bodyLen < 0 || bodyLen > int64(len(rest)) {
			return fmt.Errorf("message %d: body length %d, but %d bytes remain", n, bodyLen, len(rest))
		}
		rest = rest[bodyLen:]
	}
}

// Flatbuffer vtable slots of the Arrow format (format/Message.fbs, Schema.fbs).
const (
	slotMessageHeaderType = 4 + 2*1
	slotMessageHeader     = 4 + 2*2
	slotMessageBodyLength = 4 + 2*3
	slotMessageCustomMeta = 4 + 2*4

	slotSchemaFields     = 4 + 2*1
	slotSchemaCustomMeta = 4 + 2*2
	slotSchemaFeatures   = 4 + 2*3

	slotFieldTypeType   = 4 + 2*2
	slotFieldDictionary = 4 + 2*4
	slotFieldChildren   = 4 + 2*5
	slotFieldCustomMeta = 4 + 2*6

	slotBatchLength      = 4 + 2*0
	slotBatchNodes       = 4 + 2*1
	slotBatchBuffers     = 4 + 2*2
	slotBatchCompression = 4 + 2*3
	slotBatchVariadic    = 4 + 2*4

	headerSchema      = 1
	headerRecordBatch = 3

	maxIPCFields = 4096
)

// allowedTypes are the Arrow type ids (Schema.fbs enum Type) of the catalog
// types: Int, FloatingPoint, Binary, Utf8, Bool, Decimal, Date, Timestamp.
var allowedTypes = [...]bool{2: true, 3: true, 4: true, 5: true, 6: true, 7: true, 8: true, 10: true}

// checkMessage checks one Message flatbuffer and returns its body length.
func checkMessage(buf []byte) (int64, error) {
	if len(buf) < 8 {
		return 0, errors.New("metadata too short")
	}
	msg := flatbuffers.Table{Bytes: buf, Pos: flatbuffers.GetUOffsetT(buf)}
	if err := checkVector(&msg, slotMessageCustomMeta, 4, "message custom_metadata"); err != nil {
		return 0, err
	}
	var bodyLen int64
	if o := msg.Offset(slotMessageBodyLength); o != 0 {
		bodyLen = msg.GetInt64(flatbuffers.UOffsetT(o) + msg.Pos)
	}
	var headerType byte
	if o := msg.Offset(slotMessageHeaderType); o != 0 {
		headerType = msg.GetByte(flatbuffers.UOffsetT(o) + msg.Pos)
	}
	o := msg.Offset(slotMessageHeader)
	if o == 0 {
		return 0, errors.New("message has no header")
	}
	var hdr flatbuffers.Table
	msg.Union(&hdr, flatbuffers.UOffsetT(o))
	switch headerType {
	case headerSchema:
		return bodyLen, checkSchema(&hdr)
	case headerRecordBatch:
		return bodyLen, checkBatch(&hdr, bodyLen)
	}
	return 0, fmt.Errorf("message type %d is not a schema or a record batch (dictionaries and tensors are not exchanged)", headerType)
}

func checkSchema(s *flatbuffers.Table) error {
	for _, v := range []struct {
		slot flatbuffers.VOffsetT
		size int
		name string
	}{{slotSchemaFields, 4, "schema fields"}, {slotSchemaCustomMeta, 4, "schema custom_metadata"}, {slotSchemaFeatures, 8, "schema features"}} {
		if err := checkVector(s, v.slot, v.size, v.name); err != nil {
			return err
		}
	}
	n := vectorLen(s, slotSchemaFields)
	if n > maxIPCFields {
		return fmt.Errorf("schema has %d fields (at most %d)", n, maxIPCFields)
	}
	start := s.Vector(flatbuffers.UOffsetT(s.Offset(slotSchemaFields)))
	for i := 0; i < n; i++ {
		f := flatbuffers.Table{Bytes: s.Bytes, Pos: s.Indirect(start + flatbuffers.UOffsetT(4*i))}
		if vectorLen(&f, slotFieldChildren) != 0 {
			return fmt.Errorf("schema field %d is nested (the exchange carries flat records)", i)
		}
		if f.Offset(slotFieldDictionary) != 0 {
			return fmt.Errorf("schema field %d is dictionary-encoded (not exchanged)", i)
		}
		if err := checkVector(&f, slotFieldCustomMeta, 4, fmt.Sprintf("field %d custom_metadata", i)); err != nil {
			return err
		}
		var tt byte
		if o := f.Offset(slotFieldTypeType); o != 0 {
			tt = f.GetByte(flatbuffers.UOffsetT(o) + f.Pos)
		}
		if int(tt) >= len(allowedTypes) || !allowedTypes[tt] {
			return fmt.Errorf("schema field %d has Arrow type id %d, which no catalog type maps to", i, tt)
		}
	}
	return nil
}

func checkBatch(b *flatbuffers.Table, bodyLen int64) error {
	if b.Offset(slotBatchCompression) != 0 {
		return errors.New("record batch body is compressed (not exchanged)")
	}
	for _, v := range []struct {
		slot flatbuffers.VOffsetT
		size int
		name string
	}{{slotBatchNodes, 16, "record batch nodes"}, {slotBatchBuffers, 16, "record batch buffers"}, {slotBatchVariadic, 8, "record batch variadic buffer counts"}} {
		if err := checkVector(b, v.slot, v.size, v.name); err != nil {
			return err
		}
	}
	var rows int64
	if o := b.Offset(slotBatchLength); o != 0 {
		rows = b.GetInt64(flatbuffers.UOffsetT(o) + b.Pos)
	}
	// Every batch carries _version, 8 bytes a row.
	if rows < 0 || rows > bodyLen/8 {
		return fmt.Errorf("record batch declares %d rows in a %d-byte body", rows, bodyLen)
	}
	if n := vectorLen(b, slotBatchNodes); n > 0 {
		start := b.Vector(flatbuffers.UOffsetT(b.Offset(slotBatchNodes)))
		for i := 0; i < n; i++ {
			length := b.GetInt64(start + flatbuffers.UOffsetT(16*i))
			nulls := b.GetInt64(start + flatbuffers.UOffsetT(16*i+8))
			if length < 0 || length > rows || nulls < 0 || nulls > length {
				return fmt.Errorf("record batch node %d: length %d, null count %d, batch rows %d", i, length, nulls, rows)
			}
		}
	}
	if n := vectorLen(b, slotBatchBuffers); n > 0 {
		start := b.Vector(flatbuffers.UOffsetT(b.Offset(slotBatchBuffers)))
		for i := 0; i < n; i++ {
			off := b.GetInt64(start + flatbuffers.UOffsetT(16*i))
			length := b.GetInt64(start + flatbuffers.UOffsetT(16*i+8))
			if off < 0 || length < 0 || off > bodyLen || length > bodyLen-off {
				return fmt.Errorf("record batch buffer %d: offset %d length %d outside the %d-byte body", i, off, length, bodyLen)
			}
		}
	}
	return nil
}

// vectorLen is the length of the vector in slot, 0 when absent.
func vectorLen(t *flatbuffers.Table, slot flatbuffers.VOffsetT) int {
	o := t.Offset(slot)
	if o == 0 {
		return 0
	}
	return t.VectorLen(flatbuffers.UOffsetT(o))
}

// checkVector checks that the vector in slot, of elements of size bytes,
// fits in the buffer.
func checkVector(t *flatbuffers.Table, slot flatbuffers.VOffsetT, size int, name string) error {
	o := t.Offset(slot)
	if o == 0 {
		return nil
	}
	n := t.VectorLen(flatbuffers.UOffsetT(o))
	start := int64(t.Vector(flatbuffers.UOffsetT(o)))
	if n < 0 || start > int64(len(t.Bytes)) || int64(n)*int64(size) > int64(len(t.Bytes))-start {
		return fmt.Errorf("%s: %d elements do not fit the %d-byte metadata", name, n, len(t.Bytes))
	}
	return nil
}
