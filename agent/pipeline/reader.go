package pipeline

import (
	"context"
	"errors"
	"time"

	"github.com/tongban/tongban/agent/checkpoint"
	"github.com/tongban/tongban/agent/config"
	"github.com/tongban/tongban/connectors"
)

// itemKind says what the producer does with a queue item.
type itemKind int

const (
	// kindSnapshotBegin starts a snapshot: reset the snapshot position.
	kindSnapshotBegin itemKind = iota
	// kindSnapshotChunk advances the snapshot's last key.
	kindSnapshotChunk
	// kindSnapshotDone ends the snapshot (incremental or idle phase next).
	kindSnapshotDone
	// kindChangesChunk advances the watermark.
	kindChangesChunk
	// kindCycleDone records that a poll read everything up to its start.
	kindCycleDone
	// kindTombstones are delete batches of a reconcile.
	kindTombstones
	// kindReconcileDone records the end of a reconcile.
	kindReconcileDone
)

// item is one unit of the queue between reader and producer.
type item struct {
	kind    itemKind
	chunk   connectors.Chunk
	at      time.Time // begin/cycle/reconcile time
	startWM string    // kindSnapshotBegin: the snapshot start watermark
}

// position is the reader's own position: ahead of the checkpoint by the
// chunks in the queue, which the producer will deliver (it never drops a
// chunk while running), so after a connector error the reader resumes from
// here rather than re-reading what is queued.
type position struct {
	phase     string
	lastKey   []string // snapshot
	begun     bool     // the snapshot's begin item was queued or saved
	startWM   string   // the snapshot's start watermark
	watermark string   // incremental: the highest watermark read
	// wmSeenAt is when the agent first held watermark (or started
	// polling with it); settled means every row at or below it has been
	// read, so polls start just past it (see settles).
	wmSeenAt     time.Time
	settled      bool
	snapshotDone time.Time
	reconciled   time.Time
}

func positionFrom(cp checkpoint.Checkpoint) position {
	return position{
		phase:        cp.Phase,
		lastKey:      cp.SnapshotLastKey,
		begun:        !cp.SnapshotStartedAt.IsZero(),
		startWM:      cp.SnapshotStartWatermark,
		watermark:    cp.Watermark,
		snapshotDone: cp.SnapshotDoneAt,
		reconciled:   cp.ReconciledAt,
	}
}

// read is the reader goroutine.
func (p *Pipeline) read(ctx context.Context, cp checkpoint.Checkpoint, queue chan<- item) {
	pos := positionFrom(cp)
	rc := p.cfg.Resource
	b := newBackoff(p.cfg.ConnectorBackoffMin, p.cfg.ConnectorBackoffMax)
	// fail handles a connector error: false when ctx is done.
	fail := func(what string, err error) bool {
		if ctx.Err() != nil {
			return false
		}
		p.m.ConnectorErrors.WithLabelValues(p.code).Inc()
		p.setError("connector", err)
		p.log.Error("connector call failed; retrying from the last position", "call", what, "error", err, "retry_in", b.peek())
		return b.wait(ctx)
	}
	ok := func() {
		b.reset()
		p.clearError("connector")
	}
	for ctx.Err() == nil {
		switch pos.phase {
		case checkpoint.PhaseSnapshot:
			if err := p.snapshot(ctx, &pos, queue); err != nil {
				if !fail("snapshot", err) {
					return
				}
				continue
			}
			ok()
			pos.lastKey, pos.begun = nil, false
			pos.snapshotDone = time.Now()
			pos.phase = checkpoint.PhaseIdle
			if rc.Mode == config.ModeIncremental {
				pos.phase = checkpoint.PhaseIncremental
				pos.watermark = pos.startWM
				pos.wmSeenAt, pos.settled = time.Time{}, false // the overlap again from here
			}
			if !p.enqueue(ctx, queue, item{kind: kindSnapshotDone, at: pos.snapshotDone}) {
				return
			}

		case checkpoint.PhaseIncremental:
			start := time.Now()
			if err := p.changes(ctx, &pos, queue); err != nil {
				if !fail("changes", err) {
					return
				}
				continue
			}
			ok()
			if !p.enqueue(ctx, queue, item{kind: kindCycleDone, at: start}) {
				return
			}
			if !p.maybeReconcile(ctx, &pos, queue, fail, ok) {
				return
			}
			if !sleep(ctx, time.Until(start.Add(rc.Interval))) {
				return
			}

		case checkpoint.PhaseIdle:
			if !p.maybeReconcile(ctx, &pos, queue, fail, ok) {
				return
			}
			due := pos.snapshotDone.Add(rc.Interval)
			wait := time.Until(due)
			if rc.ReconcileInterval > 0 && p.canReconcile() {
				wait = min(wait, time.Until(pos.reconciled.Add(rc.ReconcileInterval)))
			}
			if !sleep(ctx, wait) {
				return
			}
			if !time.Now().Before(due) {
				pos.phase = checkpoint.PhaseSnapshot
				pos.lastKey, pos.begun = nil, false
			}

		default:
			p.log.Error("unknown phase in checkpoint; starting a full snapshot", "phase", pos.phase)
			pos = position{phase: checkpoint.PhaseSnapshot}
		}
	}
}

// snapshot reads the table from pos.lastKey, queueing its chunks.
func (p *Pipeline) snapshot(ctx context.Context, pos *position, queue chan<- item) error {
	if !pos.begun {
		begin := item{kind: kindSnapshotBegin, at: time.Now()}
		if p.cfg.Resource.Mode == config.ModeIncremental {
			wm, probes, err := findMaxWatermark(ctx, p.cfg.Connector, p.src)
			if err != nil {
				return err
			}
			begin.startWM = wm
			p.log.Info("snapshot starting", "start_watermark", wm, "watermark_probes", probes)
		} else {
			p.log.Info("snapshot starting")
		}
		if !p.enqueue(ctx, queue, begin) {
			return ctx.Err()
		}
		pos.begun = true
		pos.lastKey = nil
		pos.startWM = begin.startWM
	}
	return p.cfg.Connector.Snapshot(ctx, p.src, pos.lastKey, func(c connectors.Chunk) error {
		p.countRead(c)
		if !p.enqueue(ctx, queue, item{kind: kindSnapshotChunk, chunk: c}) {
			return ctx.Err()
		}
		pos.lastKey = c.LastKey
		return nil
	})
}

// changes reads the rows changed since the watermark minus the overlap, or
// just past the watermark once it has settled.
func (p *Pipeline) changes(ctx context.Context, pos *position, queue chan<- item) error {
	start := time.Now()
	if pos.wmSeenAt.IsZero() {
		pos.wmSeenAt = start
	}
	since := sinceWithOverlap(pos.watermark, p.cfg.Resource.Overlap)
	if pos.settled {
		since = justAfter(pos.watermark)
	}
	before := pos.watermark
	err := p.cfg.Connector.Changes(ctx, p.src, since, func(c connectors.Chunk) error {
		p.countRead(c)
		if !p.enqueue(ctx, queue, item{kind: kindChangesChunk, chunk: c}) {
			return ctx.Err()
		}
		pos.watermark = maxWatermark(pos.watermark, c.MaxWatermark)
		return nil
	})
	switch {
	case pos.watermark != before: // also when the poll failed part-way
		pos.wmSeenAt, pos.settled = time.Now(), false
	case err == nil && !pos.settled:
		pos.settled = settles(pos.watermark, pos.wmSeenAt, start, p.cfg.Resource.Overlap)
	}
	return err
}

func (p *Pipeline) countRead(c connectors.Chunk) {
	p.rowsRead.Add(int64(c.Rows))
	p.m.RowsRead.WithLabelValues(p.code).Add(float64(c.Rows))
}

// enqueue blocks until the producer has room (back-pressure); false when
// ctx ended first.
func (p *Pipeline) enqueue(ctx context.Context, queue chan<- item, it item) bool {
	select {
	case queue <- it:
		p.m.QueueDepth.WithLabelValues(p.code).Set(float64(len(queue)))
		return true
	case <-ctx.Done():
		return false
	}
}

func (p *Pipeline) canReconcile() bool {
	return p.cfg.Hub != nil && p.reconcileOK
}

// maybeReconcile runs a reconcile when one is due; false when ctx is done.
func (p *Pipeline) maybeReconcile(ctx context.Context, pos *position, queue chan<- item,
	fail func(string, error) bool, ok func()) bool {
	rc := p.cfg.Resource
	if rc.ReconcileInterval <= 0 || !p.canReconcile() || time.Since(pos.reconciled) < rc.ReconcileInterval {
		return ctx.Err() == nil
	}
	start := time.Now()
	n, err := p.reconcile(ctx, queue)
	if err != nil {
		if ctx.Err() != nil {
			return false
		}
		if errors.Is(err, errEmptySource) {
			p.setError("reconcile", err)
			p.log.Warn("reconcile skipped", "error", err)
			pos.reconciled = start
			return true
		}
		var he hubError
		if errors.As(err, &he) {
			p.m.HubErrors.Inc()
			p.setError("reconcile", err)
			p.log.Warn("reconcile failed: the hub's keys could not be read; trying again at the next interval", "error", err)
			pos.reconciled = start // try again after an interval, not at once
			return true
		}
		pos.reconciled = start
		return fail("reconcile", err)
	}
	ok()
	p.clearError("reconcile")
	pos.reconciled = start
	p.log.Info("reconcile done", "tombstones", n, "took", time.Since(start).Round(time.Millisecond))
	return p.enqueue(ctx, queue, item{kind: kindReconcileDone, at: start})
}
