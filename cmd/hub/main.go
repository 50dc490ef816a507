// Command hub runs the Tongban hub: Kafka ingest (embedded broker or a Kafka
// cluster), the department library store and the HTTP API.
//
//	hub -config deploy/hub.yaml [-log-level debug]
//
// A bad config or catalog exits with status 1 and the error, naming the file,
// line and key. SIGINT or SIGTERM stops it gracefully.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/tongban/tongban/hub/server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("hub", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "deploy/hub.yaml", "hub configuration file (YAML)")
	level := fs.String("log-level", "", "log level: debug, info, warn or error (overrides log_level in the config)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: hub -config deploy/hub.yaml [-log-level debug]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "hub: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return 2
	}
	cfg, err := server.LoadConfig(*configPath)
	if err != nil {
		fmt.Fprintln(stderr, "hub:", err)
		return 1
	}
	if *level != "" {
		cfg.LogLevel = *level
	}
	lvl, err := server.ParseLevel(cfg.LogLevel)
	if err != nil {
		fmt.Fprintln(stderr, "hub: -log-level:", err)
		return 1
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lvl}))
	if err := server.Run(ctx, cfg, logger); err != nil {
		fmt.Fprintln(stderr, "hub:", err)
		return 1
	}
	return 0
}
