package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/tongban/tongban/connectors/builtin"
	"github.com/tongban/tongban/demo"
)

// runDemo runs `tongban demo`.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", ".demo", "working directory (wiped at start)")
	rows := fs.Int("rows", 100_000, "rows to generate in all three department tables together")
	defects := fs.Int("defects", 20, "rows with each kind of seeded defect per table (wrong check digits, impossible dates, bad codes, conflicting names, full-width variants, legacy 15-digit IDs); 0 for clean data")
	seed := fs.Int64("seed", 1, "seed of the generated data")
	listen := fs.String("listen", "127.0.0.1:8080", "hub API address")
	mysqlDSN := fs.String("mysql-dsn", "", "put the department databases on this MySQL/MariaDB server (e.g. root@tcp(127.0.0.1:3306)/) instead of the in-process ones")
	check := fs.Bool("check", false, "verify every source row arrived exactly once, print a summary and exit 0 or 1")
	timeout := fs.Duration("timeout", 15*time.Minute, "how long the sync may take")
	interval := fs.Duration("interval", 5*time.Second, "agents' change-polling interval")
	verbose := fs.Bool("v", false, "show the components' logs")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: demo takes no arguments, got %q", errUsage, fs.Arg(0))
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(logger) // libraries that log through the default logger follow -v too
	return demo.Run(ctx, demo.Config{
		Dir: *dir, Rows: *rows, Defects: *defects, Seed: *seed, Listen: *listen, MySQLDSN: *mysqlDSN,
		Check: *check, Timeout: *timeout, Interval: *interval, Logger: logger, Out: stdout,
	})
}

// runConnector serves a built-in connector as a plugin process: the demo's
// in-process agents start their connectors by re-running this binary.
func runConnector(_ context.Context, args []string, _, stderr io.Writer) error {
	if len(args) != 1 {
		return fmt.Errorf("%w: connector takes one name", errUsage)
	}
	return builtin.Serve(args[0], stderr)
}
