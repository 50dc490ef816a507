package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tongban/tongban/agent/config"
	"github.com/tongban/tongban/agent/hubclient"
	"github.com/tongban/tongban/agent/pipeline"
	"github.com/tongban/tongban/connectors"
	"github.com/tongban/tongban/connectors/plugin"
	"github.com/tongban/tongban/schemas"
	"github.com/tongban/tongban/wire"
)

// Live lookups (请求响应). For the resources the catalog marks live, the
// agent answers lookups by key from its own database: it long-polls the hub
// for the lookups queued for its department (only outbound HTTP, like every
// other call of the front-end processor), runs the connector's
// parameterised primary-key lookup (Connector.Lookup: bound parameters,
// never SQL from the request) and posts the row back as the JSON object of
// the catalog fields, with values as the hub stores them.
const (
	// DefaultLivePollWait is how long one poll waits at the hub for work;
	// it must stay below the HTTP client's timeout (30 s by default).
	DefaultLivePollWait = 20 * time.Second
	livePollMax         = 10               // lookups taken by one poll
	liveWorkers         = 4                // lookups run at once at the source
	livePosts           = 16               // answers being posted to the hub at once
	liveLookupTimeout   = 30 * time.Second // bound of one lookup at the source
	liveAnswerAttempts  = 3
	maxLiveErrorRunes   = 1000 // the hub's limit on an answer's error
)

// liveHub is what the responder needs of the hub client.
type liveHub interface {
	Poll(ctx context.Context, agentID string, resources []string, max int, wait time.Duration) ([]hubclient.LiveRequest, error)
	Answer(ctx context.Context, answers []hubclient.LiveAnswer) error
}

// liveMetrics are the responder's metrics on the agent's registry.
type liveMetrics struct {
	requests   *prometheus.CounterVec   // by resource and result
	seconds    *prometheus.HistogramVec // by resource
	pollErrors prometheus.Counter
}

func newLiveMetrics(reg *prometheus.Registry) *liveMetrics {
	m := &liveMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "tongban", Subsystem: "agent", Name: "live_requests_total",
			Help: "Live lookups answered, by resource and result (found, not_found, error, refused)."}, []string{"resource", "result"}),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "tongban", Subsystem: "agent", Name: "live_lookup_seconds",
			Help: "Time to read one live lookup from the source.", Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12)}, []string{"resource"}),
		pollErrors: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "tongban", Subsystem: "agent", Name: "live_poll_errors_total",
			Help: "Failed polls of the hub for live lookups and failed answer posts (retried with a backoff)."}),
	}
	reg.MustRegister(m.requests, m.seconds, m.pollErrors)
	return m
}

// liveSource is one resource the agent answers live.
type liveSource struct {
	rc     config.Resource
	src    connectors.Source
	fields []schemas.Field

	mu   sync.Mutex
	conn connectors.Connector // started on the first lookup
}

// responder polls the hub and answers live lookups.
type responder struct {
	hub      liveHub
	agentID  string
	log      *slog.Logger
	m        *liveMetrics
	served   map[string]*liveSource
	connect  func(rc config.Resource) (connectors.Connector, error)
	wait     time.Duration
	retryMin time.Duration
	retryMax time.Duration
	now      func() time.Time
}

// liveSources picks the configured resources the catalog marks live and
// the configuration does not opt out of (live: false).
func liveSources(file string, rcs []config.Resource, defs []hubclient.Definition) (map[string]*liveSource, error) {
	out := map[string]*liveSource{}
	for i, rc := range rcs {
		if i >= len(defs) || !defs[i].Resource.Live || !rc.Live {
			continue
		}
		src, err := pipeline.BuildSource(file, rc, defs[i], 1)
		if err != nil {
			return nil, err
		}
		out[rc.Code] = &liveSource{rc: rc, src: src, fields: defs[i].Resource.Schema.Fields}
	}
	return out, nil
}

// newResponder returns the agent's responder, or nil when no resource is
// live.
func (a *Agent) newResponder(defs []hubclient.Definition) *responder {
	served, err := liveSources(a.cfg.File, a.cfg.Resources, defs)
	if err != nil {
		a.log.Error("live lookups disabled: the configuration does not fit the catalog", "error", err)
		return nil
	}
	if len(served) == 0 {
		return nil
	}
	wait := a.opts.LivePollWait
	if wait <= 0 {
		wait = DefaultLivePollWait
	}
	return &responder{
		hub: a.hub, agentID: a.cfg.AgentID, log: a.log.With("part", "live"), m: a.live, served: served,
		wait: wait, retryMin: a.opts.RetryMin, retryMax: a.opts.RetryMax, now: time.Now,
		connect: func(rc config.Resource) (connectors.Connector, error) {
			return plugin.NewSupervisor(plugin.Config{
				Name:   rc.ConnectorName() + " (live)",
				Cmd:    func() *exec.Cmd { return a.opts.ConnectorCommand(rc) },
				Logger: a.log.With("resource", rc.Code, "part", "live"),
				OnRestart: func(error) {
					a.m.ConnectorRestarts.WithLabelValues(rc.Code).Inc()
				},
			})
		},
	}
}

// run polls until ctx ends, backing off while the hub is unreachable, then
// lets the lookups in flight finish and closes the connectors.
func (r *responder) run(ctx context.Context) {
	codes := make([]string, 0, len(r.served))
	for c := range r.served {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	r.log.Info("answering live lookups", "resources", codes, "poll_wait", r.wait)
	var wg sync.WaitGroup
	defer func() {
		wg.Wait()
		for _, ls := range r.served {
			ls.mu.Lock()
			if ls.conn != nil {
				_ = ls.conn.Close()
			}
			ls.mu.Unlock()
		}
	}()
	// sem bounds the lookups at the department's database; posts bounds
	// the answers on their way to the hub, which hold no database slot.
	sem := make(chan struct{}, liveWorkers)
	posts := make(chan struct{}, livePosts)
	backoff := r.retryMin
	for ctx.Err() == nil {
		reqs, err := r.hub.Poll(ctx, r.agentID, codes, livePollMax, r.wait)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			r.m.pollErrors.Inc()
			if hubclient.IsPermanent(err) {
				// A hub without live routes (404) or refusing this
				// token: asking again soon would not change it.
				backoff = r.retryMax
			}
			r.log.Warn("polling the hub for live lookups failed; retrying", "error", err, "retry_in", backoff)
			if !sleepCtx(ctx, backoff) {
				return
			}
			backoff = min(backoff*2, r.retryMax)
			continue
		}
		backoff = r.retryMin
		for _, q := range reqs {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				a := r.answer(ctx, q)
				<-sem
				select {
				case posts <- struct{}{}:
				case <-ctx.Done():
					return
				}
				defer func() { <-posts }()
				r.post(ctx, a)
			}()
		}
	}
}

// post sends one answer, retrying briefly: the hub's caller is waiting.
func (r *responder) post(ctx context.Context, a hubclient.LiveAnswer) {
	wait := 200 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := r.hub.Answer(ctx, []hubclient.LiveAnswer{a})
		if err == nil || ctx.Err() != nil {
			return
		}
		r.m.pollErrors.Inc()
		if hubclient.IsPermanent(err) || attempt == liveAnswerAttempts {
			r.log.Error("the hub did not take a live answer", "id", a.ID, "error", err)
			return
		}
		if !sleepCtx(ctx, wait) {
			return
		}
		wait *= 2
	}
}

// answer looks one request up; every failure becomes the answer's error.
func (r *responder) answer(ctx context.Context, q hubclient.LiveRequest) hubclient.LiveAnswer {
	start := time.Now()
	a, result := r.lookup(ctx, q)
	a.ID = q.ID
	if a.Error != "" {
		a.Error = clipError(a.Error)
		r.log.Warn("live lookup failed", "resource", q.Resource, "id", q.ID, "error", a.Error)
	}
	code := q.Resource
	if _, ok := r.served[code]; !ok {
		code = "other" // keep the label set bounded
	}
	r.m.requests.WithLabelValues(code, result).Inc()
	if result != "refused" {
		r.m.seconds.WithLabelValues(code).Observe(time.Since(start).Seconds())
	}
	return a
}

func (r *responder) lookup(ctx context.Context, q hubclient.LiveRequest) (hubclient.LiveAnswer, string) {
	ls, ok := r.served[q.Resource]
	if !ok {
		return hubclient.LiveAnswer{Error: fmt.Sprintf("资源 %s 不由本代理实时提供 / resource %s is not served live by this agent", q.Resource, q.Resource)}, "refused"
	}
	if len(q.Key) != len(ls.src.PrimaryKey) {
		return hubclient.LiveAnswer{Error: fmt.Sprintf("主键有 %d 个值，资源 %s 的主键 %v 需要 %d 个 / the key has %d values; the primary key %v of resource %s has %d",
			len(q.Key), q.Resource, ls.src.PrimaryKey, len(ls.src.PrimaryKey), len(q.Key), ls.src.PrimaryKey, q.Resource, len(ls.src.PrimaryKey))}, "refused"
	}
	conn, err := r.conn(ls)
	if err != nil {
		return hubclient.LiveAnswer{Error: fmt.Sprintf("连接器未启动 / connector not started: %v", err)}, "error"
	}
	lctx, cancel := context.WithTimeout(ctx, liveLookupTimeout)
	defer cancel()
	observed := r.now().UnixMicro()
	chunk, err := conn.Lookup(lctx, ls.src, q.Key)
	if err != nil {
		return hubclient.LiveAnswer{Error: fmt.Sprintf("查询业务库失败 / lookup at the source failed: %v", err)}, "error"
	}
	data, version, found, err := rowJSON(chunk, ls.fields)
	switch {
	case err != nil:
		return hubclient.LiveAnswer{Error: fmt.Sprintf("连接器返回的行无法读取 / the connector's row is unreadable: %v", err)}, "error"
	case !found:
		return hubclient.LiveAnswer{Found: false, Version: observed}, "not_found"
	}
	return hubclient.LiveAnswer{Found: true, Data: data, Version: version}, "found"
}

// conn returns the resource's connector, starting it on first use (and
// again after a failed start).
func (r *responder) conn(ls *liveSource) (connectors.Connector, error) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.conn != nil {
		return ls.conn, nil
	}
	c, err := r.connect(ls.rc)
	if err != nil {
		return nil, err
	}
	ls.conn = c
	return c, nil
}

// rowJSON turns a lookup's chunk into the JSON object of the catalog
// fields, in catalog order, with the values as the hub stores them
// (wire.Value: decimals as text, dates 2006-01-02, timestamps
// 2006-01-02T15:04:05.000000, bytes base64), and the row's _version.
func rowJSON(ch connectors.Chunk, fields []schemas.Field) (json.RawMessage, int64, bool, error) {
	rows := 0
	for _, b := range ch.Batches {
		rows += b.Rows
	}
	if rows == 0 {
		return nil, 0, false, nil
	}
	if rows > 1 {
		return nil, 0, false, fmt.Errorf("a lookup by primary key returned %d rows", rows)
	}
	for _, b := range ch.Batches {
		if b.Rows == 0 {
			continue
		}
		rec, err := wire.DecodeRecord(b.IPC)
		if err != nil {
			return nil, 0, false, err
		}
		defer rec.Release()
		if rec.NumRows() != 1 {
			return nil, 0, false, fmt.Errorf("batch says 1 row, holds %d", rec.NumRows())
		}
		sch := rec.Schema()
		vi := sch.FieldIndices(schemas.VersionColumn)
		if len(vi) != 1 {
			return nil, 0, false, fmt.Errorf("batch has no %s column", schemas.VersionColumn)
		}
		version, ok := wire.Value(rec.Column(vi[0]), 0).(int64)
		if !ok {
			return nil, 0, false, fmt.Errorf("column %s is not int64", schemas.VersionColumn)
		}
		var buf bytes.Buffer
		buf.WriteByte('{')
		for j, f := range fields {
			idx := sch.FieldIndices(f.Name)
			if len(idx) != 1 {
				return nil, 0, false, fmt.Errorf("batch has no column %q", f.Name)
			}
			if j > 0 {
				buf.WriteByte(',')
			}
			name, _ := json.Marshal(f.Name)
			buf.Write(name)
			buf.WriteByte(':')
			v := wire.Value(rec.Column(idx[0]), 0)
			if s, ok := v.(string); ok && !utf8.ValidString(s) {
				return nil, 0, false, fmt.Errorf("field %q is not valid UTF-8", f.Name)
			}
			vb, err := json.Marshal(v)
			if err != nil {
				return nil, 0, false, fmt.Errorf("field %q: %w", f.Name, err)
			}
			buf.Write(vb)
		}
		buf.WriteByte('}')
		return buf.Bytes(), version, true, nil
	}
	return nil, 0, false, errors.New("no batch with the row")
}

// clipError keeps an error within the hub's limit, as valid UTF-8.
func clipError(s string) string {
	s = strings.ToValidUTF8(s, "?")
	if utf8.RuneCountInString(s) <= maxLiveErrorRunes {
		return s
	}
	r := []rune(s)
	return string(r[:maxLiveErrorRunes-1]) + "…"
}
