// Command agent is the Tongban front-end-processor agent (前置机代理). It
// reads its department's database through connector plugins and streams the
// records to the hub through Kafka.
//
//	agent -config agent.yaml          run
//	agent -config agent.yaml -check-config
//	                                  validate the configuration and exit
//	agent connector mysql             serve a built-in connector as a plugin
//	                                  (the agent starts these itself)
//
// SIGINT or SIGTERM stops reading, lets each resource finish the chunk it is
// writing to Kafka, and exits 0.
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
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/tongban/tongban/agent"
	"github.com/tongban/tongban/connectors/builtin"
	"github.com/tongban/tongban/connectors/plugin"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "connector" {
		return serveConnector(args[1:], stderr)
	}
	fs := flag.NewFlagSet("agent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "agent.yaml", "path of the agent configuration (YAML)")
	check := fs.Bool("check-config", false, "validate the configuration, print a summary and exit")
	level := fs.String("log-level", "info", "log level: debug, info, warn or error")
	format := fs.String("log-format", "text", "log format: text or json")
	version := fs.Bool("version", false, "print the version and exit")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: agent [-config agent.yaml] [-check-config] [-log-level info] [-log-format text]\n"+
			"       agent connector <name>   (serve a built-in connector: %s)\n", strings.Join(builtin.Names(), ", "))
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "agent: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return 2
	}
	if *version {
		fmt.Fprintln(stdout, buildVersion())
		return 0
	}
	logger, err := newLogger(stderr, *level, *format)
	if err != nil {
		fmt.Fprintln(stderr, "agent:", err)
		return 2
	}
	cfg, err := agent.LoadConfig(*configPath)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if *check {
		fmt.Fprintf(stdout, "%s: OK: agent %s of department %s, hub %s, Kafka %s topic %s, %d resource(s):\n",
			cfg.File, cfg.AgentID, cfg.Dept, cfg.Hub.URL, strings.Join(cfg.Kafka.Brokers, ","), cfg.Kafka.Topic, len(cfg.Resources))
		for _, r := range cfg.Resources {
			fmt.Fprintf(stdout, "  %s: %s, table %s, mode %s, interval %s, chunk %d rows\n",
				r.Code, r.ConnectorName(), r.Table, r.Mode, r.Interval, r.ChunkRows)
		}
		return 0
	}
	slog.SetDefault(logger)
	a, err := agent.New(cfg, agent.Options{Logger: logger, Version: buildVersion()})
	if err != nil {
		logger.Error("agent cannot start", "error", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := a.Run(ctx); err != nil {
		logger.Error("agent stopped", "error", err)
		return 1
	}
	return 0
}

// serveConnector runs `agent connector <name>`: the plugin side of a
// built-in connector, started by the agent itself over go-plugin.
func serveConnector(args []string, stderr io.Writer) int {
	if len(args) != 1 {
		fmt.Fprintf(stderr, "usage: agent connector <name>   (built-in: %s)\n", strings.Join(builtin.Names(), ", "))
		return 2
	}
	if os.Getenv(plugin.MagicCookieKey) != plugin.MagicCookieValue {
		fmt.Fprintf(stderr, "agent connector %s: this is a plugin process the agent starts itself; run `agent -config …` instead\n", args[0])
		return 2
	}
	if err := builtin.Serve(args[0], stderr); err != nil {
		fmt.Fprintln(stderr, "agent connector:", err)
		return 2
	}
	return 0
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("-log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("-log-format %q: want text or json", format)
}

// buildVersion is the module version the binary was built from.
func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		v := bi.Main.Version
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				if v == "" || v == "(devel)" {
					v = "dev"
				}
				return v + "+" + s.Value[:12]
			}
		}
		if v != "" && v != "(devel)" {
			return v
		}
	}
	return "dev"
}
