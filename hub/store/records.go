package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
)

// Record is the latest version of one source record in the department
// library.
type Record struct {
	Resource string
	Key      string
	Dept     string
	// Subject is the key of the person or organisation the record is about
	// (citizen ID or USCC, after quality fixes); empty when the resource's
	// subject type is none, and for tombstones, which keep the subject
	// stored with the record.
	Subject string
	Version int64
	Deleted bool
	// Data is a JSON object of field values; nil for tombstones.
	Data    json.RawMessage
	BatchID string
	// IngestedAt is when the hub stored the record; ApplyRecords uses the
	// current time when it is zero.
	IngestedAt time.Time
}

// ApplyResult counts the records of one ApplyRecords call.
type ApplyResult struct {
	// Applied records were inserted or replaced a stored version <= theirs.
	Applied int
	// Skipped records were older than the stored version and left no trace.
	Skipped int
	// Subjects are the distinct (resource, subject) pairs whose records
	// changed, with the subject a record had before and after the change,
	// in (resource, subject) order: what the golden-record merge must
	// recompute.
	Subjects []SubjectRef
}

// SubjectRef names the records of one subject in one resource.
type SubjectRef struct {
	Resource string
	Subject  string
}

// KeyVersion is a live record key with its version.
type KeyVersion struct {
	Key     string
	Version int64
}

// ResourceCount summarises the department library of one resource.
type ResourceCount struct {
	Resource   string
	Live       int64
	Deleted    int64
	LastIngest time.Time
}

// Statement sizes: rows per multi-row statement and bytes of values per
// statement (well under SQLite's parameter limit and MySQL's packet limit).
const (
	applyChunkRows  = 500
	applyChunkBytes = 2 << 20
)

const recordColumns = `resource, record_key, dept, version, deleted, data, batch_id, ingested_at, subject`

// recordRow is a validated record in storage form.
type recordRow struct {
	resource, key, dept, batchID string
	subject                      any // string or nil
	version                      int64
	deleted                      bool
	data                         any // string or nil
	ingestedAt                   string
	size                         int
}

type recordID struct{ resource, key string }

func compareRecordID(a, b recordID) int {
	if c := cmp.Compare(a.resource, b.resource); c != 0 {
		return c
	}
	return cmp.Compare(a.key, b.key)
}

// validateRecord checks one record and returns its storage form.
func validateRecord(r *Record, now time.Time) (recordRow, error) {
	if err := checkText("resource", r.Resource, maxResourceLen, true); err != nil {
		return recordRow{}, err
	}
	if err := checkText("key", r.Key, maxKeyLen, true); err != nil {
		return recordRow{}, err
	}
	if err := checkText("dept", r.Dept, maxDeptLen, true); err != nil {
		return recordRow{}, err
	}
	if err := checkText("batch id", r.BatchID, maxBatchIDLen, false); err != nil {
		return recordRow{}, err
	}
	if err := checkText("subject", r.Subject, maxSubjectLen, false); err != nil {
		return recordRow{}, err
	}
	at, err := timeArg("ingested at", r.IngestedAt, now)
	if err != nil {
		return recordRow{}, err
	}
	row := recordRow{
		resource: r.Resource, key: r.Key, dept: r.Dept, batchID: r.BatchID,
		version: r.Version, deleted: r.Deleted, ingestedAt: at,
	}
	if r.Subject != "" {
		row.subject = r.Subject
	}
	if !r.Deleted {
		if len(r.Data) == 0 {
			return recordRow{}, errors.New("data is empty (a live record needs a JSON object)")
		}
		if err := checkJSON("data", r.Data, true); err != nil {
			return recordRow{}, err
		}
		row.data = string(r.Data)
	}
	row.size = len(r.Data) + len(r.Resource) + len(r.Key) + len(r.Dept) + len(r.BatchID) + len(r.Subject) + 64
	return row, nil
}

// ApplyRecords stores recs in one transaction. A record is inserted when its
// (resource, key) is absent; otherwise it replaces the stored row only when
// its Version is >= the stored version (so an equal version is re-applied
// idempotently). A tombstone (Deleted) keeps the row with deleted set and no
// data, so an older upsert cannot resurrect it while a newer one does.
// Records of the same key within recs are taken in slice order. Any invalid
// record fails the whole call before anything is written.
// ErrInvalidRecord marks an ApplyRecords error caused by the records
// themselves (retrying cannot help), as opposed to the database failing.
var ErrInvalidRecord = errors.New("invalid record")

func (s *DB) ApplyRecords(ctx context.Context, recs []Record) (ApplyResult, error) {
	if len(recs) == 0 {
		return ApplyResult{}, nil
	}
	now := time.Now()
	rows := make([]recordRow, len(recs))
	for i := range recs {
		row, err := validateRecord(&recs[i], now)
		if err != nil {
			return ApplyResult{}, fmt.Errorf("store: apply records: record %d (resource %q, key %q): %w: %w",
				i, recs[i].Resource, recs[i].Key, ErrInvalidRecord, err)
		}
		rows[i] = row
	}
	for attempt := 1; ; attempt++ {
		res, err := s.applyOnce(ctx, rows)
		if err == nil {
			return res, nil
		}
		if attempt >= s.d.maxApplyAttempts || !s.d.isRetryable(err) || ctx.Err() != nil {
			return ApplyResult{}, fmt.Errorf("store: apply %d records (%s): %w", len(rows), s.d.name, err)
		}
		slog.DebugContext(ctx, "store: retrying apply", "driver", s.d.name, "attempt", attempt, "err", err)
	}
}

// applyOnce runs one attempt of ApplyRecords. It reads the stored versions of
// the keys (locking them), decides every record in slice order, and writes
// only the last applied record of each key: plain inserts for absent keys
// (a concurrent insert of the same key fails the attempt, which is retried)
// and guarded upserts for present keys. The counts are therefore exact.
func (s *DB) applyOnce(ctx context.Context, rows []recordRow) (res ApplyResult, err error) {
	tx, err := s.db.BeginTx(ctx, s.d.writeTx)
	if err != nil {
		return ApplyResult{}, fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()

	stored, err := s.storedVersions(ctx, tx, rows)
	if err != nil {
		return ApplyResult{}, err
	}

	type state struct {
		version int64
		exists  bool
		winner  int // index into rows of the last applied record, -1 if none
	}
	cur := make(map[recordID]state, len(rows))
	changed := map[SubjectRef]bool{}
	for i := range rows {
		id := recordID{rows[i].resource, rows[i].key}
		st, seen := cur[id]
		if !seen {
			v, ok := stored[id]
			st = state{version: v.version, exists: ok, winner: -1}
		}
		if !st.exists || rows[i].version >= st.version {
			st = state{version: rows[i].version, exists: true, winner: i}
			res.Applied++
			if subj, ok := rows[i].subject.(string); ok {
				changed[SubjectRef{id.resource, subj}] = true
			}
			if old := stored[id].subject; old != "" {
				changed[SubjectRef{id.resource, old}] = true
			}
		} else {
			res.Skipped++
		}
		cur[id] = st
	}
	if len(changed) > 0 {
		res.Subjects = make([]SubjectRef, 0, len(changed))
		for ref := range changed {
			res.Subjects = append(res.Subjects, ref)
		}
		slices.SortFunc(res.Subjects, func(a, b SubjectRef) int {
			return compareRecordID(recordID{a.Resource, a.Subject}, recordID{b.Resource, b.Subject})
		})
	}

	var inserts, updates []int
	for id, st := range cur {
		if st.winner < 0 {
			continue
		}
		if _, ok := stored[id]; ok {
			updates = append(updates, st.winner)
		} else {
			inserts = append(inserts, st.winner)
		}
	}
	byID := func(a, b int) int {
		return compareRecordID(recordID{rows[a].resource, rows[a].key}, recordID{rows[b].resource, rows[b].key})
	}
	slices.SortFunc(inserts, byID)
	slices.SortFunc(updates, byID)

	if err := s.writeRecords(ctx, tx, rows, inserts, ""); err != nil {
		return ApplyResult{}, fmt.Errorf("insert: %w", err)
	}
	if err := s.writeRecords(ctx, tx, rows, updates, s.d.upsertRecordsSuffix); err != nil {
		return ApplyResult{}, fmt.Errorf("update: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return ApplyResult{}, fmt.Errorf("commit: %w", err)
	}
	return res, nil
}

// storedVersions reads, inside tx, the stored versions of the distinct keys of
// rows, in key order and locking them where the backend needs it.
// storedState is what applyOnce needs of a stored record.
type storedState struct {
	version int64
	subject string
}

func (s *DB) storedVersions(ctx context.Context, tx *sql.Tx, rows []recordRow) (map[recordID]storedState, error) {
	ids := make([]recordID, 0, len(rows))
	for i := range rows {
		ids = append(ids, recordID{rows[i].resource, rows[i].key})
	}
	slices.SortFunc(ids, compareRecordID)
	ids = slices.Compact(ids)

	stored := make(map[recordID]storedState, len(ids))
	var q strings.Builder
	args := make([]any, 0, applyChunkRows+1)
	for start := 0; start < len(ids); {
		resource := ids[start].resource
		end := start
		for end < len(ids) && end-start < applyChunkRows && ids[end].resource == resource {
			end++
		}
		q.Reset()
		args = append(args[:0], resource)
		q.WriteString(`SELECT record_key, version, subject FROM source_records WHERE resource = ? AND record_key IN (`)
		for i := start; i < end; i++ {
			if i > start {
				q.WriteByte(',')
			}
			q.WriteByte('?')
			args = append(args, ids[i].key)
		}
		q.WriteString(`) ORDER BY record_key`)
		q.WriteString(s.d.forUpdate)
		if err := scanVersions(ctx, tx, q.String(), args, resource, stored); err != nil {
			return nil, err
		}
		start = end
	}
	return stored, nil
}

func scanVersions(ctx context.Context, tx *sql.Tx, query string, args []any, resource string, into map[recordID]storedState) error {
	rs, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("read stored versions of %s: %w", resource, err)
	}
	defer rs.Close()
	for rs.Next() {
		var (
			key  string
			v    int64
			subj sql.NullString
		)
		if err := rs.Scan(&key, &v, &subj); err != nil {
			return fmt.Errorf("read stored versions of %s: %w", resource, err)
		}
		into[recordID{resource, key}] = storedState{version: v, subject: subj.String}
	}
	if err := rs.Err(); err != nil {
		return fmt.Errorf("read stored versions of %s: %w", resource, err)
	}
	return nil
}

// writeRecords writes rows[idx...] with multi-row INSERT statements followed
// by suffix (empty for plain inserts).
func (s *DB) writeRecords(ctx context.Context, tx *sql.Tx, rows []recordRow, idx []int, suffix string) error {
	var q strings.Builder
	args := make([]any, 0, 8*applyChunkRows)
	for start := 0; start < len(idx); {
		end, size := start, 0
		for end < len(idx) && end-start < applyChunkRows && (end == start || size+rows[idx[end]].size <= applyChunkBytes) {
			size += rows[idx[end]].size
			end++
		}
		q.Reset()
		args = args[:0]
		q.WriteString(`INSERT INTO source_records (` + recordColumns + `) VALUES `)
		for i := start; i < end; i++ {
			if i > start {
				q.WriteByte(',')
			}
			q.WriteString(`(?,?,?,?,?,?,?,?,?)`)
			r := &rows[idx[i]]
			deleted := 0
			if r.deleted {
				deleted = 1
			}
			args = append(args, r.resource, r.key, r.dept, r.version, deleted, r.data, r.batchID, r.ingestedAt, r.subject)
		}
		q.WriteString(suffix)
		res, err := tx.ExecContext(ctx, q.String(), args...)
		if err != nil {
			return err
		}
		// SQLite counts exactly the rows inserted or updated; every row written
		// here was decided applicable under the write lock.
		if s.d.name == DriverSQLite {
			if n, err := res.RowsAffected(); err == nil && n != int64(end-start) {
				return fmt.Errorf("wrote %d rows, expected %d (stored versions changed under the lock)", n, end-start)
			}
		}
		start = end
	}
	return nil
}

const selectRecord = `SELECT ` + recordColumns + ` FROM source_records`

func scanRecord(sc rowScanner) (Record, error) {
	var (
		r    Record
		data []byte
		at   dbTime
		subj sql.NullString
	)
	if err := sc.Scan(&r.Resource, &r.Key, &r.Dept, &r.Version, &r.Deleted, &data, &r.BatchID, &at, &subj); err != nil {
		return Record{}, err
	}
	if data != nil {
		r.Data = json.RawMessage(data)
	}
	r.IngestedAt = at.Time
	r.Subject = subj.String
	return r, nil
}

// GetRecord returns the stored record of (resource, key), tombstones included.
func (s *DB) GetRecord(ctx context.Context, resource, key string) (Record, bool, error) {
	row := s.db.QueryRowContext(ctx, selectRecord+` WHERE resource = ? AND record_key = ?`, resource, key)
	r, err := scanRecord(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Record{}, false, nil
	}
	if err != nil {
		return Record{}, false, fmt.Errorf("store: get record %s/%q: %w", resource, key, err)
	}
	return r, true, nil
}

// ListRecords returns up to limit records of resource with key > after, in key
// order (byte order of the UTF-8 key); tombstones only when includeDeleted.
func (s *DB) ListRecords(ctx context.Context, resource, after string, limit int, includeDeleted bool) ([]Record, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("store: list records of %s: limit %d is not positive", resource, limit)
	}
	q := selectRecord + ` WHERE resource = ? AND record_key > ?`
	if !includeDeleted {
		q += ` AND deleted = 0`
	}
	q += ` ORDER BY record_key LIMIT ?`
	rs, err := s.db.QueryContext(ctx, q, resource, after, limit)
	if err != nil {
		return nil, fmt.Errorf("store: list records of %s: %w", resource, err)
	}
	return collectRows(rs, "store: list records of "+resource, scanRecord)
}

// ListKeys returns up to limit live keys of resource with key > after, in key
// order, with their versions.
func (s *DB) ListKeys(ctx context.Context, resource, after string, limit int) ([]KeyVersion, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("store: list keys of %s: limit %d is not positive", resource, limit)
	}
	rs, err := s.db.QueryContext(ctx, `SELECT record_key, version FROM source_records
 WHERE resource = ? AND record_key > ? AND deleted = 0 ORDER BY record_key LIMIT ?`, resource, after, limit)
	if err != nil {
		return nil, fmt.Errorf("store: list keys of %s: %w", resource, err)
	}
	defer rs.Close()
	var out []KeyVersion
	for rs.Next() {
		var kv KeyVersion
		if err := rs.Scan(&kv.Key, &kv.Version); err != nil {
			return nil, fmt.Errorf("store: list keys of %s: %w", resource, err)
		}
		out = append(out, kv)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("store: list keys of %s: %w", resource, err)
	}
	return out, nil
}

// CountRecords returns, per resource in resource order, the live and deleted
// record counts and the latest ingest time.
func (s *DB) CountRecords(ctx context.Context) ([]ResourceCount, error) {
	rs, err := s.db.QueryContext(ctx, `SELECT resource,
 SUM(CASE WHEN deleted = 0 THEN 1 ELSE 0 END), SUM(CASE WHEN deleted = 0 THEN 0 ELSE 1 END), MAX(ingested_at)
 FROM source_records GROUP BY resource ORDER BY resource`)
	if err != nil {
		return nil, fmt.Errorf("store: count records: %w", err)
	}
	defer rs.Close()
	var out []ResourceCount
	for rs.Next() {
		var (
			c  ResourceCount
			at dbTime
		)
		if err := rs.Scan(&c.Resource, &c.Live, &c.Deleted, &at); err != nil {
			return nil, fmt.Errorf("store: count records: %w", err)
		}
		c.LastIngest = at.Time
		out = append(out, c)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("store: count records: %w", err)
	}
	return out, nil
}
