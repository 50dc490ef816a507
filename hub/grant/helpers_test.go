package grant

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tongban/tongban/calendar"
	"github.com/tongban/tongban/catalog"
	"github.com/tongban/tongban/hub/store"
	"github.com/tongban/tongban/schemas"
)

// Departments of the test catalog: P1 provides every resource; D1..D5 use.
const (
	P1 = "P1"
	D1 = "D1"
	D2 = "D2"
	D3 = "D3"
	D4 = "D4"
	D5 = "D5"
)

func fld(name, sens string) schemas.Field {
	ty, err := schemas.ParseType("string")
	if err != nil {
		panic(err)
	}
	return schemas.Field{Name: name, Type: ty, Nullable: true, Sensitivity: sens}
}

// testCatalog: UNC unconditional with personal fields; CON conditional;
// NON not shared; NEG wholly on the negative list; PART with a negative field.
func testCatalog() *catalog.Catalog {
	mk := func(code, share, basis string, fields ...schemas.Field) catalog.Resource {
		return catalog.Resource{Code: code, Name: "资源" + code, Provider: P1, Subject: catalog.Subject{Type: catalog.SubjectNone},
			PrimaryKey: []string{fields[0].Name}, Schema: schemas.Schema{Fields: fields}, ShareType: share, ShareBasis: basis,
			OpenType: catalog.OpenClosed, UpdateCycle: catalog.CycleDaily, Format: catalog.FormatTable, File: "resources/" + code + ".yaml"}
	}
	cat := &catalog.Catalog{Dir: "test"}
	for _, d := range []string{P1, D1, D2, D3, D4, D5} {
		cat.Departments = append(cat.Departments, catalog.Department{Code: d, Name: "部门" + d})
	}
	cat.Resources = []catalog.Resource{
		mk("UNC", catalog.ShareUnconditional, "", fld("id", ""), fld("name", schemas.SensitivityPersonal),
			fld("phone", schemas.SensitivityPersonal), fld("note", schemas.SensitivityPublic)),
		mk("CON", catalog.ShareConditional, "条件依据CON", fld("citizen_id", schemas.SensitivityPersonal),
			fld("name", schemas.SensitivityPersonal), fld("status", schemas.SensitivitySecret)),
		mk("NON", catalog.ShareNone, "不共享依据NON", fld("id", "")),
		mk("NEG", catalog.ShareUnconditional, "", fld("id", "")),
		mk("PART", catalog.ShareUnconditional, "", fld("id", ""), fld("secret", "")),
	}
	return cat
}

func testLists() *Lists {
	return &Lists{
		Scenarios: []Scenario{
			{Code: "SC-A", Name: "场景A", LegalBasis: "场景依据A", Depts: []string{D1},
				Resources: []ScenarioResource{{Resource: "CON", Fields: []string{"citizen_id", "name"}}}},
			{Code: "SC-ANY", Name: "场景任意", LegalBasis: "场景依据ANY", AnyDept: true, ValidDays: 30,
				Resources: []ScenarioResource{{Resource: "CON", Fields: []string{"name"}}}},
		},
		Negative: []NegativeEntry{
			{Resource: "NEG", LegalBasis: "负面依据NEG"},
			{Resource: "PART", Fields: []string{"secret"}, LegalBasis: "负面依据PART"},
		},
		Duties: []Duty{{Dept: D2, Resource: "NEW-1", Name: "新资源", Basis: "职责", Source: "list"}},
	}
}

type env struct {
	svc *Service
	db  *store.DB
	reg *prometheus.Registry
	now time.Time
}

func newEnv(t *testing.T, now time.Time) *env {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{Driver: store.DriverSQLite, DSN: filepath.Join(t.TempDir(), "hub.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	cal, err := calendar.Load("../../deploy/calendar/cn-public-holidays.yaml")
	if err != nil {
		t.Fatal(err)
	}
	e := &env{db: db, reg: prometheus.NewRegistry(), now: now}
	e.svc, err = New(Config{Store: db, Catalog: testCatalog(), Calendar: cal, Lists: testLists(), Registry: e.reg,
		Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return e.now }})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// gauge returns the value of an unlabelled metric, or a counter's sample
// with label result=label.
func (e *env) metric(t *testing.T, name, label string) float64 {
	t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if label == "" {
				return m.GetGauge().GetValue()
			}
			for _, lp := range m.GetLabel() {
				if lp.GetName() == "result" && lp.GetValue() == label {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("metric %s{%s} not found", name, label)
	return 0
}
