package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

const (
	testLicenceType   = "112306000128140287001"
	testLicenceIssuer = "112306000128140287"
)

// fakeSealer builds a version whose identifier is base.version and whose
// content names the serial.
func fakeSealer(version int) LicenceSealer {
	return func(serial string) (LicenceVersion, error) {
		return LicenceVersion{Identifier: fmt.Sprintf("%s.%s.%s.%03d", testLicenceType, testLicenceIssuer, serial, version),
			Content: []byte(fmt.Sprintf(`{"serial":%q,"version":%d}`, serial, version)), Digest: "ab", Signature: "cd"}, nil
	}
}

func issueTestLicence(t *testing.T, db *DB, holder string, at time.Time) (Licence, LicenceVersion) {
	t.Helper()
	l, v, err := db.IssueLicence(context.Background(), LicenceIssue{TypeCode: testLicenceType, Issuer: testLicenceIssuer,
		HolderType: "legal_person", HolderID: holder, HolderName: "某公司", ValidUntil: "2030-12-31", Actor: "tok1", At: at},
		fakeSealer(1))
	if err != nil {
		t.Fatal(err)
	}
	return l, v
}

func TestLicenceLifecycleStore(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		l, v := issueTestLicence(t, db, "91230600MA1BX0RF3N", at)
		if l.Serial != "202600000001" || l.Version != 1 || l.Status != LicenceActive || l.Identifier != v.Identifier ||
			v.Version != 1 || v.LicenceID != l.ID || !l.IssuedAt.Equal(at) {
			t.Fatalf("issued %+v / %+v", l, v)
		}
		l2, _ := issueTestLicence(t, db, "91230600MA1BX0RF3N", at)
		if l2.Serial != "202600000002" {
			t.Fatalf("second serial %s", l2.Serial)
		}
		// A new year starts a new sequence.
		l3, _ := issueTestLicence(t, db, "91230600MA1BX0RF3N", at.AddDate(1, 0, 0))
		if l3.Serial != "202700000001" {
			t.Fatalf("next year's serial %s", l3.Serial)
		}

		// A new version supersedes the current one.
		next := func(l Licence, cur LicenceVersion) (LicenceChange, error) {
			if cur.Version != 1 || cur.Identifier != v.Identifier {
				return LicenceChange{}, fmt.Errorf("current %+v", cur)
			}
			nv, _ := fakeSealer(2)(l.Serial)
			nv.Version = 2
			return LicenceChange{Status: l.Status, Next: &nv, HolderName: "某公司（更名）", ValidUntil: "2031-12-31",
				Event: LicenceEvent{Event: "update", Actor: "tok1", Dept: testLicenceIssuer, Reason: "更名"}}, nil
		}
		got, err := db.ChangeLicence(ctx, l.ID, at.Add(time.Hour), next)
		if err != nil {
			t.Fatal(err)
		}
		if got.Version != 2 || got.HolderName != "某公司（更名）" || got.ValidUntil != "2031-12-31" || got.Identifier == v.Identifier {
			t.Fatalf("after update %+v", got)
		}
		vs, err := db.LicenceVersions(ctx, l.ID)
		if err != nil || len(vs) != 2 || vs[0].SupersededAt.IsZero() || !vs[1].SupersededAt.IsZero() {
			t.Fatalf("versions %+v, %v", vs, err)
		}
		// The old identifier still finds the licence, and says which version it named.
		byOld, asked, err := db.LicenceByIdentifier(ctx, v.Identifier)
		if err != nil || byOld.ID != l.ID || asked != 1 || byOld.Version != 2 {
			t.Fatalf("by old identifier: %+v %d %v", byOld, asked, err)
		}
		chk, err := db.LicenceForVerify(ctx, v.Identifier)
		if err != nil || chk.AskedVersion != 1 || chk.Current.Version != 2 || string(chk.Current.Content) != string(vs[1].Content) ||
			chk.SealPublicKey != "" {
			t.Fatalf("verify read %+v, %v", chk, err)
		}

		// A status change; a refused one changes nothing.
		suspend := func(l Licence, _ LicenceVersion) (LicenceChange, error) {
			return LicenceChange{Status: LicenceSuspended, Event: LicenceEvent{Event: "suspend", Actor: "tok1", Reason: "暂扣"}}, nil
		}
		if got, err = db.ChangeLicence(ctx, l.ID, time.Time{}, suspend); err != nil || got.Status != LicenceSuspended || got.Version != 2 {
			t.Fatalf("suspend: %+v %v", got, err)
		}
		refuse := errors.New("refused")
		if _, err := db.ChangeLicence(ctx, l.ID, time.Time{}, func(Licence, LicenceVersion) (LicenceChange, error) {
			return LicenceChange{}, refuse
		}); !errors.Is(err, refuse) {
			t.Fatalf("refused change: %v", err)
		}
		bad := func(l Licence, _ LicenceVersion) (LicenceChange, error) {
			return LicenceChange{Status: "expired", Event: LicenceEvent{Event: "x", Actor: "a"}}, nil
		}
		if _, err := db.ChangeLicence(ctx, l.ID, time.Time{}, bad); err == nil {
			t.Fatal("unknown status accepted")
		}
		if _, err := db.ChangeLicence(ctx, 999999, time.Time{}, suspend); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown licence: %v", err)
		}
		evs, err := db.LicenceEvents(ctx, l.ID)
		if err != nil || len(evs) != 3 || evs[0].Event != "issue" || evs[1].Event != "update" || evs[1].Version != 2 ||
			evs[1].Reason != "更名" || evs[2].Event != "suspend" {
			t.Fatalf("events %+v, %v", evs, err)
		}

		// Listing.
		for _, tt := range []struct {
			f    LicenceFilter
			want int
		}{
			{LicenceFilter{Limit: 10}, 3},
			{LicenceFilter{Issuer: testLicenceIssuer, Limit: 10}, 3},
			{LicenceFilter{Issuer: "other", Limit: 10}, 0},
			{LicenceFilter{HolderID: "91230600MA1BX0RF3N", Status: LicenceSuspended, Limit: 10}, 1},
			{LicenceFilter{TypeCode: testLicenceType, After: l.ID, Limit: 1}, 1},
		} {
			ls, err := db.ListLicences(ctx, tt.f)
			if err != nil || len(ls) != tt.want {
				t.Errorf("list %+v: %d, %v; want %d", tt.f, len(ls), err, tt.want)
			}
		}
		if _, err := db.ListLicences(ctx, LicenceFilter{}); err == nil {
			t.Error("limit 0 accepted")
		}
		if _, _, err := db.LicenceByIdentifier(ctx, "nope"); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown identifier: %v", err)
		}
	})
}

func TestLicenceSeals(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		if _, err := db.LicenceSealOf(ctx, testLicenceIssuer); !errors.Is(err, ErrNotFound) {
			t.Fatalf("no seal yet: %v", err)
		}
		// Concurrent first seals agree on one key.
		var wg sync.WaitGroup
		got := make([]LicenceSeal, 8)
		errs := make([]error, 8)
		for i := range got {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got[i], errs[i] = db.AddLicenceSeal(ctx, LicenceSeal{Dept: testLicenceIssuer, PublicKey: fmt.Sprintf("04%02d", i), PrivateKey: "aa"})
			}()
		}
		wg.Wait()
		for i := range got {
			if errs[i] != nil || got[i].PublicKey != got[0].PublicKey {
				t.Fatalf("seal %d: %+v, %v; first %+v", i, got[i], errs[i], got[0])
			}
		}
		l, v := issueTestLicence(t, db, "91230600MA1BX0RF3N", time.Time{})
		chk, err := db.LicenceForVerify(ctx, v.Identifier)
		if err != nil || chk.SealPublicKey != got[0].PublicKey || chk.Licence.ID != l.ID {
			t.Fatalf("verify read with seal: %+v, %v", chk, err)
		}
		if _, err := db.AddLicenceSeal(ctx, LicenceSeal{Dept: "x"}); err == nil {
			t.Fatal("empty key accepted")
		}
	})
}

func TestIssueLicenceRefusesBadInput(t *testing.T) {
	db := openTestDB(t, DriverSQLite)
	ctx := context.Background()
	good := LicenceIssue{TypeCode: testLicenceType, Issuer: testLicenceIssuer, HolderType: "person", HolderID: "x",
		HolderName: "张三", ValidUntil: "2030-01-01", Actor: "tok"}
	for _, tt := range []struct {
		name string
		edit func(*LicenceIssue)
		seal LicenceSealer
	}{
		{"no holder", func(in *LicenceIssue) { in.HolderID = "" }, fakeSealer(1)},
		{"bad date", func(in *LicenceIssue) { in.ValidUntil = "2030-1-1" }, fakeSealer(1)},
		{"no sealer", func(*LicenceIssue) {}, nil},
		{"sealer fails", func(*LicenceIssue) {}, func(string) (LicenceVersion, error) { return LicenceVersion{}, errors.New("hsm down") }},
		{"content not JSON", func(*LicenceIssue) {}, func(string) (LicenceVersion, error) {
			return LicenceVersion{Identifier: "i", Content: []byte("x"), Digest: "d", Signature: "s"}, nil
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := good
			tt.edit(&in)
			if _, _, err := db.IssueLicence(ctx, in, tt.seal); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	if ls, err := db.ListLicences(ctx, LicenceFilter{Limit: 10}); err != nil || len(ls) != 0 {
		t.Fatalf("refused issues left %d licences, %v", len(ls), err)
	}
}

// TestIssueLicenceConcurrent: concurrent issues by one issuer get distinct
// serials without gaps.
func TestIssueLicenceConcurrent(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *DB) {
		const n = 12
		var wg sync.WaitGroup
		serials := make([]string, n)
		errs := make([]error, n)
		at := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				l, _, err := db.IssueLicence(context.Background(), LicenceIssue{TypeCode: testLicenceType, Issuer: testLicenceIssuer,
					HolderType: "legal_person", HolderID: "h", HolderName: "n", ValidUntil: "2030-01-01", Actor: "a", At: at}, fakeSealer(1))
				serials[i], errs[i] = l.Serial, err
			}()
		}
		wg.Wait()
		seen := map[string]bool{}
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("issue %d: %v", i, errs[i])
			}
			seen[serials[i]] = true
		}
		for i := 1; i <= n; i++ {
			if s := fmt.Sprintf("2026%08d", i); !seen[s] {
				t.Errorf("serial %s not assigned; got %v", s, serials)
			}
		}
	})
}
