package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// GoldenChange is one outbox row: a golden record as it became, for the
// change publisher.
type GoldenChange struct {
	ID          int64
	Library     string
	SubjectType string
	SubjectID   string
	// Payload is the golden record (GoldenRecord JSON), or nil when the
	// subject has no field left.
	Payload   json.RawMessage
	CreatedAt time.Time
}

// PendingGoldenChanges returns up to limit outbox rows, oldest first.
func (s *DB) PendingGoldenChanges(ctx context.Context, limit int) ([]GoldenChange, error) {
	if limit <= 0 || limit > maxOutboxLimit {
		return nil, fmt.Errorf("store: pending golden changes: limit %d is not in 1..%d", limit, maxOutboxLimit)
	}
	rs, err := s.db.QueryContext(ctx, `SELECT o.id, o.library, o.subject_type, o.subject_id, o.payload, o.created_at,
 g.library, g.data, g.provenance, g.revision, g.updated_at
FROM golden_outbox o LEFT JOIN golden_records g ON g.subject_type = o.subject_type AND g.subject_id = o.subject_id
ORDER BY o.id LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("store: pending golden changes: %w", err)
	}
	defer rs.Close()
	var out []GoldenChange
	for rs.Next() {
		var (
			c                   GoldenChange
			p, lib, data, provs sql.NullString
			rev                 sql.NullInt64
			at                  dbTime
			updated             dbTime
		)
		if err := rs.Scan(&c.ID, &c.Library, &c.SubjectType, &c.SubjectID, &p, &at, &lib, &data, &provs, &rev, &updated); err != nil {
			return nil, fmt.Errorf("store: pending golden changes: %w", err)
		}
		c.CreatedAt = at.Time
		switch {
		case p.Valid: // written with its payload (before the payload was read at publish time)
			c.Payload = json.RawMessage(p.String)
		case data.Valid:
			if c.Payload, err = currentPayload(c, lib.String, data.String, provs.String, rev.Int64, updated.Time); err != nil {
				return nil, fmt.Errorf("store: pending golden change %d: %w", c.ID, err)
			}
		}
		out = append(out, c)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("store: pending golden changes: %w", err)
	}
	return out, nil
}

// DeleteGoldenChanges removes published outbox rows.
func (s *DB) DeleteGoldenChanges(ctx context.Context, ids []int64) error {
	for start := 0; start < len(ids); start += subjectChunk {
		end := min(start+subjectChunk, len(ids))
		args := make([]any, 0, end-start)
		for _, id := range ids[start:end] {
			args = append(args, id)
		}
		q := `DELETE FROM golden_outbox WHERE id IN (` + strings.TrimSuffix(strings.Repeat("?,", end-start), ",") + `)`
		if _, err := s.db.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("store: delete %d golden changes: %w", len(ids), err)
		}
	}
	return nil
}

// currentPayload is the golden record of an outbox row as it is now (the
// topic is compacted: what counts is the latest record per subject); nil
// when no field is left.
func currentPayload(c GoldenChange, lib, data, provs string, rev int64, updated time.Time) (json.RawMessage, error) {
	var (
		d map[string]json.RawMessage
		p provenances
	)
	if err := json.Unmarshal([]byte(data), &d); err != nil {
		return nil, fmt.Errorf("stored data: %w", err)
	}
	if len(d) == 0 {
		return nil, nil
	}
	if err := json.Unmarshal([]byte(provs), &p); err != nil {
		return nil, fmt.Errorf("stored provenance: %w", err)
	}
	return json.Marshal(goldenPayload(c.SubjectType, c.SubjectID, lib, rev, updated, d, p))
}
