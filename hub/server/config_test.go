package server

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestLoadConfigDefaults(t *testing.T) {
	for _, body := range []string{"", "# only a comment\n", "kafka:\nstore:\n"} {
		path := filepath.Join(t.TempDir(), "hub.yaml")
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := LoadConfig(path)
		if err != nil {
			t.Fatalf("%q: %v", body, err)
		}
		if !reflect.DeepEqual(cfg, DefaultConfig()) {
			t.Fatalf("%q: got %+v, want the defaults", body, cfg)
		}
	}
}

func TestDeployExampleIsTheDefaults(t *testing.T) {
	// deploy/hub.yaml documents every option with its default value.
	cfg, err := LoadConfig(filepath.Join("..", "..", "deploy", "hub.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg, DefaultConfig()) {
		t.Fatalf("deploy/hub.yaml = %+v, want the defaults %+v", cfg, DefaultConfig())
	}
}

func TestParseConfig(t *testing.T) {
	full := `
kafka:
  brokers: [kafka-1:9092, "kafka-2:9092"]
  ingest_topic: city.ingest
  deadletter_topic: city.dlq
  partitions: 12
  group_id: hub-a
store:
  driver: mysql
  dsn: "tongban:secret@tcp(db:3306)/tongban"
catalog_dir: /etc/tongban/catalog
listen: ":8443"
log_level: debug
`
	cfg, err := ParseConfig("hub.yaml", []byte(full))
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultConfig()
	want.Kafka.Brokers = []string{"kafka-1:9092", "kafka-2:9092"}
	want.Kafka.IngestTopic, want.Kafka.DeadLetterTopic, want.Kafka.Partitions, want.Kafka.GroupID = "city.ingest", "city.dlq", 12, "hub-a"
	want.Store.Driver, want.Store.DSN = "mysql", "tongban:secret@tcp(db:3306)/tongban"
	want.CatalogDir, want.Listen, want.LogLevel = "/etc/tongban/catalog", ":8443", "debug"
	if !reflect.DeepEqual(cfg, want) {
		t.Fatalf("got  %+v\nwant %+v", cfg, want)
	}
	if cfg.Kafka.IsEmbedded() {
		t.Fatal("external brokers reported as embedded")
	}
}

func TestParseConfigErrors(t *testing.T) {
	cases := []struct {
		name, body string
		want       []string
	}{
		{"unknown top key", "listen: 127.0.0.1:1\nlisten_addr: x\n", []string{"hub.yaml:2: listen_addr: unknown key"}},
		{"unknown nested key", "kafka:\n  embedded:\n    port: 1\n", []string{"hub.yaml:3: kafka.embedded.port: unknown key (known keys here: addr, dir)"}},
		{"two unknown keys", "a: 1\nstore:\n  b: 2\n", []string{"hub.yaml:1: a: unknown key", "hub.yaml:3: store.b: unknown key", "2 problem(s)"}},
		{"duplicate key", "listen: a:1\nlisten: b:2\n", []string{"hub.yaml:2: listen: given twice (first on line 1)"}},
		{"not a number", "kafka:\n  partitions: many\n", []string{`hub.yaml:2: kafka.partitions: want a whole number, got the value "many"`}},
		{"partitions range", "kafka:\n  partitions: 0\n", []string{"hub.yaml:2: kafka.partitions: 0 is out of range 1..1000"}},
		{"section not a mapping", "kafka: yes\n", []string{`hub.yaml:1: kafka: want a mapping of keys, got the value "yes"`}},
		{"list for a string", "listen: [a, b]\n", []string{"hub.yaml:1: listen: want a string, got a list"}},
		{"bad listen", "listen: localhost\n", []string{`hub.yaml:1: listen: "localhost" is not host:port`}},
		{"bad driver", "store:\n  driver: postgres\n", []string{`hub.yaml:2: store.driver: "postgres": want "sqlite" or "mysql"`}},
		{"empty dsn", "store:\n  dsn: \"\"\n", []string{"hub.yaml:2: store.dsn: required"}},
		{"bad level", "log_level: loud\n", []string{`hub.yaml:1: log_level: "loud": want debug, info, warn or error`}},
		{"embedded mixed", "kafka:\n  brokers: [embedded, k:9092]\n", []string{`hub.yaml:2: kafka.brokers: "embedded" cannot be combined`}},
		{"bad broker", "kafka:\n  brokers: [k]\n", []string{`hub.yaml:2: kafka.brokers: item 0: "k" is not host:port`}},
		{"broker port 0", "kafka:\n  brokers: [k:0]\n", []string{`kafka.brokers: item 0: "k:0": port "0" is not a port number`}},
		{"bad topic", "kafka:\n  ingest_topic: \"a b\"\n", []string{`hub.yaml:2: kafka.ingest_topic: "a b" is not a Kafka topic name`}},
		{"same topics", "kafka:\n  deadletter_topic: tongban.ingest\n", []string{"hub.yaml:2: kafka.deadletter_topic: must differ"}},
		{"no group", "kafka:\n  group_id: ''\n", []string{"hub.yaml:2: kafka.group_id: a consumer group id is required"}},
		{"no open-data dir", "open_data:\n  dir: ''\n", []string{"hub.yaml:2: open_data.dir: a directory for the open-data release files is required"}},
		{"bad bool", "quality:\n  checks: maybe\n", []string{`hub.yaml:2: quality.checks: want true or false, got the value "maybe"`}},
		{"bad duration", "quality:\n  scorecard_interval: 5 minutes\n", []string{`hub.yaml:2: quality.scorecard_interval: want a duration such as 30s or 5m, got "5 minutes"`}},
		{"short interval", "quality:\n  scorecard_interval: 10ms\n", []string{"hub.yaml:2: quality.scorecard_interval: 10ms is too short"}},
		{"bad golden prefix", "kafka:\n  golden_topic_prefix: \"a b\"\n", []string{`hub.yaml:2: kafka.golden_topic_prefix: "a b" does not make Kafka topic names`}},
		{"top level list", "- a\n- b\n", []string{"hub.yaml:1: top level: want a mapping of keys, got a list"}},
		{"yaml syntax", "kafka:\n  brokers: [a\n", []string{"hub.yaml: yaml:"}},
		{"tab indentation", "kafka:\n\tbrokers: x\n", []string{"hub.yaml: yaml:"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseConfig("hub.yaml", []byte(c.body))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nlacks %q", err, w)
				}
			}
		})
	}
	if _, err := LoadConfig(filepath.Join(t.TempDir(), "missing.yaml")); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Fatalf("missing file: %v", err)
	}
}

func FuzzParseConfig(f *testing.F) {
	f.Add("kafka:\n  partitions: 3\nlisten: 127.0.0.1:0\n")
	f.Add("store: {driver: mysql, dsn: x}\n")
	f.Add("a: &x 1\nb: *x\n")
	f.Fuzz(func(t *testing.T, body string) {
		cfg, err := ParseConfig("hub.yaml", []byte(body))
		if err != nil {
			if !strings.Contains(err.Error(), "hub.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if cfg.Kafka.Partitions < 1 || cfg.Store.DSN == "" || cfg.CatalogDir == "" || len(cfg.Kafka.Brokers) == 0 {
			t.Fatalf("accepted invalid config %+v", cfg)
		}
	})
}
