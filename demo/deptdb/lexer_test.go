package deptdb

import (
	"strings"
	"testing"
)

func TestTranslate(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		parse  string // text for the Vitess parser, spaces collapsed
		sqlite string // text for SQLite, spaces collapsed
		slots  []slot
		params int
	}{
		{
			name:   "backticks and parameters",
			in:     "SELECT `a`, `b c` FROM `t` WHERE (`a`,`b c`) > (?, ?) ORDER BY `a` LIMIT 5000",
			parse:  "SELECT `a`, `b c` FROM `t` WHERE (`a`,`b c`) > (?, ?) ORDER BY `a` LIMIT 5000",
			sqlite: `SELECT "a" , "b c" FROM "t" WHERE ( "a" , "b c" ) > (?, ?) ORDER BY "a" LIMIT 5000`,
			slots:  []slot{{kind: slotParam, param: 0}, {kind: slotParam, param: 1}},
			params: 2,
		},
		{
			name:   "string literals are lifted with MySQL escapes decoded",
			in:     `INSERT INTO t VALUES ('O\'Brien', "say ""hi""", 'a''b', 'x\ny', 'tab\tz', '\%', '\中\q')`,
			parse:  "INSERT INTO t VALUES ( ? , ? , ? , ? , ? , ? , ? )",
			sqlite: "INSERT INTO t VALUES ( ? , ? , ? , ? , ? , ? , ? )",
			slots: []slot{{kind: slotString, text: "O'Brien"}, {kind: slotString, text: `say "hi"`},
				{kind: slotString, text: "a'b"}, {kind: slotString, text: "x\ny"}, {kind: slotString, text: "tab\tz"},
				{kind: slotString, text: `\%`}, {kind: slotString, text: "中q"}},
		},
		{
			name:   "introducers, typed literals and adjacent strings",
			in:     "SELECT _binary'\x00\x01', _utf8mb4 'ü', N'中', DATE '2024-01-02', 'a' 'b' FROM t",
			parse:  "SELECT ? , ? , ? , ? , ? FROM t",
			sqlite: "SELECT ? , ? , ? , ? , ? FROM t",
			slots: []slot{{kind: slotBytes, text: "\x00\x01"}, {kind: slotString, text: "ü"}, {kind: slotString, text: "中"},
				{kind: slotString, text: "2024-01-02"}, {kind: slotString, text: "ab"}},
		},
		{
			name:   "current time functions",
			in:     "UPDATE t SET a = NOW(6), b = CURRENT_TIMESTAMP, c = curdate(), d = UTC_TIMESTAMP() WHERE t.now = ?",
			parse:  "UPDATE t SET a = ? , b = ? , c = ? , d = ? WHERE t.now = ?",
			sqlite: "UPDATE t SET a = ? , b = ? , c = ? , d = ? WHERE t.now = ?",
			slots: []slot{{kind: slotNow, fsp: 6}, {kind: slotNow}, {kind: slotCurDate}, {kind: slotUTCNow},
				{kind: slotParam, param: 0}},
			params: 1,
		},
		{
			name:   "a column called now is not a function",
			in:     "SELECT now FROM t",
			parse:  "SELECT now FROM t",
			sqlite: "SELECT now FROM t",
		},
		{
			name:   "MySQL-only operators",
			in:     "SELECT * FROM t WHERE a <=> ? || b = 1 && c = 2",
			parse:  "SELECT * FROM t WHERE a <=> ? || b = 1 && c = 2",
			sqlite: "SELECT * FROM t WHERE a IS ? OR b = 1 AND c = 2",
			slots:  []slot{{kind: slotParam, param: 0}},
			params: 1,
		},
		{
			name:   "index hints and locking clauses are dropped for SQLite",
			in:     "SELECT a FROM t FORCE INDEX (PRIMARY) WHERE a > ? ORDER BY a LIMIT 10 FOR UPDATE;",
			parse:  "SELECT a FROM t FORCE INDEX (PRIMARY) WHERE a > ? ORDER BY a LIMIT 10 FOR UPDATE;",
			sqlite: "SELECT a FROM t WHERE a > ? ORDER BY a LIMIT 10",
			slots:  []slot{{kind: slotParam, param: 0}},
			params: 1,
		},
		{
			name:   "collations",
			in:     "SELECT a FROM t WHERE b = 'x' COLLATE utf8mb4_bin AND c COLLATE `utf8mb4_general_ci` = ?",
			parse:  "SELECT a FROM t WHERE b = ? COLLATE utf8mb4_bin AND c COLLATE `utf8mb4_general_ci` = ?",
			sqlite: "SELECT a FROM t WHERE b = ? AND c = ?",
			slots:  []slot{{kind: slotString, text: "x"}, {kind: slotParam, param: 0}},
			params: 1,
		},
		{
			name:   "casts",
			in:     "SELECT CAST(`a` AS BINARY), CAST(b AS CHAR(10) CHARACTER SET utf8mb4), CAST(c AS SIGNED INTEGER) FROM t WHERE d >= CAST(? AS DECIMAL(12,2)) AND (d, e) > (CAST('1.5' AS DECIMAL(12,2)), ?) AND f = CAST(g AS DECIMAL(5,1))",
			parse:  "SELECT CAST(`a` AS BINARY), CAST(b AS CHAR(10) CHARACTER SET utf8mb4), CAST(c AS SIGNED INTEGER) FROM t WHERE d >= CAST(? AS DECIMAL(12,2)) AND (d, e) > (CAST(? AS DECIMAL(12,2)), ?) AND f = CAST(g AS DECIMAL(5,1))",
			sqlite: `SELECT CAST("a" AS BLOB), CAST(b AS TEXT), CAST(c AS INTEGER) FROM t WHERE d >= ? AND (d, e) > (?, ?) AND f = CAST(g AS DECIMAL(5,1))`,
			slots:  []slot{{kind: slotParam, param: 0}, {kind: slotString, text: "1.5"}, {kind: slotParam, param: 1}},
			params: 2,
		},
		{
			name:   "lock in share mode",
			in:     "SELECT a FROM t USE KEY FOR ORDER BY (k) LOCK IN SHARE MODE",
			parse:  "SELECT a FROM t USE KEY FOR ORDER BY (k) LOCK IN SHARE MODE",
			sqlite: "SELECT a FROM t",
		},
		{
			name:   "comments are dropped, question marks inside them and strings are not parameters",
			in:     "SELECT a /* ? */ FROM t # ?\n WHERE b = '?' -- ?\n AND c = ?",
			parse:  "SELECT a FROM t WHERE b = ? AND c = ?",
			sqlite: "SELECT a FROM t WHERE b = ? AND c = ?",
			slots:  []slot{{kind: slotString, text: "?"}, {kind: slotParam, param: 0}},
			params: 1,
		},
		{
			name:   "numbers and identifiers starting with digits",
			in:     "SELECT 1.5e3, .5, 0x1F, 1abc FROM t",
			parse:  "SELECT 1.5e3, .5, 0x1F, 1abc FROM t",
			sqlite: "SELECT 1.5e3, .5, 0x1F, 1abc FROM t",
		},
		{
			name:   "double dash without space is two minus signs",
			in:     "SELECT 1--1, X'4142', b'01'",
			parse:  "SELECT 1- -1, X'4142', b'01'",
			sqlite: "SELECT 1- -1, X'4142', b'01'",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := translate(tc.in)
			if err != nil {
				t.Fatalf("translate: %v", err)
			}
			if got := collapse(tr.parseText()); got != collapse(tc.parse) {
				t.Errorf("parse text\n got %q\nwant %q", got, collapse(tc.parse))
			}
			if got := collapse(tr.sqlite("")); got != collapse(tc.sqlite) {
				t.Errorf("sqlite text\n got %q\nwant %q", got, collapse(tc.sqlite))
			}
			if len(tr.slots) != len(tc.slots) {
				t.Fatalf("slots = %+v, want %+v", tr.slots, tc.slots)
			}
			for i := range tc.slots {
				if tr.slots[i] != tc.slots[i] {
					t.Errorf("slot %d = %+v, want %+v", i, tr.slots[i], tc.slots[i])
				}
			}
			if len(tr.paramSlots) != tc.params {
				t.Errorf("params = %d, want %d", len(tr.paramSlots), tc.params)
			}
		})
	}
}

// collapse normalises spaces: translate sets replaced tokens apart with spaces.
func collapse(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	for _, p := range []string{"( ", " )", " ,", ", "} {
		s = strings.ReplaceAll(s, p, strings.TrimSpace(p))
	}
	return s
}

func TestTranslateDropQualifier(t *testing.T) {
	tr, err := translate("SELECT `d1`.`t`.`a`, t.b FROM d1.t JOIN `d1`.u ON t.a = u.a WHERE d1.t.a > ?")
	if err != nil {
		t.Fatal(err)
	}
	got := collapse(tr.sqlite("d1"))
	want := `SELECT "t" . "a" ,t.b FROM t JOIN u ON t.a = u.a WHERE t.a > ?`
	if got != collapse(want) {
		t.Errorf("got  %q\nwant %q", got, collapse(want))
	}
}

func TestLexErrors(t *testing.T) {
	for _, q := range []string{"SELECT 'abc", "SELECT `abc", "SELECT /* x", `SELECT "a\`, "SELECT 'a\\"} {
		if _, err := lex(q); err == nil {
			t.Errorf("lex(%q) succeeded, want an error", q)
		}
	}
}

// FuzzTranslate checks that translation never panics and that its two outputs agree: the
// Vitess text, translated again, is unchanged and has exactly one client parameter per slot.
func FuzzTranslate(f *testing.F) {
	for _, s := range []string{
		"SELECT `a` FROM t WHERE (a,b) > (?,?) ORDER BY a LIMIT 10",
		`INSERT INTO t VALUES ('a\'b', "c", _binary'x', NOW(6), ?)`,
		"UPDATE t SET a = CURRENT_TIMESTAMP WHERE b <=> ? || c && d FOR UPDATE",
		"SELECT a FROM t FORCE INDEX FOR ORDER BY (p) -- x\n# y\n/* z */",
		"SELECT 1--1, .5, 0x, 1e, 1e+",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		tr, err := translate(q)
		if err != nil {
			return
		}
		_ = tr.sqlite("")
		_ = tr.sqlite("d")
		again, err := translate(tr.parseText())
		if err != nil {
			t.Fatalf("parse text %q of %q does not lex: %v", tr.parseText(), q, err)
		}
		if len(again.slots) != len(tr.slots) || len(again.paramSlots) != len(tr.slots) {
			t.Fatalf("parse text %q of %q has %d slots (%d parameters), want %d parameters",
				tr.parseText(), q, len(again.slots), len(again.paramSlots), len(tr.slots))
		}
		if collapse(again.parseText()) != collapse(tr.parseText()) {
			t.Fatalf("parse text is not stable: %q then %q", tr.parseText(), again.parseText())
		}
		for i, s := range tr.paramSlots {
			if tr.slots[s].kind != slotParam || tr.slots[s].param != i {
				t.Fatalf("paramSlots[%d] = %d is %+v", i, s, tr.slots[s])
			}
		}
	})
}

// mysqlQuote escapes a string the way go-sql-driver does with interpolateParams.
func mysqlQuote(v string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case 0:
			b.WriteString(`\0`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\x1a':
			b.WriteString(`\Z`)
		case '\'':
			b.WriteString(`\'`)
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

// FuzzLexString checks that any string quoted as go-sql-driver quotes it lexes back to itself.
func FuzzLexString(f *testing.F) {
	for _, s := range []string{"", "O'Brien", "a\\b", "中文😀", "\x00\n\r\x1a\"", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		q := mysqlQuote(v)
		got, n, err := lexString(q)
		if err != nil || n != len(q) || got != v {
			t.Fatalf("lexString(%q) = %q, %d, %v; want %q, %d", q, got, n, err, v, len(q))
		}
	})
}
