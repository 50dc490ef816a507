package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func testRelease(res string, n int64) OpenRelease {
	return OpenRelease{Resource: res, Number: n, Name: "法人基本信息", PublishedAt: time.Date(2026, 3, 1, 8, 0, 0, int(n)*1000, time.UTC),
		PublishedBy: "tok-1", Rows: 10 * n,
		CSV:     OpenReleaseFile{Bytes: 100 + n, SHA256: strings.Repeat("a", 64)},
		Parquet: OpenReleaseFile{Bytes: 200 + n, SHA256: strings.Repeat("B", 64)},
		Fields: []OpenReleaseField{
			{Name: "uscc", Type: "string", Treatment: OpenFieldAsIs, Description: "统一社会信用代码"},
			{Name: "legal_rep", Type: "string", Sensitivity: "personal", Treatment: OpenFieldMasked},
			{Name: "secret", Type: "int64", Sensitivity: "sensitive", Treatment: OpenFieldOmitted},
		}}
}

func TestOpenReleases(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		if _, err := db.LatestOpenRelease(ctx, "MR-LP-001"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("LatestOpenRelease of nothing: %v, want ErrNotFound", err)
		}
		if got, err := db.LatestOpenReleases(ctx); err != nil || len(got) != 0 {
			t.Fatalf("LatestOpenReleases of nothing = %v, %v", got, err)
		}
		for _, r := range []OpenRelease{testRelease("MR-LP-001", 1), testRelease("MR-LP-001", 2), testRelease("MR-LP-001", 3), testRelease("CA-X-001", 1)} {
			if err := db.RecordOpenRelease(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.RecordOpenRelease(ctx, testRelease("MR-LP-001", 2)); !errors.Is(err, ErrDuplicate) {
			t.Fatalf("second release 2: %v, want ErrDuplicate", err)
		}
		got, err := db.GetOpenRelease(ctx, "MR-LP-001", 2)
		if err != nil {
			t.Fatal(err)
		}
		want := testRelease("MR-LP-001", 2)
		if got.Resource != want.Resource || got.Number != 2 || got.Rows != 20 || got.CSV != want.CSV || got.Parquet != want.Parquet ||
			!got.PublishedAt.Equal(want.PublishedAt) || got.PublishedBy != "tok-1" || got.Name != want.Name || len(got.Fields) != 3 ||
			got.Fields[1] != want.Fields[1] || got.Fields[0].Description != "统一社会信用代码" {
			t.Errorf("GetOpenRelease = %+v\nwant %+v", got, want)
		}
		if _, err := db.GetOpenRelease(ctx, "MR-LP-001", 9); !errors.Is(err, ErrNotFound) {
			t.Errorf("release 9: %v, want ErrNotFound", err)
		}
		latest, err := db.LatestOpenRelease(ctx, "MR-LP-001")
		if err != nil || latest.Number != 3 {
			t.Errorf("LatestOpenRelease = %d, %v; want 3", latest.Number, err)
		}
		list, err := db.ListOpenReleases(ctx, "MR-LP-001", 0, 2)
		if err != nil || len(list) != 2 || list[0].Number != 3 || list[1].Number != 2 {
			t.Errorf("ListOpenReleases(0, 2) = %v, %v; want 3, 2", list, err)
		}
		list, err = db.ListOpenReleases(ctx, "MR-LP-001", 2, 10)
		if err != nil || len(list) != 1 || list[0].Number != 1 {
			t.Errorf("ListOpenReleases(before 2) = %v, %v; want 1", list, err)
		}
		if _, err := db.ListOpenReleases(ctx, "MR-LP-001", 0, 0); err == nil {
			t.Error("limit 0 accepted")
		}
		all, err := db.LatestOpenReleases(ctx)
		if err != nil || len(all) != 2 || all[0].Resource != "CA-X-001" || all[1].Resource != "MR-LP-001" || all[1].Number != 3 {
			t.Errorf("LatestOpenReleases = %v, %v", all, err)
		}
	})
}

func TestRecordOpenReleaseRefuses(t *testing.T) {
	db := openTestDB(t, DriverSQLite)
	ctx := context.Background()
	cases := []struct {
		name string
		edit func(r *OpenRelease)
		want string
	}{
		{"no resource", func(r *OpenRelease) { r.Resource = "" }, "resource is empty"},
		{"number 0", func(r *OpenRelease) { r.Number = 0 }, "number 0"},
		{"negative rows", func(r *OpenRelease) { r.Rows = -1 }, "negative"},
		{"bad digest", func(r *OpenRelease) { r.CSV.SHA256 = "xyz" }, "CSV SHA-256"},
		{"short digest", func(r *OpenRelease) { r.Parquet.SHA256 = "abcd" }, "Parquet SHA-256"},
		{"bad treatment", func(r *OpenRelease) { r.Fields[0].Treatment = "hidden" }, "fields[0].treatment"},
		{"no publisher", func(r *OpenRelease) { r.PublishedBy = "" }, "published by is empty"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := testRelease("MR-LP-001", 1)
			c.edit(&r)
			err := db.RecordOpenRelease(ctx, r)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want one containing %q", err, c.want)
			}
		})
	}
	if got, err := db.LatestOpenReleases(ctx); err != nil || len(got) != 0 {
		t.Errorf("a refused release was stored: %v, %v", got, err)
	}
}
