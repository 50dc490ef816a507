package ca

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"strings"
	"time"

	"github.com/tongban/tongban/hub/store"
	"github.com/tongban/tongban/identifier"
)

// DeptURIPrefix starts the URI subject alternative name that carries a
// department code in a department certificate: "urn:tongban:dept:<code>".
// The code is also the subject's serialNumber attribute (2.5.4.5), where
// people reading the certificate look for it.
const DeptURIPrefix = "urn:tongban:dept:"

// maxSerialHex is the most hex digits of a serial number (20 octets, the
// RFC 5280 limit).
const maxSerialHex = 40

// ErrNoDept is wrapped by DeptFromCert's error for a certificate that names
// no department.
var ErrNoDept = errors.New("the certificate names no department")

// DeptURI returns the URI that names department code in a certificate.
func DeptURI(code string) string { return DeptURIPrefix + code }

// ParseDeptURI returns the department code of a "urn:tongban:dept:<code>"
// URI. The "urn:tongban:" part is compared without regard to case (RFC 8141
// makes the scheme and namespace case-insensitive); the code must be a valid
// unified social credit code.
func ParseDeptURI(s string) (string, error) {
	if len(s) < len(DeptURIPrefix) || !strings.EqualFold(s[:len("urn:tongban:")], "urn:tongban:") ||
		s[len("urn:tongban:"):len(DeptURIPrefix)] != "dept:" {
		return "", fmt.Errorf("%q does not start with %q", s, DeptURIPrefix)
	}
	code := s[len(DeptURIPrefix):]
	if err := identifier.ValidateUSCC(code); err != nil {
		return "", fmt.Errorf("department URI %q: %w", s, err)
	}
	return code, nil
}

// isTongbanURI reports whether u is in the urn:tongban: namespace, whatever
// follows.
func isTongbanURI(s string) bool {
	return len(s) >= len("urn:tongban:") && strings.EqualFold(s[:len("urn:tongban:")], "urn:tongban:")
}

// DeptFromCert returns the department code a certificate speaks for: its
// single urn:tongban:dept: URI, which must agree with the subject
// serialNumber when that is set; or, without such a URI, the subject
// serialNumber. It checks only what the certificate says: whether the hub
// issued it and has not revoked it is the TLS verification's job.
func DeptFromCert(cert *x509.Certificate) (string, error) {
	var code string
	for _, u := range cert.URIs {
		s := u.String()
		if !isTongbanURI(s) {
			continue
		}
		c, err := ParseDeptURI(s)
		if err != nil {
			return "", err
		}
		if code != "" {
			return "", fmt.Errorf("the certificate names more than one department (%s, %s)", code, c)
		}
		code = c
	}
	sn := cert.Subject.SerialNumber
	switch {
	case code != "" && sn != "" && sn != code:
		return "", fmt.Errorf("the certificate's subject serialNumber %q differs from its department URI (%s)", sn, code)
	case code != "":
		return code, nil
	case sn == "":
		return "", ErrNoDept
	}
	if err := identifier.ValidateUSCC(sn); err != nil {
		return "", fmt.Errorf("subject serialNumber: %w", err)
	}
	return sn, nil
}

// DeptFromConn returns the department of the client certificate of a
// connection whose chain the TLS handshake verified (with the config of
// TLSConfig, also checked against the store). ok is false for a connection
// without a verified client certificate.
func DeptFromConn(cs tls.ConnectionState) (dept string, ok bool) {
	if len(cs.VerifiedChains) == 0 || len(cs.VerifiedChains[0]) == 0 {
		return "", false
	}
	code, err := DeptFromCert(cs.VerifiedChains[0][0])
	if err != nil {
		return "", false
	}
	return code, true
}

// ClientSerial returns the serial number (stored form) of the verified client
// certificate of a connection, for audit records; ok is false without one.
func ClientSerial(cs tls.ConnectionState) (serial string, ok bool) {
	if len(cs.VerifiedChains) == 0 || len(cs.VerifiedChains[0]) == 0 {
		return "", false
	}
	return SerialString(cs.VerifiedChains[0][0].SerialNumber), true
}

// SerialString returns the form of a serial number kept in the store:
// lower-case hex without leading zeros.
func SerialString(n *big.Int) string { return n.Text(16) }

// ParseSerial reads a serial number as people copy it — hex digits in either
// case, optionally with a "0x" prefix and with colons or spaces between
// digit groups, as openssl prints them — and returns its stored form.
func ParseSerial(s string) (string, error) {
	t := strings.TrimSpace(s)
	if len(t) >= 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X') {
		t = t[2:]
	}
	var b strings.Builder
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f':
			b.WriteByte(c)
		case c >= 'A' && c <= 'F':
			b.WriteByte(c + 'a' - 'A')
		case c == ':' || c == ' ':
		default:
			return "", fmt.Errorf("serial %q: %q is not a hex digit", s, rune(c))
		}
	}
	d := strings.TrimLeft(b.String(), "0")
	switch {
	case b.Len() == 0:
		return "", fmt.Errorf("serial %q has no hex digits", s)
	case d == "":
		return "", fmt.Errorf("serial %q is zero", s)
	case len(d) > maxSerialHex:
		return "", fmt.Errorf("serial %q has %d significant hex digits (at most %d)", s, len(d), maxSerialHex)
	}
	return d, nil
}

// Recorder is the store side of Issue.
type Recorder interface {
	AddCertificate(ctx context.Context, c store.Certificate) error
}

// Revoker is the store side of Revoke.
type Revoker interface {
	RevokeCertificate(ctx context.Context, serial string) error
}

// Issued is a new department certificate: the key pair to hand over once,
// and the record kept in the store.
type Issued struct {
	KeyPair
	Record store.Certificate
}

// Issue creates a client key pair and certificate for department dept (a
// unified social credit code) named name, valid from now for validity, and
// records the certificate in st. The subject is CN=name, O=通办,
// serialNumber=dept, with the URI SAN urn:tongban:dept:<dept>; the extended
// key usage is client authentication only. The private key is returned and
// never stored: a lost key means issuing a new certificate.
func (c *CA) Issue(ctx context.Context, st Recorder, dept, name string, validity time.Duration) (Issued, error) {
	if validity <= 0 {
		return Issued{}, fmt.Errorf("ca: issue certificate for %s: validity %s is not positive", dept, validity)
	}
	now := time.Now()
	return c.issue(ctx, st, dept, name, now.Add(-backdate), now.Add(validity))
}

// issue is Issue with an explicit validity window (tests issue certificates
// that have already expired).
func (c *CA) issue(ctx context.Context, st Recorder, dept, name string, notBefore, notAfter time.Time) (Issued, error) {
	fail := func(err error) (Issued, error) {
		return Issued{}, fmt.Errorf("ca: issue certificate for %s: %w", dept, err)
	}
	if err := identifier.ValidateUSCC(dept); err != nil {
		return fail(err)
	}
	if strings.TrimSpace(name) == "" {
		return fail(errors.New("the department name is empty"))
	}
	uri, err := url.Parse(DeptURI(dept))
	if err != nil {
		return fail(err)
	}
	tmpl := &x509.Certificate{
		Subject: pkix.Name{
			CommonName:   name,
			Organization: []string{Organization},
			SerialNumber: dept,
		},
		URIs:        []*url.URL{uri},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	kp, err := c.sign(tmpl, notBefore, notAfter)
	if err != nil {
		return fail(err)
	}
	rec := store.Certificate{
		Serial:      SerialString(kp.Cert.SerialNumber),
		Dept:        dept,
		Name:        name,
		Fingerprint: Fingerprint(kp.Cert.Raw),
		NotBefore:   kp.Cert.NotBefore,
		NotAfter:    kp.Cert.NotAfter,
		CreatedAt:   time.Now().UTC(),
	}
	if err := st.AddCertificate(ctx, rec); err != nil {
		return fail(err)
	}
	return Issued{KeyPair: kp, Record: rec}, nil
}

// Revoke revokes the certificate with the given serial (in any form
// ParseSerial reads). Listeners notice within their cache lifetime
// (TLSOptions.CacheTTL). An unknown serial fails wrapping store.ErrNotFound.
func Revoke(ctx context.Context, st Revoker, serial string) error {
	s, err := ParseSerial(serial)
	if err != nil {
		return fmt.Errorf("ca: revoke: %w", err)
	}
	if err := st.RevokeCertificate(ctx, s); err != nil {
		return fmt.Errorf("ca: revoke: %w", err)
	}
	return nil
}
