package catalog_test

import (
	"strings"
	"testing"

	"github.com/tongban/tongban/catalog"
)

// usccValid is a test oracle for the GB 32100 check character (package
// identifier owns the real validation; the catalog checks the format only).
func usccValid(code string) bool {
	const alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
	if len(code) != 18 {
		return false
	}
	sum, w := 0, 1
	for i := 0; i < 17; i++ {
		v := strings.IndexByte(alphabet, code[i])
		if v < 0 {
			return false
		}
		sum += v * w
		w = w * 3 % 31
	}
	return code[17] == alphabet[(31-sum%31)%31]
}

func TestUSCCOracle(t *testing.T) {
	for code, want := range map[string]bool{
		"91350100M000100Y43": true, // published example of GB 32100
		"91350100M000100Y44": false,
		"1123060001281401X7": true,
		"1123060001281401X8": false,
	} {
		if got := usccValid(code); got != want {
			t.Errorf("usccValid(%s) = %v, want %v", code, got, want)
		}
	}
}

// fieldSpec is name, type, nullable, sensitivity of a field.
type fieldSpec struct {
	name, typ   string
	nullable    bool
	sensitivity string
}

// The example catalog is what the demo's generated department tables follow.
func TestDeployCatalog(t *testing.T) {
	c, err := catalog.Load("../deploy/catalog")
	if err != nil {
		t.Fatal(err)
	}
	depts := map[string]string{}
	for _, d := range c.Departments {
		if !usccValid(d.Code) || d.Code[2:8] != "230600" {
			t.Errorf("department %s %s: not a valid 大庆市 (230600) USCC", d.Code, d.Name)
		}
		depts[d.Name] = d.Code
	}
	if len(depts) != 4 || depts["大庆市数据资源管理局"] == "" || len(c.ResourcesOf(depts["大庆市数据资源管理局"])) != 0 {
		t.Errorf("departments %v: want 4 with the data bureau providing nothing", depts)
	}
	tests := []struct {
		code, provider, subjectType, subjectField string
		pk                                        []string
		share, open                               string
		fields                                    []fieldSpec
	}{
		{"PS-POP-001", "大庆市公安局", "person", "citizen_id", []string{"citizen_id"}, "conditional", "closed", []fieldSpec{
			{"citizen_id", "string", false, "personal"}, {"name", "string", false, "personal"}, {"sex", "string", false, ""},
			{"birth_date", "date", false, ""}, {"ethnicity", "string", false, ""}, {"address", "string", true, "personal"},
			{"phone", "string", true, "personal"}, {"household_type", "string", true, ""}, {"updated_at", "timestamp", false, ""},
		}},
		{"MR-LP-001", "大庆市市场监督管理局", "legal_person", "uscc", []string{"uscc"}, "unconditional", "open", []fieldSpec{
			{"uscc", "string", false, ""}, {"name", "string", false, ""}, {"legal_rep", "string", false, "personal"},
			{"registered_capital", "decimal(18,2)", false, ""}, {"established", "date", false, ""}, {"address", "string", true, ""},
			{"status", "string", false, ""}, {"updated_at", "timestamp", false, ""},
		}},
		{"CA-MAR-001", "大庆市民政局", "person", "citizen_id", []string{"record_id"}, "conditional", "closed", []fieldSpec{
			{"record_id", "int64", false, ""}, {"citizen_id", "string", false, "personal"}, {"name", "string", false, "personal"},
			{"marital_status", "string", false, "sensitive"}, {"registered_on", "date", false, ""}, {"office", "string", false, ""},
			{"updated_at", "timestamp", false, ""},
		}},
	}
	if len(c.Resources) != len(tests) {
		t.Errorf("%d resources, want %d", len(c.Resources), len(tests))
	}
	for _, tt := range tests {
		r, ok := c.Resource(tt.code)
		if !ok {
			t.Errorf("no resource %s", tt.code)
			continue
		}
		if r.Provider != depts[tt.provider] || r.Subject.Type != tt.subjectType || r.SubjectKeyField() != tt.subjectField ||
			strings.Join(r.PrimaryKey, ",") != strings.Join(tt.pk, ",") || r.ShareType != tt.share || r.OpenType != tt.open ||
			r.UpdateCycle != catalog.CycleDaily || r.Format != catalog.FormatTable || r.Name == "" || r.Description == "" {
			t.Errorf("%s = %+v", tt.code, r)
		}
		if len(r.Schema.Fields) != len(tt.fields) {
			t.Errorf("%s has %d fields, want %d", tt.code, len(r.Schema.Fields), len(tt.fields))
			continue
		}
		for i, f := range r.Schema.Fields {
			got := fieldSpec{f.Name, f.Type.String(), f.Nullable, f.Sensitivity}
			if got != tt.fields[i] || f.Description == "" {
				t.Errorf("%s fields[%d] = %+v (description %q), want %+v", tt.code, i, got, f.Description, tt.fields[i])
			}
		}
	}
}
