package ingest

import (
	"context"
	"fmt"
	"testing"

	"github.com/tongban/tongban/internal/testdb"

	"github.com/segmentio/kafka-go"

	"github.com/tongban/tongban/hub/store"
)

// openMySQL opens the store on a new database tb_test_<random> of the test
// MariaDB (127.0.0.1:3306, root; TONGBAN_TEST_MYSQL may name another
// server), dropped when the test ends. An unreachable server fails the test.
func openMySQL(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), store.Config{Driver: store.DriverMySQL, DSN: testdb.MySQL(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func TestMySQLStore(t *testing.T) {
	e := newEnv(t, openMySQL(t))
	testVersionRuleAndTombstones(t, e)

	// Many rows, a dead letter among them, then a replay under a new group.
	rows := people(1000, 2000)
	var msgs []kafka.Message
	for i := 0; i < len(rows); i += 250 {
		msgs = append(msgs, e.upserts(fmt.Sprintf("m%d", i), rows[i:i+250]...)...)
	}
	res := e.cat[testRes]
	garbage := meta(res, res.Schema, "upsert", "garbage")
	msgs = append(msgs, kafka.Message{Value: []byte("garbage"), Headers: garbage.Headers()})
	e.produce(msgs...)
	r := e.start("g-mysql", nil) // a new group: reads the 6 earlier messages too
	if s := r.waitMessages(t, int64(len(msgs)+6)); s.DeadLetters != 1 {
		t.Fatalf("stats %+v", s)
	}
	before := e.dump()
	r.stop(t)
	r2 := e.start("g-mysql-replay", nil)
	r2.waitMessages(t, int64(len(msgs)+6))
	after := e.dump()
	if len(after) != len(before) {
		t.Fatalf("replay: %d records, before %d", len(after), len(before))
	}
	for i := range before {
		a, b := before[i], after[i]
		if a.Key != b.Key || a.Version != b.Version || a.Deleted != b.Deleted || string(a.Data) != string(b.Data) {
			t.Fatalf("replay changed %s: %+v -> %+v", a.Key, a, b)
		}
	}
	if n, err := e.db.CountDeadLetters(context.Background()); err != nil || n != 1 {
		t.Fatalf("dead letters in store after replay: %d %v (a redelivered dead letter is recorded once)", n, err)
	}
}
