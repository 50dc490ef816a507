package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tongban/tongban/catalog"
	"github.com/tongban/tongban/hub/api"
	"github.com/tongban/tongban/hub/audit"
	"github.com/tongban/tongban/hub/auth"
	"github.com/tongban/tongban/hub/licence"
	"github.com/tongban/tongban/hub/store"
)

// TestLicenceCommands runs the licence commands against a real hub API.
func TestLicenceCommands(t *testing.T) {
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
	log := slog.New(slog.DiscardHandler)
	svc, err := licence.New(licence.Config{Store: db, Catalog: cat, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	al, err := audit.New(audit.Config{Store: db, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = al.Close(ctx) })
	h, err := api.New(api.Config{Store: db, Catalog: cat, Licences: svc, Audit: al, Registry: prometheus.NewRegistry(), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	market, err := auth.Create(ctx, db, "m", testDept, auth.RoleDept)
	if err != nil {
		t.Fatal(err)
	}
	civil, err := auth.Create(ctx, db, "c", "112306000128140362", auth.RoleDept)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"type_code": "112306000128140287001", "holder_id": "91230600MA1BX0RF39",
		"holder_name": "大庆某某科技有限公司", "valid_until": licence.LongTerm, "fields": map[string]string{"legal_representative": "张三",
			"registered_capital": "100万元", "business_scope": "软件开发", "address": "大庆市"}})
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/v1/licences", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+market)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var issued struct {
		Licence struct {
			ID string `json:"id"`
		} `json:"licence"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&issued); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("issue: %d %v", resp.StatusCode, err)
	}
	resp.Body.Close()
	id := issued.Licence.ID

	hub := []string{"-hub", srv.URL, "-token", civil}
	code, out, errOut := call(append([]string{"licence", "verify", id, "-purpose", "办理许可", "-item", "ITEM-1"}, hub...)...)
	if code != 0 || !strings.Contains(out, "VALID") || !strings.Contains(out, "营业执照") || !strings.Contains(out, "验证通过") {
		t.Fatalf("verify: %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = call(append([]string{"licence", "verify", id, "-purpose", "办理许可", "-item", "ITEM-1", "-holder", "91110000802100433B"}, hub...)...)
	if code != 1 || !strings.Contains(out, "NOT VALID") || !strings.Contains(out, "holder_mismatch") || !strings.Contains(errOut, "not valid") {
		t.Fatalf("verify with the wrong holder: %d\n%s\n%s", code, out, errOut)
	}
	code, out, _ = call(append([]string{"licence", "verify", id, "-purpose", "办理许可", "-item", "ITEM-1", "-json"}, hub...)...)
	if code != 0 || !strings.Contains(out, `"valid": true`) {
		t.Fatalf("verify -json: %d\n%s", code, out)
	}
	if code, _, errOut := call(append([]string{"licence", "verify", id, "-item", "ITEM-1"}, hub...)...); code != 2 || !strings.Contains(errOut, "-purpose") {
		t.Fatalf("verify without -purpose: %d %s", code, errOut)
	}
	if code, _, errOut := call("licence", "verify", id, "-purpose", "p", "-item", "i", "-hub", srv.URL, "-token", ""); code != 2 || !strings.Contains(errOut, "-token") {
		t.Fatalf("verify without a token: %d %s", code, errOut)
	}
	// The hub's 4xx is shown with the field it names.
	if code, _, errOut := call(append([]string{"licence", "verify", "1.2.156.3005.2.x", "-purpose", "p", "-item", "i"}, hub...)...); code != 1 || !strings.Contains(errOut, "field id") {
		t.Fatalf("verify a malformed id: %d %s", code, errOut)
	}
	code, out, errOut = call("licence", "show", id, "-hub", srv.URL, "-token", market)
	if code != 0 || !strings.Contains(out, "issue") || !strings.Contains(out, "business_scope") || !strings.Contains(out, "001") {
		t.Fatalf("show: %d\n%s\n%s", code, out, errOut)
	}
	if code, _, errOut := call("licence", "show", id, "-hub", srv.URL, "-token", civil); code != 1 || !strings.Contains(errOut, "403") {
		t.Fatalf("show by another department: %d %s", code, errOut)
	}
	if code, out, _ := call("licence", "seal", testDept, "-hub", srv.URL, "-token", civil); code != 0 || !strings.Contains(out, "public key") {
		t.Fatalf("seal: %d %s", code, out)
	}
	if code, _, _ := call("licence", "frobnicate"); code != 2 {
		t.Fatalf("unknown subcommand: %d", code)
	}
}
