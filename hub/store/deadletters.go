package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// DeadLetter is a Kafka message the hub could not ingest, with the reason.
type DeadLetter struct {
	// ID is assigned by the store.
	ID        int64
	Topic     string
	Partition int
	Offset    int64
	// Resource, Dept and BatchID come from the message headers, whatever they
	// held: they are made valid UTF-8 and cut to 255 bytes.
	Resource, Dept, BatchID string
	// Reason is kept up to 16 KiB.
	Reason string
	// Headers is the message headers as JSON.
	Headers json.RawMessage
	// Payload is cut to its first MaxDeadLetterPayload bytes.
	Payload []byte
	// ReceivedAt is set to the current time when zero.
	ReceivedAt time.Time
}

// AddDeadLetter records d once per (topic, partition, offset): recording the
// same message again is a no-op.
func (s *DB) AddDeadLetter(ctx context.Context, d DeadLetter) error {
	if err := s.addDeadLetter(ctx, d); err != nil {
		return fmt.Errorf("store: add dead letter %s/%d@%d: %w", d.Topic, d.Partition, d.Offset, err)
	}
	return nil
}

func (s *DB) addDeadLetter(ctx context.Context, d DeadLetter) error {
	if d.Topic == "" {
		return fmt.Errorf("topic is empty")
	}
	if len(d.Topic) > maxTopicLen {
		return fmt.Errorf("topic is %d bytes long (at most %d)", len(d.Topic), maxTopicLen)
	}
	if d.Headers != nil {
		if err := checkJSON("headers", d.Headers, false); err != nil {
			return err
		}
	}
	at, err := timeArg("received at", d.ReceivedAt, time.Now())
	if err != nil {
		return err
	}
	payload := d.Payload
	if len(payload) > MaxDeadLetterPayload {
		payload = payload[:MaxDeadLetterPayload]
	}
	var payloadArg any
	if payload != nil {
		payloadArg = payload
	}
	q := `INSERT INTO dead_letters (topic, kafka_partition, kafka_offset, resource, dept, batch_id, reason, headers, payload, received_at)
 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	if s.d.name == DriverMySQL {
		q += ` ON DUPLICATE KEY UPDATE id = id`
	} else {
		q += ` ON CONFLICT(topic, kafka_partition, kafka_offset) DO NOTHING`
	}
	_, err = s.db.ExecContext(ctx, q, d.Topic, d.Partition, d.Offset,
		truncateText(d.Resource, maxDeadLetterText), truncateText(d.Dept, maxDeadLetterText),
		truncateText(d.BatchID, maxDeadLetterText), truncateText(d.Reason, maxReasonBytes),
		jsonArg(d.Headers), payloadArg, at)
	return err
}

// ListDeadLetters returns up to limit dead letters, newest (last recorded) first.
func (s *DB) ListDeadLetters(ctx context.Context, limit int) ([]DeadLetter, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("store: list dead letters: limit %d is not positive", limit)
	}
	rs, err := s.db.QueryContext(ctx, `SELECT id, topic, kafka_partition, kafka_offset, resource, dept, batch_id, reason,
 headers, payload, received_at FROM dead_letters ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("store: list dead letters: %w", err)
	}
	defer rs.Close()
	var out []DeadLetter
	for rs.Next() {
		var (
			d       DeadLetter
			headers []byte
			at      dbTime
		)
		if err := rs.Scan(&d.ID, &d.Topic, &d.Partition, &d.Offset, &d.Resource, &d.Dept, &d.BatchID, &d.Reason,
			&headers, &d.Payload, &at); err != nil {
			return nil, fmt.Errorf("store: list dead letters: %w", err)
		}
		if headers != nil {
			d.Headers = json.RawMessage(headers)
		}
		d.ReceivedAt = at.Time
		out = append(out, d)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("store: list dead letters: %w", err)
	}
	return out, nil
}

// CountDeadLetters returns how many dead letters are recorded.
func (s *DB) CountDeadLetters(ctx context.Context) (int64, error) {
	var n int64
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM dead_letters`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count dead letters: %w", err)
	}
	return n, nil
}
