package hubclient

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/tongban/tongban/catalog"
)

// Definition is the catalog definition of a resource as the hub gives it
// to an agent: the resource and the version of its schema.
type Definition struct {
	Resource      catalog.Resource
	SchemaVersion int
	// Fingerprint is the hub's fingerprint of the schema version.
	Fingerprint string
}

// definitionExtra are the keys the hub adds to the resource JSON.
type definitionExtra struct {
	SchemaVersion int    `json:"schema_version"`
	Fingerprint   string `json:"fingerprint"`
}

// UnmarshalJSON reads the resource JSON with schema_version and fingerprint.
func (d *Definition) UnmarshalJSON(b []byte) error {
	var r catalog.Resource
	if err := json.Unmarshal(b, &r); err != nil {
		return err
	}
	var x definitionExtra
	if err := json.Unmarshal(b, &x); err != nil {
		return err
	}
	*d = Definition{Resource: r, SchemaVersion: x.SchemaVersion, Fingerprint: x.Fingerprint}
	return nil
}

// MarshalJSON writes what UnmarshalJSON reads (the agent caches it).
func (d Definition) MarshalJSON() ([]byte, error) {
	rb, err := json.Marshal(d.Resource)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(rb, &m); err != nil {
		return nil, err
	}
	m["schema_version"], _ = json.Marshal(d.SchemaVersion)
	m["fingerprint"], _ = json.Marshal(d.Fingerprint)
	return json.Marshal(m)
}

// Check verifies what the agent relies on: a code, valid fields, a primary
// key among the fields and a subject field among the fields.
func (d Definition) Check() error {
	r := d.Resource
	if r.Code == "" {
		return fmt.Errorf("hub definition without a resource code")
	}
	if err := r.Schema.Validate(); err != nil {
		return fmt.Errorf("hub definition of %s: %w", r.Code, err)
	}
	if len(r.PrimaryKey) == 0 {
		return fmt.Errorf("hub definition of %s: no primary key", r.Code)
	}
	for _, k := range r.PrimaryKey {
		if r.Schema.Index(k) < 0 {
			return fmt.Errorf("hub definition of %s: primary key field %q is not a field", r.Code, k)
		}
	}
	if f := r.SubjectKeyField(); f != "" && r.Schema.Index(f) < 0 {
		return fmt.Errorf("hub definition of %s: subject field %q is not a field", r.Code, f)
	}
	return nil
}

// SchemaFingerprint is the fingerprint the agent sends in tb-schema-fp: the
// hub's when it gave one, otherwise the agent's computation from the fields.
func (d Definition) SchemaFingerprint() string {
	if d.Fingerprint != "" {
		return d.Fingerprint
	}
	return d.Resource.Schema.Fingerprint()
}

// RegisterRequest is the body of POST /api/v1/agents/register.
type RegisterRequest struct {
	AgentID   string   `json:"agent_id"`
	Dept      string   `json:"dept"`
	Version   string   `json:"version"`
	Resources []string `json:"resources"`
}

// Register announces the agent and returns the definitions of its resources.
// Every definition passes Check, and there is one for each code asked for.
func (c *Client) Register(ctx context.Context, req RegisterRequest) ([]Definition, error) {
	var out struct {
		Resources []Definition `json:"resources"`
	}
	if err := c.do(ctx, http.MethodPost, "/api/v1/agents/register", nil, req, &out); err != nil {
		return nil, err
	}
	byCode := make(map[string]Definition, len(out.Resources))
	for _, d := range out.Resources {
		if err := d.Check(); err != nil {
			return nil, err
		}
		byCode[d.Resource.Code] = d
	}
	defs := make([]Definition, 0, len(req.Resources))
	for _, code := range req.Resources {
		d, ok := byCode[code]
		if !ok {
			return nil, fmt.Errorf("hub registration: the hub sent no definition of resource %s", code)
		}
		defs = append(defs, d)
	}
	return defs, nil
}

// ResourceStatus is one resource's part of a heartbeat.
type ResourceStatus struct {
	Code       string  `json:"code"`
	Phase      string  `json:"phase"`
	RowsRead   int64   `json:"rows_read"`
	RowsSent   int64   `json:"rows_sent"`
	RowsAcked  int64   `json:"rows_acked"`
	LagSeconds float64 `json:"lag_seconds"`
	Checkpoint string  `json:"checkpoint"`
	LastError  string  `json:"last_error"`
}

// Heartbeat is the body of POST /api/v1/agents/heartbeat.
type Heartbeat struct {
	AgentID   string           `json:"agent_id"`
	Dept      string           `json:"dept"`
	Version   string           `json:"version"`
	Resources []ResourceStatus `json:"resources"`
	LastError string           `json:"last_error"`
}

// SendHeartbeat posts a heartbeat.
func (c *Client) SendHeartbeat(ctx context.Context, hb Heartbeat) error {
	return c.do(ctx, http.MethodPost, "/api/v1/agents/heartbeat", nil, hb, nil)
}
