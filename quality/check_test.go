package quality

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tongban/tongban/identifier"
)

// now is the reference time of the tests (CheckAt), so "today" is fixed.
var testNow = time.Date(2026, 11, 23, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))

func mustCompile(t testing.TB, rules ...Rule) []Rule {
	t.Helper()
	out, err := Compile(rules)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return out
}

// makeID builds a valid ID with the identifier package.
func makeID(t testing.TB, region, birth string, seq int) string {
	t.Helper()
	b, err := time.Parse(time.DateOnly, birth)
	if err != nil {
		t.Fatal(err)
	}
	id, err := identifier.FormatCitizenID(region, b, seq)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// want is an expected violation: field, rule and a fragment of each reason.
type want struct {
	field, rule, reason, reasonZH string
}

func TestCheck(t *testing.T) {
	male := makeID(t, "110101", "1990-03-07", 123)   // odd sequence: male
	female := makeID(t, "230102", "1985-12-31", 456) // even sequence: female
	legacy := "110101900307123"                      // the 15-digit form of male
	badCheck := male[:17] + string("0123456789X"[(strings.IndexByte("0123456789X", male[17])+1)%11])
	futureBirth := makeID(t, "110101", "2026-11-24", 1)
	const uscc = "91350100M000100Y43"

	tests := []struct {
		name   string
		rules  []Rule
		record map[string]any
		fixes  []string // To of each fix
		want   []want
	}{
		// required
		{"required present", []Rule{{Kind: KindRequired, Field: "name"}}, map[string]any{"name": "张三"}, nil, nil},
		{"required zero number", []Rule{{Kind: KindRequired, Field: "n"}}, map[string]any{"n": int64(0)}, nil, nil},
		{"required missing", []Rule{{Kind: KindRequired, Field: "name"}}, map[string]any{},
			nil, []want{{"name", KindRequired, "missing", "缺失"}}},
		{"required null", []Rule{{Kind: KindRequired, Field: "name"}}, map[string]any{"name": nil},
			nil, []want{{"name", KindRequired, "null", "空值"}}},
		{"required blank", []Rule{{Kind: KindRequired, Field: "name"}}, map[string]any{"name": " \u3000"},
			nil, []want{{"name", KindRequired, "blank", "空白"}}},
		// length, in characters
		{"length ok in characters", []Rule{{Kind: KindLength, Field: "name", Min: "2", Max: "4"}}, map[string]any{"name": "欧阳娜娜"}, nil, nil},
		{"length too long", []Rule{{Kind: KindLength, Field: "name", Max: "4"}}, map[string]any{"name": "欧阳娜娜娜"},
			nil, []want{{"name", KindLength, "5 characters, more than the maximum 4", "超过最大长度4"}}},
		{"length too short", []Rule{{Kind: KindLength, Field: "name", Min: "2"}}, map[string]any{"name": "张"},
			nil, []want{{"name", KindLength, "1 characters, fewer than the minimum 2", "少于最小长度2"}}},
		{"length skips null", []Rule{{Kind: KindLength, Field: "name", Min: "2"}}, map[string]any{"name": nil}, nil, nil},
		// pattern, whole value
		{"pattern ok", []Rule{{Kind: KindPattern, Field: "phone", Pattern: `1[3-9][0-9]{9}`}}, map[string]any{"phone": "13912345678"}, nil, nil},
		{"pattern anchored", []Rule{{Kind: KindPattern, Field: "phone", Pattern: `1[3-9][0-9]{9}`}}, map[string]any{"phone": "139123456789"},
			nil, []want{{"phone", KindPattern, "does not match the pattern", "不符合格式要求"}}},
		{"pattern on number", []Rule{{Kind: KindPattern, Field: "zip", Pattern: `[0-9]{6}`}}, map[string]any{"zip": json.Number("150001")}, nil, nil},
		// code lists
		{"code list by name", []Rule{{Kind: KindCodeList, Field: "sex", List: "GB/T 2261.1"}}, map[string]any{"sex": "9"}, nil, nil},
		{"code list by name int", []Rule{{Kind: KindCodeList, Field: "sex", List: "GB/T 2261.1"}}, map[string]any{"sex": int64(2)}, nil, nil},
		{"code list by name bad", []Rule{{Kind: KindCodeList, Field: "sex", List: "GB/T 2261.1"}}, map[string]any{"sex": "3"},
			nil, []want{{"sex", KindCodeList, `code "3" is not in GB/T 2261.1`, "不在代码表GB/T 2261.1中"}}},
		{"code list inline", []Rule{{Kind: KindCodeList, Field: "m", Codes: []string{"10", "20"}}}, map[string]any{"m": "10"}, nil, nil},
		{"code list inline bad", []Rule{{Kind: KindCodeList, Field: "m", Codes: []string{"10", "20"}}}, map[string]any{"m": "1"},
			nil, []want{{"m", KindCodeList, `code "1" is not in [10 20]`, "不在代码表"}}},
		{"marital list", []Rule{{Kind: KindCodeList, Field: "m", List: "GB/T 2261.2"}}, map[string]any{"m": "11"},
			nil, []want{{"m", KindCodeList, "not in GB/T 2261.2", "代码表GB/T 2261.2"}}},
		// numeric range, exact
		{"range decimal ok", []Rule{{Kind: KindRange, Field: "cap", Min: "0", Max: "100.10"}}, map[string]any{"cap": "100.10"}, nil, nil},
		{"range decimal over by a cent", []Rule{{Kind: KindRange, Field: "cap", Max: "100.10"}}, map[string]any{"cap": "100.11"},
			nil, []want{{"cap", KindRange, "100.11 is more than the maximum 100.10", "大于最大值100.10"}}},
		{"range beyond float precision", []Rule{{Kind: KindRange, Field: "cap", Max: "12345678901234567890.12"}},
			map[string]any{"cap": "12345678901234567890.13"}, nil, []want{{"cap", KindRange, "more than the maximum", "大于最大值"}}},
		{"range float 0.1 at max 0.1", []Rule{{Kind: KindRange, Field: "r", Max: "0.1"}}, map[string]any{"r": 0.1}, nil, nil},
		{"range float under min", []Rule{{Kind: KindRange, Field: "r", Min: "0"}}, map[string]any{"r": -0.5},
			nil, []want{{"r", KindRange, "-0.5 is less than the minimum 0", "小于最小值0"}}},
		{"range int64", []Rule{{Kind: KindRange, Field: "age", Min: "0", Max: "150"}}, map[string]any{"age": int64(151)},
			nil, []want{{"age", KindRange, "151 is more than the maximum 150", "大于最大值150"}}},
		{"range json number exponent", []Rule{{Kind: KindRange, Field: "x", Max: "1e3"}}, map[string]any{"x": json.Number("1.5e2")}, nil, nil},
		{"range NaN", []Rule{{Kind: KindRange, Field: "x", Max: "1"}}, map[string]any{"x": math.NaN()},
			nil, []want{{"x", KindRange, "not a finite number", "有限数值"}}},
		{"range text", []Rule{{Kind: KindRange, Field: "x", Max: "1"}}, map[string]any{"x": "1/2"},
			nil, []want{{"x", KindRange, "not a decimal number", "不是有效的数值"}}},
		{"range huge exponent", []Rule{{Kind: KindRange, Field: "x", Max: "1"}}, map[string]any{"x": "1e999999999"},
			nil, []want{{"x", KindRange, "not a decimal number", "数值"}}},
		// date range
		{"date range ok", []Rule{{Kind: KindDateRange, Field: "d", Min: "1900-01-01", Max: Today}}, map[string]any{"d": "2026-11-23"}, nil, nil},
		{"date range future", []Rule{{Kind: KindDateRange, Field: "d", Max: Today}}, map[string]any{"d": "2026-11-24"},
			nil, []want{{"d", KindDateRange, "2026-11-24 is after the latest allowed date 2026-11-23", "晚于最晚允许日期2026-11-23"}}},
		{"date range too early", []Rule{{Kind: KindDateRange, Field: "d", Min: "1900-01-01"}}, map[string]any{"d": "1899-12-31T23:59:59.000000"},
			nil, []want{{"d", KindDateRange, "before the earliest allowed date 1900-01-01", "早于最早允许日期"}}},
		{"date range not a date", []Rule{{Kind: KindDateRange, Field: "d", Min: "1900-01-01"}}, map[string]any{"d": "2026-02-30"},
			nil, []want{{"d", KindDateRange, "not a date", "不是有效日期"}}},
		// citizen ID
		{"citizen id ok", []Rule{{Kind: KindCitizenID, Field: "id"}}, map[string]any{"id": male}, nil, nil},
		{"citizen id legacy upgraded", []Rule{{Kind: KindCitizenID, Field: "id"}}, map[string]any{"id": legacy}, []string{male}, nil},
		{"citizen id lower x", []Rule{{Kind: KindCitizenID, Field: "id"}}, map[string]any{"id": "11010519491231002x"}, []string{"11010519491231002X"}, nil},
		{"citizen id check digit", []Rule{{Kind: KindCitizenID, Field: "id"}}, map[string]any{"id": badCheck},
			nil, []want{{"id", KindCitizenID, "not a valid citizen ID: check character", "不是有效的公民身份号码：校验码"}}},
		{"citizen id future birth", []Rule{{Kind: KindCitizenID, Field: "id"}}, map[string]any{"id": futureBirth},
			nil, []want{{"id", KindCitizenID, "not a valid citizen ID", "公民身份号码"}}},
		{"citizen id impossible legacy", []Rule{{Kind: KindCitizenID, Field: "id"}}, map[string]any{"id": "110101901307123"},
			nil, []want{{"id", KindCitizenID, "cannot be upgraded", "无法升位"}}},
		{"citizen id wrong length", []Rule{{Kind: KindCitizenID, Field: "id"}}, map[string]any{"id": "12345"},
			nil, []want{{"id", KindCitizenID, "must be 18 characters", "应为18位"}}},
		// citizen ID with a region list (the region is the first six characters)
		{"region in inline list", []Rule{{Kind: KindCitizenID, Field: "id", Codes: []string{"230102", "110101"}}}, map[string]any{"id": male}, nil, nil},
		{"region not in inline list", []Rule{{Kind: KindCitizenID, Field: "id", Codes: []string{"230102"}}}, map[string]any{"id": male},
			nil, []want{{"id", KindCitizenID, "region code 110101 is not in the allowed regions [230102]", "行政区划代码 110101 不在允许的区划代码 [230102] 中"}}},
		{"region not in named list", []Rule{{Kind: KindCitizenID, Field: "id", List: "GB/T 2260", Codes: []string{"230102", "230600"}}},
			map[string]any{"id": makeID(t, "230699", "1990-03-07", 123)},
			nil, []want{{"id", KindCitizenID, "region code 230699 is not a GB/T 2260 code", "行政区划代码 230699 不在 GB/T 2260 中"}}},
		{"region of legacy id in list", []Rule{{Kind: KindCitizenID, Field: "id", List: "GB/T 2260", Codes: []string{"110101"}}},
			map[string]any{"id": legacy}, []string{male}, nil},
		{"region of legacy id not in list: upgraded and failed", []Rule{{Kind: KindCitizenID, Field: "id", List: "GB/T 2260", Codes: []string{"230102"}}},
			map[string]any{"id": legacy}, []string{male},
			[]want{{"id", KindCitizenID, "region code 110101 is not a GB/T 2260 code", "行政区划代码 110101 不在 GB/T 2260 中"}}},
		{"region with lower x", []Rule{{Kind: KindCitizenID, Field: "id", Codes: []string{"110105"}}},
			map[string]any{"id": "11010519491231002x"}, []string{"11010519491231002X"}, nil},
		{"region not checked on invalid id", []Rule{{Kind: KindCitizenID, Field: "id", Codes: []string{"230102"}}}, map[string]any{"id": badCheck},
			nil, []want{{"id", KindCitizenID, "not a valid citizen ID: check character", "校验码"}}},
		{"region list keeps retired codes", []Rule{{Kind: KindCitizenID, Field: "id", List: "GB/T 2260", Codes: []string{"232300", "231200"}}},
			map[string]any{"id": makeID(t, "232300", "1970-01-01", 2)}, nil, nil},
		{"no region list: any county of a province", []Rule{{Kind: KindCitizenID, Field: "id"}}, map[string]any{"id": makeID(t, "230699", "1990-03-07", 123)}, nil, nil},
		// USCC
		{"uscc ok", []Rule{{Kind: KindUSCC, Field: "c"}}, map[string]any{"c": uscc}, nil, nil},
		{"uscc bad check", []Rule{{Kind: KindUSCC, Field: "c"}}, map[string]any{"c": uscc[:17] + "4"},
			nil, []want{{"c", KindUSCC, "not a valid unified social credit code", "不是有效的统一社会信用代码"}}},
		// cross-field birth date
		{"birth agrees", []Rule{{Kind: KindCitizenIDBirth, Field: "id", With: "birth"}}, map[string]any{"id": female, "birth": "1985-12-31"}, nil, nil},
		{"birth agrees timestamp", []Rule{{Kind: KindCitizenIDBirth, Field: "id", With: "birth"}}, map[string]any{"id": female, "birth": "1985-12-31T00:00:00.000000"}, nil, nil},
		{"birth disagrees", []Rule{{Kind: KindCitizenIDBirth, Field: "id", With: "birth"}}, map[string]any{"id": female, "birth": "1985-12-30"},
			nil, []want{{"id", KindCitizenIDBirth, "birth date 1985-12-31 in id disagrees with birth 1985-12-30", "不一致"}}},
		{"birth via legacy", []Rule{{Kind: KindCitizenID, Field: "id"}, {Kind: KindCitizenIDBirth, Field: "id", With: "birth"}},
			map[string]any{"id": legacy, "birth": "1990-03-08"}, []string{male},
			[]want{{"id", KindCitizenIDBirth, "birth date 1990-03-07 in id disagrees", "出生日期1990-03-07"}}},
		{"birth not a date", []Rule{{Kind: KindCitizenIDBirth, Field: "id", With: "birth"}}, map[string]any{"id": female, "birth": "unknown"},
			nil, []want{{"id", KindCitizenIDBirth, "is not a date", "不是有效日期"}}},
		{"birth skipped on bad id", []Rule{{Kind: KindCitizenIDBirth, Field: "id", With: "birth"}}, map[string]any{"id": badCheck, "birth": "2000-01-01"}, nil, nil},
		{"birth skipped on null", []Rule{{Kind: KindCitizenIDBirth, Field: "id", With: "birth"}}, map[string]any{"id": female, "birth": nil}, nil, nil},
		// cross-field sex
		{"sex agrees male", []Rule{{Kind: KindCitizenIDSex, Field: "id", With: "sex"}}, map[string]any{"id": male, "sex": "1"}, nil, nil},
		{"sex agrees female int", []Rule{{Kind: KindCitizenIDSex, Field: "id", With: "sex"}}, map[string]any{"id": female, "sex": int64(2)}, nil, nil},
		{"sex agrees 女", []Rule{{Kind: KindCitizenIDSex, Field: "id", With: "sex"}}, map[string]any{"id": female, "sex": "女"}, nil, nil},
		{"sex disagrees", []Rule{{Kind: KindCitizenIDSex, Field: "id", With: "sex"}}, map[string]any{"id": male, "sex": "2"},
			nil, []want{{"id", KindCitizenIDSex, `sex "2" disagrees with the sex in id (GB/T 2261.1 code 1)`, "男性"}}},
		{"sex not stated", []Rule{{Kind: KindCitizenIDSex, Field: "id", With: "sex"}}, map[string]any{"id": female, "sex": "9"},
			nil, []want{{"id", KindCitizenIDSex, "disagrees", "女性"}}},
		// several rules: order kept, every failure reported
		{"several", []Rule{
			{Kind: KindRequired, Field: "name"},
			{Kind: KindCitizenID, Field: "id"},
			{Kind: KindCodeList, Field: "sex", List: "GB/T 2261.1"},
			{Kind: KindCitizenIDSex, Field: "id", With: "sex"},
		}, map[string]any{"name": "", "id": male, "sex": "5"}, nil, []want{
			{"name", KindRequired, "blank", "空白"},
			{"sex", KindCodeList, "not in GB/T 2261.1", "GB/T 2261.1"},
			{"id", KindCitizenIDSex, "disagrees", "不一致"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, compiled := range []bool{true, false} {
				rules := tt.rules
				if compiled {
					rules = mustCompile(t, rules...)
				}
				fixes, viols := CheckAt(tt.record, rules, testNow)
				if len(fixes) != len(tt.fixes) {
					t.Fatalf("fixes = %+v; want %v", fixes, tt.fixes)
				}
				for i, f := range fixes {
					if f.To != tt.fixes[i] || f.From != tt.record[f.Field] || f.Reason == "" || f.ReasonZH == "" {
						t.Errorf("fix %d = %+v; want To %s", i, f, tt.fixes[i])
					}
				}
				if len(viols) != len(tt.want) {
					t.Fatalf("violations = %+v; want %d", viols, len(tt.want))
				}
				for i, v := range viols {
					w := tt.want[i]
					if v.Field != w.field || v.Rule != w.rule || !strings.Contains(v.Reason, w.reason) || !strings.Contains(v.ReasonZH, w.reasonZH) {
						t.Errorf("violation %d = %+v; want %+v", i, v, w)
					}
					if fmt.Sprint(v.Value) != fmt.Sprint(tt.record[v.Field]) {
						t.Errorf("violation %d value %v; want the original %v", i, v.Value, tt.record[v.Field])
					}
				}
			}
		})
	}
}

func TestLegacyUpgradeMatchesIdentifier(t *testing.T) {
	rules := mustCompile(t, Rule{Kind: KindCitizenID, Field: "id"})
	for _, id15 := range []string{"110101900307123", "230102851231456", "440301000101001"} {
		fixes, viols := CheckAt(map[string]any{"id": id15}, rules, testNow)
		up, err := identifier.UpgradeCitizenID(id15)
		if err != nil {
			t.Fatal(err)
		}
		if len(viols) != 0 || len(fixes) != 1 || fixes[0].To != up || !strings.Contains(fixes[0].Reason, "upgraded") {
			t.Errorf("%s: fixes %+v violations %+v; want one upgrade to %s", id15, fixes, viols, up)
		}
		if err := identifier.ValidateCitizenID(fixes[0].To); err != nil {
			t.Errorf("upgraded ID %s invalid: %v", fixes[0].To, err)
		}
	}
}

func TestUncompiledBadRule(t *testing.T) {
	fixes, viols := CheckAt(map[string]any{"x": "a"}, []Rule{{Kind: KindPattern, Field: "x", Pattern: "("}}, testNow)
	if len(fixes) != 0 || len(viols) != 1 || !strings.Contains(viols[0].Reason, "rule cannot be applied") {
		t.Errorf("got %+v %+v; want one rule violation", fixes, viols)
	}
}

func TestCheckCleanRecord(t *testing.T) {
	rules, record := populationRules(t), populationRecord(t)
	fixes, viols := CheckAt(record, rules, testNow)
	if fixes != nil || viols != nil {
		t.Fatalf("clean record: %+v %+v", fixes, viols)
	}
}

func TestCitizenIDRegionCompile(t *testing.T) {
	tests := []struct {
		name string
		rule Rule
		want string // fragment of the error; "" = compiles
	}{
		{"inline", Rule{Kind: KindCitizenID, Field: "id", Codes: []string{"230102", "232300"}}, ""},
		{"named and resolved", Rule{Kind: KindCitizenID, Field: "id", List: "GB/T 2260", Codes: []string{"230102"}}, ""},
		{"named, not resolved", Rule{Kind: KindCitizenID, Field: "id", List: "GB/T 2260"}, `rules[0].list: unknown code list "GB/T 2260"`},
		{"not six digits", Rule{Kind: KindCitizenID, Field: "id", Codes: []string{"2301"}}, `rules[0].codes: "2301" is not a six-digit GB/T 2260 region code`},
		{"not a province", Rule{Kind: KindCitizenID, Field: "id", Codes: []string{"990101"}}, `"990101" is not a six-digit GB/T 2260 region code`},
		{"listed twice", Rule{Kind: KindCitizenID, Field: "id", Codes: []string{"230102", "230102"}}, `rules[0].codes: code "230102" listed twice`},
		{"codes on uscc", Rule{Kind: KindUSCC, Field: "c", Codes: []string{"230102"}}, "rules[0].codes: not used by a uscc rule"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compile([]Rule{tt.rule})
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Compile: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Compile error %v; want %q", err, tt.want)
			}
		})
	}
}

// TestCitizenIDRegionCatalogList runs the rule with the catalog's GB/T 2260
// list: every demo county and retired codes pass, a code not in the list fails.
func TestCitizenIDRegionCatalogList(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "deploy", "catalog", "codelists", "gb2260.yaml"))
	if err != nil {
		t.Skipf("catalog code list not readable: %v", err)
	}
	var list struct {
		Name  string
		Codes []struct{ Code, Name, Retired string }
	}
	if err := yaml.Unmarshal(data, &list); err != nil {
		t.Fatalf("gb2260.yaml: %v", err)
	}
	codes := make([]string, 0, len(list.Codes))
	for _, c := range list.Codes {
		codes = append(codes, c.Code)
	}
	rules := mustCompile(t, Rule{Kind: KindCitizenID, Field: "id", List: list.Name, Codes: codes})
	for _, tc := range []struct {
		region string
		ok     bool
	}{{"230602", true}, {"231202", true}, {"220102", true}, {"232300", true}, {"230105", true}, {"230699", false}, {"230607", false}} {
		_, viols := CheckAt(map[string]any{"id": makeID(t, tc.region, "1970-05-06", 11)}, rules, testNow)
		if ok := len(viols) == 0; ok != tc.ok {
			t.Errorf("region %s: violations %+v; want ok=%v", tc.region, viols, tc.ok)
		}
		if !tc.ok && len(viols) == 1 && !strings.Contains(viols[0].ReasonZH, "行政区划代码 "+tc.region+" 不在 GB/T 2260 中") {
			t.Errorf("region %s: reason %q", tc.region, viols[0].ReasonZH)
		}
	}
}
