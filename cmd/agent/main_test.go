package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	"github.com/segmentio/kafka-go"

	"github.com/tongban/tongban/agent/checkpoint"
	"github.com/tongban/tongban/broker"
	"github.com/tongban/tongban/topics"
	"github.com/tongban/tongban/wire"
)

func TestRunCommandLine(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("dept: X\nhub: {url: http://h, token: t}\nkafka: {brokers: [h:1]}\nresources:\n  - code: AB-1\n    dsn: x\n    table: t\n    mode: fast\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		code     int
		out, err string
	}{
		{"check the documented example", []string{"-config", "../../deploy/agent.yaml", "-check-config"}, 0, "OK", ""},
		{"bad config names file, line and key", []string{"-config", bad, "-check-config"}, 1, "", bad + `:8: resources[0].mode: "fast"`},
		{"missing config", []string{"-config", filepath.Join(dir, "none.yaml")}, 1, "", "none.yaml"},
		{"unknown flag", []string{"-nope"}, 2, "", "flag provided but not defined"},
		{"stray argument", []string{"run"}, 2, "", `unexpected argument "run"`},
		{"bad log level", []string{"-log-level", "loud"}, 2, "", "-log-level"},
		{"connector without name", []string{"connector"}, 2, "", "usage: agent connector"},
		{"connector run by hand", []string{"connector", "mysql"}, 2, "", "plugin process the agent starts itself"},
		{"version", []string{"-version"}, 0, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := run(tt.args, &out, &errOut); code != tt.code {
				t.Fatalf("exit %d, want %d; stdout %q stderr %q", code, tt.code, out.String(), errOut.String())
			}
			if !strings.Contains(out.String(), tt.out) || !strings.Contains(errOut.String(), tt.err) {
				t.Fatalf("stdout %q stderr %q; want %q and %q", out.String(), errOut.String(), tt.out, tt.err)
			}
		})
	}
}

// TestBinaryStopsCleanlyOnSIGTERM builds the agent, runs it against MariaDB,
// an embedded broker and a stand-in for the hub's API, and checks that
// SIGTERM mid-snapshot exits 0 with a checkpoint that Kafka covers.
func TestBinaryStopsCleanlyOnSIGTERM(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "agent")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("go build: %v", err)
	}

	root, err := sql.Open("mysql", "root@tcp(127.0.0.1:3306)/")
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	if err := root.Ping(); err != nil {
		t.Fatalf("MariaDB at 127.0.0.1:3306 (root, no password) is unreachable: %v", err)
	}
	db := fmt.Sprintf("tb_test_%d", rand.Uint64()%1_000_000_000_000)
	if _, err := root.Exec("CREATE DATABASE " + db); err != nil {
		t.Fatal(err)
	}
	defer root.Exec("DROP DATABASE " + db)
	if _, err := root.Exec("CREATE TABLE " + db + ".t (id BIGINT PRIMARY KEY, v VARCHAR(20))"); err != nil {
		t.Fatal(err)
	}
	const n = 30000
	for lo := 1; lo <= n; lo += 1000 {
		var b strings.Builder
		fmt.Fprintf(&b, "INSERT INTO %s.t VALUES ", db)
		for i := lo; i < lo+1000; i++ {
			if i > lo {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, "(%d, 'v%d')", i, i)
		}
		if _, err := root.Exec(b.String()); err != nil {
			t.Fatal(err)
		}
	}

	kb, err := broker.Start(context.Background(), broker.Config{Partitions: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer kb.Close()
	if err := topics.Ensure(context.Background(), []string{kb.Addr()}, map[string]int{"tongban.ingest": 3}); err != nil {
		t.Fatal(err)
	}
	hub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/agents/register":
			_ = json.NewEncoder(w).Encode(map[string]any{"resources": []any{map[string]any{
				"code": "TB-SIG-001", "name": "n", "provider": "D1", "subject": map[string]any{"type": "none"},
				"primary_key": []string{"id"}, "schema_version": 1,
				"fields": []any{map[string]any{"name": "id", "type": "int64"}, map[string]any{"name": "v", "type": "string", "nullable": true}},
			}}})
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	defer hub.Close()
	state := filepath.Join(dir, "state")
	cfg := filepath.Join(dir, "agent.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`dept: D1
hub: {url: %s, token: t}
kafka: {brokers: [%s]}
state_dir: %s
metrics_listen: off
queue_chunks: 1
resources:
  - code: TB-SIG-001
    dsn: "root@tcp(127.0.0.1:3306)/%s"
    table: t
    chunk_rows: 200
`, hub.URL, kb.Addr(), state, db)), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	cmd := exec.Command(bin, "-config", cfg)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	store, err := checkpoint.Open(state)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		cp, ok, err := store.Load("TB-SIG-001")
		if err != nil {
			t.Fatal(err)
		}
		if ok && cp.SnapshotRows >= 1000 {
			break
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("no snapshot progress; log:\n%s", logs.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("agent exited with %v after SIGTERM; log:\n%s", err, logs.String())
		}
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("agent did not exit within 30s of SIGTERM; log:\n%s", logs.String())
	}
	cp, _, err := store.Load("TB-SIG-001")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "agent stopped") {
		t.Errorf("no clean stop in the log:\n%s", logs.String())
	}
	// Kafka holds exactly the rows the checkpoint acknowledges: the chunk
	// in flight at the signal was finished, nothing after it was sent.
	rows := 0
	for p := 0; p < 3; p++ {
		conn, err := kafka.DialLeader(context.Background(), "tcp", kb.Addr(), "tongban.ingest", p)
		if err != nil {
			t.Fatal(err)
		}
		end, err := conn.ReadLastOffset()
		conn.Close()
		if err != nil {
			t.Fatal(err)
		}
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{kb.Addr()}, Topic: "tongban.ingest", Partition: p, MaxWait: 50 * time.Millisecond})
		for off := int64(0); off < end; off++ {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			m, err := r.ReadMessage(ctx)
			cancel()
			if err != nil {
				t.Fatal(err)
			}
			rec, err := wire.DecodeRecord(m.Value)
			if err != nil {
				t.Fatal(err)
			}
			rows += int(rec.NumRows())
			rec.Release()
		}
		r.Close()
	}
	if int64(rows) != cp.SnapshotRows || cp.SnapshotRows == 0 || cp.SnapshotRows >= n {
		t.Errorf("Kafka holds %d rows, the checkpoint acknowledges %d (of %d)", rows, cp.SnapshotRows, n)
	}
	t.Logf("stopped at %s", cp.Summary())
}
