package bench

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/tongban/tongban/agent"
	"github.com/tongban/tongban/connectors"
	"github.com/tongban/tongban/wire"
)

// measure is one timed run over the table.
type measure struct {
	rows  int
	bytes int64 // source bytes for the scan; message bytes for Kafka paths
	took  time.Duration
}

func (m measure) rowsPerSec() float64 { return float64(m.rows) / m.took.Seconds() }

// rawScan is the read limit: SELECT * through go-sql-driver/mysql into
// sql.RawBytes, no conversion. It counts the bytes of all values.
func rawScan(ctx context.Context, db *sql.DB) (measure, error) {
	return rawQuery(ctx, db, "SELECT * FROM `"+benchTable+"`")
}

// rawQuery reads the rows of a query into sql.RawBytes, counting the bytes
// of all values.
func rawQuery(ctx context.Context, db *sql.DB, query string, args ...any) (measure, error) {
	start := time.Now()
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return measure{}, fmt.Errorf("bench: raw scan: %w", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return measure{}, fmt.Errorf("bench: raw scan: %w", err)
	}
	raw := make([]sql.RawBytes, len(cols))
	dest := make([]any, len(cols))
	for i := range raw {
		dest[i] = &raw[i]
	}
	var m measure
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return measure{}, fmt.Errorf("bench: raw scan row %d: %w", m.rows, err)
		}
		for _, v := range raw {
			m.bytes += int64(len(v))
		}
		m.rows++
	}
	if err := rows.Err(); err != nil {
		return measure{}, fmt.Errorf("bench: raw scan: %w", err)
	}
	m.took = time.Since(start)
	return m, nil
}

// naiveRow is one row as a naive pipeline would ship it: a JSON object.
type naiveRow struct {
	CitizenID     string    `json:"citizen_id"`
	Name          string    `json:"name"`
	Sex           string    `json:"sex"`
	BirthDate     time.Time `json:"birth_date"`
	Ethnicity     string    `json:"ethnicity"`
	Address       *string   `json:"address"`
	Phone         string    `json:"phone"`
	HouseholdType string    `json:"household_type"`
	UpdatedAt     time.Time `json:"updated_at"`
	Income        string    `json:"income"`
}

// naiveJSON is the naive baseline: SELECT *, one JSON message per row,
// written to Kafka 5,000 messages at a time and acknowledged. db must parse
// times (parseTime=true).
func naiveJSON(ctx context.Context, db *sql.DB, brokers []string, topic string) (measure, error) {
	// The agent's writer, keyed by citizen ID, and a produce request as
	// large as one write of this baseline.
	w := agent.NewWriter(brokers, topic, time.Minute)
	w.Balancer, w.BatchSize = &kafka.Hash{}, 5000
	defer w.Close()
	start := time.Now()
	rows, err := db.QueryContext(ctx, "SELECT * FROM `"+benchTable+"`")
	if err != nil {
		return measure{}, fmt.Errorf("bench: naive baseline: %w", err)
	}
	defer rows.Close()
	var (
		m    measure
		msgs = make([]kafka.Message, 0, 5000)
		addr sql.NullString
	)
	flush := func() error {
		if len(msgs) == 0 {
			return nil
		}
		if err := w.WriteMessages(ctx, msgs...); err != nil {
			return fmt.Errorf("bench: naive baseline: write to Kafka: %w", err)
		}
		msgs = msgs[:0]
		return nil
	}
	for rows.Next() {
		var r naiveRow
		if err := rows.Scan(&r.CitizenID, &r.Name, &r.Sex, &r.BirthDate, &r.Ethnicity, &addr,
			&r.Phone, &r.HouseholdType, &r.UpdatedAt, &r.Income); err != nil {
			return measure{}, fmt.Errorf("bench: naive baseline row %d: %w", m.rows, err)
		}
		if addr.Valid {
			r.Address = &addr.String
		}
		v, err := json.Marshal(r)
		if err != nil {
			return measure{}, fmt.Errorf("bench: naive baseline row %d: %w", m.rows, err)
		}
		msgs = append(msgs, kafka.Message{Key: []byte(r.CitizenID), Value: v})
		m.bytes += int64(len(v))
		m.rows++
		if len(msgs) == cap(msgs) {
			if err := flush(); err != nil {
				return measure{}, err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return measure{}, fmt.Errorf("bench: naive baseline: %w", err)
	}
	if err := flush(); err != nil {
		return measure{}, err
	}
	m.took = time.Since(start)
	return m, nil
}

// agentSnapshot is the agent's snapshot path: the connector reads chunks
// (Arrow batches per partition) into a queue; a producer goroutine writes
// each chunk's messages with the agent's writer and waits for the
// acknowledgement, as agent/pipeline does.
func agentSnapshot(ctx context.Context, conn connectors.Connector, src connectors.Source, brokers []string, topic string) (measure, error) {
	w := agent.NewWriter(brokers, topic, time.Minute)
	defer w.Close()
	fp := benchCatalogResource().Schema.Fingerprint()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	queue := make(chan connectors.Chunk, 4)
	var acked, msgBytes atomic.Int64
	prodErr := make(chan error, 1)
	start := time.Now()
	go func() {
		seq := 0
		for ch := range queue {
			msgs := make([]kafka.Message, len(ch.Batches))
			for i, b := range ch.Batches {
				seq++
				meta := wire.Meta{Resource: benchResource, Dept: benchDept, Fingerprint: fp, SchemaVersion: 1,
					BatchID: "bench-" + strconv.Itoa(seq), Op: wire.OpUpsert, Partition: b.Partition}
				msgs[i] = wire.Message(meta, b.IPC)
				msgBytes.Add(int64(len(b.IPC)))
			}
			if err := w.WriteMessages(ctx, msgs...); err != nil {
				prodErr <- fmt.Errorf("bench: agent snapshot: write to Kafka: %w", err)
				cancel()
				for range queue {
				}
				return
			}
			acked.Add(int64(ch.Rows))
		}
		prodErr <- nil
	}()
	readErr := conn.Snapshot(ctx, src, nil, func(ch connectors.Chunk) error {
		select {
		case queue <- ch:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	close(queue)
	perr := <-prodErr
	if perr != nil {
		return measure{}, perr
	}
	if readErr != nil {
		return measure{}, fmt.Errorf("bench: agent snapshot: read: %w", readErr)
	}
	return measure{rows: int(acked.Load()), bytes: msgBytes.Load(), took: time.Since(start)}, nil
}
