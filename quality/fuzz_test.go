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
		Rule{Kind: KindDateRange, Field: "start", Min: Today})...)
	f.Add("110101900307123", "1990-03-07", "1", "91350100M000100Y43", "100.5", 3.5, int64(7))
	f.Add("11010519491231002x", "19491231", "男", "", "1e3", math.Inf(1), int64(-1))
	f.Add("", "", "", "", "", math.NaN(), int64(0))
	f.Fuzz(func(t *testing.T, id, date, sex, uscc, num string, fl float64, n int64) {
		for _, record := range []map[string]any{
			{"citizen_id": id, "birth_date": date, "sex": sex, "uscc": uscc, "capital": num, "name": id, "phone": num,
				"nation": sex, "marital": sex, "age": fl, "start": date},
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
				if fx.Field != "citizen_id" || len(fx.To) != 18 {
					t.Fatalf("unexpected fix %+v", fx)
				}
			}
		}
	})
}
