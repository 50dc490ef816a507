package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// AgentStatus is what the hub knows of one agent.
type AgentStatus struct {
	AgentID string
	Dept    string
	Version string
	// Resources is the agent's resources as JSON (codes on registration,
	// per-resource statuses on heartbeats; the form is the caller's).
	Resources json.RawMessage
	// LastError is kept up to 8 KiB.
	LastError     string
	RegisteredAt  time.Time
	LastHeartbeat time.Time
}

// UpsertAgent inserts or replaces the status of a.AgentID. Fields left unset
// keep their stored values: nil Resources, a zero RegisteredAt or a zero
// LastHeartbeat. A new agent gets the current time for unset times.
func (s *DB) UpsertAgent(ctx context.Context, a AgentStatus) error {
	if err := s.upsertAgent(ctx, a); err != nil {
		return fmt.Errorf("store: upsert agent %q: %w", a.AgentID, err)
	}
	return nil
}

func (s *DB) upsertAgent(ctx context.Context, a AgentStatus) error {
	if err := checkText("agent id", a.AgentID, maxAgentIDLen, true); err != nil {
		return err
	}
	if err := checkText("dept", a.Dept, maxDeptLen, true); err != nil {
		return err
	}
	if err := checkText("version", a.Version, maxAgentVerLen, false); err != nil {
		return err
	}
	if a.Resources != nil {
		if err := checkJSON("resources", a.Resources, false); err != nil {
			return err
		}
	}
	now := time.Now()
	registered, err := timeArg("registered at", a.RegisteredAt, now)
	if err != nil {
		return err
	}
	heartbeat, err := timeArg("last heartbeat", a.LastHeartbeat, now)
	if err != nil {
		return err
	}
	// On update, NULL keeps the stored time.
	var setRegistered, setHeartbeat any
	if !a.RegisteredAt.IsZero() {
		setRegistered = registered
	}
	if !a.LastHeartbeat.IsZero() {
		setHeartbeat = heartbeat
	}
	q := `INSERT INTO agents (agent_id, dept, version, resources, last_error, registered_at, last_heartbeat)
 VALUES (?, ?, ?, ?, ?, ?, ?)
 ON CONFLICT(agent_id) DO UPDATE SET dept = excluded.dept, version = excluded.version,
 resources = COALESCE(excluded.resources, agents.resources), last_error = excluded.last_error,
 registered_at = COALESCE(?, agents.registered_at), last_heartbeat = COALESCE(?, agents.last_heartbeat)`
	if s.d.name == DriverMySQL {
		q = `INSERT INTO agents (agent_id, dept, version, resources, last_error, registered_at, last_heartbeat)
 VALUES (?, ?, ?, ?, ?, ?, ?)
 ON DUPLICATE KEY UPDATE dept = VALUES(dept), version = VALUES(version),
 resources = COALESCE(VALUES(resources), resources), last_error = VALUES(last_error),
 registered_at = COALESCE(?, registered_at), last_heartbeat = COALESCE(?, last_heartbeat)`
	}
	_, err = s.db.ExecContext(ctx, q, a.AgentID, a.Dept, a.Version, jsonArg(a.Resources),
		truncateText(a.LastError, maxLastErrorBytes), registered, heartbeat, setRegistered, setHeartbeat)
	return err
}

// ListAgents returns every agent, by agent id.
func (s *DB) ListAgents(ctx context.Context) ([]AgentStatus, error) {
	rs, err := s.db.QueryContext(ctx, `SELECT agent_id, dept, version, resources, last_error, registered_at, last_heartbeat
 FROM agents ORDER BY agent_id`)
	if err != nil {
		return nil, fmt.Errorf("store: list agents: %w", err)
	}
	defer rs.Close()
	var out []AgentStatus
	for rs.Next() {
		var (
			a         AgentStatus
			resources []byte
			reg, hb   dbTime
		)
		if err := rs.Scan(&a.AgentID, &a.Dept, &a.Version, &resources, &a.LastError, &reg, &hb); err != nil {
			return nil, fmt.Errorf("store: list agents: %w", err)
		}
		if resources != nil {
			a.Resources = json.RawMessage(resources)
		}
		a.RegisteredAt, a.LastHeartbeat = reg.Time, hb.Time
		out = append(out, a)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("store: list agents: %w", err)
	}
	return out, nil
}
