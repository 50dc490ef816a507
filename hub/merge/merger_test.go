package merge

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/tongban/tongban/hub/store"
)

func newMerger(tb testing.TB, db *store.DB) (*Merger, *prometheus.Registry) {
	tb.Helper()
	reg := prometheus.NewRegistry()
	m, err := New(Config{Store: db, Catalog: testCatalog(), Registry: reg, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		tb.Fatal(err)
	}
	return m, reg
}

// applyAndMerge is what ingest does with a batch.
func applyAndMerge(tb testing.TB, db *store.DB, m *Merger, recs []store.Record) Stats {
	tb.Helper()
	ctx := context.Background()
	res, err := db.ApplyRecords(ctx, recs)
	if err != nil {
		tb.Fatal(err)
	}
	st, err := m.Merge(ctx, res.Subjects)
	if err != nil {
		tb.Fatal(err)
	}
	return st
}

// conflictView is a conflict without ids and times.
func conflictView(c store.Conflict) string {
	var vals []string
	for _, v := range c.Values {
		vals = append(vals, fmt.Sprintf("%s %s/%s/%s.%s v%d %s", v.Role, v.Dept, v.Resource, v.Key, v.Field, v.Version, v.Value))
	}
	return fmt.Sprintf("%s %s %s [%s] %s", c.SubjectID, c.Field, c.Status, strings.Join(vals, "; "), c.ValuesHash)
}

func activeConflicts(tb testing.TB, db *store.DB) []string {
	tb.Helper()
	var out []string
	var after int64
	for {
		page, err := db.ListConflicts(context.Background(), store.ConflictFilter{After: after, Limit: 100})
		if err != nil {
			tb.Fatal(err)
		}
		for _, c := range page {
			if c.Status != store.ConflictResolved {
				out = append(out, conflictView(c))
			}
		}
		if len(page) < 100 {
			break
		}
		after = page[len(page)-1].ID
	}
	slices.Sort(out)
	return out
}

func TestMergeSeeded(t *testing.T) {
	const (
		p1 = "11010519491231002X" // conflicting name
		p2 = "110105195001010011" // full-width variant: no conflict
		p3 = "110105195102020022" // population only
	)
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		m, reg := newMerger(t, db)
		seed := []store.Record{
			rec(resPop, "pop-1", deptPop, p1, 1, `{"sfzh":"`+p1+`","xm":"张三","csrq":"1949-12-31","updated_at":"2026-02-01T10:00:00.000000"}`),
			rec(resPop, "pop-2", deptPop, p2, 2, `{"sfzh":"`+p2+`","xm":"李四","csrq":"1950-01-01"}`),
			rec(resPop, "pop-3", deptPop, p3, 3, `{"sfzh":"`+p3+`","xm":"王五","csrq":"1951-02-02"}`),
			rec(resCiv, "mar-1", deptCiv, p1, 4, `{"sfzh":"`+p1+`","name":"张叁","status":"married","reg_date":"2001-05-01"}`),
			rec(resCiv, "mar-2", deptCiv, p2, 5, `{"sfzh":"`+p2+`","name":"李　四","status":"single","reg_date":"2003-05-01"}`),
			rec(resSoc, "soc-2", deptSoc, p2, 6, `{"xm":"李四","birth":"1950年1月1日"}`),
			rec("OTHER-1", "x", deptSoc, p1, 7, `{"xm":"无关"}`),
		}
		st := applyAndMerge(t, db, m, seed)
		if st.Subjects != 3 || st.GoldenChanged != 3 || st.ConflictsOpened != 1 || st.ConflictsResolved != 0 {
			t.Fatalf("stats %+v", st)
		}
		want := map[string]map[string]string{
			p1: {
				"name":           `"张三" @ DPOP/POP-1/pop-1 v1 upd=2026-02-01T10:00:00.000000`,
				"birth_date":     `"1949-12-31" @ DPOP/POP-1/pop-1 v1 upd=2026-02-01T10:00:00.000000`,
				"marital_status": `"married" @ DCIV/CIV-MAR-1/mar-1 v4 upd=`,
			},
			p2: {
				"name":           `"李四" @ DPOP/POP-1/pop-2 v2 upd=`,
				"birth_date":     `"1950-01-01" @ DPOP/POP-1/pop-2 v2 upd=`,
				"marital_status": `"single" @ DCIV/CIV-MAR-1/mar-2 v5 upd=`,
			},
			p3: {
				"name":       `"王五" @ DPOP/POP-1/pop-3 v3 upd=`,
				"birth_date": `"1951-02-02" @ DPOP/POP-1/pop-3 v3 upd=`,
			},
		}
		for id, fields := range want {
			g, found, err := db.GetGolden(ctx, "person", id)
			if err != nil || !found {
				t.Fatalf("golden %s: found=%v err=%v", id, found, err)
			}
			if v := goldenView(g); !reflect.DeepEqual(v, fields) {
				t.Errorf("golden %s = %v\nwant %v", id, v, fields)
			}
			if g.Library != "population" || g.Revision != 1 {
				t.Errorf("golden %s: library %q revision %d", id, g.Library, g.Revision)
			}
		}
		g1, _, _ := db.GetGolden(ctx, "person", p1)
		if got := g1.Fields["name"].Provenance.IngestedAt; !got.Equal(ingestedT0.Add(time.Second)) {
			t.Errorf("provenance ingested_at = %v", got)
		}
		conflicts := activeConflicts(t, db)
		wantConflicts := []string{p1 + ` name open [authority DPOP/POP-1/pop-1.xm v1 "张三"; cross_check DCIV/CIV-MAR-1/mar-1.name v4 "张叁"]`}
		if len(conflicts) != 1 || !strings.HasPrefix(conflicts[0], wantConflicts[0]) {
			t.Fatalf("conflicts = %q\nwant %q", conflicts, wantConflicts)
		}
		byRes, err := db.CountOpenConflictsByResource(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(byRes, map[string]int64{resPop: 1, resCiv: 1}) {
			t.Errorf("open conflicts by resource = %v", byRes)
		}
		if n := counterValue(t, m.opened.WithLabelValues("population")); n != 1 {
			t.Errorf("conflicts opened metric = %v", n)
		}
		if n := counterValue(t, m.golden.WithLabelValues("population")); n != 3 {
			t.Errorf("golden changes metric = %v", n)
		}
		if n := histogramCount(t, reg, "tongban_merge_duration_seconds"); n != 1 {
			t.Errorf("duration histogram counted %d merges, want 1", n)
		}

		// Delivering the same batch again changes nothing.
		outbox, _ := db.PendingGoldenChanges(ctx, 100)
		hist, _ := db.FieldHistory(ctx, "person", p1, "", 100)
		st = applyAndMerge(t, db, m, seed)
		if st.Subjects != 3 || st.GoldenChanged != 0 || st.FieldsChanged != 0 || st.ConflictsOpened != 0 {
			t.Fatalf("second delivery: stats %+v", st)
		}
		outbox2, _ := db.PendingGoldenChanges(ctx, 100)
		hist2, _ := db.FieldHistory(ctx, "person", p1, "", 100)
		if len(outbox2) != len(outbox) || len(outbox) != 3 || len(hist2) != len(hist) || len(hist) != 3 {
			t.Fatalf("second delivery wrote: outbox %d→%d, history %d→%d", len(outbox), len(outbox2), len(hist), len(hist2))
		}

		// Civil affairs corrects the name: the conflict resolves.
		st = applyAndMerge(t, db, m, []store.Record{rec(resCiv, "mar-1", deptCiv, p1, 8, `{"sfzh":"`+p1+`","name":"张三","status":"married","reg_date":"2001-05-01"}`)})
		if st.ConflictsResolved != 1 || st.GoldenChanged != 1 || st.FieldsChanged != 1 {
			t.Fatalf("correction: stats %+v", st)
		}
		if c := activeConflicts(t, db); len(c) != 0 {
			t.Fatalf("conflicts after correction = %q", c)
		}
	})
}

func TestMergeDeletedAuthorityClearsField(t *testing.T) {
	const p = "11010519491231002X"
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		m, _ := newMerger(t, db)
		applyAndMerge(t, db, m, []store.Record{
			rec(resPop, "pop-1", deptPop, p, 1, `{"xm":"张三","csrq":"1949-12-31"}`),
			rec(resCiv, "mar-1", deptCiv, p, 1, `{"name":"张三","status":"married","reg_date":"2001-05-01"}`),
		})
		st := applyAndMerge(t, db, m, []store.Record{tomb(resPop, "pop-1", deptPop, 2)})
		if st.GoldenChanged != 1 || st.FieldsChanged != 2 {
			t.Fatalf("stats %+v", st)
		}
		g, found, err := db.GetGolden(ctx, "person", p)
		if err != nil || !found {
			t.Fatalf("golden: %v %v", found, err)
		}
		if v := goldenView(g); !reflect.DeepEqual(v, map[string]string{"marital_status": `"married" @ DCIV/CIV-MAR-1/mar-1 v1 upd=`}) {
			t.Fatalf("golden after delete = %v", v)
		}
		hist, err := db.FieldHistory(ctx, "person", p, "name", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(hist) != 2 || !hist[0].Cleared || hist[1].Cleared || string(hist[1].Value) != `"张三"` || hist[1].Provenance.Key != "pop-1" {
			t.Fatalf("name history = %+v", hist)
		}
		// Deleting the last source leaves no golden record; the outbox says so.
		applyAndMerge(t, db, m, []store.Record{tomb(resCiv, "mar-1", deptCiv, 2)})
		if _, found, _ := db.GetGolden(ctx, "person", p); found {
			t.Fatal("golden record still found after every source was deleted")
		}
		out, err := db.PendingGoldenChanges(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		// Three changes; each row carries the record as it is now: none.
		if len(out) != 3 || out[0].Payload != nil || out[1].Payload != nil || out[2].Payload != nil {
			t.Fatalf("outbox = %+v", out)
		}
	})
}

// propertyRecords is a history of source records about a few subjects:
// several versions per key, a record moving to another subject, deletions
// and a resurrection, values agreeing, differing and differing in trivia.
func propertyRecords(r *rand.Rand, subjects int) []store.Record {
	names := []string{"张三", "张 三", "张叁", "ＺＨＡＮＧ", "zhang", "李四"}
	dates := []string{"1990-01-02", "1990/1/2", "19900102", "1991-01-02"}
	var out []store.Record
	version := int64(0)
	next := func() int64 { version++; return version }
	for i := range subjects {
		id := fmt.Sprintf("S%04d", i)
		other := fmt.Sprintf("S%04d", (i+1)%subjects)
		for k := range 1 + r.IntN(2) {
			key := fmt.Sprintf("pop-%d-%d", i, k)
			for range 1 + r.IntN(3) {
				out = append(out, rec(resPop, key, deptPop, id, next(),
					fmt.Sprintf(`{"xm":%q,"csrq":%q}`, names[r.IntN(len(names))], dates[r.IntN(len(dates))])))
			}
			if r.IntN(4) == 0 {
				out = append(out, tomb(resPop, key, deptPop, next()))
			}
			if r.IntN(6) == 0 {
				out = append(out, rec(resPop, key, deptPop, id, next(), `{"xm":"复活","csrq":"2000-01-01"}`))
			}
		}
		for k := range r.IntN(3) {
			key := fmt.Sprintf("mar-%d-%d", i, k)
			subj := id
			for range 1 + r.IntN(2) {
				if r.IntN(5) == 0 {
					subj = other // a correction moves the record to another person
				}
				out = append(out, rec(resCiv, key, deptCiv, subj, next(),
					fmt.Sprintf(`{"name":%q,"status":%q,"reg_date":"20%02d-01-01"}`, names[r.IntN(len(names))], []string{"married", "single"}[r.IntN(2)], r.IntN(20))))
			}
			if r.IntN(5) == 0 {
				out = append(out, tomb(resCiv, key, deptCiv, next()))
			}
		}
		if r.IntN(2) == 0 {
			out = append(out, rec(resSoc, fmt.Sprintf("soc-%d", i), deptSoc, id, next(),
				fmt.Sprintf(`{"xm":%q,"birth":%q}`, names[r.IntN(len(names))], dates[r.IntN(len(dates))])))
		}
	}
	return out
}

func snapshot(t *testing.T, db *store.DB, subjects int) (map[string]map[string]string, []string) {
	t.Helper()
	golden := map[string]map[string]string{}
	for i := range subjects {
		id := fmt.Sprintf("S%04d", i)
		g, found, err := db.GetGolden(context.Background(), "person", id)
		if err != nil {
			t.Fatal(err)
		}
		if found {
			golden[id] = goldenView(g)
		}
	}
	return golden, activeConflicts(t, db)
}

// TestMergeOrderIndependent: the same records in random order, every batch
// delivered twice, give the golden records and conflicts of the in-order run.
func TestMergeOrderIndependent(t *testing.T) {
	const subjects = 12
	recs := propertyRecords(rand.New(rand.NewPCG(7, 11)), subjects)
	batches := func(recs []store.Record, r *rand.Rand) [][]store.Record {
		var out [][]store.Record
		for len(recs) > 0 {
			n := min(len(recs), 1+r.IntN(6))
			out = append(out, recs[:n])
			recs = recs[n:]
		}
		return out
	}
	for _, driver := range []string{store.DriverSQLite, store.DriverMySQL} {
		t.Run(driver, func(t *testing.T) {
			runs := 5
			if driver == store.DriverMySQL {
				runs = 3
			}
			db := openStore(t, driver)
			m, _ := newMerger(t, db)
			for _, b := range batches(recs, rand.New(rand.NewPCG(1, 1))) {
				applyAndMerge(t, db, m, b)
			}
			wantGolden, wantConflicts := snapshot(t, db, subjects)
			if len(wantGolden) < subjects/2 || len(wantConflicts) == 0 {
				t.Fatalf("weak fixture: %d golden records, %d conflicts", len(wantGolden), len(wantConflicts))
			}
			for run := range runs {
				r := rand.New(rand.NewPCG(uint64(run), 99))
				shuffled := slices.Clone(recs)
				r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
				db := openStore(t, driver)
				m, _ := newMerger(t, db)
				for _, b := range batches(shuffled, r) {
					applyAndMerge(t, db, m, b)
					applyAndMerge(t, db, m, b)
				}
				gotGolden, gotConflicts := snapshot(t, db, subjects)
				if !reflect.DeepEqual(gotGolden, wantGolden) {
					t.Fatalf("run %d: golden records differ:\n got %v\nwant %v", run, gotGolden, wantGolden)
				}
				if !reflect.DeepEqual(gotConflicts, wantConflicts) {
					t.Fatalf("run %d: conflicts differ:\n got %q\nwant %q", run, gotConflicts, wantConflicts)
				}
			}
		})
	}
}

func TestMergeIgnoresUnknown(t *testing.T) {
	db := openStore(t, store.DriverSQLite)
	m, _ := newMerger(t, db)
	st, err := m.Merge(context.Background(), []store.SubjectRef{{Resource: "OTHER-1", Subject: "x"}, {Resource: "NOPE", Subject: "y"}, {Resource: resPop, Subject: ""}})
	if err != nil || st != (Stats{}) {
		t.Fatalf("Merge = %+v, %v", st, err)
	}
	if _, err := New(Config{Catalog: testCatalog()}); err == nil {
		t.Error("New without a store succeeded")
	}
}

func BenchmarkMerge(b *testing.B) {
	const n = 1000
	ctx := context.Background()
	db := openStore(b, store.DriverSQLite)
	m, _ := newMerger(b, db)
	var recs []store.Record
	var refs []store.SubjectRef
	for i := range n {
		id := fmt.Sprintf("S%06d", i)
		recs = append(recs,
			rec(resPop, "pop-"+id, deptPop, id, 1, `{"xm":"张三","csrq":"1990-01-02"}`),
			rec(resCiv, "mar-"+id, deptCiv, id, 1, `{"name":"张叁","status":"married","reg_date":"2001-05-01"}`),
			rec(resSoc, "soc-"+id, deptSoc, id, 1, `{"xm":"张三","birth":"1990/1/2"}`))
		refs = append(refs, store.SubjectRef{Resource: resPop, Subject: id})
	}
	if _, err := db.ApplyRecords(ctx, recs); err != nil {
		b.Fatal(err)
	}
	if _, err := m.Merge(ctx, refs); err != nil {
		b.Fatal(err)
	}
	b.Run("unchanged", func(b *testing.B) {
		for b.Loop() {
			if _, err := m.Merge(ctx, refs); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("new", func(b *testing.B) {
		// What a snapshot does: every subject is seen for the first time.
		round := 0
		for b.Loop() {
			b.StopTimer()
			round++
			var fresh []store.Record
			var freshRefs []store.SubjectRef
			for i := range n {
				id := fmt.Sprintf("N%03d%06d", round, i)
				fresh = append(fresh,
					rec(resPop, "pop-"+id, deptPop, id, 1, `{"xm":"张三","csrq":"1990-01-02"}`),
					rec(resCiv, "mar-"+id, deptCiv, id, 1, `{"name":"张三","status":"married","reg_date":"2001-05-01"}`))
				freshRefs = append(freshRefs, store.SubjectRef{Resource: resPop, Subject: id})
			}
			if _, err := db.ApplyRecords(ctx, fresh); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			if _, err := m.Merge(ctx, freshRefs); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("changed", func(b *testing.B) {
		version := int64(1)
		for b.Loop() {
			b.StopTimer()
			version++
			upd := make([]store.Record, 0, n)
			for i := range n {
				id := fmt.Sprintf("S%06d", i)
				upd = append(upd, rec(resPop, "pop-"+id, deptPop, id, version, fmt.Sprintf(`{"xm":"张三%d","csrq":"1990-01-02"}`, version)))
			}
			if _, err := db.ApplyRecords(ctx, upd); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			if _, err := m.Merge(ctx, refs); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func counterValue(tb testing.TB, c prometheus.Counter) float64 {
	tb.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		tb.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

func histogramCount(tb testing.TB, reg *prometheus.Registry, name string) uint64 {
	tb.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		tb.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetHistogram().GetSampleCount()
		}
	}
	return 0
}

// A newer version of a source record, merged after an older one, replaces
// the golden value: the merge computes from what the store holds.
func TestMergeAfterANewerVersion(t *testing.T) {
	const p = "11010519491231002X"
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		m, err := New(Config{Store: db, Catalog: testCatalog(), Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range []store.Record{rec(resPop, "pop-1", deptPop, p, 1, `{"xm":"张三"}`), rec(resPop, "pop-1", deptPop, p, 2, `{"xm":"张三丰"}`)} {
			res, err := db.ApplyRecords(ctx, []store.Record{r})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := m.Merge(ctx, res.Subjects); err != nil {
				t.Fatal(err)
			}
		}
		if g, _, _ := db.GetGolden(ctx, "person", p); string(g.Fields["name"].Value) != `"张三丰"` {
			t.Fatalf("golden name = %s after the merge of version 2", g.Fields["name"].Value)
		}
	})
}
