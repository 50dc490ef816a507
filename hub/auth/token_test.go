package auth

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tongban/tongban/hub/store"
)

func openStore(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), store.Config{Driver: store.DriverSQLite, DSN: filepath.Join(t.TempDir(), "hub.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func TestHashIsSM3(t *testing.T) {
	// GB/T 32905-2016 example 1.
	if got := Hash("abc"); got != "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0" {
		t.Fatalf("Hash(abc) = %s", got)
	}
}

func TestCreateAndAuthenticate(t *testing.T) {
	ctx := context.Background()
	db := openStore(t)
	dtok, plain, err := Issue(ctx, db, "公安局 agent", "11230600MB1234567X", RoleDept)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckFormat(plain); err != nil {
		t.Fatalf("issued token %q: %v", plain, err)
	}
	if strings.Contains(dtok.Hash, plain) || dtok.Hash != Hash(plain) {
		t.Fatal("stored hash is not the SM3 of the token")
	}
	admin, err := Create(ctx, db, "ops", "", RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	if admin == plain {
		t.Fatal("two tokens are equal")
	}
	for _, in := range []string{plain, "Bearer " + plain, "bearer  " + plain + " "} {
		p, err := Authenticate(ctx, db, in)
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if p.TokenID != dtok.ID || p.Dept != "11230600MB1234567X" || p.Role != RoleDept || p.IsAdmin() {
			t.Fatalf("principal %+v", p)
		}
	}
	p, err := Authenticate(ctx, db, "Bearer "+admin)
	if err != nil || !p.IsAdmin() || p.Dept != "" {
		t.Fatalf("admin principal %+v, %v", p, err)
	}

	if err := db.RevokeToken(ctx, dtok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := Authenticate(ctx, db, plain); !errors.Is(err, ErrRevoked) || !IsAuthError(err) {
		t.Fatalf("revoked token: %v", err)
	}
	// The admin token still works.
	if _, err := Authenticate(ctx, db, admin); err != nil {
		t.Fatal(err)
	}
}

func TestAuthenticateRejects(t *testing.T) {
	ctx := context.Background()
	db := openStore(t)
	unknown := TokenPrefix + strings.Repeat("A", tokenChars)
	cases := []struct {
		in   string
		want error
	}{
		{"", ErrNoToken},
		{"Bearer", ErrNoToken},
		{"Bearer   ", ErrNoToken},
		{"Basic dXNlcjpwYXNz", ErrMalformed},
		{"tb_short", ErrMalformed},
		{"xx_" + strings.Repeat("A", tokenChars), ErrMalformed},
		{TokenPrefix + strings.Repeat("a", tokenChars), ErrMalformed},
		{TokenPrefix + strings.Repeat("1", tokenChars), ErrMalformed},
		{unknown, ErrUnknownToken},
	}
	for _, c := range cases {
		_, err := Authenticate(ctx, db, c.in)
		if !errors.Is(err, c.want) || !IsAuthError(err) {
			t.Errorf("%q: error %v, want %v", c.in, err, c.want)
		}
	}
}

func TestIssueValidates(t *testing.T) {
	ctx := context.Background()
	db := openStore(t)
	cases := []struct{ name, dept, role, want string }{
		{"a", "D1", RoleAdmin, "admin token has no department"},
		{"a", "", RoleDept, "needs a department"},
		{"a", "D1", "root", `role "root"`},
	}
	for _, c := range cases {
		if _, err := Create(ctx, db, c.name, c.dept, c.role); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v", c, err)
		}
	}
	toks, err := db.ListTokens(ctx)
	if err != nil || len(toks) != 0 {
		t.Fatalf("rejected tokens were stored: %v %v", toks, err)
	}
}

func FuzzCheckFormat(f *testing.F) {
	f.Add("tb_" + strings.Repeat("A", tokenChars))
	f.Add("tb_")
	f.Add("Bearer x")
	f.Fuzz(func(t *testing.T, s string) {
		err := CheckFormat(s)
		if err == nil && (len(s) != len(TokenPrefix)+tokenChars || !strings.HasPrefix(s, TokenPrefix)) {
			t.Fatalf("accepted %q", s)
		}
		if err != nil && !errors.Is(err, ErrMalformed) {
			t.Fatalf("error %v does not wrap ErrMalformed", err)
		}
	})
}
