package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"

	"github.com/tongban/tongban/bench"
)

// runBench measures the hot paths against their baselines (make bench).
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	rows := fs.Int("rows", bench.DefaultRows, "rows of the generated MariaDB table")
	dsn := fs.String("dsn", bench.DefaultServerDSN, "MariaDB/MySQL server (go-sql-driver DSN without a database); the run creates and drops tb_bench_<random>")
	out := fs.String("out", "bench/results.json", "where to write the results as JSON")
	shareRequests := fs.Int("share-requests", bench.DefaultShareRequests, "timed share calls (and as many raw SQL lookups) of the sharing measurement")
	shareDuration := fs.Duration("share-duration", bench.DefaultShareDuration, "time limit of each timed sharing run (API calls, raw SQL lookups)")
	mergeRows := fs.Int("merge-rows", bench.DefaultMergeRows, "rows the ingest+validate+merge measurement runs over (at most -rows); its store, with that many subjects, serves the sharing measurement")
	updateRows := fs.Int("update-rows", bench.DefaultUpdateRows, "rows the incremental measurement updates at the source in one transaction (at most -rows)")
	profileDir := fs.String("profile", "", "if set, write a CPU profile of each hub measurement into this directory (<name>.cpu.pprof)")
	liveClients := fs.Int("live-clients", bench.DefaultLiveClients, "concurrent callers of the live-lookup measurement")
	agentBin := fs.String("agent-bin", "", "the agent binary (make bench builds bin/agent): if set, the agent's own peak RSS is measured on a snapshot of the whole table in its own process")
	usePlugin := fs.Bool("plugin", true, "run the connector as a plugin process (this binary re-run as 'connector mysql'): the snapshot through the plugin and the live lookups (whose agent needs it) are measured only then")
	pos, err := parseFlags(fs, args, stderr)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("%w: bench takes no arguments, got %q", errUsage, pos[0])
	}
	if *rows < 1 {
		return fmt.Errorf("%w: bench: -rows %d: must be at least 1", errUsage, *rows)
	}
	if *shareRequests < 1 {
		return fmt.Errorf("%w: bench: -share-requests %d: must be at least 1", errUsage, *shareRequests)
	}
	if *shareDuration <= 0 {
		return fmt.Errorf("%w: bench: -share-duration %s: must be positive", errUsage, *shareDuration)
	}
	if *updateRows < 1 {
		return fmt.Errorf("%w: bench: -update-rows %d: must be at least 1", errUsage, *updateRows)
	}
	if *liveClients < 1 {
		return fmt.Errorf("%w: bench: -live-clients %d: must be at least 1", errUsage, *liveClients)
	}
	if *mergeRows < 1 {
		return fmt.Errorf("%w: bench: -merge-rows %d: must be at least 1", errUsage, *mergeRows)
	}
	cfg := bench.Config{Rows: *rows, ServerDSN: *dsn, Progress: stderr, ShareRequests: *shareRequests, ShareDuration: *shareDuration,
		MergeRows: *mergeRows, UpdateRows: *updateRows, ProfileDir: *profileDir, LiveClients: *liveClients,
		Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	if *agentBin != "" {
		bin := *agentBin
		cfg.AgentCmd = func(config string) *exec.Cmd { return exec.Command(bin, "-config", config, "-log-level", "warn") }
	}
	if *usePlugin {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("bench: find this binary to run the connector plugin: %w", err)
		}
		cfg.ConnectorCmd = func() *exec.Cmd { return exec.Command(exe, "connector", "mysql") }
	}
	results, err := bench.Run(ctx, cfg)
	if err != nil {
		return err
	}
	if err := bench.WriteTable(stdout, results); err != nil {
		return err
	}
	if err := bench.WriteJSON(*out, results); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nresults written to %s\n", *out)
	return nil
}
