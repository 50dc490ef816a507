package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildHub builds cmd/hub into a temporary directory.
func buildHub(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "hub")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hub.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestHubBinary(t *testing.T) {
	bin := buildHub(t)
	catalogDir, err := filepath.Abs(filepath.Join("..", "..", "deploy", "catalog"))
	if err != nil {
		t.Fatal(err)
	}
	sharingDir, err := filepath.Abs(filepath.Join("..", "..", "deploy", "sharing"))
	if err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	cfg := writeConfig(t, `
kafka:
  brokers: [embedded]
  embedded:
    addr: 127.0.0.1:0
    dir: `+filepath.Join(data, "kafka")+`
store:
  driver: sqlite
  dsn: `+filepath.Join(data, "hub.db")+`
catalog_dir: `+catalogDir+`
sharing:
  lists_dir: `+sharingDir+`
listen: 127.0.0.1:0
`)

	t.Run("runs and stops on SIGTERM", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, "-config", cfg, "-log-level", "debug")
		stderr, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = cmd.Process.Kill() }()
		apiRE := regexp.MustCompile(`msg="hub: running" api=(http://[0-9.:]+)`)
		lines := bufio.NewScanner(stderr)
		var api string
		var log strings.Builder
		for lines.Scan() {
			log.WriteString(lines.Text() + "\n")
			if m := apiRE.FindStringSubmatch(lines.Text()); m != nil {
				api = m[1]
				break
			}
		}
		if api == "" {
			t.Fatalf("the hub never said where it listens:\n%s", log.String())
		}
		go func() { _, _ = io.Copy(io.Discard, stderr) }()
		resp, err := http.Get(api + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), `"ok"`) {
			t.Fatalf("healthz: %d %s", resp.StatusCode, body)
		}
		resp, err = http.Get(api + "/api/v1/catalog/resources")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Fatalf("API without a token: %d", resp.StatusCode)
		}
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Wait(); err != nil {
			t.Fatalf("hub did not exit cleanly on SIGTERM: %v", err)
		}
	})

	bad := []struct {
		name, body, want string
		namesFile        bool // the error names the config file
	}{
		{"unknown key", "listen: 127.0.0.1:0\nlisten_port: 80\n", ":2: listen_port: unknown key", true},
		{"bad value", "kafka:\n  partitions: -3\n", ":2: kafka.partitions: -3 is out of range", true},
		{"bad catalog dir", "catalog_dir: /nonexistent/catalog\nlisten: 127.0.0.1:0\nkafka:\n  embedded:\n    addr: 127.0.0.1:0\n    dir: " + filepath.Join(data, "k2") + "\nstore:\n  dsn: " + filepath.Join(data, "h2.db") + "\n", "/nonexistent/catalog", false},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			path := writeConfig(t, c.body)
			out, err := exec.Command(bin, "-config", path).CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 1 {
				t.Fatalf("exit %v, want status 1; output:\n%s", err, out)
			}
			if !strings.Contains(string(out), c.want) || (c.namesFile && !strings.Contains(string(out), path+":")) {
				t.Fatalf("output does not name the file and key %q:\n%s", c.want, out)
			}
		})
	}
	t.Run("missing config file", func(t *testing.T) {
		out, err := exec.Command(bin, "-config", filepath.Join(data, "nope.yaml")).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "nope.yaml") {
			t.Fatalf("%v\n%s", err, out)
		}
	})
}
