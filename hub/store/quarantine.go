package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
)

// Quarantine entry statuses.
const (
	QuarantineOpen   = "open"
	QuarantineClosed = "closed"
	// QuarantineAll selects entries of either status in QuarantineFilter.
	QuarantineAll = "all"
)

// Why a quarantine entry was closed.
const (
	// CloseFixedAtSource: a newer version of the record no longer has the
	// violation.
	CloseFixedAtSource = "fixed at source"
	// CloseDeletedAtSource: the record was deleted at the source.
	CloseDeletedAtSource = "deleted at source"
	// CloseSuperseded: the entry no longer applies for another reason (e.g.
	// the rule was withdrawn from the catalog).
	CloseSuperseded = "superseded"
)

// Limits of quarantine and quality-fix columns, in characters.
const (
	maxFieldLen         = 64
	maxRuleLen          = 64
	maxQualityText      = 16 << 10 // reasons, original and fixed values: truncated
	maxQuarantineLimit  = 1000
	quarantineChunkRows = 200
)

// QuarantineViolation is one failed rule of a quarantined record.
type QuarantineViolation struct {
	Field    string
	Rule     string
	ReasonEN string
	ReasonZH string
}

// QuarantineUpdate is the quality outcome of one record version: its
// violations (none when it passed), or its deletion.
type QuarantineUpdate struct {
	Resource string
	Key      string
	Dept     string
	Version  int64
	// Deleted marks a tombstone: every open entry of the key closes.
	Deleted bool
	// Data is the record's original JSON object (before any fix); it may be
	// nil when there are no violations.
	Data       json.RawMessage
	Violations []QuarantineViolation
	// At is when the hub checked the record; the current time when zero.
	At time.Time
}

// QuarantineResult counts the entries an UpdateQuarantine call changed.
type QuarantineResult struct {
	// Opened entries are new, or were closed and opened again.
	Opened int
	// Closed entries were open and are now closed.
	Closed int
}

// QuarantineEntry is one failed (resource, key, field, rule).
type QuarantineEntry struct {
	ID       int64
	Resource string
	Key      string
	Field    string
	Rule     string
	Dept     string
	// Version is the record version of the last update that changed the
	// entry (for a closed entry, the version that closed it).
	Version int64
	// Data is the original record of the last violation; nil if not given.
	Data        json.RawMessage
	ReasonEN    string
	ReasonZH    string
	Status      string // QuarantineOpen or QuarantineClosed
	OpenedAt    time.Time
	UpdatedAt   time.Time
	ClosedAt    time.Time // zero while open
	CloseReason string    // empty while open
}

// QuarantineFilter selects entries for ListQuarantine; empty fields match
// everything.
type QuarantineFilter struct {
	Dept     string
	Resource string
	Rule     string
	Field    string
	// Status is "open" (the default when empty), "closed" or "all".
	Status string
	// After is the id after which the page starts (0: from the first).
	After int64
	// Limit is the page size, 1..1000.
	Limit int
}

// QuarantineCount is the number of open entries of one (resource, dept,
// rule, field).
type QuarantineCount struct {
	Resource string
	Dept     string
	Rule     string
	Field    string
	Open     int64
}

// qentry is a quarantine row being decided by UpdateQuarantine.
type qentry struct {
	id                  int64 // 0 for a new row
	field, rule         string
	dept                string
	version             int64
	data                any // string or nil
	reasonEN, reasonZH  string
	status              string
	openedAt, updatedAt string
	closedAt            any // string or nil
	closeReason         string
	dirty               bool
	order               int // creation order of new rows
	resource, key       string
}

type qkey struct{ field, rule string }

// qstate is what UpdateQuarantine knows of one record key.
type qstate struct {
	high    int64 // highest version seen: entries, library, applied updates
	hasHigh bool
	entries map[qkey]*qentry
}

// quarantineRow is a validated update in storage form.
type quarantineRow struct {
	resource, key, dept string
	version             int64
	deleted             bool
	data                any
	violations          []QuarantineViolation // distinct (field, rule), in order
	at                  string
}

// UpdateQuarantine applies the quality outcomes ups in one transaction, in
// slice order. An update older than its key's highest known version (of the
// key's entries, and of the key's record in the department library) changes
// nothing, so redeliveries and late arrivals leave the newest outcome in
// place. Otherwise each violation's entry is opened (new), reopened (closed)
// or refreshed (open; only when something differs, so a redelivery writes
// nothing), and the key's other open entries are closed as fixed at source;
// a tombstone closes all of them as deleted at source. Violations repeated
// for one (field, rule) are merged, their reasons joined. The counts are
// exact. Any invalid update fails the call before anything is written.
func (s *DB) UpdateQuarantine(ctx context.Context, ups []QuarantineUpdate) (QuarantineResult, error) {
	if len(ups) == 0 {
		return QuarantineResult{}, nil
	}
	now := time.Now()
	rows := make([]quarantineRow, len(ups))
	for i := range ups {
		row, err := validateQuarantineUpdate(&ups[i], now)
		if err != nil {
			return QuarantineResult{}, fmt.Errorf("store: update quarantine: update %d (resource %q, key %q): %w: %w",
				i, ups[i].Resource, ups[i].Key, ErrInvalidRecord, err)
		}
		rows[i] = row
	}
	for attempt := 1; ; attempt++ {
		res, err := s.updateQuarantineOnce(ctx, rows)
		if err == nil {
			return res, nil
		}
		if attempt >= s.d.maxApplyAttempts || !s.d.isRetryable(err) || ctx.Err() != nil {
			return QuarantineResult{}, fmt.Errorf("store: update quarantine (%d updates, %s): %w", len(rows), s.d.name, err)
		}
		slog.DebugContext(ctx, "store: retrying quarantine update", "driver", s.d.name, "attempt", attempt, "err", err)
	}
}

func validateQuarantineUpdate(u *QuarantineUpdate, now time.Time) (quarantineRow, error) {
	if err := checkText("resource", u.Resource, maxResourceLen, true); err != nil {
		return quarantineRow{}, err
	}
	if err := checkText("key", u.Key, maxKeyLen, true); err != nil {
		return quarantineRow{}, err
	}
	if err := checkText("dept", u.Dept, maxDeptLen, true); err != nil {
		return quarantineRow{}, err
	}
	at, err := timeArg("at", u.At, now)
	if err != nil {
		return quarantineRow{}, err
	}
	row := quarantineRow{resource: u.Resource, key: u.Key, dept: u.Dept, version: u.Version, deleted: u.Deleted, at: at}
	if u.Data != nil {
		if err := checkJSON("data", u.Data, true); err != nil {
			return quarantineRow{}, err
		}
		row.data = string(u.Data)
	}
	if u.Deleted {
		if len(u.Violations) > 0 {
			return quarantineRow{}, fmt.Errorf("a tombstone has %d violations (it can have none)", len(u.Violations))
		}
		return row, nil
	}
	seen := make(map[qkey]int, len(u.Violations))
	for j, v := range u.Violations {
		if err := checkText(fmt.Sprintf("violation %d field", j), v.Field, maxFieldLen, true); err != nil {
			return quarantineRow{}, err
		}
		if err := checkText(fmt.Sprintf("violation %d rule", j), v.Rule, maxRuleLen, true); err != nil {
			return quarantineRow{}, err
		}
		if i, dup := seen[qkey{v.Field, v.Rule}]; dup {
			p := &row.violations[i]
			p.ReasonEN = joinReason(p.ReasonEN, v.ReasonEN)
			p.ReasonZH = joinReason(p.ReasonZH, v.ReasonZH)
			continue
		}
		seen[qkey{v.Field, v.Rule}] = len(row.violations)
		row.violations = append(row.violations, v)
	}
	for i := range row.violations {
		p := &row.violations[i]
		p.ReasonEN = truncateText(p.ReasonEN, maxQualityText)
		p.ReasonZH = truncateText(p.ReasonZH, maxQualityText)
	}
	return row, nil
}

func joinReason(a, b string) string {
	switch {
	case b == "" || a == b:
		return a
	case a == "":
		return b
	}
	return a + "; " + b
}

func (s *DB) updateQuarantineOnce(ctx context.Context, rows []quarantineRow) (res QuarantineResult, err error) {
	tx, err := s.db.BeginTx(ctx, s.d.writeTx)
	if err != nil {
		return QuarantineResult{}, fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()

	ids := make([]recordID, 0, len(rows))
	for i := range rows {
		ids = append(ids, recordID{rows[i].resource, rows[i].key})
	}
	slices.SortFunc(ids, compareRecordID)
	ids = slices.Compact(ids)
	state := make(map[recordID]*qstate, len(ids))
	for _, id := range ids {
		state[id] = &qstate{entries: map[qkey]*qentry{}}
	}
	if err := s.readQuarantineState(ctx, tx, ids, state); err != nil {
		return QuarantineResult{}, err
	}

	created := 0
	for i := range rows {
		u := &rows[i]
		st := state[recordID{u.resource, u.key}]
		if st.hasHigh && u.version < st.high {
			continue
		}
		st.high, st.hasHigh = u.version, true
		want := make(map[qkey]bool, len(u.violations))
		for _, v := range u.violations {
			k := qkey{v.Field, v.Rule}
			want[k] = true
			e, ok := st.entries[k]
			if !ok {
				created++
				st.entries[k] = &qentry{field: v.Field, rule: v.Rule, dept: u.dept, version: u.version, data: u.data,
					reasonEN: v.ReasonEN, reasonZH: v.ReasonZH, status: QuarantineOpen, openedAt: u.at, updatedAt: u.at,
					dirty: true, order: created, resource: u.resource, key: u.key}
				res.Opened++
				continue
			}
			if e.status != QuarantineOpen {
				e.status, e.openedAt, e.closedAt, e.closeReason = QuarantineOpen, u.at, nil, ""
				e.dirty = true
				res.Opened++
			} else if e.dept == u.dept && e.version == u.version && e.data == u.data &&
				e.reasonEN == v.ReasonEN && e.reasonZH == v.ReasonZH {
				continue // a redelivery: nothing to refresh
			}
			e.dept, e.version, e.data, e.reasonEN, e.reasonZH = u.dept, u.version, u.data, v.ReasonEN, v.ReasonZH
			e.updatedAt, e.dirty = u.at, true
		}
		reason := CloseFixedAtSource
		if u.deleted {
			reason = CloseDeletedAtSource
		}
		for k, e := range st.entries {
			if want[k] || e.status != QuarantineOpen {
				continue
			}
			// The closing version keeps the key's high-water mark in the
			// quarantine itself, so an older redelivery cannot reopen it.
			e.status, e.closedAt, e.closeReason, e.updatedAt = QuarantineClosed, u.at, reason, u.at
			e.version, e.dirty = u.version, true
			res.Closed++
		}
	}

	var inserts, updates []*qentry
	for _, id := range ids {
		for _, e := range state[id].entries {
			switch {
			case !e.dirty:
			case e.id == 0:
				inserts = append(inserts, e)
			default:
				updates = append(updates, e)
			}
		}
	}
	slices.SortFunc(inserts, func(a, b *qentry) int { return a.order - b.order })
	slices.SortFunc(updates, func(a, b *qentry) int { return cmp.Compare(a.id, b.id) })
	for _, e := range updates {
		if _, err := tx.ExecContext(ctx, `UPDATE quarantine SET dept = ?, version = ?, data = ?, reason_en = ?, reason_zh = ?,
 status = ?, opened_at = ?, updated_at = ?, closed_at = ?, close_reason = ? WHERE id = ?`,
			e.dept, e.version, e.data, e.reasonEN, e.reasonZH, e.status, e.openedAt, e.updatedAt, e.closedAt, e.closeReason, e.id); err != nil {
			return QuarantineResult{}, fmt.Errorf("update entry %d: %w", e.id, err)
		}
	}
	if err := insertQuarantine(ctx, tx, inserts); err != nil {
		return QuarantineResult{}, fmt.Errorf("insert entries: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return QuarantineResult{}, fmt.Errorf("commit: %w", err)
	}
	return res, nil
}

// readQuarantineState loads, inside tx, the quarantine entries of ids
// (locking them where the backend needs it) and the versions of their
// records in the department library.
func (s *DB) readQuarantineState(ctx context.Context, tx *sql.Tx, ids []recordID, state map[recordID]*qstate) error {
	var q strings.Builder
	args := make([]any, 0, quarantineChunkRows+1)
	for start := 0; start < len(ids); {
		resource := ids[start].resource
		end := start
		for end < len(ids) && end-start < quarantineChunkRows && ids[end].resource == resource {
			end++
		}
		args = append(args[:0], resource)
		var in strings.Builder
		for i := start; i < end; i++ {
			if i > start {
				in.WriteByte(',')
			}
			in.WriteByte('?')
			args = append(args, ids[i].key)
		}
		q.Reset()
		q.WriteString(`SELECT id, record_key, field, rule, dept, version, data, reason_en, reason_zh, status, opened_at, updated_at,
 closed_at, close_reason FROM quarantine WHERE resource = ? AND record_key IN (` + in.String() + `) ORDER BY id`)
		q.WriteString(s.d.forUpdate)
		if err := scanQuarantineState(ctx, tx, q.String(), args, resource, state); err != nil {
			return fmt.Errorf("read quarantine of %s: %w", resource, err)
		}
		rs, err := tx.QueryContext(ctx, `SELECT record_key, version FROM source_records WHERE resource = ? AND record_key IN (`+in.String()+`)`, args...)
		if err != nil {
			return fmt.Errorf("read library versions of %s: %w", resource, err)
		}
		for rs.Next() {
			var (
				key string
				v   int64
			)
			if err := rs.Scan(&key, &v); err != nil {
				rs.Close()
				return fmt.Errorf("read library versions of %s: %w", resource, err)
			}
			st := state[recordID{resource, key}]
			if !st.hasHigh || v > st.high {
				st.high, st.hasHigh = v, true
			}
		}
		if err := rs.Close(); err != nil {
			return fmt.Errorf("read library versions of %s: %w", resource, err)
		}
		if err := rs.Err(); err != nil {
			return fmt.Errorf("read library versions of %s: %w", resource, err)
		}
		start = end
	}
	return nil
}

func scanQuarantineState(ctx context.Context, tx *sql.Tx, query string, args []any, resource string, state map[recordID]*qstate) error {
	rs, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rs.Close()
	for rs.Next() {
		var (
			e                       qentry
			key                     string
			data                    sql.NullString
			opened, updated, closed dbTime
		)
		if err := rs.Scan(&e.id, &key, &e.field, &e.rule, &e.dept, &e.version, &data, &e.reasonEN, &e.reasonZH, &e.status,
			&opened, &updated, &closed, &e.closeReason); err != nil {
			return err
		}
		if data.Valid {
			e.data = data.String
		}
		e.openedAt, e.updatedAt = formatDBTime(opened.Time), formatDBTime(updated.Time)
		if closed.Valid {
			e.closedAt = formatDBTime(closed.Time)
		}
		e.resource, e.key = resource, key
		st := state[recordID{resource, key}]
		st.entries[qkey{e.field, e.rule}] = &e
		if !st.hasHigh || e.version > st.high {
			st.high, st.hasHigh = e.version, true
		}
	}
	return rs.Err()
}

// insertQuarantine writes new entries with multi-row INSERTs, in order.
func insertQuarantine(ctx context.Context, tx *sql.Tx, es []*qentry) error {
	var q strings.Builder
	args := make([]any, 0, 13*quarantineChunkRows)
	for start := 0; start < len(es); start += quarantineChunkRows {
		end := min(start+quarantineChunkRows, len(es))
		q.Reset()
		args = args[:0]
		q.WriteString(`INSERT INTO quarantine (resource, record_key, field, rule, dept, version, data, reason_en, reason_zh,
 status, opened_at, updated_at, close_reason) VALUES `)
		for i, e := range es[start:end] {
			if i > 0 {
				q.WriteByte(',')
			}
			q.WriteString(`(?,?,?,?,?,?,?,?,?,?,?,?,?)`)
			args = append(args, e.resource, e.key, e.field, e.rule, e.dept, e.version, e.data, e.reasonEN, e.reasonZH,
				e.status, e.openedAt, e.updatedAt, e.closeReason)
		}
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// ListQuarantine returns up to f.Limit entries matching f with id > f.After,
// in id order.
func (s *DB) ListQuarantine(ctx context.Context, f QuarantineFilter) ([]QuarantineEntry, error) {
	if f.Limit <= 0 || f.Limit > maxQuarantineLimit {
		return nil, fmt.Errorf("store: list quarantine: limit %d is not in 1..%d", f.Limit, maxQuarantineLimit)
	}
	q := `SELECT id, resource, record_key, field, rule, dept, version, data, reason_en, reason_zh, status,
 opened_at, updated_at, closed_at, close_reason FROM quarantine WHERE id > ?`
	args := []any{f.After}
	switch f.Status {
	case "", QuarantineOpen:
		q += ` AND status = ?`
		args = append(args, QuarantineOpen)
	case QuarantineClosed:
		q += ` AND status = ?`
		args = append(args, QuarantineClosed)
	case QuarantineAll:
	default:
		return nil, fmt.Errorf("store: list quarantine: status %q is not open, closed or all", f.Status)
	}
	for _, c := range []struct{ col, v string }{{"dept", f.Dept}, {"resource", f.Resource}, {"rule", f.Rule}, {"field", f.Field}} {
		if c.v != "" {
			q += ` AND ` + c.col + ` = ?`
			args = append(args, c.v)
		}
	}
	q += ` ORDER BY id LIMIT ?`
	args = append(args, f.Limit)
	rs, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list quarantine: %w", err)
	}
	defer rs.Close()
	var out []QuarantineEntry
	for rs.Next() {
		var (
			e                       QuarantineEntry
			data                    []byte
			opened, updated, closed dbTime
		)
		if err := rs.Scan(&e.ID, &e.Resource, &e.Key, &e.Field, &e.Rule, &e.Dept, &e.Version, &data, &e.ReasonEN, &e.ReasonZH,
			&e.Status, &opened, &updated, &closed, &e.CloseReason); err != nil {
			return nil, fmt.Errorf("store: list quarantine: %w", err)
		}
		if data != nil {
			e.Data = json.RawMessage(data)
		}
		e.OpenedAt, e.UpdatedAt, e.ClosedAt = opened.Time, updated.Time, closed.Time
		out = append(out, e)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("store: list quarantine: %w", err)
	}
	return out, nil
}

// CountOpenQuarantine returns the open entries per (resource, dept, rule,
// field), in that order.
func (s *DB) CountOpenQuarantine(ctx context.Context) ([]QuarantineCount, error) {
	rs, err := s.db.QueryContext(ctx, `SELECT resource, dept, rule, field, COUNT(*) FROM quarantine WHERE status = ?
 GROUP BY resource, dept, rule, field ORDER BY resource, dept, rule, field`, QuarantineOpen)
	if err != nil {
		return nil, fmt.Errorf("store: count open quarantine: %w", err)
	}
	defer rs.Close()
	var out []QuarantineCount
	for rs.Next() {
		var c QuarantineCount
		if err := rs.Scan(&c.Resource, &c.Dept, &c.Rule, &c.Field, &c.Open); err != nil {
			return nil, fmt.Errorf("store: count open quarantine: %w", err)
		}
		out = append(out, c)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("store: count open quarantine: %w", err)
	}
	return out, nil
}

// OpenQuarantineKeys returns how many distinct record keys of resource have
// at least one open entry.
func (s *DB) OpenQuarantineKeys(ctx context.Context, resource string) (int64, error) {
	var n int64
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(DISTINCT record_key) FROM quarantine WHERE resource = ? AND status = ?`,
		resource, QuarantineOpen).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count open quarantine keys of %s: %w", resource, err)
	}
	return n, nil
}
