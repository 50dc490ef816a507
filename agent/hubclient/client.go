// Package hubclient is the agent's side of the hub's HTTP JSON API
// (/api/v1, bearer token): registration, which returns the catalog
// definitions of the agent's resources, heartbeats, the live keys of a
// resource for reconcile, and the long poll and answers of live lookups
// (live.go).
package hubclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// maxResponseBytes bounds a response body the client reads.
const maxResponseBytes = 64 << 20

// DefaultTimeout bounds one request when the caller's HTTP client has none.
const DefaultTimeout = 30 * time.Second

// Client talks to one hub.
type Client struct {
	base  string // without the trailing slash
	token string
	http  *http.Client
}

// New returns a client of the hub at baseURL (e.g. https://hub.example/),
// authenticating with token. A nil hc means a client with DefaultTimeout.
func New(baseURL, token string, hc *http.Client) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("hub url %q: want an http:// or https:// URL with a host", baseURL)
	}
	if hc == nil {
		hc = &http.Client{Timeout: DefaultTimeout}
	}
	return &Client{base: strings.TrimRight(baseURL, "/"), token: token, http: hc}, nil
}

// StatusError is a non-2xx answer of the hub.
type StatusError struct {
	Method, Path string
	Status       int
	Message      string // the hub's "error"
	Field        string // the hub's "field", if any
}

func (e *StatusError) Error() string {
	msg := e.Message
	if e.Field != "" {
		msg = e.Field + ": " + msg
	}
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	return fmt.Sprintf("hub %s %s: %d: %s", e.Method, e.Path, e.Status, msg)
}

// Permanent reports an answer that repeating the same request will not
// change: a 4xx other than 408 and 429.
func (e *StatusError) Permanent() bool {
	return e.Status >= 400 && e.Status < 500 && e.Status != http.StatusRequestTimeout && e.Status != http.StatusTooManyRequests
}

// IsPermanent reports whether err is a hub answer not worth retrying.
func IsPermanent(err error) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Permanent()
}

// do sends one request with a JSON body (nil: none) and decodes a JSON
// answer into out (nil: ignore it).
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("hub %s %s: %w", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	target := c.base + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return fmt.Errorf("hub %s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("hub %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return fmt.Errorf("hub %s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		se := &StatusError{Method: method, Path: path, Status: resp.StatusCode}
		var e struct {
			Error string `json:"error"`
			Field string `json:"field"`
		}
		if json.Unmarshal(data, &e) == nil {
			se.Message, se.Field = e.Error, e.Field
		} else {
			se.Message = strings.TrimSpace(string(data[:min(len(data), 200)]))
		}
		return se
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("hub %s %s: answer is not the expected JSON: %w", method, path, err)
	}
	return nil
}

// KeyVersion is one live key at the hub and the version stored for it.
type KeyVersion struct {
	Key     string `json:"key"`
	Version int64  `json:"version"`
}

// KeyPage is one page of live keys, in key order.
type KeyPage struct {
	Keys []KeyVersion `json:"keys"`
	// Next is the cursor of the next page; empty at the end.
	Next string `json:"next_after"`
}

// Keys returns up to limit live keys of resource after the given key.
func (c *Client) Keys(ctx context.Context, resource, after string, limit int) (KeyPage, error) {
	q := url.Values{}
	q.Set("after", after)
	q.Set("limit", strconv.Itoa(limit))
	var p KeyPage
	err := c.do(ctx, http.MethodGet, "/api/v1/resources/"+url.PathEscape(resource)+"/keys", q, nil, &p)
	return p, err
}
