package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tongban/tongban/catalog"
	"github.com/tongban/tongban/hub/api"
	"github.com/tongban/tongban/hub/auth"
	"github.com/tongban/tongban/hub/opendata"
	"github.com/tongban/tongban/hub/store"
)

// openHub serves the API with the portal on the example catalog, two
// legal-person records stored; it returns the URL and an admin token.
func openHub(t *testing.T) (string, string) {
	t.Helper()
	ctx := context.Background()
	cat, err := catalog.Load(filepath.Join("..", "..", "deploy", "catalog"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, store.Config{Driver: store.DriverSQLite, DSN: filepath.Join(t.TempDir(), "hub.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	var recs []store.Record
	for _, k := range []string{"91230600MA1A2B3C4D", "91230600MA1A2B3C5E"} {
		data, _ := json.Marshal(map[string]any{"uscc": k, "name": "大庆某公司", "legal_rep": "王小明", "registered_capital": "100.00",
			"established": "2020-01-02", "address": nil, "status": "存续", "updated_at": "2026-01-01T00:00:00.000000"})
		recs = append(recs, store.Record{Resource: "MR-LP-001", Key: k, Dept: "112306000128140287", Version: 1, Data: data})
	}
	if _, err := db.ApplyRecords(ctx, recs); err != nil {
		t.Fatal(err)
	}
	token, err := auth.Create(ctx, db, "ops", "", auth.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	svc, err := opendata.New(opendata.Config{Store: db, Catalog: cat, Dir: filepath.Join(t.TempDir(), "open"), Registry: reg,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	h, err := api.New(api.Config{Store: db, Catalog: cat, OpenData: svc, Registry: reg, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL, token
}

func TestOpenCommands(t *testing.T) {
	t.Setenv(tokenEnv, "")
	url, token := openHub(t)
	cases := []struct {
		name     string
		args     []string
		code     int
		contains []string
	}{
		{"list before", []string{"open", "list", "-hub", url}, 0, []string{"MR-LP-001", "法人基本信息", "每日 (daily)"}},
		{"no token", []string{"open", "publish", "-hub", url, "MR-LP-001"}, 2, []string{"admin token"}},
		{"no code", []string{"open", "publish", "-hub", url, "-token", token}, 2, []string{"exactly one resource code"}},
		{"closed", []string{"open", "publish", "-hub", url, "-token", token, "PS-POP-001"}, 1, []string{"不予开放", "field resource"}},
		{"bad token", []string{"open", "publish", "-hub", url, "-token", "tb_nope", "MR-LP-001"}, 1, []string{"401"}},
		{"publish", []string{"open", "publish", "-hub", url, "-token", token, "MR-LP-001"}, 0,
			[]string{"release 1", "2 行 rows", "/open/v1/datasets/MR-LP-001/releases/1/data.csv", "legal_rep 脱敏公开 (masked)"}},
		{"list after", []string{"open", "list", "-hub", url}, 0, []string{"MR-LP-001", "  1  ", "  2  "}},
		{"list json", []string{"open", "list", "-hub", url, "-json"}, 0, []string{`"latest_release":{`}},
		{"unknown verb", []string{"open", "frob"}, 2, []string{"want publish or list"}},
		{"hub down", []string{"open", "list", "-hub", "http://127.0.0.1:1"}, 1, []string{"is it running?"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := call(c.args...)
			all := out + errOut
			if code != c.code {
				t.Fatalf("exit %d, want %d:\n%s", code, c.code, all)
			}
			for _, w := range c.contains {
				if !strings.Contains(all, w) {
					t.Errorf("output lacks %q:\n%s", w, all)
				}
			}
		})
	}
}

func TestHubURL(t *testing.T) {
	dir := t.TempDir()
	write := func(listen string) string {
		p := filepath.Join(dir, strings.NewReplacer(":", "_", ".", "_").Replace(listen)+".yaml")
		if err := os.WriteFile(p, []byte("listen: \""+listen+"\"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct{ listen, want string }{
		{"127.0.0.1:8080", "http://127.0.0.1:8080"},
		{":9090", "http://127.0.0.1:9090"},
		{"0.0.0.0:80", "http://127.0.0.1:80"},
		{"127.0.0.1:0", ""},
	}
	for _, c := range cases {
		got, err := hubURL(write(c.listen), "")
		if got != c.want || (c.want == "") != (err != nil) {
			t.Errorf("listen %q: %q, %v; want %q", c.listen, got, err, c.want)
		}
	}
	if got, err := hubURL("/nonexistent.yaml", "http://hub:1/"); err != nil || got != "http://hub:1" {
		t.Errorf("-hub: %q, %v", got, err)
	}
}
