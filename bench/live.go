package bench

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/tongban/tongban/agent"
	"github.com/tongban/tongban/agent/config"
	"github.com/tongban/tongban/catalog"
	"github.com/tongban/tongban/hub/auth"
	"github.com/tongban/tongban/hub/live"
	"github.com/tongban/tongban/topics"
)

// Defaults of the live-lookup measurement.
const (
	// DefaultLiveRows is the size of the table the agent answers from.
	DefaultLiveRows = 10_000
	// DefaultLiveClients is its concurrency: lookups a department makes at
	// once through the hub (the agent runs 4 at a time at its database).
	DefaultLiveClients = 16
)

const (
	liveTable = "bench_live"
	topicLive = "bench.live"
)

// liveResults measures share calls of a live resource (请求响应): each call
// goes through the hub API to the providing department's real agent, which
// long-polls the hub, looks the row up in MariaDB through its connector
// plugin and posts the answer back; against the same primary-key lookup as
// raw SQL on MariaDB at the same concurrency.
func (r *runner) liveResults(ctx context.Context, cat *catalog.Catalog) ([]Result, error) {
	name := func(s string) string {
		return fmt.Sprintf("sharing: live lookup via agent %s (%d concurrent)", s, r.cfg.LiveClients)
	}
	const target = "< 50 ms"
	if r.cfg.ConnectorCmd == nil {
		// Without a binary serving "connector mysql" the agent has no
		// connector to answer with.
		return []Result{notMeasured(name("p99"), "ms", target,
			"needs Config.ConnectorCmd (tongban bench sets it): the agent runs its connector as a plugin process")}, nil
	}
	rows := min(r.cfg.LiveRows, r.cfg.Rows)
	r.step("live lookups: copying %d rows to %s, starting the hub API and a real agent", rows, liveTable)
	src, err := r.open()
	if err != nil {
		return nil, err
	}
	defer src.Close()
	for _, q := range []string{
		"CREATE TABLE `" + liveTable + "` LIKE `" + benchTable + "`",
		"INSERT INTO `" + liveTable + "` SELECT * FROM `" + benchTable + "` ORDER BY citizen_id LIMIT " + strconv.Itoa(rows),
	} {
		if _, err := src.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("bench: live lookups: %s: %w", q, err)
		}
	}
	subjects, err := liveSubjects(ctx, src)
	if err != nil {
		return nil, err
	}

	// The hub side: the API with the live router, on its own store.
	liveCat := *cat
	liveCat.Resources = append([]catalog.Resource(nil), cat.Resources...)
	for i := range liveCat.Resources {
		if liveCat.Resources[i].Code == benchResource {
			liveCat.Resources[i].Live = true
		}
	}
	dir, db, err := r.hubStore(ctx, "live")
	if err != nil {
		return nil, fmt.Errorf("bench: live lookups: %w", err)
	}
	defer db.Close()
	log := slog.New(slog.DiscardHandler)
	router, err := live.New(live.Config{Catalog: &liveCat, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("bench: live lookups: %w", err)
	}
	h, closeAudit, err := sharingAPI(db, &liveCat, router, log)
	if err != nil {
		return nil, fmt.Errorf("bench: live lookups: %w", err)
	}
	defer closeAudit(context.WithoutCancel(ctx))
	srv, err := serveLoopback(ctx, h)
	if err != nil {
		return nil, fmt.Errorf("bench: live lookups: %w", err)
	}
	// The router's long polls end before the server shuts down.
	defer srv.close(router.Close)
	callerToken, err := auth.Create(ctx, db, "bench-caller", benchCaller, auth.RoleDept)
	if err != nil {
		return nil, fmt.Errorf("bench: live lookups: %w", err)
	}
	agentToken, err := auth.Create(ctx, db, "bench-agent", benchDept, auth.RoleDept)
	if err != nil {
		return nil, fmt.Errorf("bench: live lookups: %w", err)
	}

	// The department side: a real agent on the copied table.
	if err := topics.Ensure(ctx, r.brokers, map[string]int{topicLive: benchParts}); err != nil {
		return nil, err
	}
	defer r.deleteTopic(ctx, topicLive)
	a, err := r.liveAgent(dir, srv.url, agentToken)
	if err != nil {
		return nil, err
	}
	actx, stopAgent := context.WithCancel(ctx)
	agentDone := make(chan error, 1)
	go func() { agentDone <- a.Run(actx) }()
	defer func() {
		stopAgent()
		<-agentDone
	}()
	if err := waitOnline(ctx, router, agentDone); err != nil {
		return nil, err
	}

	client, closeClient := loopbackClient(r.cfg.LiveClients)
	defer closeClient()
	call := shareCall(client, srv.url, callerToken)
	// Warm-up, untimed: the agent's connector, the connections.
	if _, err := runConcurrent(ctx, r.cfg.LiveClients*4, r.cfg.LiveClients, 0, subjects, 1, call); err != nil {
		return nil, err
	}
	var viaAgent, raw latencies
	r.step("live lookups: up to %d calls (at most %s) from %d clients, then raw SQL lookups on MariaDB", r.cfg.ShareRequests, r.cfg.ShareDuration, r.cfg.LiveClients)
	err = r.profiled("live", func() (err error) {
		viaAgent, err = runConcurrent(ctx, r.cfg.ShareRequests, r.cfg.LiveClients, r.cfg.ShareDuration, subjects, 2, call)
		return err
	})
	if err != nil {
		return nil, err
	}
	stmt, err := src.PrepareContext(ctx, "SELECT * FROM `"+liveTable+"` WHERE citizen_id = ?")
	if err != nil {
		return nil, fmt.Errorf("bench: live baseline: %w", err)
	}
	defer stmt.Close()
	src.SetMaxIdleConns(r.cfg.LiveClients)
	lookup := func(ctx context.Context, subject string) error {
		rows, err := stmt.QueryContext(ctx, subject)
		if err != nil {
			return fmt.Errorf("bench: live baseline: %w", err)
		}
		n, err := drainRows(rows)
		if err != nil {
			return fmt.Errorf("bench: live baseline: %w", err)
		}
		if n != 1 {
			return fmt.Errorf("bench: live baseline: %d rows for %s, want 1", n, subject)
		}
		return nil
	}
	if _, err := runConcurrent(ctx, r.cfg.LiveClients, r.cfg.LiveClients, 0, subjects, 1, lookup); err != nil {
		return nil, err
	}
	if raw, err = runConcurrent(ctx, r.cfg.ShareRequests, r.cfg.LiveClients, r.cfg.ShareDuration, subjects, 2, lookup); err != nil {
		return nil, err
	}
	p50, p99 := quantileMS(viaAgent.d, 0.50), quantileMS(viaAgent.d, 0.99)
	rawP50, rawP99 := quantileMS(raw.d, 0.50), quantileMS(raw.d, 0.99)
	r.step("live lookups: %.0f calls/s, p50 %.2f ms, p99 %.2f ms; raw SQL %.0f lookups/s, p50 %.2f ms, p99 %.2f ms",
		viaAgent.perSec(), p50, p99, raw.perSec(), rawP50, rawP99)
	const base = "raw SQL primary-key lookup on MariaDB (the agent's own query), same concurrency"
	note := fmt.Sprintf("GET /api/v1/share/%s?subject=<citizen ID> of the resource marked live, over real HTTP on loopback, %d clients, "+
		"%d timed calls on random subjects of the %d rows of %s; each call: token, grant decision, queued for the provider's agent, "+
		"taken by the agent's long poll (real agent process logic, connector as a plugin process), looked up in MariaDB, "+
		"answered by HTTP POST, audit entry committed, then answered; the answer is checked to hold the subject's record. "+
		"The baseline makes the agent's lookup directly (%d calls)", benchResource, r.cfg.LiveClients, viaAgent.calls, rows, liveTable, raw.calls)
	return []Result{
		{Name: name("throughput"), Unit: "requests/s", Value: viaAgent.perSec(), Baseline: base, BaselineValue: raw.perSec(),
			Ratio: ratio(viaAgent.perSec(), raw.perSec()), Rows: rows, Status: StatusMeasured, Note: note},
		{Name: name("p50"), Unit: "ms", Value: p50, Baseline: base, BaselineValue: rawP50, Ratio: ratio(p50, rawP50), Rows: rows,
			Status: StatusMeasured, Note: "latency of each call as the client sees it; the ratio is × the baseline's latency"},
		{Name: name("p99"), Unit: "ms", Value: p99, Baseline: base, BaselineValue: rawP99, Ratio: ratio(p99, rawP99), Rows: rows,
			Target: target, Met: met(p99 < 50), Status: StatusMeasured, Note: "as the p50 line"},
	}, nil
}

// liveAgent builds the providing department's agent: it registers with the
// hub, snapshots the copied table once (to its own topic) and answers live
// lookups.
func (r *runner) liveAgent(dir, hubURL, token string) (*agent.Agent, error) {
	dsn, err := r.dsn()
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "agent.yaml")
	yaml := fmt.Sprintf(`dept: %q
agent_id: bench-live
hub:
  url: %q
  token: %q
  heartbeat_interval: 5s
kafka:
  brokers: [%q]
  topic: %s
state_dir: %q
metrics_listen: 127.0.0.1:0
resources:
  - code: %s
    connector: mysql
    dsn: %q
    table: %s
    mode: snapshot
    interval: 1h
    live: true
`, benchDept, hubURL, token, r.brokers[0], topicLive, filepath.Join(dir, "agent-state"), benchResource, dsn, liveTable)
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		return nil, fmt.Errorf("bench: live agent: %w", err)
	}
	cfg, err := agent.LoadConfig(path)
	if err != nil {
		return nil, fmt.Errorf("bench: live agent: %w", err)
	}
	a, err := agent.New(cfg, agent.Options{Logger: slog.New(slog.DiscardHandler),
		ConnectorCommand: func(config.Resource) *exec.Cmd { return r.cfg.ConnectorCmd() }})
	if err != nil {
		return nil, fmt.Errorf("bench: live agent: %w", err)
	}
	return a, nil
}

// waitOnline waits until the agent polls the router for the bench resource.
func waitOnline(ctx context.Context, router *live.Router, agentDone <-chan error) error {
	deadline := time.NewTimer(time.Minute)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for router.Online(benchDept, benchResource) == 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-agentDone:
			return fmt.Errorf("bench: live agent stopped before it polled: %w", err)
		case <-deadline.C:
			return errors.New("bench: live agent: not polling for lookups after a minute")
		case <-tick.C:
		}
	}
	return nil
}

// liveSubjects returns the keys of the copied table.
func liveSubjects(ctx context.Context, db *sql.DB) ([]string, error) {
	out, err := stringColumn(ctx, db, "SELECT citizen_id FROM `"+liveTable+"`")
	if err != nil {
		return nil, fmt.Errorf("bench: live lookups: %w", err)
	}
	if len(out) == 0 {
		return nil, errors.New("bench: live lookups: the copied table is empty")
	}
	return out, nil
}

// drainRows reads every row as raw bytes and returns how many there were.
func drainRows(rows *sql.Rows) (int, error) {
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return 0, err
	}
	raw := make([]sql.RawBytes, len(cols))
	dest := make([]any, len(cols))
	for i := range raw {
		dest[i] = &raw[i]
	}
	n := 0
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}

// shareCall is one share call of the bench resource by subject with the
// caller's token; the answer must hold the subject's record.
func shareCall(client *http.Client, baseURL, token string) func(ctx context.Context, subject string) error {
	base := baseURL + "/api/v1/share/" + benchResource + "?" + shareQuery() + "&subject="
	bearer := "Bearer " + token
	return func(ctx context.Context, subject string) error {
		return checkedGet(ctx, client, base+subject, bearer, `"key":"`+subject+`"`)
	}
}
