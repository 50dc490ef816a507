package merge

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/tongban/tongban/internal/testdb"

	"github.com/tongban/tongban/catalog"
	"github.com/tongban/tongban/hub/store"
)

// Test resources and departments.
const (
	deptPop = "DPOP" // 公安 (population register)
	deptCiv = "DCIV" // 民政 (civil affairs)
	deptSoc = "DSOC" // 人社 (social security)
	resPop  = "POP-1"
	resCiv  = "CIV-MAR-1"
	resSoc  = "SOC-1"
)

// testCatalog: a person golden record whose name and birth date come from
// the population register and are cross-checked by civil affairs and social
// security; marital status comes from civil affairs' marriage
// registrations, the latest by registration date.
func testCatalog() *catalog.Catalog {
	res := func(code, provider, latestBy string) catalog.Resource {
		return catalog.Resource{Code: code, Name: "资源 " + code, Provider: provider,
			Subject: catalog.Subject{Type: catalog.SubjectPerson, Field: "sfzh", LatestBy: latestBy}}
	}
	return &catalog.Catalog{
		Departments: []catalog.Department{{Code: deptPop, Name: "公安局"}, {Code: deptCiv, Name: "民政局"}, {Code: deptSoc, Name: "人社局"}},
		Resources: []catalog.Resource{
			res(resPop, deptPop, ""), res(resCiv, deptCiv, "reg_date"), res(resSoc, deptSoc, ""),
			{Code: "OTHER-1", Provider: deptSoc, Subject: catalog.Subject{Type: catalog.SubjectNone}},
		},
		Subjects: []catalog.SubjectSpec{{
			Type: catalog.SubjectPerson, Library: "population", Name: "人口基础库",
			Fields: []catalog.SubjectField{
				{Name: "name", Authority: catalog.SourceRef{Resource: resPop, Field: "xm"},
					CrossCheck: []catalog.SourceRef{{Resource: resCiv, Field: "name"}, {Resource: resSoc, Field: "xm"}}},
				{Name: "birth_date", Authority: catalog.SourceRef{Resource: resPop, Field: "csrq"},
					CrossCheck: []catalog.SourceRef{{Resource: resSoc, Field: "birth"}}},
				{Name: "marital_status", Authority: catalog.SourceRef{Resource: resCiv, Field: "status"}},
			},
		}},
	}
}

var ingestedT0 = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

func rec(resource, key, dept, subject string, version int64, data string) store.Record {
	return store.Record{Resource: resource, Key: key, Dept: dept, Subject: subject, Version: version,
		Data: json.RawMessage(data), BatchID: "b", IngestedAt: ingestedT0.Add(time.Duration(version) * time.Second)}
}

func tomb(resource, key, dept string, version int64) store.Record {
	return store.Record{Resource: resource, Key: key, Dept: dept, Version: version, Deleted: true, BatchID: "b",
		IngestedAt: ingestedT0.Add(time.Duration(version) * time.Second)}
}

// eachBackend runs fn per backend on a fresh store: SQLite in a temporary
// directory and a new MariaDB database at 127.0.0.1:3306 (or
// TONGBAN_TEST_MYSQL), dropped when the test ends.
func eachBackend(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	for _, driver := range []string{store.DriverSQLite, store.DriverMySQL} {
		t.Run(driver, func(t *testing.T) { fn(t, openStore(t, driver)) })
	}
}

func openStore(tb testing.TB, driver string) *store.DB {
	tb.Helper()
	cfg := store.Config{Driver: driver}
	switch driver {
	case store.DriverSQLite:
		cfg.DSN = filepath.Join(tb.TempDir(), "hub.db")
	case store.DriverMySQL:
		cfg.DSN = testdb.MySQL(tb)
	}
	db, err := store.Open(context.Background(), cfg)
	if err != nil {
		tb.Fatalf("open %s: %v", driver, err)
	}
	tb.Cleanup(func() { _ = db.Close() })
	return db
}

// goldenView is a golden record without ingestion times, for comparisons.
func goldenView(g store.GoldenRecord) map[string]string {
	out := map[string]string{}
	for name, f := range g.Fields {
		p := f.Provenance
		out[name] = fmt.Sprintf("%s @ %s/%s/%s v%d upd=%s", f.Value, p.Dept, p.Resource, p.Key, p.Version, p.SourceUpdated)
	}
	return out
}
