// Package metrics defines the agent's Prometheus metrics on a registry of
// its own (no global state), served on /metrics.
package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the agent's metrics. Every vector is labelled by resource code.
type Metrics struct {
	Registry *prometheus.Registry

	RowsRead   *prometheus.CounterVec // rows read from the source (snapshot and changes)
	RowsSent   *prometheus.CounterVec // rows handed to Kafka (every attempt)
	RowsAcked  *prometheus.CounterVec // rows acknowledged by Kafka (checkpointed)
	RowsFailed *prometheus.CounterVec // rows of failed write attempts (retried)

	BatchRows          *prometheus.HistogramVec // rows per Kafka message
	KafkaWriteErrors   *prometheus.CounterVec
	KafkaWriteSeconds  *prometheus.HistogramVec // duration of one successful chunk write
	CheckpointLag      *prometheus.GaugeVec     // seconds since the data at Kafka was current
	QueueDepth         *prometheus.GaugeVec     // chunks read and waiting for Kafka
	ConnectorErrors    *prometheus.CounterVec
	ConnectorRestarts  *prometheus.CounterVec
	ReconcileTombstone *prometheus.CounterVec // tombstones sent by reconcile
	ReconcileRuns      *prometheus.CounterVec
	Phase              *prometheus.GaugeVec // 1 for the resource's current phase, by phase label
	HubErrors          prometheus.Counter   // failed hub requests (register, heartbeat, keys)
}

// New registers the agent's metrics, plus the Go and process collectors,
// on a fresh registry.
func New() *Metrics {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	res := []string{"resource"}
	counter := func(name, help string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "tongban", Subsystem: "agent", Name: name, Help: help}, res)
		r.MustRegister(c)
		return c
	}
	gauge := func(name, help string, labels ...string) *prometheus.GaugeVec {
		g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "tongban", Subsystem: "agent", Name: name, Help: help}, append(res, labels...))
		r.MustRegister(g)
		return g
	}
	hist := func(name, help string, buckets []float64) *prometheus.HistogramVec {
		h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "tongban", Subsystem: "agent", Name: name, Help: help, Buckets: buckets}, res)
		r.MustRegister(h)
		return h
	}
	m := &Metrics{
		Registry:           r,
		RowsRead:           counter("rows_read_total", "Rows read from the source database."),
		RowsSent:           counter("rows_sent_total", "Rows written to Kafka, counting every attempt."),
		RowsAcked:          counter("rows_acked_total", "Rows acknowledged by Kafka (checkpointed)."),
		RowsFailed:         counter("rows_failed_total", "Rows of Kafka writes that failed and are retried."),
		BatchRows:          hist("batch_rows", "Rows per Kafka message (one Arrow batch).", prometheus.ExponentialBuckets(1, 4, 10)),
		KafkaWriteErrors:   counter("kafka_write_errors_total", "Failed attempts to write a chunk to Kafka."),
		KafkaWriteSeconds:  hist("kafka_write_seconds", "Time to write one chunk to Kafka until acknowledged.", prometheus.ExponentialBuckets(0.001, 2, 16)),
		CheckpointLag:      gauge("checkpoint_lag_seconds", "Seconds since the data acknowledged by Kafka was current at the source."),
		QueueDepth:         gauge("queue_depth", "Chunks read from the source and waiting for Kafka."),
		ConnectorErrors:    counter("connector_errors_total", "Connector calls that failed (retried after a backoff)."),
		ConnectorRestarts:  counter("connector_restarts_total", "Connector plugin processes found dead and restarted."),
		ReconcileTombstone: counter("reconcile_tombstones_total", "Tombstones sent for rows deleted at the source."),
		ReconcileRuns:      counter("reconcile_runs_total", "Completed reconcile runs."),
		Phase:              gauge("phase", "1 for the resource's current phase.", "phase"),
	}
	m.HubErrors = prometheus.NewCounter(prometheus.CounterOpts{Namespace: "tongban", Subsystem: "agent", Name: "hub_errors_total", Help: "Failed requests to the hub."})
	r.MustRegister(m.HubErrors)
	return m
}

// SetPhase marks phase as the resource's current one among phases.
func (m *Metrics) SetPhase(resource, phase string, phases ...string) {
	for _, p := range phases {
		v := 0.0
		if p == phase {
			v = 1
		}
		m.Phase.WithLabelValues(resource, p).Set(v)
	}
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}
