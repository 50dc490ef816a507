package ingest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/segmentio/kafka-go"

	"github.com/tongban/tongban/hub/store"
)

// openMySQL opens the store on a new database tb_test_<random> of the test
// MariaDB (127.0.0.1:3306, root; TONGBAN_TEST_MYSQL may name another
// server), dropped when the test ends. An unreachable server fails the test.
func openMySQL(t *testing.T) *store.DB {
	t.Helper()
	server := "root@tcp(127.0.0.1:3306)/"
	if v := os.Getenv("TONGBAN_TEST_MYSQL"); v != "" {
		server = v
	}
	root, err := sql.Open("mysql", server)
	if err != nil {
		t.Fatalf("MySQL DSN %q: %v", server, err)
	}
	t.Cleanup(func() { _ = root.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := root.PingContext(ctx); err != nil {
		t.Fatalf("MariaDB at %q is unreachable; this test needs it (root, no password): %v", server, err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "tb_test_" + hex.EncodeToString(b[:])
	if _, err := root.ExecContext(ctx, "CREATE DATABASE "+name+" CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := root.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	cfg, err := mysql.ParseDSN(server)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DBName = name
	db, err := store.Open(context.Background(), store.Config{Driver: store.DriverMySQL, DSN: cfg.FormatDSN()})
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
