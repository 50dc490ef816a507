package bench

import (
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"testing"

	"github.com/tongban/tongban/connectors/builtin"
	"github.com/tongban/tongban/connectors/plugin"
)

// connectorEnv makes the test binary serve a built-in connector, as
// `tongban connector mysql` does: the plugin snapshot and the live agent
// start it as their connector process.
const connectorEnv = "TONGBAN_BENCH_TEST_CONNECTOR"

func TestMain(m *testing.M) {
	if name := os.Getenv(connectorEnv); name != "" {
		c, err := builtin.New(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		slog.SetDefault(slog.New(plugin.LogHandler(os.Stderr, slog.LevelInfo)))
		plugin.Serve(c)
		os.Exit(0)
	}
	os.Exit(m.Run())
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
