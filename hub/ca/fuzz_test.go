package ca

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"strings"
	"testing"
	"time"

	"github.com/tongban/tongban/identifier"
)

func FuzzParseSerial(f *testing.F) {
	for _, s := range []string{"1a2b", "1A:2B", "0x00ff", " 01 a2 ", "", "0", "zz", strings.Repeat("f", 41)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseSerial(s)
		if err != nil {
			return
		}
		if got == "" || len(got) > maxSerialHex || got[0] == '0' {
			t.Fatalf("ParseSerial(%q) = %q: not a stored serial", s, got)
		}
		for _, c := range got {
			if !strings.ContainsRune("0123456789abcdef", c) {
				t.Fatalf("ParseSerial(%q) = %q: not lower-case hex", s, got)
			}
		}
		// The stored form reads back as itself.
		if again, err := ParseSerial(got); err != nil || again != got {
			t.Fatalf("ParseSerial(%q) = %q, %v; want %q", got, again, err, got)
		}
	})
}

func FuzzParseDeptURI(f *testing.F) {
	for _, s := range []string{DeptURI(deptA), "URN:TONGBAN:dept:" + deptB, "urn:tongban:dept:", "urn:tongban:dep", "", "urn:tongban:dept:" + deptA + "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		code, err := ParseDeptURI(s)
		if err != nil {
			return
		}
		if err := identifier.ValidateUSCC(code); err != nil {
			t.Fatalf("ParseDeptURI(%q) = %q, not a USCC: %v", s, code, err)
		}
		if !strings.EqualFold(DeptURI(code), s) {
			t.Fatalf("ParseDeptURI(%q) = %q, which does not name it", s, code)
		}
		if again, err := ParseDeptURI(DeptURI(code)); err != nil || again != code {
			t.Fatalf("round trip of %q: %q, %v", code, again, err)
		}
	})
}

// FuzzDeptFromCert feeds arbitrary DER: whatever parses as a certificate
// either names a valid department or is refused, without panicking.
func FuzzDeptFromCert(f *testing.F) {
	c, err := Init(f.TempDir(), pkix.Name{CommonName: "fuzz CA"})
	if err != nil {
		f.Fatal(err)
	}
	kp, err := c.issue(f.Context(), discardRecorder{}, deptA, "x", c.cert.NotBefore, c.cert.NotBefore.Add(time.Hour))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(kp.Cert.Raw)
	f.Add(c.cert.Raw)
	f.Fuzz(func(t *testing.T, der []byte) {
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return
		}
		code, err := DeptFromCert(cert)
		if err != nil {
			return
		}
		if err := identifier.ValidateUSCC(code); err != nil {
			t.Fatalf("DeptFromCert = %q, not a USCC: %v", code, err)
		}
	})
}
