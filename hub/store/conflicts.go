package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Conflict statuses.
const (
	ConflictOpen               = "open"
	ConflictAwaitingCorrection = "awaiting_correction"
	ConflictDecided            = "decided"
	ConflictResolved           = "resolved"
)

// Conflict decisions of the bureau.
const (
	// DecisionAuthorityStands: the authority's value is right; the conflict
	// stays decided until the values change.
	DecisionAuthorityStands = "authority_stands"
	// DecisionSourceMustCorrect: the authority's department must correct
	// its record; it is notified and the conflict awaits the correction.
	DecisionSourceMustCorrect = "source_must_correct"
)

// Conflict events.
const (
	EventOpened        = "opened"
	EventReopened      = "reopened"
	EventValuesChanged = "values_changed"
	EventDecided       = "decided"
	EventResolved      = "resolved"
)

// Roles of a value in a cross-check.
const (
	RoleAuthority  = "authority"
	RoleCrossCheck = "cross_check"
)

// ErrConflictResolved is wrapped by DecideConflict errors on a resolved
// conflict.
var ErrConflictResolved = errors.New("conflict is resolved")

// ErrBadDecision is wrapped by DecideConflict errors for an unknown decision.
var ErrBadDecision = errors.New("unknown decision")

// ConflictValue is one source's value in a cross-check.
type ConflictValue struct {
	Role     string `json:"role"` // RoleAuthority or RoleCrossCheck
	Dept     string `json:"dept"`
	Resource string `json:"resource"`
	Field    string `json:"field"` // the field's name in the resource
	Key      string `json:"key"`
	Version  int64  `json:"version"`
	// Value is the raw JSON value (null when the record lacks it).
	Value json.RawMessage `json:"value"`
	// Normalized is the value as compared (see merge.Normalize).
	Normalized    string    `json:"normalized"`
	SourceUpdated string    `json:"source_updated,omitempty"`
	IngestedAt    time.Time `json:"ingested_at"`
}

// FieldCheck is the cross-check outcome of one golden field: Values holds
// the authority's value first, then every cross-check source holding a
// record of the subject; Disagree is set when some source contradicts the
// authority.
type FieldCheck struct {
	Field    string
	Disagree bool
	Values   []ConflictValue
}

// Conflict is the state of a disagreement on one field of one subject.
type Conflict struct {
	ID          int64           `json:"id"`
	SubjectType string          `json:"subject_type"`
	SubjectID   string          `json:"subject_id"`
	Field       string          `json:"field"`
	Status      string          `json:"status"`
	Values      []ConflictValue `json:"values"`
	ValuesHash  string          `json:"values_hash"`
	OpenedAt    time.Time       `json:"opened_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
	Decision    string          `json:"decision,omitempty"`
	DecidedBy   string          `json:"decided_by,omitempty"`
	Note        string          `json:"note,omitempty"`
	// Events are filled in by GetConflict only.
	Events []ConflictEvent `json:"events,omitempty"`
}

// ConflictEvent is one entry of a conflict's log.
type ConflictEvent struct {
	ID    int64     `json:"id"`
	Event string    `json:"event"`
	Actor string    `json:"actor"`
	Note  string    `json:"note,omitempty"`
	At    time.Time `json:"at"`
}

// Limits of conflict text.
const (
	maxActorLen     = 255
	maxNoteBytes    = 16 << 10
	maxConflictList = 1000
)

// valuesHash identifies what a conflict is about: which source says what.
// Versions and times are left out, so that a source re-sending the same value
// does not reopen a decided conflict.
func valuesHash(vals []ConflictValue) string {
	h := sha256.New()
	for _, v := range vals {
		for _, s := range []string{v.Role, v.Resource, v.Field, v.Key, string(v.Value)} {
			fmt.Fprintf(h, "%d:%s;", len(s), s)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// sameValues compares value lists ignoring ingestion times.
func sameValues(a, b []ConflictValue) bool {
	return slices.EqualFunc(a, b, func(x, y ConflictValue) bool {
		return x.Role == y.Role && x.Dept == y.Dept && x.Resource == y.Resource && x.Field == y.Field &&
			x.Key == y.Key && x.Version == y.Version && string(x.Value) == string(y.Value) &&
			x.Normalized == y.Normalized && x.SourceUpdated == y.SourceUpdated
	})
}

func canonicalValues(vals []ConflictValue) ([]ConflictValue, error) {
	out := make([]ConflictValue, len(vals))
	for i, v := range vals {
		c, err := CanonicalJSON(v.Value)
		if err != nil {
			return nil, err
		}
		v.Value = c
		v.IngestedAt = v.IngestedAt.UTC().Truncate(time.Microsecond)
		out[i] = v
	}
	return out, nil
}

type storedConflict struct {
	id     int64
	status string
	values []ConflictValue
	hash   string
}

// writeCheck applies one field's cross-check to its conflict.
func (s *DB) writeCheck(ctx context.Context, tx *sql.Tx, typ, id string, fc *FieldCheck, cur storedConflict, exists bool, ts string, c *MergeCounts) error {
	if !fc.Disagree {
		if !exists || cur.status == ConflictResolved {
			return nil
		}
		// Agreement closes the conflict whatever its state: there is
		// nothing left to decide.
		if _, err := tx.ExecContext(ctx, `UPDATE conflicts SET status = ?, updated_at = ? WHERE id = ?`, ConflictResolved, ts, cur.id); err != nil {
			return fmt.Errorf("resolve: %w", err)
		}
		c.ConflictsResolved++
		return addConflictEvent(ctx, tx, cur.id, EventResolved, mergeActor, "各来源不再矛盾 / the sources no longer disagree", ts)
	}
	vals, err := canonicalValues(fc.Values)
	if err != nil {
		return err
	}
	hash := valuesHash(vals)
	valJSON, err := json.Marshal(vals)
	if err != nil {
		return err
	}
	if !exists {
		res, err := tx.ExecContext(ctx, `INSERT INTO conflicts (subject_type, subject_id, field, status, source_values, values_hash, opened_at, updated_at, decision, decided_by, note)
 VALUES (?, ?, ?, ?, ?, ?, ?, ?, '', '', '')`, typ, id, fc.Field, ConflictOpen, string(valJSON), hash, ts, ts)
		if err != nil {
			return fmt.Errorf("open: %w", err)
		}
		cid, err := res.LastInsertId()
		if err != nil {
			return fmt.Errorf("open: %w", err)
		}
		c.ConflictsOpened++
		if err := setConflictResources(ctx, tx, cid, vals, false); err != nil {
			return err
		}
		return addConflictEvent(ctx, tx, cid, EventOpened, mergeActor, "", ts)
	}
	if hash == cur.hash && sameValues(vals, cur.values) && cur.status != ConflictResolved {
		return nil
	}
	event := ""
	switch {
	case cur.status == ConflictResolved || (cur.status == ConflictDecided && hash != cur.hash):
		// A new disagreement: the earlier decision does not cover it.
		if _, err := tx.ExecContext(ctx, `UPDATE conflicts SET status = ?, source_values = ?, values_hash = ?, opened_at = ?, updated_at = ?, decision = '', decided_by = '', note = '' WHERE id = ?`,
			ConflictOpen, string(valJSON), hash, ts, ts, cur.id); err != nil {
			return fmt.Errorf("reopen: %w", err)
		}
		event = EventReopened
		c.ConflictsReopened++
	case hash != cur.hash:
		if _, err := tx.ExecContext(ctx, `UPDATE conflicts SET source_values = ?, values_hash = ?, updated_at = ? WHERE id = ?`,
			string(valJSON), hash, ts, cur.id); err != nil {
			return fmt.Errorf("update values: %w", err)
		}
		event = EventValuesChanged
		c.ConflictsUpdated++
	default:
		// Same values, newer versions or times: refresh silently.
		if _, err := tx.ExecContext(ctx, `UPDATE conflicts SET source_values = ? WHERE id = ?`, string(valJSON), cur.id); err != nil {
			return fmt.Errorf("refresh values: %w", err)
		}
	}
	if err := setConflictResources(ctx, tx, cur.id, vals, true); err != nil {
		return err
	}
	if event == "" {
		return nil
	}
	return addConflictEvent(ctx, tx, cur.id, event, mergeActor, "", ts)
}

func setConflictResources(ctx context.Context, tx *sql.Tx, id int64, vals []ConflictValue, replace bool) error {
	if replace {
		if _, err := tx.ExecContext(ctx, `DELETE FROM conflict_resources WHERE conflict_id = ?`, id); err != nil {
			return fmt.Errorf("conflict resources: %w", err)
		}
	}
	var res []string
	for _, v := range vals {
		res = append(res, v.Resource)
	}
	slices.Sort(res)
	for _, r := range slices.Compact(res) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO conflict_resources (conflict_id, resource) VALUES (?, ?)`, id, r); err != nil {
			return fmt.Errorf("conflict resources: %w", err)
		}
	}
	return nil
}

func addConflictEvent(ctx context.Context, ex execer, id int64, event, actor, note, ts string) error {
	if _, err := ex.ExecContext(ctx, `INSERT INTO conflict_events (conflict_id, event, actor, note, at) VALUES (?, ?, ?, ?, ?)`,
		id, event, actor, truncateText(note, maxNoteBytes), ts); err != nil {
		return fmt.Errorf("event %s: %w", event, err)
	}
	return nil
}

// DecideConflict records the bureau's decision on conflict id: authority
// stands (decided) or the source must correct (awaiting correction, and the
// authority's department is notified in the same transaction). It returns
// the conflict as decided. ErrNotFound, ErrConflictResolved and
// ErrBadDecision are wrapped for the caller's mistakes.
func (s *DB) DecideConflict(ctx context.Context, id int64, decision, actor, note string, at time.Time) (Conflict, error) {
	fail := func(err error) (Conflict, error) {
		return Conflict{}, fmt.Errorf("store: decide conflict %d: %w", id, err)
	}
	var status string
	switch decision {
	case DecisionAuthorityStands:
		status = ConflictDecided
	case DecisionSourceMustCorrect:
		status = ConflictAwaitingCorrection
	default:
		return fail(fmt.Errorf("%w %q (want %q or %q)", ErrBadDecision, decision, DecisionAuthorityStands, DecisionSourceMustCorrect))
	}
	if err := checkText("actor", actor, maxActorLen, true); err != nil {
		return fail(err)
	}
	note = truncateText(note, maxNoteBytes)
	ts, err := timeArg("decision time", at, time.Now())
	if err != nil {
		return fail(err)
	}
	tx, err := s.db.BeginTx(ctx, s.d.writeTx)
	if err != nil {
		return fail(err)
	}
	defer func() { _ = tx.Rollback() }()
	cur, found, err := scanConflict(tx.QueryRowContext(ctx, selectConflict+` WHERE id = ?`+s.d.forUpdate, id))
	if err != nil {
		return fail(err)
	}
	if !found {
		return fail(ErrNotFound)
	}
	if cur.Status == ConflictResolved {
		return fail(ErrConflictResolved)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE conflicts SET status = ?, decision = ?, decided_by = ?, note = ?, updated_at = ? WHERE id = ?`,
		status, decision, actor, note, ts, id); err != nil {
		return fail(err)
	}
	evNote := decision
	if note != "" {
		evNote += ": " + note
	}
	if err := addConflictEvent(ctx, tx, id, EventDecided, actor, evNote, ts); err != nil {
		return fail(err)
	}
	if decision == DecisionSourceMustCorrect {
		var auth *ConflictValue
		for i := range cur.Values {
			if cur.Values[i].Role == RoleAuthority {
				auth = &cur.Values[i]
				break
			}
		}
		if auth == nil {
			return fail(errors.New("the conflict carries no authority value to correct"))
		}
		when, _ := parseDBTime(ts)
		n := Notification{Recipient: auth.Dept, Kind: "conflict.correct", Ref: fmt.Sprintf("conflict/%d", id),
			Message: correctionMessage(cur, auth, note), CreatedAt: when}
		if _, err := addNotification(ctx, tx, n); err != nil {
			return fail(fmt.Errorf("notify %s: %w", auth.Dept, err))
		}
	}
	if err := tx.Commit(); err != nil {
		return fail(err)
	}
	cur.Status, cur.Decision, cur.DecidedBy, cur.Note = status, decision, actor, note
	cur.UpdatedAt, _ = parseDBTime(ts)
	return cur, nil
}

// correctionMessage is the notification text of a source_must_correct
// decision, Chinese first.
func correctionMessage(c Conflict, auth *ConflictValue, note string) string {
	var vals []string
	for _, v := range c.Values {
		vals = append(vals, fmt.Sprintf("%s(%s) %s=%s", v.Resource, v.Key, v.Field, string(v.Value)))
	}
	list := strings.Join(vals, "; ")
	msg := fmt.Sprintf("数据冲突需更正：主体 %s %s 的字段 %s 在各来源的值不一致（%s）。经裁定，请核实并更正权威来源 %s 中记录 %s 的数据。",
		c.SubjectType, c.SubjectID, c.Field, list, auth.Resource, auth.Key)
	msg += fmt.Sprintf(" / Conflict to correct: field %s of %s %s differs between sources (%s); the bureau decided that the authoritative source %s must check and correct record %s.",
		c.Field, c.SubjectType, c.SubjectID, list, auth.Resource, auth.Key)
	if note != "" {
		msg += " 说明 / Note: " + note
	}
	return msg
}

const selectConflict = `SELECT id, subject_type, subject_id, field, status, source_values, values_hash, opened_at, updated_at, decision, decided_by, note FROM conflicts`

func scanConflict(sc rowScanner) (Conflict, bool, error) {
	var (
		c              Conflict
		raw            string
		opened, update dbTime
	)
	err := sc.Scan(&c.ID, &c.SubjectType, &c.SubjectID, &c.Field, &c.Status, &raw, &c.ValuesHash, &opened, &update, &c.Decision, &c.DecidedBy, &c.Note)
	if errors.Is(err, sql.ErrNoRows) {
		return Conflict{}, false, nil
	}
	if err != nil {
		return Conflict{}, false, err
	}
	if err := json.Unmarshal([]byte(raw), &c.Values); err != nil {
		return Conflict{}, false, fmt.Errorf("stored values of conflict %d: %w", c.ID, err)
	}
	c.OpenedAt, c.UpdatedAt = opened.Time, update.Time
	return c, true, nil
}

// ConflictFilter selects conflicts; zero fields do not filter.
type ConflictFilter struct {
	Status      string
	Field       string
	SubjectType string
	SubjectID   string
	// Resource selects conflicts carrying a value of this resource.
	Resource string
	// After is the id after which the page starts.
	After int64
	Limit int
}

// ListConflicts returns up to f.Limit conflicts matching f, by id.
func (s *DB) ListConflicts(ctx context.Context, f ConflictFilter) ([]Conflict, error) {
	if f.Limit <= 0 || f.Limit > maxConflictList {
		return nil, fmt.Errorf("store: list conflicts: limit %d is not in 1..%d", f.Limit, maxConflictList)
	}
	q := selectConflict + ` WHERE id > ?`
	args := []any{f.After}
	for _, c := range []struct{ col, v string }{
		{"status", f.Status}, {"field", f.Field}, {"subject_type", f.SubjectType}, {"subject_id", f.SubjectID},
	} {
		if c.v != "" {
			q += ` AND ` + c.col + ` = ?`
			args = append(args, c.v)
		}
	}
	if f.Resource != "" {
		q += ` AND id IN (SELECT conflict_id FROM conflict_resources WHERE resource = ?)`
		args = append(args, f.Resource)
	}
	q += ` ORDER BY id LIMIT ?`
	args = append(args, f.Limit)
	rs, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list conflicts: %w", err)
	}
	defer rs.Close()
	var out []Conflict
	for rs.Next() {
		c, _, err := scanConflict(rs)
		if err != nil {
			return nil, fmt.Errorf("store: list conflicts: %w", err)
		}
		out = append(out, c)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("store: list conflicts: %w", err)
	}
	return out, nil
}

// GetConflict returns conflict id with its events, oldest first.
func (s *DB) GetConflict(ctx context.Context, id int64) (Conflict, bool, error) {
	c, found, err := scanConflict(s.db.QueryRowContext(ctx, selectConflict+` WHERE id = ?`, id))
	if err != nil || !found {
		if err != nil {
			err = fmt.Errorf("store: get conflict %d: %w", id, err)
		}
		return Conflict{}, false, err
	}
	rs, err := s.db.QueryContext(ctx, `SELECT id, event, actor, note, at FROM conflict_events WHERE conflict_id = ? ORDER BY id`, id)
	if err != nil {
		return Conflict{}, false, fmt.Errorf("store: get conflict %d: events: %w", id, err)
	}
	defer rs.Close()
	for rs.Next() {
		var (
			e  ConflictEvent
			at dbTime
		)
		if err := rs.Scan(&e.ID, &e.Event, &e.Actor, &e.Note, &at); err != nil {
			return Conflict{}, false, fmt.Errorf("store: get conflict %d: events: %w", id, err)
		}
		e.At = at.Time
		c.Events = append(c.Events, e)
	}
	if err := rs.Err(); err != nil {
		return Conflict{}, false, fmt.Errorf("store: get conflict %d: events: %w", id, err)
	}
	return c, true, nil
}

// CountOpenConflictsByResource returns, per resource, how many open or
// awaiting-correction conflicts carry a value of it.
func (s *DB) CountOpenConflictsByResource(ctx context.Context) (map[string]int64, error) {
	rs, err := s.db.QueryContext(ctx, `SELECT cr.resource, COUNT(*) FROM conflict_resources cr JOIN conflicts c ON c.id = cr.conflict_id
 WHERE c.status IN (?, ?) GROUP BY cr.resource`, ConflictOpen, ConflictAwaitingCorrection)
	if err != nil {
		return nil, fmt.Errorf("store: count open conflicts: %w", err)
	}
	defer rs.Close()
	out := map[string]int64{}
	for rs.Next() {
		var (
			r string
			n int64
		)
		if err := rs.Scan(&r, &n); err != nil {
			return nil, fmt.Errorf("store: count open conflicts: %w", err)
		}
		out[r] = n
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("store: count open conflicts: %w", err)
	}
	return out, nil
}
