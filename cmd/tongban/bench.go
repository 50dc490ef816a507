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
	usePlugin := fs.Bool("plugin", true, "also measure the snapshot through the connector plugin process (this binary re-run as 'connector mysql')")
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
	cfg := bench.Config{Rows: *rows, ServerDSN: *dsn, Progress: stderr,
		Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
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
