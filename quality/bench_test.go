package quality

import (
	"testing"
)

// populationRules are the rules of a population-register resource.
func populationRules(t testing.TB) []Rule {
	t.Helper()
	rules, err := Parse([]byte(`
rules:
  - {kind: required, field: name}
  - {kind: length, field: name, min: 1, max: 50}
  - {kind: citizen_id, field: citizen_id}
  - {kind: code_list, field: sex, list: GB/T 2261.1}
  - {kind: date_range, field: birth_date, min: 1900-01-01, max: today}
  - {kind: citizen_id_birth, field: citizen_id, with: birth_date}
  - {kind: citizen_id_sex, field: citizen_id, with: sex}
`), "population.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return rules
}

// populationRecord is a clean population record as the hub store decodes it.
func populationRecord(t testing.TB) map[string]any {
	return map[string]any{
		"citizen_id":   makeID(t, "230102", "1985-12-31", 456),
		"name":         "王秀英",
		"sex":          "2",
		"birth_date":   "1985-12-31",
		"nation":       "01",
		"address":      "黑龙江省哈尔滨市道里区安静街12号",
		"marital":      "20",
		"phone":        "13912345678",
		"_version":     int64(1763886000000000),
		"household_id": nil,
	}
}

func BenchmarkCheck(b *testing.B) {
	rules, record := populationRules(b), populationRecord(b)
	b.ReportAllocs()
	for b.Loop() {
		fixes, viols := CheckAt(record, rules, testNow)
		if fixes != nil || viols != nil {
			b.Fatal(fixes, viols)
		}
	}
}

func BenchmarkCheckFailing(b *testing.B) {
	rules, record := populationRules(b), populationRecord(b)
	record["sex"] = "1"
	record["birth_date"] = "1985-12-30"
	b.ReportAllocs()
	for b.Loop() {
		if _, viols := CheckAt(record, rules, testNow); len(viols) != 2 {
			b.Fatal(viols)
		}
	}
}
