package catalog_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/tongban/tongban/catalog"
)

// The hub serves resources as JSON and the agent decodes them: every resource
// of the example must come back equal, with the schema under "fields".
func TestResourceJSONRoundTrip(t *testing.T) {
	c, err := catalog.Load("../deploy/catalog")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range c.Resources {
		t.Run(r.Code, func(t *testing.T) {
			for _, v := range []any{r, &r} { // value and pointer marshal alike
				b, err := json.Marshal(v)
				if err != nil {
					t.Fatal(err)
				}
				var back catalog.Resource
				if err := json.Unmarshal(b, &back); err != nil {
					t.Fatalf("unmarshal %s: %v", b, err)
				}
				if !reflect.DeepEqual(back, r) {
					t.Fatalf("round trip changed the resource:\n got %+v\nwant %+v\njson %s", back, r, b)
				}
				var raw map[string]json.RawMessage
				if err := json.Unmarshal(b, &raw); err != nil {
					t.Fatal(err)
				}
				for _, key := range []string{"code", "name", "provider", "subject", "primary_key", "fields", "share_type", "open_type", "update_cycle", "format"} {
					if _, ok := raw[key]; !ok {
						t.Errorf("JSON has no %q: %s", key, b)
					}
				}
				for key := range raw {
					if key != strings.ToLower(key) {
						t.Errorf("JSON key %q is not snake_case", key)
					}
				}
				var fields []map[string]any
				if err := json.Unmarshal(raw["fields"], &fields); err != nil || len(fields) != len(r.Schema.Fields) {
					t.Fatalf("fields = %s (%v), want %d fields", raw["fields"], err, len(r.Schema.Fields))
				}
				if got, want := fields[0]["type"], r.Schema.Fields[0].Type.String(); got != want {
					t.Errorf("fields[0].type = %v, want the catalog spelling %q", got, want)
				}
			}
		})
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var back catalog.Catalog
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, c) {
		t.Fatalf("catalog round trip changed it:\n got %+v\nwant %+v", back, *c)
	}
}

// A resource from a newer hub with an unknown type must fail to decode, not
// decode to a zero type.
func TestResourceJSONBadType(t *testing.T) {
	var r catalog.Resource
	err := json.Unmarshal([]byte(`{"code":"X-1","fields":[{"name":"a","type":"strng"}]}`), &r)
	if err == nil || !strings.Contains(err.Error(), `unknown type "strng"`) {
		t.Fatalf("Unmarshal = %v, want the unknown type", err)
	}
}
