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

// Licence statuses, as stored. Expiry is not a stored status: package
// hub/licence computes it from ValidUntil when a licence is verified.
const (
	LicenceActive    = "active"    // 有效
	LicenceSuspended = "suspended" // 暂扣 / 挂起
	LicencePledged   = "pledged"   // 质押
	LicenceRevoked   = "revoked"   // 废止 (final)
	LicenceCancelled = "cancelled" // 注销 (final)
)

// Licence is one e-licence across its versions (电子证照).
type Licence struct {
	ID         int64
	TypeCode   string // 证照类型代码, 21 characters
	Issuer     string // the issuing department's code (USCC)
	Serial     string // assigned by the store: issue year and an 8-digit sequence per issuer
	HolderType string // "person" or "legal_person"
	HolderID   string // citizen ID or USCC
	HolderName string // of the current version
	Status     string
	Version    int    // the current version, from 1
	Identifier string // the current version's identifier (GB/T 36904)
	ValidUntil string // "2006-01-02", of the current version
	IssuedAt   time.Time
	UpdatedAt  time.Time
}

// Base is "<type code>.<issuer>.<serial>": the licence's identifier without
// version and check character.
func (l Licence) Base() string { return l.TypeCode + "." + l.Issuer + "." + l.Serial }

// LicenceVersion is one sealed version of a licence.
type LicenceVersion struct {
	LicenceID  int64
	Version    int
	Identifier string
	// Content is the canonical encoding of the version's content (package
	// hub/licence), stored as given; Digest is its SM3 digest in lower-case
	// hex and Signature the issuer's SM2 seal on it, hex DER.
	Content      []byte
	Digest       string
	Signature    string
	CreatedAt    time.Time
	SupersededAt time.Time // zero while the version is current
}

// LicenceEvent is one entry of a licence's change log.
type LicenceEvent struct {
	ID        int64
	LicenceID int64
	Version   int    // the licence's version after the change
	Event     string // issue, update, renew, suspend, resume, pledge, release, revoke, cancel
	Actor     string // API token id
	Dept      string // the acting department
	Reason    string
	Detail    json.RawMessage
	At        time.Time
}

// LicenceIssue is a new licence as the store records it; its serial and
// first version come from the store and the LicenceSealer.
type LicenceIssue struct {
	TypeCode, Issuer                 string
	HolderType, HolderID, HolderName string
	ValidUntil                       string // "2006-01-02"
	Actor                            string
	Reason                           string
	Detail                           json.RawMessage
	At                               time.Time // now when zero; its year is the serial's
}

// LicenceSealer builds version 1 of a licence once the store has assigned
// its serial, inside the issuing transaction: identifier, content, digest
// and seal signature.
type LicenceSealer func(serial string) (LicenceVersion, error)

// LicenceChange is what a LicenceChanger decided.
type LicenceChange struct {
	Status string // the licence's status afterwards
	// Next, when set, is the new current version (Version = current + 1);
	// the current one is superseded. HolderName and ValidUntil are the new
	// version's.
	Next       *LicenceVersion
	HolderName string
	ValidUntil string
	// Event logs the change (its LicenceID, Version and At are set by the store).
	Event LicenceEvent
}

// LicenceChanger decides a change of licence l, whose current version is cur,
// inside the store's transaction (the row is locked). An error aborts the
// change and is returned wrapped.
type LicenceChanger func(l Licence, cur LicenceVersion) (LicenceChange, error)

// LicenceCheck is what verifying a licence reads, in one query: the licence,
// the version the verifier named, the current version's sealed content and
// the issuer's seal public key.
type LicenceCheck struct {
	Licence      Licence
	AskedVersion int
	Current      LicenceVersion
	// SealPublicKey is the issuer's seal public key (hex, uncompressed
	// point); empty when the issuer has none.
	SealPublicKey string
}

// LicenceSeal is an issuing department's SM2 seal key pair, hex encoded
// (public: uncompressed point; private: the 32-byte scalar).
// Production keeps the private key in a cipher machine (密码机) and signs
// there; the store keeps it only in this embedded setup.
type LicenceSeal struct {
	Dept       string
	PublicKey  string
	PrivateKey string
	CreatedAt  time.Time
}

// LicenceFilter selects licences for ListLicences; zero fields do not filter.
type LicenceFilter struct {
	Issuer   string
	HolderID string
	TypeCode string
	Status   string
	After    int64 // licence id
	Limit    int   // 1..maxLicencesLimit
}

// Licence limits.
const (
	maxLicenceCode     = 64
	maxLicenceName     = 255
	maxLicenceText     = 2000
	maxLicenceContent  = 1 << 20
	maxLicenceHex      = 256
	maxLicencesLimit   = 1000
	maxLicenceVersions = 999
)

const licenceColumns = `l.id, l.type_code, l.issuer, l.serial, l.holder_type, l.holder_id, l.holder_name, l.status, l.version,
 l.identifier, l.valid_until, l.issued_at, l.updated_at`

func scanLicence(sc rowScanner, extra ...any) (Licence, error) {
	var (
		l           Licence
		issued, upd dbTime
		version     int
	)
	dest := append([]any{&l.ID, &l.TypeCode, &l.Issuer, &l.Serial, &l.HolderType, &l.HolderID, &l.HolderName, &l.Status,
		&version, &l.Identifier, &l.ValidUntil, &issued, &upd}, extra...)
	if err := sc.Scan(dest...); err != nil {
		return Licence{}, err
	}
	l.Version, l.IssuedAt, l.UpdatedAt = version, issued.Time, upd.Time
	return l, nil
}

func checkLicenceVersion(v LicenceVersion) error {
	for _, c := range []struct {
		name, v string
		max     int
	}{{"identifier", v.Identifier, maxLicenceCode * 2}, {"digest", v.Digest, maxLicenceHex}, {"signature", v.Signature, maxLicenceHex}} {
		if err := checkText(c.name, c.v, c.max, true); err != nil {
			return err
		}
	}
	if len(v.Content) == 0 || len(v.Content) > maxLicenceContent {
		return fmt.Errorf("content is %d bytes (want 1..%d)", len(v.Content), maxLicenceContent)
	}
	return checkJSON("content", v.Content, true)
}

func checkLicenceEvent(e LicenceEvent) error {
	for _, c := range []struct {
		name, v  string
		max      int
		required bool
	}{{"event", e.Event, 32, true}, {"actor", e.Actor, maxTokenIDLen, true}, {"dept", e.Dept, maxDeptLen, false},
		{"reason", e.Reason, maxLicenceText, false}} {
		if err := checkText(c.name, c.v, c.max, c.required); err != nil {
			return err
		}
	}
	if len(e.Detail) > 0 {
		return checkJSON("detail", e.Detail, true)
	}
	return nil
}

func addLicenceEvent(ctx context.Context, ex execer, e LicenceEvent, at string) error {
	if err := checkLicenceEvent(e); err != nil {
		return err
	}
	_, err := ex.ExecContext(ctx, `INSERT INTO licence_events (licence_id, version, event, actor, dept, reason, detail, at)
 VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, e.LicenceID, e.Version, e.Event, e.Actor, e.Dept, e.Reason, jsonArg(e.Detail), at)
	if err != nil {
		return fmt.Errorf("log event %s: %w", e.Event, err)
	}
	return nil
}

func insertLicenceVersion(ctx context.Context, ex execer, v LicenceVersion, at string) error {
	_, err := ex.ExecContext(ctx, `INSERT INTO licence_versions (licence_id, version, identifier, content, digest, signature, created_at)
 VALUES (?, ?, ?, ?, ?, ?, ?)`, v.LicenceID, v.Version, v.Identifier, string(v.Content), v.Digest, v.Signature, at)
	return err
}

// IssueLicence records a new licence: it assigns the serial (the issue year
// and the issuer's next number of that year, 8 digits), has seal build
// version 1 and records licence, version and an "issue" event in one
// transaction.
func (s *DB) IssueLicence(ctx context.Context, in LicenceIssue, seal LicenceSealer) (Licence, LicenceVersion, error) {
	var (
		id  int64
		err error
	)
	// MySQL: a deadlock on the serial counter is retried, as ApplyRecords does.
	for attempt := 1; ; attempt++ {
		id, err = s.issueLicence(ctx, in, seal)
		if err == nil || attempt >= s.d.maxApplyAttempts || !s.d.isRetryable(err) {
			break
		}
	}
	if err != nil {
		return Licence{}, LicenceVersion{}, fmt.Errorf("store: issue licence of type %s by %s: %w", in.TypeCode, in.Issuer, err)
	}
	l, err := s.GetLicence(ctx, id)
	if err != nil {
		return Licence{}, LicenceVersion{}, err
	}
	vs, err := s.LicenceVersions(ctx, id)
	if err != nil || len(vs) == 0 {
		return Licence{}, LicenceVersion{}, fmt.Errorf("store: read issued licence %d: %w", id, errors.Join(err, ErrNotFound))
	}
	return l, vs[len(vs)-1], nil
}

func (s *DB) issueLicence(ctx context.Context, in LicenceIssue, seal LicenceSealer) (int64, error) {
	for _, c := range []struct {
		name, v string
		max     int
	}{{"type code", in.TypeCode, maxLicenceCode}, {"issuer", in.Issuer, maxDeptLen}, {"holder type", in.HolderType, 32},
		{"holder id", in.HolderID, maxSubjectLen}, {"holder name", in.HolderName, maxLicenceName}, {"actor", in.Actor, maxTokenIDLen}} {
		if err := checkText(c.name, c.v, c.max, true); err != nil {
			return 0, err
		}
	}
	if err := checkDate("valid until", in.ValidUntil); err != nil {
		return 0, err
	}
	if seal == nil {
		return 0, errors.New("no sealer")
	}
	now := in.At
	if now.IsZero() {
		now = time.Now()
	}
	at, err := timeArg("issued at", now, now)
	if err != nil {
		return 0, err
	}
	year := now.Year()
	tx, err := s.db.BeginTx(ctx, s.d.writeTx)
	if err != nil {
		return 0, err
	}
	defer func() { _ = tx.Rollback() }()
	upsert := ` ON CONFLICT(issuer, issue_year) DO UPDATE SET last_no = last_no + 1`
	if s.d.name == DriverMySQL {
		upsert = ` ON DUPLICATE KEY UPDATE last_no = last_no + 1`
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO licence_serials (issuer, issue_year, last_no) VALUES (?, ?, 1)`+upsert, in.Issuer, year); err != nil {
		return 0, fmt.Errorf("serial: %w", err)
	}
	var no int64
	if err := tx.QueryRowContext(ctx, `SELECT last_no FROM licence_serials WHERE issuer = ? AND issue_year = ?`, in.Issuer, year).Scan(&no); err != nil {
		return 0, fmt.Errorf("serial: %w", err)
	}
	serial := fmt.Sprintf("%04d%08d", year, no)
	v, err := seal(serial)
	if err != nil {
		return 0, err
	}
	if err := checkLicenceVersion(v); err != nil {
		return 0, err
	}
	base := in.TypeCode + "." + in.Issuer + "." + serial
	res, err := tx.ExecContext(ctx, `INSERT INTO licences (base, type_code, issuer, serial, holder_type, holder_id, holder_name, status,
 version, identifier, valid_until, issued_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)`,
		base, in.TypeCode, in.Issuer, serial, in.HolderType, in.HolderID, in.HolderName, LicenceActive, v.Identifier, in.ValidUntil, at, at)
	if s.d.isDuplicate(err) {
		return 0, fmt.Errorf("licence %s: %w", base, ErrDuplicate)
	}
	if err != nil {
		return 0, err
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, err
	}
	v.LicenceID, v.Version = id, 1
	if err := insertLicenceVersion(ctx, tx, v, at); err != nil {
		if s.d.isDuplicate(err) {
			return 0, fmt.Errorf("identifier %s: %w", v.Identifier, ErrDuplicate)
		}
		return 0, err
	}
	ev := LicenceEvent{LicenceID: id, Version: 1, Event: "issue", Actor: in.Actor, Dept: in.Issuer, Reason: in.Reason, Detail: in.Detail}
	if err := addLicenceEvent(ctx, tx, ev, at); err != nil {
		return 0, err
	}
	return id, tx.Commit()
}

// ChangeLicence changes licence id in one transaction: it locks the licence,
// reads its current version, lets decide compute the change, and records the
// new status, the new version if any (superseding the current one) and the
// event. An unknown id fails wrapping ErrNotFound. It returns the licence as
// changed.
func (s *DB) ChangeLicence(ctx context.Context, id int64, at time.Time, decide LicenceChanger) (Licence, error) {
	if err := s.changeLicence(ctx, id, at, decide); err != nil {
		return Licence{}, fmt.Errorf("store: change licence %d: %w", id, err)
	}
	return s.GetLicence(ctx, id)
}

func (s *DB) changeLicence(ctx context.Context, id int64, at time.Time, decide LicenceChanger) error {
	if decide == nil {
		return errors.New("no changer")
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
	l, err := scanLicence(tx.QueryRowContext(ctx, `SELECT `+licenceColumns+` FROM licences l WHERE l.id = ?`+s.d.forUpdate, id))
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	cur, err := scanLicenceVersion(tx.QueryRowContext(ctx, `SELECT `+versionColumns+` FROM licence_versions v WHERE v.licence_id = ? AND v.version = ?`, id, l.Version))
	if err != nil {
		return fmt.Errorf("current version %d: %w", l.Version, err)
	}
	ch, err := decide(l, cur)
	if err != nil {
		return err
	}
	switch ch.Status {
	case LicenceActive, LicenceSuspended, LicencePledged, LicenceRevoked, LicenceCancelled:
	default:
		return fmt.Errorf("status %q is not a licence status", ch.Status)
	}
	version, ident, holderName, validUntil := l.Version, l.Identifier, l.HolderName, l.ValidUntil
	if n := ch.Next; n != nil {
		if n.Version != l.Version+1 || n.Version > maxLicenceVersions {
			return fmt.Errorf("new version %d does not follow %d (at most %d)", n.Version, l.Version, maxLicenceVersions)
		}
		if err := checkLicenceVersion(*n); err != nil {
			return err
		}
		if err := checkText("holder name", ch.HolderName, maxLicenceName, true); err != nil {
			return err
		}
		if err := checkDate("valid until", ch.ValidUntil); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE licence_versions SET superseded_at = ? WHERE licence_id = ? AND version = ?`, ts, id, l.Version); err != nil {
			return err
		}
		nv := *n
		nv.LicenceID = id
		if err := insertLicenceVersion(ctx, tx, nv, ts); err != nil {
			if s.d.isDuplicate(err) {
				return fmt.Errorf("identifier %s: %w", nv.Identifier, ErrDuplicate)
			}
			return err
		}
		version, ident, holderName, validUntil = n.Version, n.Identifier, ch.HolderName, ch.ValidUntil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE licences SET status = ?, version = ?, identifier = ?, holder_name = ?, valid_until = ?, updated_at = ?
 WHERE id = ?`, ch.Status, version, ident, holderName, validUntil, ts, id); err != nil {
		return err
	}
	ev := ch.Event
	ev.LicenceID, ev.Version = id, version
	if err := addLicenceEvent(ctx, tx, ev, ts); err != nil {
		return err
	}
	return tx.Commit()
}

const versionColumns = `v.licence_id, v.version, v.identifier, v.content, v.digest, v.signature, v.created_at, v.superseded_at`

func scanLicenceVersion(sc rowScanner) (LicenceVersion, error) {
	var (
		v          LicenceVersion
		content    string
		created, s dbTime
	)
	if err := sc.Scan(&v.LicenceID, &v.Version, &v.Identifier, &content, &v.Digest, &v.Signature, &created, &s); err != nil {
		return LicenceVersion{}, err
	}
	v.Content, v.CreatedAt, v.SupersededAt = []byte(content), created.Time, s.Time
	return v, nil
}

// GetLicence returns licence id; an unknown id fails wrapping ErrNotFound.
func (s *DB) GetLicence(ctx context.Context, id int64) (Licence, error) {
	l, err := scanLicence(s.queryRowContext(ctx, `SELECT `+licenceColumns+` FROM licences l WHERE l.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Licence{}, fmt.Errorf("store: licence %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Licence{}, fmt.Errorf("store: licence %d: %w", id, err)
	}
	return l, nil
}

// LicenceByIdentifier returns the licence one of whose versions has the
// given identifier, and that version's number. An unknown identifier fails
// wrapping ErrNotFound.
func (s *DB) LicenceByIdentifier(ctx context.Context, identifier string) (Licence, int, error) {
	var asked int
	l, err := scanLicence(s.queryRowContext(ctx, `SELECT `+licenceColumns+`, v.version FROM licence_versions v
 JOIN licences l ON l.id = v.licence_id WHERE v.identifier = ?`, identifier), &asked)
	if errors.Is(err, sql.ErrNoRows) {
		return Licence{}, 0, fmt.Errorf("store: licence %q: %w", identifier, ErrNotFound)
	}
	if err != nil {
		return Licence{}, 0, fmt.Errorf("store: licence %q: %w", identifier, err)
	}
	return l, asked, nil
}

// LicenceForVerify reads, in one query, what verifying the licence with the
// given identifier (of any of its versions) needs. An unknown identifier
// fails wrapping ErrNotFound.
func (s *DB) LicenceForVerify(ctx context.Context, identifier string) (LicenceCheck, error) {
	var (
		c                LicenceCheck
		content          string
		created          dbTime
		digest, sig, key string
	)
	l, err := scanLicence(s.queryRowContext(ctx, `SELECT `+licenceColumns+`, v.version, cv.content, cv.digest, cv.signature, cv.created_at,
 COALESCE(k.public_key, '')
 FROM licence_versions v
 JOIN licences l ON l.id = v.licence_id
 JOIN licence_versions cv ON cv.licence_id = l.id AND cv.version = l.version
 LEFT JOIN licence_seals k ON k.dept = l.issuer
 WHERE v.identifier = ?`, identifier), &c.AskedVersion, &content, &digest, &sig, &created, &key)
	if errors.Is(err, sql.ErrNoRows) {
		return LicenceCheck{}, fmt.Errorf("store: licence %q: %w", identifier, ErrNotFound)
	}
	if err != nil {
		return LicenceCheck{}, fmt.Errorf("store: licence %q: %w", identifier, err)
	}
	c.Licence = l
	c.Current = LicenceVersion{LicenceID: l.ID, Version: l.Version, Identifier: l.Identifier, Content: []byte(content),
		Digest: digest, Signature: sig, CreatedAt: created.Time}
	c.SealPublicKey = key
	return c, nil
}

// LicenceVersions returns the versions of licence id, oldest first.
func (s *DB) LicenceVersions(ctx context.Context, id int64) ([]LicenceVersion, error) {
	rs, err := s.queryContext(ctx, `SELECT `+versionColumns+` FROM licence_versions v WHERE v.licence_id = ? ORDER BY v.version`, id)
	if err != nil {
		return nil, fmt.Errorf("store: licence %d versions: %w", id, err)
	}
	return collectRows(rs, fmt.Sprintf("store: licence %d versions", id), scanLicenceVersion)
}

// LicenceEvents returns the change log of licence id, oldest first.
func (s *DB) LicenceEvents(ctx context.Context, id int64) ([]LicenceEvent, error) {
	rs, err := s.queryContext(ctx, `SELECT id, licence_id, version, event, actor, dept, reason, detail, at FROM licence_events
 WHERE licence_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("store: licence %d events: %w", id, err)
	}
	defer rs.Close()
	var out []LicenceEvent
	for rs.Next() {
		var (
			e      LicenceEvent
			detail sql.NullString
			at     dbTime
		)
		if err := rs.Scan(&e.ID, &e.LicenceID, &e.Version, &e.Event, &e.Actor, &e.Dept, &e.Reason, &detail, &at); err != nil {
			return nil, fmt.Errorf("store: licence %d events: %w", id, err)
		}
		if detail.Valid {
			e.Detail = json.RawMessage(detail.String)
		}
		e.At = at.Time
		out = append(out, e)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("store: licence %d events: %w", id, err)
	}
	return out, nil
}

// ListLicences returns the licences f selects, by id.
func (s *DB) ListLicences(ctx context.Context, f LicenceFilter) ([]Licence, error) {
	if f.Limit < 1 || f.Limit > maxLicencesLimit {
		return nil, fmt.Errorf("store: list licences: limit %d is out of range 1..%d", f.Limit, maxLicencesLimit)
	}
	var (
		where []string
		args  []any
	)
	for _, c := range []struct{ col, v string }{{"l.issuer", f.Issuer}, {"l.holder_id", f.HolderID}, {"l.type_code", f.TypeCode}, {"l.status", f.Status}} {
		if c.v != "" {
			where = append(where, c.col+" = ?")
			args = append(args, c.v)
		}
	}
	where = append(where, "l.id > ?")
	args = append(args, f.After, f.Limit)
	rs, err := s.queryContext(ctx, `SELECT `+licenceColumns+` FROM licences l WHERE `+strings.Join(where, " AND ")+` ORDER BY l.id LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list licences: %w", err)
	}
	return collectRows(rs, "store: list licences", func(sc rowScanner) (Licence, error) { return scanLicence(sc) })
}

// LicenceSealOf returns the seal key pair of dept; none fails wrapping
// ErrNotFound.
func (s *DB) LicenceSealOf(ctx context.Context, dept string) (LicenceSeal, error) {
	var (
		k  LicenceSeal
		at dbTime
	)
	err := s.queryRowContext(ctx, `SELECT dept, public_key, private_key, created_at FROM licence_seals WHERE dept = ?`, dept).
		Scan(&k.Dept, &k.PublicKey, &k.PrivateKey, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return LicenceSeal{}, fmt.Errorf("store: seal of %s: %w", dept, ErrNotFound)
	}
	if err != nil {
		return LicenceSeal{}, fmt.Errorf("store: seal of %s: %w", dept, err)
	}
	k.CreatedAt = at.Time
	return k, nil
}

// AddLicenceSeal records k unless dept already has a seal, and returns the
// seal dept has afterwards: the first one recorded wins, so concurrent first
// issues of one department agree on its key.
func (s *DB) AddLicenceSeal(ctx context.Context, k LicenceSeal) (LicenceSeal, error) {
	for _, c := range []struct{ name, v string }{{"dept", k.Dept}, {"public key", k.PublicKey}, {"private key", k.PrivateKey}} {
		max := maxLicenceHex
		if c.name == "dept" {
			max = maxDeptLen
		}
		if err := checkText(c.name, c.v, max, true); err != nil {
			return LicenceSeal{}, fmt.Errorf("store: add seal of %s: %w", k.Dept, err)
		}
	}
	at, err := timeArg("created at", k.CreatedAt, time.Now())
	if err != nil {
		return LicenceSeal{}, fmt.Errorf("store: add seal of %s: %w", k.Dept, err)
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO licence_seals (dept, public_key, private_key, created_at) VALUES (?, ?, ?, ?)`,
		k.Dept, k.PublicKey, k.PrivateKey, at)
	if err != nil && !s.d.isDuplicate(err) {
		return LicenceSeal{}, fmt.Errorf("store: add seal of %s: %w", k.Dept, err)
	}
	return s.LicenceSealOf(ctx, k.Dept)
}
