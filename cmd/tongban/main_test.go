package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tongban/tongban/hub/auth"
	"github.com/tongban/tongban/hub/store"
)

const testDept = "112306000128140287" // a department of deploy/catalog

func testConfig(t *testing.T) (path, dsn string) {
	t.Helper()
	dir := t.TempDir()
	catalogDir, err := filepath.Abs(filepath.Join("..", "..", "deploy", "catalog"))
	if err != nil {
		t.Fatal(err)
	}
	dsn = filepath.Join(dir, "hub.db")
	path = filepath.Join(dir, "hub.yaml")
	body := "store:\n  driver: sqlite\n  dsn: " + dsn + "\ncatalog_dir: " + catalogDir + "\n"
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, dsn
}

func call(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestTokenCommands(t *testing.T) {
	cfg, dsn := testConfig(t)

	code, out, errOut := call("token", "create", "-config", cfg, "-name", "公安局 agent", "-dept", testDept)
	if code != 0 {
		t.Fatalf("create: %d %s", code, errOut)
	}
	deptTok := strings.TrimSpace(out)
	if err := auth.CheckFormat(deptTok); err != nil || strings.Count(out, "\n") != 1 {
		t.Fatalf("create printed %q: %v", out, err)
	}
	if !strings.Contains(errOut, "shown only this once") {
		t.Fatalf("create stderr %q", errOut)
	}
	code, out, errOut = call("token", "create", "-name", "ops", "-admin", "-config", cfg)
	if code != 0 {
		t.Fatalf("create admin: %d %s", code, errOut)
	}
	adminTok := strings.TrimSpace(out)

	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{Driver: store.DriverSQLite, DSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	p, err := auth.Authenticate(ctx, db, deptTok)
	if err != nil || p.Dept != testDept || p.Role != auth.RoleDept {
		t.Fatalf("dept token: %+v %v", p, err)
	}
	if p2, err := auth.Authenticate(ctx, db, adminTok); err != nil || !p2.IsAdmin() {
		t.Fatalf("admin token: %+v %v", p2, err)
	}

	code, out, _ = call("token", "list", "-config", cfg)
	if code != 0 || !strings.Contains(out, p.TokenID) || !strings.Contains(out, "公安局 agent") || strings.Contains(out, deptTok) {
		t.Fatalf("list: %d\n%s", code, out)
	}
	// Flags may follow the id.
	code, out, errOut = call("token", "revoke", p.TokenID, "-config", cfg)
	if code != 0 || !strings.Contains(out, "revoked "+p.TokenID) {
		t.Fatalf("revoke: %d %s %s", code, out, errOut)
	}
	if _, err := auth.Authenticate(ctx, db, deptTok); err == nil {
		t.Fatal("revoked token still authenticates")
	}
	code, out, _ = call("token", "list", "-config", cfg)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 3 {
		t.Fatalf("list after revoke: %d\n%s", code, out)
	}
	for _, l := range lines[1:] {
		if strings.HasPrefix(l, p.TokenID) == strings.HasSuffix(strings.TrimSpace(l), "-") {
			t.Fatalf("revoked column wrong in %q", l)
		}
	}
}

func TestTokenCommandErrors(t *testing.T) {
	cfg, _ := testConfig(t)
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{}, 2, "usage:"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"token"}, 2, "want create, list or revoke"},
		{[]string{"token", "delete"}, 2, "token delete: want create, list or revoke"},
		{[]string{"token", "create", "-config", cfg, "-dept", testDept}, 2, "-name is required"},
		{[]string{"token", "create", "-config", cfg, "-name", "x"}, 2, "give -dept CODE"},
		{[]string{"token", "create", "-config", cfg, "-name", "x", "-admin", "-dept", testDept}, 2, "not both"},
		{[]string{"token", "create", "-config", cfg, "-name", "x", "-bogus"}, 2, "flag provided but not defined: -bogus"},
		{[]string{"token", "create", "-config", cfg, "-name", "x", "-dept", "91230600MA00000000"}, 1, `-dept "91230600MA00000000" is not a department`},
		{[]string{"token", "create", "-config", filepath.Join(t.TempDir(), "none.yaml"), "-name", "x", "-admin"}, 1, "none.yaml"},
		{[]string{"token", "list", "-config", cfg, "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"token", "revoke", "-config", cfg}, 2, "exactly one token id"},
		{[]string{"token", "revoke", "-config", cfg, "tok_nothere"}, 1, `no token with id "tok_nothere"`},
		{[]string{"demo", "-rows", "2"}, 1, "-rows must be at least 3"},
		{[]string{"demo", "extra"}, 2, `demo takes no arguments`},
		{[]string{"connector"}, 2, "connector takes one name"},
		{[]string{"connector", "oracle"}, 1, `unknown built-in connector "oracle"`},
	}
	for _, c := range cases {
		code, _, errOut := call(c.args...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", c.args, code, errOut, c.code, c.want)
		}
	}
	code, out, _ := call("help")
	if code != 0 || !strings.Contains(out, "tongban token create") || !strings.Contains(out, "tongban demo") {
		t.Fatalf("help: %d %s", code, out)
	}
	if code, _, _ := call("token", "create", "-h"); code != 0 {
		t.Fatalf("-h exit %d", code)
	}
}
