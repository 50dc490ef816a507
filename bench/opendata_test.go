package bench

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

func TestOpenDataResults(t *testing.T) {
	var progress bytes.Buffer
	r := &runner{cfg: Config{Rows: 3000, Dir: t.TempDir(), Logger: slog.New(slog.DiscardHandler), Progress: &progress}}
	rs, err := r.openDataResults(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"open data: CSV download (3000 rows)", "open data: Parquet download", "open data: release build"}
	units := []string{"MB/s", "MB/s", "rows/s"}
	if len(rs) != len(names) {
		t.Fatalf("%d results, want %d: %+v", len(rs), len(names), rs)
	}
	for i, res := range rs {
		if res.Name != names[i] || res.Unit != units[i] || res.Status != StatusMeasured || res.Rows != 3000 ||
			res.Value <= 0 || res.BaselineValue <= 0 || res.Ratio <= 0 || res.Baseline == "" {
			t.Errorf("result %d = %+v", i, res)
		}
	}
	if rs[0].Target == "" || rs[0].Met == nil {
		t.Errorf("the CSV line has no target or verdict: %+v", rs[0])
	}
	for _, want := range []string{"open data: release 1 built: 3000 rows", "open data: csv download", "open data: parquet download"} {
		if !strings.Contains(progress.String(), want) {
			t.Errorf("progress lacks %q:\n%s", want, progress.String())
		}
	}
}

func TestOpenDataCatalog(t *testing.T) {
	cat := openDataCatalog()
	res := cat.Resources[0]
	if res.OpenType != "open" {
		t.Fatalf("open type %q", res.OpenType)
	}
	personal := map[string]bool{}
	for _, f := range res.Schema.Fields {
		if f.Sensitivity == "personal" {
			personal[f.Name] = true
		}
	}
	if !personal["citizen_id"] || !personal["name"] || len(personal) != 3 {
		t.Errorf("personal fields %v", personal)
	}
	// The shared bench resource is not changed.
	for _, f := range benchCatalogResource().Schema.Fields {
		if f.Sensitivity != "" {
			t.Errorf("benchCatalogResource field %s got sensitivity %q", f.Name, f.Sensitivity)
		}
	}
}
