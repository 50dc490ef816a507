package mysql

import (
	"context"
	"strings"
	"testing"

	"github.com/tongban/tongban/connectors"
)

const describeTable = `CREATE TABLE people (
	id CHAR(18) NOT NULL PRIMARY KEY,
	code VARCHAR(20) NOT NULL UNIQUE,
	name VARCHAR(32) CHARACTER SET utf8mb4 NOT NULL,
	legacy VARCHAR(32) CHARACTER SET latin1 NULL,
	amount DECIMAL(12,2) NULL,
	born DATE NULL,
	updated DATETIME(6) NULL,
	n BIGINT UNSIGNED NULL,
	flag TINYINT NULL
)`

func describeSource(dsn string) connectors.Source {
	return connectors.Source{
		Resource: "PEOPLE", DSN: dsn, Table: "people",
		Columns: []connectors.Column{
			{Field: field("id", "string", false)},
			{Field: field("name", "string", false)},
			{Field: field("legacy", "string", true), Encoding: "gbk"},
			{Field: field("amount", "decimal(12,2)", true)},
			{Field: field("born", "date", true)},
			{Field: field("updated", "timestamp", true)},
		},
		PrimaryKey: []string{"id"}, Watermark: "updated", Partitions: 3,
	}
}

// change returns a copy of src with f applied.
func change(src connectors.Source, f func(*connectors.Source)) connectors.Source {
	src.Columns = append([]connectors.Column(nil), src.Columns...)
	src.PrimaryKey = append([]string(nil), src.PrimaryKey...)
	f(&src)
	return src
}

func setField(i int, name, typ string) func(*connectors.Source) {
	return func(s *connectors.Source) { s.Columns[i].Field = field(name, typ, true) }
}

// TestFloatKeyRefused: a FLOAT primary key is refused at Describe, naming
// the field, instead of paging for ever.
func TestFloatKeyRefused(t *testing.T) {
	d := newTestDB(t)
	d.exec("CREATE TABLE fk (f FLOAT NOT NULL PRIMARY KEY, n INT NULL)")
	c := New()
	defer c.Close()
	src := connectors.Source{Resource: "FK", DSN: d.dsn, Table: "fk", PrimaryKey: []string{"f"}, Partitions: 1,
		Columns: []connectors.Column{{Field: field("f", "float64", false)}, {Field: field("n", "int64", true)}}}
	_, err := c.Describe(context.Background(), src)
	if err == nil || !strings.Contains(err.Error(), `primary key field "f" (source column "f"): a FLOAT key cannot be paged exactly`) {
		t.Fatalf("Describe: %v", err)
	}
}

func TestDescribeErrors(t *testing.T) {
	d := newTestDB(t)
	d.exec(describeTable)
	base := describeSource(d.dsn)
	c := New()
	defer c.Close()
	ctx := context.Background()
	if _, err := c.Describe(ctx, base); err != nil {
		t.Fatalf("valid source: %v", err)
	}

	tests := []struct {
		name string
		src  connectors.Source
		want []string
	}{
		{"missing column", change(base, setField(1, "nickname", "string")),
			[]string{`resource PEOPLE: table ` + d.name + `.people: field "nickname" (source column "nickname"): no such column in ` + d.name + ".people"}},
		{"text as int", change(base, setField(1, "name", "int64")),
			[]string{`field "name" (source column "name"): MySQL type varchar(32) cannot carry catalog type int64`}},
		{"narrower decimal", change(base, setField(3, "amount", "decimal(11,2)")),
			[]string{`field "amount" (source column "amount"): MySQL type decimal(12,2) cannot carry catalog type decimal(11,2)`}},
		{"fewer decimals", change(base, setField(3, "amount", "decimal(12,1)")),
			[]string{`MySQL type decimal(12,2) cannot carry catalog type decimal(12,1)`}},
		{"decimal as float", change(base, setField(3, "amount", "float64")),
			[]string{`MySQL type decimal(12,2) cannot carry catalog type float64`}},
		{"datetime as date", change(base, setField(5, "updated", "date")),
			[]string{`field "updated" (source column "updated"): MySQL type datetime(6) cannot carry catalog type date`}},
		{"tinyint as bool", change(base, func(s *connectors.Source) {
			s.Columns = append(s.Columns, connectors.Column{Field: field("flag", "bool", true)})
		}), []string{`MySQL type tinyint(4) cannot carry catalog type bool`}},
		{"unsigned bigint as narrow decimal", change(base, func(s *connectors.Source) {
			s.Columns = append(s.Columns, connectors.Column{Field: field("n", "decimal(19,0)", true)})
		}), []string{`MySQL type bigint(20) unsigned cannot carry catalog type decimal(19,0)`}},
		{"encoding on utf8mb4", change(base, func(s *connectors.Source) { s.Columns[1].Encoding = "gbk" }),
			[]string{`field "name" (source column "name"): encoding gbk needs a latin1, ascii or binary column read as string, not varchar(32) charset utf8mb4`}},
		{"unknown encoding", change(base, func(s *connectors.Source) { s.Columns[2].Encoding = "big5" }),
			[]string{`field "legacy": encoding "big5": want gbk, gb2312 or gb18030`}},
		{"encoding on the key", change(base, func(s *connectors.Source) { s.Columns[0].Encoding = "gbk" }),
			[]string{`primary key field "id": an encoding (gbk) is not supported on key columns`}},
		{"key not the table's", change(base, func(s *connectors.Source) { s.PrimaryKey = []string{"name"} }),
			[]string{`primary key [name]: source columns (name) are not the table's primary key (id)`}},
		{"key not a field", change(base, func(s *connectors.Source) { s.PrimaryKey = []string{"nope"} }),
			[]string{`primary key field "nope" is not among the columns`}},
		{"no key", change(base, func(s *connectors.Source) { s.PrimaryKey = nil }), []string{"no primary key"}},
		{"subject not a field", change(base, func(s *connectors.Source) { s.SubjectKey = "citizen" }),
			[]string{`subject key field "citizen" is not among the columns`}},
		{"missing table", change(base, func(s *connectors.Source) { s.Table = "nobody" }),
			[]string{`table ` + d.name + `.nobody does not exist`}},
		{"other schema", change(base, func(s *connectors.Source) { s.Table = "mysql_nowhere.people" }),
			[]string{`table mysql_nowhere.people does not exist`}},
		{"watermark not a time", change(base, func(s *connectors.Source) { s.Watermark = "name" }),
			[]string{`watermark column "name": MySQL type varchar(32) is not a date, date-time or integer`}},
		{"bad dsn", change(base, func(s *connectors.Source) { s.DSN = "not a dsn" }), []string{"resource PEOPLE: dsn: invalid DSN"}},
		{"no database", change(base, func(s *connectors.Source) { s.DSN = serverDSN }),
			[]string{`table "people" names no schema and the DSN names no database`}},
		{"every problem at once", change(base, func(s *connectors.Source) {
			s.Columns[1].Field = field("name", "date", false)
			s.Columns[3].Field = field("amount", "int64", true)
			s.Columns = append(s.Columns, connectors.Column{Field: field("ghost", "string", true)})
		}), []string{
			`field "name" (source column "name"): MySQL type varchar(32) cannot carry catalog type date`,
			`field "amount" (source column "amount"): MySQL type decimal(12,2) cannot carry catalog type int64`,
			`field "ghost" (source column "ghost"): no such column`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Describe(ctx, tt.src)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
			// A read refuses the same source with the same error.
			rerr := c.Snapshot(ctx, tt.src, nil, func(connectors.Chunk) error { return nil })
			if rerr == nil || rerr.Error() != err.Error() {
				t.Errorf("Snapshot error %v, Describe error %v", rerr, err)
			}
		})
	}

	// Sizes only matter to reads.
	for _, tt := range []struct {
		name string
		f    func(*connectors.Source)
		want string
	}{
		{"no partitions", func(s *connectors.Source) { s.Partitions = 0 }, "partitions 0: want at least 1"},
		{"negative chunk", func(s *connectors.Source) { s.ChunkRows = -1 }, "chunk rows -1"},
		{"negative batch", func(s *connectors.Source) { s.BatchRows = -5 }, "batch rows -5"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src := change(base, tt.f)
			if _, err := c.Describe(ctx, src); err != nil {
				t.Errorf("Describe: %v", err)
			}
			err := c.Snapshot(ctx, src, nil, func(connectors.Chunk) error { return nil })
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Snapshot error %v, want %q", err, tt.want)
			}
		})
	}

	// A unique column may stand in for the key.
	uniq := change(base, func(s *connectors.Source) {
		s.Columns = append(s.Columns, connectors.Column{Field: field("code", "string", false)})
		s.PrimaryKey = []string{"code"}
	})
	if _, err := c.Describe(ctx, uniq); err != nil {
		t.Errorf("unique key: %v", err)
	}
}

// TestInjectionRejected feeds identifiers that try to break out of their
// quotes; each is refused before any SQL is sent, and the canary survives.
func TestInjectionRejected(t *testing.T) {
	d := newTestDB(t)
	d.exec(describeTable)
	d.exec("CREATE TABLE canary (id INT PRIMARY KEY)")
	base := describeSource(d.dsn)
	c := New()
	defer c.Close()
	ctx := context.Background()

	evil := []string{
		"people; DROP TABLE canary", "people`; DROP TABLE canary; -- ", "`people`", "people WHERE 1=1",
		"people--", "a.b.c", "", ".people", "people.", "peo ple", "people/*", "人口", "people\x00", strings.Repeat("p", 65),
	}
	for _, name := range evil {
		for _, kind := range []string{"table", "column", "watermark"} {
			src := change(base, func(s *connectors.Source) {
				switch kind {
				case "table":
					s.Table = name
				case "column":
					s.Columns[1].Source = name
					if name == "" {
						s.Columns[1].Source = "x y"
					}
				case "watermark":
					s.Watermark = name
					if name == "" {
						s.Watermark = "`"
					}
				}
			})
			calls := map[string]error{}
			_, calls["Describe"] = c.Describe(ctx, src)
			calls["Snapshot"] = c.Snapshot(ctx, src, nil, func(connectors.Chunk) error { return nil })
			calls["Changes"] = c.Changes(ctx, src, "", func(connectors.Chunk) error { return nil })
			calls["KeySet"] = c.KeySet(ctx, src, func([][]string) error { return nil })
			_, calls["Lookup"] = c.Lookup(ctx, src, []string{"1"})
			for call, err := range calls {
				if err == nil || !strings.Contains(err.Error(), "letters, digits, _ or $") {
					t.Errorf("%s %q in %s: error %v, want an identifier error", kind, name, call, err)
				}
			}
		}
	}
	var n int
	if err := d.db.QueryRow("SELECT COUNT(*) FROM canary").Scan(&n); err != nil {
		t.Fatalf("canary table: %v", err)
	}
}

// TestBadValues checks that values the catalog type cannot hold fail the
// read naming the column and the row's key, instead of passing on garbage.
func TestBadValues(t *testing.T) {
	d := newTestDB(t)
	d.exec(`CREATE TABLE legacy (id INT NOT NULL PRIMARY KEY, name VARCHAR(32) CHARACTER SET latin1 NULL,
		n BIGINT UNSIGNED NULL)`)
	d.exec("INSERT INTO legacy VALUES (1, CAST(? AS BINARY), 1)", gbkBytes(t, "正常"))
	d.exec("INSERT INTO legacy VALUES (7, CAST(? AS BINARY), 2)", []byte{0xd5, 0xfd, 0xc4, 0x20, 'x'})
	d.exec("INSERT INTO legacy VALUES (8, 'ok', 18446744073709551615)")
	c := New()
	defer c.Close()
	ctx := context.Background()
	src := connectors.Source{
		Resource: "LEGACY", DSN: d.dsn, Table: "legacy",
		Columns:    []connectors.Column{{Field: field("id", "int64", false)}, {Field: field("name", "string", true), Encoding: "gbk"}},
		PrimaryKey: []string{"id"}, Partitions: 1,
	}
	var rows int
	err := c.Snapshot(ctx, src, nil, func(ch connectors.Chunk) error { rows += ch.Rows; return nil })
	want := "resource LEGACY: column name (field name) of the row with key (id=7): invalid gbk bytes d5 fd c4 20 78"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("invalid GBK: error %v, want %q", err, want)
	}
	if rows != 0 {
		t.Errorf("%d rows emitted from the failing chunk", rows)
	}
	ch, err := c.Lookup(ctx, src, []string{"1"})
	if err != nil {
		t.Fatal(err)
	}
	if got := decodeChunk(t, src, ch)[0].values["name"]; got != "正常" {
		t.Errorf("valid GBK read as %q", got)
	}

	src.Columns = []connectors.Column{{Field: field("id", "int64", false)}, {Field: field("n", "int64", true)}}
	if _, err := c.Describe(ctx, src); err != nil {
		t.Errorf("bigint unsigned as int64 is accepted by Describe: %v", err)
	}
	err = c.Snapshot(ctx, src, nil, func(connectors.Chunk) error { return nil })
	want = "resource LEGACY: column n (field n) of the row with key (id=8): 18446744073709551615 overflows int64"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("overflow: error %v, want %q", err, want)
	}
}
