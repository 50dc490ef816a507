package mysql

import (
	"context"
	"database/sql"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tongban/tongban/connectors"
)

// TestLookupReusesPlanAndSeesTableChanges: concurrent lookups share one
// cached plan; after the table loses a catalog column the next lookup fails,
// and the one after rebuilds the plan and names the missing column; a source
// with other columns is not served the cached plan.
func TestLookupReusesPlanAndSeesTableChanges(t *testing.T) {
	d := newTestDB(t)
	d.exec("CREATE TABLE person (id INT NOT NULL PRIMARY KEY, name VARCHAR(32) NOT NULL, phone VARCHAR(11) NULL)")
	d.exec("INSERT INTO person VALUES (1, '张三', '13800000000'), (2, '李四', NULL)")
	c := New()
	defer c.Close()
	ctx := context.Background()
	src := connectors.Source{
		Resource: "P", DSN: d.dsn, Table: "person", PrimaryKey: []string{"id"}, Partitions: 1,
		Columns: []connectors.Column{{Field: field("id", "int64", false)}, {Field: field("name", "string", false)},
			{Field: field("phone", "string", true)}},
	}
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := []string{"1"}
			if i%2 == 1 {
				key = []string{"2"}
			}
			ch, err := c.Lookup(ctx, src, key)
			if err == nil && ch.Rows != 1 {
				err = errAt(key[0], ch.Rows)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := len(c.lookups.plans); got != 1 {
		t.Fatalf("%d cached lookup plans, want 1", got)
	}
	rows := decodeChunk(t, src, mustLookup(t, c, src, "1"))
	if len(rows) != 1 || rows[0].values["name"] != "张三" {
		t.Fatalf("lookup 1: %v", rows)
	}
	// Another source for the same resource (fewer columns) gets its own plan.
	narrow := src
	narrow.Columns = src.Columns[:2]
	if rows := decodeChunk(t, narrow, mustLookup(t, c, narrow, "2")); len(rows) != 1 || len(rows[0].values) != 2 {
		t.Fatalf("narrow lookup: %v", rows)
	}

	mustLookup(t, c, src, "1") // the full source's plan again
	d.exec("ALTER TABLE person DROP COLUMN phone")
	if _, err := c.Lookup(ctx, src, []string{"1"}); err == nil {
		t.Fatal("lookup after the column was dropped: no error")
	}
	_, err := c.Lookup(ctx, src, []string{"1"})
	if err == nil || !strings.Contains(err.Error(), `no such column`) {
		t.Fatalf("second lookup after the drop: %v, want the plan's missing-column error", err)
	}
}

func mustLookup(t *testing.T, c *Connector, src connectors.Source, key string) connectors.Chunk {
	t.Helper()
	ch, err := c.Lookup(context.Background(), src, []string{key})
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

type lookupRowsError struct {
	key  string
	rows int
}

func (e lookupRowsError) Error() string { return "lookup " + e.key + ": unexpected row count" }

func errAt(key string, rows int) error { return lookupRowsError{key, rows} }

// TestLookupPlanHeldStatementStaysOpen: a plan dropped or replaced while a
// lookup holds it keeps its statement until that lookup lets go, and a
// concurrent build of the same source gets the cached plan back.
func TestLookupPlanHeldStatementStaysOpen(t *testing.T) {
	d := newTestDB(t)
	ctx := context.Background()
	prep := func() *sql.Stmt {
		st, err := d.db.PrepareContext(ctx, "SELECT 1")
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	usable := func(st *sql.Stmt) bool {
		var n int
		return st.QueryRowContext(ctx).Scan(&n) == nil && n == 1
	}
	src := connectors.Source{Resource: "P", Table: "person"}
	var l lookupPlans
	now := time.Now()
	a := l.put(&lookupPlan{src: src, stmt: prep(), built: now})
	second := prep()
	if b := l.put(&lookupPlan{src: src, stmt: second, built: now}); b != a || a.users != 2 {
		t.Fatalf("a second build of the same source: got %p (users %d), want the cached %p", b, a.users, a)
	}
	if usable(second) {
		t.Error("the redundant statement was not closed")
	}
	l.release(a)
	l.drop(a)
	if !usable(a.stmt) {
		t.Fatal("statement closed while a lookup still holds its plan")
	}
	l.release(a)
	if usable(a.stmt) {
		t.Error("statement still open after the last holder let go of a dropped plan")
	}
	if _, ok := l.get(src, now); ok {
		t.Error("a dropped plan is still served")
	}
}
