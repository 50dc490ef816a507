package wire

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/segmentio/kafka-go"
)

// Header names carried by every message.
const (
	HeaderResource      = "tb-resource"
	HeaderDept          = "tb-dept"
	HeaderFingerprint   = "tb-schema-fp"
	HeaderSchemaVersion = "tb-schema-version"
	HeaderBatchID       = "tb-batch-id"
	HeaderOp            = "tb-op"
	HeaderPartition     = "tb-partition"
	HeaderSignature     = "tb-sig"
	// HeaderReason is added to a message copied to the dead-letter topic.
	HeaderReason = "tb-dlq-reason"
)

// Default topic names.
const (
	DefaultIngestTopic     = "tongban.ingest"
	DefaultDeadLetterTopic = "tongban.deadletter"
	DefaultPartitions      = 6
)

// Op is what a batch does to the records it carries.
type Op string

// The operations.
const (
	OpUpsert Op = "upsert"
	OpDelete Op = "delete"
)

// Meta is everything about a batch except its rows.
type Meta struct {
	Resource      string
	Dept          string
	Fingerprint   string
	SchemaVersion int
	BatchID       string
	Op            Op
	Partition     int
	Signature     []byte
}

// Validate checks that the header values a receiver relies on are present.
func (m Meta) Validate() error {
	switch {
	case m.Resource == "":
		return fmt.Errorf("header %s: missing", HeaderResource)
	case m.Dept == "":
		return fmt.Errorf("header %s: missing", HeaderDept)
	case m.Fingerprint == "":
		return fmt.Errorf("header %s: missing", HeaderFingerprint)
	case m.BatchID == "":
		return fmt.Errorf("header %s: missing", HeaderBatchID)
	case m.Op != OpUpsert && m.Op != OpDelete:
		return fmt.Errorf("header %s: %q is neither %q nor %q", HeaderOp, m.Op, OpUpsert, OpDelete)
	case m.Partition < 0:
		return fmt.Errorf("header %s: %d is negative", HeaderPartition, m.Partition)
	}
	return nil
}

// Headers renders the meta as Kafka headers.
func (m Meta) Headers() []kafka.Header {
	return []kafka.Header{
		{Key: HeaderResource, Value: []byte(m.Resource)},
		{Key: HeaderDept, Value: []byte(m.Dept)},
		{Key: HeaderFingerprint, Value: []byte(m.Fingerprint)},
		{Key: HeaderSchemaVersion, Value: []byte(strconv.Itoa(m.SchemaVersion))},
		{Key: HeaderBatchID, Value: []byte(m.BatchID)},
		{Key: HeaderOp, Value: []byte(m.Op)},
		{Key: HeaderPartition, Value: []byte(strconv.Itoa(m.Partition))},
		{Key: HeaderSignature, Value: m.Signature},
	}
}

// ParseHeaders reads the meta of a message. It fails naming the first header
// that is missing or malformed.
func ParseHeaders(hs []kafka.Header) (Meta, error) {
	var m Meta
	for _, h := range hs {
		v := string(h.Value)
		switch h.Key {
		case HeaderResource:
			m.Resource = v
		case HeaderDept:
			m.Dept = v
		case HeaderFingerprint:
			m.Fingerprint = v
		case HeaderSchemaVersion:
			n, err := strconv.Atoi(v)
			if err != nil {
				return Meta{}, fmt.Errorf("header %s: %q is not a number", HeaderSchemaVersion, v)
			}
			m.SchemaVersion = n
		case HeaderBatchID:
			m.BatchID = v
		case HeaderOp:
			m.Op = Op(v)
		case HeaderPartition:
			n, err := strconv.Atoi(v)
			if err != nil {
				return Meta{}, fmt.Errorf("header %s: %q is not a number", HeaderPartition, v)
			}
			m.Partition = n
		case HeaderSignature:
			m.Signature = h.Value
		}
	}
	return m, m.Validate()
}

// EncodeRecord writes one record batch as an Arrow IPC stream.
func EncodeRecord(rec arrow.RecordBatch) ([]byte, error) {
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(rec.Schema()))
	if err := w.Write(rec); err != nil {
		return nil, fmt.Errorf("encode arrow batch: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("encode arrow batch: %w", err)
	}
	return buf.Bytes(), nil
}

// DecodeRecord reads an Arrow IPC stream that must hold exactly one record
// batch. The payload is untrusted: its framing and metadata are checked
// against the bytes present before the Arrow reader, which allocates by
// declared sizes, sees it. The caller releases the returned record.
func DecodeRecord(payload []byte) (arrow.RecordBatch, error) {
	if len(payload) == 0 {
		return nil, errors.New("decode arrow batch: empty payload")
	}
	if err := checkIPC(payload); err != nil {
		return nil, fmt.Errorf("decode arrow batch: %w", err)
	}
	r, err := ipc.NewReader(bytes.NewReader(payload), ipc.WithAllocator(memory.DefaultAllocator))
	if err != nil {
		return nil, fmt.Errorf("decode arrow batch: %w", err)
	}
	defer r.Release()
	if !r.Next() {
		if err := r.Err(); err != nil {
			return nil, fmt.Errorf("decode arrow batch: %w", err)
		}
		return nil, errors.New("decode arrow batch: stream holds no record batch")
	}
	rec := r.RecordBatch()
	rec.Retain()
	if r.Next() {
		rec.Release()
		return nil, errors.New("decode arrow batch: stream holds more than one record batch")
	}
	if err := r.Err(); err != nil {
		rec.Release()
		return nil, fmt.Errorf("decode arrow batch: %w", err)
	}
	return rec, nil
}

// Message builds the Kafka message for an encoded batch.
func Message(m Meta, payload []byte) kafka.Message {
	return kafka.Message{Key: []byte(m.BatchID), Value: payload, Headers: m.Headers()}
}

// Balancer routes a message to the partition named in its tb-partition header,
// so the agent decides placement by subject key. A message without the header,
// or naming a partition the topic does not have, goes to partition 0's hash
// fallback: the first partition, which a receiver will still process correctly
// (placement is an ordering optimisation, apply is idempotent).
type Balancer struct{}

// Balance implements kafka.Balancer.
func (Balancer) Balance(msg kafka.Message, partitions ...int) int {
	for _, h := range msg.Headers {
		if h.Key != HeaderPartition {
			continue
		}
		n, err := strconv.Atoi(string(h.Value))
		if err != nil {
			break
		}
		for _, p := range partitions {
			if p == n {
				return p
			}
		}
		break
	}
	return partitions[0]
}
