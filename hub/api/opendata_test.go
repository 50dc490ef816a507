package api

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tongban/tongban/catalog"
	"github.com/tongban/tongban/hub/ingest"
	"github.com/tongban/tongban/hub/opendata"
	"github.com/tongban/tongban/hub/store"
	"github.com/tongban/tongban/schemas"
)

const resCond = "CA-COND-001"

// openCatalog is testCatalog with B closed, a conditional resource, and
// A's name field classified personal.
func openCatalog(t testing.TB) *catalog.Catalog {
	cat := testCatalog(t)
	cat.Resources[0].Schema.Fields[1].Sensitivity = schemas.SensitivityPersonal
	cat.Resources[1].OpenType, cat.Resources[1].OpenBasis = catalog.OpenClosed, "涉及个人隐私"
	c := cat.Resources[1]
	c.Code, c.OpenType, c.OpenBasis = resCond, catalog.OpenConditional, "需经申请"
	cat.Resources = append(cat.Resources, c)
	return cat
}

// newOpenDataServer serves the API with the portal on db.
func newOpenDataServer(t testing.TB, db *store.DB) (*httptest.Server, *opendata.Service) {
	t.Helper()
	reg := prometheus.NewRegistry()
	cat := openCatalog(t)
	svc, err := opendata.New(opendata.Config{Store: db, Catalog: cat, Dir: filepath.Join(t.TempDir(), "open"), Registry: reg,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(Config{Store: db, Catalog: cat, OpenData: svc, Registry: reg, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, svc
}

func newOpenDataFixture(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t)
	f.srv, _ = newOpenDataServer(t, f.db)
	return f
}

// get fetches path without a token, with optional header pairs.
func (f *fixture) get(path string, hdr ...string) (*http.Response, []byte) {
	f.t.Helper()
	req, err := http.NewRequest("GET", f.srv.URL+path, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return resp, b
}

func TestOpenDataPublishAndList(t *testing.T) {
	f := newOpenDataFixture(t)
	code, body, _ := f.call("GET", OpenPrefix+"/datasets", "", "")
	if code != 200 {
		t.Fatalf("datasets: %d %v", code, body)
	}
	ds := body["datasets"].([]any)
	if len(ds) != 1 || ds[0].(map[string]any)["code"] != resA || ds[0].(map[string]any)["latest_release"] != nil ||
		ds[0].(map[string]any)["title"] != "资源 "+resA || ds[0].(map[string]any)["provider_name"] != "市场监管局" {
		t.Fatalf("datasets before publishing: %v", ds)
	}

	cases := []struct {
		name, token, body string
		status            int
		field, msg        string
	}{
		{"no token", "", `{"resource":"` + resA + `"}`, 401, "Authorization", ""},
		{"dept token", f.a, `{"resource":"` + resA + `"}`, 403, "Authorization", ""},
		{"no resource", f.admin, `{}`, 400, "resource", "缺少 resource"},
		{"unknown resource", f.admin, `{"resource":"NOPE-001"}`, 400, "resource", "不在目录中"},
		{"unknown key", f.admin, `{"resource":"` + resA + `","when":"now"}`, 400, "when", ""},
		{"closed", f.admin, `{"resource":"` + resB + `"}`, 409, "resource", "不予开放"},
		{"conditional", f.admin, `{"resource":"` + resCond + `"}`, 409, "resource", "申请"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, body, _ := f.call("POST", Prefix+"/open/releases", c.token, c.body)
			if code != c.status || body["field"] != c.field || !strings.Contains(fmt.Sprint(body["error"]), c.msg) {
				t.Fatalf("%d %v; want %d naming %q with %q", code, body, c.status, c.field, c.msg)
			}
		})
	}

	code, rel, _ := f.call("POST", Prefix+"/open/releases", f.admin, `{"resource":"`+resA+`"}`)
	if code != 201 || rel["number"] != 1.0 || rel["rows"] != 5.0 || rel["published_by"] == "" || rel["resource"] != resA {
		t.Fatalf("publish: %d %v", code, rel)
	}
	files := rel["files"].(map[string]any)
	if u := files["csv"].(map[string]any)["url"]; u != OpenPrefix+"/datasets/"+resA+"/releases/1/data.csv" {
		t.Errorf("csv url %v", u)
	}
	var treat []string
	for _, fl := range rel["fields"].([]any) {
		m := fl.(map[string]any)
		treat = append(treat, fmt.Sprintf("%s:%s:%s", m["name"], m["treatment"], m["treatment_zh"]))
	}
	if got := strings.Join(treat, " "); got != "uscc:as_is:原样公开 name:masked:脱敏公开 capital:as_is:原样公开" {
		t.Errorf("fields %s", got)
	}
	if code, _, _ := f.call("POST", Prefix+"/open/releases", f.admin, `{"resource":"`+resA+`"}`); code != 201 {
		t.Fatalf("second publish: %d", code)
	}

	code, body, _ = f.call("GET", OpenPrefix+"/datasets", "", "")
	latest := body["datasets"].([]any)[0].(map[string]any)["latest_release"].(map[string]any)
	if code != 200 || latest["number"] != 2.0 || latest["published_by"] != nil {
		t.Errorf("datasets after publishing: %d %v", code, latest)
	}
	code, body, _ = f.call("GET", OpenPrefix+"/datasets/"+resA, "", "")
	if code != 200 || body["update_cycle_zh"] != "每日" || body["latest_release"].(map[string]any)["number"] != 2.0 {
		t.Errorf("dataset: %d %v", code, body)
	}
	code, body, _ = f.call("GET", OpenPrefix+"/datasets/"+resA+"/releases", "", "")
	if rs := body["releases"].([]any); code != 200 || len(rs) != 2 || rs[0].(map[string]any)["number"] != 2.0 || body["next_before"] != nil {
		t.Errorf("releases: %d %v", code, body)
	}
	code, body, _ = f.call("GET", OpenPrefix+"/datasets/"+resA+"/releases?limit=1", "", "")
	if rs := body["releases"].([]any); code != 200 || len(rs) != 1 || body["next_before"] != 2.0 {
		t.Errorf("releases limit 1: %d %v", code, body)
	}
	code, body, _ = f.call("GET", OpenPrefix+"/datasets/"+resA+"/releases?before=2", "", "")
	if rs := body["releases"].([]any); code != 200 || len(rs) != 1 || rs[0].(map[string]any)["number"] != 1.0 {
		t.Errorf("releases before 2: %d %v", code, body)
	}
	code, body, _ = f.call("GET", OpenPrefix+"/datasets/"+resA+"/releases/latest", "", "")
	if code != 200 || body["number"] != 2.0 {
		t.Errorf("release latest: %d %v", code, body)
	}
}

func TestOpenDataDownload(t *testing.T) {
	f := newOpenDataFixture(t)
	if code, body, _ := f.call("POST", Prefix+"/open/releases", f.admin, `{"resource":"`+resA+`"}`); code != 201 {
		t.Fatalf("publish: %d %v", code, body)
	}
	base := OpenPrefix + "/datasets/" + resA + "/releases/"
	_, rel, _ := f.call("GET", base+"1", "", "")
	csvSum := rel["files"].(map[string]any)["csv"].(map[string]any)["sha256"].(string)

	resp, full := f.get(base + "1/data.csv")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" || resp.Header.Get("ETag") != `"`+csvSum+`"` ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), `filename=`+resA+`-r1.csv`) || resp.Header.Get("Last-Modified") == "" ||
		resp.Header.Get("Accept-Ranges") != "bytes" || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
		t.Fatalf("csv: %d %v", resp.StatusCode, resp.Header)
	}
	if !bytes.HasPrefix(full, []byte("\ufeff")) {
		t.Fatal("csv lacks the BOM")
	}
	lines, err := csv.NewReader(bytes.NewReader(full[3:])).ReadAll()
	if err != nil || len(lines) != 6 || strings.Join(lines[0], ",") != "uscc,name,capital" ||
		strings.Join(lines[1], ",") != "91230600MA00000001,公**,100.00" {
		t.Fatalf("csv content %q, %v", lines, err)
	}
	if bytes.Contains(full, []byte("公司1")) {
		t.Error("csv carries a raw personal value")
	}

	// Range: the first ten bytes, then the rest from byte 10.
	resp, part := f.get(base+"1/data.csv", "Range", "bytes=0-9")
	if resp.StatusCode != 206 || !bytes.Equal(part, full[:10]) || resp.Header.Get("Content-Range") != fmt.Sprintf("bytes 0-9/%d", len(full)) {
		t.Errorf("range 0-9: %d %q %v", resp.StatusCode, part, resp.Header)
	}
	resp, part = f.get(base+"1/data.csv", "Range", "bytes=10-", "If-Range", `"`+csvSum+`"`)
	if resp.StatusCode != 206 || !bytes.Equal(part, full[10:]) {
		t.Errorf("range 10- with If-Range: %d, %d bytes", resp.StatusCode, len(part))
	}
	resp, _ = f.get(base+"1/data.csv", "Range", fmt.Sprintf("bytes=%d-", len(full)+5))
	if resp.StatusCode != 416 {
		t.Errorf("range past the end: %d", resp.StatusCode)
	}
	resp, part = f.get(base+"1/data.csv", "If-None-Match", `"`+csvSum+`"`)
	if resp.StatusCode != 304 || len(part) != 0 {
		t.Errorf("If-None-Match: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest("HEAD", f.srv.URL+base+"1/data.csv", nil)
	if hr, err := http.DefaultClient.Do(req); err != nil || hr.StatusCode != 200 || hr.ContentLength != int64(len(full)) {
		t.Errorf("HEAD: %v %v", hr, err)
	} else {
		hr.Body.Close()
	}

	// The latest Parquet file reads back with the records.
	resp, pq := f.get(base + "latest/data.parquet")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/vnd.apache.parquet" ||
		resp.Header.Get("Content-Location") != base+"1/data.parquet" || resp.Header.Get("Cache-Control") != "no-cache" ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), resA+"-r1.parquet") {
		t.Fatalf("parquet: %d %v", resp.StatusCode, resp.Header)
	}
	tbl, err := pqarrow.ReadTable(context.Background(), bytes.NewReader(pq), nil, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	if tbl.NumRows() != 5 || tbl.NumCols() != 3 {
		t.Errorf("parquet: %d rows, %d columns; want 5, 3", tbl.NumRows(), tbl.NumCols())
	}

	// Errors: JSON naming the field.
	errs := []struct {
		path   string
		status int
		field  string
	}{
		{base + "2/data.csv", 404, "release"},
		{base + "0/data.csv", 404, "release"},
		{base + "abc/data.parquet", 404, "release"},
		{base + "01/data.csv", 404, "release"},
		{base + "9", 404, "release"},
		{OpenPrefix + "/datasets/NOPE-001/releases/1/data.csv", 404, "code"},
		{OpenPrefix + "/datasets/NOPE-001", 404, "code"},
		{OpenPrefix + "/datasets/" + resB, 403, "code"},
		{OpenPrefix + "/datasets/" + resB + "/releases/latest/data.csv", 403, "code"},
		{OpenPrefix + "/datasets/" + resCond + "/releases", 403, "code"},
		{OpenPrefix + "/datasets/" + resA + "/releases?limit=0", 400, "limit"},
		{OpenPrefix + "/datasets/" + resA + "/releases?before=x", 400, "before"},
		{base + "1/data.csv?x=1", 400, "x"},
		{base + "1/data.xlsx", 404, "path"},
	}
	for _, c := range errs {
		code, body, _ := f.call("GET", c.path, "", "")
		if code != c.status || body["field"] != c.field || body["error"] == "" {
			t.Errorf("GET %s: %d %v; want %d naming %q", c.path, code, body, c.status, c.field)
		}
	}
	_, metrics := f.get("/metrics")
	for _, want := range []string{"tongban_open_releases_total 1", `tongban_open_release_rows{resource="MR-LP-001"} 5`,
		fmt.Sprintf(`tongban_open_download_bytes_total{format="parquet"} %d`, len(pq))} {
		if !bytes.Contains(metrics, []byte(want)) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// FuzzOpenDataReleasePath sends any release reference to the download and
// manifest routes: the answer is a file, or a JSON 4xx naming the field;
// never a 5xx.
func FuzzOpenDataReleasePath(f *testing.F) {
	for _, s := range []string{"1", "latest", "2", "0", "-1", "abc", "01", "99999999999999999999", "1%2F..", "%00"} {
		f.Add(s)
	}
	db, err := store.Open(context.Background(), store.Config{Driver: store.DriverSQLite, DSN: filepath.Join(f.TempDir(), "hub.db")})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = db.Close() })
	if _, err := ingest.SyncSchemas(context.Background(), db, openCatalog(f).Resources); err != nil {
		f.Fatal(err)
	}
	if _, err := db.ApplyRecords(context.Background(), []store.Record{{Resource: resA, Key: "k1", Dept: deptA, Version: 1,
		Data: json.RawMessage(`{"uscc":"k1","name":"张三","capital":"1.00"}`)}}); err != nil {
		f.Fatal(err)
	}
	srv, svc := newOpenDataServer(f, db)
	if _, err := svc.Publish(context.Background(), resA, "fuzz"); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, ref string) {
		for _, suffix := range []string{"", "/data.csv", "/data.parquet"} {
			u := srv.URL + OpenPrefix + "/datasets/" + resA + "/releases/" + url.PathEscape(ref) + suffix
			resp, err := http.Get(u)
			if err != nil {
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.Request.Response != nil {
				continue // the mux redirected a path with dot segments ("." or "..") to its clean form
			}
			switch {
			case resp.StatusCode >= 500:
				t.Fatalf("%q: %d %s", u, resp.StatusCode, body)
			case resp.StatusCode == 200 && ref != "1" && ref != "latest":
				t.Fatalf("%q: 200 for release %q", u, ref)
			case resp.StatusCode == 404 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json"):
				var e errorBody
				if err := json.Unmarshal(body, &e); err != nil || e.Field == "" {
					t.Fatalf("%q: 404 without a field: %s", u, body)
				}
			}
		}
	})
}
