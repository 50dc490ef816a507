package changefeed

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/tongban/tongban/hub/store"
	"github.com/tongban/tongban/topics"
)

// memOutbox is an outbox in memory; fail makes the next reads fail.
type memOutbox struct {
	mu      sync.Mutex
	changes []store.GoldenChange
	fail    error
}

func (o *memOutbox) PendingGoldenChanges(_ context.Context, limit int) ([]store.GoldenChange, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.fail != nil {
		return nil, o.fail
	}
	return slices.Clone(o.changes[:min(limit, len(o.changes))]), nil
}

func (o *memOutbox) DeleteGoldenChanges(_ context.Context, ids []int64) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.changes = slices.DeleteFunc(o.changes, func(c store.GoldenChange) bool { return slices.Contains(ids, c.ID) })
	return nil
}

func (o *memOutbox) len() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.changes)
}

func TestPublishesChangesToCompactedTopics(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	brokers := c.ListenAddrs()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	pop, lp := Topic(DefaultTopicPrefix, "population"), Topic(DefaultTopicPrefix, "legal_person")
	if err := topics.EnsureSpecs(ctx, brokers, map[string]topics.Spec{pop: {Partitions: 3, Compact: true}, lp: {Partitions: 3, Compact: true}}); err != nil {
		t.Fatal(err)
	}
	// The topics are compacted.
	client := &kafka.Client{Addr: kafka.TCP(brokers...)}
	desc, err := client.DescribeConfigs(ctx, &kafka.DescribeConfigsRequest{Resources: []kafka.DescribeConfigRequestResource{
		{ResourceType: kafka.ResourceTypeTopic, ResourceName: pop, ConfigNames: []string{"cleanup.policy"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	policy := ""
	for _, r := range desc.Resources {
		for _, e := range r.ConfigEntries {
			if e.ConfigName == "cleanup.policy" {
				policy = e.ConfigValue
			}
		}
	}
	if policy != "compact" {
		t.Fatalf("cleanup.policy of %s = %q, want compact", pop, policy)
	}

	ob := &memOutbox{changes: []store.GoldenChange{
		{ID: 1, Library: "population", SubjectType: "person", SubjectID: "230602199002280013", Payload: json.RawMessage(`{"name":"张三"}`)},
		{ID: 2, Library: "legal_person", SubjectType: "legal_person", SubjectID: "91230602MA1BX0RF3N", Payload: json.RawMessage(`{"name":"某公司"}`)},
		{ID: 3, Library: "population", SubjectType: "person", SubjectID: "230602199002280021", Payload: nil},
		// A library whose topic nobody created (added to the catalog later):
		// the publisher creates it rather than retrying for ever.
		{ID: 4, Library: "credit", SubjectType: "legal_person", SubjectID: "91230602MA1BX0RF3N", Payload: json.RawMessage(`{"rating":"A"}`)},
	}}
	reg := prometheus.NewRegistry()
	p, err := New(Config{Brokers: brokers, Outbox: ob, Registry: reg, Batch: 2, Partitions: 3, Interval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ob.fail = errors.New("store down")
	if _, err := p.PublishOnce(ctx); err == nil {
		t.Fatal("PublishOnce with a failing outbox returned no error")
	}
	ob.fail = nil
	rctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.Run(rctx) }()
	for ob.len() > 0 && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if ob.len() != 0 {
		t.Fatalf("%d changes left in the outbox", ob.len())
	}

	read := func(topic string, n int) map[string]kafka.Message {
		t.Helper()
		got := map[string]kafka.Message{}
		for part := 0; part < 3; part++ {
			r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: topic, Partition: part, MaxWait: 50 * time.Millisecond})
			if err := r.SetOffset(kafka.FirstOffset); err != nil {
				t.Fatal(err)
			}
			for {
				lctx, lcancel := context.WithTimeout(ctx, 500*time.Millisecond)
				m, err := r.ReadMessage(lctx)
				lcancel()
				if err != nil {
					break
				}
				got[string(m.Key)] = m
			}
			r.Close()
		}
		if len(got) != n {
			t.Fatalf("%s holds %d keys, want %d", topic, len(got), n)
		}
		return got
	}
	popMsgs := read(pop, 2)
	if m := popMsgs["230602199002280013"]; string(m.Value) != `{"name":"张三"}` {
		t.Errorf("population change value %q", m.Value)
	}
	if m, ok := popMsgs["230602199002280021"]; !ok || m.Value != nil {
		t.Errorf("the subject with no field left must be a tombstone (no value), got %q", m.Value)
	}
	if m := read(lp, 1)["91230602MA1BX0RF3N"]; string(m.Value) != `{"name":"某公司"}` {
		t.Errorf("legal-person change value %q", m.Value)
	}
	if m := read(Topic(DefaultTopicPrefix, "credit"), 1)["91230602MA1BX0RF3N"]; string(m.Value) != `{"rating":"A"}` {
		t.Errorf("credit change value %q", m.Value)
	}
}
