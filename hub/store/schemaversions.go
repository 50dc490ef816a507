package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// SchemaVersion is one version of a resource's catalog schema.
type SchemaVersion struct {
	Resource    string
	Version     int
	Fingerprint string
	// Fields is the schema's field list as JSON (its form is the caller's).
	Fields json.RawMessage
	// CreatedAt is set to the current time when zero.
	CreatedAt time.Time
}

// AddSchemaVersion records a schema version. It fails, wrapping ErrDuplicate,
// when (resource, version) is already recorded.
func (s *DB) AddSchemaVersion(ctx context.Context, v SchemaVersion) error {
	if err := s.addSchemaVersion(ctx, v); err != nil {
		return fmt.Errorf("store: add schema version %d of %q: %w", v.Version, v.Resource, err)
	}
	return nil
}

func (s *DB) addSchemaVersion(ctx context.Context, v SchemaVersion) error {
	if err := checkText("resource", v.Resource, maxResourceLen, true); err != nil {
		return err
	}
	if v.Version < 1 {
		return errors.New("version must be at least 1")
	}
	if err := checkText("fingerprint", v.Fingerprint, maxFingerprintLen, true); err != nil {
		return err
	}
	if v.Fields != nil {
		if err := checkJSON("fields", v.Fields, false); err != nil {
			return err
		}
	}
	at, err := timeArg("created at", v.CreatedAt, time.Now())
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO schema_versions (resource, version, fingerprint, fields, created_at)
 VALUES (?, ?, ?, ?, ?)`, v.Resource, v.Version, v.Fingerprint, jsonArg(v.Fields), at)
	if s.d.isDuplicate(err) {
		return ErrDuplicate
	}
	return err
}

// SchemaVersions returns the recorded versions of resource, ascending.
func (s *DB) SchemaVersions(ctx context.Context, resource string) ([]SchemaVersion, error) {
	rs, err := s.db.QueryContext(ctx, `SELECT resource, version, fingerprint, fields, created_at
 FROM schema_versions WHERE resource = ? ORDER BY version`, resource)
	if err != nil {
		return nil, fmt.Errorf("store: schema versions of %q: %w", resource, err)
	}
	defer rs.Close()
	var out []SchemaVersion
	for rs.Next() {
		var (
			v      SchemaVersion
			fields []byte
			at     dbTime
		)
		if err := rs.Scan(&v.Resource, &v.Version, &v.Fingerprint, &fields, &at); err != nil {
			return nil, fmt.Errorf("store: schema versions of %q: %w", resource, err)
		}
		if fields != nil {
			v.Fields = json.RawMessage(fields)
		}
		v.CreatedAt = at.Time
		out = append(out, v)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("store: schema versions of %q: %w", resource, err)
	}
	return out, nil
}
