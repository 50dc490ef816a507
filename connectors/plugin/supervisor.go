package plugin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"sync"
	"time"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/tongban/tongban/connectors"
)

// Defaults of Config.
const (
	DefaultMinBackoff   = 200 * time.Millisecond
	DefaultMaxBackoff   = 30 * time.Second
	DefaultStartTimeout = 30 * time.Second
)

// How often a process is checked for having died while idle, and how long a
// broken connection waits for its process to be seen exiting.
const (
	watchInterval = 250 * time.Millisecond
	exitWait      = 2 * time.Second
)

// ErrClosed is returned by calls on a closed Supervisor.
var ErrClosed = errors.New("connector supervisor is closed")

// Config says how to run one connector plugin.
type Config struct {
	// Name names the connector in logs and errors, e.g. "mysql".
	Name string
	// Cmd returns a fresh, unstarted command for the plugin process; it is
	// called for every (re)start. For a built-in connector it is
	// exec.Command(os.Executable(), "connector", name).
	Cmd func() *exec.Cmd
	// Logger receives the supervisor's reports and the plugin's own logs;
	// nil means slog.Default().
	Logger *slog.Logger
	// OnRestart, if set, is called each time the plugin process is found
	// dead (crash, kill, panic), with the reason; a fresh process is
	// started on the next call.
	OnRestart func(reason error)
	// MinBackoff and MaxBackoff bound the wait before restarting a process
	// that died: MinBackoff after one death, doubling with every death in a
	// row up to MaxBackoff; a successful call resets it. Zero means the
	// defaults.
	MinBackoff, MaxBackoff time.Duration
	// StartTimeout bounds the plugin's start and handshake; zero means
	// DefaultStartTimeout.
	StartTimeout time.Duration
}

// Supervisor is a connectors.Connector served by a plugin process that it
// starts, watches and restarts. A process that dies is reported (an error
// log and Config.OnRestart) and replaced on the next call, after a capped
// backoff; the host process is never affected. A call cut by the death
// returns an error and is not re-run: the caller resumes from its own
// checkpoint. Its methods are safe for concurrent use.
type Supervisor struct {
	cfg Config
	log *slog.Logger

	starting chan struct{} // held while a process is being started

	mu        sync.Mutex
	cur       *process
	deaths    int // deaths (and failed starts) in a row
	lastDeath time.Time
	closed    bool
}

// process is one running plugin process.
type process struct {
	client *goplugin.Client
	conn   *client
	cmd    *exec.Cmd
	pid    int
	done   chan struct{} // closed when the supervisor lets go of the process

	retireOnce sync.Once
	once       sync.Once
	reason     error
}

var _ connectors.Connector = (*Supervisor)(nil)

// NewSupervisor checks the config and starts the plugin process, so a
// connector that cannot start is reported at once.
func NewSupervisor(cfg Config) (*Supervisor, error) {
	if cfg.Name == "" {
		return nil, errors.New("connector supervisor: config has no name")
	}
	if cfg.Cmd == nil {
		return nil, fmt.Errorf("connector %s: config has no command", cfg.Name)
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = DefaultMinBackoff
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = cfg.MinBackoff
	}
	if cfg.StartTimeout <= 0 {
		cfg.StartTimeout = DefaultStartTimeout
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	s := &Supervisor{cfg: cfg, log: log.With("connector", cfg.Name), starting: make(chan struct{}, 1)}
	if _, err := s.acquire(context.Background()); err != nil {
		return nil, err
	}
	return s, nil
}

// Describe implements connectors.Connector.
func (s *Supervisor) Describe(ctx context.Context, src connectors.Source) ([]connectors.SourceColumn, error) {
	var cols []connectors.SourceColumn
	err := s.call(ctx, "Describe", func(c *client) (err error) {
		cols, err = c.Describe(ctx, src)
		return err
	})
	return cols, err
}

// Snapshot implements connectors.Connector.
func (s *Supervisor) Snapshot(ctx context.Context, src connectors.Source, after []string, emit func(connectors.Chunk) error) error {
	return s.call(ctx, "Snapshot", func(c *client) error { return c.Snapshot(ctx, src, after, emit) })
}

// Changes implements connectors.Connector.
func (s *Supervisor) Changes(ctx context.Context, src connectors.Source, since string, emit func(connectors.Chunk) error) error {
	return s.call(ctx, "Changes", func(c *client) error { return c.Changes(ctx, src, since, emit) })
}

// KeySet implements connectors.Connector.
func (s *Supervisor) KeySet(ctx context.Context, src connectors.Source, emit func(keys [][]string) error) error {
	return s.call(ctx, "KeySet", func(c *client) error { return c.KeySet(ctx, src, emit) })
}

// Lookup implements connectors.Connector.
func (s *Supervisor) Lookup(ctx context.Context, src connectors.Source, key []string) (connectors.Chunk, error) {
	var ch connectors.Chunk
	err := s.call(ctx, "Lookup", func(c *client) (err error) {
		ch, err = c.Lookup(ctx, src, key)
		return err
	})
	return ch, err
}

// Close stops the plugin process (gracefully: the plugin closes its
// connector) and makes every later call fail with ErrClosed.
func (s *Supervisor) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	p := s.cur
	s.cur = nil
	s.mu.Unlock()
	if p != nil {
		p.retire()
		p.client.Kill()
	}
	return nil
}

// call runs one method on a live process and sorts out its error: the
// caller's emit error and context errors as they are, a dead process as a
// reported crash, anything else as the connector's own error message.
func (s *Supervisor) call(ctx context.Context, method string, f func(*client) error) error {
	p, err := s.acquire(ctx)
	if err != nil {
		return err
	}
	err = f(p.conn)
	if err == nil {
		s.mu.Lock()
		s.deaths = 0
		s.mu.Unlock()
		return nil
	}
	var ee emitError
	if errors.As(err, &ee) {
		return ee.err
	}
	if ctx.Err() != nil {
		return fmt.Errorf("connector %s: %s: %w", s.cfg.Name, method, ctx.Err())
	}
	st := status.Convert(err)
	if st.Code() == codes.Unavailable || p.client.Exited() {
		reason := s.lost(p, err)
		return fmt.Errorf("connector %s: %s was cut off, the plugin process died and restarts on the next call: %w",
			s.cfg.Name, method, reason)
	}
	return fmt.Errorf("connector %s: %s", s.cfg.Name, st.Message())
}

// acquire returns the live process, starting one (after the backoff) when
// there is none or the current one has died.
func (s *Supervisor) acquire(ctx context.Context) (*process, error) {
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return nil, fmt.Errorf("connector %s: %w", s.cfg.Name, ErrClosed)
		}
		p := s.cur
		s.mu.Unlock()
		if p != nil {
			if !p.client.Exited() {
				return p, nil
			}
			s.lost(p, nil)
			continue
		}
		select {
		case s.starting <- struct{}{}:
		case <-ctx.Done():
			return nil, fmt.Errorf("connector %s: waiting for the plugin to start: %w", s.cfg.Name, ctx.Err())
		}
		p, err := s.startLocked(ctx)
		<-s.starting
		if err != nil || p != nil {
			return p, err
		}
	}
}

// startLocked starts a process unless another caller did meanwhile (then it
// returns nil, nil). The caller holds s.starting.
func (s *Supervisor) startLocked(ctx context.Context) (*process, error) {
	s.mu.Lock()
	if s.cur != nil || s.closed {
		s.mu.Unlock()
		return nil, nil
	}
	wait := time.Until(s.lastDeath.Add(backoff(s.deaths, s.cfg.MinBackoff, s.cfg.MaxBackoff)))
	s.mu.Unlock()
	if wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("connector %s: waiting %s to restart the plugin: %w", s.cfg.Name, wait.Round(time.Millisecond), ctx.Err())
		}
	}
	p, err := s.start()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.deaths++
		s.lastDeath = time.Now()
		s.log.Error("connector plugin failed to start", "error", err)
		return nil, err
	}
	if s.closed {
		p.retire()
		go p.client.Kill()
		return nil, fmt.Errorf("connector %s: %w", s.cfg.Name, ErrClosed)
	}
	s.cur = p
	go s.watch(p)
	return p, nil
}

// backoff is the wait before a restart after deaths deaths in a row.
func backoff(deaths int, lo, hi time.Duration) time.Duration {
	if deaths <= 0 {
		return 0
	}
	d := lo
	for i := 1; i < deaths && d < hi; i++ {
		d *= 2
	}
	return min(d, hi)
}

// start launches a plugin process and completes the handshake.
func (s *Supervisor) start() (*process, error) {
	cmd := s.cfg.Cmd()
	if cmd == nil {
		return nil, fmt.Errorf("connector %s: the command function returned nil", s.cfg.Name)
	}
	setParentDeathSignal(cmd)
	pc := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig:  Handshake(),
		Plugins:          pluginSet(nil),
		Cmd:              cmd,
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		Logger:           newHCLogAdapter(s.log, "plugin"),
		StartTimeout:     s.cfg.StartTimeout,
		SyncStdout:       &lineLogger{log: func(l string) { s.log.Info(l, "stream", "stdout") }},
		SyncStderr:       &lineLogger{log: func(l string) { s.log.Warn(l, "stream", "stderr") }},
		GRPCDialOptions: []grpc.DialOption{grpc.WithDefaultCallOptions(
			grpc.MaxCallRecvMsgSize(MaxMessageBytes), grpc.MaxCallSendMsgSize(MaxMessageBytes))},
	})
	rpc, err := pc.Client()
	if err != nil {
		pc.Kill()
		return nil, fmt.Errorf("connector %s: start plugin %s: %w", s.cfg.Name, cmd.Path, err)
	}
	raw, err := rpc.Dispense(Name)
	if err != nil {
		pc.Kill()
		return nil, fmt.Errorf("connector %s: plugin %s: %w", s.cfg.Name, cmd.Path, err)
	}
	conn, ok := raw.(*client)
	if !ok {
		pc.Kill()
		return nil, fmt.Errorf("connector %s: plugin %s served a %T", s.cfg.Name, cmd.Path, raw)
	}
	p := &process{client: pc, conn: conn, cmd: cmd, done: make(chan struct{})}
	if cmd.Process != nil {
		p.pid = cmd.Process.Pid
	}
	s.log.Info("connector plugin started", "pid", p.pid)
	return p, nil
}

// watch reports the process's death while no call is running.
func (s *Supervisor) watch(p *process) {
	t := time.NewTicker(watchInterval)
	defer t.Stop()
	for {
		select {
		case <-p.done:
			return
		case <-t.C:
			if p.client.Exited() {
				s.lost(p, nil)
				return
			}
		}
	}
}

// lost handles the death of p once: it makes sure the process is gone,
// forgets it, logs the reason and calls OnRestart. Every caller gets the
// same reason.
func (s *Supervisor) lost(p *process, cause error) error {
	p.once.Do(func() {
		exited := waitExited(p.client, exitWait)
		s.mu.Lock()
		intentional := s.closed || isClosed(p.done)
		if s.cur == p {
			s.cur = nil
			s.deaths++
			s.lastDeath = time.Now()
		}
		s.mu.Unlock()
		p.retire()
		p.client.Kill()
		state := "connection lost, process killed"
		if exited && p.cmd.ProcessState != nil {
			state = p.cmd.ProcessState.String()
		}
		p.reason = fmt.Errorf("plugin process %d exited (%s)", p.pid, state)
		if cause != nil {
			p.reason = fmt.Errorf("plugin process %d exited (%s): %w", p.pid, state, cause)
		}
		if intentional {
			return
		}
		s.log.Error("connector plugin process died; restarting it on the next call", "pid", p.pid, "reason", p.reason)
		if s.cfg.OnRestart != nil {
			s.cfg.OnRestart(p.reason)
		}
	})
	return p.reason
}

// retire tells the process's watcher to stop; it is safe to call twice.
func (p *process) retire() {
	p.retireOnce.Do(func() { close(p.done) })
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// waitExited polls until the client has seen its process exit, or the time is up.
func waitExited(c *goplugin.Client, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for !c.Exited() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}
