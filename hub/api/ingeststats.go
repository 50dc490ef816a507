package api

import (
	"encoding/json"
	"net/http"
	"slices"
	"time"

	"github.com/tongban/tongban/hub/auth"
	"github.com/tongban/tongban/hub/ingest"
)

// resourceStatsJSON is one resource in GET /ingest/stats: the department
// library's counts (from the store) and this hub's ingest counters since it
// started.
type resourceStatsJSON struct {
	Resource    string     `json:"resource"`
	Name        string     `json:"name,omitempty"`
	Provider    string     `json:"provider,omitempty"`
	Live        int64      `json:"live"`
	Deleted     int64      `json:"deleted"`
	LastIngest  *time.Time `json:"last_ingest"`
	Batches     int64      `json:"batches"`
	RowsApplied int64      `json:"rows_applied"`
	RowsSkipped int64      `json:"rows_skipped"`
	DeadLetters int64      `json:"dead_letters"`
}

type ingestStatsResponse struct {
	Resources []resourceStatsJSON `json:"resources"`
	// DeadLettersStored counts every dead letter in the store.
	DeadLettersStored int64 `json:"dead_letters_stored"`
	// Ingest is this hub's consumer since it started; absent when the API
	// runs without an ingester.
	Ingest *ingest.Stats `json:"ingest,omitempty"`
}

func (s *server) ingestStats(r *http.Request, _ auth.Principal) (any, *apiError) {
	if _, e := parseQuery(r); e != nil {
		return nil, e
	}
	counts, err := s.st.CountRecords(r.Context())
	if err != nil {
		return nil, s.internal(r, err)
	}
	dead, err := s.st.CountDeadLetters(r.Context())
	if err != nil {
		return nil, s.internal(r, err)
	}
	byCode := map[string]*resourceStatsJSON{}
	var order []string
	get := func(code string) *resourceStatsJSON {
		if rs, ok := byCode[code]; ok {
			return rs
		}
		rs := &resourceStatsJSON{Resource: code}
		if res, ok := s.cat.Resource(code); ok {
			rs.Name, rs.Provider = res.Name, res.Provider
		}
		byCode[code] = rs
		order = append(order, code)
		return rs
	}
	for i := range s.cat.Resources {
		get(s.cat.Resources[i].Code)
	}
	for _, c := range counts {
		rs := get(c.Resource)
		rs.Live, rs.Deleted = c.Live, c.Deleted
		if !c.LastIngest.IsZero() {
			t := c.LastIngest.UTC()
			rs.LastIngest = &t
		}
	}
	out := ingestStatsResponse{DeadLettersStored: dead}
	if s.ingest != nil {
		st := s.ingest.Stats()
		for _, is := range st.Resources {
			rs := get(is.Resource)
			rs.Batches, rs.RowsApplied, rs.RowsSkipped, rs.DeadLetters = is.Batches, is.RowsApplied, is.RowsSkipped, is.DeadLetters
		}
		st.Resources = nil // reported per resource above
		out.Ingest = &st
	}
	slices.Sort(order)
	out.Resources = make([]resourceStatsJSON, 0, len(order))
	for _, code := range order {
		out.Resources = append(out.Resources, *byCode[code])
	}
	return out, nil
}

// deadLetterJSON is a dead letter in GET /deadletters.
type deadLetterJSON struct {
	ID           int64           `json:"id"`
	Topic        string          `json:"topic"`
	Partition    int             `json:"partition"`
	Offset       int64           `json:"offset"`
	Resource     string          `json:"resource"`
	Dept         string          `json:"dept"`
	BatchID      string          `json:"batch_id"`
	Reason       string          `json:"reason"`
	Headers      json.RawMessage `json:"headers"`
	PayloadBytes int             `json:"payload_bytes"`
	ReceivedAt   time.Time       `json:"received_at"`
}

const defaultDeadLetterLimit = 100

func (s *server) deadLetters(r *http.Request, _ auth.Principal) (any, *apiError) {
	q, e := parseQuery(r, "limit")
	if e != nil {
		return nil, e
	}
	limit, e := q.limit("limit", defaultDeadLetterLimit)
	if e != nil {
		return nil, e
	}
	ds, err := s.st.ListDeadLetters(r.Context(), limit)
	if err != nil {
		return nil, s.internal(r, err)
	}
	total, err := s.st.CountDeadLetters(r.Context())
	if err != nil {
		return nil, s.internal(r, err)
	}
	out := make([]deadLetterJSON, 0, len(ds))
	for _, d := range ds {
		h := d.Headers
		if h == nil {
			h = json.RawMessage("[]")
		}
		out = append(out, deadLetterJSON{ID: d.ID, Topic: d.Topic, Partition: d.Partition, Offset: d.Offset,
			Resource: d.Resource, Dept: d.Dept, BatchID: d.BatchID, Reason: d.Reason, Headers: h,
			PayloadBytes: len(d.Payload), ReceivedAt: d.ReceivedAt.UTC()})
	}
	return map[string]any{"dead_letters": out, "total": total}, nil
}
