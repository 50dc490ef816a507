package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCertificates(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		at := time.Date(2026, 3, 2, 9, 0, 0, 123000, time.UTC)
		certs := []Certificate{
			{Serial: "1a2b", Dept: "D1", Name: "大庆市公安局", Fingerprint: strings.Repeat("ab", 32), NotBefore: at, NotAfter: at.AddDate(1, 0, 0), CreatedAt: at},
			{Serial: "ff", Dept: "D2", Name: "市场监管局", Fingerprint: strings.Repeat("cd", 32), NotBefore: at, NotAfter: at.AddDate(0, 1, 0), CreatedAt: at.Add(time.Second)},
			{Serial: "3c", Dept: "D1", Name: "大庆市公安局", Fingerprint: strings.Repeat("ef", 32), NotBefore: at, NotAfter: at.AddDate(0, 0, 7), CreatedAt: at.Add(2 * time.Second)},
		}
		for _, c := range certs {
			if err := db.AddCertificate(ctx, c); err != nil {
				t.Fatalf("AddCertificate(%s): %v", c.Serial, err)
			}
		}
		got, err := db.CertificateBySerial(ctx, "1a2b")
		if err != nil {
			t.Fatal(err)
		}
		if got.Dept != "D1" || got.Name != "大庆市公安局" || got.Fingerprint != certs[0].Fingerprint ||
			!got.NotBefore.Equal(at) || !got.NotAfter.Equal(certs[0].NotAfter) || !got.CreatedAt.Equal(at) || got.RevokedAt != nil {
			t.Fatalf("CertificateBySerial = %+v, want %+v", got, certs[0])
		}
		if _, err := db.CertificateBySerial(ctx, "404"); !errors.Is(err, ErrNotFound) {
			t.Errorf("CertificateBySerial(unknown) error = %v, want ErrNotFound", err)
		}

		for _, tc := range []struct {
			dept string
			want []string
		}{
			{"D1", []string{"1a2b", "3c"}},
			{"D2", []string{"ff"}},
			{"D3", nil},
			{"", []string{"1a2b", "ff", "3c"}},
		} {
			list, err := db.ListCertificates(ctx, tc.dept)
			if err != nil {
				t.Fatal(err)
			}
			var serials []string
			for _, c := range list {
				serials = append(serials, c.Serial)
			}
			if strings.Join(serials, ",") != strings.Join(tc.want, ",") {
				t.Errorf("ListCertificates(%q) = %v, want %v", tc.dept, serials, tc.want)
			}
		}

		if err := db.RevokeCertificate(ctx, "ff"); err != nil {
			t.Fatal(err)
		}
		first, err := db.CertificateBySerial(ctx, "ff")
		if err != nil || first.RevokedAt == nil {
			t.Fatalf("after revoke: %+v %v", first, err)
		}
		if err := db.RevokeCertificate(ctx, "ff"); err != nil {
			t.Fatalf("revoking again: %v", err)
		}
		again, err := db.CertificateBySerial(ctx, "ff")
		if err != nil || again.RevokedAt == nil || !again.RevokedAt.Equal(*first.RevokedAt) {
			t.Fatalf("revoking again changed the revocation time: %v -> %v (%v)", first.RevokedAt, again.RevokedAt, err)
		}
		if err := db.RevokeCertificate(ctx, "404"); !errors.Is(err, ErrNotFound) {
			t.Errorf("RevokeCertificate(unknown) error = %v, want ErrNotFound", err)
		}
		if other, _ := db.CertificateBySerial(ctx, "3c"); other.RevokedAt != nil {
			t.Errorf("revoking ff revoked 3c too: %+v", other)
		}
	})
}

func TestAddCertificateRefuses(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		good := Certificate{Serial: "abc", Dept: "D1", Name: "n", Fingerprint: "00ff", NotBefore: at, NotAfter: at.Add(time.Hour)}
		if err := db.AddCertificate(ctx, good); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name   string
			edit   func(*Certificate)
			wantIs error
		}{
			{"duplicate serial", func(c *Certificate) { c.Fingerprint = "11" }, ErrDuplicate},
			{"duplicate fingerprint", func(c *Certificate) { c.Serial = "abd" }, ErrDuplicate},
			{"empty serial", func(c *Certificate) { c.Serial = "" }, nil},
			{"upper-case serial", func(c *Certificate) { c.Serial = "ABE" }, nil},
			{"leading zero", func(c *Certificate) { c.Serial = "0abe" }, nil},
			{"serial too long", func(c *Certificate) { c.Serial = strings.Repeat("a", 41) }, nil},
			{"no dept", func(c *Certificate) { c.Serial, c.Fingerprint, c.Dept = "b1", "b1", "" }, nil},
			{"bad fingerprint", func(c *Certificate) { c.Serial, c.Fingerprint = "b2", "xyz" }, nil},
			{"no validity", func(c *Certificate) { c.Serial, c.Fingerprint, c.NotBefore = "b3", "b3", time.Time{} }, nil},
			{"inverted validity", func(c *Certificate) {
				c.Serial, c.Fingerprint, c.NotBefore, c.NotAfter = "b4", "b4", at, at.Add(-time.Hour)
			}, nil},
		} {
			c := good
			tc.edit(&c)
			err := db.AddCertificate(ctx, c)
			if err == nil {
				t.Errorf("%s: AddCertificate(%+v) accepted", tc.name, c)
				continue
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("%s: error = %v, want %v", tc.name, err, tc.wantIs)
			}
		}
		list, err := db.ListCertificates(ctx, "")
		if err != nil || len(list) != 1 {
			t.Fatalf("after refusals: %d certificates (%v), want 1", len(list), err)
		}
	})
}
