package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/tongban/tongban/hub/server"
)

// Environment variables the commands that call a running hub read.
const (
	hubEnv   = "TONGBAN_HUB"
	tokenEnv = "TONGBAN_TOKEN"
)

// hubOptions are the flags of a command that calls a running hub's API.
type hubOptions struct {
	config, hub, token *string
	asJSON             *bool
}

// addHubFlags registers -config, -hub, -token and -json.
func addHubFlags(fs *flag.FlagSet) hubOptions {
	return hubOptions{
		config: fs.String("config", defaultConfig, "hub configuration file (its listen address is the hub's, when -hub and $"+hubEnv+" are not set)"),
		hub:    fs.String("hub", os.Getenv(hubEnv), "the hub's API address, e.g. http://127.0.0.1:8080 (default $"+hubEnv+")"),
		token:  fs.String("token", os.Getenv(tokenEnv), "API token (default $"+tokenEnv+")"),
		asJSON: fs.Bool("json", false, "print the hub's JSON answer"),
	}
}

// client returns the API client of the options; needToken says whether the
// command's calls need a token. timeout bounds one call.
func (o hubOptions) client(name string, needToken bool, timeout time.Duration) (*hubClient, error) {
	if needToken && *o.token == "" {
		return nil, fmt.Errorf("%w: %s: give -token or set %s", errUsage, name, tokenEnv)
	}
	base, err := hubURL(*o.config, *o.hub)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: %s: -hub %q is not an http(s) URL", errUsage, name, base)
	}
	return &hubClient{base: base, token: *o.token, http: &http.Client{Timeout: timeout}}, nil
}

// hubURL is the -hub URL when given, else http://<listen> of the hub config.
func hubURL(configPath, flagURL string) (string, error) {
	if flagURL != "" {
		return strings.TrimSuffix(flagURL, "/"), nil
	}
	cfg, err := server.LoadConfig(configPath)
	if err != nil {
		return "", fmt.Errorf("%w (or give -hub http://host:port)", err)
	}
	host, port, err := net.SplitHostPort(cfg.Listen)
	if err != nil || port == "0" {
		return "", fmt.Errorf("%w: the hub's listen address %q in %s gives no fixed address: give -hub http://host:port", errUsage, cfg.Listen, configPath)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port), nil
}

// hubClient calls a running hub's API.
type hubClient struct {
	base, token string
	http        *http.Client
}

// do calls the API and returns the raw JSON of a 2xx answer; other answers
// are errors with the hub's message and the field it names.
func (c *hubClient) do(ctx context.Context, method, path string, body any) (json.RawMessage, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("hub %s: %w (is it running?)", c.base, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("hub %s: read the answer: %w", c.base, err)
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error string `json:"error"`
			Field string `json:"field"`
		}
		if json.Unmarshal(raw, &e) == nil && e.Error != "" {
			if e.Field != "" {
				return nil, fmt.Errorf("hub answered %d: %s (field %s)", resp.StatusCode, e.Error, e.Field)
			}
			return nil, fmt.Errorf("hub answered %d: %s", resp.StatusCode, e.Error)
		}
		return nil, fmt.Errorf("hub answered %d: %.200s", resp.StatusCode, raw)
	}
	return raw, nil
}

// get calls the API and decodes the JSON answer into out.
func (c *hubClient) call(ctx context.Context, method, path string, body, out any) error {
	raw, err := c.do(ctx, method, path, body)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("hub %s: the answer is not the JSON expected: %w", c.base, err)
	}
	return nil
}

// printJSON prints an API answer indented.
func printJSON(w io.Writer, raw json.RawMessage) error {
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, buf.String())
	return err
}
