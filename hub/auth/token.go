// Package auth issues and checks the hub's API tokens. A token is "tb_"
// followed by 32 base32 characters (160 random bits); the store keeps only its
// SM3 digest in hex, so a leaked store does not leak usable tokens.
package auth

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/emmansun/gmsm/sm3"

	"github.com/tongban/tongban/hub/store"
)

// Roles a token can carry.
const (
	RoleAdmin = store.RoleAdmin
	RoleDept  = store.RoleDept
)

// TokenPrefix starts every token.
const TokenPrefix = "tb_"

// tokenChars is the number of base32 characters after the prefix: 20 random
// bytes encode to exactly 32 characters without padding.
const (
	tokenChars = 32
	tokenBytes = 20
)

// Errors of Authenticate. Each means "401 Unauthorized" to a caller.
var (
	ErrNoToken      = errors.New("no bearer token")
	ErrMalformed    = errors.New("token is malformed")
	ErrUnknownToken = errors.New("token is not known")
	ErrRevoked      = errors.New("token is revoked")
)

// Principal is who a token speaks for.
type Principal struct {
	TokenID string
	Dept    string // empty for an admin token
	Role    string // RoleAdmin or RoleDept
}

// IsAdmin reports whether the principal has the admin role.
func (p Principal) IsAdmin() bool { return p.Role == RoleAdmin }

// TokenWriter is the store side of Create.
type TokenWriter interface {
	CreateToken(ctx context.Context, t store.Token) error
}

// TokenReader is the store side of Authenticate.
type TokenReader interface {
	TokenByHash(ctx context.Context, hash string) (store.Token, bool, error)
}

// Hash returns the stored form of a token: its SM3 digest in lower-case hex.
func Hash(token string) string {
	sum := sm3.Sum([]byte(token))
	return hex.EncodeToString(sum[:])
}

// CheckFormat reports whether s has the shape of a token, naming the problem.
func CheckFormat(s string) error {
	rest, ok := strings.CutPrefix(s, TokenPrefix)
	if !ok {
		return fmt.Errorf("%w: does not start with %q", ErrMalformed, TokenPrefix)
	}
	if len(rest) != tokenChars {
		return fmt.Errorf("%w: want %d characters after %q, got %d", ErrMalformed, tokenChars, TokenPrefix, len(rest))
	}
	for _, c := range rest {
		if (c < 'A' || c > 'Z') && (c < '2' || c > '7') {
			return fmt.Errorf("%w: %q is not a base32 character", ErrMalformed, c)
		}
	}
	return nil
}

// Issue creates a token with a new random id and returns the stored record
// and the plaintext token. The plaintext is not kept anywhere: show it once.
// An admin token has no department; a dept token must name one.
func Issue(ctx context.Context, st TokenWriter, name, dept, role string) (store.Token, string, error) {
	switch role {
	case RoleAdmin:
		if dept != "" {
			return store.Token{}, "", fmt.Errorf("create token: an admin token has no department (got %q)", dept)
		}
	case RoleDept:
		if dept == "" {
			return store.Token{}, "", errors.New("create token: a dept token needs a department code")
		}
	default:
		return store.Token{}, "", fmt.Errorf("create token: role %q is neither %q nor %q", role, RoleAdmin, RoleDept)
	}
	secret := make([]byte, tokenBytes)
	if _, err := rand.Read(secret); err != nil {
		return store.Token{}, "", fmt.Errorf("create token: random bytes: %w", err)
	}
	idBytes := make([]byte, 8)
	if _, err := rand.Read(idBytes); err != nil {
		return store.Token{}, "", fmt.Errorf("create token: random bytes: %w", err)
	}
	plain := TokenPrefix + base32.StdEncoding.EncodeToString(secret)
	t := store.Token{
		ID:        "tok_" + hex.EncodeToString(idBytes),
		Name:      name,
		Dept:      dept,
		Role:      role,
		Hash:      Hash(plain),
		CreatedAt: time.Now().UTC(),
	}
	if err := st.CreateToken(ctx, t); err != nil {
		return store.Token{}, "", fmt.Errorf("create token: %w", err)
	}
	return t, plain, nil
}

// Create is Issue returning only the plaintext token.
func Create(ctx context.Context, st TokenWriter, name, dept, role string) (string, error) {
	_, plain, err := Issue(ctx, st, name, dept, role)
	return plain, err
}

// Authenticate resolves a bearer token — the token itself or a whole
// "Bearer <token>" Authorization header value — to its principal. Unknown,
// malformed and revoked tokens fail with ErrUnknownToken, ErrMalformed and
// ErrRevoked; a store failure is returned wrapped as it is.
func Authenticate(ctx context.Context, st TokenReader, bearer string) (Principal, error) {
	tok := strings.TrimSpace(bearer)
	if scheme, rest, ok := strings.Cut(tok, " "); ok && strings.EqualFold(scheme, "bearer") {
		tok = strings.TrimSpace(rest)
	}
	if tok == "" || strings.EqualFold(tok, "bearer") {
		return Principal{}, ErrNoToken
	}
	if err := CheckFormat(tok); err != nil {
		return Principal{}, err
	}
	t, ok, err := st.TokenByHash(ctx, Hash(tok))
	if err != nil {
		return Principal{}, fmt.Errorf("authenticate: %w", err)
	}
	if !ok {
		return Principal{}, ErrUnknownToken
	}
	if t.RevokedAt != nil {
		return Principal{}, ErrRevoked
	}
	return Principal{TokenID: t.ID, Dept: t.Dept, Role: t.Role}, nil
}

// IsAuthError reports whether err means the caller is not authenticated (as
// opposed to the store failing).
func IsAuthError(err error) bool {
	return errors.Is(err, ErrNoToken) || errors.Is(err, ErrMalformed) ||
		errors.Is(err, ErrUnknownToken) || errors.Is(err, ErrRevoked)
}
