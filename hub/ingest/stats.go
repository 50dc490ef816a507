package ingest

import (
	"maps"
	"slices"
	"sync"
	"time"
)

// ResourceStats counts what ingest did for one resource since start.
type ResourceStats struct {
	Resource    string    `json:"resource"`
	Batches     int64     `json:"batches"`          // accepted messages
	RowsApplied int64     `json:"rows_applied"`     // rows written (new or newer versions)
	RowsSkipped int64     `json:"rows_skipped"`     // rows older than the stored version
	DeadLetters int64     `json:"dead_letters"`     // rejected messages naming this resource
	Quarantined int64     `json:"rows_quarantined"` // upserts failing a quality rule
	Fixed       int64     `json:"rows_fixed"`       // upserts stored after a fix (citizen-ID upgrade)
	LastIngest  time.Time `json:"last_ingest"`      // last committed group with rows of this resource
}

// Stats is a snapshot of the ingest counters since start.
type Stats struct {
	Messages          int64            `json:"messages"`
	Groups            int64            `json:"groups"`
	DeadLetters       int64            `json:"dead_letters"`
	DeadLettersByKind map[string]int64 `json:"dead_letters_by_reason"`
	// RetryErrors counts failed store or Kafka attempts that were retried.
	RetryErrors int64     `json:"retry_errors"`
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
	Retrying    bool      `json:"retrying"` // the current group is waiting for the store or Kafka
	// Busy is true while a fetched group is being written (quarantine,
	// department library, merge) and committed. Once every expected row is
	// in the store, Busy false means their merge has finished too.
	Busy      bool            `json:"busy"`
	Lag       int64           `json:"lag"`
	Resources []ResourceStats `json:"resources"` // by resource code
}

// statsBook keeps Stats under a mutex.
type statsBook struct {
	mu sync.Mutex
	s  Stats
	r  map[string]*ResourceStats
}

func (b *statsBook) resource(code string) *ResourceStats {
	if b.r == nil {
		b.r = map[string]*ResourceStats{}
	}
	rs, ok := b.r[code]
	if !ok {
		rs = &ResourceStats{Resource: code}
		b.r[code] = rs
	}
	return rs
}

func (b *statsBook) deadLetter(resource, class string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.s.Messages++
	b.s.DeadLetters++
	if b.s.DeadLettersByKind == nil {
		b.s.DeadLettersByKind = map[string]int64{}
	}
	b.s.DeadLettersByKind[class]++
	if resource != "" {
		b.resource(resource).DeadLetters++
	}
}

func (b *statsBook) applied(resource string, batches, applied, skipped int64, at time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.s.Messages += batches
	rs := b.resource(resource)
	rs.Batches += batches
	rs.RowsApplied += applied
	rs.RowsSkipped += skipped
	rs.LastIngest = at
}

func (b *statsBook) quality(resource string, quarantined, fixed int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	rs := b.resource(resource)
	rs.Quarantined += quarantined
	rs.Fixed += fixed
}

func (b *statsBook) setBusy(busy bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.s.Busy = busy
}

func (b *statsBook) group() {
	b.mu.Lock()
	b.s.Groups++
	b.s.Retrying = false
	b.mu.Unlock()
}

func (b *statsBook) failed(err error, at time.Time) {
	b.mu.Lock()
	b.s.RetryErrors++
	b.s.LastError = err.Error()
	b.s.LastErrorAt = at
	b.s.Retrying = true
	b.mu.Unlock()
}

func (b *statsBook) recovered() {
	b.mu.Lock()
	b.s.Retrying = false
	b.mu.Unlock()
}

func (b *statsBook) snapshot(lag int64) Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.s
	s.Lag = lag
	s.DeadLettersByKind = maps.Clone(b.s.DeadLettersByKind)
	s.Resources = make([]ResourceStats, 0, len(b.r))
	for _, code := range slices.Sorted(maps.Keys(b.r)) {
		s.Resources = append(s.Resources, *b.r[code])
	}
	return s
}
