package grant

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/tongban/tongban/calendar"
	"github.com/tongban/tongban/hub/store"
)

// benchService is a Service over a fresh SQLite store and the test catalog.
func benchService(b *testing.B) *Service {
	b.Helper()
	db, err := store.Open(context.Background(), store.Config{Driver: store.DriverSQLite, DSN: filepath.Join(b.TempDir(), "hub.db")})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Close() })
	cal, err := calendar.Load("../../deploy/calendar/cn-public-holidays.yaml")
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	svc, err := New(Config{Store: db, Catalog: testCatalog(), Calendar: cal, Lists: testLists(),
		Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return now }})
	if err != nil {
		b.Fatal(err)
	}
	return svc
}

// BenchmarkDecide measures the decision of one share call on an
// unconditional resource by a department that is not its provider (what
// every share call of the sharing benchmark runs): catalog and list checks
// plus the read of the department's grants from the store.
func BenchmarkDecide(b *testing.B) {
	svc := benchService(b)
	req := Request{Dept: D1, Resource: "UNC", Purpose: "办理业务 / a service", ItemCode: "ITEM-1"}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		d, err := svc.Decide(ctx, req)
		if err != nil || !d.Allowed {
			b.Fatalf("decision %+v, %v; want allowed", d, err)
		}
	}
}

// BenchmarkFilterJSON measures filtering and masking one record by an
// allowed decision (personal fields masked).
func BenchmarkFilterJSON(b *testing.B) {
	svc := benchService(b)
	d, err := svc.Decide(context.Background(), Request{Dept: D1, Resource: "UNC", Purpose: "办理业务", ItemCode: "ITEM-1"})
	if err != nil || !d.Allowed {
		b.Fatalf("decision %+v, %v; want allowed", d, err)
	}
	rec := json.RawMessage(`{"id":"A-1","name":"张三丰","phone":"13912345678","note":"公开备注"}`)
	b.ReportAllocs()
	for b.Loop() {
		out, err := FilterJSON(rec, d)
		if err != nil || len(out) == 0 {
			b.Fatalf("filter: %q, %v", out, err)
		}
	}
}
