package server

import (
	"context"
	"crypto/tls"
	"crypto/x509/pkix"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tongban/tongban/hub/ca"
	"github.com/tongban/tongban/hub/store"
)

// The mutual-TLS listener authenticates a department by the certificate the
// hub's CA issued to it, with no bearer token; without either the answer is
// 401, and a certificate from another CA fails the handshake.
func TestMutualTLSListener(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig(t, copyCatalog(t))
	dir := t.TempDir()
	authority, err := ca.Init(filepath.Join(dir, "ca"), pkix.Name{CommonName: "测试枢纽 CA", Organization: []string{"通办"}})
	if err != nil {
		t.Fatal(err)
	}
	server, err := authority.ServerCert([]string{"127.0.0.1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Sharing.TLS = SharingTLS{Listen: "127.0.0.1:0", CADir: filepath.Join(dir, "ca"),
		CertFile: filepath.Join(dir, "server.crt"), KeyFile: filepath.Join(dir, "server.key")}
	for name, data := range map[string][]byte{cfg.Sharing.TLS.CertFile: server.CertPEM, cfg.Sharing.TLS.KeyFile: server.KeyPEM} {
		if err := os.WriteFile(name, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// The department's certificate is recorded in the hub's store.
	db, err := store.Open(ctx, cfg.Store)
	if err != nil {
		t.Fatal(err)
	}
	issued, err := authority.Issue(ctx, db, "112306000128140362", "大庆市民政局", time.Hour)
	_ = db.Close()
	if err != nil {
		t.Fatal(err)
	}
	other, err := ca.Init(filepath.Join(dir, "other"), pkix.Name{CommonName: "别的 CA", Organization: []string{"通办"}})
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := other.ServerCert([]string{"127.0.0.1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}

	s, err := New(ctx, cfg, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	s.Start(ctx)
	defer s.Close()
	if s.TLSAddr() == "" {
		t.Fatal("no mutual-TLS listener")
	}
	client := func(kp *ca.KeyPair) *http.Client {
		tc := &tls.Config{RootCAs: authority.Pool(), MinVersion: tls.VersionTLS12}
		if kp != nil {
			c, err := kp.TLSCertificate()
			if err != nil {
				t.Fatal(err)
			}
			// Always present it (Go's client would otherwise send no
			// certificate that the server's CA list does not name).
			tc.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &c, nil }
		}
		return &http.Client{Transport: &http.Transport{TLSClientConfig: tc}, Timeout: 10 * time.Second}
	}
	url := "https://" + s.TLSAddr() + "/api/v1/catalog/resources"
	resp, err := client(&issued.KeyPair).Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("with the department's certificate: %d, want 200", resp.StatusCode)
	}
	resp, err = client(nil).Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("without a certificate or token: %d, want 401", resp.StatusCode)
	}
	if resp, err := client(&foreign).Get(url); err == nil {
		resp.Body.Close()
		t.Fatalf("a certificate of another CA was accepted: %d", resp.StatusCode)
	}
}
