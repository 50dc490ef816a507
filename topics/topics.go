// Package topics creates and inspects topics on any Kafka cluster, embedded or
// real, over the Kafka protocol. It is separate from package broker so the
// agent binary does not link the embedded broker.
package topics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"
)

// dial connects to the first reachable bootstrap broker.
func dial(ctx context.Context, brokers []string) (*kafka.Conn, error) {
	if len(brokers) == 0 {
		return nil, errors.New("no Kafka brokers configured")
	}
	d := &kafka.Dialer{Timeout: 10 * time.Second}
	var errs []error
	for _, b := range brokers {
		c, err := d.DialContext(ctx, "tcp", b)
		if err == nil {
			return c, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", b, err))
	}
	return nil, fmt.Errorf("no Kafka broker reachable: %w", errors.Join(errs...))
}

// Spec is how a topic is created.
type Spec struct {
	Partitions int
	// Compact makes the topic log-compacted (cleanup.policy=compact): Kafka
	// keeps at least the last message of every key, so a consumer reading
	// from the start sees the latest state of every key.
	Compact bool
}

// Ensure creates the topics that do not exist yet, each with the given
// number of partitions (replication factor 1 on a single broker, the cluster's
// default otherwise). Existing topics are left as they are.
func Ensure(ctx context.Context, brokers []string, topics map[string]int) error {
	specs := make(map[string]Spec, len(topics))
	for t, n := range topics {
		specs[t] = Spec{Partitions: n}
	}
	return EnsureSpecs(ctx, brokers, specs)
}

// EnsureSpecs is Ensure with a Spec per topic.
func EnsureSpecs(ctx context.Context, brokers []string, topics map[string]Spec) error {
	conn, err := dial(ctx, brokers)
	if err != nil {
		return err
	}
	defer conn.Close()
	names := make([]string, 0, len(topics))
	for t := range topics {
		names = append(names, t)
	}
	sort.Strings(names)
	have := map[string]bool{}
	if parts, err := conn.ReadPartitions(names...); err == nil {
		for _, p := range parts {
			have[p.Topic] = true
		}
	}
	var missing []kafka.TopicConfig
	for _, t := range names {
		if have[t] {
			continue
		}
		spec := topics[t]
		if spec.Partitions < 1 {
			return fmt.Errorf("topic %s: partitions must be at least 1, got %d", t, spec.Partitions)
		}
		tc := kafka.TopicConfig{Topic: t, NumPartitions: spec.Partitions, ReplicationFactor: -1}
		if spec.Compact {
			tc.ConfigEntries = []kafka.ConfigEntry{{ConfigName: "cleanup.policy", ConfigValue: "compact"}}
		}
		missing = append(missing, tc)
	}
	if len(missing) == 0 {
		return nil
	}
	ctrl, err := conn.Controller()
	if err != nil {
		return fmt.Errorf("find Kafka controller: %w", err)
	}
	cc, err := (&kafka.Dialer{Timeout: 10 * time.Second}).DialContext(ctx, "tcp", net.JoinHostPort(ctrl.Host, strconv.Itoa(ctrl.Port)))
	if err != nil {
		return fmt.Errorf("connect to Kafka controller: %w", err)
	}
	defer cc.Close()
	if err := cc.CreateTopics(missing...); err != nil && !errors.Is(err, kafka.TopicAlreadyExists) {
		return fmt.Errorf("create topics: %w", err)
	}
	return nil
}

// Partitions returns how many partitions a topic has.
func Partitions(ctx context.Context, brokers []string, topic string) (int, error) {
	conn, err := dial(ctx, brokers)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	parts, err := conn.ReadPartitions(topic)
	if err != nil {
		return 0, fmt.Errorf("read partitions of %s: %w", topic, err)
	}
	if len(parts) == 0 {
		return 0, fmt.Errorf("topic %s does not exist", topic)
	}
	return len(parts), nil
}
