package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"
)

// Provenance says where the value of one golden field comes from.
type Provenance struct {
	Dept     string `json:"dept"`
	Resource string `json:"resource"`
	Key      string `json:"key"`
	Version  int64  `json:"version"`
	// SourceUpdated is the source record's own updated_at field, if any.
	SourceUpdated string `json:"source_updated,omitempty"`
	// IngestedAt is when the hub stored the source record. It is not part
	// of the comparison that decides whether a golden record changed.
	IngestedAt time.Time `json:"ingested_at"`
}

// sameSource compares provenances ignoring IngestedAt.
func (p Provenance) sameSource(q Provenance) bool {
	p.IngestedAt, q.IngestedAt = time.Time{}, time.Time{}
	return p == q
}

// GoldenField is one field of a golden record.
type GoldenField struct {
	// Value is the authority's raw JSON value, in canonical form
	// (CanonicalJSON).
	Value      json.RawMessage `json:"value"`
	Provenance Provenance      `json:"provenance"`
}

// GoldenRecord is the merged record of one subject (一数一源).
type GoldenRecord struct {
	SubjectType string                 `json:"subject_type"`
	SubjectID   string                 `json:"subject_id"`
	Library     string                 `json:"library"`
	Fields      map[string]GoldenField `json:"fields"`
	// Revision counts the changes of the record; set by the store.
	Revision  int64     `json:"revision"`
	UpdatedAt time.Time `json:"updated_at"`
}

// CanonicalJSON is the stored form of a JSON value: compact, with <, > and
// & escaped as encoding/json writes them, so that equal values compare equal
// byte for byte after a round trip through the store.
func CanonicalJSON(raw json.RawMessage) (json.RawMessage, error) {
	if len(raw) == 0 {
		return json.RawMessage("null"), nil
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// SubjectMerge is the merge outcome of one subject: its golden record (no
// fields when none is left) and the cross-check of every field.
type SubjectMerge struct {
	Golden GoldenRecord
	Checks []FieldCheck
}

// MergeCounts counts what a MergeSubjects changed.
type MergeCounts struct {
	Subjects          int // subjects written
	GoldenChanged     int // golden records changed (one outbox row each)
	FieldsChanged     int // history rows
	ConflictsOpened   int // new conflicts
	ConflictsReopened int // decided or resolved conflicts whose values changed
	ConflictsUpdated  int // open conflicts whose values changed
	ConflictsResolved int // conflicts closed by agreement
}

func (c *MergeCounts) add(o MergeCounts) {
	c.Subjects += o.Subjects
	c.GoldenChanged += o.GoldenChanged
	c.FieldsChanged += o.FieldsChanged
	c.ConflictsOpened += o.ConflictsOpened
	c.ConflictsReopened += o.ConflictsReopened
	c.ConflictsUpdated += o.ConflictsUpdated
	c.ConflictsResolved += o.ConflictsResolved
}

// MergeResult is the outcome of MergeSubjects, in total and per library.
type MergeResult struct {
	MergeCounts
	ByLibrary map[string]MergeCounts
}

// Limits of golden-record text, in characters.
const (
	maxSubjectTypeLen = 64
	maxLibraryLen     = 64
	maxFieldNameLen   = 256
	maxHistoryLimit   = 1000
	maxOutboxLimit    = 10000
	// subjectChunk is how many subjects one IN list carries.
	subjectChunk = 500
)

// mergeActor is the actor of conflict events the merge itself logs.
const mergeActor = "merge"

// MergeSubjects merges subjects in one transaction: it reads, inside the
// transaction, every live record of the subjects in resources (locking them
// on MySQL, under the write lock on SQLite), hands them to compute, and
// writes compute's outcome: a golden record only when its data or
// provenance (ignoring ingestion times) changed, with a history row per
// changed field and an outbox row; each field's cross-check opens, updates,
// reopens or resolves its conflict, with events. Writing the same outcome
// again changes nothing. Records read and outcome written cannot diverge: a
// concurrent
// ApplyRecords of the same records waits for the transaction (and its own
// merge then sees this one's result).
func (s *DB) MergeSubjects(ctx context.Context, resources, subjects []string, compute func(recs []Record) ([]SubjectMerge, error), at time.Time) (MergeResult, error) {
	if len(subjects) == 0 {
		return MergeResult{}, nil
	}
	ts, err := timeArg("merge time", at, time.Now())
	if err != nil {
		return MergeResult{}, fmt.Errorf("store: merge subjects: %w", err)
	}
	for attempt := 1; ; attempt++ {
		res, err := s.mergeSubjectsOnce(ctx, resources, subjects, compute, ts)
		if err == nil {
			return res, nil
		}
		if attempt >= s.d.maxApplyAttempts || !s.d.isRetryable(err) || ctx.Err() != nil {
			return MergeResult{}, fmt.Errorf("store: merge %d subjects (%s): %w", len(subjects), s.d.name, err)
		}
		slog.DebugContext(ctx, "store: retrying merge", "driver", s.d.name, "attempt", attempt, "err", err)
	}
}

func (s *DB) mergeSubjectsOnce(ctx context.Context, resources, subjects []string, compute func([]Record) ([]SubjectMerge, error), ts string) (res MergeResult, err error) {
	tx, err := s.db.BeginTx(ctx, s.d.writeTx)
	if err != nil {
		return MergeResult{}, fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	recs, err := subjectRecordsLocked(ctx, tx, s.d.subjectFrom, resources, subjects, s.d.forUpdate)
	if err != nil {
		return MergeResult{}, err
	}
	merges, err := compute(recs)
	if err != nil {
		return MergeResult{}, err
	}
	for i := range merges {
		if err := validateSubjectMerge(&merges[i]); err != nil {
			return MergeResult{}, fmt.Errorf("%w: subject %s %q: %w", ErrInvalidRecord, merges[i].Golden.SubjectType, merges[i].Golden.SubjectID, err)
		}
	}
	order := mergeOrder(merges)
	res, err = s.writeMergeTx(ctx, tx, merges, order, ts)
	if err != nil {
		return MergeResult{}, err
	}
	if err := tx.Commit(); err != nil {
		return MergeResult{}, fmt.Errorf("commit: %w", err)
	}
	return res, nil
}

// mergeOrder is the order merges are written in: by subject, so MySQL row
// locks are always taken in one order.
func mergeOrder(subjects []SubjectMerge) []int {
	order := make([]int, len(subjects))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		ga, gb := &subjects[a].Golden, &subjects[b].Golden
		return compareRecordID(recordID{ga.SubjectType, ga.SubjectID}, recordID{gb.SubjectType, gb.SubjectID})
	})
	return order
}

func validateSubjectMerge(m *SubjectMerge) error {
	g := &m.Golden
	if err := checkText("subject type", g.SubjectType, maxSubjectTypeLen, true); err != nil {
		return err
	}
	if err := checkText("subject id", g.SubjectID, maxSubjectLen, true); err != nil {
		return err
	}
	if err := checkText("library", g.Library, maxLibraryLen, true); err != nil {
		return err
	}
	for name, f := range g.Fields {
		if err := checkText("field", name, maxFieldNameLen, true); err != nil {
			return err
		}
		if err := checkJSON("value of "+name, f.Value, false); err != nil {
			return err
		}
	}
	for _, c := range m.Checks {
		if err := checkText("checked field", c.Field, maxFieldNameLen, true); err != nil {
			return err
		}
		for _, v := range c.Values {
			if len(v.Value) > 0 {
				if err := checkJSON("cross-check value of "+c.Field, v.Value, false); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// writeMergeTx writes merge outcomes inside tx: golden records (with
// history and outbox rows) where they changed, and every field's conflict.
func (s *DB) writeMergeTx(ctx context.Context, tx *sql.Tx, subjects []SubjectMerge, order []int, ts string) (res MergeResult, err error) {
	st, err := s.loadMergeState(ctx, tx, subjects, order)
	if err != nil {
		return MergeResult{}, err
	}
	res.ByLibrary = map[string]MergeCounts{}
	var writes goldenWrites
	for _, i := range order {
		m := &subjects[i]
		var c MergeCounts
		c.Subjects = 1
		old := st.golden[recordID{m.Golden.SubjectType, m.Golden.SubjectID}]
		if err := s.writeGolden(&writes, &m.Golden, old, ts, &c); err != nil {
			return MergeResult{}, fmt.Errorf("golden record %s %q: %w", m.Golden.SubjectType, m.Golden.SubjectID, err)
		}
		for j := range m.Checks {
			cur, exists := st.conflicts[conflictKey{m.Golden.SubjectType, m.Golden.SubjectID, m.Checks[j].Field}]
			if err := s.writeCheck(ctx, tx, m.Golden.SubjectType, m.Golden.SubjectID, &m.Checks[j], cur, exists, ts, &c); err != nil {
				return MergeResult{}, fmt.Errorf("conflict %s %q field %s: %w", m.Golden.SubjectType, m.Golden.SubjectID, m.Checks[j].Field, err)
			}
		}
		res.add(c)
		lib := res.ByLibrary[m.Golden.Library]
		lib.add(c)
		res.ByLibrary[m.Golden.Library] = lib
	}
	if err := s.flushGolden(ctx, tx, &writes); err != nil {
		return MergeResult{}, err
	}
	return res, nil
}

// goldenWrites collects the rows a merge writes, as flat argument lists,
// so they go out in multi-row statements (a statement per row costs more
// in SQL parsing than in writing).
type goldenWrites struct {
	golden  []any // 7 per row: subject_type, subject_id, library, data, provenance, revision, updated_at
	history []any // 6 per row: subject_type, subject_id, field, value, provenance, changed_at
	outbox  []any // 5 per row: library, subject_type, subject_id, payload, created_at
}

// goldenRowsPerStatement bounds the rows of one multi-row statement (well
// under SQLite's 32766 parameters).
const goldenRowsPerStatement = 500

// flushGolden writes the collected rows: golden records as upserts (a
// record read under the lock is replaced), history and outbox as inserts in
// the order collected, so ids follow subject and field order.
func (s *DB) flushGolden(ctx context.Context, tx *sql.Tx, w *goldenWrites) error {
	upsert := ` ON CONFLICT(subject_type, subject_id) DO UPDATE SET library = excluded.library, data = excluded.data,
 provenance = excluded.provenance, revision = excluded.revision, updated_at = excluded.updated_at`
	if s.d.name == DriverMySQL {
		upsert = ` ON DUPLICATE KEY UPDATE library = VALUES(library), data = VALUES(data), provenance = VALUES(provenance),
 revision = VALUES(revision), updated_at = VALUES(updated_at)`
	}
	for _, t := range []struct {
		what, head, suffix string
		cols               int
		args               []any
	}{
		{"golden records", `INSERT INTO golden_records (subject_type, subject_id, library, data, provenance, revision, updated_at) VALUES `, upsert, 7, w.golden},
		{"history", `INSERT INTO golden_history (subject_type, subject_id, field, value, provenance, changed_at) VALUES `, "", 6, w.history},
		{"outbox", `INSERT INTO golden_outbox (library, subject_type, subject_id, payload, created_at) VALUES `, "", 5, w.outbox},
	} {
		if err := execRows(ctx, tx, t.head, t.suffix, t.cols, t.args); err != nil {
			return fmt.Errorf("write %s: %w", t.what, err)
		}
	}
	return nil
}

// execRows runs head + "(?,…),(?,…)" + suffix over args, cols values a
// row, goldenRowsPerStatement rows a statement.
func execRows(ctx context.Context, tx *sql.Tx, head, suffix string, cols int, args []any) error {
	row := "(" + strings.TrimSuffix(strings.Repeat("?,", cols), ",") + ")"
	var q strings.Builder
	for start := 0; start < len(args); start += cols * goldenRowsPerStatement {
		end := min(len(args), start+cols*goldenRowsPerStatement)
		q.Reset()
		q.WriteString(head)
		for i := start; i < end; i += cols {
			if i > start {
				q.WriteByte(',')
			}
			q.WriteString(row)
		}
		q.WriteString(suffix)
		if _, err := tx.ExecContext(ctx, q.String(), args[start:end]...); err != nil {
			return err
		}
	}
	return nil
}

// storedGolden is a golden row as read for a write.
type storedGolden struct {
	data     map[string]json.RawMessage
	prov     provenances
	revision int64
}

// mergeState is what a merge write reads before writing: the stored golden
// records and conflicts of its subjects.
type mergeState struct {
	golden    map[recordID]storedGolden
	conflicts map[conflictKey]storedConflict
}

type conflictKey struct{ typ, id, field string }

// loadMergeState reads, inside tx and locking them where the backend needs
// it, the golden records and conflicts of the subjects, with one query per
// chunk of subjects of one type.
func (s *DB) loadMergeState(ctx context.Context, tx *sql.Tx, subjects []SubjectMerge, order []int) (*mergeState, error) {
	st := &mergeState{golden: map[recordID]storedGolden{}, conflicts: map[conflictKey]storedConflict{}}
	for start := 0; start < len(order); {
		typ := subjects[order[start]].Golden.SubjectType
		end := start
		var ids []any
		for end < len(order) && end-start < subjectChunk && subjects[order[end]].Golden.SubjectType == typ {
			ids = append(ids, subjects[order[end]].Golden.SubjectID)
			end++
		}
		in := strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",")
		args := append([]any{typ}, ids...)
		if err := s.loadGolden(ctx, tx, typ, in, args, st); err != nil {
			return nil, fmt.Errorf("read golden records: %w", err)
		}
		if err := s.loadConflicts(ctx, tx, typ, in, args, st); err != nil {
			return nil, fmt.Errorf("read conflicts: %w", err)
		}
		start = end
	}
	return st, nil
}

func (s *DB) loadGolden(ctx context.Context, tx *sql.Tx, typ, in string, args []any, st *mergeState) error {
	rs, err := tx.QueryContext(ctx, `SELECT subject_id, data, provenance, revision FROM golden_records WHERE subject_type = ? AND subject_id IN (`+in+`) ORDER BY subject_id`+s.d.forUpdate, args...)
	if err != nil {
		return err
	}
	defer rs.Close()
	for rs.Next() {
		var (
			id         string
			data, prov []byte
			g          storedGolden
		)
		if err := rs.Scan(&id, &data, &prov, &g.revision); err != nil {
			return err
		}
		if err := json.Unmarshal(data, &g.data); err != nil {
			return fmt.Errorf("stored data of %q: %w", id, err)
		}
		if err := json.Unmarshal(prov, &g.prov); err != nil {
			return fmt.Errorf("stored provenance of %q: %w", id, err)
		}
		st.golden[recordID{typ, id}] = g
	}
	return rs.Err()
}

func (s *DB) loadConflicts(ctx context.Context, tx *sql.Tx, typ, in string, args []any, st *mergeState) error {
	rs, err := tx.QueryContext(ctx, `SELECT id, subject_id, field, status, source_values, values_hash FROM conflicts WHERE subject_type = ? AND subject_id IN (`+in+`) ORDER BY subject_id, field`+s.d.forUpdate, args...)
	if err != nil {
		return err
	}
	defer rs.Close()
	for rs.Next() {
		var (
			c         storedConflict
			id, field string
			raw       []byte
		)
		if err := rs.Scan(&c.id, &id, &field, &c.status, &raw, &c.hash); err != nil {
			return err
		}
		if err := json.Unmarshal(raw, &c.values); err != nil {
			return fmt.Errorf("stored values of conflict %d: %w", c.id, err)
		}
		st.conflicts[conflictKey{typ, id, field}] = c
	}
	return rs.Err()
}

// writeGolden upserts one golden record if it changed, with its history and
// outbox rows.
func (s *DB) writeGolden(w *goldenWrites, g *GoldenRecord, old storedGolden, ts string, c *MergeCounts) error {
	newData := make(map[string]json.RawMessage, len(g.Fields))
	newProv := make(provenances, len(g.Fields))
	for name, f := range g.Fields {
		v, err := CanonicalJSON(f.Value)
		if err != nil {
			return fmt.Errorf("value of %s: %w", name, err)
		}
		newData[name], newProv[name] = v, f.Provenance
	}
	// Changed fields, in name order so history ids follow field order.
	names := slices.Sorted(maps.Keys(newData))
	for name := range old.data {
		if _, ok := newData[name]; !ok {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	var changed []string
	for _, name := range names {
		nv, inNew := newData[name]
		ov, inOld := old.data[name]
		if inNew != inOld || !bytes.Equal(nv, ov) || !newProv[name].sameSource(old.prov[name]) {
			changed = append(changed, name)
		}
	}
	if len(changed) == 0 {
		return nil
	}
	dataJSON := appendObject(nil, newData)
	provJSON, err := newProv.MarshalJSON()
	if err != nil {
		return err
	}
	rev := old.revision + 1
	data, provs := string(dataJSON), string(provJSON)
	w.golden = append(w.golden, g.SubjectType, g.SubjectID, g.Library, data, provs, rev, ts)
	// The outbox row names the subject; the publisher reads the record as
	// it is when it publishes (PendingGoldenChanges).
	w.outbox = append(w.outbox, g.Library, g.SubjectType, g.SubjectID, nil, ts)
	c.GoldenChanged++
	c.FieldsChanged += len(changed)
	if old.revision == 0 {
		// A new golden record: one history row holds every field's first
		// value and source (field creationField), the record's own JSON.
		w.history = append(w.history, g.SubjectType, g.SubjectID, creationField, data, provs, ts)
		return nil
	}
	for _, name := range changed {
		var val, prov any
		if v, ok := newData[name]; ok {
			p, err := json.Marshal(newProv[name])
			if err != nil {
				return err
			}
			val, prov = string(v), string(p)
		} else if p, ok := old.prov[name]; ok {
			// A cleared field keeps, as provenance, the source it last had.
			b, err := json.Marshal(p)
			if err != nil {
				return err
			}
			prov = string(b)
		}
		w.history = append(w.history, g.SubjectType, g.SubjectID, name, val, prov, ts)
	}
	return nil
}

// appendObject appends the JSON object of fields whose values are canonical
// (CanonicalJSON): byte for byte what json.Marshal writes for the map, keys
// sorted, without json.Marshal compacting every value again.
func appendObject(dst []byte, fields map[string]json.RawMessage) []byte {
	dst = append(dst, '{')
	for i, name := range slices.Sorted(maps.Keys(fields)) {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendKey(dst, name)
		dst = append(dst, ':')
		dst = append(dst, fields[name]...)
	}
	return append(dst, '}')
}

// appendKey appends name as a JSON string, as json.Marshal quotes it.
func appendKey(dst []byte, name string) []byte {
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c == '_' || c == '-' || c == '.' || c == '$' || ('0' <= c && c <= '9') || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')) {
			q, _ := json.Marshal(name) // a string always marshals
			return append(dst, q...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, name...)
	return append(dst, '"')
}

// creationField is the field name of the history row written when a
// golden record is created: its value and provenance are the record's data
// and provenance objects (every field's first value and source), read back
// by FieldHistory as one entry per field. Field names are identifiers, so
// it cannot be one.
const creationField = "*"

func goldenPayload(typ, id, lib string, rev int64, updated time.Time, data map[string]json.RawMessage, prov map[string]Provenance) GoldenRecord {
	g := GoldenRecord{SubjectType: typ, SubjectID: id, Library: lib, Revision: rev, UpdatedAt: updated.UTC(), Fields: make(map[string]GoldenField, len(data))}
	for name, v := range data {
		g.Fields[name] = GoldenField{Value: v, Provenance: prov[name]}
	}
	return g
}

// GetGolden returns the golden record of a subject; found is false when the
// subject has none or no field is left.
func (s *DB) GetGolden(ctx context.Context, subjectType, subjectID string) (GoldenRecord, bool, error) {
	var (
		lib, data, prov string
		rev             int64
		at              dbTime
	)
	err := s.db.QueryRowContext(ctx, `SELECT library, data, provenance, revision, updated_at FROM golden_records WHERE subject_type = ? AND subject_id = ?`,
		subjectType, subjectID).Scan(&lib, &data, &prov, &rev, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return GoldenRecord{}, false, nil
	}
	if err != nil {
		return GoldenRecord{}, false, fmt.Errorf("store: get golden record %s %q: %w", subjectType, subjectID, err)
	}
	var (
		d map[string]json.RawMessage
		p provenances
	)
	if err := json.Unmarshal([]byte(data), &d); err != nil {
		return GoldenRecord{}, false, fmt.Errorf("store: get golden record %s %q: stored data: %w", subjectType, subjectID, err)
	}
	if err := json.Unmarshal([]byte(prov), &p); err != nil {
		return GoldenRecord{}, false, fmt.Errorf("store: get golden record %s %q: stored provenance: %w", subjectType, subjectID, err)
	}
	if len(d) == 0 {
		return GoldenRecord{}, false, nil
	}
	return goldenPayload(subjectType, subjectID, lib, rev, at.Time, d, p), true, nil
}

// HistoryEntry is one change of one golden field.
type HistoryEntry struct {
	ID    int64  `json:"id"`
	Field string `json:"field"`
	// Value is null when the field was cleared.
	Value json.RawMessage `json:"value"`
	// Provenance is the new source, or the last one of a cleared field.
	Provenance *Provenance `json:"provenance,omitempty"`
	Cleared    bool        `json:"cleared"`
	ChangedAt  time.Time   `json:"changed_at"`
}

// FieldHistory returns up to limit changes of a subject's golden record,
// newest first; of one field, or of all fields when field is empty.
func (s *DB) FieldHistory(ctx context.Context, subjectType, subjectID, field string, limit int) ([]HistoryEntry, error) {
	if limit <= 0 || limit > maxHistoryLimit {
		return nil, fmt.Errorf("store: field history: limit %d is not in 1..%d", limit, maxHistoryLimit)
	}
	q := `SELECT id, field, value, provenance, changed_at FROM golden_history WHERE subject_type = ? AND subject_id = ?`
	args := []any{subjectType, subjectID}
	if field != "" {
		q += ` AND field IN (?, ?)`
		args = append(args, field, creationField)
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, limit)
	rs, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: field history of %s %q: %w", subjectType, subjectID, err)
	}
	defer rs.Close()
	var out []HistoryEntry
	for rs.Next() {
		var (
			h       HistoryEntry
			v, prov sql.NullString
			at      dbTime
		)
		if err := rs.Scan(&h.ID, &h.Field, &v, &prov, &at); err != nil {
			return nil, fmt.Errorf("store: field history of %s %q: %w", subjectType, subjectID, err)
		}
		h.ChangedAt = at.Time
		if h.Field == creationField {
			created, err := creationEntries(h, v.String, prov.String, field)
			if err != nil {
				return nil, fmt.Errorf("store: field history of %s %q: stored creation row %d: %w", subjectType, subjectID, h.ID, err)
			}
			out = append(out, created...)
			continue
		}
		if v.Valid {
			h.Value = json.RawMessage(v.String)
		} else {
			h.Value = json.RawMessage("null")
			h.Cleared = true
		}
		if prov.Valid {
			var p Provenance
			if err := json.Unmarshal([]byte(prov.String), &p); err != nil {
				return nil, fmt.Errorf("store: field history of %s %q: stored provenance: %w", subjectType, subjectID, err)
			}
			h.Provenance = &p
		}
		out = append(out, h)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("store: field history of %s %q: %w", subjectType, subjectID, err)
	}
	return out[:min(len(out), limit)], nil
}

// creationEntries expands a creation row into one entry per field (of
// field only, when it is not empty), in descending field order as if each
// had its own row, newest (highest id) first.
func creationEntries(row HistoryEntry, data, prov, field string) ([]HistoryEntry, error) {
	var (
		d map[string]json.RawMessage
		p provenances
	)
	if err := json.Unmarshal([]byte(data), &d); err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	if err := json.Unmarshal([]byte(prov), &p); err != nil {
		return nil, fmt.Errorf("provenance: %w", err)
	}
	names := slices.Sorted(maps.Keys(d))
	slices.Reverse(names)
	var out []HistoryEntry
	for _, name := range names {
		if field != "" && name != field {
			continue
		}
		h := row
		h.Field, h.Value = name, d[name]
		if pv, ok := p[name]; ok {
			h.Provenance = &pv
		}
		out = append(out, h)
	}
	return out, nil
}

// SubjectRecords returns the live records of the given subjects in the given
// resources, ordered by resource, subject and key.
func (s *DB) SubjectRecords(ctx context.Context, resources []string, subjects []string) ([]Record, error) {
	return subjectRecordsLocked(ctx, cached{s}, s.d.subjectFrom, resources, subjects, "")
}

// querier is the pool or a transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// eachSubjectChunk calls fn with "?,…) AND resource IN (?,…) AND deleted = 0"
// and its arguments for every chunk of the distinct subjects.
func eachSubjectChunk(resources, subjects []string, fn func(in string, args []any) error) error {
	if len(resources) == 0 || len(subjects) == 0 {
		return nil
	}
	res := slices.Clone(resources)
	slices.Sort(res)
	res = slices.Compact(res)
	subj := slices.Clone(subjects)
	slices.Sort(subj)
	subj = slices.Compact(subj)
	var q strings.Builder
	for start := 0; start < len(subj); start += subjectChunk {
		end := min(start+subjectChunk, len(subj))
		q.Reset()
		args := make([]any, 0, end-start+len(res))
		for i := start; i < end; i++ {
			if i > start {
				q.WriteByte(',')
			}
			q.WriteByte('?')
			args = append(args, subj[i])
		}
		q.WriteString(`) AND resource IN (`)
		for i, r := range res {
			if i > 0 {
				q.WriteByte(',')
			}
			q.WriteByte('?')
			args = append(args, r)
		}
		q.WriteString(`) AND deleted = 0`)
		if err := fn(q.String(), args); err != nil {
			return err
		}
	}
	return nil
}

// subjectRecordsLocked is subjectRecords with a locking suffix (FOR UPDATE
// on MySQL inside a transaction).
func subjectRecordsLocked(ctx context.Context, db querier, from string, resources []string, subjects []string, lock string) ([]Record, error) {
	var out []Record
	err := eachSubjectChunk(resources, subjects, func(in string, args []any) error {
		rs, err := db.QueryContext(ctx, `SELECT `+recordColumns+` FROM `+from+` WHERE subject IN (`+in+lock, args...)
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			r, err := scanRecord(rs)
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return rs.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: subject records: %w", err)
	}
	slices.SortFunc(out, func(a, b Record) int {
		if c := strings.Compare(a.Resource, b.Resource); c != 0 {
			return c
		}
		if c := strings.Compare(a.Subject, b.Subject); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	return out, nil
}
