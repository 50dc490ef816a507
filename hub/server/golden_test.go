package server

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/tongban/tongban/catalog"
	"github.com/tongban/tongban/hub/changefeed"
	"github.com/tongban/tongban/hub/store"
	"github.com/tongban/tongban/identifier"
	"github.com/tongban/tongban/wire"
)

// A population row through the whole hub (quality checks on) becomes a
// golden record, and its change reaches the population library's compacted
// topic; a row failing a rule is quarantined instead.
func TestGoldenRecordReachesTheChangeTopic(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cfg := testConfig(t, copyCatalog(t))
	cfg.Quality.Checks = true
	s, err := New(ctx, cfg, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	s.Start(ctx)
	defer s.Close()
	res, ok := s.Catalog().Resource("PS-POP-001")
	if !ok {
		t.Fatal("no PS-POP-001 in the deploy catalog")
	}
	good, err := identifier.FormatCitizenID("230602", time.Date(1990, 2, 28, 0, 0, 0, 0, time.UTC), 101)
	if err != nil {
		t.Fatal(err)
	}
	bad := good[:17] + map[bool]string{true: "1", false: "2"}[good[17] != '1'] // wrong check character
	row := func(id string) []any {
		return []any{id, "张三", "1", "1990-02-28", "汉族", "萨尔图区", "13800000000", "家庭户", "2026-01-01 00:00:00"}
	}
	b := wire.NewBuilder(nil, res.Schema)
	defer b.Release()
	for _, id := range []string{good, bad} {
		if err := b.Append(row(id), time.Now().UnixMicro()); err != nil {
			t.Fatal(err)
		}
	}
	rec := b.NewRecord()
	payload, err := wire.EncodeRecord(rec)
	rec.Release()
	if err != nil {
		t.Fatal(err)
	}
	w := &kafka.Writer{Addr: kafka.TCP(s.BrokerAddrs()...), Topic: cfg.Kafka.IngestTopic, Balancer: wire.Balancer{}, RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond}
	defer w.Close()
	m := wire.Meta{Resource: res.Code, Dept: res.Provider, Fingerprint: res.Schema.Fingerprint(), SchemaVersion: 1, BatchID: "golden-1", Op: wire.OpUpsert}
	if err := w.WriteMessages(ctx, wire.Message(m, payload)); err != nil {
		t.Fatal(err)
	}

	topic := changefeed.Topic(cfg.Kafka.GoldenTopicPrefix, "population")
	var msg kafka.Message
	for msg.Key == nil {
		if ctx.Err() != nil {
			q, _ := s.Store().ListQuarantine(context.Background(), store.QuarantineFilter{Limit: 10})
			t.Fatalf("no change on %s; quarantine %+v", topic, q)
		}
		for p := 0; p < cfg.Kafka.Partitions && msg.Key == nil; p++ {
			r := kafka.NewReader(kafka.ReaderConfig{Brokers: s.BrokerAddrs(), Topic: topic, Partition: p, MaxWait: 50 * time.Millisecond})
			rctx, rcancel := context.WithTimeout(ctx, 300*time.Millisecond)
			if m, err := r.ReadMessage(rctx); err == nil {
				msg = m
			}
			rcancel()
			r.Close()
		}
	}
	var g struct {
		SubjectID string `json:"subject_id"`
		Fields    map[string]struct {
			Value      any `json:"value"`
			Provenance struct {
				Resource string `json:"resource"`
			} `json:"provenance"`
		} `json:"fields"`
	}
	if err := json.Unmarshal(msg.Value, &g); err != nil {
		t.Fatalf("change value %q: %v", msg.Value, err)
	}
	if string(msg.Key) != good || g.SubjectID != good || g.Fields["name"].Value != "张三" || g.Fields["name"].Provenance.Resource != "PS-POP-001" {
		t.Fatalf("change %s = %s", msg.Key, msg.Value)
	}
	if _, found, err := s.Store().GetGolden(ctx, catalog.SubjectPerson, bad); err != nil || found {
		t.Fatalf("the row with a wrong check character has a golden record (found %v, %v)", found, err)
	}
	n, err := s.Store().OpenQuarantineKeys(ctx, res.Code)
	if err != nil || n != 1 {
		t.Fatalf("open quarantine keys of %s = %d, %v; want the bad row", res.Code, n, err)
	}
}
