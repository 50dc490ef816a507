package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/tongban/tongban/hub/auth"
	"github.com/tongban/tongban/hub/store"
)

// Text limits of agent reports (the store's column limits).
const (
	maxAgentIDRunes  = 128
	maxVersionRunes  = 128
	maxPhaseRunes    = 64
	maxCheckpointLen = 4096
)

type registerRequest struct {
	AgentID   string   `json:"agent_id"`
	Dept      string   `json:"dept"`
	Version   string   `json:"version"`
	Resources []string `json:"resources"`
}

type registerResponse struct {
	AgentID   string            `json:"agent_id"`
	Resources []json.RawMessage `json:"resources"`
}

// resourceStatus is one resource in a heartbeat.
type resourceStatus struct {
	Code       string  `json:"code"`
	Phase      string  `json:"phase"`
	RowsRead   int64   `json:"rows_read"`
	RowsSent   int64   `json:"rows_sent"`
	RowsAcked  int64   `json:"rows_acked"`
	LagSeconds float64 `json:"lag_seconds"`
	Checkpoint string  `json:"checkpoint"`
	LastError  string  `json:"last_error"`
}

type heartbeatRequest struct {
	AgentID   string           `json:"agent_id"`
	Dept      string           `json:"dept"`
	Version   string           `json:"version"`
	Resources []resourceStatus `json:"resources"`
	LastError string           `json:"last_error"`
}

type heartbeatResponse struct {
	AgentID    string    `json:"agent_id"`
	ReceivedAt time.Time `json:"received_at"`
}

// agentJSON is an agent in GET /agents.
type agentJSON struct {
	AgentID       string          `json:"agent_id"`
	Dept          string          `json:"dept"`
	Version       string          `json:"version"`
	Resources     json.RawMessage `json:"resources"`
	LastError     string          `json:"last_error"`
	RegisteredAt  time.Time       `json:"registered_at"`
	LastHeartbeat time.Time       `json:"last_heartbeat"`
	// SecondsSinceHeartbeat is how long ago the last heartbeat came.
	SecondsSinceHeartbeat float64 `json:"seconds_since_heartbeat"`
}

// checkAgent validates the fields common to register and heartbeat.
func (s *server) checkAgent(r *http.Request, p auth.Principal, agentID, dept, version string) *apiError {
	switch {
	case agentID == "":
		return badRequest("agent_id", "agent_id is required")
	case !utf8.ValidString(agentID) || utf8.RuneCountInString(agentID) > maxAgentIDRunes:
		return badRequest("agent_id", fmt.Sprintf("agent_id must be valid UTF-8 of at most %d characters", maxAgentIDRunes))
	case dept == "":
		return badRequest("dept", "dept is required")
	case dept != p.Dept:
		return forbidden("dept", fmt.Sprintf("this token belongs to department %s, not %q", p.Dept, dept))
	case !utf8.ValidString(version) || utf8.RuneCountInString(version) > maxVersionRunes:
		return badRequest("version", fmt.Sprintf("version must be valid UTF-8 of at most %d characters", maxVersionRunes))
	}
	if _, ok := s.cat.Department(dept); !ok {
		return notFound("dept", fmt.Sprintf("department %q is not in the catalog", dept))
	}
	agents, err := s.st.ListAgents(r.Context())
	if err != nil {
		return s.internal(r, err)
	}
	for _, a := range agents {
		if a.AgentID == agentID && a.Dept != dept {
			return &apiError{status: http.StatusConflict, field: "agent_id",
				msg: fmt.Sprintf("agent_id %q is registered by another department; choose another id", agentID)}
		}
	}
	return nil
}

// checkProvided checks that code is a resource the department provides.
func (s *server) checkProvided(field, code, dept string) *apiError {
	res, ok := s.cat.Resource(code)
	if !ok {
		return notFound(field, fmt.Sprintf("resource %q is not in the catalog", code))
	}
	if res.Provider != dept {
		return forbidden(field, fmt.Sprintf("department %s does not provide resource %s (its provider is %s)", dept, code, res.Provider))
	}
	return nil
}

func (s *server) registerAgent(r *http.Request, p auth.Principal) (any, *apiError) {
	var req registerRequest
	if e := decodeBody(r, &req); e != nil {
		return nil, e
	}
	if e := s.checkAgent(r, p, req.AgentID, req.Dept, req.Version); e != nil {
		return nil, e
	}
	if len(req.Resources) == 0 {
		return nil, badRequest("resources", "resources must list at least one resource code")
	}
	seen := map[string]bool{}
	type registered struct {
		Code string `json:"code"`
	}
	statuses := make([]registered, 0, len(req.Resources))
	out := registerResponse{AgentID: req.AgentID, Resources: make([]json.RawMessage, 0, len(req.Resources))}
	for i, code := range req.Resources {
		field := fmt.Sprintf("resources[%d]", i)
		if seen[code] {
			return nil, badRequest(field, fmt.Sprintf("resource %q is listed twice", code))
		}
		seen[code] = true
		if e := s.checkProvided(field, code, req.Dept); e != nil {
			return nil, e
		}
		res, _ := s.cat.Resource(code)
		j, err := s.resourceJSON(r.Context(), res)
		if err != nil {
			return nil, s.internal(r, err)
		}
		out.Resources = append(out.Resources, j)
		statuses = append(statuses, registered{Code: code})
	}
	rj, err := json.Marshal(statuses)
	if err != nil {
		return nil, s.internal(r, err)
	}
	now := time.Now().UTC()
	if err := s.st.UpsertAgent(r.Context(), store.AgentStatus{
		AgentID: req.AgentID, Dept: req.Dept, Version: req.Version, Resources: rj,
		RegisteredAt: now, LastHeartbeat: now,
	}); err != nil {
		return nil, s.internal(r, err)
	}
	s.log.InfoContext(r.Context(), "api: agent registered", "agent_id", req.AgentID, "dept", req.Dept, "version", req.Version, "resources", req.Resources)
	return out, nil
}

func (s *server) heartbeat(r *http.Request, p auth.Principal) (any, *apiError) {
	var req heartbeatRequest
	if e := decodeBody(r, &req); e != nil {
		return nil, e
	}
	if e := s.checkAgent(r, p, req.AgentID, req.Dept, req.Version); e != nil {
		return nil, e
	}
	seen := map[string]bool{}
	for i, rs := range req.Resources {
		field := fmt.Sprintf("resources[%d]", i)
		if rs.Code == "" {
			return nil, badRequest(field+".code", "code is required")
		}
		if seen[rs.Code] {
			return nil, badRequest(field+".code", fmt.Sprintf("resource %q is listed twice", rs.Code))
		}
		seen[rs.Code] = true
		if e := s.checkProvided(field+".code", rs.Code, req.Dept); e != nil {
			return nil, e
		}
		for _, n := range []struct {
			name string
			v    float64
		}{{"rows_read", float64(rs.RowsRead)}, {"rows_sent", float64(rs.RowsSent)}, {"rows_acked", float64(rs.RowsAcked)}, {"lag_seconds", rs.LagSeconds}} {
			if n.v < 0 {
				return nil, badRequest(field+"."+n.name, fmt.Sprintf("%s must not be negative", n.name))
			}
		}
		switch {
		case !utf8.ValidString(rs.Phase) || utf8.RuneCountInString(rs.Phase) > maxPhaseRunes:
			return nil, badRequest(field+".phase", fmt.Sprintf("phase must be valid UTF-8 of at most %d characters", maxPhaseRunes))
		case len(rs.Checkpoint) > maxCheckpointLen:
			return nil, badRequest(field+".checkpoint", fmt.Sprintf("checkpoint is longer than %d bytes", maxCheckpointLen))
		}
	}
	rj, err := json.Marshal(req.Resources)
	if err != nil {
		return nil, s.internal(r, err)
	}
	now := time.Now().UTC()
	if err := s.st.UpsertAgent(r.Context(), store.AgentStatus{
		AgentID: req.AgentID, Dept: req.Dept, Version: req.Version, Resources: rj,
		LastError: req.LastError, LastHeartbeat: now,
	}); err != nil {
		return nil, s.internal(r, err)
	}
	return heartbeatResponse{AgentID: req.AgentID, ReceivedAt: now}, nil
}

func (s *server) listAgents(r *http.Request, _ auth.Principal) (any, *apiError) {
	if _, e := parseQuery(r); e != nil {
		return nil, e
	}
	agents, err := s.st.ListAgents(r.Context())
	if err != nil {
		return nil, s.internal(r, err)
	}
	now := time.Now()
	out := make([]agentJSON, 0, len(agents))
	for _, a := range agents {
		res := a.Resources
		if res == nil {
			res = json.RawMessage("[]")
		}
		out = append(out, agentJSON{
			AgentID: a.AgentID, Dept: a.Dept, Version: a.Version, Resources: res, LastError: a.LastError,
			RegisteredAt: a.RegisteredAt.UTC(), LastHeartbeat: a.LastHeartbeat.UTC(),
			SecondsSinceHeartbeat: now.Sub(a.LastHeartbeat).Seconds(),
		})
	}
	return map[string]any{"agents": out}, nil
}
