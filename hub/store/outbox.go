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
	rs, err := s.db.QueryContext(ctx, `SELECT id, library, subject_type, subject_id, payload, created_at FROM golden_outbox ORDER BY id LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("store: pending golden changes: %w", err)
	}
	defer rs.Close()
	var out []GoldenChange
	for rs.Next() {
		var (
			c  GoldenChange
			p  sql.NullString
			at dbTime
		)
		if err := rs.Scan(&c.ID, &c.Library, &c.SubjectType, &c.SubjectID, &p, &at); err != nil {
			return nil, fmt.Errorf("store: pending golden changes: %w", err)
		}
		if p.Valid {
			c.Payload = json.RawMessage(p.String)
		}
		c.CreatedAt = at.Time
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
