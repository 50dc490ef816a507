package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/tongban/tongban/hub/store"
)

// Reader settings fixed by the design: offsets are committed asynchronously
// once a second (after the store has committed), fetches wait at most
// readerMaxWait, and a fetch may bring up to readerMaxBytes.
const (
	readerCommitInterval = time.Second
	readerMaxWait        = 250 * time.Millisecond
	readerMaxBytes       = 16 << 20
	// attemptTimeout bounds one store or Kafka write attempt.
	attemptTimeout = 2 * time.Minute
	// commitTimeout bounds handing offsets to the reader's committer (it
	// waits while the group rebalances).
	commitTimeout = 30 * time.Second
)

// Ingester consumes the ingest topic into the store.
type Ingester struct {
	cfg      Config
	reader   *kafka.Reader
	dlq      *kafka.Writer
	metrics  *metrics
	stats    statsBook
	versions versionCache

	closeOnce sync.Once
	closeErr  error
}

// New creates the consumer and registers its metrics on cfg.Registry. It does
// not contact Kafka: Run joins the group.
func New(cfg Config) (*Ingester, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	in := &Ingester{cfg: cfg}
	in.versions = versionCache{st: cfg.Store, logger: log}
	in.reader = kafka.NewReader(kafka.ReaderConfig{
		Brokers:        cfg.Brokers,
		GroupID:        cfg.GroupID,
		Topic:          cfg.Topic,
		MinBytes:       1,
		MaxBytes:       readerMaxBytes,
		MaxWait:        readerMaxWait,
		CommitInterval: readerCommitInterval,
		StartOffset:    kafka.FirstOffset,
		// kafka-go sets the connection deadline to exactly MaxWait, the time a
		// broker may hold an empty fetch, so an idle partition's fetch often ends
		// in "i/o timeout" and a reconnect. That is routine, not a warning; keep
		// the reconnect backoff short so the next record is not delayed.
		ReadBackoffMin: 20 * time.Millisecond,
		// A hub that died without leaving the group holds its partitions until
		// the session times out; 10 s (kafka-go's default is 30 s) lets a
		// restarted or surviving hub take over sooner.
		SessionTimeout:    10 * time.Second,
		HeartbeatInterval: time.Second,
		// A failed join (the coordinator of a just-started broker is not ready)
		// is retried after this long; kafka-go's default of 5 s idles a new hub.
		JoinGroupBackoff: 500 * time.Millisecond,
		ReadBackoffMax:   200 * time.Millisecond,
		ErrorLogger: kafka.LoggerFunc(func(msg string, args ...any) {
			text := fmt.Sprintf(msg, args...)
			level := slog.LevelWarn
			if strings.HasSuffix(text, "i/o timeout") {
				level = slog.LevelDebug
			}
			log.Log(context.Background(), level, "ingest: kafka reader: "+text, "topic", cfg.Topic, "group", cfg.GroupID)
		}),
	})
	in.dlq = &kafka.Writer{
		Addr:         kafka.TCP(cfg.Brokers...),
		Topic:        cfg.DeadLetterTopic,
		Balancer:     &kafka.LeastBytes{},
		RequiredAcks: kafka.RequireAll,
		BatchTimeout: 5 * time.Millisecond,
		MaxAttempts:  3,
		ErrorLogger: kafka.LoggerFunc(func(msg string, args ...any) {
			log.Warn("ingest: kafka dead-letter writer: "+fmt.Sprintf(msg, args...), "topic", cfg.DeadLetterTopic)
		}),
	}
	in.metrics = newMetrics(cfg.Topic, func() float64 { return float64(in.reader.Stats().Lag) })
	if err := in.metrics.register(cfg.Registry); err != nil {
		_ = in.Close()
		return nil, err
	}
	return in, nil
}

// Stats returns the counters since start.
func (in *Ingester) Stats() Stats { return in.stats.snapshot(in.reader.Stats().Lag) }

// Close leaves the consumer group, flushing committed offsets, and closes the
// dead-letter writer. Run calls it on return; calling it again is harmless.
func (in *Ingester) Close() error {
	in.closeOnce.Do(func() {
		in.closeErr = errors.Join(in.reader.Close(), in.dlq.Close())
		if in.closeErr != nil {
			in.closeErr = fmt.Errorf("ingest: close: %w", in.closeErr)
		}
	})
	return in.closeErr
}

// Run consumes until ctx is cancelled, then finishes the group in flight
// (one more attempt at each write; if that fails it is left uncommitted for
// redelivery), commits and closes. It returns nil after a cancel and an
// error only when the reader fails for good.
func (in *Ingester) Run(ctx context.Context) error {
	defer in.Close()
	log := in.cfg.Logger
	log.InfoContext(ctx, "ingest: consuming", "topic", in.cfg.Topic, "group", in.cfg.GroupID,
		"dead_letter_topic", in.cfg.DeadLetterTopic, "brokers", in.cfg.Brokers)
	var held *pending
	for {
		g, err := in.collect(ctx, &held)
		if err != nil {
			return err
		}
		if g == nil || len(g.msgs) == 0 {
			return nil
		}
		in.stats.setBusy(true)
		err = in.handle(ctx, g)
		in.stats.setBusy(false)
		if err != nil {
			log.WarnContext(ctx, "ingest: stopped with a group not applied; it will be redelivered", "messages", len(g.msgs), "err", err)
			return nil
		}
		if ctx.Err() != nil {
			return nil
		}
	}
}

// pending is one fetched and checked message.
type pending struct {
	msg kafka.Message
	dec decoded
	chk checked
	rej *rejection
}

// group is the messages applied in one store transaction: accepted messages
// of one resource (so rows applied and skipped are exact per resource) and
// any dead letters fetched meanwhile.
type group struct {
	msgs     []kafka.Message
	accepted []*pending
	dead     []*pending
	resource string
	rows     int
}

func (g *group) add(p *pending) {
	g.msgs = append(g.msgs, p.msg)
	if p.rej != nil {
		g.dead = append(g.dead, p)
		return
	}
	g.accepted = append(g.accepted, p)
	g.resource = p.dec.meta.Resource
	g.rows += len(p.dec.records)
}

// fits reports whether p may join g.
func (g *group) fits(p *pending) bool {
	return p.rej != nil || g.resource == "" || g.resource == p.dec.meta.Resource
}

// collect fetches a group: one message (waiting as long as it takes), then
// whatever more is available within the linger. A message of another
// resource is held over to start the next group. A nil group means ctx was
// cancelled with nothing in flight.
func (in *Ingester) collect(ctx context.Context, held **pending) (*group, error) {
	g := &group{}
	if *held != nil {
		g.add(*held)
		*held = nil
	} else {
		m, err := in.fetchBlocking(ctx)
		if err != nil || ctx.Err() != nil {
			return nil, err
		}
		p, err := in.process(ctx, m)
		if err != nil {
			return nil, nil // cancelled while the store was down: not committed
		}
		g.add(p)
	}
	for len(g.msgs) < in.cfg.MaxGroupMessages && g.rows < in.cfg.MaxGroupRows && ctx.Err() == nil {
		lctx, cancel := context.WithTimeout(ctx, in.cfg.Linger)
		m, err := in.reader.FetchMessage(lctx)
		cancel()
		if err != nil {
			if lctx.Err() == nil && ctx.Err() == nil {
				in.cfg.Logger.WarnContext(ctx, "ingest: fetch", "err", err)
			}
			break
		}
		p, err := in.process(ctx, m)
		if err != nil {
			break // cancelled; m stays uncommitted and Run stops after this group
		}
		if !g.fits(p) {
			*held = p
			break
		}
		g.add(p)
	}
	return g, nil
}

// fetchBlocking waits for the next message, riding out reader errors with
// backoff. It returns an error only when the reader is closed.
func (in *Ingester) fetchBlocking(ctx context.Context) (kafka.Message, error) {
	backoff := in.cfg.MinBackoff
	for {
		m, err := in.reader.FetchMessage(ctx)
		if err == nil {
			return m, nil
		}
		if ctx.Err() != nil {
			return kafka.Message{}, nil
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrClosedPipe) {
			return kafka.Message{}, fmt.Errorf("ingest: reader closed: %w", err)
		}
		in.metrics.storeErrors.WithLabelValues("fetch").Inc()
		in.cfg.Logger.WarnContext(ctx, "ingest: fetch failed; retrying", "topic", in.cfg.Topic, "err", err, "backoff", backoff)
		if !sleep(ctx, backoff) {
			return kafka.Message{}, nil
		}
		backoff = min(2*backoff, in.cfg.MaxBackoff)
	}
}

// process checks one message. It retries while the store cannot be read
// and fails only when ctx is cancelled meanwhile.
func (in *Ingester) process(ctx context.Context, m kafka.Message) (*pending, error) {
	var p *pending
	err := in.retry(ctx, "schema_versions", func(actx context.Context) error {
		now := time.Now().UTC()
		d, rej, err := decodeMessage(actx, in.cfg.Catalog, in.versions.lookup, m, now)
		if err != nil {
			return err
		}
		p = &pending{msg: m, dec: d, rej: rej}
		return nil
	})
	if err != nil || p.rej != nil {
		return p, err
	}
	if in.cfg.Quality == nil {
		p.chk = checked{apply: p.dec.records, passed: len(p.dec.records)}
		return p, nil
	}
	chk, cerr := checkQuality(&p.dec, time.Now())
	if cerr != nil {
		p.rej = reject(ReasonRows, "%v", cerr)
		return p, nil
	}
	p.chk = chk
	return p, nil
}

// handle writes the group's dead letters, applies its records in one
// transaction, and commits its offsets. It fails only when ctx is cancelled
// while a write is being retried; then nothing is committed.
func (in *Ingester) handle(ctx context.Context, g *group) error {
	log := in.cfg.Logger
	if len(g.dead) > 0 {
		if err := in.writeDeadLetters(ctx, g.dead); err != nil {
			return err
		}
	}
	var (
		res                   store.ApplyResult
		elapsed, qTook, mTook time.Duration
	)
	if g.rows > 0 {
		qStart := time.Now()
		if err := in.writeQuality(ctx, g); err != nil {
			return err
		}
		qTook = time.Since(qStart)
		recs := make([]store.Record, 0, g.rows)
		for _, p := range g.accepted {
			recs = append(recs, p.chk.apply...)
		}
		r, el, invalid, err := in.applyRecords(ctx, recs)
		if err != nil {
			return err
		}
		res, elapsed = r, el
		if invalid != nil {
			// The store refused a record that passed decoding: find the
			// messages that carry such records by applying one at a time,
			// and dead-letter those instead of retrying the group forever.
			if res, elapsed, err = in.applyEach(ctx, g); err != nil {
				return err
			}
		}
		in.metrics.storeWrite.Observe(elapsed.Seconds())
		mStart := time.Now()
		if err := in.merge(ctx, res.Subjects); err != nil {
			return err
		}
		mTook = time.Since(mStart)
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), commitTimeout)
	err := in.reader.CommitMessages(cctx, g.msgs...)
	cancel()
	if err != nil {
		// The store has the rows; a redelivery of these messages is a no-op.
		log.WarnContext(ctx, "ingest: offsets not committed; the group will be redelivered", "messages", len(g.msgs), "err", err)
	}

	now := time.Now()
	in.stats.group()
	in.metrics.groupMessages.Observe(float64(len(g.msgs)))
	if len(g.accepted) > 0 {
		for _, p := range g.accepted {
			in.metrics.batchRows.Observe(float64(len(p.dec.records)))
			in.observeQuality(g.resource, &p.chk)
		}
		in.metrics.messages.WithLabelValues("applied").Add(float64(len(g.accepted)))
		in.metrics.rows.WithLabelValues(g.resource, "applied").Add(float64(res.Applied))
		in.metrics.rows.WithLabelValues(g.resource, "skipped").Add(float64(res.Skipped))
		in.metrics.lastIngest.WithLabelValues(g.resource).Set(float64(now.UnixNano()) / 1e9)
		in.stats.applied(g.resource, int64(len(g.accepted)), int64(res.Applied), int64(res.Skipped), now)
		log.DebugContext(ctx, "ingest: group applied", "resource", g.resource, "messages", len(g.accepted),
			"rows", g.rows, "applied", res.Applied, "skipped", res.Skipped, "store_write", elapsed,
			"quality_write", qTook, "merge", mTook, "subjects", len(res.Subjects))
	}
	return nil
}

// writeQuality records the group's quarantine updates and fixes, retrying
// store failures.
func (in *Ingester) writeQuality(ctx context.Context, g *group) error {
	if in.cfg.Quality == nil {
		return nil
	}
	var (
		ups   []store.QuarantineUpdate
		fixes []store.QualityFix
	)
	for _, p := range g.accepted {
		ups = append(ups, p.chk.quarantine...)
		fixes = append(fixes, p.chk.fixes...)
	}
	if len(ups) == 0 && len(fixes) == 0 {
		return nil
	}
	return in.retry(ctx, "quarantine", func(actx context.Context) error {
		if len(fixes) > 0 {
			if err := in.cfg.Quality.RecordFixes(actx, fixes); err != nil {
				return err
			}
		}
		if len(ups) > 0 {
			if _, err := in.cfg.Quality.UpdateQuarantine(actx, ups); err != nil {
				return err
			}
		}
		return nil
	})
}

// merge hands the changed subjects to the merger, retrying failures (a
// merge recomputes golden records from the stored source records, so a
// retry or a redelivery is harmless).
func (in *Ingester) merge(ctx context.Context, refs []store.SubjectRef) error {
	if in.cfg.Merger == nil || len(refs) == 0 {
		return nil
	}
	start := time.Now()
	err := in.retry(ctx, "merge", func(actx context.Context) error {
		return in.cfg.Merger.Merge(actx, refs)
	})
	in.metrics.mergeSeconds.Observe(time.Since(start).Seconds())
	return err
}

// observeQuality counts one message's check results.
func (in *Ingester) observeQuality(resource string, c *checked) {
	if in.cfg.Quality == nil {
		return
	}
	if n := c.passed - c.fixed; n > 0 {
		in.metrics.checks.WithLabelValues(resource, "passed").Add(float64(n))
	}
	if c.fixed > 0 {
		in.metrics.checks.WithLabelValues(resource, "fixed").Add(float64(c.fixed))
	}
	if c.failed > 0 {
		in.metrics.checks.WithLabelValues(resource, "quarantined").Add(float64(c.failed))
	}
	for k, n := range c.violations {
		in.metrics.violations.WithLabelValues(resource, k.field, k.rule).Add(float64(n))
	}
	in.stats.quality(resource, int64(c.failed), int64(c.fixed))
}

// applyRecords writes records in one transaction, retrying database
// failures. A refusal of the records themselves (store.ErrInvalidRecord) is
// returned as invalid, not retried.
func (in *Ingester) applyRecords(ctx context.Context, recs []store.Record) (res store.ApplyResult, elapsed time.Duration, invalid, err error) {
	err = in.retry(ctx, "store_apply", func(actx context.Context) error {
		start := time.Now()
		r, err := in.cfg.Store.ApplyRecords(actx, recs)
		if errors.Is(err, store.ErrInvalidRecord) {
			invalid = err
			return nil
		}
		if err != nil {
			return err
		}
		res, elapsed = r, time.Since(start)
		return nil
	})
	return res, elapsed, invalid, err
}

// applyEach applies the group's messages one transaction each, moves the
// messages the store refuses to the dead letters, and keeps the rest.
func (in *Ingester) applyEach(ctx context.Context, g *group) (store.ApplyResult, time.Duration, error) {
	var (
		total   store.ApplyResult
		elapsed time.Duration
		kept    []*pending
		refused []*pending
	)
	for _, p := range g.accepted {
		r, el, invalid, err := in.applyRecords(ctx, p.chk.apply)
		if err != nil {
			return total, elapsed, err
		}
		if invalid != nil {
			p.rej = reject(ReasonRows, "the store refused a record: %v", invalid)
			refused = append(refused, p)
			continue
		}
		total.Applied += r.Applied
		total.Skipped += r.Skipped
		total.Subjects = append(total.Subjects, r.Subjects...)
		elapsed += el
		kept = append(kept, p)
	}
	if len(refused) > 0 {
		if err := in.writeDeadLetters(ctx, refused); err != nil {
			return total, elapsed, err
		}
	}
	g.accepted = kept
	return total, elapsed, nil
}

// retry runs fn until it succeeds, with exponential backoff between
// attempts. Each attempt runs to completion even if ctx is cancelled
// meanwhile; retry gives up (returning ctx's error) only between attempts.
func (in *Ingester) retry(ctx context.Context, op string, fn func(context.Context) error) error {
	backoff := in.cfg.MinBackoff
	for failures := 0; ; failures++ {
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), attemptTimeout)
		err := fn(actx)
		cancel()
		if err == nil {
			if failures > 0 {
				in.stats.recovered()
				in.cfg.Logger.InfoContext(ctx, "ingest: recovered", "op", op, "failed_attempts", failures)
			}
			return nil
		}
		in.metrics.storeErrors.WithLabelValues(op).Inc()
		in.stats.failed(fmt.Errorf("%s: %w", op, err), time.Now())
		in.cfg.Logger.ErrorContext(ctx, "ingest: write failed; retrying without committing", "op", op, "err", err, "backoff", backoff)
		if !sleep(ctx, backoff) {
			return ctx.Err()
		}
		backoff = min(2*backoff, in.cfg.MaxBackoff)
	}
}

// sleep waits d or until ctx is done; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
