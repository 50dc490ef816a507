package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"
)

// loopbackServer is an HTTP server on a loopback port.
type loopbackServer struct {
	url    string // http://127.0.0.1:port
	srv    *http.Server
	served chan error
}

// serveLoopback serves h on a free loopback port until close.
func serveLoopback(ctx context.Context, h http.Handler) (*loopbackServer, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen on loopback: %w", err)
	}
	s := &loopbackServer{url: "http://" + ln.Addr().String(), srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second},
		served: make(chan error, 1)}
	go func() { s.served <- s.srv.Serve(ln) }()
	return s, nil
}

// close runs before (if any), then shuts the server down (waiting up to 10 s
// for calls in flight).
func (s *loopbackServer) close(before func()) {
	if before != nil {
		before()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = s.srv.Shutdown(ctx)
	<-s.served
}

// loopbackClient is an HTTP client keeping an idle connection per caller.
func loopbackClient(callers int) (*http.Client, func()) {
	tr := &http.Transport{MaxIdleConns: callers, MaxIdleConnsPerHost: callers, DisableCompression: true,
		IdleConnTimeout: time.Minute}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}, tr.CloseIdleConnections
}

// shareQuery is the query of every share call: a purpose and a service
// item code are required of every call (grant.Decide).
func shareQuery() string {
	return url.Values{"purpose": {sharePurpose}, "item_code": {shareItemCode}}.Encode()
}

// checkedGet makes a GET with the bearer authorisation and wants a 200 whose
// body contains want: the answer must be the record asked for, not just any 200.
func checkedGet(ctx context.Context, client *http.Client, target, bearer, want string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", bearer)
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("bench: call: %w", err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return fmt.Errorf("bench: call: read the answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(want)) {
		return fmt.Errorf("bench: GET %s: %d %.300s", target, resp.StatusCode, body)
	}
	return nil
}
