package ca

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm3"

	"github.com/tongban/tongban/hub/store"
)

// Departments of deploy/catalog (valid unified social credit codes).
const (
	deptA = "1123060001281401X7"
	deptB = "112306000128140287"
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func openStore(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), store.Config{Driver: store.DriverSQLite, DSN: filepath.Join(t.TempDir(), "hub.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func newCA(t *testing.T) (*CA, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "ca")
	c, err := Init(dir, pkix.Name{CommonName: "通办测试 CA"})
	if err != nil {
		t.Fatal(err)
	}
	return c, dir
}

func TestInitAndLoad(t *testing.T) {
	c, dir := newCA(t)
	for file, want := range map[string]os.FileMode{KeyFile: 0o600, CertFile: 0o644} {
		fi, err := os.Stat(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s mode = %v, want %v", file, fi.Mode().Perm(), want)
		}
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("CA directory mode = %v (%v), want 0700", fi.Mode().Perm(), err)
	}
	cert := c.Certificate()
	if !cert.IsCA || cert.Subject.CommonName != "通办测试 CA" || len(cert.Subject.Organization) != 1 || cert.Subject.Organization[0] != Organization {
		t.Errorf("CA certificate subject %v, IsCA %v", cert.Subject, cert.IsCA)
	}
	if err := cert.CheckSignatureFrom(cert); err != nil {
		t.Errorf("CA certificate is not self-signed: %v", err)
	}

	before, _ := os.ReadFile(filepath.Join(dir, KeyFile))
	if _, err := Init(dir, pkix.Name{CommonName: "again"}); !errors.Is(err, ErrExists) {
		t.Fatalf("second Init error = %v, want ErrExists", err)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, KeyFile)); string(after) != string(before) {
		t.Fatal("second Init changed the key")
	}

	loaded, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !loaded.Certificate().Equal(cert) || !loaded.key.Equal(c.key) {
		t.Error("Load returned another CA")
	}

	// A key from another CA does not load with this certificate.
	_, other := newCA(t)
	mixed := t.TempDir()
	for src, file := range map[string]string{dir: CertFile, other: KeyFile} {
		b, err := os.ReadFile(filepath.Join(src, file))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(mixed, file), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Load(mixed); err == nil || !strings.Contains(err.Error(), "does not belong") {
		t.Errorf("Load with a foreign key: %v", err)
	}
	if _, err := Load(t.TempDir()); err == nil {
		t.Error("Load of an empty directory succeeded")
	}
	if _, err := Init(t.TempDir(), pkix.Name{}); err == nil {
		t.Error("Init without a common name succeeded")
	}
}

func TestInitRefusesHalfACA(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, CertFile), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Init(dir, pkix.Name{CommonName: "x"}); !errors.Is(err, ErrExists) {
		t.Fatalf("Init over a lone %s: %v, want ErrExists", CertFile, err)
	}
	if _, err := os.Stat(filepath.Join(dir, KeyFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Init left a key behind: %v", err)
	}
}

func TestIssue(t *testing.T) {
	c, _ := newCA(t)
	db := openStore(t)
	ctx := context.Background()
	is, err := c.Issue(ctx, db, deptA, "大庆市公安局", 30*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cert := is.Cert
	if cert.Subject.CommonName != "大庆市公安局" || cert.Subject.SerialNumber != deptA ||
		len(cert.Subject.Organization) != 1 || cert.Subject.Organization[0] != Organization {
		t.Errorf("subject = %v", cert.Subject)
	}
	if len(cert.URIs) != 1 || cert.URIs[0].String() != "urn:tongban:dept:"+deptA {
		t.Errorf("URIs = %v", cert.URIs)
	}
	if len(cert.ExtKeyUsage) != 1 || cert.ExtKeyUsage[0] != x509.ExtKeyUsageClientAuth || cert.IsCA {
		t.Errorf("ExtKeyUsage = %v, IsCA = %v", cert.ExtKeyUsage, cert.IsCA)
	}
	if cert.PublicKeyAlgorithm != x509.ECDSA {
		t.Errorf("key algorithm %v", cert.PublicKeyAlgorithm)
	}
	if bits := cert.SerialNumber.BitLen(); bits > 128 || bits < 64 {
		t.Errorf("serial has %d bits", bits)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: c.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("issued certificate does not verify: %v", err)
	}
	if d := cert.NotAfter.Sub(cert.NotBefore); d < 30*24*time.Hour || d > 30*24*time.Hour+backdate+time.Second {
		t.Errorf("validity %v", d)
	}
	if got, err := DeptFromCert(cert); err != nil || got != deptA {
		t.Errorf("DeptFromCert = %q, %v", got, err)
	}

	rec, err := db.CertificateBySerial(ctx, SerialString(cert.SerialNumber))
	if err != nil {
		t.Fatal(err)
	}
	sum := sm3.Sum(cert.Raw)
	if rec.Dept != deptA || rec.Name != "大庆市公安局" || rec.RevokedAt != nil ||
		!rec.NotBefore.Equal(cert.NotBefore) || !rec.NotAfter.Equal(cert.NotAfter) || rec.Fingerprint != Fingerprint(cert.Raw) {
		t.Errorf("stored record %+v", rec)
	}
	if rec.Fingerprint != hex.EncodeToString(sum[:]) {
		t.Errorf("fingerprint %q is not the hex SM3 digest of the certificate", rec.Fingerprint)
	}
	if _, err := is.TLSCertificate(); err != nil {
		t.Errorf("key pair does not load: %v", err)
	}

	second, err := c.Issue(ctx, db, deptA, "大庆市公安局", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if second.Record.Serial == is.Record.Serial || string(second.KeyPEM) == string(is.KeyPEM) {
		t.Error("two certificates share a serial or a key")
	}

	for _, tc := range []struct {
		name, dept, deptName string
		validity             time.Duration
	}{
		{"bad code", "123", "x", time.Hour},
		{"bad check character", "112306000128140288", "x", time.Hour},
		{"no name", deptA, " ", time.Hour},
		{"no validity", deptA, "x", 0},
		{"beyond the CA", deptA, "x", 20 * 365 * 24 * time.Hour},
	} {
		if _, err := c.Issue(ctx, db, tc.dept, tc.deptName, tc.validity); err == nil {
			t.Errorf("%s: Issue succeeded", tc.name)
		}
	}
	list, err := db.ListCertificates(ctx, "")
	if err != nil || len(list) != 2 {
		t.Fatalf("%d certificates recorded (%v), want 2", len(list), err)
	}

	if err := Revoke(ctx, db, strings.ToUpper(is.Record.Serial)); err != nil {
		t.Fatal(err)
	}
	if rec, _ := db.CertificateBySerial(ctx, is.Record.Serial); rec.RevokedAt == nil {
		t.Error("Revoke did not revoke")
	}
	if err := Revoke(ctx, db, "abc"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Revoke(unknown) = %v, want ErrNotFound", err)
	}
	if err := Revoke(ctx, db, "xyz"); err == nil {
		t.Error("Revoke(malformed) succeeded")
	}
}

// failingRecorder refuses every certificate.
type failingRecorder struct{ n atomic.Int32 }

func (f *failingRecorder) AddCertificate(context.Context, store.Certificate) error {
	f.n.Add(1)
	return errors.New("disk full")
}

func TestIssueFailsWhenNotRecorded(t *testing.T) {
	c, _ := newCA(t)
	rec := &failingRecorder{}
	is, err := c.Issue(context.Background(), rec, deptA, "x", time.Hour)
	if err == nil || !strings.Contains(err.Error(), "disk full") || is.KeyPEM != nil {
		t.Fatalf("Issue with a failing store = %v, key handed out: %v", err, is.KeyPEM != nil)
	}
	if rec.n.Load() != 1 {
		t.Errorf("AddCertificate called %d times", rec.n.Load())
	}
}

func TestServerCert(t *testing.T) {
	c, _ := newCA(t)
	kp, err := c.ServerCert([]string{"hub.example.gov.cn", "127.0.0.1", "::1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"hub.example.gov.cn", "127.0.0.1", "::1"} {
		if _, err := kp.Cert.Verify(x509.VerifyOptions{Roots: c.Pool(), DNSName: host}); err != nil {
			t.Errorf("server certificate for %s: %v", host, err)
		}
	}
	if _, err := kp.Cert.Verify(x509.VerifyOptions{Roots: c.Pool(), DNSName: "other.example"}); err == nil {
		t.Error("server certificate verifies for a host it does not name")
	}
	if _, err := kp.Cert.Verify(x509.VerifyOptions{Roots: c.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err == nil {
		t.Error("server certificate is usable as a client certificate")
	}
	for _, hosts := range [][]string{nil, {"bad host"}, {"-x.example"}, {""}} {
		if _, err := c.ServerCert(hosts, time.Hour); err == nil {
			t.Errorf("ServerCert(%q) succeeded", hosts)
		}
	}
}

func TestParseSerial(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"1a2b", "1a2b"},
		{"1A:2B", "1a2b"},
		{"0x001A2B", "1a2b"},
		{" 01 a2 b0 ", "1a2b0"},
		{strings.Repeat("f", 40), strings.Repeat("f", 40)},
		{"00" + strings.Repeat("f", 40), strings.Repeat("f", 40)},
	} {
		got, err := ParseSerial(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseSerial(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"", "0x", "::", "0", "00:00", "xyz", "12-34", strings.Repeat("f", 41), "１２"} {
		if got, err := ParseSerial(in); err == nil {
			t.Errorf("ParseSerial(%q) = %q, want an error", in, got)
		}
	}
}

func TestParseDeptURI(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"urn:tongban:dept:" + deptA, deptA},
		{"URN:Tongban:dept:" + deptB, deptB},
	} {
		got, err := ParseDeptURI(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseDeptURI(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"", "urn:tongban:dept:", "urn:tongban:DEPT:" + deptA, "urn:other:dept:" + deptA,
		"urn:tongban:dept:" + strings.ToLower(deptA), "urn:tongban:dept:" + deptA + "/x", "urn:tongban:dept:112306000128140288"} {
		if got, err := ParseDeptURI(in); err == nil {
			t.Errorf("ParseDeptURI(%q) = %q, want an error", in, got)
		}
	}
}
