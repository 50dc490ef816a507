package ingest

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the ingest metrics of one Ingester.
type metrics struct {
	messages      *prometheus.CounterVec // outcome: applied | dead_letter
	rows          *prometheus.CounterVec // resource, outcome: applied | skipped
	batchRows     prometheus.Histogram   // rows per message
	groupMessages prometheus.Histogram   // messages per store transaction
	storeWrite    prometheus.Histogram   // seconds per ApplyRecords
	deadLetters   *prometheus.CounterVec // reason class
	storeErrors   *prometheus.CounterVec // op
	lastIngest    *prometheus.GaugeVec   // resource; Unix seconds
	lag           prometheus.GaugeFunc   // messages behind, from the reader
	checks        *prometheus.CounterVec // resource, result: passed | fixed | quarantined
	violations    *prometheus.CounterVec // resource, field, rule
	mergeSeconds  prometheus.Histogram   // seconds per merge of a group's subjects
	collectors    []prometheus.Collector
}

func newMetrics(topic string, lag func() float64) *metrics {
	m := &metrics{
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tongban_hub_ingest_messages_total",
			Help: "Messages consumed from the ingest topic, by outcome (applied or dead_letter).",
		}, []string{"outcome"}),
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tongban_hub_ingest_rows_total",
			Help: "Rows of accepted messages, by resource and outcome (applied, or skipped as older than the stored version).",
		}, []string{"resource", "outcome"}),
		batchRows: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "tongban_hub_ingest_batch_rows",
			Help:    "Rows per accepted message (Arrow record batch).",
			Buckets: prometheus.ExponentialBuckets(1, 4, 9),
		}),
		groupMessages: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "tongban_hub_ingest_group_messages",
			Help:    "Messages per store transaction.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 9),
		}),
		storeWrite: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "tongban_hub_store_write_seconds",
			Help:    "Duration of one store transaction applying a group of messages.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 12),
		}),
		deadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tongban_hub_ingest_dead_letters_total",
			Help: "Messages sent to the dead-letter topic, by reason class.",
		}, []string{"reason"}),
		storeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tongban_hub_ingest_errors_total",
			Help: "Failed attempts that are retried (store or Kafka unavailable), by operation.",
		}, []string{"op"}),
		lastIngest: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tongban_hub_ingest_last_timestamp_seconds",
			Help: "Unix time of the last committed ingest, by resource.",
		}, []string{"resource"}),
		lag: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "tongban_hub_ingest_consumer_lag",
			Help:        "Messages between the last fetched offset and the partition's high watermark (kafka-go reader lag).",
			ConstLabels: prometheus.Labels{"topic": topic},
		}, lag),
		checks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tongban_quality_checks_total",
			Help: "Upsert records checked against the catalog's quality rules at ingest, by resource and result (passed, fixed: passed after a fix such as a citizen-ID upgrade, quarantined).",
		}, []string{"resource", "result"}),
		violations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tongban_quality_violations_total",
			Help: "Rule violations found at ingest, by resource, field and rule.",
		}, []string{"resource", "field", "rule"}),
		mergeSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "tongban_hub_ingest_merge_seconds",
			Help:    "Duration of merging the subjects a group of messages changed into golden records.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 12),
		}),
	}
	for _, r := range []string{ReasonHeaders, ReasonUnknownResource, ReasonWrongDept, ReasonFingerprint, ReasonDecode, ReasonColumns, ReasonRows} {
		m.deadLetters.WithLabelValues(r)
	}
	for _, o := range []string{"applied", "dead_letter"} {
		m.messages.WithLabelValues(o)
	}
	m.collectors = []prometheus.Collector{m.messages, m.rows, m.batchRows, m.groupMessages, m.storeWrite,
		m.deadLetters, m.storeErrors, m.lastIngest, m.lag, m.checks, m.violations, m.mergeSeconds}
	return m
}

func (m *metrics) register(reg prometheus.Registerer) error {
	for _, c := range m.collectors {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("ingest: register metrics: %w", err)
		}
	}
	return nil
}
