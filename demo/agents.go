package demo

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tongban/tongban/agent"
	"github.com/tongban/tongban/hub/auth"
	"github.com/tongban/tongban/hub/server"
)

// startAgent writes the department's agent config (so it can be read and
// reused with cmd/agent), issues its token and builds the agent.
func startAgent(ctx context.Context, cfg Config, hub *server.Server, d *department) (*agent.Agent, error) {
	token, err := auth.Create(ctx, hub.Store(), "demo-agent-"+d.db, d.dept, auth.RoleDept)
	if err != nil {
		return nil, fmt.Errorf("demo: token for %s: %w", d.dept, err)
	}
	dir := filepath.Join(cfg.Dir, "agents", d.db)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	path := filepath.Join(dir, "agent.yaml")
	yaml := fmt.Sprintf(`# 演示代理配置（由 tongban demo 生成）/ demo agent config written by tongban demo
dept: %s
agent_id: %s
hub:
  url: %s
  token: %s
  heartbeat_interval: 2s
kafka:
  brokers: [%s]
state_dir: %s
metrics_listen: 127.0.0.1:0
resources:
  - code: %s
    connector: mysql
    dsn: %s
    table: %s
    watermark: updated_at
    mode: incremental
    interval: %s
    reconcile_interval: 1m
    chunk_rows: 5000
`, quoteYAML(d.dept), quoteYAML("demo-"+d.db), quoteYAML(hub.APIURL()), quoteYAML(token),
		quoteYAML(hub.BrokerAddrs()[0]), quoteYAML(filepath.Join(dir, "state")), d.resource,
		quoteYAML(d.dsn), d.table, cfg.Interval)
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	acfg, err := agent.LoadConfig(path)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	a, err := agent.New(acfg, agent.Options{Logger: cfg.Logger.With("component", "agent", "dept", d.dept)})
	if err != nil {
		return nil, fmt.Errorf("demo: agent of %s: %w", d.resource, err)
	}
	return a, nil
}
