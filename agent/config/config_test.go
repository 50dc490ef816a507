package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const good = `
dept: 1123060001281401X7
hub:
  url: http://127.0.0.1:8080/
  token: secret-token
kafka:
  brokers: [127.0.0.1:9092]
resources:
  - code: PS-POP-001
    dsn: "reader:s3cret@tcp(127.0.0.1:3306)/pop"
    table: person
    watermark: updated_at
  - code: PS-POP-002
    dsn: "reader:s3cret@tcp(127.0.0.1:3306)/pop"
    table: other
    columns: {citizen_id: sfzh}
    encodings: {name: GBK}
    primary_key: [citizen_id]
    interval: 30s
    overlap: 0
    reconcile_interval: 0
    chunk_rows: 100
    live: false
`

func TestDefaults(t *testing.T) {
	c, err := Parse("agent.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	checks := []struct {
		name      string
		got, want any
	}{
		{"agent id", c.AgentID, "1123060001281401X7-" + sanitizeID(host)},
		{"hub url", c.Hub.URL, "http://127.0.0.1:8080"},
		{"heartbeat", c.Hub.HeartbeatInterval, DefaultHeartbeatInterval},
		{"topic", c.Kafka.Topic, DefaultTopic},
		{"write timeout", c.Kafka.WriteTimeout, DefaultWriteTimeout},
		{"state dir", c.StateDir, DefaultStateDir},
		{"metrics", c.MetricsListen, DefaultMetricsListen},
		{"queue", c.QueueChunks, DefaultQueueChunks},
		{"r0 connector", c.Resources[0].Connector, "mysql"},
		{"r0 mode", c.Resources[0].Mode, ModeIncremental},
		{"r0 interval", c.Resources[0].Interval, DefaultInterval},
		{"r0 overlap", c.Resources[0].Overlap, DefaultOverlap},
		{"r0 reconcile", c.Resources[0].ReconcileInterval, DefaultReconcileInterval},
		{"r0 chunk rows", c.Resources[0].ChunkRows, DefaultChunkRows},
		{"r1 mode", c.Resources[1].Mode, ModeSnapshot},
		{"r1 interval", c.Resources[1].Interval, 30 * time.Second},
		{"r1 overlap", c.Resources[1].Overlap, time.Duration(0)},
		{"r1 reconcile", c.Resources[1].ReconcileInterval, time.Duration(0)},
		{"r1 chunk rows", c.Resources[1].ChunkRows, 100},
		{"r1 column", c.Resources[1].Columns["citizen_id"], "sfzh"},
		{"r1 encoding", c.Resources[1].Encodings["name"], "gbk"},
		{"r1 line", c.Resources[1].Line, 13},
		{"r0 live", c.Resources[0].Live, true},
		{"r1 live", c.Resources[1].Live, false},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
	if got := strings.Join(c.Codes(), ","); got != "PS-POP-001,PS-POP-002" {
		t.Errorf("codes %s", got)
	}
}

func TestSnapshotModeDefaultInterval(t *testing.T) {
	c, err := Parse("a.yaml", []byte(strings.Replace(good, "    interval: 30s\n", "", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if c.Resources[1].Interval != DefaultSnapshotInterval {
		t.Errorf("snapshot interval %v", c.Resources[1].Interval)
	}
}

// edit replaces old by new in the good config, failing if old is not there.
func edit(t *testing.T, pairs ...string) string {
	t.Helper()
	s := good
	for i := 0; i+1 < len(pairs); i += 2 {
		if !strings.Contains(s, pairs[i]) {
			t.Fatalf("test config has no %q", pairs[i])
		}
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	return s
}

func TestBadConfigs(t *testing.T) {
	tests := []struct {
		name  string
		yaml  string
		line  int
		key   string
		inMsg string
	}{
		{"unknown top key", edit(t, "dept:", "depts: x\ndept:"), 2, "depts", "unknown key"},
		{"unknown resource key", edit(t, "    table: person", "    tabel: person"), 11, "resources[0].tabel", "unknown key"},
		{"missing dept", edit(t, "dept: 1123060001281401X7\n", ""), 0, "dept", "required"},
		{"bad hub url", edit(t, "http://127.0.0.1:8080/", "ftp://x"), 4, "hub.url", "http"},
		{"missing token", edit(t, "  token: secret-token\n", ""), 0, "hub.token", "required"},
		{"bad broker", edit(t, "[127.0.0.1:9092]", "[nohost]"), 7, "kafka.brokers[0]", "host:port"},
		{"no brokers", edit(t, "  brokers: [127.0.0.1:9092]\n", ""), 0, "kafka.brokers", "required"},
		{"bad duration", edit(t, "    interval: 30s", "    interval: 30"), 19, "resources[1].interval", "not a duration"},
		{"negative duration", edit(t, "    interval: 30s", "    interval: -1s"), 19, "resources[1].interval", "negative"},
		{"bad mode", edit(t, "    watermark: updated_at", "    watermark: updated_at\n    mode: fast"), 13, "resources[0].mode", `"fast"`},
		{"incremental without watermark", edit(t, "    primary_key:", "    mode: incremental\n    primary_key:"), 0, "resources[1].watermark", "required for mode incremental"},
		{"duplicate code", edit(t, "PS-POP-002", "PS-POP-001"), 13, "resources[1].code", "also configured"},
		{"bad code", edit(t, "PS-POP-002", "pop"), 13, "resources[1].code", "upper-case"},
		{"unknown connector", edit(t, "    table: person", "    table: person\n    connector: oracle"), 12, "resources[0].connector", "not a built-in"},
		{"missing connector binary", edit(t, "    table: person", "    table: person\n    connector_path: /nonexistent/conn"), 12, "resources[0].connector_path", "no such file"},
		{"both connectors", edit(t, "    table: person", "    table: person\n    connector: mysql\n    connector_path: /bin/sh"), 13, "resources[0].connector_path", "not both"},
		{"missing dsn", edit(t, "    dsn: \"reader:s3cret@tcp(127.0.0.1:3306)/pop\"\n    table: person", "    table: person"), 9, "resources[0].dsn", "required"},
		{"bad encoding", edit(t, "{name: GBK}", "{name: big5}"), 17, "resources[1].encodings.name", "gbk"},
		{"bad chunk rows", edit(t, "chunk_rows: 100", "chunk_rows: 0"), 22, "resources[1].chunk_rows", "want 1 to"},
		{"live not a boolean", edit(t, "live: false", "live: no"), 23, "resources[1].live", "want true or false"},
		{"not a number", edit(t, "chunk_rows: 100", "chunk_rows: many"), 22, "resources[1].chunk_rows", "whole number"},
		{"queue too big", edit(t, "dept:", "queue_chunks: 5000\ndept:"), 2, "queue_chunks", "want 1 to"},
		{"duplicate key", edit(t, "    table: person", "    table: person\n    table: again"), 12, "resources[0].table", "set twice"},
		{"hub not a mapping", edit(t, "hub:\n  url: http://127.0.0.1:8080/\n  token: secret-token", "hub: [1]"), 3, "hub", "mapping"},
		{"resources not a list", edit(t, "resources:", "resources: x\nold:"), 8, "resources", "list"},
		{"bad field name", edit(t, "{citizen_id: sfzh}", "{CitizenID: sfzh}"), 16, "resources[1].columns.CitizenID", "catalog field"},
		{"bad metrics listen", edit(t, "dept:", "metrics_listen: nowhere\ndept:"), 2, "metrics_listen", "host:port"},
		{"invalid yaml", "dept: [unclosed", 1, "", "not valid YAML"},
		{"empty", "", 0, "", "empty"},
		{"scalar root", "just text", 1, "", "mapping"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("agent.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatal("accepted")
			}
			var found bool
			for _, p := range Problems(err) {
				if p.Key == tt.key && strings.Contains(p.Msg, tt.inMsg) && (tt.line == 0 || p.Line == tt.line) {
					found = true
				}
				if p.File != "agent.yaml" {
					t.Errorf("problem names file %q", p.File)
				}
			}
			if !found {
				t.Errorf("no problem with key %q, line %d, message containing %q in:\n%v", tt.key, tt.line, tt.inMsg, err)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error leaks the DSN password: %v", err)
			}
		})
	}
}

func TestTokenFileAndMetricsOff(t *testing.T) {
	dir := t.TempDir()
	tf := filepath.Join(dir, "token")
	if err := os.WriteFile(tf, []byte("  from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "agent.yaml")
	body := edit(t, "  token: secret-token", "  token_file: "+tf, "dept:", "metrics_listen: off\ndept:")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Hub.Token != "from-file" || c.MetricsListen != "" || c.File != path {
		t.Errorf("token %q metrics %q file %q", c.Hub.Token, c.MetricsListen, c.File)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml")); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("missing file: %v", err)
	}
}

func TestRedactDSN(t *testing.T) {
	tests := []struct{ in, want string }{
		{"reader:s3cret@tcp(127.0.0.1:3306)/pop", "reader:***@tcp(127.0.0.1:3306)/pop"},
		{"reader:p@ss:w@tcp(db)/pop?x=1", "reader:***@tcp(db)/pop?x=1"},
		{"reader@tcp(db)/pop", "reader@tcp(db)/pop"},
		{"/pop", "/pop"},
		{"mysql://u:pw@host:3306/db", "mysql://u:***@host:3306/db"},
		{"postgres://u@host/db", "postgres://u@host/db"},
	}
	for _, tt := range tests {
		if got := RedactDSN(tt.in); got != tt.want {
			t.Errorf("RedactDSN(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	r := Resource{Code: "X", DSN: "u:topsecret@tcp(h)/d"}
	if v := r.LogValue().String(); strings.Contains(v, "topsecret") {
		t.Errorf("log value leaks password: %s", v)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(good))
	f.Add([]byte("dept: x\nresources: [{code: A}]"))
	f.Add([]byte("a: &x [*x]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.yaml", data)
		if err != nil {
			if len(Problems(err)) == 0 && !strings.Contains(err.Error(), "fuzz.yaml") {
				t.Fatalf("error without file name: %v", err)
			}
			return
		}
		if c.Dept == "" || c.Hub.URL == "" || c.Hub.Token == "" || len(c.Kafka.Brokers) == 0 || len(c.Resources) == 0 || c.QueueChunks < 1 {
			t.Fatalf("accepted incomplete config %+v", c)
		}
		for _, r := range c.Resources {
			if r.ChunkRows < 1 || r.Interval <= 0 || r.DSN == "" || r.Table == "" || (r.Mode == ModeIncremental && r.Watermark == "") {
				t.Fatalf("accepted incomplete resource %+v", r)
			}
		}
	})
}
