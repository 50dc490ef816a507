package main

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tongban/tongban/hub/audit"
	"github.com/tongban/tongban/hub/store"
)

// appendAudit writes n share calls to the store at dsn; entry i is by
// department dept<i%2>, on resource R<i%3>, about subject 1101...<i%4>, at
// 2026-05-01 08:00 UTC + i minutes.
func appendAudit(t *testing.T, dsn string, n int) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{Driver: store.DriverSQLite, DSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	l, err := audit.New(audit.Config{Store: db})
	if err != nil {
		t.Fatal(err)
	}
	es := make([]audit.Entry, n)
	for i := range es {
		es[i] = audit.Entry{
			At:    time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute),
			Actor: fmt.Sprintf("tok%d", i%2), Dept: fmt.Sprintf("dept%d", i%2), Action: audit.ActionShareRead,
			Resource: fmt.Sprintf("R%d", i%3), SubjectType: "person", SubjectID: fmt.Sprintf("11010519491231000%d", i%4),
			Fields: []string{"姓名", "住址"}, Purpose: "办理低保\n第二行", ItemCode: "ITEM-9", Result: audit.Allowed,
		}
	}
	for start := 0; start < n; start += 1000 {
		if _, err := l.AppendBatch(ctx, es[start:min(start+1000, n)]); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestAuditVerifyCommand(t *testing.T) {
	cfg, dsn := testConfig(t)
	code, out, errOut := call("audit", "verify", "-config", cfg)
	if code != 0 || !strings.HasPrefix(out, "OK: 0 entries, head hash "+strings.Repeat("0", 64)) {
		t.Fatalf("empty log: %d %q %q", code, out, errOut)
	}
	appendAudit(t, dsn, 30)
	code, out, errOut = call("audit", "verify", "-config", cfg)
	if code != 0 || !strings.HasPrefix(out, "OK: 30 entries, head hash ") || errOut != "" {
		t.Fatalf("intact log: %d %q %q", code, out, errOut)
	}
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{Driver: store.DriverSQLite, DSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	head, err := db.ReadAuditHead(ctx)
	db.Close()
	if err != nil || !strings.Contains(out, hex.EncodeToString(head.Hash)) {
		t.Fatalf("output %q lacks the head hash %x (%v)", out, head.Hash, err)
	}

	raw, err := sql.Open(store.DriverSQLite, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for _, tc := range []struct {
		name, stmt, want string
	}{
		{"edited", `UPDATE audit_log SET purpose = '好奇' WHERE seq = 17`, "FAIL at seq 17 (hash)"},
		{"deleted", `DELETE FROM audit_log WHERE seq = 9`, "FAIL at seq 9 (gap)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := raw.ExecContext(ctx, tc.stmt); err != nil {
				t.Fatal(err)
			}
			code, out, errOut := call("audit", "verify", "-config", cfg)
			if code != 1 || !strings.HasPrefix(out, tc.want) || !strings.Contains(errOut, "broken at seq") {
				t.Fatalf("verify: %d %q %q, want exit 1 and %q", code, out, errOut, tc.want)
			}
		})
	}
}

func TestAuditVerifyProgress(t *testing.T) {
	cfg, dsn := testConfig(t)
	appendAudit(t, dsn, progressMin)
	code, out, errOut := call("audit", "verify", "-config", cfg)
	if code != 0 || !strings.HasPrefix(out, fmt.Sprintf("OK: %d entries", progressMin)) {
		t.Fatalf("verify: %d %q %q", code, out, errOut)
	}
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	if len(lines) < 5 || lines[len(lines)-1] != fmt.Sprintf("verified %d of %d entries (100%%)", progressMin, progressMin) {
		t.Fatalf("progress:\n%s", errOut)
	}
}

func TestAuditListCommand(t *testing.T) {
	cfg, dsn := testConfig(t)
	appendAudit(t, dsn, 24)
	seqs := func(out string) []string {
		var s []string
		for _, l := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
			s = append(s, strings.Fields(l)[0])
		}
		return s
	}
	for _, tc := range []struct {
		name string
		args []string
		want string // seqs, newest first
	}{
		{"all, limited", []string{"-limit", "3"}, "24 23 22"},
		{"dept", []string{"-dept", "dept1", "-limit", "4"}, "24 22 20 18"},
		{"resource", []string{"-resource", "R0", "-limit", "3"}, "22 19 16"},
		{"subject with type", []string{"-subject", "person:110105194912310002", "-limit", "2"}, "23 19"},
		{"subject id only", []string{"-subject", "110105194912310002", "-limit", "2"}, "23 19"},
		{"subject of another type", []string{"-subject", "legal_person:110105194912310002"}, ""},
		// Entry i is at 08:00 UTC + i-1 minutes = 16:00 CST + i-1 minutes.
		{"time range in CST", []string{"-since", "2026-05-01 16:05", "-until", "2026-05-01T08:08:00Z"}, "8 7 6"},
		{"date", []string{"-since", "2026-05-02"}, ""},
		{"before", []string{"-before", "3"}, "2 1"},
		{"combined", []string{"-dept", "dept0", "-resource", "R2", "-subject", "110105194912310002"}, "15 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := call(append([]string{"audit", "list", "-config", cfg}, tc.args...)...)
			if code != 0 {
				t.Fatalf("list: %d %s", code, errOut)
			}
			if got := strings.Join(seqs(out), " "); got != tc.want {
				t.Fatalf("seqs %q, want %q\n%s", got, tc.want, out)
			}
		})
	}
	code, out, errOut := call("audit", "list", "-config", cfg, "-limit", "2")
	if code != 0 || !strings.Contains(errOut, "-before 23") {
		t.Fatalf("next page hint: %d %q", code, errOut)
	}
	// One table row per entry: the purpose's line break is flattened.
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 3 || !strings.Contains(lines[1], "办理低保 第二行") {
		t.Fatalf("table:\n%s", out)
	}

	code, out, _ = call("audit", "list", "-config", cfg, "-json", "-limit", "1")
	var e struct {
		Seq    int64    `json:"seq"`
		Fields []string `json:"fields"`
		Hash   string   `json:"hash"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &e) != nil || e.Seq != 24 || len(e.Fields) != 2 || len(e.Hash) != 64 {
		t.Fatalf("json: %d %q", code, out)
	}
}

func TestAuditUsageErrors(t *testing.T) {
	cfg, _ := testConfig(t)
	for _, args := range [][]string{
		{"audit"},
		{"audit", "nope"},
		{"audit", "verify", "-config", cfg, "extra"},
		{"audit", "list", "-config", cfg, "-limit", "0"},
		{"audit", "list", "-config", cfg, "-since", "yesterday"},
		{"audit", "list", "-config", cfg, "-subject", "person:"},
		{"audit", "list", "-config", cfg, "-before", "-1"},
	} {
		if code, _, errOut := call(args...); code != 2 {
			t.Fatalf("%v: exit %d (%s), want 2", args, code, errOut)
		}
	}
}
