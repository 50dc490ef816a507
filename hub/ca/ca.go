// Package ca is the hub's own certificate authority. It issues department
// client certificates — the machine identity a department's systems present
// for mutual TLS on the hub's sharing listener — and the server certificate of
// that listener, records every department certificate in the hub store
// (serial, department, SM3 fingerprint, validity, revocation; never the
// private key), and builds the *tls.Config that accepts only certificates it
// issued and has not revoked.
//
// Keys are ECDSA P-256 and signatures ECDSA with SHA-256. Go's crypto/tls
// cannot negotiate SM2 certificates (that needs TLCP, GB/T 38636, e.g. via
// github.com/emmansun/gmsm's TLCP support); an SM2/TLCP listener is a later
// option. The SM3 digest is used where no TLS peer has to understand it: the
// certificate fingerprints kept in the store.
//
// The CA's private key is a PKCS#8 PEM file readable only by its owner in
// the CA directory; whoever can read it can mint department identities, so
// the directory belongs on the hub's host only (an HSM is a later option).
package ca

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/emmansun/gmsm/sm3"
)

// Files of a CA directory.
const (
	// CertFile is the CA certificate (PEM, public: give it to departments).
	CertFile = "ca.crt"
	// KeyFile is the CA private key (PKCS#8 PEM, mode 0600).
	KeyFile = "ca.key"
)

// Organization is the subject organisation of every certificate the CA
// issues, and of the CA itself unless Init is given another.
const Organization = "通办"

// Validity limits.
const (
	// caValidity is how long a new CA certificate is valid.
	caValidity = 10 * 365 * 24 * time.Hour
	// backdate moves NotBefore into the past so that a peer whose clock is a
	// little behind the hub's still accepts a fresh certificate.
	backdate = 5 * time.Minute
)

// CA is a loaded certificate authority: its certificate and private key.
type CA struct {
	cert    *x509.Certificate
	certPEM []byte
	key     *ecdsa.PrivateKey
}

// ErrExists is wrapped by Init's error when the directory already holds a CA
// (or part of one): Init never overwrites a CA, whose loss would orphan every
// department certificate.
var ErrExists = errors.New("a CA already exists there")

// Init creates a new CA in dir (created with mode 0700 when missing): a P-256
// key in KeyFile (0600) and a self-signed certificate in CertFile (0644),
// valid for ten years. subject needs a CommonName; an empty Organization
// becomes Organization.
func Init(dir string, subject pkix.Name) (*CA, error) {
	if subject.CommonName == "" {
		return nil, errors.New("ca: init: the subject needs a common name")
	}
	if len(subject.Organization) == 0 {
		subject.Organization = []string{Organization}
	}
	keyPath, certPath := filepath.Join(dir, KeyFile), filepath.Join(dir, CertFile)
	for _, p := range []string{keyPath, certPath} {
		if _, err := os.Lstat(p); err == nil {
			return nil, fmt.Errorf("ca: init: %s: %w (load it, or move it away to start over)", p, ErrExists)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("ca: init: %w", err)
		}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("ca: init: generate key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, fmt.Errorf("ca: init: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               subject,
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(caValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		// The CA signs leaf certificates only.
		MaxPathLen:     0,
		MaxPathLenZero: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("ca: init: self-sign: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("ca: init: %w", err)
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return nil, fmt.Errorf("ca: init: %w", err)
	}
	certPEM := encodeCert(der)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("ca: init: %w", err)
	}
	if err := WriteNewFile(keyPath, keyPEM, 0o600); err != nil {
		return nil, fmt.Errorf("ca: init: %w", err)
	}
	if err := WriteNewFile(certPath, certPEM, 0o644); err != nil {
		// A key without its certificate would block the next Init.
		_ = os.Remove(keyPath)
		return nil, fmt.Errorf("ca: init: %w", err)
	}
	return &CA{cert: cert, certPEM: certPEM, key: key}, nil
}

// Load reads the CA in dir and checks that its key belongs to its
// certificate and that the certificate is a CA certificate.
func Load(dir string) (*CA, error) {
	certPEM, err := os.ReadFile(filepath.Join(dir, CertFile))
	if err != nil {
		return nil, fmt.Errorf("ca: load: %w (create a CA with tongban ca init)", err)
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, KeyFile))
	if err != nil {
		return nil, fmt.Errorf("ca: load: %w", err)
	}
	cert, err := parseCertPEM(certPEM)
	if err != nil {
		return nil, fmt.Errorf("ca: load %s: %w", filepath.Join(dir, CertFile), err)
	}
	if !cert.IsCA || !cert.BasicConstraintsValid || cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, fmt.Errorf("ca: load %s: not a CA certificate", filepath.Join(dir, CertFile))
	}
	key, err := parseKeyPEM(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("ca: load %s: %w", filepath.Join(dir, KeyFile), err)
	}
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok || !pub.Equal(key.Public()) {
		return nil, fmt.Errorf("ca: load %s: the key does not belong to the certificate %s", dir, CertFile)
	}
	return &CA{cert: cert, certPEM: certPEM, key: key}, nil
}

// Certificate returns the CA certificate.
func (c *CA) Certificate() *x509.Certificate { return c.cert }

// CertPEM returns the CA certificate in PEM, for departments to trust the
// hub's server certificate with.
func (c *CA) CertPEM() []byte { return append([]byte(nil), c.certPEM...) }

// Pool returns a certificate pool holding only the CA certificate.
func (c *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(c.cert)
	return p
}

// KeyPair is an issued certificate with its private key. KeyPEM is the only
// copy of the key: hand it over once and drop it.
type KeyPair struct {
	Cert    *x509.Certificate
	CertPEM []byte
	// KeyPEM is the PKCS#8 private key in PEM.
	KeyPEM []byte
}

// TLSCertificate returns the pair as a tls.Certificate, with Leaf set.
func (k KeyPair) TLSCertificate() (tls.Certificate, error) {
	c, err := tls.X509KeyPair(k.CertPEM, k.KeyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("ca: key pair: %w", err)
	}
	return c, nil
}

// ServerCert issues a server certificate for the hub's sharing listener,
// valid for validity and for the given host names and IP addresses. It is not
// recorded in the store: it identifies the hub, not a department.
func (c *CA) ServerCert(hosts []string, validity time.Duration) (KeyPair, error) {
	if len(hosts) == 0 {
		return KeyPair{}, errors.New("ca: server certificate: no host names")
	}
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: hosts[0], Organization: []string{Organization}},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		h = strings.TrimSpace(h)
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			continue
		}
		if err := checkHostName(h); err != nil {
			return KeyPair{}, fmt.Errorf("ca: server certificate: %w", err)
		}
		tmpl.DNSNames = append(tmpl.DNSNames, h)
	}
	now := time.Now()
	kp, err := c.sign(tmpl, now.Add(-backdate), now.Add(validity))
	if err != nil {
		return KeyPair{}, fmt.Errorf("ca: server certificate: %w", err)
	}
	return kp, nil
}

// checkHostName accepts DNS names (with an optional leading wildcard label)
// of letters, digits, hyphens and dots.
func checkHostName(h string) error {
	rest := strings.TrimPrefix(h, "*.")
	if rest == "" || len(h) > 253 {
		return fmt.Errorf("host %q is not a host name or IP address", h)
	}
	for _, label := range strings.Split(rest, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("host %q is not a host name or IP address", h)
		}
		for i := 0; i < len(label); i++ {
			ch := label[i]
			if (ch < 'a' || ch > 'z') && (ch < 'A' || ch > 'Z') && (ch < '0' || ch > '9') && ch != '-' {
				return fmt.Errorf("host %q is not a host name or IP address", h)
			}
		}
	}
	return nil
}

// sign generates a P-256 key and signs tmpl (with a fresh random serial and
// the given validity) for it.
func (c *CA) sign(tmpl *x509.Certificate, notBefore, notAfter time.Time) (KeyPair, error) {
	if !notAfter.After(notBefore) {
		return KeyPair{}, fmt.Errorf("validity ends (%s) before it starts (%s)", notAfter.UTC().Format(time.RFC3339), notBefore.UTC().Format(time.RFC3339))
	}
	if notAfter.After(c.cert.NotAfter) {
		return KeyPair{}, fmt.Errorf("validity would end %s, after the CA certificate itself (%s)",
			notAfter.UTC().Format(time.DateOnly), c.cert.NotAfter.UTC().Format(time.DateOnly))
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return KeyPair{}, fmt.Errorf("generate key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return KeyPair{}, err
	}
	tmpl.SerialNumber = serial
	tmpl.NotBefore, tmpl.NotAfter = notBefore, notAfter
	tmpl.BasicConstraintsValid = true
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.cert, key.Public(), c.key)
	if err != nil {
		return KeyPair{}, fmt.Errorf("sign: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return KeyPair{}, err
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return KeyPair{}, err
	}
	return KeyPair{Cert: cert, CertPEM: encodeCert(der), KeyPEM: keyPEM}, nil
}

// randomSerial returns a random positive 128-bit serial number.
func randomSerial() (*big.Int, error) {
	var b [16]byte
	for {
		if _, err := rand.Read(b[:]); err != nil {
			return nil, fmt.Errorf("random serial: %w", err)
		}
		if n := new(big.Int).SetBytes(b[:]); n.Sign() > 0 {
			return n, nil
		}
	}
}

// Fingerprint returns the lower-case hex SM3 digest of a certificate's DER:
// the fingerprint recorded in the store.
func Fingerprint(der []byte) string {
	sum := sm3.Sum(der)
	return hex.EncodeToString(sum[:])
}

func encodeCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func encodeKey(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

func parseCertPEM(data []byte) (*x509.Certificate, error) {
	b, _ := pem.Decode(data)
	if b == nil || b.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM CERTIFICATE block")
	}
	return x509.ParseCertificate(b.Bytes)
}

func parseKeyPEM(data []byte) (*ecdsa.PrivateKey, error) {
	b, _ := pem.Decode(data)
	if b == nil || b.Type != "PRIVATE KEY" {
		return nil, errors.New("no PEM PRIVATE KEY block")
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, err
	}
	ek, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("the key is a %T, want ECDSA", k)
	}
	return ek, nil
}

// WriteNewFile writes data to a file that must not exist yet, with the given
// permissions, set exactly whatever the umask. A partly written file is
// removed.
func WriteNewFile(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if err := f.Chmod(perm); err != nil {
		_ = f.Close()
		_ = os.Remove(path)
		return err
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		_ = os.Remove(path)
		return err
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(path)
		return err
	}
	return nil
}
