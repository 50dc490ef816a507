package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/tongban/tongban/catalog"
	"github.com/tongban/tongban/hub/auth"
)

// resourceJSON renders a resource as the catalog's own JSON (catalog.Resource
// marshals with "fields") plus "schema_version" (the recorded version whose
// fingerprint is the catalog schema's; 0 if none is recorded yet) and
// "fingerprint". Agents can decode it into catalog.Resource.
func (s *server) resourceJSON(ctx context.Context, res *catalog.Resource) (json.RawMessage, error) {
	fp := res.Schema.Fingerprint()
	versions, err := s.st.SchemaVersions(ctx, res.Code)
	if err != nil {
		return nil, err
	}
	version := 0
	for _, v := range versions {
		if v.Fingerprint == fp {
			version = v.Version
		}
	}
	base, err := json.Marshal(res)
	if err != nil {
		return nil, fmt.Errorf("encode resource %s: %w", res.Code, err)
	}
	extra, err := json.Marshal(struct {
		SchemaVersion int    `json:"schema_version"`
		Fingerprint   string `json:"fingerprint"`
	}{version, fp})
	if err != nil {
		return nil, err
	}
	return mergeObjects(base, extra), nil
}

// mergeObjects joins two non-empty JSON objects' members into one object.
func mergeObjects(a, b []byte) json.RawMessage {
	a = bytes.TrimRight(a, " \n")
	out := make([]byte, 0, len(a)+len(b))
	out = append(out, a[:len(a)-1]...)
	if len(bytes.TrimSpace(a[1:len(a)-1])) > 0 {
		out = append(out, ',')
	}
	out = append(out, bytes.TrimSpace(b)[1:]...)
	return out
}

// resource looks up the {code} path value: 404 when unknown.
func (s *server) resource(r *http.Request) (*catalog.Resource, *apiError) {
	code := r.PathValue("code")
	res, ok := s.cat.Resource(code)
	if !ok {
		return nil, notFound("code", fmt.Sprintf("resource %q is not in the catalog", code))
	}
	return res, nil
}

func (s *server) listResources(r *http.Request, _ auth.Principal) (any, *apiError) {
	if _, e := parseQuery(r); e != nil {
		return nil, e
	}
	out := make([]json.RawMessage, 0, len(s.cat.Resources))
	for i := range s.cat.Resources {
		j, err := s.resourceJSON(r.Context(), &s.cat.Resources[i])
		if err != nil {
			return nil, s.internal(r, err)
		}
		out = append(out, j)
	}
	return map[string]any{"resources": out}, nil
}

func (s *server) showResource(r *http.Request, _ auth.Principal) (any, *apiError) {
	if _, e := parseQuery(r); e != nil {
		return nil, e
	}
	res, e := s.resource(r)
	if e != nil {
		return nil, e
	}
	j, err := s.resourceJSON(r.Context(), res)
	if err != nil {
		return nil, s.internal(r, err)
	}
	return j, nil
}
