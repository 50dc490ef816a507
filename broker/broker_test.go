package broker

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/tongban/tongban/topics"
)

func TestEmbeddedKeepsTopicsAndRecordsAcrossRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b, err := Start(ctx, Config{Dir: dir, Partitions: 3})
	if err != nil {
		t.Fatal(err)
	}
	addr := b.Addr()
	if err := topics.Ensure(ctx, []string{addr}, map[string]int{"t.ingest": 4, "t.dlq": 1}); err != nil {
		t.Fatal(err)
	}
	// Idempotent.
	if err := topics.Ensure(ctx, []string{addr}, map[string]int{"t.ingest": 4}); err != nil {
		t.Fatal(err)
	}
	if n, err := topics.Partitions(ctx, []string{addr}, "t.ingest"); err != nil || n != 4 {
		t.Fatalf("partitions = %d, %v; want 4", n, err)
	}
	w := &kafka.Writer{Addr: kafka.TCP(addr), Topic: "t.ingest", RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond}
	var msgs []kafka.Message
	for i := 0; i < 50; i++ {
		msgs = append(msgs, kafka.Message{Key: []byte(fmt.Sprint(i)), Value: []byte(fmt.Sprint(i))})
	}
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
	_ = w.Close()
	b.Close()

	b2, err := Start(ctx, Config{Addr: addr, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer b2.Close()
	if b2.Addr() != addr {
		t.Fatalf("restart address %s, want %s", b2.Addr(), addr)
	}
	if n, err := topics.Partitions(ctx, []string{addr}, "t.ingest"); err != nil || n != 4 {
		t.Fatalf("after restart partitions = %d, %v; want 4", n, err)
	}
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{addr}, GroupID: "g", Topic: "t.ingest", StartOffset: kafka.FirstOffset, MaxWait: 100 * time.Millisecond})
	defer r.Close()
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	seen := map[string]bool{}
	for len(seen) < 50 {
		m, err := r.FetchMessage(cctx)
		if err != nil {
			t.Fatalf("after %d records: %v", len(seen), err)
		}
		seen[string(m.Value)] = true
	}
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := Start(ctx, Config{Addr: "nonsense"}); err == nil {
		t.Fatal("bad addr accepted")
	}
	if _, err := topics.Partitions(ctx, nil, "x"); err == nil {
		t.Fatal("no brokers accepted")
	}
	b, err := Start(ctx, Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := topics.Ensure(ctx, []string{b.Addr()}, map[string]int{"zero": 0}); err == nil {
		t.Fatal("zero partitions accepted")
	}
	if _, err := topics.Partitions(ctx, []string{b.Addr()}, "missing-topic"); err == nil {
		t.Fatal("missing topic reported partitions")
	}
}
