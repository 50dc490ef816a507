package mysql

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/tongban/tongban/connectors"
	"github.com/tongban/tongban/connectors/plugin"
)

const allTypesTable = `CREATE TABLE all_types (
	id BIGINT NOT NULL PRIMARY KEY,
	name VARCHAR(64) CHARACTER SET utf8mb4 NULL,
	gbk_name VARCHAR(64) CHARACTER SET gbk NULL,
	gb2312_name VARCHAR(64) CHARACTER SET gb2312 NULL,
	legacy_name VARCHAR(64) CHARACTER SET latin1 NULL,
	legacy_18030 VARBINARY(64) NULL,
	amount DECIMAL(18,2) NULL,
	big_dec DECIMAL(38,10) NULL,
	small_dec DECIMAL(5,0) NULL,
	birth DATE NULL,
	updated DATETIME(6) NULL,
	created DATETIME NULL,
	ts TIMESTAMP(3) NULL DEFAULT NULL,
	flag TINYINT(1) NULL,
	flag_n TINYINT(1) NULL,
	bitflag BIT(1) NULL,
	bits BIT(10) NULL,
	f FLOAT NULL,
	dbl DOUBLE NULL,
	big BIGINT NULL,
	ubig BIGINT UNSIGNED NULL,
	uint_col INT UNSIGNED NULL,
	blob_col VARBINARY(16) NULL,
	js JSON NULL,
	e ENUM('甲','乙') NULL,
	txt TEXT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`

// allTypesSource maps every column; full_name reads the column NAME through
// a differently cased source name.
func allTypesSource(dsn string) connectors.Source {
	col := func(name, typ, source, enc string) connectors.Column {
		return connectors.Column{Field: field(name, typ, name != "id"), Source: source, Encoding: enc}
	}
	return connectors.Source{
		Resource: "ALL_TYPES", DSN: dsn, Table: "all_types",
		Columns: []connectors.Column{
			col("id", "int64", "", ""),
			col("full_name", "string", "NAME", ""),
			col("gbk_name", "string", "", ""),
			col("gb2312_name", "string", "", ""),
			col("legacy_name", "string", "", "gbk"),
			col("legacy_18030", "string", "", "gb18030"),
			col("amount", "decimal(18,2)", "", ""),
			col("big_dec", "decimal(38,10)", "", ""),
			col("small_dec", "decimal(10,2)", "", ""),
			col("birth", "date", "", ""),
			col("updated", "timestamp", "", ""),
			col("created", "timestamp", "", ""),
			col("ts", "timestamp", "", ""),
			col("flag", "bool", "", ""),
			col("flag_n", "int64", "", ""),
			col("bitflag", "bool", "", ""),
			col("bits", "int64", "", ""),
			col("f", "float64", "", ""),
			col("dbl", "float64", "", ""),
			col("big", "int64", "", ""),
			col("ubig", "decimal(20,0)", "", ""),
			col("uint_col", "int64", "", ""),
			col("blob_col", "bytes", "", ""),
			col("js", "string", "", ""),
			col("e", "string", "", ""),
			col("txt", "string", "", ""),
		},
		PrimaryKey: []string{"id"}, SubjectKey: "full_name",
		Partitions: 6, ChunkRows: 2, BatchRows: 1,
	}
}

func gbkBytes(t testing.TB, s string) []byte {
	t.Helper()
	b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func gb18030Bytes(t testing.TB, s string) []byte {
	t.Helper()
	b, err := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fillAllTypes inserts three rows and returns the values the hub must see
// for them (wire.Value form), by id.
func fillAllTypes(t testing.TB, d *testDB) map[int64]map[string]any {
	t.Helper()
	d.exec(allTypesTable)
	const longText = "政务信息资源共享\n\t\"quoted\" 'single' `back` \\ 😀"
	ins := `INSERT INTO all_types (id, name, gbk_name, gb2312_name, legacy_name, legacy_18030, amount, big_dec, small_dec,
		birth, updated, created, ts, flag, flag_n, bitflag, bits, f, dbl, big, ubig, uint_col, blob_col, js, e, txt)
		VALUES (?, ?, ?, ?, CAST(? AS BINARY), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	d.exec(ins, 1, "张三😀", "李四", "王五", gbkBytes(t, "赵六·测试"), gb18030Bytes(t, "𠀀钱七😀"),
		"12345.60", "1234567890123456789012345678.0123456789", 99999,
		"2000-02-29", "2024-01-02 03:04:05.123456", "2024-01-02 03:04:05", "2024-01-02 03:04:05.678",
		1, 5, []byte{1}, []byte{0x03, 0xff}, 123456789, 3.141592653589793, int64(-9223372036854775808),
		uint64(18446744073709551615), uint32(4294967295), []byte{0, 0xff, 0x10}, `{"a": [1, "二"]}`, "乙", longText)
	d.exec("INSERT INTO all_types (id) VALUES (2)")
	d.exec(ins, 3, "", "", "", []byte("plain ascii"), []byte{}, "-0.01", "-9999999999999999999999999999.9999999999", -5,
		"0000-00-00", "1970-01-01 00:00:00.000001", "9999-12-31 23:59:59", "2038-01-19 03:14:07.999",
		0, 0, []byte{0}, []byte{0, 0}, -0.123456789, 1e300, int64(9223372036854775807),
		uint64(0), uint32(0), []byte{}, "null", "甲", "")

	// The latin1 column must hold the GBK bytes themselves, as legacy
	// systems that wrote GBK through a latin1 connection left them.
	var stored []byte
	if err := d.db.QueryRow("SELECT CAST(legacy_name AS BINARY) FROM all_types WHERE id = 1").Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(stored, gbkBytes(t, "赵六·测试")) {
		t.Fatalf("latin1 column holds % x, want the GBK bytes", stored)
	}

	null := map[string]any{}
	for _, c := range allTypesSource("").Columns {
		null[c.Field.Name] = nil
	}
	null["id"] = int64(2)
	return map[int64]map[string]any{
		1: {
			"id": int64(1), "full_name": "张三😀", "gbk_name": "李四", "gb2312_name": "王五",
			"legacy_name": "赵六·测试", "legacy_18030": "𠀀钱七😀",
			"amount": "12345.60", "big_dec": "1234567890123456789012345678.0123456789", "small_dec": "99999.00",
			"birth": "2000-02-29", "updated": "2024-01-02T03:04:05.123456", "created": "2024-01-02T03:04:05.000000",
			"ts": "2024-01-02T03:04:05.678000", "flag": true, "flag_n": int64(5), "bitflag": true, "bits": int64(1023),
			// FLOAT: the shortest decimal of the single-precision value
			// (123456789 is stored as 123456792), not the six digits the
			// text protocol prints (123457000).
			"f": 123456790.0, "dbl": 3.141592653589793, "big": int64(-9223372036854775808), "ubig": "18446744073709551615",
			"uint_col": int64(4294967295), "blob_col": base64.StdEncoding.EncodeToString([]byte{0, 0xff, 0x10}),
			"js": `{"a": [1, "二"]}`, "e": "乙", "txt": longText,
		},
		2: null,
		3: {
			"id": int64(3), "full_name": "", "gbk_name": "", "gb2312_name": "",
			"legacy_name": "plain ascii", "legacy_18030": "",
			"amount": "-0.01", "big_dec": "-9999999999999999999999999999.9999999999", "small_dec": "-5.00",
			"birth": nil, "updated": "1970-01-01T00:00:00.000001", "created": "9999-12-31T23:59:59.000000",
			"ts": "2038-01-19T03:14:07.999000", "flag": false, "flag_n": int64(0), "bitflag": false, "bits": int64(0),
			"f": -0.12345679, "dbl": 1e300, "big": int64(9223372036854775807), "ubig": "0",
			"uint_col": int64(0), "blob_col": "", "js": "null", "e": "甲", "txt": "",
		},
	}
}

// checkRows compares decoded rows with the expected values by id.
func checkRows(t *testing.T, rows []decodedRow, want map[int64]map[string]any) {
	t.Helper()
	if len(rows) != len(want) {
		t.Fatalf("got %d rows, want %d", len(rows), len(want))
	}
	for _, r := range rows {
		id := r.values["id"].(int64)
		w, ok := want[id]
		if !ok {
			t.Errorf("unexpected row id %d", id)
			continue
		}
		for name, wv := range w {
			if gv := r.values[name]; !reflect.DeepEqual(gv, wv) {
				t.Errorf("row %d field %s = %#v, want %#v", id, name, gv, wv)
			}
		}
		if len(r.values) != len(w) {
			t.Errorf("row %d has %d fields, want %d", id, len(r.values), len(w))
		}
	}
}

func TestAllTypes(t *testing.T) {
	d := newTestDB(t)
	want := fillAllTypes(t, d)
	src := allTypesSource(d.dsn)
	c := New()
	defer c.Close()
	ctx := context.Background()

	cols, err := c.Describe(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	if len(cols) != 26 || cols[0].Name != "id" || !cols[0].PrimaryKey || cols[0].Nullable || cols[2].Charset != "gbk" || cols[6].SourceType != "decimal(18,2)" {
		t.Errorf("Describe = %+v", cols)
	}

	chunks := collect(t, func(emit func(connectors.Chunk) error) error { return c.Snapshot(ctx, src, nil, emit) })
	if len(chunks) != 2 {
		t.Errorf("%d chunks for 3 rows at 2 rows a chunk, want 2", len(chunks))
	}
	var rows []decodedRow
	for _, ch := range chunks {
		got := decodeChunk(t, src, ch)
		if last := got[len(got)-1].key; !reflect.DeepEqual(ch.LastKey, last) {
			t.Errorf("LastKey %q, last row's key %q", ch.LastKey, last)
		}
		rows = append(rows, got...)
	}
	checkRows(t, rows, want)

	for id, w := range want {
		key := []string{strconv.FormatInt(id, 10)}
		ch, err := c.Lookup(ctx, src, key)
		if err != nil {
			t.Fatal(err)
		}
		checkRows(t, decodeChunk(t, src, ch), map[int64]map[string]any{id: w})
	}
	ch, err := c.Lookup(ctx, src, []string{"404"})
	if err != nil || ch.Rows != 0 || len(ch.Batches) != 0 {
		t.Errorf("Lookup of a missing row = %+v, %v", ch, err)
	}
}

// TestThroughPlugin runs the connector the way the agent does: in a plugin
// process started by re-executing a binary, behind a Supervisor.
func TestThroughPlugin(t *testing.T) {
	d := newTestDB(t)
	want := fillAllTypes(t, d)
	src := allTypesSource(d.dsn)
	sup, err := plugin.NewSupervisor(plugin.Config{
		Name: "mysql",
		Cmd: func() *exec.Cmd {
			cmd := exec.Command(os.Args[0])
			cmd.Env = append(os.Environ(), pluginEnv+"=1")
			return cmd
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sup.Close()
	ctx := context.Background()
	if _, err := sup.Describe(ctx, src); err != nil {
		t.Fatal(err)
	}
	var rows []decodedRow
	for _, ch := range collect(t, func(emit func(connectors.Chunk) error) error { return sup.Snapshot(ctx, src, nil, emit) }) {
		rows = append(rows, decodeChunk(t, src, ch)...)
	}
	checkRows(t, rows, want)

	bad := src
	bad.Columns = append([]connectors.Column(nil), src.Columns...)
	bad.Columns[1].Field = field("full_name", "int64", true)
	_, err = sup.Describe(ctx, bad)
	if err == nil || !strings.Contains(err.Error(), `field "full_name" (source column "name"): MySQL type varchar(64) cannot carry catalog type int64`) {
		t.Errorf("Describe through the plugin: %v", err)
	}
}
