package audit

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/tongban/tongban/hub/store"
)

func TestVerifyIntact(t *testing.T) {
	for _, driver := range backends {
		t.Run(driver, func(t *testing.T) {
			ts := newTestStore(t, driver)
			ctx := context.Background()
			rep, err := Verify(ctx, ts.db, nil)
			if err != nil || !rep.OK() || rep.Entries != 0 || rep.Head.Seq != 0 {
				t.Fatalf("empty log: %+v %v", rep, err)
			}
			// More than two pages, to cross page boundaries.
			const n = 2*verifyPage + 37
			fill(t, ts.db, n)
			var calls []int64
			rep, err = Verify(ctx, ts.db, func(done int64) { calls = append(calls, done) })
			if err != nil || !rep.OK() {
				t.Fatalf("intact log: %+v %v", rep.Problem, err)
			}
			if rep.Entries != n || rep.Head.Seq != n {
				t.Fatalf("report %+v, want %d entries", rep, n)
			}
			head, err := ts.db.ReadAuditHead(ctx)
			if err != nil || !bytes.Equal(head.Hash, rep.Head.Hash) || len(head.Hash) != HashLen {
				t.Fatalf("head %x vs report %x (%v)", head.Hash, rep.Head.Hash, err)
			}
			if len(calls) != 3 || calls[len(calls)-1] != n || calls[0] != verifyPage {
				t.Fatalf("progress calls %v", calls)
			}
		})
	}
}

// TestVerifyTampering edits the database behind the store's back, one way
// per case, and checks Verify names the first broken position and what broke.
func TestVerifyTampering(t *testing.T) {
	const n = 12
	cases := []struct {
		name     string
		tamper   func(t *testing.T, ts *testStore)
		seq      int64
		kind     string
		contains string
	}{
		{"purpose edited", func(t *testing.T, ts *testStore) {
			ts.exec(t, `UPDATE audit_log SET purpose = 'curiosity' WHERE seq = 5`)
		}, 5, ProblemHash, "entry 5 was edited"},
		{"result edited", func(t *testing.T, ts *testStore) {
			ts.exec(t, `UPDATE audit_log SET result = 'denied' WHERE seq = 1`)
		}, 1, ProblemHash, "entry 1 was edited"},
		{"fields edited", func(t *testing.T, ts *testStore) {
			ts.exec(t, `UPDATE audit_log SET fields = '["姓名"]' WHERE seq = 9`)
		}, 9, ProblemHash, "entry 9 was edited"},
		{"fields reordered", func(t *testing.T, ts *testStore) {
			ts.exec(t, `UPDATE audit_log SET fields = '["住址","姓名","f2"]' WHERE seq = 3`)
		}, 3, ProblemHash, "edited"},
		{"time edited", func(t *testing.T, ts *testStore) {
			ts.exec(t, `UPDATE audit_log SET at = '2026-05-02 09:00:00.000000' WHERE seq = 7`)
		}, 7, ProblemHash, "edited"},
		{"dept edited", func(t *testing.T, ts *testStore) {
			ts.exec(t, `UPDATE audit_log SET dept = 'other' WHERE seq = 12`)
		}, 12, ProblemHash, "edited"},
		{"detail removed", func(t *testing.T, ts *testStore) {
			ts.exec(t, `UPDATE audit_log SET detail = NULL WHERE seq = 4`)
		}, 4, ProblemHash, "edited"},
		{"prev hash edited", func(t *testing.T, ts *testStore) {
			ts.exec(t, `UPDATE audit_log SET prev_hash = hash WHERE seq = 6`)
		}, 6, ProblemPrevHash, "entry 6's prev_hash"},
		{"edited and rehashed", func(t *testing.T, ts *testStore) {
			rehash(t, ts, 8, func(e *store.AuditEntry) { e.Result = store.AuditDenied })
		}, 9, ProblemPrevHash, "entry 9's prev_hash"},
		{"middle deleted", func(t *testing.T, ts *testStore) {
			ts.exec(t, `DELETE FROM audit_log WHERE seq = 6`)
		}, 6, ProblemGap, "entry 6 is missing: deleted between entries 5 and 7"},
		{"several deleted", func(t *testing.T, ts *testStore) {
			ts.exec(t, `DELETE FROM audit_log WHERE seq BETWEEN 3 AND 5`)
		}, 3, ProblemGap, "entries 3..5 are missing"},
		{"first deleted", func(t *testing.T, ts *testStore) {
			ts.exec(t, `DELETE FROM audit_log WHERE seq = 1`)
		}, 1, ProblemGap, "entry 1 is missing"},
		{"last deleted", func(t *testing.T, ts *testStore) {
			ts.exec(t, `DELETE FROM audit_log WHERE seq = 12`)
		}, 12, ProblemTruncated, "entries 12..12 are missing at the end"},
		{"all deleted", func(t *testing.T, ts *testStore) {
			ts.exec(t, `DELETE FROM audit_log`)
		}, 1, ProblemTruncated, "entries 1..12 are missing at the end"},
		{"head hash edited", func(t *testing.T, ts *testStore) {
			ts.exec(t, `UPDATE audit_head SET last_hash = ?`, GenesisHash())
		}, 12, ProblemHead, "the head hash"},
		{"head deleted", func(t *testing.T, ts *testStore) {
			ts.exec(t, `DELETE FROM audit_head`)
		}, 1, ProblemHead, "audit_head"},
		{"last deleted and head moved back", func(t *testing.T, ts *testStore) {
			// A forger deletes 11 and 12 and moves the head back by one.
			ts.exec(t, `DELETE FROM audit_log WHERE seq >= 11`)
			ts.exec(t, `UPDATE audit_head SET last_seq = 11`)
		}, 11, ProblemTruncated, "entries 11..11 are missing at the end"},
		{"row inserted beyond the head", func(t *testing.T, ts *testStore) {
			ts.exec(t, `INSERT INTO audit_log SELECT seq + 100, at, actor, dept, action, resource, subject_type, subject_id, fields,
 purpose, item_code, result, reason, detail, prev_hash, hash FROM audit_log WHERE seq = 12`)
		}, 112, ProblemBeyondHead, "entry 112 lies beyond the head (seq 12)"},
		{"fields unreadable", func(t *testing.T, ts *testStore) {
			ts.exec(t, `UPDATE audit_log SET fields = 'garbage' WHERE seq = 10`)
		}, 10, ProblemUnreadable, "entry 10 cannot be read"},
		{"gap before an unreadable row", func(t *testing.T, ts *testStore) {
			ts.exec(t, `UPDATE audit_log SET fields = 'garbage' WHERE seq = 10`)
			ts.exec(t, `DELETE FROM audit_log WHERE seq = 4`)
		}, 4, ProblemGap, "entry 4 is missing"},
	}
	for _, driver := range backends {
		t.Run(driver, func(t *testing.T) {
			// One database per backend (creating a MySQL one takes seconds),
			// emptied before each case.
			ts := newTestStore(t, driver)
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					ts.reset(t)
					fill(t, ts.db, n)
					if rep, err := Verify(context.Background(), ts.db, nil); err != nil || !rep.OK() {
						t.Fatalf("before tampering: %+v %v", rep.Problem, err)
					}
					tc.tamper(t, ts)
					rep, err := Verify(context.Background(), ts.db, nil)
					if err != nil {
						t.Fatalf("Verify: %v", err)
					}
					if rep.OK() {
						t.Fatal("Verify passed a tampered log")
					}
					p := rep.Problem
					if p.Seq != tc.seq || p.Kind != tc.kind || !strings.Contains(p.Message, tc.contains) {
						t.Fatalf("problem %+v, want seq %d kind %s message with %q", p, tc.seq, tc.kind, tc.contains)
					}
					if want := tc.seq - 1; p.Kind != ProblemBeyondHead && p.Kind != ProblemHead && rep.Entries != want {
						t.Fatalf("%d entries checked intact, want %d", rep.Entries, want)
					}
				})
			}
		})
	}
}

// rehash edits entry seq with edit and stores it with a freshly computed
// hash, as a forger who knows the encoding would.
func rehash(t *testing.T, ts *testStore, seq int64, edit func(*store.AuditEntry)) {
	t.Helper()
	es, err := ts.db.ReadAudit(context.Background(), seq-1, seq, 1)
	if err != nil || len(es) != 1 {
		t.Fatalf("read %d: %v", seq, err)
	}
	e := es[0]
	edit(&e)
	ts.exec(t, `UPDATE audit_log SET result = ?, hash = ? WHERE seq = ?`, e.Result, Hash(e), seq)
	if rep, _ := Verify(context.Background(), ts.db, nil); rep.OK() || rep.Problem.Seq != seq+1 {
		t.Fatalf("after rehashing %d: %+v", seq, rep.Problem)
	}
}
