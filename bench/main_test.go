package bench

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"testing"

	"github.com/tongban/tongban/agent"
	agentconfig "github.com/tongban/tongban/agent/config"

	"github.com/tongban/tongban/connectors/builtin"
)

// connectorEnv makes the test binary serve a built-in connector, as
// `tongban connector mysql` does: the plugin snapshot and the live agent
// start it as their connector process.
const connectorEnv = "TONGBAN_BENCH_TEST_CONNECTOR"

// agentEnv makes the test binary run the agent on the config file it
// names, as the agent binary does (its connector: this binary again).
const agentEnv = "TONGBAN_BENCH_TEST_AGENT"

func TestMain(m *testing.M) {
	if name := os.Getenv(connectorEnv); name != "" {
		if err := builtin.Serve(name, os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	if config := os.Getenv(agentEnv); config != "" {
		os.Exit(runTestAgent(config))
	}
	os.Exit(m.Run())
}

// runTestAgent is the agent binary's main, on this test binary.
func runTestAgent(config string) int {
	cfg, err := agent.LoadConfig(config)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	a, err := agent.New(cfg, agent.Options{Logger: slog.New(slog.DiscardHandler), ConnectorCommand: func(agentconfig.Resource) *exec.Cmd {
		cmd := exec.Command(exe)
		cmd.Env = append(os.Environ(), connectorEnv+"=mysql", agentEnv+"=")
		return cmd
	}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := a.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// testAgentCmd runs this test binary as the agent on a config file.
func testAgentCmd(config string) *exec.Cmd {
	exe, err := os.Executable()
	if err != nil {
		panic(err) // the test binary always has a path
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), agentEnv+"="+config)
	return cmd
}

// testConnectorCmd starts this test binary as the MySQL connector plugin.
func testConnectorCmd(t testing.TB) func() *exec.Cmd {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return func() *exec.Cmd {
		cmd := exec.Command(exe)
		cmd.Env = append(os.Environ(), connectorEnv+"=mysql")
		return cmd
	}
}
