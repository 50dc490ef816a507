package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Audit results.
const (
	AuditAllowed = "allowed"
	AuditDenied  = "denied"
	AuditError   = "error"
)

// AuditHashLen is the length of an audit hash (SM3), and of the genesis
// prev_hash (all zero bytes).
const AuditHashLen = 32

// Audit limits, in bytes. Text columns are cut to them (the call happened and
// is logged whatever the request held); fields and detail beyond them are
// refused, since cutting them would hide what was accessed.
const (
	maxAuditIdent     = 256 // actor, dept, resource, subject id, item code, each field name
	maxAuditAction    = 64
	maxAuditSubjType  = 32
	maxAuditPurpose   = 4 << 10
	maxAuditReason    = 16 << 10
	maxAuditFields    = 1024
	maxAuditDetail    = 64 << 10
	maxAuditListLimit = 1000
	maxAuditReadLimit = 10000
	// auditInsertRows is how many rows one INSERT statement carries: 16
	// placeholders a row stays far below SQLite's variable limit, and a
	// statement stays well below MySQL's default max_allowed_packet.
	auditInsertRows = 100
)

// AuditEntry is one row of the audit log: who (Actor, Dept) did what
// (Action on Resource about a subject, which Fields), why (Purpose, ItemCode),
// with what Result, when (At); and its place in the hash chain.
type AuditEntry struct {
	// Seq is the position in the log, from 1, assigned by AppendAudit.
	Seq int64
	// At is when the call happened; AppendAudit sets the current time when
	// zero and keeps it in UTC, cut to microseconds (what both backends store).
	At time.Time
	// Actor is the API token id of the caller (empty for the hub itself).
	Actor string
	// Dept is the caller's department code (empty for the bureau/admin).
	Dept string
	// Action is what was done, e.g. "share.read" (required).
	Action string
	// Resource is the catalog resource code the call was about.
	Resource string
	// SubjectType ("person", "legal_person") and SubjectID (citizen ID,
	// USCC) name the data subject, when there is one.
	SubjectType, SubjectID string
	// Fields are the field names read or decided on.
	Fields []string
	// Purpose is the stated reason of use (用证事由); ItemCode the government
	// service item (事项编码) it serves.
	Purpose, ItemCode string
	// Result is AuditAllowed, AuditDenied or AuditError; Reason says why.
	Result, Reason string
	// Detail is optional JSON with what else matters (ids, counts).
	Detail json.RawMessage
	// PrevHash is the previous entry's Hash (32 zero bytes for seq 1); Hash
	// covers this entry and PrevHash. Both are set by AppendAudit.
	PrevHash, Hash []byte
}

// AuditHead is the chain head recorded in the store: the last seq and hash
// appended (0 and 32 zero bytes for an empty log).
type AuditHead struct {
	Seq  int64
	Hash []byte
}

// AuditSealer returns the hash of e, whose Seq and PrevHash are set.
type AuditSealer func(e AuditEntry) []byte

// AuditRowError is returned by the audit reads when a stored row cannot be
// decoded (its time or fields were edited into something unreadable).
type AuditRowError struct {
	Seq int64
	Err error
}

func (e *AuditRowError) Error() string { return fmt.Sprintf("audit row %d: %v", e.Seq, e.Err) }
func (e *AuditRowError) Unwrap() error { return e.Err }

// NormalizeAuditEntry returns e as AppendAudit stores it: At set (now when
// zero), in UTC, cut to microseconds; text made valid UTF-8 and cut to its
// column limit; empty Fields and Detail as nil. It fails on what is refused:
// no action, an unknown result, too many fields, a detail that is not JSON or
// too long.
func NormalizeAuditEntry(e AuditEntry, now time.Time) (AuditEntry, error) {
	if e.At.IsZero() {
		e.At = now
	}
	e.At = e.At.UTC().Truncate(time.Microsecond)
	if y := e.At.Year(); y < 1000 || y > 9999 {
		return AuditEntry{}, fmt.Errorf("at: time %s is outside years 1000-9999", e.At.Format(time.RFC3339Nano))
	}
	if e.Action == "" {
		return AuditEntry{}, errors.New("action is empty")
	}
	if err := checkText("action", e.Action, maxAuditAction, true); err != nil {
		return AuditEntry{}, err
	}
	if len(e.Action) > maxAuditAction {
		return AuditEntry{}, fmt.Errorf("action is %d bytes long (at most %d)", len(e.Action), maxAuditAction)
	}
	switch e.Result {
	case AuditAllowed, AuditDenied, AuditError:
	default:
		return AuditEntry{}, fmt.Errorf("result %q is not %q, %q or %q", e.Result, AuditAllowed, AuditDenied, AuditError)
	}
	if len(e.Fields) > maxAuditFields {
		return AuditEntry{}, fmt.Errorf("%d fields (at most %d)", len(e.Fields), maxAuditFields)
	}
	if len(e.Fields) == 0 {
		e.Fields = nil
	} else {
		fs := make([]string, len(e.Fields))
		for i, f := range e.Fields {
			fs[i] = truncateText(f, maxAuditIdent)
		}
		e.Fields = fs
	}
	if len(e.Detail) == 0 {
		e.Detail = nil
	} else {
		if len(e.Detail) > maxAuditDetail {
			return AuditEntry{}, fmt.Errorf("detail is %d bytes long (at most %d)", len(e.Detail), maxAuditDetail)
		}
		if err := checkJSON("detail", e.Detail, false); err != nil {
			return AuditEntry{}, err
		}
		e.Detail = append(json.RawMessage(nil), e.Detail...)
	}
	e.Actor = truncateText(e.Actor, maxAuditIdent)
	e.Dept = truncateText(e.Dept, maxAuditIdent)
	e.Resource = truncateText(e.Resource, maxAuditIdent)
	e.SubjectType = truncateText(e.SubjectType, maxAuditSubjType)
	e.SubjectID = truncateText(e.SubjectID, maxAuditIdent)
	e.Purpose = truncateText(e.Purpose, maxAuditPurpose)
	e.ItemCode = truncateText(e.ItemCode, maxAuditIdent)
	e.Reason = truncateText(e.Reason, maxAuditReason)
	return e, nil
}

// AppendAudit appends entries to the audit log in one transaction, in order,
// and returns them as stored (normalised, with Seq, PrevHash and Hash).
// seal computes each hash. The chain head is read and locked in the
// transaction (SQLite: the write transaction; MySQL: SELECT ... FOR UPDATE
// on audit_head), so concurrent appenders, in this process or others on the
// same database, serialise: seq has no gaps and each PrevHash is the hash of
// the row before. Either every entry is appended or none.
func (s *DB) AppendAudit(ctx context.Context, entries []AuditEntry, seal AuditSealer) ([]AuditEntry, error) {
	if len(entries) == 0 {
		return nil, nil
	}
	if seal == nil {
		return nil, errors.New("store: append audit: no sealer")
	}
	now := time.Now()
	norm := make([]AuditEntry, len(entries))
	for i, e := range entries {
		n, err := NormalizeAuditEntry(e, now)
		if err != nil {
			return nil, fmt.Errorf("store: append audit: entry %d (%s): %w", i, e.Action, err)
		}
		norm[i] = n
	}
	var (
		out []AuditEntry
		err error
	)
	for attempt := 1; ; attempt++ {
		out, err = s.appendAudit(ctx, norm, seal)
		if err == nil || attempt >= s.d.maxApplyAttempts || !s.d.isRetryable(err) || ctx.Err() != nil {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("store: append audit (%d entries): %w", len(entries), err)
	}
	return out, nil
}

func (s *DB) appendAudit(ctx context.Context, entries []AuditEntry, seal AuditSealer) (_ []AuditEntry, err error) {
	tx, err := s.db.BeginTx(ctx, s.d.writeTx)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	var head AuditHead
	err = tx.QueryRowContext(ctx, `SELECT last_seq, last_hash FROM audit_head WHERE id = 1`+s.d.forUpdate).Scan(&head.Seq, &head.Hash)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errors.New("audit_head has no row: the chain head was deleted (run tongban audit verify)")
	}
	if err != nil {
		return nil, fmt.Errorf("read chain head: %w", err)
	}
	out := make([]AuditEntry, len(entries))
	prev := head
	for i, e := range entries {
		e.Seq = prev.Seq + 1
		e.PrevHash = append([]byte(nil), prev.Hash...)
		e.Hash = seal(e)
		out[i] = e
		prev = AuditHead{Seq: e.Seq, Hash: e.Hash}
	}
	for start := 0; start < len(out); start += auditInsertRows {
		chunk := out[start:min(start+auditInsertRows, len(out))]
		var (
			q    strings.Builder
			args = make([]any, 0, len(chunk)*16)
		)
		q.WriteString(`INSERT INTO audit_log (seq, at, actor, dept, action, resource, subject_type, subject_id, fields,
 purpose, item_code, result, reason, detail, prev_hash, hash) VALUES `)
		for i, e := range chunk {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
			fields, err := json.Marshal(nonNil(e.Fields))
			if err != nil {
				return nil, fmt.Errorf("entry %d: fields: %w", e.Seq, err)
			}
			args = append(args, e.Seq, formatDBTime(e.At), e.Actor, e.Dept, e.Action, e.Resource, e.SubjectType, e.SubjectID,
				string(fields), e.Purpose, e.ItemCode, e.Result, e.Reason, jsonArg(e.Detail), e.PrevHash, e.Hash)
		}
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			return nil, fmt.Errorf("insert seq %d..%d: %w", chunk[0].Seq, chunk[len(chunk)-1].Seq, err)
		}
	}
	res, err := tx.ExecContext(ctx, `UPDATE audit_head SET last_seq = ?, last_hash = ? WHERE id = 1`, prev.Seq, prev.Hash)
	if err != nil {
		return nil, fmt.Errorf("move chain head: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return nil, fmt.Errorf("move chain head: %w", err)
	} else if n != 1 {
		return nil, fmt.Errorf("move chain head: %d rows updated, want 1", n)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	return out, nil
}

func nonNil(fs []string) []string {
	if fs == nil {
		return []string{}
	}
	return fs
}

// ReadAuditHead returns the chain head recorded in audit_head.
func (s *DB) ReadAuditHead(ctx context.Context) (AuditHead, error) {
	var h AuditHead
	err := s.db.QueryRowContext(ctx, `SELECT last_seq, last_hash FROM audit_head WHERE id = 1`).Scan(&h.Seq, &h.Hash)
	if errors.Is(err, sql.ErrNoRows) {
		return AuditHead{}, fmt.Errorf("store: read audit head: audit_head has no row: %w", ErrNotFound)
	}
	if err != nil {
		return AuditHead{}, fmt.Errorf("store: read audit head: %w", err)
	}
	return h, nil
}

const selectAudit = `SELECT seq, at, actor, dept, action, resource, subject_type, subject_id, fields,
 purpose, item_code, result, reason, detail, prev_hash, hash FROM audit_log`

// ReadAudit returns up to limit entries with after < seq <= through, in seq
// order: a page of a full read of the log (verification, export). A row that
// cannot be decoded fails with an *AuditRowError naming its seq.
func (s *DB) ReadAudit(ctx context.Context, after, through int64, limit int) ([]AuditEntry, error) {
	if limit <= 0 || limit > maxAuditReadLimit {
		return nil, fmt.Errorf("store: read audit: limit %d is not in 1..%d", limit, maxAuditReadLimit)
	}
	out, err := s.queryAudit(ctx, selectAudit+` WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?`, after, through, limit)
	if err != nil {
		return nil, fmt.Errorf("store: read audit after seq %d: %w", after, err)
	}
	return out, nil
}

// NextAuditSeq returns the smallest seq stored above after, if any.
func (s *DB) NextAuditSeq(ctx context.Context, after int64) (int64, bool, error) {
	var n sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT MIN(seq) FROM audit_log WHERE seq > ?`, after).Scan(&n); err != nil {
		return 0, false, fmt.Errorf("store: next audit seq after %d: %w", after, err)
	}
	return n.Int64, n.Valid, nil
}

// AuditFilter selects audit entries; zero fields do not filter.
type AuditFilter struct {
	Dept, Actor, Action, Resource string
	// SubjectType and SubjectID filter each when set; a data subject's own
	// history sets both.
	SubjectType, SubjectID string
	// Since and Until bound At: Since <= At < Until.
	Since, Until time.Time
	// Before pages backwards: only entries with seq < Before when positive.
	Before int64
	// Limit is 1..1000.
	Limit int
}

// ListAudit returns up to f.Limit entries matching f, newest (highest seq)
// first. The next page is f.Before = the last returned Seq.
func (s *DB) ListAudit(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	if f.Limit <= 0 || f.Limit > maxAuditListLimit {
		return nil, fmt.Errorf("store: list audit: limit %d is not in 1..%d", f.Limit, maxAuditListLimit)
	}
	var (
		where []string
		args  []any
	)
	add := func(cond string, a ...any) {
		where = append(where, cond)
		args = append(args, a...)
	}
	for _, c := range []struct{ col, v string }{
		{"dept", f.Dept}, {"actor", f.Actor}, {"action", f.Action}, {"resource", f.Resource},
		{"subject_type", f.SubjectType}, {"subject_id", f.SubjectID},
	} {
		if c.v != "" {
			add(c.col+" = ?", c.v)
		}
	}
	now := time.Now()
	if !f.Since.IsZero() {
		t, err := timeArg("since", f.Since, now)
		if err != nil {
			return nil, fmt.Errorf("store: list audit: %w", err)
		}
		add("at >= ?", t)
	}
	if !f.Until.IsZero() {
		t, err := timeArg("until", f.Until, now)
		if err != nil {
			return nil, fmt.Errorf("store: list audit: %w", err)
		}
		add("at < ?", t)
	}
	if f.Before > 0 {
		add("seq < ?", f.Before)
	}
	q := selectAudit
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY seq DESC LIMIT ?"
	args = append(args, f.Limit)
	out, err := s.queryAudit(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list audit: %w", err)
	}
	return out, nil
}

func (s *DB) queryAudit(ctx context.Context, q string, args ...any) ([]AuditEntry, error) {
	rs, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []AuditEntry
	for rs.Next() {
		var (
			e              AuditEntry
			at             any
			fields, detail []byte
		)
		if err := rs.Scan(&e.Seq, &at, &e.Actor, &e.Dept, &e.Action, &e.Resource, &e.SubjectType, &e.SubjectID, &fields,
			&e.Purpose, &e.ItemCode, &e.Result, &e.Reason, &detail, &e.PrevHash, &e.Hash); err != nil {
			return nil, &AuditRowError{Seq: e.Seq, Err: err}
		}
		var t dbTime
		if err := t.Scan(at); err != nil {
			return nil, &AuditRowError{Seq: e.Seq, Err: fmt.Errorf("at: %w", err)}
		}
		e.At = t.Time
		if err := json.Unmarshal(fields, &e.Fields); err != nil {
			return nil, &AuditRowError{Seq: e.Seq, Err: fmt.Errorf("fields %q: %w", fields, err)}
		}
		if len(e.Fields) == 0 {
			e.Fields = nil
		}
		if detail != nil {
			e.Detail = json.RawMessage(detail)
		}
		out = append(out, e)
	}
	if err := rs.Err(); err != nil {
		return nil, err
	}
	return out, nil
}
