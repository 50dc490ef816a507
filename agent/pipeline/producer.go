package pipeline

import (
	"context"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/tongban/tongban/agent/checkpoint"
	"github.com/tongban/tongban/agent/config"
	"github.com/tongban/tongban/connectors"
	"github.com/tongban/tongban/wire"
)

// produce is the producer goroutine: it takes queue items in order, writes
// chunks to Kafka and advances the checkpoint after each acknowledgement.
// When ctx ends it finishes the chunk being written (one attempt at most)
// and returns; queued chunks are dropped, the checkpoint still covers them.
func (p *Pipeline) produce(ctx context.Context, queue <-chan item) {
	for {
		var it item
		select {
		case <-ctx.Done():
			return
		case it = <-queue:
		}
		if ctx.Err() != nil {
			return
		}
		p.m.QueueDepth.WithLabelValues(p.code).Set(float64(len(queue)))
		if it.chunk.Rows > 0 || len(it.chunk.Batches) > 0 {
			op := wire.OpUpsert
			if it.kind == kindTombstones {
				op = wire.OpDelete
			}
			if !p.deliver(ctx, it.chunk, op) {
				return
			}
		}
		if !p.advance(ctx, it) {
			return
		}
	}
}

// messages builds the Kafka messages of a chunk, one per partition batch.
func (p *Pipeline) messages(batches []connectors.PartitionBatch, op wire.Op) []kafka.Message {
	def := p.cfg.Definition
	msgs := make([]kafka.Message, len(batches))
	for i, b := range batches {
		meta := wire.Meta{
			Resource:      p.code,
			Dept:          p.cfg.Dept,
			Fingerprint:   def.SchemaFingerprint(),
			SchemaVersion: def.SchemaVersion,
			BatchID:       p.newBatchID(),
			Op:            op,
			Partition:     b.Partition,
		}
		msgs[i] = wire.Message(meta, b.IPC)
	}
	return msgs
}

// deliver writes a chunk until Kafka acknowledges all of it, retrying the
// same messages (same batch ids) with a capped exponential backoff. It
// returns false, with nothing acknowledged for sure, when ctx ended: an
// attempt already running when ctx ends is allowed to finish.
func (p *Pipeline) deliver(ctx context.Context, c connectors.Chunk, op wire.Op) bool {
	msgs := p.messages(c.Batches, op)
	rows := c.Rows
	b := newBackoff(p.cfg.WriteBackoffMin, p.cfg.WriteBackoffMax)
	for attempt := 1; ; attempt++ {
		start := time.Now()
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.cfg.WriteTimeout)
		err := p.cfg.Writer.WriteMessages(actx, msgs...)
		cancel()
		p.rowsSent.Add(int64(rows))
		p.m.RowsSent.WithLabelValues(p.code).Add(float64(rows))
		if err == nil {
			p.m.KafkaWriteSeconds.WithLabelValues(p.code).Observe(time.Since(start).Seconds())
			for _, kb := range c.Batches {
				p.m.BatchRows.WithLabelValues(p.code).Observe(float64(kb.Rows))
			}
			p.rowsAcked.Add(int64(rows))
			p.m.RowsAcked.WithLabelValues(p.code).Add(float64(rows))
			if op == wire.OpDelete {
				p.m.ReconcileTombstone.WithLabelValues(p.code).Add(float64(rows))
			}
			if attempt > 1 {
				p.log.Info("Kafka accepted the chunk again", "attempts", attempt)
			}
			p.clearError("kafka")
			return true
		}
		p.m.KafkaWriteErrors.WithLabelValues(p.code).Inc()
		p.m.RowsFailed.WithLabelValues(p.code).Add(float64(rows))
		p.setError("kafka", err)
		if ctx.Err() != nil {
			p.log.Warn("stopping with a chunk not acknowledged by Kafka; it is read again after the restart", "error", err)
			return false
		}
		level := p.log.Warn
		if attempt == 1 || attempt%10 == 0 {
			level = p.log.Error
		}
		level("Kafka write failed; keeping the position and retrying the same chunk",
			"attempt", attempt, "rows", rows, "messages", len(msgs), "error", err, "retry_in", b.peek())
		if !b.wait(ctx) {
			return false
		}
	}
}

// advance applies an item to the checkpoint and saves it; false when ctx
// ended while the save kept failing.
func (p *Pipeline) advance(ctx context.Context, it item) bool {
	p.mu.Lock()
	cp := p.cp.Clone()
	p.mu.Unlock()
	switch it.kind {
	case kindSnapshotBegin:
		cp.Phase = checkpoint.PhaseSnapshot
		cp.SnapshotLastKey = nil
		cp.SnapshotRows = 0
		cp.SnapshotStartWatermark = it.startWM
		cp.SnapshotStartedAt = it.at.UTC()
	case kindSnapshotChunk:
		cp.SnapshotLastKey = it.chunk.LastKey
		cp.SnapshotRows += int64(it.chunk.Rows)
	case kindSnapshotDone:
		cp.SnapshotDoneAt = it.at.UTC()
		cp.SnapshotLastKey = nil
		cp.CaughtUpAt = cp.SnapshotStartedAt
		if p.cfg.Resource.Mode == config.ModeIncremental {
			cp.Phase = checkpoint.PhaseIncremental
			cp.Watermark = cp.SnapshotStartWatermark
		} else {
			cp.Phase = checkpoint.PhaseIdle
		}
		p.log.Info("snapshot complete", "rows", cp.SnapshotRows, "next_phase", cp.Phase,
			"took", it.at.Sub(cp.SnapshotStartedAt).Round(time.Millisecond))
	case kindChangesChunk:
		cp.Watermark = maxWatermark(cp.Watermark, it.chunk.MaxWatermark)
	case kindCycleDone:
		cp.CaughtUpAt = it.at.UTC()
	case kindReconcileDone:
		cp.ReconciledAt = it.at.UTC()
	case kindTombstones:
		return true
	}
	cp.UpdatedAt = time.Now().UTC()
	b := newBackoff(p.cfg.WriteBackoffMin, p.cfg.WriteBackoffMax)
	for {
		err := p.cfg.Checkpoints.Save(cp)
		if err == nil {
			break
		}
		p.setError("checkpoint", err)
		p.log.Error("cannot save the checkpoint; retrying", "error", err)
		if !b.wait(ctx) {
			return false
		}
	}
	p.clearError("checkpoint")
	p.mu.Lock()
	p.cp = cp
	p.mu.Unlock()
	p.setPhase(cp.Phase)
	return true
}
