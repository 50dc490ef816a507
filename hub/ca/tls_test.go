package ca

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tongban/tongban/hub/store"
)

// countingLookup counts store lookups.
type countingLookup struct {
	Lookup
	n atomic.Int32
}

func (c *countingLookup) CertificateBySerial(ctx context.Context, serial string) (store.Certificate, error) {
	c.n.Add(1)
	return c.Lookup.CertificateBySerial(ctx, serial)
}

// brokenLookup fails every lookup.
type brokenLookup struct{}

func (brokenLookup) CertificateBySerial(context.Context, string) (store.Certificate, error) {
	return store.Certificate{}, errors.New("database is down")
}

// discardRecorder accepts certificates without keeping them.
type discardRecorder struct{}

func (discardRecorder) AddCertificate(context.Context, store.Certificate) error { return nil }

// startServer runs an HTTPS server with c's TLS config whose handler answers
// the department of the client certificate ("-" without one).
func startServer(t *testing.T, c *CA, st Lookup, opts TLSOptions) *httptest.Server {
	t.Helper()
	kp, err := c.ServerCert([]string{"127.0.0.1", "localhost"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := kp.TLSCertificate()
	if err != nil {
		t.Fatal(err)
	}
	if opts.Logger == nil {
		opts.Logger = quietLogger()
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		dept, ok := DeptFromConn(*r.TLS)
		if !ok {
			dept = "-"
		}
		if serial, ok := ClientSerial(*r.TLS); ok {
			w.Header().Set("X-Serial", serial)
		}
		_, _ = io.WriteString(w, dept)
	}))
	srv.TLS = c.TLSConfig(st, sc, opts)
	// Refused handshakes are the point of these tests, not noise.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// get makes one request on a fresh connection with the given client
// certificates and returns the body.
func get(c *CA, srv *httptest.Server, certs []tls.Certificate, maxVersion uint16) (string, error) {
	body, _, err := getWithSerial(c, srv, certs, maxVersion)
	return body, err
}

// getWithSerial is get also returning the client serial the handler saw.
func getWithSerial(c *CA, srv *httptest.Server, certs []tls.Certificate, maxVersion uint16) (string, string, error) {
	tr := &http.Transport{TLSClientConfig: &tls.Config{
		RootCAs:      c.Pool(),
		Certificates: certs,
		MaxVersion:   maxVersion,
	}}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	resp, err := client.Get(srv.URL)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", "", errors.New(resp.Status)
	}
	return string(b), resp.Header.Get("X-Serial"), nil
}

func tlsCert(t *testing.T, kp KeyPair) []tls.Certificate {
	t.Helper()
	c, err := kp.TLSCertificate()
	if err != nil {
		t.Fatal(err)
	}
	return []tls.Certificate{c}
}

func TestMutualTLS(t *testing.T) {
	c, _ := newCA(t)
	other, _ := newCA(t)
	db := openStore(t)
	ctx := context.Background()
	now := time.Now()

	good, err := c.Issue(ctx, db, deptA, "大庆市公安局", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	goodB, err := c.Issue(ctx, db, deptB, "大庆市市场监督管理局", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	revoked, err := c.Issue(ctx, db, deptA, "大庆市公安局", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := Revoke(ctx, db, revoked.Record.Serial); err != nil {
		t.Fatal(err)
	}
	expired, err := c.issue(ctx, db, deptA, "大庆市公安局", now.Add(-48*time.Hour), now.Add(-24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	notYet, err := c.issue(ctx, db, deptA, "大庆市公安局", now.Add(24*time.Hour), now.Add(48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	// Signed by the CA but never recorded: a certificate made with a stolen
	// CA key, or lost from the store.
	unrecorded, err := c.issue(ctx, discardRecorder{}, deptA, "大庆市公安局", now.Add(-time.Minute), now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := other.Issue(ctx, openStore(t), deptA, "大庆市公安局", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	server, err := c.ServerCert([]string{"127.0.0.1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}

	srv := startServer(t, c, db, TLSOptions{CacheTTL: -1})
	for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		for _, tc := range []struct {
			name     string
			certs    []tls.Certificate
			wantDept string // "" means the handshake must fail
		}{
			{"issued", tlsCert(t, good.KeyPair), deptA},
			{"issued to another department", tlsCert(t, goodB.KeyPair), deptB},
			{"no certificate", nil, ""},
			{"another CA", tlsCert(t, foreign.KeyPair), ""},
			{"revoked", tlsCert(t, revoked.KeyPair), ""},
			{"expired", tlsCert(t, expired.KeyPair), ""},
			{"not yet valid", tlsCert(t, notYet.KeyPair), ""},
			{"not recorded", tlsCert(t, unrecorded.KeyPair), ""},
			{"server certificate as client", tlsCert(t, server), ""},
		} {
			got, err := get(c, srv, tc.certs, version)
			switch {
			case tc.wantDept == "" && err == nil:
				t.Errorf("TLS %x %s: request succeeded (dept %q), want a refused handshake", version, tc.name, got)
			case tc.wantDept != "" && err != nil:
				t.Errorf("TLS %x %s: %v", version, tc.name, err)
			case tc.wantDept != "" && got != tc.wantDept:
				t.Errorf("TLS %x %s: handler saw dept %q, want %q", version, tc.name, got, tc.wantDept)
			}
		}
	}

	if _, serial, err := getWithSerial(c, srv, tlsCert(t, good.KeyPair), 0); err != nil || serial != good.Record.Serial {
		t.Errorf("handler saw client serial %q (%v), want %q", serial, err, good.Record.Serial)
	}

	// A certificate revoked after it was used is refused on the next
	// connection (no cache here).
	if err := Revoke(ctx, db, good.Record.Serial); err != nil {
		t.Fatal(err)
	}
	if got, err := get(c, srv, tlsCert(t, good.KeyPair), 0); err == nil {
		t.Errorf("certificate revoked after use still accepted (dept %q)", got)
	}
}

func TestTLSRefusesOldVersions(t *testing.T) {
	c, _ := newCA(t)
	db := openStore(t)
	good, err := c.Issue(context.Background(), db, deptA, "大庆市公安局", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, c, db, TLSOptions{})
	if _, err := get(c, srv, tlsCert(t, good.KeyPair), tls.VersionTLS11); err == nil {
		t.Error("a TLS 1.1 client was accepted")
	}
}

func TestTLSStoreDownFailsClosed(t *testing.T) {
	c, _ := newCA(t)
	db := openStore(t)
	good, err := c.Issue(context.Background(), db, deptA, "大庆市公安局", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, c, brokenLookup{}, TLSOptions{})
	if got, err := get(c, srv, tlsCert(t, good.KeyPair), 0); err == nil {
		t.Errorf("accepted a certificate the store could not check (dept %q)", got)
	}
}

func TestTLSCache(t *testing.T) {
	c, _ := newCA(t)
	db := openStore(t)
	ctx := context.Background()
	good, err := c.Issue(ctx, db, deptA, "大庆市公安局", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name        string
		ttl         time.Duration
		wantLookups int32
	}{
		{"cached", time.Hour, 1},
		{"no cache", -1, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			look := &countingLookup{Lookup: db}
			srv := startServer(t, c, look, TLSOptions{CacheTTL: tc.ttl})
			for i := 0; i < 3; i++ {
				if got, err := get(c, srv, tlsCert(t, good.KeyPair), 0); err != nil || got != deptA {
					t.Fatalf("request %d: %q, %v", i, got, err)
				}
			}
			if n := look.n.Load(); n != tc.wantLookups {
				t.Errorf("%d store lookups for 3 connections, want %d", n, tc.wantLookups)
			}
		})
	}
}

func TestTLSAllowNoClientCert(t *testing.T) {
	c, _ := newCA(t)
	db := openStore(t)
	ctx := context.Background()
	good, err := c.Issue(ctx, db, deptA, "大庆市公安局", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	revoked, err := c.Issue(ctx, db, deptB, "大庆市市场监督管理局", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := Revoke(ctx, db, revoked.Record.Serial); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, c, db, TLSOptions{AllowNoClientCert: true, CacheTTL: -1})
	for _, tc := range []struct {
		name     string
		certs    []tls.Certificate
		wantDept string
	}{
		{"no certificate", nil, "-"},
		{"issued", tlsCert(t, good.KeyPair), deptA},
		{"revoked", tlsCert(t, revoked.KeyPair), ""},
	} {
		got, err := get(c, srv, tc.certs, 0)
		switch {
		case tc.wantDept == "" && err == nil:
			t.Errorf("%s: accepted (dept %q)", tc.name, got)
		case tc.wantDept != "" && (err != nil || got != tc.wantDept):
			t.Errorf("%s: %q, %v; want %q", tc.name, got, err, tc.wantDept)
		}
	}
}

func TestDeptFromCert(t *testing.T) {
	c, _ := newCA(t)
	uri := func(s string) []*url.URL {
		u, err := url.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return []*url.URL{u}
	}
	now := time.Now()
	for _, tc := range []struct {
		name    string
		subject pkix.Name
		uris    []*url.URL
		want    string // "" means an error
	}{
		{"uri and serialNumber", pkix.Name{CommonName: "x", SerialNumber: deptA}, uri(DeptURI(deptA)), deptA},
		{"uri only", pkix.Name{CommonName: "x"}, uri(DeptURI(deptB)), deptB},
		{"serialNumber only", pkix.Name{CommonName: "x", SerialNumber: deptA}, nil, deptA},
		{"other URIs ignored", pkix.Name{CommonName: "x", SerialNumber: deptA}, uri("https://example.org/x"), deptA},
		{"disagree", pkix.Name{CommonName: "x", SerialNumber: deptB}, uri(DeptURI(deptA)), ""},
		{"two departments", pkix.Name{CommonName: "x"}, append(uri(DeptURI(deptA)), uri(DeptURI(deptB))...), ""},
		{"bad code in URI", pkix.Name{CommonName: "x"}, uri("urn:tongban:dept:123"), ""},
		{"bad serialNumber", pkix.Name{CommonName: "x", SerialNumber: "123"}, nil, ""},
		{"nothing", pkix.Name{CommonName: "x"}, nil, ""},
	} {
		kp, err := c.sign(&x509.Certificate{Subject: tc.subject, URIs: tc.uris}, now, now.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		got, err := DeptFromCert(kp.Cert)
		switch {
		case tc.want == "" && err == nil:
			t.Errorf("%s: DeptFromCert = %q, want an error", tc.name, got)
		case tc.want != "" && (err != nil || got != tc.want):
			t.Errorf("%s: DeptFromCert = %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
	if _, ok := DeptFromConn(tls.ConnectionState{}); ok {
		t.Error("DeptFromConn without a verified chain reported a department")
	}
}

func TestWriteNewFile(t *testing.T) {
	dir := t.TempDir()
	p := dir + "/f"
	if err := WriteNewFile(p, []byte("one"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteNewFile(p, []byte("two"), 0o600); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("overwrote an existing file: %v", err)
	}
}
