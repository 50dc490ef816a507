package scorecard

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/tongban/tongban/catalog"
	"github.com/tongban/tongban/hub/store"
	"github.com/tongban/tongban/schemas"
)

const (
	deptA   = "112306000128140287"
	deptB   = "112306000128140362"
	resP    = "GA-HJ-001" // person, keyed by the citizen ID, daily
	resN    = "MZ-JG-001" // no subject, yearly
	resNone = "TJ-NJ-001" // never ingested, monthly
)

var t0 = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

func field(t testing.TB, name, typ string, null bool) schemas.Field {
	ty, err := schemas.ParseType(typ)
	if err != nil {
		t.Fatal(err)
	}
	return schemas.Field{Name: name, Type: ty, Nullable: null}
}

func testCatalog(t testing.TB) *catalog.Catalog {
	mk := func(code, provider, cycle string, subject catalog.Subject, fields ...schemas.Field) catalog.Resource {
		return catalog.Resource{Code: code, Name: "资源 " + code, Provider: provider, Subject: subject,
			PrimaryKey: []string{fields[0].Name}, Schema: schemas.Schema{Fields: fields}, ShareType: catalog.ShareUnconditional,
			OpenType: catalog.OpenOpen, UpdateCycle: cycle, Format: catalog.FormatTable}
	}
	return &catalog.Catalog{
		Dir:         "test",
		Departments: []catalog.Department{{Code: deptA, Name: "公安局"}, {Code: deptB, Name: "民政局"}},
		Resources: []catalog.Resource{
			mk(resP, deptA, catalog.CycleDaily, catalog.Subject{Type: catalog.SubjectPerson, Field: "id_no"},
				field(t, "id_no", "string", false), field(t, "name", "string", true), field(t, "addr", "string", true)),
			mk(resN, deptB, catalog.CycleYearly, catalog.Subject{Type: catalog.SubjectNone},
				field(t, "record_id", "int64", false), field(t, "note", "string", true)),
			mk(resNone, deptB, catalog.CycleMonthly, catalog.Subject{Type: catalog.SubjectNone},
				field(t, "record_id", "int64", false)),
		},
	}
}

type conflicts map[string]int64

func (c conflicts) CountOpenConflictsByResource(context.Context) (map[string]int64, error) {
	return c, nil
}

// spyStore records the pages the scorer reads.
type spyStore struct {
	*store.DB
	pages    atomic.Int64
	maxLimit atomic.Int64
	fail     atomic.Bool
	saves    atomic.Int64
}

func (s *spyStore) ListRecords(ctx context.Context, resource, after string, limit int, includeDeleted bool) ([]store.Record, error) {
	s.pages.Add(1)
	if int64(limit) > s.maxLimit.Load() {
		s.maxLimit.Store(int64(limit))
	}
	if includeDeleted {
		return nil, errors.New("the scorer asked for tombstones")
	}
	return s.DB.ListRecords(ctx, resource, after, limit, includeDeleted)
}

func (s *spyStore) CountRecords(ctx context.Context) ([]store.ResourceCount, error) {
	if s.fail.Load() {
		return nil, errors.New("database is down")
	}
	return s.DB.CountRecords(ctx)
}

func (s *spyStore) SaveQualityFigures(ctx context.Context, day string, figs []store.QualityFigure) error {
	s.saves.Add(1)
	return s.DB.SaveQualityFigures(ctx, day, figs)
}

func openStore(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), store.Config{Driver: store.DriverSQLite, DSN: filepath.Join(t.TempDir(), "hub.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func seed(t *testing.T, db *store.DB) {
	t.Helper()
	ctx := context.Background()
	rec := func(res, key, subject, data string, at time.Time) store.Record {
		r := store.Record{Resource: res, Key: key, Dept: deptA, Subject: subject, Version: 1, IngestedAt: at}
		if res != resP {
			r.Dept = deptB
		}
		if data == "" {
			r.Deleted = true
		} else {
			r.Data = json.RawMessage(data)
		}
		return r
	}
	if _, err := db.ApplyRecords(ctx, []store.Record{
		// k1 and k2 are the 18- and 15-digit forms of one ID: one subject.
		rec(resP, "230103198001011230", "230103198001011230", `{"id_no":"230103198001011230","name":"张三","addr":"中央大街1号"}`, t0),
		rec(resP, "230103800101123", "230103198001011230", `{"id_no":"230103800101123","name":"  ","addr":null}`, t0),
		rec(resP, "230103199001011236", "230103199001011236", `{"name":"李四"}`, t0.Add(-time.Hour)),
		rec(resP, "230103199001011244", "230103199001011244", "", t0), // tombstone: not counted
		rec(resN, "1", "", `{"record_id":1,"note":""}`, t0.AddDate(-1, -2, 0)),
		rec(resN, "2", "", `{"record_id":2,"note":"备注"}`, t0.AddDate(-1, -2, 0)),
	}); err != nil {
		t.Fatal(err)
	}
	up := func(key string, version int64, viol bool) store.QuarantineUpdate {
		u := store.QuarantineUpdate{Resource: resP, Key: key, Dept: deptA, Version: version, Data: json.RawMessage(`{"id_no":"x"}`), At: t0}
		if viol {
			u.Violations = []store.QuarantineViolation{{Field: "id_no", Rule: "citizen_id", ReasonEN: "bad", ReasonZH: "错误"},
				{Field: "name", Rule: "required", ReasonEN: "missing", ReasonZH: "缺失"}}
		}
		return u
	}
	if _, err := db.UpdateQuarantine(ctx, []store.QuarantineUpdate{up("bad1", 1, true), up("bad2", 1, true), up("bad2", 2, false)}); err != nil {
		t.Fatal(err)
	}
}

func scoreOf(t *testing.T, c Scorecard, dim string) Score {
	t.Helper()
	s, ok := c.Score(dim)
	if !ok {
		t.Fatalf("%s: no %s score in %+v", c.Resource, dim, c.Scores)
	}
	return s
}

// gaugeValue reads a gauge or counter.
func gaugeValue(t *testing.T, m prometheus.Metric) float64 {
	t.Helper()
	var out dto.Metric
	if err := m.Write(&out); err != nil {
		t.Fatal(err)
	}
	if out.Gauge != nil {
		return out.Gauge.GetValue()
	}
	return out.Counter.GetValue()
}

// countMetrics counts the series a collector has.
func countMetrics(c prometheus.Collector) int {
	ch := make(chan prometheus.Metric, 100)
	c.Collect(ch)
	close(ch)
	return len(ch)
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestCompute(t *testing.T) {
	db := openStore(t)
	seed(t, db)
	spy := &spyStore{DB: db}
	reg := prometheus.NewRegistry()
	now := t0.Add(2 * time.Hour)
	s, err := New(Config{Store: spy, Catalog: testCatalog(t), Conflicts: conflicts{resP: 1}, Registry: reg,
		Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	s.pageSize = 2
	cards, err := s.Compute(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(cards) != 3 {
		t.Fatalf("cards %+v", cards)
	}
	p, n, none := cards[0], cards[1], cards[2]
	if p.Resource != resP || p.Dept != deptA || p.Live != 3 || p.Day != "2026-03-01" {
		t.Fatalf("person card %+v", p)
	}
	// Streaming: pages of at most 2 records (3 live of P: 2 pages; 2 of N: 2 pages; none: 1).
	if spy.maxLimit.Load() != 2 || spy.pages.Load() != 5 {
		t.Fatalf("read %d pages of up to %d records", spy.pages.Load(), spy.maxLimit.Load())
	}

	cases := []struct {
		card     Scorecard
		dim      string
		num, den int64
	}{
		{p, Completeness, 5, 9}, // id_no 2/3, name 2/3 (one blank), addr 1/3 (null, missing)
		{p, Validity, 3, 4},     // bad1 has open entries; bad2 was fixed
		{p, Uniqueness, 1, 3},   // two records share one subject
		{p, Consistency, 2, 3},  // one open conflict
		{p, Timeliness, 2 * 3600, 24 * 3600},
		{n, Completeness, 3, 4},
		{n, Validity, 2, 2},
		{n, Consistency, 2, 2},
	}
	for _, c := range cases {
		sc := scoreOf(t, c.card, c.dim)
		if sc.Numerator != c.num || sc.Denominator != c.den {
			t.Errorf("%s %s = %d/%d, want %d/%d", c.card.Resource, c.dim, sc.Numerator, sc.Denominator, c.num, c.den)
		}
		if c.dim != Timeliness && !near(sc.Value, float64(c.num)/float64(c.den)) {
			t.Errorf("%s %s value %g", c.card.Resource, c.dim, sc.Value)
		}
	}
	wantFields := map[string]float64{"id_no": 2.0 / 3, "name": 2.0 / 3, "addr": 1.0 / 3}
	if len(p.Fields) != 3 {
		t.Fatalf("fields %+v", p.Fields)
	}
	for _, f := range p.Fields {
		if !near(f.Value, wantFields[f.Field]) || f.Dimension != Completeness {
			t.Errorf("field %+v, want %g", f, wantFields[f.Field])
		}
	}
	// Not applicable or not computable: absent, never faked as 1.
	for _, c := range []struct {
		card Scorecard
		dim  string
	}{{n, Uniqueness}, {none, Completeness}, {none, Validity}, {none, Uniqueness}, {none, Consistency}} {
		if sc, ok := c.card.Score(c.dim); ok {
			t.Errorf("%s has %s %+v", c.card.Resource, c.dim, sc)
		}
	}
	// Timeliness.
	if p.Overdue || scoreOf(t, p, Timeliness).Value != 1 || p.AgeSeconds != 2*3600 {
		t.Errorf("person timeliness %+v", p)
	}
	if !n.Overdue || scoreOf(t, n, Timeliness).Value != 0 {
		t.Errorf("yearly resource 14 months old not overdue: %+v", n)
	}
	if !none.Overdue || none.AgeSeconds != -1 || scoreOf(t, none, Timeliness).Numerator != -1 {
		t.Errorf("never ingested %+v", none)
	}

	// Saved figures.
	figs, err := db.QualityFigures(context.Background(), resP, "2026-03-01", "2026-03-01")
	if err != nil {
		t.Fatal(err)
	}
	if len(figs) != 5+3 {
		t.Fatalf("saved %d figures of P: %+v", len(figs), figs)
	}
	for _, f := range figs {
		if f.Dimension == Validity && (f.Numerator != 3 || f.Denominator != 4 || f.Dept != deptA || f.Field != "") {
			t.Errorf("saved validity %+v", f)
		}
	}

	// Gauges.
	gauges := []struct {
		c    prometheus.Metric
		want float64
	}{
		{s.score.WithLabelValues(resP, deptA, Validity), 0.75},
		{s.score.WithLabelValues(resP, deptA, Uniqueness), 1.0 / 3},
		{s.fieldCompl.WithLabelValues(resP, "addr"), 1.0 / 3},
		{s.overdue.WithLabelValues(resN, deptB), 1},
		{s.overdue.WithLabelValues(resP, deptA), 0},
		{s.age.WithLabelValues(resP), 2 * 3600},
		{s.quarantine.WithLabelValues(resP, "citizen_id", "id_no"), 1},
	}
	for i, g := range gauges {
		if v := gaugeValue(t, g.c); !near(v, g.want) {
			t.Errorf("gauge %d = %g, want %g", i, v, g.want)
		}
	}
	if n := countMetrics(s.age); n != 2 {
		t.Errorf("%d age gauges, want 2 (none for the resource never ingested)", n)
	}

	// Fixing the quarantined record removes its gauges on the next run, and
	// the day's figures are replaced, not added.
	if _, err := db.UpdateQuarantine(context.Background(), []store.QuarantineUpdate{{Resource: resP, Key: "bad1", Dept: deptA, Version: 2}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Compute(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := countMetrics(s.quarantine); n != 0 {
		t.Errorf("%d quarantine gauges after the fix", n)
	}
	if v := gaugeValue(t, s.score.WithLabelValues(resP, deptA, Validity)); v != 1 {
		t.Errorf("validity after the fix %g", v)
	}
	figs2, _ := db.QualityFigures(context.Background(), resP, "", "")
	if len(figs2) != len(figs) {
		t.Errorf("second computation of the day: %d figures, want %d", len(figs2), len(figs))
	}
}

func TestComputeWithoutConflicts(t *testing.T) {
	db := openStore(t)
	seed(t, db)
	s, err := New(Config{Store: db, Catalog: testCatalog(t), Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	cards, err := s.Compute(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cards {
		if _, ok := c.Score(Consistency); ok {
			t.Errorf("%s has consistency without a conflict counter", c.Resource)
		}
	}
}

func TestRunKeepsGoing(t *testing.T) {
	db := openStore(t)
	spy := &spyStore{DB: db}
	spy.fail.Store(true)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := New(Config{Store: spy, Catalog: testCatalog(t), Logger: slog.New(slog.DiscardHandler), Interval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	// Failing computations do not stop Run; once the store recovers, figures are saved.
	for i := 0; gaugeValue(t, s.computations.WithLabelValues("error")) < 3; i++ {
		time.Sleep(time.Millisecond)
		if i > 10000 {
			t.Fatal("Run stopped computing after failures")
		}
	}
	spy.fail.Store(false)
	for i := 0; spy.saves.Load() < 1; i++ {
		time.Sleep(time.Millisecond)
		if i > 10000 {
			t.Fatal("Run did not compute after the store recovered")
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func TestNewValidates(t *testing.T) {
	db := openStore(t)
	for _, cfg := range []Config{{}, {Store: db}, {Catalog: testCatalog(t)}, {Store: db, Catalog: testCatalog(t), Interval: -time.Second}} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
	reg := prometheus.NewRegistry()
	if _, err := New(Config{Store: db, Catalog: testCatalog(t), Registry: reg}); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{Store: db, Catalog: testCatalog(t), Registry: reg}); err == nil {
		t.Error("second scorer on one registry accepted (duplicate gauges)")
	}
}

func TestCycleDuration(t *testing.T) {
	for cycle, want := range map[string]time.Duration{"realtime": time.Hour, "daily": 24 * time.Hour, "weekly": 7 * 24 * time.Hour,
		"monthly": 31 * 24 * time.Hour, "quarterly": 92 * 24 * time.Hour, "yearly": 366 * 24 * time.Hour} {
		if d, ok := CycleDuration(cycle); !ok || d != want {
			t.Errorf("%s: %s %v", cycle, d, ok)
		}
	}
	if _, ok := CycleDuration("hourly"); ok {
		t.Error("unknown cycle accepted")
	}
}

func TestPresent(t *testing.T) {
	for raw, want := range map[string]bool{``: false, `null`: false, `""`: false, `" \t"`: false, `"\u3000"`: false,
		`"x"`: true, `0`: true, `false`: true, `"0"`: true} {
		if got := present(json.RawMessage(raw)); got != want {
			t.Errorf("present(%s) = %v", raw, got)
		}
	}
}

// FuzzPresent: present agrees with decoding the value.
func FuzzPresent(f *testing.F) {
	for _, s := range []string{``, `null`, `""`, `" "`, `"x"`, `0`, `[]`, `{}`, `"\u3000"`, `"\t a"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		var v any
		if json.Unmarshal([]byte(raw), &v) != nil {
			present(json.RawMessage(raw)) // must not panic
			return
		}
		want := v != nil
		if s, ok := v.(string); ok {
			want = strings.TrimSpace(s) != ""
		}
		if got := present(json.RawMessage(strings.TrimSpace(raw))); got != want {
			t.Fatalf("present(%q) = %v, want %v", raw, got, want)
		}
	})
}
