package agent

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tongban/tongban/agent/checkpoint"
	"github.com/tongban/tongban/agent/config"
	"github.com/tongban/tongban/wire"
)

// TestStartsFromCacheWhileHubDown: an agent that registered once starts
// again while the hub is down, from the cached catalog definitions, and
// registers when the hub is back.
func TestStartsFromCacheWhileHubDown(t *testing.T) {
	const n = 300
	db := newTestDB(t)
	db.insertRows(t, 1, n)
	kb := newTestBroker(t)
	hub := newTestHub(t)
	state := t.TempDir()
	yaml := agentYAML(hub.srv.URL, kb.addr, state, db.dsn, agentSettings{mode: "incremental", chunkRows: 100, interval: "100ms"})

	first := startAgent(t, yaml)
	waitFor(t, "the snapshot", time.Minute, func() (bool, string) {
		cp, ok := loadCheckpoint(t, state)
		return ok && cp.Phase == checkpoint.PhaseIncremental, fmt.Sprintf("%+v", cp)
	})
	first.stop(t)
	if _, err := os.Stat(filepath.Join(state, definitionsFile)); err != nil {
		t.Fatalf("definitions not cached: %v", err)
	}

	hub.mu.Lock()
	hub.down = true
	registers := hub.registers
	hub.mu.Unlock()
	startAgent(t, yaml)
	db.exec(t, "INSERT INTO person (id, citizen_id, name, updated_at) VALUES (?, ?, ?, NOW(6))", n+1, "230600000000001111", "断网时新增")
	waitFor(t, "the new row on Kafka while the hub is down", time.Minute, func() (bool, string) {
		for _, r := range readAll(t, kb.addr) {
			if r.key == strconv.Itoa(n+1) {
				return true, ""
			}
		}
		return false, ""
	})
	hub.mu.Lock()
	hub.down = false
	hub.mu.Unlock()
	waitFor(t, "the agent to register again", time.Minute, func() (bool, string) {
		hub.mu.Lock()
		defer hub.mu.Unlock()
		return hub.registers > registers, strconv.Itoa(hub.registers)
	})
}

// TestHubRefusalStopsTheAgent: a wrong token is not retried forever.
func TestHubRefusalStopsTheAgent(t *testing.T) {
	hub := newTestHub(t)
	yaml := agentYAML(hub.srv.URL, "127.0.0.1:9", t.TempDir(), "root@tcp(127.0.0.1:3306)/x", agentSettings{mode: "snapshot", chunkRows: 10, interval: "1h"})
	yaml = strings.Replace(yaml, "token: "+testToken, "token: wrong-token", 1)
	cfg, err := config.Parse("a.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(cfg, Options{RetryMin: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = a.Run(ctx)
	if err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("Run = %v, want the hub's refusal", err)
	}
}

// TestSourceMismatchStopsOnlyThatResource: a table missing a catalog field
// is reported (heartbeat, phase error, naming the field) and picked up once
// the table is fixed; a DSN password never appears in errors.
func TestSourceMismatchStopsOnlyThatResource(t *testing.T) {
	db := newTestDB(t)
	db.insertRows(t, 1, 50)
	db.exec(t, "ALTER TABLE person DROP COLUMN birth")
	kb := newTestBroker(t)
	hub := newTestHub(t)
	state := t.TempDir()
	startAgent(t, agentYAML(hub.srv.URL, kb.addr, state, db.dsn, agentSettings{mode: "snapshot", chunkRows: 100, interval: "1h"}))
	waitFor(t, "a heartbeat naming the missing field", time.Minute, func() (bool, string) {
		hb, ok := hub.lastHeartbeat()
		return ok && len(hb.Resources) == 1 && hb.Resources[0].Phase == "error" && strings.Contains(hb.Resources[0].LastError, `"birth"`),
			fmt.Sprintf("%+v", hb)
	})
	db.exec(t, "ALTER TABLE person ADD COLUMN birth DATE NULL")
	waitFor(t, "the snapshot once the table is fixed", time.Minute, func() (bool, string) {
		cp, ok := loadCheckpoint(t, state)
		return ok && cp.Phase == checkpoint.PhaseIdle, fmt.Sprintf("%+v", cp)
	})
}

func TestPasswordNeverReported(t *testing.T) {
	kb := newTestBroker(t)
	hub := newTestHub(t)
	const secret = "Zx9-s3cret-pw"
	dsn := "root:" + secret + "@tcp(127.0.0.1:3306)/mysql"
	ra := startAgent(t, agentYAML(hub.srv.URL, kb.addr, t.TempDir(), dsn, agentSettings{mode: "snapshot", chunkRows: 100, interval: "1h"}))
	waitFor(t, "a heartbeat with the connection error", time.Minute, func() (bool, string) {
		hb, ok := hub.lastHeartbeat()
		return ok && len(hb.Resources) == 1 && hb.Resources[0].LastError != "", fmt.Sprintf("%+v", hb)
	})
	hb, _ := hub.lastHeartbeat()
	if strings.Contains(fmt.Sprintf("%+v", hb), secret) {
		t.Fatalf("heartbeat leaks the DSN password: %+v", hb)
	}
	ra.stop(t)
	logs := ra.logs.tail(1000)
	if strings.Contains(logs, secret) || !strings.Contains(logs, "root:***@tcp") {
		t.Fatalf("logs leak the password or do not show the redacted DSN:\n%s", logs)
	}
	t.Logf("reported error: %s", hb.Resources[0].LastError)
}

// TestConnectorCrashIsRestarted kills the connector plugin process: the
// agent reports the restart and keeps syncing.
func TestConnectorCrashIsRestarted(t *testing.T) {
	const n = 200
	db := newTestDB(t)
	db.insertRows(t, 1, n)
	kb := newTestBroker(t)
	hub := newTestHub(t)
	state := t.TempDir()
	ra := startAgent(t, agentYAML(hub.srv.URL, kb.addr, state, db.dsn, agentSettings{mode: "incremental", chunkRows: 100, interval: "100ms"}))
	waitFor(t, "the incremental phase", time.Minute, func() (bool, string) {
		cp, ok := loadCheckpoint(t, state)
		return ok && cp.Phase == checkpoint.PhaseIncremental, fmt.Sprintf("%+v", cp)
	})
	pids := childPlugins(t)
	if len(pids) != 1 {
		t.Fatalf("found %d connector processes, want 1", len(pids))
	}
	if err := syscall.Kill(pids[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	restarts := ra.a.Metrics().ConnectorRestarts.WithLabelValues(testResource)
	waitFor(t, "the restart to be counted", time.Minute, func() (bool, string) {
		return metricValue(t, restarts) >= 1, ""
	})
	db.exec(t, "INSERT INTO person (id, citizen_id, name, updated_at) VALUES (?, ?, ?, NOW(6))", n+1, "230600000000002222", "崩溃之后")
	waitFor(t, "the row inserted after the crash", time.Minute, func() (bool, string) {
		for _, r := range readAll(t, kb.addr) {
			if r.key == strconv.Itoa(n+1) && r.op == wire.OpUpsert {
				return true, ""
			}
		}
		return false, ""
	})
	if after := childPlugins(t); len(after) != 1 || after[0] == pids[0] {
		t.Errorf("connector processes after the crash: %v (killed %d)", after, pids[0])
	}
}

// childPlugins lists the live child processes of this test running as a
// connector plugin.
func childPlugins(t *testing.T) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	me := os.Getpid()
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid …; comm may hold spaces, so cut at the last ')'.
		rest := string(stat[strings.LastIndexByte(string(stat), ')')+1:])
		f := strings.Fields(rest)
		if len(f) < 2 || f[0] == "Z" {
			continue
		}
		if ppid, _ := strconv.Atoi(f[1]); ppid != me {
			continue
		}
		env, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if strings.Contains(string(env), connectorEnv+"=") {
			out = append(out, pid)
		}
	}
	return out
}
