package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tongban/tongban/catalog"
	"github.com/tongban/tongban/hub/api"
	"github.com/tongban/tongban/hub/auth"
	"github.com/tongban/tongban/topics"
)

const topicAgentProc = "bench.agent.process"

// agentProcess runs the real agent as its own process (Config.AgentCmd) on
// the whole table, snapshot mode, registered with a hub API on loopback and
// writing to the embedded broker, and reads the agent process's peak
// resident set (VmHWM) once its metrics show every row acknowledged: the
// agent alone, without the broker the in-process measurement carries.
func (r *runner) agentProcess(ctx context.Context, cat *catalog.Catalog) ([]Result, error) {
	const name = "agent process peak RSS (snapshot, own process)"
	if r.cfg.AgentCmd == nil {
		return []Result{notMeasured(name, "MiB", "< 128 MiB", "needs Config.AgentCmd (make bench builds bin/agent and passes it)")}, nil
	}
	r.step("agent process: snapshot of %d rows by the agent binary in its own process", r.cfg.Rows)
	dir, db, err := r.hubStore(ctx, "agent-process")
	if err != nil {
		return nil, fmt.Errorf("bench: agent process: %w", err)
	}
	defer db.Close()
	log := slog.New(slog.DiscardHandler)
	h, err := api.New(api.Config{Store: db, Catalog: cat, Registry: prometheus.NewRegistry(), Logger: log})
	if err != nil {
		return nil, fmt.Errorf("bench: agent process: %w", err)
	}
	srv, err := serveLoopback(ctx, h)
	if err != nil {
		return nil, fmt.Errorf("bench: agent process: %w", err)
	}
	defer srv.close(nil)
	token, err := auth.Create(ctx, db, "bench-agent-process", benchDept, auth.RoleDept)
	if err != nil {
		return nil, fmt.Errorf("bench: agent process: %w", err)
	}
	if err := topics.Ensure(ctx, r.brokers, map[string]int{topicAgentProc: benchParts}); err != nil {
		return nil, err
	}
	defer r.deleteTopic(ctx, topicAgentProc)
	metricsAddr, err := freeLoopbackAddr()
	if err != nil {
		return nil, fmt.Errorf("bench: agent process: %w", err)
	}
	dsn, err := r.dsn()
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "agent.yaml")
	yaml := fmt.Sprintf(`dept: %q
agent_id: bench-process
hub:
  url: %q
  token: %q
kafka:
  brokers: [%q]
  topic: %s
state_dir: %q
metrics_listen: %s
resources:
  - code: %s
    connector: mysql
    dsn: %q
    table: %s
    mode: snapshot
    interval: 1h
    chunk_rows: 5000
    live: false
`, benchDept, srv.url, token, r.brokers[0], topicAgentProc, filepath.Join(dir, "state"), metricsAddr, benchResource, dsn, benchTable)
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		return nil, fmt.Errorf("bench: agent process: %w", err)
	}

	cmd := r.cfg.AgentCmd(path)
	cmd.Stdout, cmd.Stderr = nil, nil
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("bench: agent process: start %s: %w", cmd.Path, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	defer func() {
		if !stopped {
			_ = cmd.Process.Kill()
			<-exited
		}
	}()
	acked, took, err := waitAcked(ctx, "http://"+metricsAddr+"/metrics", r.cfg.Rows, start, exited)
	if err != nil {
		return nil, err
	}
	rss, err := peakRSSOf(cmd.Process.Pid)
	if err != nil {
		return nil, err
	}
	// A clean stop, as an operator's: SIGTERM, then the agent's own shutdown.
	_ = cmd.Process.Signal(os.Interrupt)
	select {
	case err := <-exited:
		stopped = true
		if err != nil {
			return nil, fmt.Errorf("bench: agent process: stopped with %w", err)
		}
	case <-time.After(30 * time.Second):
		return nil, errors.New("bench: agent process: still running 30 s after SIGTERM")
	}
	rate := float64(acked) / took.Seconds()
	r.step("agent process: %d rows acknowledged in %s (%.0f rows/s, start-up included), peak RSS %.1f MiB", acked, took.Round(time.Millisecond), rate, float64(rss)/(1<<20))
	return []Result{{Name: name, Unit: "MiB", Value: float64(rss) / (1 << 20), Rows: acked, RSSBytes: rss,
		Target: "< 128 MiB", Met: met(rss < 128<<20), Status: StatusMeasured,
		Note: fmt.Sprintf("VmHWM of the agent process (the agent binary: registration with the hub, MySQL connector as its plugin "+
			"child process (not counted; see the connector line), Arrow batches, kafka-go RequireAll to the embedded broker, checkpoints) "+
			"read once its rows_acked_total reached the table's rows; %d rows in %s from process start, %.0f rows/s with start-up", acked, took.Round(time.Millisecond), rate)}}, nil
}

// waitAcked polls the agent's metrics until rows_acked_total of the bench
// resource reaches want; it returns the count and the time since start.
func waitAcked(ctx context.Context, metricsURL string, want int, start time.Time, exited <-chan error) (int, time.Duration, error) {
	client := &http.Client{Timeout: 5 * time.Second}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	deadline := time.NewTimer(30 * time.Minute)
	defer deadline.Stop()
	last := 0
	for {
		select {
		case <-ctx.Done():
			return 0, 0, ctx.Err()
		case err := <-exited:
			return 0, 0, fmt.Errorf("bench: agent process exited before acknowledging every row (%d of %d): %v", last, want, err)
		case <-deadline.C:
			return 0, 0, fmt.Errorf("bench: agent process: %d of %d rows acknowledged after 30 minutes", last, want)
		case <-tick.C:
		}
		n, err := ackedRows(ctx, client, metricsURL)
		if err != nil {
			continue // not listening yet
		}
		last = n
		if n >= want {
			return n, time.Since(start), nil
		}
	}
}

// ackedRows reads tongban_agent_rows_acked_total of the bench resource from
// the agent's /metrics (Prometheus text format).
func ackedRows(ctx context.Context, client *http.Client, metricsURL string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, metricsURL, nil)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	return parseAcked(bufio.NewScanner(resp.Body))
}

// parseAcked finds the bench resource's rows_acked_total sample.
func parseAcked(sc *bufio.Scanner) (int, error) {
	prefix := `tongban_agent_rows_acked_total{resource="` + benchResource + `"} `
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), prefix); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return 0, fmt.Errorf("rows_acked_total %q: %w", v, err)
			}
			return int(f), nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("no rows_acked_total sample yet")
}

// freeLoopbackAddr returns a loopback address with a port free right now.
func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	return addr, ln.Close()
}
