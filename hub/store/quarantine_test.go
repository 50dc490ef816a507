package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

const (
	qRes  = "GA-HJ-001"
	qDept = "112306000128140287"
)

var qT0 = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

func qViol(field, rule string) QuarantineViolation {
	return QuarantineViolation{Field: field, Rule: rule, ReasonEN: field + " fails " + rule, ReasonZH: field + "不符合" + rule}
}

func qUpdate(key string, version int64, deleted bool, viols ...QuarantineViolation) QuarantineUpdate {
	u := QuarantineUpdate{Resource: qRes, Key: key, Dept: qDept, Version: version, Deleted: deleted, Violations: viols,
		At: qT0.Add(time.Duration(version) * time.Minute)}
	if !deleted {
		u.Data = json.RawMessage(fmt.Sprintf(`{"id":%q,"v":%d}`, key, version))
	}
	return u
}

func listAll(t *testing.T, db *DB, f QuarantineFilter) []QuarantineEntry {
	t.Helper()
	if f.Limit == 0 {
		f.Limit = 1000
	}
	es, err := db.ListQuarantine(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// entryState is what a quarantine entry shows, without ids and times.
func entryState(es []QuarantineEntry) []string {
	var out []string
	for _, e := range es {
		out = append(out, fmt.Sprintf("%s|%s|%s|%s|v%d|%s|%s", e.Key, e.Field, e.Rule, e.Status, e.Version, e.CloseReason, e.ReasonZH))
	}
	slices.Sort(out)
	return out
}

func TestUpdateQuarantineLifecycle(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		steps := []struct {
			name         string
			up           QuarantineUpdate
			opened, clsd int
			want         []string // all entries after the step
		}{
			{"two violations open", qUpdate("k1", 1, false, qViol("id_no", "citizen_id"), qViol("sex", "code_list")), 2, 0,
				[]string{"k1|id_no|citizen_id|open|v1||id_no不符合citizen_id", "k1|sex|code_list|open|v1||sex不符合code_list"}},
			{"redelivery changes nothing", qUpdate("k1", 1, false, qViol("id_no", "citizen_id"), qViol("sex", "code_list")), 0, 0,
				[]string{"k1|id_no|citizen_id|open|v1||id_no不符合citizen_id", "k1|sex|code_list|open|v1||sex不符合code_list"}},
			{"one fixed, one refreshed", qUpdate("k1", 2, false, qViol("id_no", "citizen_id")), 0, 1,
				[]string{"k1|id_no|citizen_id|open|v2||id_no不符合citizen_id", "k1|sex|code_list|closed|v2|fixed at source|sex不符合code_list"}},
			{"older redelivery changes nothing", qUpdate("k1", 1, false, qViol("id_no", "citizen_id"), qViol("sex", "code_list")), 0, 0,
				[]string{"k1|id_no|citizen_id|open|v2||id_no不符合citizen_id", "k1|sex|code_list|closed|v2|fixed at source|sex不符合code_list"}},
			{"passing closes", qUpdate("k1", 3, false), 0, 1,
				[]string{"k1|id_no|citizen_id|closed|v3|fixed at source|id_no不符合citizen_id", "k1|sex|code_list|closed|v2|fixed at source|sex不符合code_list"}},
			{"reopen", qUpdate("k1", 4, false, qViol("sex", "code_list")), 1, 0,
				[]string{"k1|id_no|citizen_id|closed|v3|fixed at source|id_no不符合citizen_id", "k1|sex|code_list|open|v4||sex不符合code_list"}},
			{"other key", qUpdate("k2", 1, false, qViol("sex", "code_list")), 1, 0,
				[]string{"k1|id_no|citizen_id|closed|v3|fixed at source|id_no不符合citizen_id", "k1|sex|code_list|open|v4||sex不符合code_list",
					"k2|sex|code_list|open|v1||sex不符合code_list"}},
			{"tombstone closes as deleted", qUpdate("k1", 5, true), 0, 1,
				[]string{"k1|id_no|citizen_id|closed|v3|fixed at source|id_no不符合citizen_id", "k1|sex|code_list|closed|v5|deleted at source|sex不符合code_list",
					"k2|sex|code_list|open|v1||sex不符合code_list"}},
		}
		for _, st := range steps {
			res, err := db.UpdateQuarantine(ctx, []QuarantineUpdate{st.up})
			if err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			if res.Opened != st.opened || res.Closed != st.clsd {
				t.Errorf("%s: result %+v, want opened %d closed %d", st.name, res, st.opened, st.clsd)
			}
			got := entryState(listAll(t, db, QuarantineFilter{Status: QuarantineAll}))
			if !slices.Equal(got, st.want) {
				t.Fatalf("%s: entries\n%s\nwant\n%s", st.name, strings.Join(got, "\n"), strings.Join(st.want, "\n"))
			}
		}
		// Times and data of the reopened entry.
		es := listAll(t, db, QuarantineFilter{Resource: qRes, Field: "sex", Status: QuarantineClosed})
		if len(es) != 1 || es[0].Key != "k1" || !es[0].ClosedAt.Equal(qT0.Add(5*time.Minute)) || !es[0].OpenedAt.Equal(qT0.Add(4*time.Minute)) ||
			string(es[0].Data) != `{"id":"k1","v":4}` || es[0].Dept != qDept || es[0].ReasonEN != "sex fails code_list" {
			t.Fatalf("closed sex entry %+v", es)
		}
		open := listAll(t, db, QuarantineFilter{})
		if len(open) != 1 || open[0].Key != "k2" || !open[0].ClosedAt.IsZero() || !open[0].UpdatedAt.Equal(qT0.Add(time.Minute)) {
			t.Fatalf("open entries %+v", open)
		}
		n, err := db.OpenQuarantineKeys(ctx, qRes)
		if err != nil || n != 1 {
			t.Fatalf("open keys %d %v", n, err)
		}
	})
}

func TestUpdateQuarantineRedeliveryKeepsTimes(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		up := qUpdate("k1", 1, false, qViol("name", "required"))
		if _, err := db.UpdateQuarantine(ctx, []QuarantineUpdate{up}); err != nil {
			t.Fatal(err)
		}
		up.At = up.At.Add(time.Hour)
		res, err := db.UpdateQuarantine(ctx, []QuarantineUpdate{up, up})
		if err != nil || res != (QuarantineResult{}) {
			t.Fatalf("redelivery: %+v %v", res, err)
		}
		es := listAll(t, db, QuarantineFilter{})
		if len(es) != 1 || !es[0].UpdatedAt.Equal(qT0.Add(time.Minute)) {
			t.Fatalf("entries %+v", es)
		}
	})
}

// TestUpdateQuarantineOrderIndependent applies every order of a record's
// outcomes, as ingest does (passing records and tombstones also go to the
// department library), one call per update and all in one call, and expects
// the same open entries.
func TestUpdateQuarantineOrderIndependent(t *testing.T) {
	ups := []QuarantineUpdate{
		qUpdate("k", 1, false, qViol("a", "required"), qViol("b", "pattern")),
		qUpdate("k", 2, false, qViol("a", "required")),
		qUpdate("k", 3, false),
		qUpdate("k", 4, false, qViol("b", "pattern"), qViol("c", "range")),
	}
	want := []string{"k|b|pattern|open|v4||b不符合pattern", "k|c|range|open|v4||c不符合range"}
	perms := permutations(len(ups))
	eachBackend(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		for pi, perm := range perms {
			for _, single := range []bool{true, false} {
				key := fmt.Sprintf("p%d-%v", pi, single)
				var batch []QuarantineUpdate
				for _, i := range perm {
					u := ups[i]
					u.Key = key
					batch = append(batch, u)
				}
				apply := func(us []QuarantineUpdate) {
					var recs []Record
					for _, u := range us {
						if len(u.Violations) == 0 {
							recs = append(recs, Record{Resource: u.Resource, Key: u.Key, Dept: u.Dept, Version: u.Version, Deleted: u.Deleted, Data: u.Data})
						}
					}
					if _, err := db.ApplyRecords(ctx, recs); err != nil {
						t.Fatal(err)
					}
					if _, err := db.UpdateQuarantine(ctx, us); err != nil {
						t.Fatal(err)
					}
				}
				if single {
					for _, u := range batch {
						apply([]QuarantineUpdate{u})
					}
				} else {
					apply(batch)
				}
				// A full redelivery afterwards changes nothing either.
				apply(batch)
				var open []QuarantineEntry
				for _, e := range listAll(t, db, QuarantineFilter{}) {
					if e.Key == key {
						e.Key = "k"
						open = append(open, e)
					}
				}
				if got := entryState(open); !slices.Equal(got, want) {
					t.Fatalf("order %v single=%v: open %v, want %v", perm, single, got, want)
				}
			}
		}
	})
}

func permutations(n int) [][]int {
	if n == 0 {
		return [][]int{{}}
	}
	var out [][]int
	for _, p := range permutations(n - 1) {
		for i := 0; i <= len(p); i++ {
			q := append(append(append([]int{}, p[:i]...), n-1), p[i:]...)
			out = append(out, q)
		}
	}
	return out
}

func TestUpdateQuarantineBatchCounts(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		// Within one call: open, close, reopen the same entry; repeated
		// violations of one (field, rule) merge.
		res, err := db.UpdateQuarantine(ctx, []QuarantineUpdate{
			qUpdate("k", 1, false, qViol("a", "length"), QuarantineViolation{Field: "a", Rule: "length", ReasonEN: "too long", ReasonZH: "过长"}),
			qUpdate("k", 2, false),
			qUpdate("k", 3, false, qViol("a", "length")),
			qUpdate("j", 1, false, qViol("a", "length")),
		})
		if err != nil {
			t.Fatal(err)
		}
		if res.Opened != 3 || res.Closed != 1 {
			t.Fatalf("result %+v, want 3 opened, 1 closed", res)
		}
		es := listAll(t, db, QuarantineFilter{Status: QuarantineAll})
		if len(es) != 2 || es[0].Key != "k" || es[0].Version != 3 || es[1].Key != "j" {
			t.Fatalf("entries %+v", es)
		}
		// Many keys in one call cross the chunk size.
		var ups []QuarantineUpdate
		for i := range 450 {
			ups = append(ups, qUpdate(fmt.Sprintf("m%04d", i), 1, false, qViol("a", "required")))
		}
		if res, err := db.UpdateQuarantine(ctx, ups); err != nil || res.Opened != 450 {
			t.Fatalf("450 keys: %+v %v", res, err)
		}
		for i := range ups {
			ups[i] = qUpdate(ups[i].Key, 2, false)
		}
		if res, err := db.UpdateQuarantine(ctx, ups); err != nil || res.Closed != 450 || res.Opened != 0 {
			t.Fatalf("450 keys closed: %+v %v", res, err)
		}
		n, err := db.OpenQuarantineKeys(ctx, qRes)
		if err != nil || n != 2 {
			t.Fatalf("open keys %d %v", n, err)
		}
	})
}

func TestUpdateQuarantineInvalid(t *testing.T) {
	cases := []struct {
		name string
		up   QuarantineUpdate
		want string
	}{
		{"no resource", QuarantineUpdate{Key: "k", Dept: qDept}, "resource is empty"},
		{"no key", QuarantineUpdate{Resource: qRes, Dept: qDept}, "key is empty"},
		{"no dept", QuarantineUpdate{Resource: qRes, Key: "k"}, "dept is empty"},
		{"bad data", QuarantineUpdate{Resource: qRes, Key: "k", Dept: qDept, Data: json.RawMessage(`[1]`)}, "not a JSON object"},
		{"violation without field", QuarantineUpdate{Resource: qRes, Key: "k", Dept: qDept, Violations: []QuarantineViolation{{Rule: "x"}}}, "violation 0 field is empty"},
		{"violation without rule", QuarantineUpdate{Resource: qRes, Key: "k", Dept: qDept, Violations: []QuarantineViolation{{Field: "x"}}}, "violation 0 rule is empty"},
		{"tombstone with violations", QuarantineUpdate{Resource: qRes, Key: "k", Dept: qDept, Deleted: true, Violations: []QuarantineViolation{qViol("a", "b")}}, "tombstone"},
		{"time out of range", QuarantineUpdate{Resource: qRes, Key: "k", Dept: qDept, At: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}, "outside years"},
	}
	eachBackend(t, func(t *testing.T, db *DB) {
		for _, c := range cases {
			good := qUpdate("fine", 1, false, qViol("a", "required"))
			_, err := db.UpdateQuarantine(context.Background(), []QuarantineUpdate{good, c.up})
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "update 1") {
				t.Errorf("%s: err %v, want %q", c.name, err, c.want)
			}
			if es := listAll(t, db, QuarantineFilter{Status: QuarantineAll}); len(es) != 0 {
				t.Fatalf("%s: wrote %d entries before failing", c.name, len(es))
			}
		}
	})
}

func TestListAndCountQuarantine(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		other := QuarantineUpdate{Resource: "MZ-HY-001", Key: "x", Dept: "112306000128140362", Version: 1,
			Violations: []QuarantineViolation{qViol("a", "required")}}
		if _, err := db.UpdateQuarantine(ctx, []QuarantineUpdate{
			qUpdate("k1", 1, false, qViol("a", "required"), qViol("b", "pattern")),
			qUpdate("k2", 1, false, qViol("a", "required")),
			qUpdate("k3", 1, false, qViol("b", "pattern")),
			other,
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.UpdateQuarantine(ctx, []QuarantineUpdate{qUpdate("k3", 2, false)}); err != nil {
			t.Fatal(err)
		}
		keys := func(es []QuarantineEntry) string {
			var ks []string
			for _, e := range es {
				ks = append(ks, e.Key+"/"+e.Field)
			}
			return strings.Join(ks, ",")
		}
		cases := []struct {
			f    QuarantineFilter
			want string
		}{
			{QuarantineFilter{}, "k1/a,k1/b,k2/a,x/a"},
			{QuarantineFilter{Status: QuarantineClosed}, "k3/b"},
			{QuarantineFilter{Status: QuarantineAll}, "k1/a,k1/b,k2/a,k3/b,x/a"},
			{QuarantineFilter{Dept: qDept}, "k1/a,k1/b,k2/a"},
			{QuarantineFilter{Resource: "MZ-HY-001"}, "x/a"},
			{QuarantineFilter{Rule: "pattern", Status: QuarantineAll}, "k1/b,k3/b"},
			{QuarantineFilter{Field: "a", Resource: qRes}, "k1/a,k2/a"},
			{QuarantineFilter{Limit: 2}, "k1/a,k1/b"},
		}
		for _, c := range cases {
			if got := keys(listAll(t, db, c.f)); got != c.want {
				t.Errorf("filter %+v: %s, want %s", c.f, got, c.want)
			}
		}
		// Paging with After.
		var got []string
		after := int64(0)
		for range 10 {
			page := listAll(t, db, QuarantineFilter{Status: QuarantineAll, After: after, Limit: 2})
			if len(page) == 0 {
				break
			}
			got = append(got, keys(page))
			after = page[len(page)-1].ID
		}
		if strings.Join(got, ",") != "k1/a,k1/b,k2/a,k3/b,x/a" {
			t.Fatalf("paged %v", got)
		}
		for _, f := range []QuarantineFilter{{Limit: -1}, {Limit: 1001}, {Limit: 1, Status: "pending"}} {
			if _, err := db.ListQuarantine(ctx, f); err == nil {
				t.Errorf("filter %+v accepted", f)
			}
		}

		counts, err := db.CountOpenQuarantine(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := []QuarantineCount{
			{Resource: qRes, Dept: qDept, Rule: "pattern", Field: "b", Open: 1},
			{Resource: qRes, Dept: qDept, Rule: "required", Field: "a", Open: 2},
			{Resource: "MZ-HY-001", Dept: "112306000128140362", Rule: "required", Field: "a", Open: 1},
		}
		slices.SortFunc(want, func(a, b QuarantineCount) int { return strings.Compare(a.Resource+a.Rule, b.Resource+b.Rule) })
		if !slices.Equal(counts, want) {
			t.Fatalf("counts %+v\nwant %+v", counts, want)
		}
		for res, n := range map[string]int64{qRes: 2, "MZ-HY-001": 1, "NONE": 0} {
			if got, err := db.OpenQuarantineKeys(ctx, res); err != nil || got != n {
				t.Errorf("open keys of %s: %d %v, want %d", res, got, err, n)
			}
		}
	})
}

// FuzzValidateQuarantineUpdate: validation never panics, and what it accepts
// is storable: distinct (field, rule) pairs, valid UTF-8 reasons within the
// limit.
func FuzzValidateQuarantineUpdate(f *testing.F) {
	f.Add("GA-HJ-001", "k", "d", `{"a":1}`, "a", "required", "a is missing", "a缺失", "a", "required", false)
	f.Add("r", "k", "d", ``, "a", "x", "", "", "b", "y", true)
	f.Add("r", "k", "d", `[1]`, "", "x", "\xff", "", "a", "x", false)
	f.Fuzz(func(t *testing.T, res, key, dept, data, f1, r1, en, zh, f2, r2 string, deleted bool) {
		u := QuarantineUpdate{Resource: res, Key: key, Dept: dept, Version: 1, Deleted: deleted,
			Violations: []QuarantineViolation{{Field: f1, Rule: r1, ReasonEN: en, ReasonZH: zh}, {Field: f2, Rule: r2, ReasonEN: zh, ReasonZH: en}}}
		if data != "" {
			u.Data = json.RawMessage(data)
		}
		row, err := validateQuarantineUpdate(&u, qT0)
		if err != nil {
			return
		}
		if deleted {
			t.Fatal("a tombstone with violations was accepted")
		}
		seen := map[qkey]bool{}
		for _, v := range row.violations {
			k := qkey{v.Field, v.Rule}
			if seen[k] {
				t.Fatalf("violation %v twice", k)
			}
			seen[k] = true
			for _, s := range []string{v.ReasonEN, v.ReasonZH} {
				if !utf8.ValidString(s) || len(s) > maxQualityText {
					t.Fatalf("reason %q not storable", s)
				}
			}
		}
		if len(row.violations) == 0 || len(row.violations) > 2 {
			t.Fatalf("%d violations from 2", len(row.violations))
		}
	})
}

// FuzzCheckDay: an accepted day is a real calendar date in canonical form.
func FuzzCheckDay(f *testing.F) {
	for _, s := range []string{"2026-03-01", "2026-02-30", "2026-3-1", "", "9999-12-31", "0000-01-01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if checkDay("day", s) != nil {
			return
		}
		d, err := time.Parse(time.DateOnly, s)
		if err != nil || d.Format(time.DateOnly) != s {
			t.Fatalf("accepted %q (%v)", s, err)
		}
	})
}

// TestUpdateQuarantineConcurrent: concurrent callers on the same keys (two
// hub instances after a rebalance) all succeed, and the entries are opened
// exactly once in total.
func TestUpdateQuarantineConcurrent(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		var ups []QuarantineUpdate
		for i := range 50 {
			ups = append(ups, qUpdate(fmt.Sprintf("c%02d", i), 1, false, qViol("a", "required"), qViol("b", "pattern")))
		}
		const workers = 4
		results := make(chan QuarantineResult, workers)
		errs := make(chan error, workers)
		for w := range workers {
			go func() {
				batch := slices.Clone(ups)
				if w%2 == 1 {
					slices.Reverse(batch)
				}
				res, err := db.UpdateQuarantine(ctx, batch)
				results <- res
				errs <- err
			}()
		}
		opened := 0
		for range workers {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
			opened += (<-results).Opened
		}
		if opened != 100 {
			t.Fatalf("opened %d in total, want 100", opened)
		}
		if es := listAll(t, db, QuarantineFilter{}); len(es) != 100 {
			t.Fatalf("%d open entries", len(es))
		}
	})
}
