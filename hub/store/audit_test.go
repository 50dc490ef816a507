package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// testSeal is a stand-in for hub/audit's SM3 sealer (which imports this
// package): any hash over the content and prev hash shows the store chains
// what the sealer returns.
func testSeal(e AuditEntry) []byte {
	h := sha256.New()
	h.Write(e.PrevHash)
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(e.Seq))
	h.Write(n[:])
	fmt.Fprintf(h, "%d|%q|%q|%q|%q|%q|%q|%q|%q|%q|%q|%q|%q", e.At.UnixMicro(), e.Actor, e.Dept, e.Action, e.Resource,
		e.SubjectType, e.SubjectID, e.Fields, e.Purpose, e.ItemCode, e.Result, e.Reason, e.Detail)
	return h.Sum(nil)
}

func auditEntry(i int) AuditEntry {
	return AuditEntry{
		At:     time.Date(2026, 3, 1, 8, 0, i, 123456789, time.FixedZone("CST", 8*3600)),
		Actor:  fmt.Sprintf("tok%d", i%3),
		Dept:   fmt.Sprintf("dept%d", i%2),
		Action: "share.read", Resource: fmt.Sprintf("R%d", i%4),
		SubjectType: "person", SubjectID: fmt.Sprintf("11010519491231002%d", i%5),
		Fields: []string{"name", "address"}, Purpose: "办理低保 / benefit", ItemCode: "000123",
		Result: AuditAllowed,
	}
}

// checkAuditChain reads the whole log and checks seq 1..n consecutive, each
// prev hash the hash before, each hash the seal of the row, and the head.
func checkAuditChain(t *testing.T, db *DB, n int64) []AuditEntry {
	t.Helper()
	ctx := context.Background()
	all, err := db.ReadAudit(ctx, 0, 1<<62, maxAuditReadLimit)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(all)) != n {
		t.Fatalf("%d entries stored, want %d", len(all), n)
	}
	prev := make([]byte, AuditHashLen)
	for i, e := range all {
		if e.Seq != int64(i+1) {
			t.Fatalf("entry %d has seq %d", i, e.Seq)
		}
		if !bytes.Equal(e.PrevHash, prev) {
			t.Fatalf("seq %d: prev hash %x, want %x", e.Seq, e.PrevHash, prev)
		}
		if h := testSeal(e); !bytes.Equal(h, e.Hash) {
			t.Fatalf("seq %d: stored hash %x, seal of the row read back %x", e.Seq, e.Hash, h)
		}
		prev = e.Hash
	}
	head, err := db.ReadAuditHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if head.Seq != n || !bytes.Equal(head.Hash, prev) {
		t.Fatalf("head = %d %x, want %d %x", head.Seq, head.Hash, n, prev)
	}
	return all
}

func TestAuditAppendRoundTrip(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		head, err := db.ReadAuditHead(ctx)
		if err != nil || head.Seq != 0 || !bytes.Equal(head.Hash, make([]byte, 32)) {
			t.Fatalf("genesis head = %+v, %v", head, err)
		}
		in := []AuditEntry{
			auditEntry(1),
			{Action: "grant.decide", Result: AuditDenied, Reason: "无法定依据 / no legal basis  ", Actor: "adm",
				Detail: json.RawMessage(`{"grant": 7, "fields": ["a", "b"]}`), Fields: []string{}},
			{Action: "share.live", Result: AuditError, Purpose: "trailing space \x00nul ", Resource: "r with\ttab",
				Fields: []string{"x\u00e9", "😀", ""}, SubjectID: "91350100M000100Y43", SubjectType: "legal_person"},
		}
		out, err := db.AppendAudit(ctx, in, testSeal)
		if err != nil {
			t.Fatal(err)
		}
		if len(out) != 3 || out[0].Seq != 1 || out[2].Seq != 3 {
			t.Fatalf("returned seqs %+v", out)
		}
		if !out[0].At.Equal(in[0].At.Truncate(time.Microsecond)) || out[0].At.Location() != time.UTC {
			t.Fatalf("at %v not the UTC microsecond of %v", out[0].At, in[0].At)
		}
		if out[1].At.IsZero() || out[1].Fields != nil {
			t.Fatalf("zero time or empty fields not normalised: %+v", out[1])
		}
		got := checkAuditChain(t, db, 3)
		for i := range out {
			if !auditEqual(got[i], out[i]) {
				t.Fatalf("seq %d read back\n%+v\nwant\n%+v", i+1, got[i], out[i])
			}
		}

		// A second append continues the chain.
		if _, err := db.AppendAudit(ctx, []AuditEntry{auditEntry(4)}, testSeal); err != nil {
			t.Fatal(err)
		}
		checkAuditChain(t, db, 4)
	})
}

func auditEqual(a, b AuditEntry) bool {
	return a.Seq == b.Seq && a.At.Equal(b.At) && a.Actor == b.Actor && a.Dept == b.Dept && a.Action == b.Action &&
		a.Resource == b.Resource && a.SubjectType == b.SubjectType && a.SubjectID == b.SubjectID &&
		slices.Equal(a.Fields, b.Fields) && a.Purpose == b.Purpose && a.ItemCode == b.ItemCode && a.Result == b.Result &&
		a.Reason == b.Reason && bytes.Equal(a.Detail, b.Detail) && bytes.Equal(a.PrevHash, b.PrevHash) &&
		bytes.Equal(a.Hash, b.Hash)
}

func TestAuditAppendRefuses(t *testing.T) {
	db := openTestDB(t, DriverSQLite)
	ctx := context.Background()
	long := strings.Repeat("长", 3000)
	for _, tc := range []struct {
		name string
		e    AuditEntry
		want string
	}{
		{"no action", AuditEntry{Result: AuditAllowed}, "action is empty"},
		{"bad result", AuditEntry{Action: "share.read", Result: "ok"}, `result "ok"`},
		{"long action", AuditEntry{Action: strings.Repeat("a", 65), Result: AuditAllowed}, "action is"},
		{"bad detail", AuditEntry{Action: "a", Result: AuditAllowed, Detail: json.RawMessage(`{"x":`)}, "detail is not valid JSON"},
		{"too many fields", AuditEntry{Action: "a", Result: AuditAllowed, Fields: make([]string, maxAuditFields+1)}, "fields"},
		{"year", AuditEntry{Action: "a", Result: AuditAllowed, At: time.Date(999, 1, 1, 0, 0, 0, 0, time.UTC)}, "outside years"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The bad entry comes second: nothing of the call is appended.
			_, err := db.AppendAudit(ctx, []AuditEntry{auditEntry(0), tc.e}, testSeal)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "entry 1") {
				t.Fatalf("err = %v, want one naming entry 1 and %q", err, tc.want)
			}
			if h, _ := db.ReadAuditHead(ctx); h.Seq != 0 {
				t.Fatalf("head moved to %d", h.Seq)
			}
		})
	}
	if _, err := db.AppendAudit(ctx, []AuditEntry{auditEntry(0)}, nil); err == nil {
		t.Fatal("append without a sealer succeeded")
	}
	// Free text is cut, not refused.
	out, err := db.AppendAudit(ctx, []AuditEntry{{Action: "a", Result: AuditDenied, Purpose: long, Actor: "bad\xffutf8"}}, testSeal)
	if err != nil {
		t.Fatal(err)
	}
	if len(out[0].Purpose) > maxAuditPurpose || !strings.HasPrefix(long, out[0].Purpose) || out[0].Actor != "bad\uFFFDutf8" {
		t.Fatalf("purpose of %d bytes, actor %q", len(out[0].Purpose), out[0].Actor)
	}
	checkAuditChain(t, db, 1)
}

func TestAuditBatchAcrossStatements(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *DB) {
		n := 2*auditInsertRows + 7
		es := make([]AuditEntry, n)
		for i := range es {
			es[i] = auditEntry(i)
		}
		if _, err := db.AppendAudit(context.Background(), es, testSeal); err != nil {
			t.Fatal(err)
		}
		checkAuditChain(t, db, int64(n))
	})
}

// TestAuditConcurrentAppenders: goroutines on one handle, and on MySQL a
// second handle (another hub process) on the same database, append at once;
// the chain has no gap and every prev hash is its predecessor's hash.
func TestAuditConcurrentAppenders(t *testing.T) {
	for _, driver := range testBackends() {
		t.Run(driver, func(t *testing.T) {
			cfg := testConfig(t, driver)
			dbs := []*DB{openConfig(t, cfg), openConfig(t, cfg)}
			const workers, calls, per = 8, 15, 3
			var wg sync.WaitGroup
			errs := make(chan error, workers)
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					db := dbs[w%len(dbs)]
					for c := range calls {
						es := make([]AuditEntry, per)
						for i := range es {
							es[i] = auditEntry(w*1000 + c*10 + i)
							es[i].Reason = fmt.Sprintf("%d/%d/%d", w, c, i)
						}
						if _, err := db.AppendAudit(context.Background(), es, testSeal); err != nil {
							errs <- err
							return
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			all := checkAuditChain(t, dbs[0], workers*calls*per)
			// Each call's entries are consecutive (one transaction).
			for i := 0; i < len(all); i += per {
				var w, c, j int
				if _, err := fmt.Sscanf(all[i].Reason, "%d/%d/%d", &w, &c, &j); err != nil || j != 0 {
					t.Fatalf("seq %d starts no call: %q %v", all[i].Seq, all[i].Reason, err)
				}
				for j := 1; j < per; j++ {
					if want := fmt.Sprintf("%d/%d/%d", w, c, j); all[i+j].Reason != want {
						t.Fatalf("seq %d is %q, want %q: a call's entries are not consecutive", all[i+j].Seq, all[i+j].Reason, want)
					}
				}
			}
		})
	}
}

func TestAuditList(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		es := make([]AuditEntry, 20)
		for i := range es {
			es[i] = auditEntry(i)
		}
		es[5].Action = "grant.decide"
		if _, err := db.AppendAudit(ctx, es, testSeal); err != nil {
			t.Fatal(err)
		}
		seqs := func(f AuditFilter) []int64 {
			t.Helper()
			if f.Limit == 0 {
				f.Limit = 100
			}
			got, err := db.ListAudit(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			var out []int64
			for _, e := range got {
				out = append(out, e.Seq)
			}
			return out
		}
		// want computes the expected seqs (newest first) from the inputs.
		want := func(keep func(i int, e AuditEntry) bool) []int64 {
			var out []int64
			for i := len(es) - 1; i >= 0; i-- {
				if keep(i, es[i]) {
					out = append(out, int64(i+1))
				}
			}
			return out
		}
		at := func(i int) time.Time { return es[i].At }
		for _, tc := range []struct {
			name string
			f    AuditFilter
			keep func(i int, e AuditEntry) bool
		}{
			{"all", AuditFilter{}, func(int, AuditEntry) bool { return true }},
			{"dept", AuditFilter{Dept: "dept1"}, func(_ int, e AuditEntry) bool { return e.Dept == "dept1" }},
			{"actor", AuditFilter{Actor: "tok2"}, func(_ int, e AuditEntry) bool { return e.Actor == "tok2" }},
			{"resource", AuditFilter{Resource: "R3"}, func(_ int, e AuditEntry) bool { return e.Resource == "R3" }},
			{"action", AuditFilter{Action: "grant.decide"}, func(i int, _ AuditEntry) bool { return i == 5 }},
			{"subject", AuditFilter{SubjectType: "person", SubjectID: es[2].SubjectID},
				func(_ int, e AuditEntry) bool { return e.SubjectID == es[2].SubjectID }},
			{"subject, other type", AuditFilter{SubjectType: "legal_person", SubjectID: es[2].SubjectID},
				func(int, AuditEntry) bool { return false }},
			{"time", AuditFilter{Since: at(4), Until: at(9)}, func(i int, _ AuditEntry) bool { return i >= 4 && i < 9 }},
			{"dept and time", AuditFilter{Dept: "dept0", Since: at(10)}, func(i int, e AuditEntry) bool { return i >= 10 && e.Dept == "dept0" }},
			{"before", AuditFilter{Before: 8}, func(i int, _ AuditEntry) bool { return i+1 < 8 }},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if got, w := seqs(tc.f), want(tc.keep); !slices.Equal(got, w) {
					t.Fatalf("seqs %v, want %v", got, w)
				}
			})
		}
		// Paging newest first.
		var paged []int64
		f := AuditFilter{Limit: 6}
		for {
			page := seqs(f)
			paged = append(paged, page...)
			if len(page) < f.Limit {
				break
			}
			f.Before = page[len(page)-1]
		}
		if w := want(func(int, AuditEntry) bool { return true }); !slices.Equal(paged, w) {
			t.Fatalf("paged %v, want %v", paged, w)
		}
		if _, err := db.ListAudit(ctx, AuditFilter{Limit: 0}); err == nil {
			t.Fatal("limit 0 accepted")
		}
	})
}

func TestAuditReadPagingAndUnreadableRow(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		es := make([]AuditEntry, 10)
		for i := range es {
			es[i] = auditEntry(i)
		}
		if _, err := db.AppendAudit(ctx, es, testSeal); err != nil {
			t.Fatal(err)
		}
		page, err := db.ReadAudit(ctx, 3, 8, 3)
		if err != nil || len(page) != 3 || page[0].Seq != 4 || page[2].Seq != 6 {
			t.Fatalf("page = %d entries, %v", len(page), err)
		}
		if page, err = db.ReadAudit(ctx, 6, 8, 100); err != nil || len(page) != 2 || page[1].Seq != 8 {
			t.Fatalf("bounded page = %d entries, %v", len(page), err)
		}
		if next, ok, err := db.NextAuditSeq(ctx, 9); err != nil || !ok || next != 10 {
			t.Fatalf("next after 9 = %d %v %v", next, ok, err)
		}
		if _, ok, err := db.NextAuditSeq(ctx, 10); err != nil || ok {
			t.Fatalf("next after 10 = %v %v", ok, err)
		}
		if _, err := db.db.ExecContext(ctx, `UPDATE audit_log SET fields = 'not json' WHERE seq = 7`); err != nil {
			t.Fatal(err)
		}
		_, err = db.ReadAudit(ctx, 0, 100, 100)
		var rowErr *AuditRowError
		if !errors.As(err, &rowErr) || rowErr.Seq != 7 {
			t.Fatalf("read of an edited row: %v, want an AuditRowError at 7", err)
		}
	})
}

// TestAuditMigrationRepeatable: the MySQL statements of migration 7 run again
// on a migrated database with entries keep the chain head.
func TestAuditMigrationRepeatable(t *testing.T) {
	db := openTestDB(t, DriverMySQL)
	ctx := context.Background()
	if _, err := db.AppendAudit(ctx, []AuditEntry{auditEntry(1), auditEntry(2)}, testSeal); err != nil {
		t.Fatal(err)
	}
	for i, stmt := range migrationAudit().mysql {
		if _, err := db.db.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("statement %d again: %v", i+1, err)
		}
	}
	checkAuditChain(t, db, 2)
}

// FuzzNormalizeAuditEntry: a normalised entry is valid UTF-8 within the
// column limits, normalising again changes nothing (the Logger and the store
// both normalise, and the hash covers the result), and refusals are errors,
// never panics.
func FuzzNormalizeAuditEntry(f *testing.F) {
	f.Add("share.read", "allowed", "tok", "dept", "姓名|住址", "办理", `{"a":1}`, int64(1767225600000000))
	f.Add("", "denied", "\xff", "", "", "", "", int64(0))
	f.Add("x", "error", strings.Repeat("é", 200), "d", "|", "p\x00", "[", int64(-1))
	f.Fuzz(func(t *testing.T, action, result, actor, dept, fields, purpose, detail string, micros int64) {
		var fs []string
		if fields != "" {
			fs = strings.Split(fields, "|")
		}
		in := AuditEntry{Action: action, Result: result, Actor: actor, Dept: dept, Fields: fs, Purpose: purpose,
			Detail: json.RawMessage(detail), Reason: purpose + actor, At: time.UnixMicro(micros)}
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		n, err := NormalizeAuditEntry(in, now)
		if err != nil {
			return
		}
		for name, v := range map[string]string{"actor": n.Actor, "dept": n.Dept, "purpose": n.Purpose, "reason": n.Reason} {
			if !utf8.ValidString(v) {
				t.Fatalf("%s %q is not valid UTF-8", name, v)
			}
		}
		if len(n.Actor) > maxAuditIdent || len(n.Purpose) > maxAuditPurpose || len(n.Reason) > maxAuditReason {
			t.Fatalf("beyond limits: %d %d %d", len(n.Actor), len(n.Purpose), len(n.Reason))
		}
		if n.At.Location() != time.UTC || n.At.Nanosecond()%1000 != 0 {
			t.Fatalf("at %v", n.At)
		}
		again, err := NormalizeAuditEntry(n, now.Add(time.Hour))
		if err != nil || !auditEqual(again, n) {
			t.Fatalf("normalising twice: %+v, %v\nwant %+v", again, err, n)
		}
	})
}
