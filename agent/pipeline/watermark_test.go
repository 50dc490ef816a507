package pipeline

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"

	"github.com/tongban/tongban/connectors"
	"github.com/tongban/tongban/connectors/mysql"
	"github.com/tongban/tongban/schemas"
)

func TestCompareWatermarks(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"", "1", -1},
		{"9", "10", -1},
		{"-5", "3", -1},
		{"100", "100", 0},
		{"2026-01-02 00:00:00.000000", "2026-01-01 23:59:59.999999", 1},
		{"2026-01-02", "2026-01-02 00:00:00.000001", -1},
		{"2026-01-02 10:00:00", "2026-01-02 10:00:00.000000", 0},
		{"abc", "abd", -1},
	}
	for _, tt := range tests {
		if got := compareWatermarks(tt.a, tt.b); got != tt.want {
			t.Errorf("compare(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := compareWatermarks(tt.b, tt.a); got != -tt.want {
			t.Errorf("compare(%q, %q) = %d, want %d", tt.b, tt.a, got, -tt.want)
		}
	}
	if maxWatermark("9", "10") != "10" || maxWatermark("", "x") != "x" {
		t.Error("maxWatermark")
	}
}

func TestSinceWithOverlap(t *testing.T) {
	tests := []struct {
		w       string
		overlap time.Duration
		want    string
	}{
		{"", 5 * time.Second, ""},
		{"2026-01-02 00:00:03.500000", 5 * time.Second, "2026-01-01 23:59:58.500000"},
		{"2026-01-02", time.Second, "2026-01-01 23:59:59.000000"},
		{"2026-01-02 00:00:03.500000", 0, "2026-01-02 00:00:03.500000"},
		{"12345", 5 * time.Second, "12345"},
		{"opaque", 5 * time.Second, "opaque"},
	}
	for _, tt := range tests {
		if got := sinceWithOverlap(tt.w, tt.overlap); got != tt.want {
			t.Errorf("sinceWithOverlap(%q, %s) = %q, want %q", tt.w, tt.overlap, got, tt.want)
		}
	}
}

func FuzzCompareWatermarks(f *testing.F) {
	f.Add("2026-01-02 00:00:00.000000", "17")
	f.Add("9", "10")
	f.Fuzz(func(t *testing.T, a, b string) {
		if ab, ba := compareWatermarks(a, b), compareWatermarks(b, a); ab != -ba {
			t.Fatalf("compare(%q,%q)=%d but compare(%q,%q)=%d", a, b, ab, b, a, ba)
		}
		if m := maxWatermark(a, b); m != a && m != b {
			t.Fatalf("max(%q,%q) = %q", a, b, m)
		}
		_ = sinceWithOverlap(a, time.Second)
	})
}

// TestFindMaxWatermark runs the probe search against MariaDB through the
// built-in MySQL connector.
func TestFindMaxWatermark(t *testing.T) {
	root, err := sql.Open("mysql", "root@tcp(127.0.0.1:3306)/")
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	if err := root.Ping(); err != nil {
		t.Fatalf("MariaDB at 127.0.0.1:3306 (root, no password) is unreachable: %v", err)
	}
	name := fmt.Sprintf("tb_test_%d", rand.Uint64()%1_000_000_000_000)
	if _, err := root.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatal(err)
	}
	defer root.Exec("DROP DATABASE " + name)
	db, err := sql.Open("mysql", "root@tcp(127.0.0.1:3306)/"+name)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE w (id INT PRIMARY KEY, ts DATETIME(6) NULL, n BIGINT NULL, d DATE NULL)`); err != nil {
		t.Fatal(err)
	}
	c := mysql.New()
	defer c.Close()
	src := func(wm string) connectors.Source {
		return connectors.Source{
			Resource: "T-1", DSN: "root@tcp(127.0.0.1:3306)/" + name, Table: "w",
			Columns:    []connectors.Column{{Field: schemas.Field{Name: "id", Type: schemas.Type{Kind: schemas.Int64}}}},
			PrimaryKey: []string{"id"}, Watermark: wm, Partitions: 1, ChunkRows: 100,
		}
	}
	ctx := context.Background()
	if got, _, err := findMaxWatermark(ctx, c, src("ts")); err != nil || got != "" {
		t.Fatalf("empty table: %q, %v", got, err)
	}
	rng := rand.New(rand.NewPCG(7, 9))
	base := time.Date(2019, 3, 4, 5, 6, 7, 0, time.UTC)
	var maxTS time.Time
	var maxN int64 = -1 << 62
	for i := 1; i <= 300; i++ {
		ts := base.Add(time.Duration(rng.Int64N(int64(5 * 365 * 24 * time.Hour))))
		ts = ts.Truncate(time.Microsecond)
		n := rng.Int64N(1_000_000_000) - 500_000_000
		if ts.After(maxTS) {
			maxTS = ts
		}
		maxN = max(maxN, n)
		if _, err := db.Exec("INSERT INTO w VALUES (?, ?, ?, ?)", i, ts.Format("2006-01-02 15:04:05.000000"), n, ts.Format("2006-01-02")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec("INSERT INTO w VALUES (1000, NULL, NULL, NULL)"); err != nil {
		t.Fatal(err)
	}

	got, probes, err := findMaxWatermark(ctx, c, src("ts"))
	if err != nil {
		t.Fatal(err)
	}
	w := parseWatermark(got)
	if !w.isTS || w.t.After(maxTS) || maxTS.Sub(w.t) > time.Second {
		t.Errorf("datetime: found %q, true max %s", got, maxTS.Format(dateTimeLayout))
	}
	var exists int
	if err := db.QueryRow("SELECT COUNT(*) FROM w WHERE ts = ?", got).Scan(&exists); err != nil || exists == 0 {
		t.Errorf("datetime: %q is not a watermark of the table (%v)", got, err)
	}
	t.Logf("datetime max found with %d probes", probes)

	got, probes, err = findMaxWatermark(ctx, c, src("n"))
	if err != nil || got != strconv.FormatInt(maxN, 10) {
		t.Errorf("integer: found %q (%v), want %d", got, err, maxN)
	}
	t.Logf("integer max found with %d probes", probes)

	got, _, err = findMaxWatermark(ctx, c, src("d"))
	if err != nil || parseWatermark(got).t.Format(dateLayout) != maxTS.Format(dateLayout) {
		t.Errorf("date: found %q (%v), want %s", got, err, maxTS.Format(dateLayout))
	}
}

func TestSettles(t *testing.T) {
	seen := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	const overlap = 5 * time.Second
	tests := []struct {
		name, w string
		after   time.Duration // poll start after seen
		want    bool
	}{
		{"date-time, poll started an overlap later", "2026-12-07 09:59:58.123456", overlap, true},
		{"date-time, poll started sooner", "2026-12-07 09:59:58.123456", overlap - time.Millisecond, false},
		{"date-time without fraction", "2026-12-07 09:59:58", 2 * overlap, true},
		{"date: its day may still gain rows", "2026-12-07", time.Hour, false},
		{"integer", "1234", time.Hour, false},
		{"opaque", "v-17", time.Hour, false},
		{"none", "", time.Hour, false},
	}
	for _, tt := range tests {
		if got := settles(tt.w, seen, seen.Add(tt.after), overlap); got != tt.want {
			t.Errorf("%s: settles(%q, +%s) = %v, want %v", tt.name, tt.w, tt.after, got, tt.want)
		}
	}
}

func TestJustAfter(t *testing.T) {
	for w, want := range map[string]string{
		"2026-12-07 09:59:58.123456": "2026-12-07 09:59:58.123457",
		"2026-12-31 23:59:59.999999": "2027-01-01 00:00:00.000000",
		"2026-12-07 09:59:58":        "2026-12-07 09:59:58.000001",
	} {
		got := justAfter(w)
		if got != want || compareWatermarks(got, w) <= 0 {
			t.Errorf("justAfter(%q) = %q, want %q", w, got, want)
		}
	}
}
