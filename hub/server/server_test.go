package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/tongban/tongban/catalog"
	"github.com/tongban/tongban/hub/auth"
	"github.com/tongban/tongban/schemas"
	"github.com/tongban/tongban/wire"
)

// copyCatalog copies deploy/catalog into a temporary directory.
func copyCatalog(t *testing.T) string {
	t.Helper()
	src := filepath.Join("..", "..", "deploy", "catalog")
	dst := filepath.Join(t.TempDir(), "catalog")
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o750)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func testConfig(t *testing.T, catalogDir string) Config {
	dir := t.TempDir()
	cfg := DefaultConfig()
	cfg.Kafka.Embedded = EmbeddedConfig{Addr: "127.0.0.1:0", Dir: filepath.Join(dir, "kafka")}
	cfg.Store.DSN = filepath.Join(dir, "hub.db")
	cfg.CatalogDir = catalogDir
	cfg.Listen = "127.0.0.1:0"
	// These tests send made-up values ("citizen_id-001") that the catalog's
	// quality rules would quarantine; quality at ingest is tested in
	// hub/ingest, the demo and e2e.
	cfg.Quality.Checks = false
	cfg.Sharing.ListsDir = filepath.Join("..", "..", "deploy", "sharing")
	return cfg
}

func testLogger() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// sample returns a value of field f for row i.
func sample(f schemas.Field, i int) any {
	switch f.Type.Kind {
	case schemas.String:
		return fmt.Sprintf("%s-%03d", f.Name, i)
	case schemas.Int64:
		return int64(1000 + i)
	case schemas.Float64:
		return 1.5
	case schemas.Decimal:
		return "12"
	case schemas.Date:
		return "2000-01-02"
	case schemas.Timestamp:
		return "2000-01-02 03:04:05"
	case schemas.Bool:
		return true
	}
	return []byte("b")
}

// produce writes one upsert batch of n rows of res and returns the keys.
func produce(t *testing.T, brokers []string, topic string, res *catalog.Resource, n int) []string {
	t.Helper()
	b := wire.NewBuilder(nil, res.Schema)
	defer b.Release()
	var keys []string
	for i := 0; i < n; i++ {
		vals := make([]any, len(res.Schema.Fields))
		for j, f := range res.Schema.Fields {
			vals[j] = sample(f, i)
		}
		if err := b.Append(vals, time.Now().UnixMicro()); err != nil {
			t.Fatal(err)
		}
		var parts []string
		for _, k := range res.PrimaryKey {
			f, _ := res.Schema.Field(k)
			parts = append(parts, fmt.Sprint(sample(f, i)))
		}
		keys = append(keys, wire.RecordKey(parts))
	}
	rec := b.NewRecord()
	defer rec.Release()
	payload, err := wire.EncodeRecord(rec)
	if err != nil {
		t.Fatal(err)
	}
	w := &kafka.Writer{Addr: kafka.TCP(brokers...), Topic: topic, Balancer: wire.Balancer{}, RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond}
	defer w.Close()
	m := wire.Meta{Resource: res.Code, Dept: res.Provider, Fingerprint: res.Schema.Fingerprint(), SchemaVersion: 1, BatchID: "test-1", Op: wire.OpUpsert}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.WriteMessages(ctx, wire.Message(m, payload)); err != nil {
		t.Fatal(err)
	}
	return keys
}

func get(t *testing.T, url, token string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	if out == nil {
		out = map[string]any{"raw": string(raw)}
	}
	return resp.StatusCode, out
}

func TestServerRunsAndRestarts(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig(t, copyCatalog(t))
	s, err := New(ctx, cfg, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	s.Start(ctx)
	defer s.Close()
	admin, err := auth.Create(ctx, s.Store(), "test", "", auth.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	if status, body := get(t, s.APIURL()+"/healthz", ""); status != 200 {
		t.Fatalf("healthz %d %v", status, body)
	}
	res := &s.Catalog().Resources[0]
	keys := produce(t, s.BrokerAddrs(), cfg.Kafka.IngestTopic, res, 20)
	recordsURL := s.APIURL() + "/api/v1/resources/" + res.Code + "/records?limit=1000"
	deadline := time.Now().Add(60 * time.Second)
	for {
		status, body := get(t, recordsURL, admin)
		if status != 200 {
			t.Fatalf("records: %d %v", status, body)
		}
		if n := len(body["records"].([]any)); n == len(keys) {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("%d of %d records arrived", n, len(keys))
		}
		time.Sleep(50 * time.Millisecond)
	}
	status, body := get(t, s.APIURL()+"/api/v1/ingest/stats", admin)
	if status != 200 || body["ingest"].(map[string]any)["messages"] != 1.0 {
		t.Fatalf("stats %d %v", status, body)
	}
	status, body = get(t, s.APIURL()+"/metrics", "")
	if status != 200 || !strings.Contains(body["raw"].(string), `tongban_hub_ingest_messages_total{outcome="applied"} 1`) ||
		!strings.Contains(body["raw"].(string), "go_goroutines") {
		t.Fatalf("metrics %d", status)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Restart on the same data: topics, records, offsets and schema versions
	// are all still there, and nothing is recorded twice.
	s2, err := New(ctx, cfg, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	s2.Start(ctx)
	defer s2.Close()
	status, body = get(t, s2.APIURL()+"/api/v1/resources/"+res.Code+"/records?key="+keys[3], admin)
	if status != 200 {
		t.Fatalf("after restart: %d %v", status, body)
	}
	vs, err := s2.Store().SchemaVersions(ctx, res.Code)
	if err != nil || len(vs) != 1 {
		t.Fatalf("schema versions after restart: %+v %v", vs, err)
	}
	if s2.IngestStats().DeadLetters != 0 {
		t.Fatal("dead letters after restart")
	}
}

func editFile(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("%s does not contain %q", path, old)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), old, new, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestBadCatalogStopsStartup(t *testing.T) {
	dir := copyCatalog(t)
	editFile(t, filepath.Join(dir, "resources", "population.yaml"), "type: date", "type: datum")
	cfg := testConfig(t, dir)
	cfg.Kafka.Embedded.Addr = "127.0.0.1:1" // never reached: the catalog is checked first
	_, err := New(context.Background(), cfg, testLogger())
	if err == nil || !strings.Contains(err.Error(), "resources/population.yaml:") || !strings.Contains(err.Error(), `"datum"`) {
		t.Fatalf("error %v does not name the file and the bad value", err)
	}
}

func TestSchemaChangeAtStartup(t *testing.T) {
	ctx := context.Background()
	dir := copyCatalog(t)
	cfg := testConfig(t, dir)
	s, err := New(ctx, cfg, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	pop := filepath.Join(dir, "resources", "population.yaml")
	orig, _ := os.ReadFile(pop)

	// Incompatible: a type change is refused, naming resource and field.
	editFile(t, pop, "  - name: birth_date\n    type: date", "  - name: birth_date\n    type: string")
	_, err = New(ctx, cfg, testLogger())
	if err == nil || !strings.Contains(err.Error(), "PS-POP-001") || !strings.Contains(err.Error(), `field "birth_date" changed type from date to string`) {
		t.Fatalf("incompatible change: %v", err)
	}

	// Compatible: an added nullable field becomes version 2.
	if err := os.WriteFile(pop, orig, 0o600); err != nil {
		t.Fatal(err)
	}
	editFile(t, pop, "fields:\n", "fields:\n  - name: email\n    type: string\n    nullable: true\n")
	s, err = New(ctx, cfg, testLogger())
	if err != nil {
		t.Fatalf("compatible change refused: %v", err)
	}
	defer s.Close()
	vs, err := s.Store().SchemaVersions(ctx, "PS-POP-001")
	if err != nil || len(vs) != 2 || vs[1].Version != 2 {
		t.Fatalf("versions %+v %v", vs, err)
	}
}
