// Package live routes live lookups (请求响应) of resources marked
// `live: true` in the catalog to the providing department's agent and waits
// for its answer.
//
// Transport: the agent's control connection. The front-end processor only
// makes outbound HTTP calls to the hub (firewall-friendly), so an agent
// long-polls the hub for the lookups queued for its department
// (Router.Poll, GET /api/v1/live/poll) and posts the rows back
// (Router.Complete, POST /api/v1/live/answers). The agent runs only the
// parameterised primary-key lookup its connector declares for the resource;
// the hub sends a resource code and key values, never SQL.
//
// A Router lives in one hub process, in memory: a lookup waits in the
// process that received it and is answered only by an agent polling that
// same process. Several hub instances behind one address therefore need
// sticky routing of /api/v1/live/* per department (or, later, Kafka
// request/reply topics in place of the in-memory queue).
package live

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tongban/tongban/catalog"
)

// Defaults of Config.
const (
	DefaultTimeout      = 10 * time.Second
	DefaultOnlineWindow = 15 * time.Second
	DefaultMaxPending   = 1000
	// MaxPollWait bounds one long poll.
	MaxPollWait = 30 * time.Second
	// MaxPollRequests bounds the requests handed out by one poll.
	MaxPollRequests = 100
	// MaxKeyBytes bounds a lookup's key values together.
	MaxKeyBytes = 1024
)

// Config of a Router.
type Config struct {
	// Catalog, when set, makes Lookup refuse a resource that is not in the
	// catalog, not live, not provided by the department or a key with the
	// wrong number of parts, and Complete refuse (as an agent error) a row
	// whose keys are not exactly the resource's fields.
	Catalog *catalog.Catalog
	// Timeout is used by Lookup when its timeout argument is 0; zero means
	// DefaultTimeout.
	Timeout time.Duration
	// OnlineWindow is how long after its last poll an agent still counts as
	// online (an agent polling right now always does). Agents poll again as
	// soon as a poll returns, so the window only has to cover a round trip
	// and a short retry; zero means DefaultOnlineWindow.
	OnlineWindow time.Duration
	// MaxPending bounds the lookups waiting for one department; more are
	// refused with *BusyError. Zero means DefaultMaxPending.
	MaxPending int
	// Registry receives the metrics; nil means they are not registered.
	Registry prometheus.Registerer
	// Now is the clock of the online window; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Request is one lookup handed to an agent: the resource and its
// primary-key values in the catalog's primary-key order.
type Request struct {
	ID       string   `json:"id"`
	Resource string   `json:"resource"`
	Key      []string `json:"key"`
}

// Answer is an agent's answer to a Request: the row (Found, Data, Version)
// or the reason it could not look it up (Error).
type Answer struct {
	ID      string          `json:"id"`
	Found   bool            `json:"found"`
	Data    json.RawMessage `json:"data,omitempty"`
	Version int64           `json:"version"`
	Error   string          `json:"error,omitempty"`
}

// Result of a lookup. Data is the row as a JSON object of the catalog
// fields with values as the hub stores them (see docs/ARCHITECTURE.md);
// Version is when the agent read it (Unix microseconds).
type Result struct {
	Found   bool            `json:"found"`
	Data    json.RawMessage `json:"data,omitempty"`
	Version int64           `json:"version"`
}

// OfflineError: no agent of the department polled within the online
// window. Lookup returns it at once.
type OfflineError struct{ Dept string }

func (e *OfflineError) Error() string {
	return fmt.Sprintf("部门 %s 的前置机代理不在线，无法实时查询 / the agent of department %s is offline: no live lookup possible", e.Dept, e.Dept)
}

// TimeoutError: the department's agent did not answer within After.
type TimeoutError struct {
	Dept  string
	After time.Duration
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("部门 %s 的前置机代理在 %s 内未答复 / the agent of department %s did not answer within %s", e.Dept, e.After, e.Dept, e.After)
}

// BusyError: too many lookups already wait for the department.
type BusyError struct {
	Dept    string
	Pending int
}

func (e *BusyError) Error() string {
	return fmt.Sprintf("部门 %s 已有 %d 个实时查询在等待，请稍后重试 / %d live lookups already wait for department %s; retry later", e.Dept, e.Pending, e.Pending, e.Dept)
}

// AgentError: the agent answered that it could not look the row up.
type AgentError struct {
	Dept, Resource string
	Message        string // the agent's reason
}

func (e *AgentError) Error() string {
	return fmt.Sprintf("部门 %s 的前置机代理查询资源 %s 失败 / the agent of department %s failed to look up resource %s: %s", e.Dept, e.Resource, e.Dept, e.Resource, e.Message)
}

// RequestError: the lookup itself is wrong (unknown or non-live resource,
// another department's resource, a key of the wrong length).
type RequestError struct {
	Field   string // "resource" or "key"
	Message string
}

func (e *RequestError) Error() string { return e.Message }

// Router queues lookups per department and hands them to that
// department's polling agents. Its methods are safe for concurrent use.
type Router struct {
	cfg Config
	log *slog.Logger
	m   *routerMetrics

	closed    chan struct{} // closed by Close
	closeOnce sync.Once

	mu    sync.Mutex
	depts map[string]*deptState
}

// deptState is one department's queue and agents.
type deptState struct {
	queue   []*pending          // not yet handed to an agent, oldest first
	byID    map[string]*pending // every unanswered lookup (queued or handed out)
	agents  map[string]*agentState
	arrived chan struct{} // closed (and replaced) when lookups are queued
}

type agentState struct {
	polling  int       // polls in progress
	lastSeen time.Time // end of the last poll
	// serves are the resources the agent's last poll asked for; nil: any
	// resource of the department.
	serves map[string]bool
}

func (a *agentState) serve(resource string) bool {
	return a.serves == nil || resource == "" || a.serves[resource]
}

type pending struct {
	req       Request
	delivered bool
	answer    chan Answer // buffered 1
}

// New returns a Router; its metrics are registered on cfg.Registry.
func New(cfg Config) (*Router, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.OnlineWindow <= 0 {
		cfg.OnlineWindow = DefaultOnlineWindow
	}
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = DefaultMaxPending
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	r := &Router{cfg: cfg, log: cfg.Logger, depts: map[string]*deptState{}, closed: make(chan struct{})}
	r.m = newMetrics(r)
	if cfg.Registry != nil {
		if err := r.m.register(cfg.Registry); err != nil {
			return nil, fmt.Errorf("live: register metrics: %w", err)
		}
	}
	return r, nil
}

// Close ends every long poll at once, with no requests, and makes later
// polls return at once: call it when the hub shuts down
// (http.Server.RegisterOnShutdown), so that Shutdown need not wait for the
// polls' wait. Lookups are unaffected; they end with their callers.
func (r *Router) Close() {
	r.closeOnce.Do(func() { close(r.closed) })
}

// Timeout is the default lookup timeout.
func (r *Router) Timeout() time.Duration { return r.cfg.Timeout }

func (r *Router) dept(code string) *deptState {
	d, ok := r.depts[code]
	if !ok {
		d = &deptState{byID: map[string]*pending{}, agents: map[string]*agentState{}, arrived: make(chan struct{})}
		r.depts[code] = d
	}
	return d
}

// onlineLocked counts the department's online agents that serve resource
// ("": any).
func (r *Router) onlineLocked(d *deptState, now time.Time, resource string) int {
	n := 0
	for _, a := range d.agents {
		if a.serve(resource) && (a.polling > 0 || now.Sub(a.lastSeen) <= r.cfg.OnlineWindow) {
			n++
		}
	}
	return n
}

// Online reports how many agents of dept are online now that serve
// resource ("": any resource).
func (r *Router) Online(dept, resource string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	d, ok := r.depts[dept]
	if !ok {
		return 0
	}
	return r.onlineLocked(d, r.cfg.Now(), resource)
}

// checkRequest checks a lookup against the catalog, when there is one.
func (r *Router) checkRequest(dept, resource string, key []string) error {
	if resource == "" {
		return &RequestError{Field: "resource", Message: "资源代码为空 / resource code is empty"}
	}
	if len(key) == 0 {
		return &RequestError{Field: "key", Message: "主键为空 / key is empty"}
	}
	n := 0
	for _, k := range key {
		n += len(k)
	}
	if n > MaxKeyBytes {
		return &RequestError{Field: "key", Message: fmt.Sprintf("主键超过 %d 字节 / the key is longer than %d bytes", MaxKeyBytes, MaxKeyBytes)}
	}
	if r.cfg.Catalog == nil {
		return nil
	}
	res, ok := r.cfg.Catalog.Resource(resource)
	switch {
	case !ok:
		return &RequestError{Field: "resource", Message: fmt.Sprintf("目录中没有资源 %s / resource %s is not in the catalog", resource, resource)}
	case !res.Live:
		return &RequestError{Field: "resource", Message: fmt.Sprintf("资源 %s 未声明实时查询（live: true）/ resource %s is not declared live", resource, resource)}
	case res.Provider != dept:
		return &RequestError{Field: "resource", Message: fmt.Sprintf("资源 %s 由部门 %s 提供，不是 %s / resource %s is provided by department %s, not %s", resource, res.Provider, dept, resource, res.Provider, dept)}
	case len(key) != len(res.PrimaryKey):
		return &RequestError{Field: "key", Message: fmt.Sprintf("主键有 %d 个值，资源 %s 的主键 %v 需要 %d 个 / the key has %d values; the primary key %v of resource %s has %d",
			len(key), resource, res.PrimaryKey, len(res.PrimaryKey), len(key), res.PrimaryKey, resource, len(res.PrimaryKey))}
	}
	return nil
}

// Lookup queues a lookup of resource by key for dept's agents and waits
// for the answer, at most timeout (0: the configured default). It fails at
// once with *OfflineError when no agent of dept is online, with
// *TimeoutError when none answers in time, with *AgentError when the agent
// could not look the row up, *BusyError when the queue is full,
// *RequestError for a bad request, or ctx's error when ctx ends first (the
// request is then withdrawn).
func (r *Router) Lookup(ctx context.Context, dept, resource string, key []string, timeout time.Duration) (Result, error) {
	start := time.Now()
	res, outcome, err := r.lookup(ctx, dept, resource, key, timeout)
	label := resource
	if outcome == "bad_request" {
		label = "other" // keep the label set bounded: the code may be anything
	}
	r.m.requests.WithLabelValues(label, outcome).Inc()
	r.m.seconds.WithLabelValues(label, outcome).Observe(time.Since(start).Seconds())
	return res, err
}

func (r *Router) lookup(ctx context.Context, dept, resource string, key []string, timeout time.Duration) (Result, string, error) {
	if err := r.checkRequest(dept, resource, key); err != nil {
		return Result{}, "bad_request", err
	}
	if timeout <= 0 {
		timeout = r.cfg.Timeout
	}
	id, err := newID()
	if err != nil {
		return Result{}, "error", err
	}
	p := &pending{req: Request{ID: id, Resource: resource, Key: append([]string(nil), key...)}, answer: make(chan Answer, 1)}

	r.mu.Lock()
	d := r.dept(dept)
	if r.onlineLocked(d, r.cfg.Now(), resource) == 0 {
		r.mu.Unlock()
		return Result{}, "offline", &OfflineError{Dept: dept}
	}
	if len(d.byID) >= r.cfg.MaxPending {
		n := len(d.byID)
		r.mu.Unlock()
		return Result{}, "busy", &BusyError{Dept: dept, Pending: n}
	}
	d.queue = append(d.queue, p)
	d.byID[id] = p
	close(d.arrived)
	d.arrived = make(chan struct{})
	r.mu.Unlock()

	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case a := <-p.answer:
		if a.Error != "" {
			return Result{}, "agent_error", &AgentError{Dept: dept, Resource: resource, Message: a.Error}
		}
		if !a.Found {
			return Result{Found: false, Version: a.Version}, "not_found", nil
		}
		return Result{Found: true, Data: a.Data, Version: a.Version}, "found", nil
	case <-t.C:
		r.withdraw(dept, id)
		return Result{}, "timeout", &TimeoutError{Dept: dept, After: timeout}
	case <-ctx.Done():
		r.withdraw(dept, id)
		return Result{}, "cancelled", fmt.Errorf("live lookup of %s at department %s: %w", resource, dept, ctx.Err())
	}
}

// withdraw removes an unanswered lookup.
func (r *Router) withdraw(dept, id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	d := r.depts[dept]
	if d == nil {
		return
	}
	delete(d.byID, id)
	for i, p := range d.queue {
		if p.req.ID == id {
			d.queue = append(d.queue[:i], d.queue[i+1:]...)
			break
		}
	}
}

// Poll is one long poll of agentID of dept for lookups of the resources
// it serves (nil: any resource of dept): it returns up to limit queued
// lookups at once when there are any, otherwise waits up to wait (capped
// at MaxPollWait) for some and returns none when the wait ends. While it
// runs, and for the online window after, the agent counts as online for
// those resources, so a department may run one agent per database. It
// returns ctx's error when ctx ends first.
func (r *Router) Poll(ctx context.Context, dept, agentID string, resources []string, limit int, wait time.Duration) ([]Request, error) {
	if limit <= 0 || limit > MaxPollRequests {
		limit = MaxPollRequests
	}
	wait = min(max(wait, 0), MaxPollWait)
	r.mu.Lock()
	d := r.dept(dept)
	a, ok := d.agents[agentID]
	if !ok {
		a = &agentState{}
		d.agents[agentID] = a
		r.log.Info("live: agent polling", "dept", dept, "agent_id", agentID)
	}
	a.polling++
	a.serves = nil
	if resources != nil {
		a.serves = make(map[string]bool, len(resources))
		for _, c := range resources {
			a.serves[c] = true
		}
	}
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		a.polling--
		a.lastSeen = r.cfg.Now()
		r.mu.Unlock()
	}()

	t := time.NewTimer(wait)
	defer t.Stop()
	for {
		r.mu.Lock()
		var out []Request
		rest := d.queue[:0:0]
		for _, p := range d.queue {
			if len(out) < limit && a.serve(p.req.Resource) {
				p.delivered = true
				out = append(out, p.req)
			} else {
				rest = append(rest, p)
			}
		}
		if len(out) > 0 {
			d.queue = rest
			r.mu.Unlock()
			return out, nil
		}
		arrived := d.arrived
		r.mu.Unlock()
		select {
		case <-arrived:
		case <-t.C:
			return []Request{}, nil
		case <-r.closed:
			return []Request{}, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Complete hands the answers of dept's agent to the waiting lookups. An
// answer whose id is not an unanswered lookup of dept that was handed out
// (unknown, another department's, answered already or withdrawn after its
// timeout) is ignored and counted. An answer that is malformed (a found row
// that is not a JSON object of the resource's fields, or no row with
// found) fails its lookup with an *AgentError; the error returned lists
// those answers.
func (r *Router) Complete(dept string, answers []Answer) error {
	var problems []error
	for i, a := range answers {
		r.mu.Lock()
		var p *pending
		if d := r.depts[dept]; d != nil {
			if q := d.byID[a.ID]; q != nil && q.delivered {
				p = q
				delete(d.byID, a.ID)
			}
		}
		r.mu.Unlock()
		if p == nil {
			r.m.ignored.Inc()
			r.log.Warn("live: answer ignored: no such waiting lookup of the department (late, unknown or foreign id)", "dept", dept, "id", a.ID)
			continue
		}
		if a.Error == "" {
			if err := r.checkAnswer(p.req.Resource, a); err != nil {
				problems = append(problems, fmt.Errorf("answers[%d] (id %s): %w", i, a.ID, err))
				a = Answer{ID: a.ID, Error: "invalid answer: " + err.Error()}
			}
		}
		p.answer <- a
	}
	return errors.Join(problems...)
}

// checkAnswer checks a row: a JSON object, of exactly the catalog fields
// when the catalog is known; a not-found answer carries no row.
func (r *Router) checkAnswer(resource string, a Answer) error {
	if !a.Found {
		if len(a.Data) > 0 && string(a.Data) != "null" {
			return errors.New("found is false but data is given")
		}
		return nil
	}
	var row map[string]json.RawMessage
	if err := json.Unmarshal(a.Data, &row); err != nil || row == nil {
		return errors.New("found is true but data is not a JSON object")
	}
	if r.cfg.Catalog == nil {
		return nil
	}
	res, ok := r.cfg.Catalog.Resource(resource)
	if !ok {
		return nil
	}
	for _, f := range res.Schema.Fields {
		if _, ok := row[f.Name]; !ok {
			return fmt.Errorf("data lacks field %q of resource %s", f.Name, resource)
		}
	}
	if len(row) != len(res.Schema.Fields) {
		for k := range row {
			if res.Schema.Index(k) < 0 {
				return fmt.Errorf("data has %q, which is not a field of resource %s", k, resource)
			}
		}
	}
	return nil
}

func newID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("live: request id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}
