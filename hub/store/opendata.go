package store

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// What a release did to a field (脱敏, by the field's sensitivity).
const (
	OpenFieldAsIs    = "as_is"   // public: published as stored
	OpenFieldMasked  = "masked"  // personal: masked (grant.MaskValue), published as text
	OpenFieldOmitted = "omitted" // sensitive or internal: left out of the files
)

// OpenReleaseFile is one file of a release: its size and SHA-256 (hex).
type OpenReleaseFile struct {
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// OpenReleaseField is one catalog field of the released resource and what
// the release did to it.
type OpenReleaseField struct {
	Name        string `json:"name"`
	Type        string `json:"type"` // catalog type; masked fields are published as text
	Sensitivity string `json:"sensitivity,omitempty"`
	Treatment   string `json:"treatment"` // OpenFieldAsIs, OpenFieldMasked or OpenFieldOmitted
	Description string `json:"description,omitempty"`
}

// OpenRelease is the manifest of one release (数据发布) of an open resource
// on the open-data portal.
type OpenRelease struct {
	Resource    string
	Number      int64  // 1, 2, … per resource
	Name        string // the resource's title when published
	PublishedAt time.Time
	PublishedBy string // token id (or "cli") of the publisher
	Rows        int64
	CSV         OpenReleaseFile
	Parquet     OpenReleaseFile
	Fields      []OpenReleaseField
}

// Limits of the open-release columns.
const (
	maxOpenReleaseName   = 255
	maxOpenReleaseActor  = 255
	maxOpenReleaseFields = 2000
	maxOpenReleaseList   = 1000
)

func checkDigest(field, v string) error {
	if b, err := hex.DecodeString(v); err != nil || len(b) != 32 {
		return fmt.Errorf("%s %q is not a SHA-256 digest (64 hex digits)", field, v)
	}
	return nil
}

func checkOpenRelease(r OpenRelease) (string, error) {
	for _, c := range []struct {
		name, v string
		max     int
	}{
		{"resource", r.Resource, maxResourceLen},
		{"name", r.Name, maxOpenReleaseName},
		{"published by", r.PublishedBy, maxOpenReleaseActor},
	} {
		if err := checkText(c.name, c.v, c.max, true); err != nil {
			return "", err
		}
	}
	if r.Number < 1 {
		return "", fmt.Errorf("number %d is not positive", r.Number)
	}
	if r.Rows < 0 || r.CSV.Bytes < 0 || r.Parquet.Bytes < 0 {
		return "", fmt.Errorf("rows %d, CSV bytes %d, Parquet bytes %d: none may be negative", r.Rows, r.CSV.Bytes, r.Parquet.Bytes)
	}
	if err := checkDigest("CSV SHA-256", r.CSV.SHA256); err != nil {
		return "", err
	}
	if err := checkDigest("Parquet SHA-256", r.Parquet.SHA256); err != nil {
		return "", err
	}
	if len(r.Fields) > maxOpenReleaseFields {
		return "", fmt.Errorf("fields: %d (at most %d)", len(r.Fields), maxOpenReleaseFields)
	}
	for i, f := range r.Fields {
		if err := checkText(fmt.Sprintf("fields[%d].name", i), f.Name, maxResourceLen, true); err != nil {
			return "", err
		}
		switch f.Treatment {
		case OpenFieldAsIs, OpenFieldMasked, OpenFieldOmitted:
		default:
			return "", fmt.Errorf("fields[%d].treatment %q: want %s, %s or %s", i, f.Treatment, OpenFieldAsIs, OpenFieldMasked, OpenFieldOmitted)
		}
	}
	fields := r.Fields
	if fields == nil {
		fields = []OpenReleaseField{}
	}
	b, err := json.Marshal(fields)
	return string(b), err
}

// RecordOpenRelease stores the manifest of a release. ErrDuplicate when the
// resource already has a release of that number.
func (s *DB) RecordOpenRelease(ctx context.Context, r OpenRelease) error {
	fail := func(err error) error {
		return fmt.Errorf("store: record open release %d of %q: %w", r.Number, r.Resource, err)
	}
	fields, err := checkOpenRelease(r)
	if err != nil {
		return fail(err)
	}
	at, err := timeArg("published at", r.PublishedAt, time.Now())
	if err != nil {
		return fail(err)
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO open_releases (resource, release_no, name, published_at, published_by, row_count,
 csv_bytes, csv_sha256, parquet_bytes, parquet_sha256, fields) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.Resource, r.Number, r.Name, at, r.PublishedBy, r.Rows, r.CSV.Bytes, r.CSV.SHA256, r.Parquet.Bytes, r.Parquet.SHA256, fields)
	if s.d.isDuplicate(err) {
		return fail(ErrDuplicate)
	}
	if err != nil {
		return fail(err)
	}
	return nil
}

const openReleaseColumns = `resource, release_no, name, published_at, published_by, row_count,
 csv_bytes, csv_sha256, parquet_bytes, parquet_sha256, fields`

func scanOpenRelease(rs rowScanner) (OpenRelease, error) {
	var (
		r      OpenRelease
		at     dbTime
		fields string
	)
	if err := rs.Scan(&r.Resource, &r.Number, &r.Name, &at, &r.PublishedBy, &r.Rows,
		&r.CSV.Bytes, &r.CSV.SHA256, &r.Parquet.Bytes, &r.Parquet.SHA256, &fields); err != nil {
		return OpenRelease{}, err
	}
	r.PublishedAt = at.Time
	if err := json.Unmarshal([]byte(fields), &r.Fields); err != nil {
		return OpenRelease{}, fmt.Errorf("stored fields of release %d of %s: %w", r.Number, r.Resource, err)
	}
	return r, nil
}

func (s *DB) queryOpenReleases(ctx context.Context, q string, args ...any) ([]OpenRelease, error) {
	rs, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return collectRows(rs, "store: list open releases", scanOpenRelease)
}

// GetOpenRelease returns release n of resource; ErrNotFound when there is
// none.
func (s *DB) GetOpenRelease(ctx context.Context, resource string, n int64) (OpenRelease, error) {
	r, err := scanOpenRelease(s.db.QueryRowContext(ctx, `SELECT `+openReleaseColumns+` FROM open_releases
 WHERE resource = ? AND release_no = ?`, resource, n))
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return OpenRelease{}, fmt.Errorf("store: open release %d of %q: %w", n, resource, err)
	}
	return r, nil
}

// LatestOpenRelease returns the release of resource with the highest
// number; ErrNotFound when it has none.
func (s *DB) LatestOpenRelease(ctx context.Context, resource string) (OpenRelease, error) {
	r, err := scanOpenRelease(s.db.QueryRowContext(ctx, `SELECT `+openReleaseColumns+` FROM open_releases
 WHERE resource = ? ORDER BY release_no DESC LIMIT 1`, resource))
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return OpenRelease{}, fmt.Errorf("store: latest open release of %q: %w", resource, err)
	}
	return r, nil
}

// ListOpenReleases returns up to limit (1..1000) releases of resource,
// newest first, numbered below before (0: from the newest).
func (s *DB) ListOpenReleases(ctx context.Context, resource string, before int64, limit int) ([]OpenRelease, error) {
	if limit < 1 || limit > maxOpenReleaseList {
		return nil, fmt.Errorf("store: list open releases of %q: limit %d is not in 1..%d", resource, limit, maxOpenReleaseList)
	}
	q := `SELECT ` + openReleaseColumns + ` FROM open_releases WHERE resource = ?`
	args := []any{resource}
	if before > 0 {
		q += ` AND release_no < ?`
		args = append(args, before)
	}
	q += ` ORDER BY release_no DESC LIMIT ?`
	args = append(args, limit)
	out, err := s.queryOpenReleases(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list open releases of %q: %w", resource, err)
	}
	return out, nil
}

// LatestOpenReleases returns the latest release of every resource that has
// one, by resource code.
func (s *DB) LatestOpenReleases(ctx context.Context) ([]OpenRelease, error) {
	out, err := s.queryOpenReleases(ctx, `SELECT `+openReleaseColumns+` FROM open_releases r
 WHERE release_no = (SELECT MAX(release_no) FROM open_releases m WHERE m.resource = r.resource) ORDER BY resource`)
	if err != nil {
		return nil, fmt.Errorf("store: latest open releases: %w", err)
	}
	return out, nil
}
