package hubclient

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// LiveRequest is a live lookup the hub hands to the agent: one row of
// Resource by its primary-key values (catalog primary-key order).
type LiveRequest struct {
	ID       string   `json:"id"`
	Resource string   `json:"resource"`
	Key      []string `json:"key"`
}

// LiveAnswer is the agent's answer to a LiveRequest: the row as a JSON
// object of the catalog fields (Found, Data, Version) or why it could not be
// read (Error).
type LiveAnswer struct {
	ID      string          `json:"id"`
	Found   bool            `json:"found"`
	Data    json.RawMessage `json:"data,omitempty"`
	Version int64           `json:"version"`
	Error   string          `json:"error,omitempty"`
}

// Poll is one long poll for the live lookups of the given resources queued
// for the agent's department: it returns at once when some wait, otherwise
// after about wait with none. The HTTP client's timeout must exceed wait.
func (c *Client) Poll(ctx context.Context, agentID string, resources []string, max int, wait time.Duration) ([]LiveRequest, error) {
	q := url.Values{}
	q.Set("agent_id", agentID)
	q.Set("resources", strings.Join(resources, ","))
	q.Set("max", strconv.Itoa(max))
	q.Set("wait", wait.String())
	var out struct {
		Requests []LiveRequest `json:"requests"`
	}
	if err := c.do(ctx, http.MethodGet, "/api/v1/live/poll", q, nil, &out); err != nil {
		return nil, err
	}
	return out.Requests, nil
}

// Answer posts answers to live lookups.
func (c *Client) Answer(ctx context.Context, answers []LiveAnswer) error {
	return c.do(ctx, http.MethodPost, "/api/v1/live/answers", nil, struct {
		Answers []LiveAnswer `json:"answers"`
	}{answers}, nil)
}
