package datagen

import (
	"os"
	"path/filepath"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestCountiesInGB2260: every county the generator uses is a current code of
// the catalog's GB/T 2260 list, under the same name, province and prefecture,
// so the hub's region check passes clean demo rows.
func TestCountiesInGB2260(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "deploy", "catalog", "codelists", "gb2260.yaml"))
	if err != nil {
		t.Fatalf("GB/T 2260 code list: %v", err)
	}
	var list struct {
		Name  string `yaml:"name"`
		Codes []struct {
			Code    string `yaml:"code"`
			Name    string `yaml:"name"`
			Retired string `yaml:"retired"`
		} `yaml:"codes"`
	}
	if err := yaml.Unmarshal(data, &list); err != nil {
		t.Fatalf("gb2260.yaml: %v", err)
	}
	current := map[string]string{}
	for _, c := range list.Codes {
		if c.Retired == "" {
			current[c.Code] = c.Name
		}
	}
	if list.Name != "GB/T 2260" || len(current) < 40 {
		t.Fatalf("list %q with %d current codes", list.Name, len(current))
	}
	for _, c := range parseCounties() {
		if got := current[c.code]; got != c.name {
			t.Errorf("county %s %s: the list has %q", c.code, c.name, got)
		}
		if got := current[c.code[:2]+"0000"]; got != c.province {
			t.Errorf("county %s: province %s, the list has %q", c.code, c.province, got)
		}
		if c.city != c.province { // municipalities have no prefecture of their own name
			if got := current[c.code[:4]+"00"]; got != c.city {
				t.Errorf("county %s: prefecture %s, the list has %q", c.code, c.city, got)
			}
		}
	}
}
