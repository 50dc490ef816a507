// Package broker runs the embedded Kafka-protocol broker of the single-machine
// default (kfake with a data dir). Package topics manages topics on it and on
// real clusters.
package broker

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"

	"github.com/twmb/franz-go/pkg/kfake"
)

// Config of the embedded broker.
type Config struct {
	// Addr is host:port to listen on; empty or port 0 picks a free port on 127.0.0.1.
	Addr string
	// Dir keeps topics, offsets and groups across restarts; empty keeps nothing.
	Dir string
	// Partitions is the default partition count of topics created without one.
	Partitions int
}

// Broker is a running embedded broker.
type Broker struct {
	cluster *kfake.Cluster
	addr    string
}

// Start starts an in-process Kafka-protocol broker (kfake). With a Dir, a
// restart finds the topics, records and committed offsets it had.
func Start(ctx context.Context, cfg Config) (*Broker, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	host, port := "127.0.0.1", 0
	if cfg.Addr != "" {
		h, p, err := net.SplitHostPort(cfg.Addr)
		if err != nil {
			return nil, fmt.Errorf("embedded broker: addr %q: %w", cfg.Addr, err)
		}
		if h != "" {
			host = h
		}
		if port, err = strconv.Atoi(p); err != nil || port < 0 || port > 65535 {
			return nil, fmt.Errorf("embedded broker: addr %q: bad port", cfg.Addr)
		}
	}
	if port == 0 {
		// kfake listens on the port it is given; find a free one ourselves so the
		// address is known (and stable across a restart with the same config).
		l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			return nil, fmt.Errorf("embedded broker: find a free port: %w", err)
		}
		port = l.Addr().(*net.TCPAddr).Port
		_ = l.Close()
	}
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.Ports(port),
		kfake.ListenFn(func(network, _ string) (net.Listener, error) {
			return net.Listen(network, net.JoinHostPort(host, strconv.Itoa(port)))
		}),
	}
	if cfg.Partitions > 0 {
		opts = append(opts, kfake.DefaultNumPartitions(cfg.Partitions))
	}
	if cfg.Dir != "" {
		if err := os.MkdirAll(cfg.Dir, 0o750); err != nil {
			return nil, fmt.Errorf("embedded broker: data dir: %w", err)
		}
		opts = append(opts, kfake.DataDir(cfg.Dir))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("embedded broker on %s:%d: %w", host, port, err)
	}
	addrs := c.ListenAddrs()
	if len(addrs) == 0 {
		c.Close()
		return nil, fmt.Errorf("embedded broker on %s:%d: no listener", host, port)
	}
	return &Broker{cluster: c, addr: addrs[0]}, nil
}

// Addr is the bootstrap address clients connect to.
func (b *Broker) Addr() string { return b.addr }

// Close stops the broker, flushing its data dir.
func (b *Broker) Close() { b.cluster.Close() }
