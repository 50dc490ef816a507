package quality

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
)

func FuzzParse(f *testing.F) {
	f.Add([]byte(goodFile))
	f.Add([]byte("rules:\n  - {kind: length, field: name, min: 5, max: 3}\n"))
	f.Add([]byte("lists: {a: [1, 2]}\nrules:\n  - {kind: code_list, field: x, list: a}\n"))
	f.Add([]byte("rules:\n  - &r {kind: required, field: name}\n  - *r\n"))
	f.Add([]byte("rules:\n  - {kind: range, field: x, min: 1e400, max: -.5}\n"))
	f.Add([]byte("lists: {regions: [\"110101\", 232300]}\nrules:\n  - {kind: citizen_id, field: citizen_id, list: regions}\n"))
	f.Add([]byte("rules:\n  - {kind: citizen_id, field: citizen_id, codes: [\"110101\", \"11010\"]}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rules, err := Parse(data, "fuzz.yaml")
		if err != nil {
			if rules != nil {
				t.Fatal("rules returned with an error")
			}
			var p *Problem
			if !errors.As(err, &p) || !strings.Contains(err.Error(), "fuzz.yaml") {
				t.Fatalf("error is not a Problem naming the file: %v", err)
			}
			return
		}
		for i, r := range rules {
			if r.c == nil {
				t.Fatalf("rules[%d] not compiled", i)
			}
		}
		// Whatever the rules, checking any record must not panic.
		CheckAt(map[string]any{"name": "张三", "x": "1", "sex": int64(1), "citizen_id": "110101900307123", "d": 1.5}, rules, testNow)
	})
}

// FuzzCheck runs every kind of rule on arbitrary values in every JSON form.
func FuzzCheck(f *testing.F) {
	rules, err := Parse([]byte(goodFile), "rules.yaml")
	if err != nil {
		f.Fatal(err)
	}
	rules = append(rules, mustCompile(f, Rule{Kind: KindRange, Field: "age", Min: "0", Max: "150"},
		Rule{Kind: KindDateRange, Field: "start", Min: Today},
		Rule{Kind: KindCitizenID, Field: "holder_id", List: "GB/T 2260", Codes: []string{"110101", "110105", "230102", "232300"}})...)
	f.Add("110101900307123", "1990-03-07", "1", "91350100M000100Y43", "100.5", 3.5, int64(7))
	f.Add("11010519491231002x", "19491231", "男", "", "1e3", math.Inf(1), int64(-1))
	f.Add("", "", "", "", "", math.NaN(), int64(0))
	f.Add("232300197001010025", "1970-01-01", "2", "", "230699197001010021", 0.0, int64(1))
	f.Add("230699900307123", "19900307", "1", "", "110105491231002", 1.0, int64(2))
	f.Fuzz(func(t *testing.T, id, date, sex, uscc, num string, fl float64, n int64) {
		for _, record := range []map[string]any{
			{"citizen_id": id, "birth_date": date, "sex": sex, "uscc": uscc, "capital": num, "name": id, "phone": num,
				"nation": sex, "marital": sex, "age": fl, "start": date, "holder_id": id},
			{"holder_id": num, "citizen_id": sex},
			{"citizen_id": json.Number(num), "birth_date": fl, "sex": n, "uscc": n, "capital": fl, "name": nil,
				"phone": fl, "nation": n, "marital": true, "age": json.Number(num), "start": n},
			{"citizen_id": n, "birth_date": nil, "sex": fl, "capital": n, "age": num, "start": uscc},
		} {
			fixes, viols := CheckAt(record, rules, testNow)
			for _, v := range viols {
				if v.Field == "" || v.Rule == "" || v.Reason == "" || v.ReasonZH == "" {
					t.Fatalf("incomplete violation %+v", v)
				}
			}
			for _, fx := range fixes {
				if (fx.Field != "citizen_id" && fx.Field != "holder_id") || len(fx.To) != 18 {
					t.Fatalf("unexpected fix %+v", fx)
				}
			}
			// The region rule: a valid ID (after any fix) fails on its region
			// exactly when the region is not in the list.
			if h, ok := record["holder_id"].(string); ok {
				up, valid := citizenID(h, testNow)
				regionViol := false
				for _, v := range viols {
					if v.Field == "holder_id" && strings.Contains(v.Reason, "is not a GB/T 2260 code") {
						regionViol = true
					}
				}
				inList := valid && strings.Contains(" 110101 110105 230102 232300 ", " "+up[:6]+" ")
				if regionViol != (valid && !inList) {
					t.Fatalf("holder_id %q: region violation %v, valid %v, in list %v: %+v", h, regionViol, valid, inList, viols)
				}
			}
		}
	})
}
