package mysql

import (
	"context"
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

// TestLookupPlansTTLAndDrop: a plan is served to an equal source within the
// TTL only, and dropping a plan that was already replaced keeps the newer one.
func TestLookupPlansTTLAndDrop(t *testing.T) {
	src := connectors.Source{Resource: "P", Table: "person"}
	now := time.Now()
	var l lookupPlans
	old := &lookupPlan{src: src, built: now.Add(-2 * lookupPlanTTL)}
	l.put(old)
	if _, ok := l.get(src, now); ok {
		t.Error("a plan older than the TTL is served")
	}
	cur := &lookupPlan{src: src, built: now}
	l.put(cur)
	if got, ok := l.get(src, now.Add(lookupPlanTTL/2)); !ok || got != cur {
		t.Errorf("fresh plan: %p %v, want %p", got, ok, cur)
	}
	other := src
	other.Table = "people"
	if _, ok := l.get(other, now); ok {
		t.Error("a plan is served to another source of the same resource")
	}
	l.drop(old)
	if _, ok := l.get(src, now); !ok {
		t.Error("dropping a replaced plan dropped the current one")
	}
	l.drop(cur)
	if _, ok := l.get(src, now); ok {
		t.Error("a dropped plan is still served")
	}
}

// TestLookupKeysAreQuoted: key values with quotes, backslashes and
// placeholders find their rows and nothing else; the driver interpolates
// them into the query text.
func TestLookupKeysAreQuoted(t *testing.T) {
	d := newTestDB(t)
	d.exec("CREATE TABLE codes (code VARCHAR(64) NOT NULL PRIMARY KEY, n INT NOT NULL)")
	keys := []string{`a'b`, `a\'b`, `x' OR '1'='1`, `?`, `\`, `'; DROP TABLE codes; --`, "张\x00三"}
	for i, k := range keys {
		d.exec("INSERT INTO codes VALUES (?, ?)", k, i)
	}
	c := New()
	defer c.Close()
	src := connectors.Source{
		Resource: "C", DSN: d.dsn, Table: "codes", PrimaryKey: []string{"code"}, Partitions: 1,
		Columns: []connectors.Column{{Field: field("code", "string", false)}, {Field: field("n", "int64", false)}},
	}
	for i, k := range keys {
		rows := decodeChunk(t, src, mustLookup(t, c, src, k))
		if len(rows) != 1 || rows[0].values["code"] != k || rows[0].values["n"] != int64(i) {
			t.Errorf("lookup %q: %v", k, rows)
		}
	}
	if ch := mustLookup(t, c, src, `nothing' OR 'x'='x`); ch.Rows != 0 {
		t.Errorf("an injected condition found %d rows", ch.Rows)
	}
}
