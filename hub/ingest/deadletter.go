package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/tongban/tongban/hub/store"
	"github.com/tongban/tongban/wire"
)

// Headers added to a message copied to the dead-letter topic, besides
// wire.HeaderReason: where the original was.
const (
	HeaderSourceTopic     = "tb-dlq-topic"
	HeaderSourcePartition = "tb-dlq-partition"
	HeaderSourceOffset    = "tb-dlq-offset"
)

// HeaderJSON is one Kafka header in a dead letter's stored headers (a JSON
// array, in message order). Values are text; bytes that are not UTF-8 are
// replaced by U+FFFD.
type HeaderJSON struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// writeDeadLetters copies the rejected messages to the dead-letter topic and
// records them in the store, retrying while either is unavailable. The store
// ignores a dead letter it already has (same topic, partition and offset), so
// a redelivered group does not count twice there.
func (in *Ingester) writeDeadLetters(ctx context.Context, dead []*pending) error {
	now := time.Now().UTC()
	out := make([]kafka.Message, 0, len(dead))
	rows := make([]store.DeadLetter, 0, len(dead))
	for _, p := range dead {
		m, reason := p.msg, p.rej.String()
		hs := make([]kafka.Header, 0, len(m.Headers)+4)
		stored := make([]HeaderJSON, 0, len(m.Headers))
		for _, h := range m.Headers {
			hs = append(hs, h)
			stored = append(stored, HeaderJSON{Key: h.Key, Value: string(h.Value)})
		}
		hs = append(hs,
			kafka.Header{Key: wire.HeaderReason, Value: []byte(reason)},
			kafka.Header{Key: HeaderSourceTopic, Value: []byte(m.Topic)},
			kafka.Header{Key: HeaderSourcePartition, Value: []byte(strconv.Itoa(m.Partition))},
			kafka.Header{Key: HeaderSourceOffset, Value: []byte(strconv.FormatInt(m.Offset, 10))},
		)
		out = append(out, kafka.Message{Key: m.Key, Value: m.Value, Headers: hs})
		hj, err := json.Marshal(stored)
		if err != nil {
			return fmt.Errorf("ingest: dead letter headers: %w", err)
		}
		rows = append(rows, store.DeadLetter{
			Topic: m.Topic, Partition: m.Partition, Offset: m.Offset,
			Resource: header(m, wire.HeaderResource), Dept: header(m, wire.HeaderDept), BatchID: header(m, wire.HeaderBatchID),
			Reason: reason, Headers: hj, Payload: m.Value, ReceivedAt: now,
		})
	}
	if err := in.retry(ctx, "deadletter_topic", func(actx context.Context) error {
		return in.dlq.WriteMessages(actx, out...)
	}); err != nil {
		return err
	}
	for i := range rows {
		if err := in.retry(ctx, "store_deadletter", func(actx context.Context) error {
			return in.cfg.Store.AddDeadLetter(actx, rows[i])
		}); err != nil {
			return err
		}
	}
	for i, p := range dead {
		in.metrics.deadLetters.WithLabelValues(p.rej.class).Inc()
		in.metrics.messages.WithLabelValues("dead_letter").Inc()
		resource := rows[i].Resource
		if _, known := in.cfg.Catalog.Resource(resource); !known {
			resource = "" // keep per-resource stats to catalog resources
		}
		in.stats.deadLetter(resource, p.rej.class)
		in.cfg.Logger.WarnContext(ctx, "ingest: dead letter", "reason", p.rej.class, "detail", p.rej.detail,
			"topic", p.msg.Topic, "partition", p.msg.Partition, "offset", p.msg.Offset,
			"resource", rows[i].Resource, "dept", rows[i].Dept, "batch_id", rows[i].BatchID)
	}
	return nil
}

// header returns the value of the named header, or "".
func header(m kafka.Message, key string) string {
	for _, h := range m.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}
