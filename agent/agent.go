// Package agent is the front-end-processor agent (前置机代理): it registers
// with the hub, gets the catalog definitions of its resources, runs one
// pipeline per resource (snapshot, incremental, reconcile) from a connector
// plugin to Kafka, answers live lookups of the resources the catalog marks
// live (see live.go), sends heartbeats and serves Prometheus metrics. It links
// no hub code: it speaks to the hub only over its HTTP API.
package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/tongban/tongban/agent/checkpoint"
	"github.com/tongban/tongban/agent/config"
	"github.com/tongban/tongban/agent/hubclient"
	"github.com/tongban/tongban/agent/metrics"
	"github.com/tongban/tongban/agent/pipeline"
	"github.com/tongban/tongban/connectors/plugin"
	"github.com/tongban/tongban/topics"
	"github.com/tongban/tongban/wire"
)

// LoadConfig reads and validates an agent configuration file.
func LoadConfig(path string) (*config.Config, error) { return config.Load(path) }

// Options are the parts of an agent that are not configuration.
type Options struct {
	// Logger receives the agent's logs; nil means slog.Default().
	Logger *slog.Logger
	// Version is reported to the hub; empty means "dev".
	Version string
	// ConnectorCommand returns a fresh command that runs a resource's
	// connector plugin. Nil means the default: a connector_path binary as
	// it is, a built-in connector as this executable re-run as
	// `<exe> connector <name>`.
	ConnectorCommand func(r config.Resource) *exec.Cmd
	// HTTPClient talks to the hub; nil means one with a 30 s timeout.
	HTTPClient *http.Client
	// RetryMin and RetryMax bound the waits between attempts to reach the
	// hub, read the topic and start connectors; zero means 1 s and 30 s.
	RetryMin, RetryMax time.Duration
	// Pipeline, if set, adjusts each pipeline's configuration before it is
	// built (tests shorten backoffs with it).
	Pipeline func(*pipeline.Config)
	// LivePollWait is how long one poll for live lookups waits at the hub;
	// zero means DefaultLivePollWait. Keep it below HTTPClient's timeout.
	LivePollWait time.Duration
}

// Agent runs one agent configuration.
type Agent struct {
	cfg  *config.Config
	opts Options
	log  *slog.Logger
	m    *metrics.Metrics
	live *liveMetrics
	hub  *hubclient.Client
	cps  *checkpoint.Store

	metricsLn net.Listener

	notify chan struct{} // a status changed: heartbeat soon

	mu         sync.Mutex
	resources  []*resourceState
	lastError  map[string]string // agent-level errors by origin
	registered bool
	defs       []hubclient.Definition
}

// resourceState is one resource as the agent sees it.
type resourceState struct {
	code string
	mu   sync.Mutex
	p    *pipeline.Pipeline // nil until the pipeline is built
	err  string             // why it is not running
}

// New checks what can be checked without the network (state directory,
// metrics address) and returns an agent ready to Run.
func New(cfg *config.Config, opts Options) (*Agent, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	if opts.RetryMin <= 0 {
		opts.RetryMin = time.Second
	}
	if opts.RetryMax <= 0 {
		opts.RetryMax = 30 * time.Second
	}
	if opts.ConnectorCommand == nil {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("agent: find own executable to run built-in connectors: %w", err)
		}
		opts.ConnectorCommand = func(r config.Resource) *exec.Cmd {
			if r.ConnectorPath != "" {
				return exec.Command(r.ConnectorPath)
			}
			return exec.Command(exe, "connector", r.Connector)
		}
	}
	hub, err := hubclient.New(cfg.Hub.URL, cfg.Hub.Token, opts.HTTPClient)
	if err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	cps, err := checkpoint.Open(cfg.StateDir)
	if err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	a := &Agent{
		cfg: cfg, opts: opts, m: metrics.New(), hub: hub, cps: cps,
		log:       opts.Logger.With("agent_id", cfg.AgentID),
		notify:    make(chan struct{}, 1),
		lastError: make(map[string]string),
	}
	a.live = newLiveMetrics(a.m.Registry)
	for _, r := range cfg.Resources {
		a.resources = append(a.resources, &resourceState{code: r.Code})
	}
	if cfg.MetricsListen != "" {
		ln, err := net.Listen("tcp", cfg.MetricsListen)
		if err != nil {
			return nil, fmt.Errorf("agent: metrics_listen %s: %w", cfg.MetricsListen, err)
		}
		a.metricsLn = ln
	}
	return a, nil
}

// MetricsAddr is the address /metrics is served on ("" when disabled).
func (a *Agent) MetricsAddr() string {
	if a.metricsLn == nil {
		return ""
	}
	return a.metricsLn.Addr().String()
}

// Metrics returns the agent's metrics.
func (a *Agent) Metrics() *metrics.Metrics { return a.m }

// Run runs the agent until ctx is done, then stops reading, lets each
// pipeline finish the chunk it is writing, and returns nil. It returns an
// error only when the agent cannot work at all: the hub refuses the
// registration (bad token, resource not of this department) or the metrics
// server fails. An unreachable hub or Kafka is waited for, never fatal.
func (a *Agent) Run(ctx context.Context) error {
	a.log.Info("agent starting", "version", a.opts.Version, "dept", a.cfg.Dept, "hub", a.cfg.Hub.URL,
		"kafka", a.cfg.Kafka.Brokers, "topic", a.cfg.Kafka.Topic, "state_dir", a.cfg.StateDir,
		"metrics", a.MetricsAddr(), "resources", len(a.cfg.Resources))
	for _, r := range a.cfg.Resources {
		a.log.Info("resource configured", "resource", r) // LogValue hides the DSN's password
	}
	var bg sync.WaitGroup
	srvErr := make(chan error, 1)
	if a.metricsLn != nil {
		srv := &http.Server{Handler: a.mux(), ReadHeaderTimeout: 10 * time.Second}
		bg.Add(1)
		go func() {
			defer bg.Done()
			if err := srv.Serve(a.metricsLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
				srvErr <- fmt.Errorf("metrics server: %w", err)
			}
		}()
		defer func() {
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			_ = srv.Shutdown(sctx)
			bg.Wait()
		}()
	}

	defs, err := a.register(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}

	hbCtx, stopHeartbeats := context.WithCancel(context.WithoutCancel(ctx))
	var hb sync.WaitGroup
	hb.Add(1)
	go func() { defer hb.Done(); a.heartbeats(hbCtx) }()
	defer func() {
		stopHeartbeats()
		hb.Wait()
		a.finalHeartbeat(ctx)
	}()

	// Live lookups need the hub and the source database, not Kafka: the
	// responder starts before the wait for the topic.
	if rsp := a.newResponder(defs); rsp != nil {
		liveCtx, stopLive := context.WithCancel(ctx)
		var lw sync.WaitGroup
		lw.Add(1)
		go func() { defer lw.Done(); rsp.run(liveCtx) }()
		defer func() { stopLive(); lw.Wait() }()
	}

	partitions, ok := a.partitions(ctx)
	if !ok {
		return nil
	}
	w := a.newWriter()
	defer func() {
		if err := w.Close(); err != nil {
			a.log.Warn("closing the Kafka writer", "error", err)
		}
	}()

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for i, rc := range a.cfg.Resources {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.runResource(runCtx, a.resources[i], rc, defs[i], partitions, w)
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case err := <-srvErr:
		a.log.Error("stopping", "error", err)
		cancel()
		<-done
		return err
	}
	a.log.Info("agent stopped")
	return nil
}

func (a *Agent) mux() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", a.m.Handler())
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	return mux
}

// newWriter is the one Kafka writer of the agent.
func (a *Agent) newWriter() *kafka.Writer {
	return NewWriter(a.cfg.Kafka.Brokers, a.cfg.Kafka.Topic, a.cfg.Kafka.WriteTimeout)
}

// NewWriter is the agent's Kafka writer: synchronous writes that return after
// every message is acknowledged by all in-sync replicas, sent after at most
// 2 ms of batching. A message is a whole Arrow batch of rows, and one write
// carries one chunk's batches (a few per partition), so a produce request
// holds at most 64 messages: kafka-go allocates a request's message slice at
// BatchSize up front, and 10,000 cost megabytes zeroed per partition and write.
func NewWriter(brokers []string, topic string, timeout time.Duration) *kafka.Writer {
	return &kafka.Writer{
		Addr:                   kafka.TCP(brokers...),
		Topic:                  topic,
		Balancer:               wire.Balancer{},
		RequiredAcks:           kafka.RequireAll,
		BatchTimeout:           2 * time.Millisecond,
		BatchSize:              64,
		BatchBytes:             64 << 20,
		MaxAttempts:            3,
		WriteBackoffMin:        50 * time.Millisecond,
		WriteBackoffMax:        500 * time.Millisecond,
		WriteTimeout:           timeout,
		ReadTimeout:            timeout,
		AllowAutoTopicCreation: false,
	}
}

// partitions reads the topic's partition count, waiting while Kafka is
// unreachable; false when ctx ended first.
func (a *Agent) partitions(ctx context.Context) (int, bool) {
	wait := a.opts.RetryMin
	for {
		rctx, cancel := context.WithTimeout(ctx, a.cfg.Kafka.WriteTimeout)
		n, err := topics.Partitions(rctx, a.cfg.Kafka.Brokers, a.cfg.Kafka.Topic)
		cancel()
		if err == nil {
			a.clearError("kafka")
			a.log.Info("Kafka topic found", "topic", a.cfg.Kafka.Topic, "partitions", n)
			return n, true
		}
		if ctx.Err() != nil {
			return 0, false
		}
		a.setError("kafka", fmt.Errorf("read the partitions of topic %s: %w", a.cfg.Kafka.Topic, err))
		a.log.Error("Kafka unreachable or topic missing; waiting", "topic", a.cfg.Kafka.Topic, "error", err, "retry_in", wait)
		if !sleepCtx(ctx, wait) {
			return 0, false
		}
		wait = min(wait*2, a.opts.RetryMax)
	}
}

// runResource starts the resource's connector and runs its pipeline.
func (a *Agent) runResource(ctx context.Context, st *resourceState, rc config.Resource, def hubclient.Definition, partitions int, w pipeline.Writer) {
	log := a.log.With("resource", rc.Code)
	var sup *plugin.Supervisor
	wait := a.opts.RetryMin
	for {
		s, err := plugin.NewSupervisor(plugin.Config{
			Name:   rc.ConnectorName(),
			Cmd:    func() *exec.Cmd { return a.opts.ConnectorCommand(rc) },
			Logger: log,
			OnRestart: func(reason error) {
				a.m.ConnectorRestarts.WithLabelValues(rc.Code).Inc()
				a.signal()
			},
		})
		if err == nil {
			sup = s
			st.setErr("")
			break
		}
		st.setErr(fmt.Sprintf("connector: %v", err))
		a.signal()
		a.m.ConnectorErrors.WithLabelValues(rc.Code).Inc()
		log.Error("connector does not start; retrying", "connector", rc.ConnectorName(), "error", err, "retry_in", wait)
		if !sleepCtx(ctx, wait) {
			return
		}
		wait = min(wait*2, a.opts.RetryMax)
	}
	defer sup.Close()

	pc := pipeline.Config{
		File: a.cfg.File, Resource: rc, Definition: def, Dept: a.cfg.Dept, Partitions: partitions,
		QueueChunks: a.cfg.QueueChunks, WriteTimeout: a.cfg.Kafka.WriteTimeout, TempDir: a.cfg.StateDir,
		Connector: sup, Writer: w, Hub: a.hub, Checkpoints: a.cps, Metrics: a.m, Logger: a.log,
		Notify: a.signal,
	}
	if a.opts.Pipeline != nil {
		a.opts.Pipeline(&pc)
	}
	p, err := pipeline.New(pc)
	if err != nil {
		st.setErr(err.Error())
		a.m.SetPhase(rc.Code, pipeline.PhaseError, pipeline.PhaseError)
		a.signal()
		log.Error("resource not started: its configuration does not fit the catalog", "error", err)
		return
	}
	st.mu.Lock()
	st.p = p
	st.mu.Unlock()
	if err := p.Run(ctx); err != nil {
		log.Error("resource stopped", "error", err)
	}
}

func (st *resourceState) setErr(msg string) {
	st.mu.Lock()
	st.err = msg
	st.mu.Unlock()
}

// status is the resource's part of a heartbeat.
func (st *resourceState) status() hubclient.ResourceStatus {
	st.mu.Lock()
	p, msg := st.p, st.err
	st.mu.Unlock()
	if p != nil {
		return p.Status()
	}
	phase := "starting"
	if msg != "" {
		phase = pipeline.PhaseError
	}
	return hubclient.ResourceStatus{Code: st.code, Phase: phase, LastError: msg}
}

// signal asks for a prompt heartbeat.
func (a *Agent) signal() {
	select {
	case a.notify <- struct{}{}:
	default:
	}
}

func (a *Agent) setError(origin string, err error) {
	a.mu.Lock()
	a.lastError[origin] = fmt.Sprintf("%s: %v", origin, err)
	a.mu.Unlock()
	a.signal()
}

func (a *Agent) clearError(origin string) {
	a.mu.Lock()
	delete(a.lastError, origin)
	a.mu.Unlock()
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
