package mysql

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"testing"
	"time"

	gomysql "github.com/go-sql-driver/mysql"

	"github.com/tongban/tongban/connectors"
	"github.com/tongban/tongban/connectors/plugin"
	"github.com/tongban/tongban/schemas"
	"github.com/tongban/tongban/wire"
)

// The test binary doubles as the connector plugin: started with this
// variable set it serves the MySQL connector, as `agent connector mysql` does.
const pluginEnv = "TONGBAN_MYSQL_PLUGIN_TEST"

func TestMain(m *testing.M) {
	if os.Getenv(pluginEnv) != "" {
		plugin.Serve(New())
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// serverDSN is the MariaDB every test uses (see docs/HELPER_BRIEF.md).
const serverDSN = "root@tcp(127.0.0.1:3306)/"

// testDB is a fresh database on the test server, dropped after the test.
type testDB struct {
	t    testing.TB
	db   *sql.DB // connected to the test database
	name string
	dsn  string // DSN of the test database, for the connector
}

func newTestDB(t testing.TB) *testDB {
	t.Helper()
	admin, err := sql.Open("mysql", serverDSN+"?timeout=5s")
	if err != nil {
		t.Fatalf("MariaDB at 127.0.0.1:3306: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		admin.Close()
		t.Fatalf("MariaDB is not reachable at 127.0.0.1:3306 as root without password (start it, e.g. `service mariadb start`): %v", err)
	}
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	name := "tb_test_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE `"+name+"` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"); err != nil {
		admin.Close()
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP DATABASE `" + name + "`"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
		admin.Close()
	})
	cfg, err := gomysql.ParseDSN(serverDSN + name)
	if err != nil {
		t.Fatal(err)
	}
	// The test's own writes use a session without strict date checks so
	// zero dates can be stored, as legacy department databases have them.
	cfg.Params = map[string]string{"sql_mode": "'NO_ENGINE_SUBSTITUTION'"}
	conn, err := gomysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(conn)
	t.Cleanup(func() { db.Close() })
	return &testDB{t: t, db: db, name: name, dsn: serverDSN + name}
}

func (d *testDB) exec(query string, args ...any) {
	d.t.Helper()
	d.execT(d.t, query, args...)
}

// execT is exec failing t, for subtests.
func (d *testDB) execT(t testing.TB, query string, args ...any) {
	t.Helper()
	if _, err := d.db.Exec(query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// field is a catalog field for tests.
func field(name, typ string, nullable bool) schemas.Field {
	t, err := schemas.ParseType(typ)
	if err != nil {
		panic(err)
	}
	return schemas.Field{Name: name, Type: t, Nullable: nullable}
}

// decodedRow is one decoded row: field values as wire.Value gives them, the
// row's version and the partition it arrived on.
type decodedRow struct {
	values    map[string]any
	key       []string // the primary key as wire.Text renders it
	version   int64
	partition int
}

// decodeChunk decodes every batch of a chunk and checks what the chunk
// claims: rows per batch and in all, and that each row sits on the partition
// its subject key (or record key) picks.
func decodeChunk(t testing.TB, src connectors.Source, c connectors.Chunk) []decodedRow {
	t.Helper()
	var out []decodedRow
	for _, b := range c.Batches {
		rec, err := wire.DecodeRecord(b.IPC)
		if err != nil {
			t.Fatalf("decode batch of partition %d: %v", b.Partition, err)
		}
		if int(rec.NumRows()) != b.Rows {
			t.Errorf("batch says %d rows, holds %d", b.Rows, rec.NumRows())
		}
		if src.BatchRows > 0 && b.Rows > src.BatchRows {
			t.Errorf("batch of %d rows over batch_rows %d", b.Rows, src.BatchRows)
		}
		want := schemas.Schema{Fields: fieldsOf(src)}.Arrow()
		if !rec.Schema().Equal(want) {
			t.Fatalf("batch schema %s, want %s", rec.Schema(), want)
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			row := decodedRow{values: make(map[string]any), partition: b.Partition}
			for j, f := range rec.Schema().Fields() {
				if f.Name == schemas.VersionColumn {
					row.version = wire.Value(rec.Column(j), i).(int64)
					continue
				}
				row.values[f.Name] = wire.Value(rec.Column(j), i)
			}
			for _, k := range src.PrimaryKey {
				row.key = append(row.key, wire.Text(rec.Column(rec.Schema().FieldIndices(k)[0]), i))
			}
			subject := wire.RecordKey(row.key)
			if src.SubjectKey != "" {
				subject = wire.Text(rec.Column(rec.Schema().FieldIndices(src.SubjectKey)[0]), i)
			}
			if p := wire.Partition(subject, src.Partitions); p != b.Partition {
				t.Errorf("row with subject %q on partition %d, want %d", subject, b.Partition, p)
			}
			out = append(out, row)
		}
		rec.Release()
	}
	if len(out) != c.Rows {
		t.Errorf("chunk says %d rows, batches hold %d", c.Rows, len(out))
	}
	return out
}

func fieldsOf(src connectors.Source) []schemas.Field {
	fs := make([]schemas.Field, len(src.Columns))
	for i, c := range src.Columns {
		fs[i] = c.Field
	}
	return fs
}

// collect runs a read and returns its chunks.
func collect(t testing.TB, read func(emit func(connectors.Chunk) error) error) []connectors.Chunk {
	t.Helper()
	var chunks []connectors.Chunk
	if err := read(func(c connectors.Chunk) error {
		chunks = append(chunks, c)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return chunks
}
