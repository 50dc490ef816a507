package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Token roles.
const (
	RoleAdmin = "admin"
	RoleDept  = "dept"
)

// Token is an API token. Only its hash is stored; hashing is the caller's job.
type Token struct {
	ID   string
	Name string
	// Dept is the department a "dept" token acts for (required for that role).
	Dept string
	// Role is "admin" or "dept".
	Role string
	Hash string
	// CreatedAt is set to the current time when zero.
	CreatedAt time.Time
	RevokedAt *time.Time
}

// CreateToken stores t. It fails, wrapping ErrDuplicate, when the id or the
// hash is already stored.
func (s *DB) CreateToken(ctx context.Context, t Token) error {
	if err := s.createToken(ctx, t); err != nil {
		return fmt.Errorf("store: create token %q: %w", t.ID, err)
	}
	return nil
}

func (s *DB) createToken(ctx context.Context, t Token) error {
	if err := checkText("id", t.ID, maxTokenIDLen, true); err != nil {
		return err
	}
	if err := checkText("name", t.Name, maxTokenNameLen, false); err != nil {
		return err
	}
	switch t.Role {
	case RoleAdmin:
	case RoleDept:
		if t.Dept == "" {
			return errors.New("dept is empty (a \"dept\" token needs its department)")
		}
	default:
		return fmt.Errorf("role %q is neither %q nor %q", t.Role, RoleAdmin, RoleDept)
	}
	if err := checkText("dept", t.Dept, maxDeptLen, false); err != nil {
		return err
	}
	if err := checkText("hash", t.Hash, maxTokenHashLen, true); err != nil {
		return err
	}
	now := time.Now()
	created, err := timeArg("created at", t.CreatedAt, now)
	if err != nil {
		return err
	}
	var revoked any
	if t.RevokedAt != nil {
		r, err := timeArg("revoked at", *t.RevokedAt, now)
		if err != nil {
			return err
		}
		revoked = r
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO api_tokens (id, name, dept, role, hash, created_at, revoked_at)
 VALUES (?, ?, ?, ?, ?, ?, ?)`, t.ID, t.Name, t.Dept, t.Role, t.Hash, created, revoked)
	if s.d.isDuplicate(err) {
		return fmt.Errorf("id or hash: %w", ErrDuplicate)
	}
	return err
}

const selectToken = `SELECT id, name, dept, role, hash, created_at, revoked_at FROM api_tokens`

func scanToken(sc rowScanner) (Token, error) {
	var (
		t                Token
		created, revoked dbTime
	)
	if err := sc.Scan(&t.ID, &t.Name, &t.Dept, &t.Role, &t.Hash, &created, &revoked); err != nil {
		return Token{}, err
	}
	t.CreatedAt = created.Time
	if revoked.Valid {
		r := revoked.Time
		t.RevokedAt = &r
	}
	return t, nil
}

// TokenByHash returns the token with the given hash, revoked or not.
func (s *DB) TokenByHash(ctx context.Context, hash string) (Token, bool, error) {
	t, err := scanToken(s.queryRowContext(ctx, selectToken+` WHERE hash = ?`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return Token{}, false, nil
	}
	if err != nil {
		return Token{}, false, fmt.Errorf("store: token by hash: %w", err)
	}
	return t, true, nil
}

// RevokeToken marks token id revoked now. Revoking a revoked token keeps its
// first revocation time; an unknown id fails wrapping ErrNotFound.
func (s *DB) RevokeToken(ctx context.Context, id string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`,
		formatDBTime(time.Now()), id)
	if err != nil {
		return fmt.Errorf("store: revoke token %q: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("store: revoke token %q: %w", id, err)
	} else if n > 0 {
		return nil
	}
	var one int
	err = s.db.QueryRowContext(ctx, `SELECT 1 FROM api_tokens WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: revoke token %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("store: revoke token %q: %w", id, err)
	}
	return nil
}

// ListTokens returns every token, oldest first.
func (s *DB) ListTokens(ctx context.Context) ([]Token, error) {
	rs, err := s.db.QueryContext(ctx, selectToken+` ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("store: list tokens: %w", err)
	}
	return collectRows(rs, "store: list tokens", scanToken)
}
