package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/tongban/tongban/hub/auth"
	"github.com/tongban/tongban/hub/store"
	"github.com/tongban/tongban/wire"
)

// Default page sizes.
const (
	defaultRecordsLimit = 100
	defaultKeysLimit    = 1000
)

// recordJSON is a record of the department library.
type recordJSON struct {
	Key string `json:"key"`
	// KeyParts are the primary-key values (the key split at U+001F).
	KeyParts   []string        `json:"key_parts"`
	Dept       string          `json:"dept"`
	Version    int64           `json:"version"`
	Deleted    bool            `json:"deleted"`
	Data       json.RawMessage `json:"data"`
	BatchID    string          `json:"batch_id"`
	IngestedAt time.Time       `json:"ingested_at"`
}

func toRecordJSON(r store.Record) recordJSON {
	data := r.Data
	if data == nil {
		data = json.RawMessage("null")
	}
	return recordJSON{Key: r.Key, KeyParts: wire.SplitKey(r.Key), Dept: r.Dept, Version: r.Version, Deleted: r.Deleted,
		Data: data, BatchID: r.BatchID, IngestedAt: r.IngestedAt.UTC()}
}

type recordsResponse struct {
	Resource string       `json:"resource"`
	Records  []recordJSON `json:"records"`
	// NextAfter is the after= of the next page; absent on the last page.
	NextAfter string `json:"next_after,omitempty"`
}

type keyJSON struct {
	Key     string `json:"key"`
	Version int64  `json:"version"`
}

type keysResponse struct {
	Resource  string    `json:"resource"`
	Keys      []keyJSON `json:"keys"`
	NextAfter string    `json:"next_after,omitempty"`
}

// readable resolves {code} and checks that p may read its records.
func (s *server) readable(r *http.Request, p auth.Principal) (string, *apiError) {
	res, e := s.resource(r)
	if e != nil {
		return "", e
	}
	if !canRead(p, res.Provider) {
		return "", forbidden("code", fmt.Sprintf("resource %s is provided by department %s; only that department and admins may read its records", res.Code, res.Provider))
	}
	return res.Code, nil
}

func (s *server) listRecords(r *http.Request, p auth.Principal) (any, *apiError) {
	q, e := parseQuery(r, "after", "limit", "key", "include_deleted")
	if e != nil {
		return nil, e
	}
	code, e := s.readable(r, p)
	if e != nil {
		return nil, e
	}
	limit, e := q.limit("limit", defaultRecordsLimit)
	if e != nil {
		return nil, e
	}
	withDeleted, e := q.boolean("include_deleted")
	if e != nil {
		return nil, e
	}
	after, _ := q.str("after")
	out := recordsResponse{Resource: code, Records: []recordJSON{}}
	if key, ok := q.str("key"); ok {
		if _, both := q.str("after"); both {
			return nil, badRequest("key", "key= looks up one record; it cannot be combined with after=")
		}
		if key == "" {
			return nil, badRequest("key", "key is empty")
		}
		rec, found, err := s.st.GetRecord(r.Context(), code, key)
		if err != nil {
			return nil, s.internal(r, err)
		}
		if !found || (rec.Deleted && !withDeleted) {
			return nil, notFound("key", fmt.Sprintf("resource %s has no record with key %q", code, key))
		}
		out.Records = append(out.Records, toRecordJSON(rec))
		return out, nil
	}
	recs, err := s.st.ListRecords(r.Context(), code, after, limit, withDeleted)
	if err != nil {
		return nil, s.internal(r, err)
	}
	for _, rec := range recs {
		out.Records = append(out.Records, toRecordJSON(rec))
	}
	if len(recs) == limit {
		out.NextAfter = recs[len(recs)-1].Key
	}
	return out, nil
}

func (s *server) listKeys(r *http.Request, p auth.Principal) (any, *apiError) {
	q, e := parseQuery(r, "after", "limit")
	if e != nil {
		return nil, e
	}
	code, e := s.readable(r, p)
	if e != nil {
		return nil, e
	}
	limit, e := q.limit("limit", defaultKeysLimit)
	if e != nil {
		return nil, e
	}
	after, _ := q.str("after")
	kvs, err := s.st.ListKeys(r.Context(), code, after, limit)
	if err != nil {
		return nil, s.internal(r, err)
	}
	out := keysResponse{Resource: code, Keys: make([]keyJSON, 0, len(kvs))}
	for _, kv := range kvs {
		out.Keys = append(out.Keys, keyJSON{Key: kv.Key, Version: kv.Version})
	}
	if len(kvs) == limit {
		out.NextAfter = kvs[len(kvs)-1].Key
	}
	return out, nil
}
