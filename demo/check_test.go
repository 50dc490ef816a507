package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"github.com/tongban/tongban/demo/datagen"
	"github.com/tongban/tongban/hub/store"
	"github.com/tongban/tongban/wire"
)

// memLister serves records from memory in key order, like the store.
type memLister map[string]store.Record

func (m memLister) ListRecords(_ context.Context, _, after string, limit int, _ bool) ([]store.Record, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		if k > after {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var out []store.Record
	for _, k := range keys {
		if len(out) == limit {
			break
		}
		out = append(out, m[k])
	}
	return out, nil
}

// faithful builds what a correct hub would hold for the legal-person table.
func faithful(t *testing.T, gen datagen.Config) memLister {
	t.Helper()
	tbl, err := datagen.LookupTable(datagen.TableLegalPerson)
	if err != nil {
		t.Fatal(err)
	}
	m := memLister{}
	err = datagen.Rows(gen, datagen.TableLegalPerson, func(row []any) error {
		obj := map[string]any{}
		for i, c := range tbl.Columns {
			if row[i] == nil {
				obj[c.Name] = nil
			} else {
				obj[c.Name] = text(c, row[i])
			}
		}
		data, _ := json.Marshal(obj)
		key := wire.RecordKey([]string{row[0].(string)})
		m[key] = store.Record{Key: key, Data: data}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestCheckDetectsMissingExtraAndDifferent(t *testing.T) {
	gen := datagen.Config{Seed: 3, Population: 10, LegalPersons: 1500, CivilAffairs: 10}
	d := &department{table: datagen.TableLegalPerson, resource: "MR-LP-001", expected: 1500}
	var out bytes.Buffer
	good := faithful(t, gen)
	if err := check(context.Background(), &out, good, []*department{d}, gen); err != nil {
		t.Fatalf("faithful copy rejected: %v\n%s", err, out.String())
	}

	bad := faithful(t, gen)
	var keys []string
	for k := range bad {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	delete(bad, keys[0])
	r := bad[keys[1]]
	r.Data = json.RawMessage(strings.Replace(string(r.Data), `"registered_capital":"`, `"registered_capital":"9`, 1))
	bad[keys[1]] = r
	bad["nobody"] = store.Record{Key: "nobody", Data: json.RawMessage(`{}`)}
	out.Reset()
	if err := check(context.Background(), &out, bad, []*department{d}, gen); err == nil {
		t.Fatalf("tampered copy accepted:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "missing 1, extra 1, differing 1") {
		t.Errorf("summary does not count the defects:\n%s", out.String())
	}
}
