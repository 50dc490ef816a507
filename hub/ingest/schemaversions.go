package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/tongban/tongban/catalog"
	"github.com/tongban/tongban/hub/store"
	"github.com/tongban/tongban/schemas"
)

// EncodeFields is the stored form of a schema version's fields
// (store.SchemaVersion.Fields): the JSON array of the fields.
func EncodeFields(s schemas.Schema) (json.RawMessage, error) {
	b, err := json.Marshal(s.Fields)
	if err != nil {
		return nil, fmt.Errorf("encode schema fields: %w", err)
	}
	return b, nil
}

// DecodeFields reads what EncodeFields writes and checks that the fields
// match the version's fingerprint.
func DecodeFields(v store.SchemaVersion) (schemas.Schema, error) {
	var s schemas.Schema
	if len(v.Fields) == 0 {
		return s, fmt.Errorf("schema version %d of %s: no fields stored", v.Version, v.Resource)
	}
	if err := json.Unmarshal(v.Fields, &s.Fields); err != nil {
		return schemas.Schema{}, fmt.Errorf("schema version %d of %s: stored fields: %w", v.Version, v.Resource, err)
	}
	if err := s.Validate(); err != nil {
		return schemas.Schema{}, fmt.Errorf("schema version %d of %s: stored fields: %w", v.Version, v.Resource, err)
	}
	if fp := s.Fingerprint(); fp != v.Fingerprint {
		return schemas.Schema{}, fmt.Errorf("schema version %d of %s: stored fields have fingerprint %s, not the recorded %s",
			v.Version, v.Resource, fp, v.Fingerprint)
	}
	return s, nil
}

// SchemaStore is the store side of SyncSchemas.
type SchemaStore interface {
	SchemaVersions(ctx context.Context, resource string) ([]store.SchemaVersion, error)
	AddSchemaVersion(ctx context.Context, v store.SchemaVersion) error
}

// SyncResult says what SyncSchemas did to one resource.
type SyncResult struct {
	Resource    string
	Version     int    // the version the catalog schema now has
	Fingerprint string // of the catalog schema
	Added       bool   // a new version was recorded
}

// SyncSchemas records the catalog schema of every resource as a schema
// version: nothing when the latest recorded version has the same
// fingerprint; version latest+1 when the change is compatible
// (schemas.Compatible); version 1 for a new resource. An incompatible change
// fails, naming the resource and every problem, and nothing more is recorded
// for that resource.
func SyncSchemas(ctx context.Context, st SchemaStore, resources []catalog.Resource) ([]SyncResult, error) {
	out := make([]SyncResult, 0, len(resources))
	var errs []error
	for i := range resources {
		r, err := syncOne(ctx, st, &resources[i])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, r)
	}
	return out, errors.Join(errs...)
}

func syncOne(ctx context.Context, st SchemaStore, res *catalog.Resource) (SyncResult, error) {
	fp := res.Schema.Fingerprint()
	fields, err := EncodeFields(res.Schema)
	if err != nil {
		return SyncResult{}, fmt.Errorf("resource %s: %w", res.Code, err)
	}
	// Two hubs starting together may race to add the same version: on a
	// duplicate, read again and decide again.
	for attempt := 0; attempt < 3; attempt++ {
		versions, err := st.SchemaVersions(ctx, res.Code)
		if err != nil {
			return SyncResult{}, fmt.Errorf("resource %s: %w", res.Code, err)
		}
		next := 1
		if n := len(versions); n > 0 {
			latest := versions[n-1]
			if latest.Fingerprint == fp {
				return SyncResult{Resource: res.Code, Version: latest.Version, Fingerprint: fp}, nil
			}
			old, err := DecodeFields(latest)
			if err != nil {
				return SyncResult{}, fmt.Errorf("resource %s: %w", res.Code, err)
			}
			if err := schemas.Compatible(old, res.Schema); err != nil {
				return SyncResult{}, fmt.Errorf("resource %s (%s): schema version %d recorded on %s cannot change to the catalog's: %w",
					res.Code, res.File, latest.Version, latest.CreatedAt.UTC().Format(time.DateOnly), err)
			}
			next = latest.Version + 1
		}
		err = st.AddSchemaVersion(ctx, store.SchemaVersion{Resource: res.Code, Version: next, Fingerprint: fp, Fields: fields})
		if errors.Is(err, store.ErrDuplicate) {
			continue
		}
		if err != nil {
			return SyncResult{}, fmt.Errorf("resource %s: %w", res.Code, err)
		}
		return SyncResult{Resource: res.Code, Version: next, Fingerprint: fp, Added: true}, nil
	}
	return SyncResult{}, fmt.Errorf("resource %s: schema versions keep changing under us (another hub syncing?)", res.Code)
}

// knownVersion is a readable schema version of a resource.
type knownVersion struct {
	version int
	schema  schemas.Schema
}

// versionCache maps (resource, fingerprint) to the schema version, reading
// the store on a miss so versions added by another hub are found.
type versionCache struct {
	st interface {
		SchemaVersions(ctx context.Context, resource string) ([]store.SchemaVersion, error)
	}
	logger *slog.Logger

	mu sync.Mutex
	m  map[string]map[string]knownVersion // resource -> fingerprint -> version
}

// lookup returns the version of resource with fingerprint fp. ok is false when
// the store has no such version; err is a store failure.
func (c *versionCache) lookup(ctx context.Context, resource, fp string) (knownVersion, []int, bool, error) {
	c.mu.Lock()
	if v, ok := c.m[resource][fp]; ok {
		c.mu.Unlock()
		return v, nil, true, nil
	}
	c.mu.Unlock()
	versions, err := c.st.SchemaVersions(ctx, resource)
	if err != nil {
		return knownVersion{}, nil, false, err
	}
	byFP := make(map[string]knownVersion, len(versions))
	known := make([]int, 0, len(versions))
	for _, v := range versions {
		s, err := DecodeFields(v)
		if err != nil {
			c.logger.WarnContext(ctx, "ingest: unreadable schema version ignored", "resource", resource, "version", v.Version, "err", err)
			continue
		}
		byFP[v.Fingerprint] = knownVersion{version: v.Version, schema: s}
		known = append(known, v.Version)
	}
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]map[string]knownVersion{}
	}
	c.m[resource] = byFP
	c.mu.Unlock()
	v, ok := byFP[fp]
	return v, known, ok, nil
}
