package opendata

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/tongban/tongban/catalog"
	"github.com/tongban/tongban/hub/store"
	"github.com/tongban/tongban/identifier"
	"github.com/tongban/tongban/schemas"
)

const (
	dept     = "112306000128140287"
	resOpen  = "PS-OPEN-001"
	resCond  = "PS-COND-001"
	resShut  = "PS-SHUT-001"
	resEmpty = "PS-EMPTY-001"
)

func fld(t testing.TB, name, typ, sens string, null bool) schemas.Field {
	t.Helper()
	ty, err := schemas.ParseType(typ)
	if err != nil {
		t.Fatal(err)
	}
	return schemas.Field{Name: name, Type: ty, Nullable: null, Sensitivity: sens, Description: "说明 " + name}
}

// testCatalog has an open person resource with every field type and every
// sensitivity, a conditional and a closed one, and an open one kept empty.
func testCatalog(t testing.TB) *catalog.Catalog {
	fields := []schemas.Field{
		fld(t, "citizen_id", "string", "", false), // unclassified, but the person key: masked
		fld(t, "name", "string", schemas.SensitivityPersonal, false),
		fld(t, "sex", "string", schemas.SensitivityPublic, false),
		fld(t, "birth_date", "date", "", false),
		fld(t, "phone", "string", schemas.SensitivitySecret, true),
		fld(t, "note", "string", schemas.SensitivityInternal, true),
		fld(t, "income", "decimal(12,2)", "", false),
		fld(t, "children", "int64", "", true),
		fld(t, "score", "float64", "", true),
		fld(t, "active", "bool", "", true),
		fld(t, "updated_at", "timestamp", "", false),
		fld(t, "blob", "bytes", "", true),
		fld(t, "address", "string", "", true),
		fld(t, "household_no", "int64", schemas.SensitivityPersonal, true), // personal non-text: ***
	}
	mk := func(code, open, basis string) catalog.Resource {
		return catalog.Resource{Code: code, Name: "人口信息 " + code, Provider: dept,
			Subject: catalog.Subject{Type: catalog.SubjectPerson, Field: "citizen_id"}, PrimaryKey: []string{"citizen_id"},
			Schema: schemas.Schema{Fields: fields}, ShareType: catalog.ShareUnconditional, OpenType: open, OpenBasis: basis,
			UpdateCycle: catalog.CycleMonthly, Format: catalog.FormatTable}
	}
	return &catalog.Catalog{
		Departments: []catalog.Department{{Code: dept, Name: "市公安局"}},
		Resources: []catalog.Resource{
			mk(resOpen, catalog.OpenOpen, ""),
			mk(resCond, catalog.OpenConditional, "《数据开放管理办法》第十九条"),
			mk(resShut, catalog.OpenClosed, "涉及个人隐私"),
			mk(resEmpty, catalog.OpenOpen, ""),
		},
	}
}

// person is one generated record with its raw identifiers.
type person struct {
	id, name, phone string
	deleted         bool
	data            map[string]any
}

func surnames() []string { return []string{"欧阳", "司马", "诸葛", "上官", "慕容"} }
func givens() []string {
	return []string{"明轩", "雨桐", "浩然", "思琪", "子墨", "嘉怡", "宇航"}
}

// people generates n people with valid citizen IDs; every seventh is
// deleted afterwards (a tombstone).
func people(t testing.TB, n int) []person {
	t.Helper()
	out := make([]person, n)
	for i := range out {
		birth := time.Date(1950+i%60, time.Month(1+i%12), 1+i%28, 0, 0, 0, 0, time.UTC)
		id, err := identifier.FormatCitizenID("230602", birth, i%1000)
		if err != nil {
			t.Fatal(err)
		}
		name := surnames()[i%5] + givens()[(i/5)%7] + string(rune('甲'+i%10))
		phone := fmt.Sprintf("138%08d", i)
		d := map[string]any{
			"citizen_id": id, "name": name, "sex": []string{"1", "2"}[i%2], "birth_date": birth.Format(time.DateOnly),
			"phone": phone, "note": "内部备注" + phone, "income": fmt.Sprintf("%d.%02d", i*37, i%100),
			"children": i % 4, "score": float64(i) / 8, "active": i%3 == 0,
			"updated_at": fmt.Sprintf("2026-02-%02dT10:11:12.%06d", 1+i%28, i), "blob": base64.StdEncoding.EncodeToString([]byte{byte(i), 0, 0xff}),
			"address": fmt.Sprintf("大庆市萨尔图区, \"%d\"号\n二单元", i), "household_no": 5000 + i,
		}
		if i%5 == 0 {
			d["address"], d["children"], d["score"], d["active"], d["blob"] = nil, nil, nil, nil, nil
		}
		if i%11 == 0 {
			delete(d, "household_no") // absent: null
		}
		out[i] = person{id: id, name: name, phone: phone, deleted: i%7 == 3, data: d}
	}
	return out
}

type fixture struct {
	db  *store.DB
	svc *Service
	reg *prometheus.Registry
	dir string
	now time.Time
}

func newFixture(t *testing.T, cfg Config) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{Driver: store.DriverSQLite, DSN: filepath.Join(t.TempDir(), "hub.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	f := &fixture{db: db, reg: prometheus.NewRegistry(), dir: filepath.Join(t.TempDir(), "open"),
		now: time.Date(2026, 3, 2, 9, 30, 0, 123456000, time.UTC)}
	cfg.Store, cfg.Catalog, cfg.Dir, cfg.Registry = db, testCatalog(t), f.dir, f.reg
	cfg.Logger, cfg.Now = slog.New(slog.DiscardHandler), func() time.Time { return f.now }
	if f.svc, err = New(cfg); err != nil {
		t.Fatal(err)
	}
	return f
}

// fill stores ps as records of resOpen, then the tombstones.
func (f *fixture) fill(t *testing.T, ps []person) {
	t.Helper()
	ctx := context.Background()
	var recs, dels []store.Record
	for _, p := range ps {
		b, err := json.Marshal(p.data)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, store.Record{Resource: resOpen, Key: p.id, Dept: dept, Subject: p.id, Version: 1, Data: b, BatchID: "b1"})
		if p.deleted {
			dels = append(dels, store.Record{Resource: resOpen, Key: p.id, Dept: dept, Version: 2, Deleted: true, BatchID: "b2"})
		}
	}
	for _, rs := range [][]store.Record{recs, dels} {
		if _, err := f.db.ApplyRecords(ctx, rs); err != nil {
			t.Fatal(err)
		}
	}
}

func live(ps []person) []person {
	var out []person
	for _, p := range ps {
		if !p.deleted {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b person) int { return strings.Compare(a.id, b.id) })
	return out
}

func publishedFields() []string {
	return []string{"citizen_id", "name", "sex", "birth_date", "income", "children", "score", "active", "updated_at", "blob", "address", "household_no"}
}

// metricValue reads a counter or gauge.
func metricValue(t *testing.T, m prometheus.Metric) float64 {
	t.Helper()
	var out dto.Metric
	if err := m.Write(&out); err != nil {
		t.Fatal(err)
	}
	if out.Counter != nil {
		return out.Counter.GetValue()
	}
	return out.Gauge.GetValue()
}

// maskedName is a name with its first character kept.
func maskedName(n string) string {
	r := []rune(n)
	return string(r[0]) + strings.Repeat("*", len(r)-1)
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestPublish(t *testing.T) {
	// Small pages and row groups: many store reads, several row groups.
	f := newFixture(t, Config{PageSize: 7, RowGroupRows: 100, ProgressEvery: 50})
	ps := people(t, 700)
	f.fill(t, ps)
	want := live(ps)
	ctx := context.Background()

	rel, err := f.svc.Publish(ctx, resOpen, "tok-admin")
	if err != nil {
		t.Fatal(err)
	}
	if rel.Number != 1 || rel.Rows != int64(len(want)) || rel.PublishedBy != "tok-admin" || !rel.PublishedAt.Equal(f.now) || rel.Name != "人口信息 "+resOpen {
		t.Fatalf("release = %+v; want number 1, %d rows", rel, len(want))
	}
	treat := map[string]string{}
	for _, fl := range rel.Fields {
		treat[fl.Name] = fl.Treatment
	}
	for name, tr := range map[string]string{"citizen_id": store.OpenFieldMasked, "name": store.OpenFieldMasked, "sex": store.OpenFieldAsIs,
		"phone": store.OpenFieldOmitted, "note": store.OpenFieldOmitted, "household_no": store.OpenFieldMasked, "income": store.OpenFieldAsIs} {
		if treat[name] != tr {
			t.Errorf("field %s: treatment %q, want %q", name, treat[name], tr)
		}
	}
	stored, err := f.db.GetOpenRelease(ctx, resOpen, 1)
	if err != nil || stored.CSV != rel.CSV || stored.Parquet != rel.Parquet || stored.Rows != rel.Rows {
		t.Fatalf("stored manifest %+v, %v; want %+v", stored, err, rel)
	}

	csvBytes, err := os.ReadFile(filepath.Join(f.dir, resOpen, "1", "data.csv"))
	if err != nil {
		t.Fatal(err)
	}
	pqBytes, err := os.ReadFile(filepath.Join(f.dir, resOpen, "1", "data.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(csvBytes)) != rel.CSV.Bytes || sha(csvBytes) != rel.CSV.SHA256 {
		t.Errorf("CSV: %d bytes, sha256 %s; manifest %+v", len(csvBytes), sha(csvBytes), rel.CSV)
	}
	if int64(len(pqBytes)) != rel.Parquet.Bytes || sha(pqBytes) != rel.Parquet.SHA256 {
		t.Errorf("Parquet: %d bytes, sha256 %s; manifest %+v", len(pqBytes), sha(pqBytes), rel.Parquet)
	}
	// No leftover build directory.
	if ents, _ := os.ReadDir(filepath.Join(f.dir, resOpen)); len(ents) != 1 || ents[0].Name() != "1" {
		t.Errorf("release directory holds %v, want only 1", ents)
	}

	// 脱敏: no raw citizen ID, name, phone or internal note in the CSV.
	for _, p := range ps {
		for _, raw := range []string{p.id, p.name, p.phone, p.id[6:14] + p.id[14:17]} {
			if bytes.Contains(csvBytes, []byte(raw)) {
				t.Fatalf("CSV contains the raw value %q of %s", raw, p.id)
			}
		}
	}
	if bytes.Contains(csvBytes, []byte("内部备注")) {
		t.Fatal("CSV contains an internal field's value")
	}

	t.Run("csv", func(t *testing.T) {
		if !bytes.HasPrefix(csvBytes, []byte("\xef\xbb\xbf")) {
			t.Fatalf("CSV does not start with the UTF-8 BOM: % x", csvBytes[:3])
		}
		if !bytes.Contains(csvBytes, []byte("\r\n")) {
			t.Error("CSV lines do not end in CRLF")
		}
		recs, err := csv.NewReader(bytes.NewReader(csvBytes[3:])).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(recs[0], publishedFields()) {
			t.Fatalf("header %v, want %v", recs[0], publishedFields())
		}
		if len(recs)-1 != len(want) {
			t.Fatalf("%d data lines, want %d", len(recs)-1, len(want))
		}
		for i, p := range want {
			got := recs[i+1]
			exp := []string{p.id[:6] + "***********" + p.id[17:], maskedName(p.name),
				p.data["sex"].(string), p.data["birth_date"].(string), p.data["income"].(string), "", "", "",
				p.data["updated_at"].(string), "", "", "***"}
			if p.data["children"] != nil {
				exp[5], exp[6], exp[7], exp[9], exp[10] = fmt.Sprint(p.data["children"]), fmt.Sprint(p.data["score"]),
					fmt.Sprint(p.data["active"]), p.data["blob"].(string), p.data["address"].(string)
			}
			if _, ok := p.data["household_no"]; !ok {
				exp[11] = ""
			}
			if !slices.Equal(got, exp) {
				t.Fatalf("line %d:\n got %q\nwant %q", i+1, got, exp)
			}
		}
	})

	t.Run("parquet", func(t *testing.T) {
		rdr, err := file.NewParquetReader(bytes.NewReader(pqBytes))
		if err != nil {
			t.Fatal(err)
		}
		defer rdr.Close()
		if rg := rdr.NumRowGroups(); rg != (len(want)+99)/100 {
			t.Errorf("%d row groups, want %d of at most 100 rows", rg, (len(want)+99)/100)
		}
		fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{BatchSize: 128}, memory.DefaultAllocator)
		if err != nil {
			t.Fatal(err)
		}
		tbl, err := fr.ReadTable(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer tbl.Release()
		if tbl.NumRows() != int64(len(want)) {
			t.Fatalf("%d rows, want %d", tbl.NumRows(), len(want))
		}
		sc := tbl.Schema()
		var names []string
		for _, fl := range sc.Fields() {
			names = append(names, fl.Name)
		}
		if !slices.Equal(names, publishedFields()) {
			t.Fatalf("columns %v, want %v", names, publishedFields())
		}
		wantTypes := map[string]arrow.DataType{"citizen_id": arrow.BinaryTypes.String, "birth_date": arrow.FixedWidthTypes.Date32,
			"income": &arrow.Decimal128Type{Precision: 12, Scale: 2}, "children": arrow.PrimitiveTypes.Int64, "score": arrow.PrimitiveTypes.Float64,
			"active": arrow.FixedWidthTypes.Boolean, "updated_at": &arrow.TimestampType{Unit: arrow.Microsecond}, "blob": arrow.BinaryTypes.Binary,
			"household_no": arrow.BinaryTypes.String}
		for name, dt := range wantTypes {
			fl, _ := sc.FieldsByName(name)
			if len(fl) != 1 || !arrow.TypeEqual(fl[0].Type, dt) {
				t.Errorf("column %s: %v, want %s", name, fl, dt)
			}
		}
		kv := rdr.MetaData().KeyValueMetadata()
		if v := kv.FindValue("tongban.resource"); v == nil || *v != resOpen {
			t.Errorf("file metadata %v lacks the resource", kv)
		}
		if v := kv.FindValue("tongban.release"); v == nil || *v != "1" {
			t.Errorf("file metadata %v lacks the release number", kv)
		}
		rows := 0
		tr := array.NewTableReader(tbl, 64)
		defer tr.Release()
		for tr.Next() {
			rec := tr.RecordBatch()
			ids := rec.Column(0).(*array.String)
			nm := rec.Column(1).(*array.String)
			birth := rec.Column(3).(*array.Date32)
			inc := rec.Column(4).(*array.Decimal128)
			upd := rec.Column(8).(*array.Timestamp)
			blob := rec.Column(9).(*array.Binary)
			for i := 0; i < int(rec.NumRows()); i++ {
				p := want[rows]
				if got := ids.Value(i); got != p.id[:6]+"***********"+p.id[17:] {
					t.Fatalf("row %d: citizen_id %q", rows, got)
				}
				if nm.Value(i) != maskedName(p.name) {
					t.Fatalf("row %d: name %q is not masked", rows, nm.Value(i))
				}
				if got := birth.Value(i).ToTime().Format(time.DateOnly); got != p.data["birth_date"] {
					t.Fatalf("row %d: birth_date %s, want %s", rows, got, p.data["birth_date"])
				}
				if got := inc.Value(i).ToString(2); got != p.data["income"] {
					t.Fatalf("row %d: income %s, want %s", rows, got, p.data["income"])
				}
				if got := time.UnixMicro(int64(upd.Value(i))).UTC().Format("2006-01-02T15:04:05.000000"); got != p.data["updated_at"] {
					t.Fatalf("row %d: updated_at %s, want %s", rows, got, p.data["updated_at"])
				}
				if p.data["blob"] == nil {
					if !blob.IsNull(i) {
						t.Fatalf("row %d: blob should be null", rows)
					}
				} else if got := base64.StdEncoding.EncodeToString(blob.Value(i)); got != p.data["blob"] {
					t.Fatalf("row %d: blob %s, want %s", rows, got, p.data["blob"])
				}
				rows++
			}
		}
		if rows != len(want) {
			t.Fatalf("read %d rows, want %d", rows, len(want))
		}
	})

	t.Run("metrics", func(t *testing.T) {
		if got := metricValue(t, f.svc.releases); got != 1 {
			t.Errorf("tongban_open_releases_total = %v, want 1", got)
		}
		if got := metricValue(t, f.svc.releaseRow.WithLabelValues(resOpen)); got != float64(len(want)) {
			t.Errorf("tongban_open_release_rows = %v, want %d", got, len(want))
		}
	})

	t.Run("next release", func(t *testing.T) {
		f.now = f.now.Add(time.Hour)
		rel2, err := f.svc.Publish(ctx, resOpen, "tok-admin")
		if err != nil {
			t.Fatal(err)
		}
		if rel2.Number != 2 || rel2.CSV.SHA256 != rel.CSV.SHA256 {
			// Same data, same bytes: the CSV does not depend on the release.
			t.Errorf("second release %d, csv %s; want 2 with the first's CSV digest %s", rel2.Number, rel2.CSV.SHA256, rel.CSV.SHA256)
		}
	})
}

func TestPublishEmpty(t *testing.T) {
	f := newFixture(t, Config{})
	rel, err := f.svc.Publish(context.Background(), resEmpty, "cli")
	if err != nil {
		t.Fatal(err)
	}
	if rel.Rows != 0 {
		t.Fatalf("rows %d, want 0", rel.Rows)
	}
	csvBytes, err := os.ReadFile(f.svc.filePath(resEmpty, 1, FormatCSV))
	if err != nil {
		t.Fatal(err)
	}
	if want := "\ufeff" + strings.Join(publishedFields(), ",") + "\r\n"; string(csvBytes) != want {
		t.Errorf("CSV %q, want %q", csvBytes, want)
	}
	pf, err := os.Open(f.svc.filePath(resEmpty, 1, FormatParquet))
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	tbl, err := pqarrow.ReadTable(context.Background(), pf, nil, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	if tbl.NumRows() != 0 || tbl.NumCols() != int64(len(publishedFields())) {
		t.Errorf("Parquet: %d rows, %d columns; want 0 rows, %d columns", tbl.NumRows(), tbl.NumCols(), len(publishedFields()))
	}
}

func TestPublishRefuses(t *testing.T) {
	f := newFixture(t, Config{})
	ctx := context.Background()
	cases := []struct {
		code, actor string
		is          error
		msg         string
	}{
		{resCond, "a", ErrNotOpen, "开放申请尚未建设"},
		{resShut, "a", ErrNotOpen, "不予开放（依据：涉及个人隐私）"},
		{"NOPE-001", "a", ErrUnknownResource, "NOPE-001"},
		{"../../etc", "a", ErrUnknownResource, "not in the catalog"},
		{resOpen, "", nil, "actor"},
	}
	for _, c := range cases {
		t.Run(c.code, func(t *testing.T) {
			_, err := f.svc.Publish(ctx, c.code, c.actor)
			if err == nil || (c.is != nil && !errors.Is(err, c.is)) || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("Publish(%s) = %v; want %v containing %q", c.code, err, c.is, c.msg)
			}
		})
	}
	var noe *NotOpenError
	if _, err := f.svc.Dataset(ctx, resCond); !errors.As(err, &noe) || noe.OpenType != catalog.OpenConditional {
		t.Errorf("Dataset(conditional) = %v, want a NotOpenError", err)
	}
	if ents, _ := os.ReadDir(f.dir); len(ents) != 0 {
		t.Errorf("refused publications left %v in the directory", ents)
	}
	if got, _ := f.db.LatestOpenReleases(ctx); len(got) != 0 {
		t.Errorf("refused publications recorded %v", got)
	}
}

func TestPublishNothingToPublish(t *testing.T) {
	f := newFixture(t, Config{})
	res := &f.svc.cat.Resources[3] // resEmpty
	fields := make([]schemas.Field, len(res.Schema.Fields))
	for i, fl := range res.Schema.Fields {
		fl.Sensitivity = []string{schemas.SensitivitySecret, schemas.SensitivityInternal}[i%2]
		fields[i] = fl
	}
	res.Schema = schemas.Schema{Fields: fields}
	if _, err := f.svc.Publish(context.Background(), resEmpty, "a"); !errors.Is(err, ErrNothingToPublish) || !strings.Contains(err.Error(), "没有可公开的信息项") {
		t.Fatalf("Publish(all fields withheld) = %v, want ErrNothingToPublish", err)
	}
}

func TestOpenAndDatasets(t *testing.T) {
	f := newFixture(t, Config{})
	ctx := context.Background()
	f.fill(t, people(t, 30))
	if _, err := f.svc.Open(ctx, resOpen, 0, FormatCSV); !errors.Is(err, ErrNoRelease) {
		t.Fatalf("Open before any release: %v, want ErrNoRelease", err)
	}
	ds, err := f.svc.Datasets(ctx)
	if err != nil || len(ds) != 2 || ds[0].Resource.Code != resOpen || ds[1].Resource.Code != resEmpty || ds[0].Latest != nil || ds[0].ProviderName != "市公安局" {
		t.Fatalf("Datasets = %+v, %v; want the two open resources without releases", ds, err)
	}
	rel, err := f.svc.Publish(ctx, resOpen, "tok")
	if err != nil {
		t.Fatal(err)
	}
	ds, _ = f.svc.Datasets(ctx)
	if ds[0].Latest == nil || ds[0].Latest.Number != 1 || ds[1].Latest != nil {
		t.Errorf("Datasets after a release: %+v", ds)
	}
	for _, c := range []struct {
		n      int64
		format string
		want   store.OpenReleaseFile
		ctype  string
	}{{0, FormatCSV, rel.CSV, ContentTypeCSV}, {1, FormatParquet, rel.Parquet, ContentTypeParquet}} {
		fl, err := f.svc.Open(ctx, resOpen, c.n, c.format)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(fl.Content)
		_ = fl.Content.Close()
		if err != nil || sha(b) != c.want.SHA256 || fl.Digest != c.want.SHA256 || fl.ContentType != c.ctype ||
			fl.Name != resOpen+"-r1."+c.format || fl.Size != c.want.Bytes {
			t.Errorf("Open(%d, %s) = %+v, %d bytes, %v", c.n, c.format, fl, len(b), err)
		}
		if got := metricValue(t, f.svc.downloaded.WithLabelValues(c.format)); got != float64(c.want.Bytes) {
			t.Errorf("download bytes %s = %v, want %d", c.format, got, c.want.Bytes)
		}
	}
	if _, err := f.svc.Open(ctx, resOpen, 1, "xlsx"); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("Open(xlsx) = %v, want ErrUnknownFormat", err)
	}
	if _, err := f.svc.Open(ctx, resOpen, 2, FormatCSV); !errors.Is(err, ErrNoRelease) {
		t.Errorf("Open(release 2) = %v, want ErrNoRelease", err)
	}
	if _, err := f.svc.Open(ctx, resShut, 1, FormatCSV); !errors.Is(err, ErrNotOpen) {
		t.Errorf("Open(closed) = %v, want ErrNotOpen", err)
	}
	// A file changed after publication is not served.
	if err := os.WriteFile(f.svc.filePath(resOpen, 1, FormatCSV), []byte("forged"), 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Open(ctx, resOpen, 1, FormatCSV); err == nil || !strings.Contains(err.Error(), "changed after publication") {
		t.Errorf("Open(changed file) = %v", err)
	}
}

func TestFieldPlan(t *testing.T) {
	res := testCatalog(t).Resources[0]
	got := map[string]string{}
	for _, p := range FieldPlan(&res) {
		got[p.Name] = p.Treatment
	}
	cases := []struct{ field, want string }{
		{"citizen_id", store.OpenFieldMasked}, // unclassified person key
		{"name", store.OpenFieldMasked},
		{"sex", store.OpenFieldAsIs},
		{"birth_date", store.OpenFieldAsIs},
		{"phone", store.OpenFieldOmitted},
		{"note", store.OpenFieldOmitted},
		{"household_no", store.OpenFieldMasked},
	}
	for _, c := range cases {
		if got[c.field] != c.want {
			t.Errorf("%s: %q, want %q", c.field, got[c.field], c.want)
		}
	}
	// A legal-person subject key (USCC) is public.
	res.Subject = catalog.Subject{Type: catalog.SubjectLegalPerson, Field: "citizen_id"}
	if p := FieldPlan(&res); p[0].Treatment != store.OpenFieldAsIs {
		t.Errorf("legal-person key: %q, want as_is", p[0].Treatment)
	}
}

func TestParseReleaseRef(t *testing.T) {
	cases := []struct {
		in   string
		n    int64
		fail bool
	}{
		{"latest", 0, false}, {"1", 1, false}, {"42", 42, false}, {"999999999999999999", 999999999999999999, false},
		{"", 0, true}, {"0", 0, true}, {"01", 0, true}, {"-1", 0, true}, {"+1", 0, true}, {" 1", 0, true},
		{"1.0", 0, true}, {"Latest", 0, true}, {"1e3", 0, true}, {"9999999999999999999", 0, true}, {"١", 0, true},
	}
	for _, c := range cases {
		n, err := ParseReleaseRef(c.in)
		if (err != nil) != c.fail || n != c.n {
			t.Errorf("ParseReleaseRef(%q) = %d, %v; want %d, fail %v", c.in, n, err, c.n, c.fail)
		}
	}
}

func FuzzParseReleaseRef(f *testing.F) {
	for _, s := range []string{"latest", "1", "0", "01", "-1", "99999999999999999999", "x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseReleaseRef(s)
		if err != nil {
			if n != 0 {
				t.Fatalf("%q: error %v with n %d", s, err, n)
			}
			return
		}
		if s == Latest {
			if n != 0 {
				t.Fatalf("latest gave %d", n)
			}
			return
		}
		if n < 1 || fmt.Sprint(n) != s {
			t.Fatalf("%q parsed as %d, which does not print back", s, n)
		}
	})
}

// racingStore hides the latest release once, as when another hub sharing
// open_data.dir records it between this hub's read of the latest number
// and the end of its build.
type racingStore struct {
	*store.DB
	hide bool
}

func (r *racingStore) LatestOpenRelease(ctx context.Context, resource string) (store.OpenRelease, error) {
	if r.hide {
		r.hide = false
		return store.OpenRelease{}, store.ErrNotFound
	}
	return r.DB.LatestOpenRelease(ctx, resource)
}

// TestPublishNumberTakenByAnotherHub: a publication whose number another
// hub recorded meanwhile fails and leaves that release's files alone.
func TestPublishNumberTakenByAnotherHub(t *testing.T) {
	f := newFixture(t, Config{})
	f.fill(t, people(t, 20))
	ctx := context.Background()
	first, err := f.svc.Publish(ctx, resOpen, "hub-a")
	if err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(f.svc.filePath(resOpen, first.Number, FormatCSV))
	if err != nil {
		t.Fatal(err)
	}
	rs := &racingStore{DB: f.db, hide: true}
	other, err := New(Config{Store: rs, Catalog: testCatalog(t), Dir: f.dir, Registry: prometheus.NewRegistry(),
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Publish(ctx, resOpen, "hub-b"); !errors.Is(err, ErrReleaseTaken) {
		t.Fatalf("publish over a recorded number: %v, want ErrReleaseTaken", err)
	}
	after, err := os.ReadFile(f.svc.filePath(resOpen, first.Number, FormatCSV))
	if err != nil || !bytes.Equal(after, before) {
		t.Fatalf("release %d's CSV after the refused publication: %v (equal %v)", first.Number, err, bytes.Equal(after, before))
	}
	if _, err := f.svc.Open(ctx, resOpen, first.Number, FormatCSV); err != nil {
		t.Fatalf("release %d no longer downloads: %v", first.Number, err)
	}
	// The next publication takes the next number.
	if next, err := other.Publish(ctx, resOpen, "hub-b"); err != nil || next.Number != first.Number+1 {
		t.Fatalf("next publication: %+v, %v", next, err)
	}
}
