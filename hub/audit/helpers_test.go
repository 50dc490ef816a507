package audit

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/tongban/tongban/internal/testdb"

	"github.com/tongban/tongban/hub/store"
)

// backends are the store drivers the tests run against.
var backends = []string{store.DriverSQLite, store.DriverMySQL}

// testStore is a fresh store plus a raw connection to its database, for
// tampering behind the store's back.
type testStore struct {
	cfg store.Config
	db  *store.DB
	raw *sql.DB
}

// newTestStore opens a fresh store of driver: a SQLite file in a temporary
// directory, or a new database on the test MariaDB (127.0.0.1:3306, root; the
// environment variable TONGBAN_TEST_MYSQL may name another server), dropped
// when the test ends. An unreachable MariaDB fails the test.
func newTestStore(t testing.TB, driver string) *testStore {
	t.Helper()
	var cfg store.Config
	switch driver {
	case store.DriverSQLite:
		cfg = store.Config{Driver: store.DriverSQLite, DSN: filepath.Join(t.TempDir(), "hub.db")}
	case store.DriverMySQL:
		cfg = store.Config{Driver: store.DriverMySQL, DSN: testdb.MySQL(t)}
	default:
		t.Fatalf("unknown driver %q", driver)
	}
	ts := &testStore{cfg: cfg, db: openStore(t, cfg)}
	raw, err := sql.Open(driver, cfg.DSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = raw.Close() })
	ts.raw = raw
	return ts
}

func openStore(t testing.TB, cfg store.Config) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("open %s store: %v", cfg.Driver, err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// exec runs a tampering statement on the raw connection.
func (ts *testStore) exec(t testing.TB, q string, args ...any) {
	t.Helper()
	res, err := ts.raw.ExecContext(context.Background(), q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		t.Fatalf("%s: changed %d rows (%v)", q, n, err)
	}
}

// sampleEntry is a share call; i varies every field.
func sampleEntry(i int) Entry {
	return Entry{
		At:     time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second),
		Actor:  fmt.Sprintf("tok-%d", i%4),
		Dept:   fmt.Sprintf("11230600012814028%d", i%3),
		Action: ActionShareRead, Resource: fmt.Sprintf("RES%02d", i%5),
		SubjectType: "person", SubjectID: fmt.Sprintf("11010519491231%04d", i%7),
		Fields: []string{"姓名", "住址", fmt.Sprintf("f%d", i)}, Purpose: "办理最低生活保障 / minimum living allowance",
		ItemCode: fmt.Sprintf("ITEM-%d", i%2), Result: Allowed,
		Detail: []byte(fmt.Sprintf(`{"request":%d}`, i)),
	}
}

// fill appends n sample entries through a Logger and returns their seqs.
func fill(t testing.TB, db *store.DB, n int) {
	t.Helper()
	l, err := New(Config{Store: db})
	if err != nil {
		t.Fatal(err)
	}
	es := make([]Entry, n)
	for i := range es {
		es[i] = sampleEntry(i)
	}
	for start := 0; start < n; start += 500 {
		if _, err := l.AppendBatch(context.Background(), es[start:min(start+500, n)]); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// reset empties the audit log and puts the head back at genesis.
func (ts *testStore) reset(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	for _, q := range []string{`DELETE FROM audit_log`, `DELETE FROM audit_head`} {
		if _, err := ts.raw.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if _, err := ts.raw.ExecContext(ctx, `INSERT INTO audit_head (id, last_seq, last_hash) VALUES (1, 0, ?)`, GenesisHash()); err != nil {
		t.Fatal(err)
	}
}
