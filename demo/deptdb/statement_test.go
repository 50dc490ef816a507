package deptdb

import (
	"errors"
	"sort"
	"strings"
	"testing"

	"github.com/dolthub/vitess/go/mysql"
	"github.com/dolthub/vitess/go/vt/sqlparser"
)

func TestCreateTableSQL(t *testing.T) {
	q := "CREATE TABLE IF NOT EXISTS `person` (`id` VARCHAR(18) NOT NULL, `seq` BIGINT NOT NULL, " +
		"`amt` DECIMAL(12,2) DEFAULT '0', `flag` BOOL DEFAULT TRUE, `born` DATE, " +
		"`updated_at` DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6), " +
		"`code` CHAR(2) UNIQUE, PRIMARY KEY (`id`, `seq`), KEY `k_born` (`born`)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT 'x'"
	ast, err := sqlparser.Parse(q)
	if err != nil {
		t.Fatal(err)
	}
	stmts, err := createTableSQL(ast.(*sqlparser.DDL))
	if err != nil {
		t.Fatal(err)
	}
	if len(stmts) != 4 {
		t.Fatalf("got %d statements, want table, 2 indexes, 1 trigger:\n%s", len(stmts), strings.Join(stmts, "\n"))
	}
	for _, want := range []string{
		`CREATE TABLE IF NOT EXISTS "person" (`,
		`"id" TEXT NN PK VARCHAR(18) NOT NULL`,
		`"seq" INTEGER NN PK BIGINT NOT NULL CHECK (typeof("seq") IN ('integer','null'))`,
		`"amt" TEXT DECIMAL(12,2) COLLATE DECIMAL DEFAULT '0.00'`,
		`"flag" INTEGER TINYINT(1) DEFAULT 1`,
		`"updated_at" TEXT NN DATETIME(6) NOT NULL DEFAULT (substr(strftime('%Y-%m-%d %H:%M:%f','now','localtime'),1,23) || '000')`,
		`PRIMARY KEY ("id", "seq")) WITHOUT ROWID`,
	} {
		if !strings.Contains(stmts[0], want) {
			t.Errorf("CREATE TABLE lacks %s:\n%s", want, stmts[0])
		}
	}
	if want := `CREATE UNIQUE INDEX IF NOT EXISTS "person.code" ON "person" ("code")`; stmts[1] != want {
		t.Errorf("index = %s, want %s", stmts[1], want)
	}
	if want := `CREATE INDEX IF NOT EXISTS "person.k_born" ON "person" ("born")`; stmts[2] != want {
		t.Errorf("index = %s, want %s", stmts[2], want)
	}
	if !strings.Contains(stmts[3], `AFTER UPDATE ON "person"`) || !strings.Contains(stmts[3], `WHERE "id" = NEW."id" AND "seq" = NEW."seq"`) {
		t.Errorf("trigger = %s", stmts[3])
	}
}

func TestCreateTableUnsupported(t *testing.T) {
	for _, q := range []string{
		"CREATE TABLE t (id BIGINT AUTO_INCREMENT PRIMARY KEY)",
		"CREATE TABLE t (e ENUM('a','b'))",
		"CREATE TABLE t (g GEOMETRY)",
		"CREATE TABLE t (a INT, FOREIGN KEY (a) REFERENCES u (a))",
		"CREATE TABLE t (a INT, FULLTEXT KEY (a))",
		"CREATE TABLE t (a INT DEFAULT (a + 1))",
		"CREATE TEMPORARY TABLE t (a INT)",
		"CREATE TABLE t LIKE u",
	} {
		ast, err := sqlparser.Parse(q)
		if err != nil {
			continue // the parser already refuses it: also an error for the client
		}
		d, ok := ast.(*sqlparser.DDL)
		if !ok {
			continue
		}
		_, err = createTableSQL(d)
		var me *mysql.SQLError
		if !errors.As(err, &me) || me.Num != mysql.ERNotSupportedYet {
			t.Errorf("%s: error %v, want ER_NOT_SUPPORTED_YET", q, err)
		}
	}
}

func TestAnalyseTargets(t *testing.T) {
	tests := []struct {
		q     string
		want  map[int]string // slot → column (with "!" when stored)
		scope string         // database the statement runs in with current database "cur"
	}{
		{"SELECT a FROM t WHERE (a, b) > (?, ?) AND c >= ? ORDER BY a LIMIT 10",
			map[int]string{0: "a", 1: "b", 2: "c"}, "cur"},
		{"SELECT a FROM t WHERE ts BETWEEN ? AND '2024-01-01' OR d IN (?, NOW())",
			map[int]string{0: "ts", 1: "ts", 2: "d", 3: "d"}, "cur"},
		{"UPDATE other.t SET a = ?, b = b + 1, c = 'x' WHERE id = ?",
			map[int]string{0: "a!", 1: "c!", 2: "id"}, "other"},
		{"DELETE FROM t WHERE ? = t.k",
			map[int]string{0: "k"}, "cur"},
		{"SELECT 1", map[int]string{}, ""},
		{"SELECT a FROM t WHERE d >= CAST(? AS DECIMAL(12,2)) AND (d, e) > (CAST(? AS DECIMAL(12,2)), ?)",
			map[int]string{0: "d", 1: "d", 2: "e"}, "cur"},
	}
	for _, tc := range tests {
		st, err := analyse(tc.q)
		if err != nil {
			t.Fatalf("%s: %v", tc.q, err)
		}
		got := map[int]string{}
		for slot, tg := range st.targets {
			got[slot] = tg.col.Name.String()
			if tg.store {
				got[slot] += "!"
			}
		}
		if !sameMap(got, tc.want) {
			t.Errorf("%s: targets %v, want %v", tc.q, got, tc.want)
		}
		sc, err := scopeOf(st, "cur")
		if err != nil {
			t.Fatalf("%s: scope: %v", tc.q, err)
		}
		if sc.db != tc.scope {
			t.Errorf("%s: runs in %q, want %q", tc.q, sc.db, tc.scope)
		}
	}
}

func sameMap(a, b map[int]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestScopeErrors(t *testing.T) {
	for _, q := range []string{
		"SELECT * FROM a.t JOIN b.u",
		"SELECT * FROM information_schema.COLUMNS JOIN t",
		"SELECT * FROM d1.t JOIN u",
		"SELECT * FROM d1.t AS d1",
	} {
		st, err := analyse(q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if _, err := scopeOf(st, "cur"); err == nil {
			t.Errorf("%s: no error", q)
		}
	}
}

// FuzzAnalyse checks that analysing any statement returns a statement or an error, never a
// panic, and that the targets only name slots that exist.
func FuzzAnalyse(f *testing.F) {
	for _, s := range []string{
		"SELECT `a` FROM t WHERE (a,b) > (?,?) ORDER BY a LIMIT 10",
		"INSERT INTO t (a, b) VALUES (?, 'x'), (1, NULL) ON DUPLICATE KEY UPDATE b = VALUES(b)",
		"UPDATE d.t SET a = NOW() WHERE b IN (?, ?)",
		"CREATE TABLE t (a INT PRIMARY KEY, b DECIMAL(5,2) DEFAULT '1.5') ENGINE=InnoDB",
		"SET NAMES utf8mb4", "SELECT @@version", "START TRANSACTION WITH CONSISTENT SNAPSHOT",
		"SELECT * FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ?",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		st, err := analyse(q)
		if err != nil {
			var me *mysql.SQLError
			if !errors.As(err, &me) {
				t.Fatalf("analyse(%q): %v is not a MySQL error", q, err)
			}
			return
		}
		if st.tr != nil {
			keys := make([]int, 0, len(st.targets))
			for k := range st.targets {
				keys = append(keys, k)
			}
			sort.Ints(keys)
			for _, k := range keys {
				if k < 0 || k >= len(st.tr.slots) {
					t.Fatalf("analyse(%q): target slot %d of %d", q, k, len(st.tr.slots))
				}
			}
		}
		if d, ok := st.ast.(*sqlparser.DDL); ok && d.TableSpec != nil {
			_, _ = createTableSQL(d)
		}
		_, _ = scopeOf(st, "cur")
	})
}
