package bench

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	gomysql "github.com/go-sql-driver/mysql"
	"github.com/segmentio/kafka-go"

	"github.com/tongban/tongban/agent"
	"github.com/tongban/tongban/agent/checkpoint"
	"github.com/tongban/tongban/agent/config"
	"github.com/tongban/tongban/agent/hubclient"
	"github.com/tongban/tongban/agent/metrics"
	"github.com/tongban/tongban/agent/pipeline"
	"github.com/tongban/tongban/connectors"
	"github.com/tongban/tongban/connectors/mysql"
)

// DefaultUpdateRows is how many rows the incremental measurement updates.
const DefaultUpdateRows = 100_000

const (
	topicIncremental = "bench.agent.incremental"
	// incrementalInterval is the pipeline's interval (the pause between
	// change polls): short, so the delay is mostly the pipeline's own work.
	incrementalInterval = 200 * time.Millisecond
	// incrementalWait bounds each wait for the pipeline (its first poll, the
	// pick-up of the updated rows).
	incrementalWait = 2 * time.Minute
)

// pickup is what the incremental measurement observed.
type pickup struct {
	updates  int    // rows the UPDATE changed
	since    string // the picking-up poll's watermark condition (>= since)
	pollRows int    // rows that poll read, all acknowledged
	// rereadPolls polls after the picking-up one read rows again (the
	// overlap window) before the first that read none, rereadRows rows in
	// all; quietAfter is when that first empty poll started, after the
	// picking-up poll's start.
	rereadPolls, rereadRows int
	quietAfter              time.Duration
	delay                   time.Duration // COMMIT returned → Kafka acknowledged that poll's last message
	pollTook                time.Duration // that poll's start → the same acknowledgement
	updateTook              time.Duration // the boundary query and the UPDATE, before the commit (not timed)
	// pollAfter is when the picking-up poll started, after COMMIT returned
	// (negative: it started while the commit ran, and its first query saw it).
	pollAfter time.Duration
}

// pollCall is one successful Changes call of the pipeline.
type pollCall struct {
	start time.Time
	rows  int
	since string
	maxWM string // the highest watermark read ("" without rows)
}

// cycleSave is the checkpoint save that records a poll as caught up (the
// producer saves it after every chunk of the poll was acknowledged).
type cycleSave struct {
	caughtUp time.Time
	lastAck  time.Time // the last acknowledged write before the save
}

// incrementalProbe watches a real pipeline from its edges: the connector's
// Changes calls, the writer's acknowledgements and the checkpoint saves.
// Calls and cycle saves correspond one to one, in order: the reader queues
// a poll's completion after its chunks, and the producer saves it after
// delivering them.
type incrementalProbe struct {
	mu       sync.Mutex
	calls    []pollCall
	cycles   []cycleSave
	lastAck  time.Time
	caughtUp time.Time     // of the last saved checkpoint
	changed  chan struct{} // something was recorded (buffer 1)
}

func newIncrementalProbe(caughtUp time.Time) *incrementalProbe {
	return &incrementalProbe{caughtUp: caughtUp, changed: make(chan struct{}, 1)}
}

func (p *incrementalProbe) signal() {
	select {
	case p.changed <- struct{}{}:
	default:
	}
}

// wait blocks until cond (called with the lock held) is true.
func (p *incrementalProbe) wait(ctx context.Context, what string, status func() string, cond func() bool) error {
	deadline := time.NewTimer(incrementalWait)
	defer deadline.Stop()
	for {
		p.mu.Lock()
		ok := cond()
		p.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-p.changed:
		case <-ctx.Done():
			return fmt.Errorf("bench: incremental: waiting for %s: %w", what, ctx.Err())
		case <-deadline.C:
			return fmt.Errorf("bench: incremental: %s did not happen within %s (pipeline status: %s)", what, incrementalWait, status())
		}
	}
}

// probeConnector records the pipeline's successful Changes calls.
type probeConnector struct {
	connectors.Connector
	p *incrementalProbe
}

func (c probeConnector) Changes(ctx context.Context, src connectors.Source, since string, emit func(connectors.Chunk) error) error {
	start := time.Now()
	rows, maxWM := 0, ""
	err := c.Connector.Changes(ctx, src, since, func(ch connectors.Chunk) error {
		rows += ch.Rows
		// Chunks come in watermark order, so the last one holds the highest.
		maxWM = ch.MaxWatermark
		return emit(ch)
	})
	if err == nil {
		c.p.mu.Lock()
		c.p.calls = append(c.p.calls, pollCall{start: start, rows: rows, since: since, maxWM: maxWM})
		c.p.mu.Unlock()
		c.p.signal()
	}
	return err
}

// probeWriter records when Kafka acknowledged the last write.
type probeWriter struct {
	w *kafka.Writer
	p *incrementalProbe
}

func (w probeWriter) WriteMessages(ctx context.Context, msgs ...kafka.Message) error {
	err := w.w.WriteMessages(ctx, msgs...)
	if err == nil {
		at := time.Now()
		w.p.mu.Lock()
		w.p.lastAck = at
		w.p.mu.Unlock()
	}
	return err
}

// probeCheckpoints records the saves that mark a poll as caught up.
type probeCheckpoints struct {
	s *checkpoint.Store
	p *incrementalProbe
}

func (c probeCheckpoints) Load(resource string) (checkpoint.Checkpoint, bool, error) {
	return c.s.Load(resource)
}

func (c probeCheckpoints) Save(cp checkpoint.Checkpoint) error {
	if err := c.s.Save(cp); err != nil {
		return err
	}
	c.p.mu.Lock()
	moved := !cp.CaughtUpAt.Equal(c.p.caughtUp)
	if moved {
		c.p.caughtUp = cp.CaughtUpAt
		c.p.cycles = append(c.p.cycles, cycleSave{caughtUp: cp.CaughtUpAt, lastAck: c.p.lastAck})
	}
	c.p.mu.Unlock()
	if moved {
		c.p.signal()
	}
	return nil
}

// incremental measures the pick-up of updated rows by the agent's real
// incremental pipeline, and its baseline, a raw read of the same rows.
func (r *runner) incremental(ctx context.Context) ([]Result, error) {
	n := r.cfg.UpdateRows
	raw, err := r.open(func(c *gomysql.Config) { c.InterpolateParams = true })
	if err != nil {
		return nil, err
	}
	defer raw.Close()
	pk, err := r.pickUp(ctx, raw, n)
	if err != nil {
		return nil, err
	}
	r.step("incremental: %d rows updated, picked up in %s (the poll itself %s, %d rows); %d polls re-read %d rows within the overlap, and the poll %s after the picking-up one read none",
		pk.updates, pk.delay.Round(time.Millisecond), pk.pollTook.Round(time.Millisecond), pk.pollRows, pk.rereadPolls, pk.rereadRows, pk.quietAfter.Round(time.Millisecond))

	// The read limit: the same rows by the same watermark condition, in one
	// query; the fastest of three runs over two plans. On the 1,000,000-row
	// table MariaDB plans the plain query as a full scan (EXPLAIN: type ALL),
	// slower than a range read of the watermark index.
	plain := "SELECT * FROM `" + benchTable + "` WHERE `updated_at` >= ?"
	indexed := "SELECT * FROM `" + benchTable + "` FORCE INDEX (`idx_bench_updated_at`) WHERE `updated_at` >= ?"
	var scan measure
	for _, query := range []string{indexed, plain, indexed} {
		m, err := rawQuery(ctx, raw, query, pk.since)
		if err != nil {
			return nil, err
		}
		if scan.took == 0 || m.rowsPerSec() > scan.rowsPerSec() {
			scan = m
		}
	}
	r.step("incremental baseline: raw read of %d rows by the watermark condition, %.0f rows/s", scan.rows, scan.rowsPerSec())
	if pk.pollRows != n || scan.rows != n {
		return nil, fmt.Errorf("bench: incremental: row counts differ: %d updated, the picking-up poll read %d, the raw read %d",
			n, pk.pollRows, scan.rows)
	}

	rate, base := float64(n)/pk.delay.Seconds(), scan.rowsPerSec()
	delayMS := float64(pk.delay) / float64(time.Millisecond)
	wait := fmt.Sprintf("the poll that picked them up started %s after COMMIT returned", pk.pollAfter.Round(time.Millisecond))
	if pk.pollAfter < 0 {
		wait = fmt.Sprintf("the poll that picked them up started %s before COMMIT returned, its first query after the commit", (-pk.pollAfter).Round(time.Millisecond))
	}
	cfgNote := fmt.Sprintf("the real agent/pipeline (mode incremental, interval %s, overlap %s, chunk_rows %d, in-process MySQL connector, "+
		"kafka-go RequireAll to the embedded broker, checkpoint file saved and fsynced after every acknowledged chunk) resumed from a "+
		"checkpoint at the table's highest watermark, as after its snapshot (measured above); the table has an index on "+
		"(updated_at, citizen_id); one transaction updates the %d rows with the highest updated_at (SET updated_at = NOW(6), "+
		"income = income + 0.01; finding them on the index and updating them took %s, untimed) and is committed at once, "+
		"wherever the poll cycle is", incrementalInterval, config.DefaultOverlap, config.DefaultChunkRows, n, pk.updateTook.Round(time.Millisecond))
	return []Result{
		{Name: "incremental: " + thousands(n) + " updated rows", Unit: "rows/s", Value: rate,
			Baseline: "raw SELECT * WHERE updated_at >= <the poll's since> into sql.RawBytes", BaselineValue: base, Ratio: ratio(rate, base),
			Rows: n, Status: StatusMeasured,
			Note: fmt.Sprintf("%s; timed from COMMIT returning until Kafka acknowledged the last message of the first poll that read "+
				"the updated rows (that poll's completion saved in the checkpoint), so it includes the wait for that poll: %s; the poll "+
				"alone, from its start, read and had acknowledged its %d rows in %s (%.0f rows/s); the baseline reads the same rows by the "+
				"poll's watermark condition (updated_at >= %s, the old watermark minus the overlap) in one query, the fastest of three "+
				"runs over two plans (the server's own, a full scan on a large table, and the watermark index forced); "+
				"then %d polls re-read %d rows within the overlap of the new watermark, and the poll that started %s after the "+
				"picking-up one read none (the table quiet for an overlap, polls start just past the watermark)",
				cfgNote, wait, pk.pollRows, pk.pollTook.Round(time.Millisecond), float64(pk.pollRows)/pk.pollTook.Seconds(), pk.since,
				pk.rereadPolls, pk.rereadRows, pk.quietAfter.Round(time.Millisecond))},
		{Name: "incremental: commit to acknowledged delay", Unit: "ms", Value: delayMS, Rows: n, Status: StatusMeasured,
			Note: fmt.Sprintf("from COMMIT returning to Kafka's acknowledgement of the last of the %d updated rows, the wait for the next "+
				"poll included (sync interval %s): %s, and took %s from its start to that acknowledgement",
				n, incrementalInterval, wait, pk.pollTook.Round(time.Millisecond))},
	}, nil
}

// pickUp runs the pipeline, updates n rows in one transaction and times
// their pick-up.
func (r *runner) pickUp(ctx context.Context, db *sql.DB, n int) (pickup, error) {
	var w0 string
	if err := db.QueryRowContext(ctx, "SELECT CAST(MAX(`updated_at`) AS CHAR) FROM `"+benchTable+"`").Scan(&w0); err != nil {
		return pickup{}, fmt.Errorf("bench: incremental: highest watermark: %w", err)
	}
	srcDSN, err := r.dsn()
	if err != nil {
		return pickup{}, err
	}
	rc := config.Resource{Code: benchResource, Connector: config.DefaultConnector, DSN: srcDSN, Table: benchTable,
		Watermark: "updated_at", Mode: config.ModeIncremental, Interval: incrementalInterval, Overlap: config.DefaultOverlap,
		ChunkRows: config.DefaultChunkRows}
	def := hubclient.Definition{Resource: *benchCatalogResource(), SchemaVersion: 1}
	stateDir := filepath.Join(r.cfg.Dir, "agent-state")
	store, err := checkpoint.Open(stateDir)
	if err != nil {
		return pickup{}, fmt.Errorf("bench: incremental: %w", err)
	}
	primed := time.Now().UTC()
	if err := store.Save(checkpoint.Checkpoint{Resource: benchResource, Phase: checkpoint.PhaseIncremental,
		Fingerprint: def.SchemaFingerprint(), Watermark: w0, SnapshotDoneAt: primed, CaughtUpAt: primed}); err != nil {
		return pickup{}, fmt.Errorf("bench: incremental: %w", err)
	}
	probe := newIncrementalProbe(primed)
	conn := mysql.New()
	defer conn.Close()
	w := agent.NewWriter(r.brokers, topicIncremental, time.Minute)
	defer w.Close()
	p, err := pipeline.New(pipeline.Config{File: "bench", Resource: rc, Definition: def, Dept: benchDept, Partitions: benchParts,
		QueueChunks: config.DefaultQueueChunks, WriteTimeout: config.DefaultWriteTimeout, TempDir: stateDir,
		Connector: probeConnector{Connector: conn, p: probe}, Writer: probeWriter{w: w, p: probe},
		Checkpoints: probeCheckpoints{s: store, p: probe}, Metrics: metrics.New(), Logger: r.cfg.Logger})
	if err != nil {
		return pickup{}, fmt.Errorf("bench: incremental: %w", err)
	}
	status := func() string {
		s := p.Status()
		return fmt.Sprintf("phase %s, %d rows read, %d acknowledged, last error %q", s.Phase, s.RowsRead, s.RowsAcked, s.LastError)
	}
	pctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.Run(pctx) }()
	var runErr error
	stopped := false
	halt := func() {
		if !stopped {
			stopped = true
			stop()
			runErr = <-done
		}
	}
	defer halt()

	r.step("incremental: pipeline running (interval %s) from watermark %s; updating %d rows", incrementalInterval, w0, n)
	if err := probe.wait(ctx, "the pipeline's first poll", status, func() bool { return len(probe.cycles) > 0 }); err != nil {
		return pickup{}, err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return pickup{}, fmt.Errorf("bench: incremental: begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }() // a no-op after the commit
	var pk pickup
	updStart := time.Now()
	// The n rows with the highest (updated_at, citizen_id), so no row left
	// unchanged lies within the overlap the poll re-reads: the boundary is
	// found on the index, and the update is a range of it (UPDATE … ORDER BY
	// … DESC LIMIT sorts the whole table instead: 20 s at 1,000,000 rows).
	var bw, bk string
	if err := tx.QueryRowContext(ctx, "SELECT CAST(`updated_at` AS CHAR), `citizen_id` FROM `"+benchTable+
		"` ORDER BY `updated_at` DESC, `citizen_id` DESC LIMIT 1 OFFSET ?", n-1).Scan(&bw, &bk); err != nil {
		return pickup{}, fmt.Errorf("bench: incremental: the %d-th highest watermark: %w", n, err)
	}
	res, err := tx.ExecContext(ctx, "UPDATE `"+benchTable+"` SET `updated_at` = NOW(6), `income` = `income` + 0.01 "+
		"WHERE `updated_at` >= ? AND (`updated_at` > ? OR `citizen_id` >= ?)", bw, bw, bk)
	if err != nil {
		return pickup{}, fmt.Errorf("bench: incremental: update %d rows: %w", n, err)
	}
	pk.updateTook = time.Since(updStart)
	affected, err := res.RowsAffected()
	if err != nil {
		return pickup{}, fmt.Errorf("bench: incremental: update: %w", err)
	}
	pk.updates = int(affected)
	if pk.updates != n {
		return pickup{}, fmt.Errorf("bench: incremental: the update changed %d rows, want %d", pk.updates, n)
	}
	if err := tx.Commit(); err != nil {
		return pickup{}, fmt.Errorf("bench: incremental: commit: %w", err)
	}
	committed := time.Now()

	// The picking-up poll: the first call that read past the old highest
	// watermark, w0 (the updated rows' NOW(6) is later; the texts share one
	// fixed-width layout, so they compare as text). A poll reads all of them
	// or none: its first page, which decides, sees the commit or not, and
	// every later page is a new statement. Its completion is the cycle save
	// of the same index.
	first := -1
	firstCall := func() bool {
		for i, c := range probe.calls {
			if c.maxWM > w0 {
				first = i
				return true
			}
		}
		return false
	}
	if err := probe.wait(ctx, "a poll reading the updated rows", status, firstCall); err != nil {
		return pickup{}, err
	}
	if err := probe.wait(ctx, "the acknowledgement of the updated rows", status, func() bool {
		return len(probe.cycles) > first && len(probe.calls) > first+1
	}); err != nil {
		return pickup{}, err
	}
	// Then the polls re-read the overlap window until it has passed, and
	// read nothing once the table is quiet.
	quiet := -1
	if err := probe.wait(ctx, "a poll reading nothing once the overlap has passed", status, func() bool {
		for i := first + 1; i < len(probe.calls); i++ {
			if probe.calls[i].rows == 0 {
				quiet = i
				return true
			}
		}
		return false
	}); err != nil {
		return pickup{}, err
	}
	halt()
	if runErr != nil {
		return pickup{}, fmt.Errorf("bench: incremental: pipeline: %w", runErr)
	}
	probe.mu.Lock()
	defer probe.mu.Unlock()
	call, cycle := probe.calls[first], probe.cycles[first]
	if cycle.caughtUp.After(call.start) || (first > 0 && !cycle.caughtUp.After(probe.calls[first-1].start)) {
		return pickup{}, fmt.Errorf("bench: incremental: poll %d started at %s, but its checkpoint says caught up at %s",
			first, call.start.Format(time.RFC3339Nano), cycle.caughtUp.Format(time.RFC3339Nano))
	}
	if call.start.Before(updStart) {
		return pickup{}, fmt.Errorf("bench: incremental: poll %d, which started before the update, read past the watermark %s to %s",
			first, w0, call.maxWM)
	}
	pk.pollAfter = call.start.Sub(committed)
	pk.since, pk.pollRows = call.since, call.rows
	for _, c := range probe.calls[first+1 : quiet] {
		pk.rereadPolls++
		pk.rereadRows += c.rows
	}
	pk.quietAfter = probe.calls[quiet].start.Sub(call.start)
	pk.delay = cycle.lastAck.Sub(committed)
	pk.pollTook = cycle.lastAck.Sub(call.start)
	if pk.delay <= 0 || pk.pollTook <= 0 {
		return pickup{}, fmt.Errorf("bench: incremental: the last acknowledgement (%s) precedes the commit (%s) or the poll (%s)",
			cycle.lastAck.Format(time.RFC3339Nano), committed.Format(time.RFC3339Nano), call.start.Format(time.RFC3339Nano))
	}
	return pk, nil
}

// thousands writes n with comma separators: 100000 → "100,000".
func thousands(n int) string {
	s := strconv.Itoa(n)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	out := make([]byte, 0, len(s)+len(s)/3+1)
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}
