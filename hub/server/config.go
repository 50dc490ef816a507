package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tongban/tongban/hub/ingest"
	"github.com/tongban/tongban/hub/store"
	"github.com/tongban/tongban/wire"
)

// EmbeddedBrokers is the value of kafka.brokers that starts the in-process
// broker instead of connecting to a Kafka cluster.
const EmbeddedBrokers = "embedded"

// Config is the hub's configuration (deploy/hub.yaml documents every key).
// Relative paths are relative to the working directory.
type Config struct {
	Kafka      KafkaConfig
	Store      store.Config
	CatalogDir string
	// CalendarFile is the working-day calendar (public holidays and make-up
	// working days) that objection deadlines are counted on; empty means the
	// copy of deploy/calendar/cn-public-holidays.yaml built into the binary.
	CalendarFile string
	Quality      QualityConfig
	Sharing      SharingConfig
	Live         LiveConfig
	OpenData     OpenDataConfig
	Listen       string
	LogLevel     string
}

// KafkaConfig is the kafka section.
type KafkaConfig struct {
	// Brokers are bootstrap addresses, or ["embedded"].
	Brokers         []string
	Embedded        EmbeddedConfig
	IngestTopic     string
	DeadLetterTopic string
	// Partitions of the topics the hub creates (existing topics keep theirs).
	Partitions int
	GroupID    string
	// GoldenTopicPrefix prefixes the base library name in the name of each
	// compacted golden-record change topic.
	GoldenTopicPrefix string
}

// SharingConfig is the sharing section.
type SharingConfig struct {
	// ListsDir holds the bureau's scenario, negative and responsibility
	// lists (*.yaml); "" means none.
	ListsDir string
	// Rate and Burst limit each department's share calls per second;
	// DailyQuota bounds them per day (0: no quota).
	Rate       float64
	Burst      int
	DailyQuota int
	TLS        SharingTLS
}

// SharingTLS is sharing.tls: a second listener serving the same API over
// TLS that also accepts department client certificates issued by the hub's
// CA (mutual TLS) instead of bearer tokens.
type SharingTLS struct {
	Listen   string // "" turns the listener off
	CADir    string // the CA of `tongban ca init`
	CertFile string // the server certificate (`tongban ca server-cert`)
	KeyFile  string
}

// OpenDataConfig is the open_data section: the open-data portal's releases.
type OpenDataConfig struct {
	// Dir holds the release files (CSV and Parquet) of published datasets.
	Dir string
}

// LiveConfig is the live section: lookups of live resources answered by
// the providing department's agent.
type LiveConfig struct {
	// Timeout bounds one lookup; past it the caller gets 504 naming the
	// department.
	Timeout time.Duration
	// OnlineWindow: a department's agent that has not polled for this long
	// is offline, and a lookup fails at once with 503.
	OnlineWindow time.Duration
}

// QualityConfig is the quality section.
type QualityConfig struct {
	// Checks turns the catalog's quality rules on at ingest (quarantine).
	Checks bool
	// ScorecardInterval is how often the quality scorecards are recomputed.
	ScorecardInterval time.Duration
}

// EmbeddedConfig is kafka.embedded: the in-process broker.
type EmbeddedConfig struct {
	Addr string
	Dir  string
}

// IsEmbedded reports whether the hub runs the in-process broker.
func (k KafkaConfig) IsEmbedded() bool {
	return len(k.Brokers) == 1 && k.Brokers[0] == EmbeddedBrokers
}

// DefaultConfig is the configuration with every option at its default.
func DefaultConfig() Config {
	return Config{
		Kafka: KafkaConfig{
			Brokers:           []string{EmbeddedBrokers},
			Embedded:          EmbeddedConfig{Addr: "127.0.0.1:9092", Dir: "data/kafka"},
			IngestTopic:       wire.DefaultIngestTopic,
			DeadLetterTopic:   wire.DefaultDeadLetterTopic,
			Partitions:        wire.DefaultPartitions,
			GroupID:           ingest.DefaultGroupID,
			GoldenTopicPrefix: "tongban.golden.",
		},
		Quality:  QualityConfig{Checks: true, ScorecardInterval: 5 * time.Minute},
		Live:     LiveConfig{Timeout: 10 * time.Second, OnlineWindow: 15 * time.Second},
		OpenData: OpenDataConfig{Dir: "data/open"},
		Sharing: SharingConfig{ListsDir: "deploy/sharing", Rate: 50, Burst: 100,
			TLS: SharingTLS{CADir: "data/ca", CertFile: "data/ca/server.crt", KeyFile: "data/ca/server.key"}},
		Store:      store.Config{Driver: store.DriverSQLite, DSN: "data/hub.db"},
		CatalogDir: "deploy/catalog",
		Listen:     "127.0.0.1:8080",
		LogLevel:   "info",
	}
}

// LoadConfig reads a YAML config file over the defaults. Unknown keys, values
// of the wrong kind and invalid values are errors naming the file, line and
// key; all of them are reported at once.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	return ParseConfig(path, data)
}

// ParseConfig is LoadConfig of data read from the file named name.
func ParseConfig(name string, data []byte) (Config, error) {
	cfg := DefaultConfig()
	p := &parser{file: name, lines: map[string]int{}}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	switch err := dec.Decode(&doc); {
	case errors.Is(err, io.EOF):
		// An empty file: all defaults.
	case err != nil:
		return Config{}, fmt.Errorf("%s: %w", name, err)
	default:
		root := &doc
		if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
			root = root.Content[0]
		}
		p.mapping(root, "", p.configKeys(&cfg))
	}
	p.validate(&cfg)
	if len(p.errs) > 0 {
		return Config{}, fmt.Errorf("config %s: %d problem(s):\n%w", name, len(p.errs), errors.Join(p.errs...))
	}
	return cfg, nil
}

// parser walks the YAML tree, remembering the line of every key.
type parser struct {
	file  string
	lines map[string]int
	errs  []error
}

// key is one known key: a leaf with its decoder, or a mapping of keys.
type key struct {
	name string
	leaf func(n *yaml.Node) error
	sub  []key
}

func (p *parser) addf(line int, path, format string, args ...any) {
	loc := p.file
	if line > 0 {
		loc += ":" + strconv.Itoa(line)
	}
	p.errs = append(p.errs, fmt.Errorf("%s: %s: %s", loc, path, fmt.Sprintf(format, args...)))
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func (p *parser) mapping(n *yaml.Node, path string, keys []key) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // "kafka:" with nothing under it: defaults
	}
	if n.Kind != yaml.MappingNode {
		what := path
		if what == "" {
			what = "top level"
		}
		p.addf(n.Line, what, "want a mapping of keys, got %s", kindName(n))
		return
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		name := kn.Value
		full := join(path, name)
		if l, dup := seen[name]; dup {
			p.addf(kn.Line, full, "given twice (first on line %d)", l)
			continue
		}
		seen[name] = kn.Line
		p.lines[full] = kn.Line
		i := slices.IndexFunc(keys, func(k key) bool { return k.name == name })
		if i < 0 {
			known := make([]string, len(keys))
			for j, k := range keys {
				known[j] = k.name
			}
			p.addf(kn.Line, full, "unknown key (known keys here: %s)", strings.Join(known, ", "))
			continue
		}
		k := keys[i]
		if k.sub != nil {
			p.mapping(vn, full, k.sub)
			continue
		}
		if vn.Kind == yaml.ScalarNode && vn.Tag == "!!null" {
			continue // "listen:" with no value: the default
		}
		if err := k.leaf(vn); err != nil {
			p.addf(vn.Line, full, "%v", err)
		}
	}
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	return fmt.Sprintf("the value %q", n.Value)
}

func str(dst *string) func(*yaml.Node) error {
	return func(n *yaml.Node) error {
		if n.Kind != yaml.ScalarNode {
			return fmt.Errorf("want a string, got %s", kindName(n))
		}
		*dst = n.Value
		return nil
	}
}

func integer(dst *int) func(*yaml.Node) error {
	return func(n *yaml.Node) error {
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
			return fmt.Errorf("want a whole number, got %s", kindName(n))
		}
		v, err := strconv.Atoi(n.Value)
		if err != nil {
			return fmt.Errorf("want a whole number, got %q", n.Value)
		}
		*dst = v
		return nil
	}
}

func stringList(dst *[]string) func(*yaml.Node) error {
	return func(n *yaml.Node) error {
		var items []*yaml.Node
		switch n.Kind {
		case yaml.SequenceNode:
			items = n.Content
		case yaml.ScalarNode:
			items = []*yaml.Node{n} // a single string is a one-item list
		default:
			return fmt.Errorf("want a list of strings, got %s", kindName(n))
		}
		out := make([]string, 0, len(items))
		for i, it := range items {
			if it.Kind != yaml.ScalarNode {
				return fmt.Errorf("item %d: want a string, got %s", i, kindName(it))
			}
			out = append(out, it.Value)
		}
		*dst = out
		return nil
	}
}

func boolean(dst *bool) func(*yaml.Node) error {
	return func(n *yaml.Node) error {
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
			return fmt.Errorf("want true or false, got %s", kindName(n))
		}
		*dst = n.Value == "true" || n.Value == "True" || n.Value == "TRUE"
		return nil
	}
}

func number(dst *float64) func(*yaml.Node) error {
	return func(n *yaml.Node) error {
		if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") {
			return fmt.Errorf("want a number, got %s", kindName(n))
		}
		v, err := strconv.ParseFloat(n.Value, 64)
		if err != nil {
			return fmt.Errorf("want a number, got %q", n.Value)
		}
		*dst = v
		return nil
	}
}

func duration(dst *time.Duration) func(*yaml.Node) error {
	return func(n *yaml.Node) error {
		if n.Kind != yaml.ScalarNode {
			return fmt.Errorf("want a duration such as 30s or 5m, got %s", kindName(n))
		}
		d, err := time.ParseDuration(n.Value)
		if err != nil {
			return fmt.Errorf("want a duration such as 30s or 5m, got %q", n.Value)
		}
		*dst = d
		return nil
	}
}

func (p *parser) configKeys(c *Config) []key {
	return []key{
		{name: "kafka", sub: []key{
			{name: "brokers", leaf: stringList(&c.Kafka.Brokers)},
			{name: "embedded", sub: []key{
				{name: "addr", leaf: str(&c.Kafka.Embedded.Addr)},
				{name: "dir", leaf: str(&c.Kafka.Embedded.Dir)},
			}},
			{name: "ingest_topic", leaf: str(&c.Kafka.IngestTopic)},
			{name: "deadletter_topic", leaf: str(&c.Kafka.DeadLetterTopic)},
			{name: "partitions", leaf: integer(&c.Kafka.Partitions)},
			{name: "group_id", leaf: str(&c.Kafka.GroupID)},
			{name: "golden_topic_prefix", leaf: str(&c.Kafka.GoldenTopicPrefix)},
		}},
		{name: "quality", sub: []key{
			{name: "checks", leaf: boolean(&c.Quality.Checks)},
			{name: "scorecard_interval", leaf: duration(&c.Quality.ScorecardInterval)},
		}},
		{name: "calendar_file", leaf: str(&c.CalendarFile)},
		{name: "live", sub: []key{
			{name: "timeout", leaf: duration(&c.Live.Timeout)},
			{name: "online_window", leaf: duration(&c.Live.OnlineWindow)},
		}},
		{name: "open_data", sub: []key{
			{name: "dir", leaf: str(&c.OpenData.Dir)},
		}},
		{name: "sharing", sub: []key{
			{name: "lists_dir", leaf: str(&c.Sharing.ListsDir)},
			{name: "rate", leaf: number(&c.Sharing.Rate)},
			{name: "burst", leaf: integer(&c.Sharing.Burst)},
			{name: "daily_quota", leaf: integer(&c.Sharing.DailyQuota)},
			{name: "tls", sub: []key{
				{name: "listen", leaf: str(&c.Sharing.TLS.Listen)},
				{name: "ca_dir", leaf: str(&c.Sharing.TLS.CADir)},
				{name: "cert_file", leaf: str(&c.Sharing.TLS.CertFile)},
				{name: "key_file", leaf: str(&c.Sharing.TLS.KeyFile)},
			}},
		}},
		{name: "store", sub: []key{
			{name: "driver", leaf: str(&c.Store.Driver)},
			{name: "dsn", leaf: str(&c.Store.DSN)},
		}},
		{name: "catalog_dir", leaf: str(&c.CatalogDir)},
		{name: "listen", leaf: str(&c.Listen)},
		{name: "log_level", leaf: str(&c.LogLevel)},
	}
}

// MaxPartitions bounds kafka.partitions.
const MaxPartitions = 1000

var topicName = regexp.MustCompile(`^[a-zA-Z0-9._-]{1,249}$`)

// validate checks values, naming the line where the key was given.
func (p *parser) validate(c *Config) {
	bad := func(path, format string, args ...any) { p.addf(p.lines[path], path, format, args...) }
	k := c.Kafka
	switch {
	case len(k.Brokers) == 0:
		bad("kafka.brokers", "at least one broker address (host:port), or [embedded]")
	case slices.Contains(k.Brokers, EmbeddedBrokers) && len(k.Brokers) > 1:
		bad("kafka.brokers", "%q cannot be combined with broker addresses", EmbeddedBrokers)
	case !k.IsEmbedded():
		for i, b := range k.Brokers {
			if err := checkHostPort(b, false); err != nil {
				bad("kafka.brokers", "item %d: %v", i, err)
			}
		}
	}
	if k.IsEmbedded() {
		if err := checkHostPort(k.Embedded.Addr, true); err != nil {
			bad("kafka.embedded.addr", "%v", err)
		}
		if k.Embedded.Dir == "" {
			bad("kafka.embedded.dir", "a directory is required (the broker keeps topics and offsets there)")
		}
	}
	for _, t := range []struct{ path, v string }{{"kafka.ingest_topic", k.IngestTopic}, {"kafka.deadletter_topic", k.DeadLetterTopic}} {
		if !topicName.MatchString(t.v) || t.v == "." || t.v == ".." {
			bad(t.path, "%q is not a Kafka topic name (1-249 of a-z A-Z 0-9 . _ -)", t.v)
		}
	}
	if k.IngestTopic == k.DeadLetterTopic {
		bad("kafka.deadletter_topic", "must differ from kafka.ingest_topic %q", k.IngestTopic)
	}
	if k.Partitions < 1 || k.Partitions > MaxPartitions {
		bad("kafka.partitions", "%d is out of range 1..%d", k.Partitions, MaxPartitions)
	}
	if k.GroupID == "" {
		bad("kafka.group_id", "a consumer group id is required")
	}
	if g := k.GoldenTopicPrefix + "population"; !topicName.MatchString(g) || len(g) > 200 {
		bad("kafka.golden_topic_prefix", "%q does not make Kafka topic names (a-z A-Z 0-9 . _ -, at most 180 characters)", k.GoldenTopicPrefix)
	}
	if c.Live.Timeout < 100*time.Millisecond || c.Live.Timeout > 5*time.Minute {
		bad("live.timeout", "%s is out of range 100ms..5m", c.Live.Timeout)
	}
	if c.Live.OnlineWindow < time.Second {
		bad("live.online_window", "%s is too short (at least 1s; agents poll every few seconds)", c.Live.OnlineWindow)
	}
	if c.OpenData.Dir == "" {
		bad("open_data.dir", "a directory for the open-data release files is required (default data/open)")
	}
	if c.Sharing.Rate < 0 {
		bad("sharing.rate", "%g is negative (0 turns the rate limit off)", c.Sharing.Rate)
	}
	if c.Sharing.Burst < 1 && c.Sharing.Rate > 0 {
		bad("sharing.burst", "%d: at least 1 when sharing.rate is set", c.Sharing.Burst)
	}
	if t := c.Sharing.TLS; t.Listen != "" {
		if err := checkHostPort(t.Listen, true); err != nil {
			bad("sharing.tls.listen", "%v", err)
		}
		for _, f := range []struct{ key, v string }{{"sharing.tls.ca_dir", t.CADir}, {"sharing.tls.cert_file", t.CertFile}, {"sharing.tls.key_file", t.KeyFile}} {
			if f.v == "" {
				bad(f.key, "required when sharing.tls.listen is set")
			}
		}
	}
	if c.Sharing.DailyQuota < 0 {
		bad("sharing.daily_quota", "%d is negative (0 means no quota)", c.Sharing.DailyQuota)
	}
	if c.Quality.ScorecardInterval < time.Second {
		bad("quality.scorecard_interval", "%s is too short (at least 1s)", c.Quality.ScorecardInterval)
	}

	switch c.Store.Driver {
	case store.DriverSQLite, store.DriverMySQL:
	default:
		bad("store.driver", "%q: want %q or %q", c.Store.Driver, store.DriverSQLite, store.DriverMySQL)
	}
	if c.Store.DSN == "" {
		bad("store.dsn", "required (sqlite: a file path; mysql: user:pass@tcp(host:3306)/db)")
	}
	if c.CatalogDir == "" {
		bad("catalog_dir", "required: the directory with departments.yaml and resources/")
	}
	if err := checkHostPort(c.Listen, true); err != nil {
		bad("listen", "%v", err)
	}
	if _, err := ParseLevel(c.LogLevel); err != nil {
		bad("log_level", "%v", err)
	}
}

// checkHostPort checks host:port; portZero allows port 0 (any free port).
func checkHostPort(s string, portZero bool) error {
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("%q is not host:port", s)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 || (n == 0 && !portZero) {
		return fmt.Errorf("%q: port %q is not a port number", s, port)
	}
	return nil
}

// ParseLevel reads a log level: debug, info, warn or error.
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug, nil
	case "info", "":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("%q: want debug, info, warn or error", s)
}
