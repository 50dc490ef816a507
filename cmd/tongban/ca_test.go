package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tongban/tongban/hub/auth"
	"github.com/tongban/tongban/hub/ca"
	"github.com/tongban/tongban/hub/store"
)

func TestCACommands(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	code, out, errOut := call("ca", "init", "-dir", dir, "-name", "测试 CA")
	if code != 0 {
		t.Fatalf("ca init: %d %s", code, errOut)
	}
	c, err := ca.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if c.Certificate().Subject.CommonName != "测试 CA" || !strings.Contains(out, ca.Fingerprint(c.Certificate().Raw)) {
		t.Errorf("ca init printed %q for CA %v", out, c.Certificate().Subject)
	}
	if code, _, errOut := call("ca", "init", "-dir", dir); code != 1 || !strings.Contains(errOut, "already exists") {
		t.Errorf("second ca init: %d %s", code, errOut)
	}
	if code, out, _ := call("ca", "show", "-dir", dir); code != 0 || !strings.Contains(out, "测试 CA") {
		t.Errorf("ca show: %d %s", code, out)
	}

	srvDir := filepath.Join(t.TempDir(), "srv")
	code, _, errOut = call("ca", "server-cert", "-dir", dir, "-host", "127.0.0.1", "-host", "hub.local", "-out", srvDir)
	if code != 0 {
		t.Fatalf("ca server-cert: %d %s", code, errOut)
	}
	pair, err := tls.LoadX509KeyPair(filepath.Join(srvDir, serverCertFile), filepath.Join(srvDir, serverKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pair.Leaf.Verify(x509.VerifyOptions{Roots: c.Pool(), DNSName: "hub.local"}); err != nil {
		t.Errorf("server certificate: %v", err)
	}
	if code, _, errOut := call("ca", "server-cert", "-dir", dir, "-host", "127.0.0.1", "-out", srvDir); code != 1 || !strings.Contains(errOut, "already exists") {
		t.Errorf("server-cert over existing files: %d %s", code, errOut)
	}

	for _, args := range [][]string{
		{"ca"},
		{"ca", "nope"},
		{"ca", "server-cert", "-dir", dir},
		{"ca", "init", "extra"},
	} {
		if code, _, _ := call(args...); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
}

func TestDeptCommands(t *testing.T) {
	cfg, dsn := testConfig(t)
	caDir := filepath.Join(t.TempDir(), "ca")
	if code, _, errOut := call("ca", "init", "-dir", caDir); code != 0 {
		t.Fatalf("ca init: %d %s", code, errOut)
	}
	outDir := filepath.Join(t.TempDir(), "id")
	code, out, errOut := call("dept", "create", "-config", cfg, "-dept", testDept, "-dir", caDir, "-out", outDir, "-days", "30")
	if code != 0 {
		t.Fatalf("dept create: %d %s", code, errOut)
	}
	tok := strings.TrimSpace(out)
	if err := auth.CheckFormat(tok); err != nil || strings.Count(out, "\n") != 1 {
		t.Fatalf("dept create printed %q: %v", out, err)
	}
	if !strings.Contains(errOut, "shown only this once") {
		t.Errorf("dept create stderr %q", errOut)
	}

	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{Driver: store.DriverSQLite, DSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if p, err := auth.Authenticate(ctx, db, tok); err != nil || p.Dept != testDept {
		t.Fatalf("token: %+v %v", p, err)
	}

	for file, want := range map[string]os.FileMode{deptKeyFile: 0o600, deptCertFile: 0o644, deptCAFile: 0o644} {
		fi, err := os.Stat(filepath.Join(outDir, file))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s mode %v, want %v", file, fi.Mode().Perm(), want)
		}
	}
	pair, err := tls.LoadX509KeyPair(filepath.Join(outDir, deptCertFile), filepath.Join(outDir, deptKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(filepath.Join(outDir, deptCAFile))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		t.Fatal("ca.crt holds no certificate")
	}
	if _, err := pair.Leaf.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("client certificate does not chain to the written ca.crt: %v", err)
	}
	if d, err := ca.DeptFromCert(pair.Leaf); err != nil || d != testDept {
		t.Errorf("client certificate names %q (%v)", d, err)
	}
	serial := ca.SerialString(pair.Leaf.SerialNumber)
	rec, err := db.CertificateBySerial(ctx, serial)
	if err != nil || rec.Dept != testDept || rec.RevokedAt != nil || rec.Fingerprint != ca.Fingerprint(pair.Leaf.Raw) {
		t.Fatalf("stored certificate %+v %v", rec, err)
	}

	// Another identity into the same directory is refused before anything
	// is issued.
	if code, _, errOut := call("dept", "create", "-config", cfg, "-dept", testDept, "-dir", caDir, "-out", outDir); code != 1 || !strings.Contains(errOut, "already exists") {
		t.Errorf("dept create over existing files: %d %s", code, errOut)
	}
	// A token-only identity writes no files.
	tokOnlyDir := filepath.Join(t.TempDir(), "tok")
	if code, out, errOut := call("dept", "create", "-config", cfg, "-dept", testDept, "-cert=false", "-dir", filepath.Join(t.TempDir(), "no-ca"), "-out", tokOnlyDir); code != 0 || auth.CheckFormat(strings.TrimSpace(out)) != nil {
		t.Errorf("token-only dept create: %d %q %s", code, out, errOut)
	}
	if _, err := os.Stat(tokOnlyDir); !os.IsNotExist(err) {
		t.Errorf("token-only dept create wrote %s (%v)", tokOnlyDir, err)
	}
	certs, err := db.ListCertificates(ctx, "")
	if err != nil || len(certs) != 1 {
		t.Fatalf("%d certificates (%v), want 1", len(certs), err)
	}
	toks, err := db.ListTokens(ctx)
	if err != nil || len(toks) != 2 {
		t.Fatalf("%d tokens (%v), want 2", len(toks), err)
	}

	for _, tc := range []struct {
		args     []string
		wantCode int
	}{
		{[]string{"dept", "create", "-config", cfg}, 2},
		{[]string{"dept", "create", "-config", cfg, "-dept", testDept, "-days", "0"}, 2},
		{[]string{"dept", "create", "-config", cfg, "-dept", "91110000000000000X", "-dir", caDir, "-out", filepath.Join(t.TempDir(), "x")}, 1},
		{[]string{"dept", "create", "-config", cfg, "-dept", testDept, "-dir", filepath.Join(t.TempDir(), "no-ca"), "-out", filepath.Join(t.TempDir(), "y")}, 1},
		{[]string{"dept"}, 2},
		{[]string{"dept", "nope"}, 2},
		{[]string{"dept", "revoke-cert", "-config", cfg}, 2},
		{[]string{"dept", "revoke-cert", "-config", cfg, "xyz"}, 2},
		{[]string{"dept", "revoke-cert", "-config", cfg, "abc"}, 1},
	} {
		if code, _, errOut := call(tc.args...); code != tc.wantCode {
			t.Errorf("%q: exit %d, want %d (%s)", tc.args, code, tc.wantCode, errOut)
		}
	}
	// Failed creations left no certificate or token behind.
	if certs, _ := db.ListCertificates(ctx, ""); len(certs) != 1 {
		t.Errorf("%d certificates after failed creations, want 1", len(certs))
	}
	if toks, _ := db.ListTokens(ctx); len(toks) != 2 {
		t.Errorf("%d tokens after failed creations, want 2", len(toks))
	}

	code, out, errOut = call("dept", "certs", "-config", cfg)
	if code != 0 || !strings.Contains(out, serial) || !strings.Contains(out, "有效/valid") {
		t.Fatalf("dept certs: %d %s %s", code, out, errOut)
	}
	if code, out, _ := call("dept", "certs", "-config", cfg, "-dept", "1123060001281401X7"); code != 0 || strings.Contains(out, serial) {
		t.Errorf("dept certs of another department: %d %s", code, out)
	}

	// Serials may be given as openssl prints them.
	var colons []string
	for i := len(serial); i > 0; i -= 2 {
		colons = append([]string{serial[max(0, i-2):i]}, colons...)
	}
	code, out, errOut = call("dept", "revoke-cert", strings.ToUpper(strings.Join(colons, ":")), "-config", cfg)
	if code != 0 || !strings.Contains(out, serial) {
		t.Fatalf("revoke-cert: %d %s %s", code, out, errOut)
	}
	if rec, err := db.CertificateBySerial(ctx, serial); err != nil || rec.RevokedAt == nil {
		t.Errorf("after revoke-cert: %+v %v", rec, err)
	}
	if code, out, _ := call("dept", "certs", "-config", cfg, "-dept", testDept); code != 0 || !strings.Contains(out, "已吊销/revoked") {
		t.Errorf("dept certs after revocation: %d %s", code, out)
	}
}
