package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tongban/tongban/hub/auth"
	"github.com/tongban/tongban/hub/live"
	"github.com/tongban/tongban/hub/store"
)

// liveFixture is an API with a real live router; resA is live.
func liveFixture(t *testing.T, timeout time.Duration) (*fixture, *live.Router) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{Driver: store.DriverSQLite, DSN: filepath.Join(t.TempDir(), "hub.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	cat := testCatalog(t)
	cat.Resources[0].Live = true
	f := &fixture{t: t, db: db}
	for _, tk := range []struct {
		dst              *string
		name, dept, role string
	}{{&f.admin, "ops", "", auth.RoleAdmin}, {&f.a, "a", deptA, auth.RoleDept}, {&f.b, "b", deptB, auth.RoleDept}} {
		if *tk.dst, err = auth.Create(ctx, db, tk.name, tk.dept, tk.role); err != nil {
			t.Fatal(err)
		}
	}
	reg := prometheus.NewRegistry()
	rt, err := live.New(live.Config{Catalog: cat, Timeout: timeout, Registry: reg, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(Config{Store: db, Catalog: cat, Live: rt, Registry: reg, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(h)
	t.Cleanup(f.srv.Close)
	return f, rt
}

// httpAgent plays department A's agent over the HTTP routes: it polls and
// answers every request with answer(resource, key) until ctx ends.
func httpAgent(ctx context.Context, f *fixture, token string, answer func(res string, key []string) map[string]any) *sync.WaitGroup {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, f.srv.URL+Prefix+"/live/poll?agent_id=ag1&wait=1s&max=5&resources="+resA, nil)
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return
			}
			var page livePollResponse
			err = json.NewDecoder(resp.Body).Decode(&page)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 {
				return
			}
			var answers []map[string]any
			for _, q := range page.Requests {
				a := answer(q.Resource, q.Key)
				a["id"] = q.ID
				answers = append(answers, a)
			}
			if len(answers) == 0 {
				continue
			}
			body, _ := json.Marshal(map[string]any{"answers": answers})
			preq, _ := http.NewRequestWithContext(ctx, http.MethodPost, f.srv.URL+Prefix+"/live/answers", strings.NewReader(string(body)))
			preq.Header.Set("Authorization", "Bearer "+token)
			if resp, err := http.DefaultClient.Do(preq); err == nil {
				resp.Body.Close()
			}
		}
	}()
	return &wg
}

func lookupPath(res, key string) string {
	return Prefix + "/live/lookup/" + res + "?key=" + url.QueryEscape(key)
}

func TestLiveLookupThroughAgent(t *testing.T) {
	f, rt := liveFixture(t, 20*time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	wg := httpAgent(ctx, f, f.a, func(res string, key []string) map[string]any {
		switch key[0] {
		case "91230600MA00000001":
			return map[string]any{"found": true, "version": 77, "data": map[string]any{"uscc": key[0], "name": "公司一", "capital": "100.00"}}
		case "broken":
			return map[string]any{"error": "数据库连接失败 / database unreachable"}
		}
		return map[string]any{"found": false, "version": 78}
	})
	defer func() { cancel(); wg.Wait() }()
	for rt.Online(deptA, "") == 0 {
		time.Sleep(5 * time.Millisecond)
	}

	tests := []struct {
		key     string
		status  int
		found   bool
		name    string
		version float64
	}{
		{"91230600MA00000001", 200, true, "公司一", 77},
		{"91230600MA00000404", 200, false, "", 78},
		{"broken", http.StatusBadGateway, false, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			code, body, _ := f.call("GET", lookupPath(resA, tt.key), f.admin, "")
			if code != tt.status {
				t.Fatalf("status %d, want %d: %v", code, tt.status, body)
			}
			if code != 200 {
				if msg, _ := body["error"].(string); !strings.Contains(msg, deptA) || !strings.Contains(msg, "database unreachable") {
					t.Errorf("error %q does not name the department and the agent's reason", msg)
				}
				return
			}
			if body["found"] != tt.found || body["version"] != tt.version || body["dept"] != deptA {
				t.Errorf("answer %v", body)
			}
			data, _ := body["data"].(map[string]any)
			if tt.found && (data["name"] != tt.name || data["uscc"] != tt.key) {
				t.Errorf("data %v", data)
			}
			if !tt.found && data != nil {
				t.Errorf("not found but data %v", data)
			}
		})
	}
}

func TestLiveOfflineAndTimeout(t *testing.T) {
	f, rt := liveFixture(t, 50*time.Millisecond)
	code, body, hdr := f.call("GET", lookupPath(resA, "k"), f.admin, "")
	if msg, _ := body["error"].(string); code != http.StatusServiceUnavailable || !strings.Contains(msg, deptA) || hdr.Get("Retry-After") == "" {
		t.Fatalf("offline: %d %v (Retry-After %q), want 503 naming %s", code, body, hdr.Get("Retry-After"), deptA)
	}
	// One poll that takes nothing: online, but nobody answers.
	if code, body, _ := f.call("GET", Prefix+"/live/poll?agent_id=ag1&wait=0", f.a, ""); code != 200 {
		t.Fatalf("poll: %d %v", code, body)
	} else if reqs, ok := body["requests"].([]any); !ok || len(reqs) != 0 {
		t.Fatalf("poll answer %v, want an empty list", body)
	}
	if rt.Online(deptA, "") != 1 {
		t.Fatal("agent not online after its poll")
	}
	code, body, _ = f.call("GET", lookupPath(resA, "k"), f.admin, "")
	if msg, _ := body["error"].(string); code != http.StatusGatewayTimeout || !strings.Contains(msg, deptA) {
		t.Fatalf("timeout: %d %v, want 504 naming %s", code, body, deptA)
	}
	// Department B's poll never sees A's lookups.
	if code, body, _ := f.call("GET", Prefix+"/live/poll?agent_id=bg1&wait=0", f.b, ""); code != 200 || len(body["requests"].([]any)) != 0 {
		t.Fatalf("B poll: %d %v", code, body)
	}
}

func TestLiveBadRequests(t *testing.T) {
	f, _ := liveFixture(t, time.Second)
	answers := func(s string) string { return `{"answers":[` + s + `]}` }
	tests := []struct {
		name, method, path, token, body string
		status                          int
		field                           string
	}{
		{"poll needs a dept token", "GET", "/live/poll?agent_id=x", "admin", "", 403, "Authorization"},
		{"poll without agent_id", "GET", "/live/poll", "a", "", 400, "agent_id"},
		{"poll wait too long", "GET", "/live/poll?agent_id=x&wait=31s", "a", "", 400, "wait"},
		{"poll wait not a duration", "GET", "/live/poll?agent_id=x&wait=soon", "a", "", 400, "wait"},
		{"poll max zero", "GET", "/live/poll?agent_id=x&max=0", "a", "", 400, "max"},
		{"poll another dept's resource", "GET", "/live/poll?agent_id=x&resources=" + resA + "," + resB, "a", "", 403, "resources"},
		{"poll unknown resource", "GET", "/live/poll?agent_id=x&resources=NOPE-1", "a", "", 404, "resources"},
		{"poll unknown parameter", "GET", "/live/poll?agent_id=x&sql=1", "a", "", 400, "sql"},
		{"answers need a dept token", "POST", "/live/answers", "admin", answers(""), 403, "Authorization"},
		{"answer without id", "POST", "/live/answers", "a", answers(`{"found":false}`), 400, "answers[0].id"},
		{"answer unknown key", "POST", "/live/answers", "a", answers(`{"id":"x","sql":"drop"}`), 400, "sql"},
		{"answer error and found", "POST", "/live/answers", "a", answers(`{"id":"x","found":true,"error":"e"}`), 400, "answers[0].found"},
		{"answer negative version", "POST", "/live/answers", "a", answers(`{"id":"x","version":-1}`), 400, "answers[0].version"},
		{"lookup needs admin", "GET", lookupPath(resA, "k")[len(Prefix):], "a", "", 403, "Authorization"},
		{"lookup unknown resource", "GET", lookupPath("NOPE-1", "k")[len(Prefix):], "admin", "", 404, "code"},
		{"lookup not live", "GET", lookupPath(resB, "1")[len(Prefix):], "admin", "", 400, "resource"},
		{"lookup without key", "GET", "/live/lookup/" + resA, "admin", "", 400, "key"},
		{"lookup key too long", "GET", lookupPath(resA, "a\x1fb")[len(Prefix):], "admin", "", 400, "key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := map[string]string{"admin": f.admin, "a": f.a}[tt.token]
			code, body, _ := f.call(tt.method, Prefix+tt.path, tok, tt.body)
			if code != tt.status || body["field"] != tt.field {
				t.Fatalf("%s %s: %d %v, want %d on %q", tt.method, tt.path, code, body, tt.status, tt.field)
			}
		})
	}
	// Unknown (or another department's) ids are accepted and ignored.
	code, body, _ := f.call("POST", Prefix+"/live/answers", f.a, answers(`{"id":"nope","found":false}`))
	if code != 200 || body["received"] != float64(1) {
		t.Fatalf("unknown id: %d %v", code, body)
	}
}

func TestLiveRoutesAbsentWithoutRouter(t *testing.T) {
	f := newFixture(t)
	code, body, _ := f.call("GET", lookupPath(resA, "k"), f.admin, "")
	if code != 404 || body["field"] != "path" {
		t.Fatalf("without a router: %d %v, want 404", code, body)
	}
}

func FuzzLivePollQuery(f *testing.F) {
	for _, s := range []string{"agent_id=a&wait=1s", "agent_id=a&wait=30", "agent_id=a&max=100&wait=0", "wait=-1s", "max=1e3", "agent_id=%ff"} {
		f.Add(s)
	}
	fx, _ := liveFixtureF(f)
	f.Fuzz(func(t *testing.T, q string) {
		req, err := http.NewRequest("GET", fx.srv.URL+Prefix+"/live/poll?"+q, nil)
		if err != nil {
			return
		}
		// Never wait in the fuzzer: only the validation is under test.
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		req = req.WithContext(ctx)
		req.Header.Set("Authorization", "Bearer "+fx.a)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return // the wait outlived the fuzzer's patience: a valid query
		}
		defer resp.Body.Close()
		if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			return // net/http refused the request line itself
		}
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatalf("%q: answer is not JSON: %v", q, err)
		}
		if resp.StatusCode >= 500 && resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("%q: %d %v", q, resp.StatusCode, out)
		}
		if resp.StatusCode == 400 && out["field"] == "" {
			t.Fatalf("%q: 400 without a field: %v", q, out)
		}
	})
}

// liveFixtureF is liveFixture for a fuzz target.
func liveFixtureF(f *testing.F) (*fixture, *live.Router) {
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{Driver: store.DriverSQLite, DSN: filepath.Join(f.TempDir(), "hub.db")})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = db.Close() })
	cat := testCatalog(f)
	cat.Resources[0].Live = true
	fx := &fixture{db: db}
	if fx.a, err = auth.Create(ctx, db, "a", deptA, auth.RoleDept); err != nil {
		f.Fatal(err)
	}
	rt, err := live.New(live.Config{Catalog: cat, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		f.Fatal(err)
	}
	h, err := New(Config{Store: db, Catalog: cat, Live: rt, Registry: prometheus.NewRegistry(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		f.Fatal(err)
	}
	fx.srv = httptest.NewServer(h)
	f.Cleanup(fx.srv.Close)
	return fx, rt
}
