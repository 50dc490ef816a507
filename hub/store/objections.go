package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Objection statuses. An objection is open (its mark shown on the field)
// until it is closed.
const (
	// ObjectionPending: filed and marked; the bureau decides or forwards.
	ObjectionPending = "pending"
	// ObjectionForwarded: forwarded to the responsible department, which verifies.
	ObjectionForwarded = "forwarded"
	// ObjectionClosed: decided or verified, the objector told, the mark cleared.
	ObjectionClosed = "closed"
)

// Objection results.
const (
	ResultUpheld   = "upheld"   // the objection is founded: the data is wrong
	ResultRejected = "rejected" // the data stands
)

// Filer kinds.
const (
	FilerDept    = "dept"    // a using department, FilerID its code
	FilerSubject = "subject" // the data subject, FilerID its citizen ID or USCC
)

// ErrObjectionStage is wrapped by errors of a transition the objection's
// current status does not allow (deciding a forwarded objection, verifying a
// closed one...).
var ErrObjectionStage = errors.New("objection is not in the stage this step needs")

// Objection is an objection on one field of a subject's public data.
type Objection struct {
	ID          int64
	SubjectType string // "person" or "legal_person"
	SubjectID   string
	Field       string
	Reason      string
	FilerKind   string // FilerDept or FilerSubject
	FilerID     string
	FiledBy     string // token id
	Status      string
	FiledAt     time.Time
	MarkedAt    time.Time
	// DecideDue is the last day ("2006-01-02") of the bureau's decide stage.
	DecideDue   string
	ForwardedTo string
	ForwardedAt time.Time
	// VerifyDue is the last day of the department's verify stage; empty
	// until forwarded.
	VerifyDue    string
	VerifiedAt   time.Time
	VerifyResult string
	DecidedAt    time.Time
	Result       string // final result: ResultUpheld or ResultRejected
	ResultNote   string
	NotifiedAt   time.Time // when the objector was told the result
	ClosedAt     time.Time
}

// Objector is the notification recipient of the objector: the filing
// department's code, or "subject:<id>" for a data subject.
func (o Objection) Objector() string {
	if o.FilerKind == FilerSubject {
		return "subject:" + o.FilerID
	}
	return o.FilerID
}

// Due returns the last day of the current stage, empty once closed.
func (o Objection) Due() string {
	switch o.Status {
	case ObjectionPending:
		return o.DecideDue
	case ObjectionForwarded:
		return o.VerifyDue
	}
	return ""
}

// ObjectionEvent is one entry of an objection's append-only log.
type ObjectionEvent struct {
	ID          int64
	ObjectionID int64
	Event       string // "filed", "forwarded", "decided", "verified"
	Actor       string
	Note        string
	At          time.Time
}

// ObjectionMark is an open objection as shown next to a golden-record field.
type ObjectionMark struct {
	ID      int64
	Field   string
	Status  string
	FiledAt time.Time
	Due     string // last day of the current stage
}

// ObjectionFilter selects objections for ListObjections. Zero fields do not
// filter.
type ObjectionFilter struct {
	Status      string
	SubjectType string // with SubjectID
	SubjectID   string
	Field       string
	// Dept keeps the objections the department filed or was forwarded.
	Dept string
	// OverdueOn ("2006-01-02") keeps the open objections whose current
	// stage's last day is before it.
	OverdueOn string
	After     int64 // id
	Limit     int   // 1..maxObjectionsLimit
}

// ObjectionCounts are the figures of the objection metrics.
type ObjectionCounts struct {
	Open    map[string]int64 // by status (pending, forwarded)
	Overdue map[string]int64 // by stage ("decide", "verify")
}

// ObjectionForward is the bureau's forwarding of a pending objection.
type ObjectionForward struct {
	To        string // department code
	VerifyDue string // "2006-01-02"
	Actor     string
	Note      string
	At        time.Time
}

// ObjectionDecision is a result: the bureau's decision or the department's
// verification.
type ObjectionDecision struct {
	Result string
	Note   string
	Actor  string
	// Dept, for a verification, must be the department it was forwarded to.
	Dept string
	At   time.Time
}

// Objection limits, in characters.
const (
	maxObjectionField   = 128
	maxObjectionText    = 2000 // reason, notes
	maxObjectionActor   = 128
	maxObjectionsLimit  = 1000
	objectionEventFiled = "filed"
)

const objectionColumns = `id, subject_type, subject_id, field, reason, filer_kind, filer_id, filed_by, status,
 filed_at, marked_at, decide_due, forwarded_to, forwarded_at, verify_due, verified_at, verify_result,
 decided_at, result, result_note, notified_at, closed_at`

// checkDate validates a "2006-01-02" date argument.
func checkDate(field, v string) error {
	if _, err := time.Parse(time.DateOnly, v); err != nil || len(v) != len(time.DateOnly) {
		return fmt.Errorf("%s %q is not a date YYYY-MM-DD", field, v)
	}
	return nil
}

// FileObjection records o (ID, Status, MarkedAt and the later-stage fields
// are set by the store: the mark is set at filing) with its "filed" event and
// the notifications notes, whose empty Refs become "objection/<id>", in one
// transaction. It returns the stored objection.
func (s *DB) FileObjection(ctx context.Context, o Objection, notes []Notification) (Objection, error) {
	id, err := s.fileObjection(ctx, o, notes)
	if err != nil {
		return Objection{}, fmt.Errorf("store: file objection on %s %s field %q: %w", o.SubjectType, o.SubjectID, o.Field, err)
	}
	return s.getObjectionOrFail(ctx, id)
}

func (s *DB) fileObjection(ctx context.Context, o Objection, notes []Notification) (int64, error) {
	for _, c := range []struct {
		name, v string
		max     int
	}{
		{"subject type", o.SubjectType, 32},
		{"subject id", o.SubjectID, maxSubjectLen},
		{"field", o.Field, maxObjectionField},
		{"reason", o.Reason, maxObjectionText},
		{"filer id", o.FilerID, maxSubjectLen},
		{"filed by", o.FiledBy, maxTokenIDLen},
	} {
		if err := checkText(c.name, c.v, c.max, true); err != nil {
			return 0, err
		}
	}
	if o.FilerKind != FilerDept && o.FilerKind != FilerSubject {
		return 0, fmt.Errorf("filer kind %q is not %q or %q", o.FilerKind, FilerDept, FilerSubject)
	}
	if err := checkDate("decide due", o.DecideDue); err != nil {
		return 0, err
	}
	at, err := timeArg("filed at", o.FiledAt, time.Now())
	if err != nil {
		return 0, err
	}
	tx, err := s.db.BeginTx(ctx, s.d.writeTx)
	if err != nil {
		return 0, err
	}
	defer func() { _ = tx.Rollback() }()
	res, err := tx.ExecContext(ctx, `INSERT INTO objections (subject_type, subject_id, field, reason, filer_kind, filer_id, filed_by,
 status, filed_at, marked_at, decide_due) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		o.SubjectType, o.SubjectID, o.Field, o.Reason, o.FilerKind, o.FilerID, o.FiledBy, ObjectionPending, at, at, o.DecideDue)
	if err != nil {
		return 0, err
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, err
	}
	actor := o.FilerKind + ":" + o.FilerID
	if err := addObjectionEvent(ctx, tx, id, objectionEventFiled, actor, o.Reason, at); err != nil {
		return 0, err
	}
	if err := addObjectionNotes(ctx, tx, id, notes, o.FiledAt); err != nil {
		return 0, err
	}
	return id, tx.Commit()
}

// addObjectionEvent appends to the log of objection id.
func addObjectionEvent(ctx context.Context, ex execer, id int64, event, actor, note, at string) error {
	if err := checkText("actor", actor, maxObjectionActor, true); err != nil {
		return err
	}
	if err := checkText("note", note, maxObjectionText, false); err != nil {
		return err
	}
	_, err := ex.ExecContext(ctx, `INSERT INTO objection_events (objection_id, event, actor, note, at) VALUES (?, ?, ?, ?, ?)`,
		id, event, actor, note, at)
	if err != nil {
		return fmt.Errorf("log event %s: %w", event, err)
	}
	return nil
}

// addObjectionNotes writes the notifications of a step of objection id.
func addObjectionNotes(ctx context.Context, ex execer, id int64, notes []Notification, at time.Time) error {
	for _, n := range notes {
		if n.Ref == "" {
			n.Ref = "objection/" + strconv.FormatInt(id, 10)
		}
		if n.CreatedAt.IsZero() {
			n.CreatedAt = at
		}
		if _, err := addNotification(ctx, ex, n); err != nil {
			return fmt.Errorf("notify %s: %w", n.Recipient, err)
		}
	}
	return nil
}

// objectionStep runs one transition of objection id: it locks the row,
// checks its status is from (and, when dept is set, that it was forwarded
// to dept), runs update (an UPDATE statement and its arguments), logs the
// event and writes the notifications.
func (s *DB) objectionStep(ctx context.Context, id int64, from, dept, event, actor, note string, at time.Time,
	notes []Notification, update string, args ...any) error {
	if err := checkText("note", note, maxObjectionText, false); err != nil {
		return err
	}
	ts, err := timeArg("at", at, time.Now())
	if err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, s.d.writeTx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	var (
		status string
		to     sql.NullString
	)
	err = tx.QueryRowContext(ctx, `SELECT status, forwarded_to FROM objections WHERE id = ?`+s.d.forUpdate, id).Scan(&status, &to)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	if status != from {
		return fmt.Errorf("%w: it is %s, %s needs %s", ErrObjectionStage, status, event, from)
	}
	if dept != "" && to.String != dept {
		return fmt.Errorf("%w: it was forwarded to %q, not %q", ErrObjectionStage, to.String, dept)
	}
	if _, err := tx.ExecContext(ctx, update+` WHERE id = ?`, append(args, id)...); err != nil {
		return err
	}
	if err := addObjectionEvent(ctx, tx, id, event, actor, note, ts); err != nil {
		return err
	}
	if err := addObjectionNotes(ctx, tx, id, notes, at); err != nil {
		return err
	}
	return tx.Commit()
}

// ForwardObjection moves pending objection id to the verify stage of
// department f.To, with its event and notifications, and returns it.
// ErrObjectionStage when it is not pending, ErrNotFound when unknown.
func (s *DB) ForwardObjection(ctx context.Context, id int64, f ObjectionForward, notes []Notification) (Objection, error) {
	err := checkText("forwarded to", f.To, maxDeptLen, true)
	if err == nil {
		err = checkDate("verify due", f.VerifyDue)
	}
	var ts string
	if err == nil {
		ts, err = timeArg("forwarded at", f.At, time.Now())
	}
	if err == nil {
		err = s.objectionStep(ctx, id, ObjectionPending, "", "forwarded", f.Actor, f.Note, f.At, notes,
			`UPDATE objections SET status = ?, forwarded_to = ?, forwarded_at = ?, verify_due = ?`,
			ObjectionForwarded, f.To, ts, f.VerifyDue)
	}
	if err != nil {
		return Objection{}, fmt.Errorf("store: forward objection %d: %w", id, err)
	}
	return s.getObjectionOrFail(ctx, id)
}

// DecideObjection closes pending objection id with the bureau's result; the
// objector is told (notified_at is set): notes carry the notifications.
func (s *DB) DecideObjection(ctx context.Context, id int64, d ObjectionDecision, notes []Notification) (Objection, error) {
	ts, err := checkDecision(d)
	if err == nil {
		err = s.objectionStep(ctx, id, ObjectionPending, "", "decided", d.Actor, d.Note, d.At, notes,
			`UPDATE objections SET status = ?, decided_at = ?, result = ?, result_note = ?, notified_at = ?, closed_at = ?`,
			ObjectionClosed, ts, d.Result, d.Note, ts, ts)
	}
	if err != nil {
		return Objection{}, fmt.Errorf("store: decide objection %d: %w", id, err)
	}
	return s.getObjectionOrFail(ctx, id)
}

// VerifyObjection closes forwarded objection id with the verification of
// d.Dept (which must be the department it was forwarded to, else
// ErrObjectionStage); the result is final and the objector told.
func (s *DB) VerifyObjection(ctx context.Context, id int64, d ObjectionDecision, notes []Notification) (Objection, error) {
	ts, err := checkDecision(d)
	if err == nil && d.Dept == "" {
		err = errors.New("verifying department is empty")
	}
	if err == nil {
		err = s.objectionStep(ctx, id, ObjectionForwarded, d.Dept, "verified", d.Actor, d.Note, d.At, notes,
			`UPDATE objections SET status = ?, verified_at = ?, verify_result = ?, result = ?, result_note = ?, notified_at = ?, closed_at = ?`,
			ObjectionClosed, ts, d.Result, d.Result, d.Note, ts, ts)
	}
	if err != nil {
		return Objection{}, fmt.Errorf("store: verify objection %d: %w", id, err)
	}
	return s.getObjectionOrFail(ctx, id)
}

func checkDecision(d ObjectionDecision) (string, error) {
	if d.Result != ResultUpheld && d.Result != ResultRejected {
		return "", fmt.Errorf("result %q is not %q or %q", d.Result, ResultUpheld, ResultRejected)
	}
	return timeArg("at", d.At, time.Now())
}

// GetObjection returns objection id and its events, oldest first;
// ErrNotFound when there is none.
func (s *DB) GetObjection(ctx context.Context, id int64) (Objection, []ObjectionEvent, error) {
	o, err := s.getObjectionOrFail(ctx, id)
	if err != nil {
		return Objection{}, nil, err
	}
	rs, err := s.db.QueryContext(ctx, `SELECT id, objection_id, event, actor, note, at FROM objection_events WHERE objection_id = ? ORDER BY id`, id)
	if err != nil {
		return Objection{}, nil, fmt.Errorf("store: get objection %d events: %w", id, err)
	}
	defer rs.Close()
	var evs []ObjectionEvent
	for rs.Next() {
		var (
			e  ObjectionEvent
			at dbTime
		)
		if err := rs.Scan(&e.ID, &e.ObjectionID, &e.Event, &e.Actor, &e.Note, &at); err != nil {
			return Objection{}, nil, fmt.Errorf("store: get objection %d events: %w", id, err)
		}
		e.At = at.Time
		evs = append(evs, e)
	}
	if err := rs.Err(); err != nil {
		return Objection{}, nil, fmt.Errorf("store: get objection %d events: %w", id, err)
	}
	return o, evs, nil
}

func (s *DB) getObjectionOrFail(ctx context.Context, id int64) (Objection, error) {
	list, err := s.queryObjections(ctx, `SELECT `+objectionColumns+` FROM objections WHERE id = ?`, id)
	if err != nil {
		return Objection{}, fmt.Errorf("store: get objection %d: %w", id, err)
	}
	if len(list) == 0 {
		return Objection{}, fmt.Errorf("store: get objection %d: %w", id, ErrNotFound)
	}
	return list[0], nil
}

// ListObjections returns the objections f selects, by id.
func (s *DB) ListObjections(ctx context.Context, f ObjectionFilter) ([]Objection, error) {
	if f.Limit <= 0 || f.Limit > maxObjectionsLimit {
		return nil, fmt.Errorf("store: list objections: limit %d is not in 1..%d", f.Limit, maxObjectionsLimit)
	}
	var (
		where []string
		args  []any
	)
	add := func(cond string, a ...any) {
		where = append(where, cond)
		args = append(args, a...)
	}
	add(`id > ?`, f.After)
	if f.Status != "" {
		add(`status = ?`, f.Status)
	}
	if f.SubjectType != "" || f.SubjectID != "" {
		add(`subject_type = ? AND subject_id = ?`, f.SubjectType, f.SubjectID)
	}
	if f.Field != "" {
		add(`field = ?`, f.Field)
	}
	if f.Dept != "" {
		add(`((filer_kind = ? AND filer_id = ?) OR forwarded_to = ?)`, FilerDept, f.Dept, f.Dept)
	}
	if f.OverdueOn != "" {
		if err := checkDate("overdue on", f.OverdueOn); err != nil {
			return nil, fmt.Errorf("store: list objections: %w", err)
		}
		add(`((status = ? AND decide_due < ?) OR (status = ? AND verify_due < ?))`,
			ObjectionPending, f.OverdueOn, ObjectionForwarded, f.OverdueOn)
	}
	q := `SELECT ` + objectionColumns + ` FROM objections WHERE ` + strings.Join(where, " AND ") + ` ORDER BY id LIMIT ?`
	out, err := s.queryObjections(ctx, q, append(args, f.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("store: list objections: %w", err)
	}
	return out, nil
}

// ObjectionMarks returns the open objections of a subject, by id: the marks
// the golden-record API shows next to the fields.
func (s *DB) ObjectionMarks(ctx context.Context, subjectType, subjectID string) ([]ObjectionMark, error) {
	list, err := s.queryObjections(ctx, `SELECT `+objectionColumns+` FROM objections
 WHERE subject_type = ? AND subject_id = ? AND status <> ? ORDER BY id`, subjectType, subjectID, ObjectionClosed)
	if err != nil {
		return nil, fmt.Errorf("store: objection marks of %s %s: %w", subjectType, subjectID, err)
	}
	marks := make([]ObjectionMark, 0, len(list))
	for _, o := range list {
		marks = append(marks, ObjectionMark{ID: o.ID, Field: o.Field, Status: o.Status, FiledAt: o.FiledAt, Due: o.Due()})
	}
	return marks, nil
}

// CountObjections counts the open objections by status, and those overdue
// on day (their current stage's last day is before it) by stage.
func (s *DB) CountObjections(ctx context.Context, day string) (ObjectionCounts, error) {
	if err := checkDate("day", day); err != nil {
		return ObjectionCounts{}, fmt.Errorf("store: count objections: %w", err)
	}
	c := ObjectionCounts{
		Open:    map[string]int64{ObjectionPending: 0, ObjectionForwarded: 0},
		Overdue: map[string]int64{"decide": 0, "verify": 0},
	}
	rs, err := s.db.QueryContext(ctx, `SELECT status,
 COUNT(*),
 SUM(CASE WHEN (status = ? AND decide_due < ?) OR (status = ? AND verify_due < ?) THEN 1 ELSE 0 END)
 FROM objections WHERE status <> ? GROUP BY status`,
		ObjectionPending, day, ObjectionForwarded, day, ObjectionClosed)
	if err != nil {
		return ObjectionCounts{}, fmt.Errorf("store: count objections: %w", err)
	}
	defer rs.Close()
	for rs.Next() {
		var (
			status        string
			open, overdue int64
		)
		if err := rs.Scan(&status, &open, &overdue); err != nil {
			return ObjectionCounts{}, fmt.Errorf("store: count objections: %w", err)
		}
		c.Open[status] = open
		switch status {
		case ObjectionPending:
			c.Overdue["decide"] = overdue
		case ObjectionForwarded:
			c.Overdue["verify"] = overdue
		}
	}
	if err := rs.Err(); err != nil {
		return ObjectionCounts{}, fmt.Errorf("store: count objections: %w", err)
	}
	return c, nil
}

// dbDate scans a due date: a DATE (MySQL, parsed) or text; NULL is "".
type dbDate string

// Scan implements sql.Scanner.
func (d *dbDate) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*d = ""
	case time.Time:
		*d = dbDate(x.Format(time.DateOnly))
	case string:
		*d = dbDate(x)
	case []byte:
		*d = dbDate(x)
	default:
		return fmt.Errorf("stored date: unexpected type %T", v)
	}
	return nil
}

func (s *DB) queryObjections(ctx context.Context, q string, args ...any) ([]Objection, error) {
	rs, err := s.queryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []Objection
	for rs.Next() {
		var (
			o                                                Objection
			filed, marked, fwdAt, verAt, decAt, notAt, cloAt dbTime
			decDue, verDue                                   dbDate
			fwdTo, verRes, res, note                         sql.NullString
		)
		if err := rs.Scan(&o.ID, &o.SubjectType, &o.SubjectID, &o.Field, &o.Reason, &o.FilerKind, &o.FilerID, &o.FiledBy, &o.Status,
			&filed, &marked, &decDue, &fwdTo, &fwdAt, &verDue, &verAt, &verRes, &decAt, &res, &note, &notAt, &cloAt); err != nil {
			return nil, err
		}
		o.FiledAt, o.MarkedAt, o.ForwardedAt, o.VerifiedAt = filed.Time, marked.Time, fwdAt.Time, verAt.Time
		o.DecidedAt, o.NotifiedAt, o.ClosedAt = decAt.Time, notAt.Time, cloAt.Time
		o.DecideDue, o.VerifyDue = string(decDue), string(verDue)
		o.ForwardedTo, o.VerifyResult, o.Result, o.ResultNote = fwdTo.String, verRes.String, res.String, note.String
		out = append(out, o)
	}
	return out, rs.Err()
}
