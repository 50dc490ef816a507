package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Certificate is a department client certificate issued by the hub CA
// (package hub/ca). The store keeps what identifies and limits it; the
// private key is handed to the department once and never stored.
type Certificate struct {
	// Serial is the certificate serial number in lower-case hex without
	// leading zeros (the form hub/ca writes), at most 40 digits (20 octets,
	// the RFC 5280 limit).
	Serial string
	// Dept is the department code (统一社会信用代码) the certificate speaks for.
	Dept string
	// Name is the subject common name: the department's name.
	Name string
	// Fingerprint is the hex SM3 digest of the certificate's DER, in lower
	// case. It is unique: one record per certificate.
	Fingerprint string
	// NotBefore and NotAfter bound the certificate's validity.
	NotBefore, NotAfter time.Time
	// CreatedAt is set to the current time when zero.
	CreatedAt time.Time
	// RevokedAt is nil until the certificate is revoked.
	RevokedAt *time.Time
}

// Certificate limits.
const (
	maxSerialLen         = 40
	maxCertNameLen       = 255
	maxCertFingerprint   = 128
	maxCertificatesLimit = 10000
)

// checkLowerHex validates a lower-case hexadecimal column value of at most
// maxLen digits.
func checkLowerHex(field, v string, maxLen int) error {
	if v == "" {
		return fmt.Errorf("%s is empty", field)
	}
	if len(v) > maxLen {
		return fmt.Errorf("%s is %d characters long (at most %d)", field, len(v), maxLen)
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return fmt.Errorf("%s %q is not lower-case hexadecimal", field, v)
		}
	}
	return nil
}

// AddCertificate records c. It fails, wrapping ErrDuplicate, when the serial
// or the fingerprint is already recorded.
func (s *DB) AddCertificate(ctx context.Context, c Certificate) error {
	if err := s.addCertificate(ctx, c); err != nil {
		return fmt.Errorf("store: add certificate %q: %w", c.Serial, err)
	}
	return nil
}

func (s *DB) addCertificate(ctx context.Context, c Certificate) error {
	if err := checkLowerHex("serial", c.Serial, maxSerialLen); err != nil {
		return err
	}
	if c.Serial[0] == '0' {
		return fmt.Errorf("serial %q has a leading zero", c.Serial)
	}
	if err := checkText("dept", c.Dept, maxDeptLen, true); err != nil {
		return err
	}
	if err := checkText("name", c.Name, maxCertNameLen, false); err != nil {
		return err
	}
	if err := checkLowerHex("fingerprint", c.Fingerprint, maxCertFingerprint); err != nil {
		return err
	}
	if c.NotBefore.IsZero() || c.NotAfter.IsZero() {
		return errors.New("not before and not after are required")
	}
	if !c.NotAfter.After(c.NotBefore) {
		return fmt.Errorf("not after %s is not after not before %s", c.NotAfter.UTC().Format(time.RFC3339), c.NotBefore.UTC().Format(time.RFC3339))
	}
	now := time.Now()
	nb, err := timeArg("not before", c.NotBefore, now)
	if err != nil {
		return err
	}
	na, err := timeArg("not after", c.NotAfter, now)
	if err != nil {
		return err
	}
	created, err := timeArg("created at", c.CreatedAt, now)
	if err != nil {
		return err
	}
	var revoked any
	if c.RevokedAt != nil {
		r, err := timeArg("revoked at", *c.RevokedAt, now)
		if err != nil {
			return err
		}
		revoked = r
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO certificates (serial, dept, name, fingerprint, not_before, not_after, created_at, revoked_at)
 VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, c.Serial, c.Dept, c.Name, c.Fingerprint, nb, na, created, revoked)
	if s.d.isDuplicate(err) {
		return fmt.Errorf("serial or fingerprint: %w", ErrDuplicate)
	}
	return err
}

const selectCertificate = `SELECT serial, dept, name, fingerprint, not_before, not_after, created_at, revoked_at FROM certificates`

func scanCertificate(sc rowScanner) (Certificate, error) {
	var (
		c                        Certificate
		nb, na, created, revoked dbTime
	)
	if err := sc.Scan(&c.Serial, &c.Dept, &c.Name, &c.Fingerprint, &nb, &na, &created, &revoked); err != nil {
		return Certificate{}, err
	}
	c.NotBefore, c.NotAfter, c.CreatedAt = nb.Time, na.Time, created.Time
	if revoked.Valid {
		r := revoked.Time
		c.RevokedAt = &r
	}
	return c, nil
}

// CertificateBySerial returns the certificate with the given serial, revoked
// or not; an unknown serial fails wrapping ErrNotFound.
func (s *DB) CertificateBySerial(ctx context.Context, serial string) (Certificate, error) {
	c, err := scanCertificate(s.db.QueryRowContext(ctx, selectCertificate+` WHERE serial = ?`, serial))
	if errors.Is(err, sql.ErrNoRows) {
		return Certificate{}, fmt.Errorf("store: certificate %q: %w", serial, ErrNotFound)
	}
	if err != nil {
		return Certificate{}, fmt.Errorf("store: certificate %q: %w", serial, err)
	}
	return c, nil
}

// ListCertificates returns the certificates of dept, or of every department
// when dept is empty, oldest first.
func (s *DB) ListCertificates(ctx context.Context, dept string) ([]Certificate, error) {
	q, args := selectCertificate, []any{}
	if dept != "" {
		q += ` WHERE dept = ?`
		args = append(args, dept)
	}
	q += ` ORDER BY created_at, serial LIMIT ?`
	args = append(args, maxCertificatesLimit)
	rs, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list certificates: %w", err)
	}
	return collectRows(rs, "store: list certificates", scanCertificate)
}

// RevokeCertificate marks the certificate with the given serial revoked now.
// Revoking a revoked certificate keeps its first revocation time; an unknown
// serial fails wrapping ErrNotFound.
func (s *DB) RevokeCertificate(ctx context.Context, serial string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE certificates SET revoked_at = ? WHERE serial = ? AND revoked_at IS NULL`,
		formatDBTime(time.Now()), serial)
	if err != nil {
		return fmt.Errorf("store: revoke certificate %q: %w", serial, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("store: revoke certificate %q: %w", serial, err)
	} else if n > 0 {
		return nil
	}
	var one int
	err = s.db.QueryRowContext(ctx, `SELECT 1 FROM certificates WHERE serial = ?`, serial).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: revoke certificate %q: %w", serial, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("store: revoke certificate %q: %w", serial, err)
	}
	return nil
}
