package merge

import (
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/tongban/tongban/hub/store"
)

func TestCompute(t *testing.T) {
	cat := testCatalog()
	spec, _ := cat.SubjectSpec("person")
	const p = "110105194912310001"
	cases := []struct {
		name      string
		recs      []store.Record
		golden    map[string]string // field → goldenView line
		disagree  []string          // fields in conflict
		nValues   map[string]int    // values carried per field
		authority map[string]string // field → authority raw value in the check
	}{
		{
			name: "all agree modulo trivia",
			recs: []store.Record{
				rec(resPop, "p1", deptPop, p, 3, `{"xm":"张三","csrq":"1949-12-31","updated_at":"2026-02-01T10:00:00.000000"}`),
				rec(resCiv, "m1", deptCiv, p, 1, `{"name":"张 三","status":"married","reg_date":"2001-05-01"}`),
				rec(resSoc, "s1", deptSoc, p, 2, `{"xm":"张　三","birth":"1949年12月31日"}`),
			},
			golden: map[string]string{
				"name":           `"张三" @ DPOP/POP-1/p1 v3 upd=2026-02-01T10:00:00.000000`,
				"birth_date":     `"1949-12-31" @ DPOP/POP-1/p1 v3 upd=2026-02-01T10:00:00.000000`,
				"marital_status": `"married" @ DCIV/CIV-MAR-1/m1 v1 upd=`,
			},
			nValues: map[string]int{"name": 3, "birth_date": 2, "marital_status": 1},
		},
		{
			name: "civil affairs disagrees on the name",
			recs: []store.Record{
				rec(resPop, "p1", deptPop, p, 3, `{"xm":"张三","csrq":"1949-12-31"}`),
				rec(resCiv, "m1", deptCiv, p, 1, `{"name":"张叁","status":"married","reg_date":"2001-05-01"}`),
			},
			golden: map[string]string{
				"name":           `"张三" @ DPOP/POP-1/p1 v3 upd=`,
				"birth_date":     `"1949-12-31" @ DPOP/POP-1/p1 v3 upd=`,
				"marital_status": `"married" @ DCIV/CIV-MAR-1/m1 v1 upd=`,
			},
			disagree:  []string{"name"},
			nValues:   map[string]int{"name": 2, "birth_date": 1, "marital_status": 1},
			authority: map[string]string{"name": `"张三"`},
		},
		{
			name: "latest registration wins over a higher version",
			recs: []store.Record{
				rec(resPop, "p1", deptPop, p, 1, `{"xm":"张三"}`),
				rec(resCiv, "m1", deptCiv, p, 9, `{"name":"张三","status":"married","reg_date":"2001-05-01"}`),
				rec(resCiv, "m2", deptCiv, p, 4, `{"name":"张三","status":"divorced","reg_date":"2010-01-02"}`),
				rec(resCiv, "m3", deptCiv, p, 5, `{"name":"张三","status":"unknown"}`),
			},
			golden: map[string]string{
				"name":           `"张三" @ DPOP/POP-1/p1 v1 upd=`,
				"marital_status": `"divorced" @ DCIV/CIV-MAR-1/m2 v4 upd=`,
			},
			nValues: map[string]int{"name": 2, "birth_date": 1, "marital_status": 1},
		},
		{
			name: "no authority record: field absent, no conflict",
			recs: []store.Record{
				rec(resCiv, "m1", deptCiv, p, 1, `{"name":"李四","status":"single","reg_date":"2001-05-01"}`),
				rec(resSoc, "s1", deptSoc, p, 1, `{"xm":"王五"}`),
			},
			golden:  map[string]string{"marital_status": `"single" @ DCIV/CIV-MAR-1/m1 v1 upd=`},
			nValues: map[string]int{"name": 2, "birth_date": 1, "marital_status": 1},
		},
		{
			name: "null authority value and empty cross-check do not conflict",
			recs: []store.Record{
				rec(resPop, "p1", deptPop, p, 1, `{"xm":null,"csrq":"1949-12-31"}`),
				rec(resSoc, "s1", deptSoc, p, 1, `{"xm":"王五","birth":""}`),
			},
			golden:  map[string]string{"birth_date": `"1949-12-31" @ DPOP/POP-1/p1 v1 upd=`},
			nValues: map[string]int{"name": 2, "birth_date": 2},
		},
		{
			name: "deleted authority record is absent",
			recs: []store.Record{
				tomb(resPop, "p1", deptPop, 2),
				rec(resSoc, "s1", deptSoc, p, 1, `{"xm":"王五"}`),
			},
			golden:  map[string]string{},
			nValues: map[string]int{"name": 1, "birth_date": 1},
		},
		{
			name: "several population records: greatest version, then key",
			recs: []store.Record{
				rec(resPop, "p1", deptPop, p, 2, `{"xm":"甲"}`),
				rec(resPop, "p3", deptPop, p, 3, `{"xm":"乙"}`),
				rec(resPop, "p2", deptPop, p, 3, `{"xm":"丙"}`),
			},
			golden:  map[string]string{"name": `"乙" @ DPOP/POP-1/p3 v3 upd=`},
			nValues: map[string]int{"name": 1, "birth_date": 1},
		},
		{
			name: "decimals and dates in other layouts agree",
			recs: []store.Record{
				rec(resPop, "p1", deptPop, p, 1, `{"xm":"Li Lei","csrq":"1990-01-02"}`),
				rec(resSoc, "s1", deptSoc, p, 1, `{"xm":"LI  LEI","birth":"1990/1/2"}`),
				rec(resCiv, "m1", deptCiv, p, 1, `{"name":"ｌｉ　ｌｅｉ","status":"single"}`),
			},
			golden: map[string]string{
				"name":           `"Li Lei" @ DPOP/POP-1/p1 v1 upd=`,
				"birth_date":     `"1990-01-02" @ DPOP/POP-1/p1 v1 upd=`,
				"marital_status": `"single" @ DCIV/CIV-MAR-1/m1 v1 upd=`,
			},
			nValues: map[string]int{"name": 3, "birth_date": 2, "marital_status": 1},
		},
	}
	res := ResourceMap(cat)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Compute(Input{Spec: spec, Resources: res, SubjectID: p, Records: c.recs})
			if err != nil {
				t.Fatal(err)
			}
			if v := goldenView(got.Golden); !reflect.DeepEqual(v, c.golden) {
				t.Fatalf("golden = %v\nwant      %v", v, c.golden)
			}
			if got.Golden.Library != "population" || got.Golden.SubjectID != p || got.Golden.SubjectType != "person" {
				t.Fatalf("golden header = %+v", got.Golden)
			}
			var disagree []string
			for _, ch := range got.Checks {
				if ch.Disagree {
					disagree = append(disagree, ch.Field)
				}
				if n := len(ch.Values); n != c.nValues[ch.Field] {
					t.Errorf("field %s carries %d values, want %d: %+v", ch.Field, n, c.nValues[ch.Field], ch.Values)
				}
				if want, ok := c.authority[ch.Field]; ok && (ch.Values[0].Role != store.RoleAuthority || string(ch.Values[0].Value) != want) {
					t.Errorf("field %s: first value %+v, want the authority's %s", ch.Field, ch.Values[0], want)
				}
			}
			if !reflect.DeepEqual(disagree, c.disagree) {
				t.Fatalf("disagreeing fields %v, want %v", disagree, c.disagree)
			}
			// The outcome does not depend on the order of the records.
			r := rand.New(rand.NewPCG(1, 2))
			for range 5 {
				shuffled := append([]store.Record(nil), c.recs...)
				r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
				again, err := Compute(Input{Spec: spec, Resources: res, SubjectID: p, Records: shuffled})
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(again, got) {
					t.Fatalf("shuffled records give another outcome:\n%+v\n%+v", again, got)
				}
			}
		})
	}
	if _, err := Compute(Input{Spec: spec, Resources: res, SubjectID: p, Records: []store.Record{rec(resPop, "p1", deptPop, p, 1, `[1]`)}}); err == nil {
		t.Error("a record whose data is not an object was accepted")
	}
}

func BenchmarkCompute(b *testing.B) {
	cat := testCatalog()
	spec, _ := cat.SubjectSpec("person")
	res := ResourceMap(cat)
	const p = "110105194912310001"
	recs := []store.Record{
		rec(resPop, "p1", deptPop, p, 3, `{"xm":"张三","csrq":"1949-12-31","updated_at":"2026-02-01T10:00:00.000000","addr":"黑龙江省齐齐哈尔市龙沙区某某街道 12 号"}`),
		rec(resCiv, "m1", deptCiv, p, 1, `{"name":"张 三","status":"married","reg_date":"2001-05-01"}`),
		rec(resCiv, "m2", deptCiv, p, 2, `{"name":"张三","status":"divorced","reg_date":"2011-05-01"}`),
		rec(resSoc, "s1", deptSoc, p, 2, `{"xm":"张叁","birth":"1949年12月31日"}`),
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compute(Input{Spec: spec, Resources: res, SubjectID: p, Records: recs}); err != nil {
			b.Fatal(err)
		}
	}
}
