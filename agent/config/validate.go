package config

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/tongban/tongban/connectors/builtin"
)

var (
	// resourceCode is the catalog's rule for resource codes.
	resourceCode = regexp.MustCompile(`^[A-Z0-9][A-Z0-9-]{2,63}$`)
	// agentID and dept allow what is safe in URLs, file names and logs.
	agentID   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)
	deptCode  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	fieldName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)
)

// knownEncodings are the encodings a text column may be declared to really hold.
func knownEncodings() []string { return []string{"gbk", "gb18030"} }

// validate applies the defaults and checks every value.
func (d *decoder) validate() {
	c := d.c
	bad := d.bad

	c.Dept = strings.TrimSpace(c.Dept)
	switch {
	case c.Dept == "":
		bad("dept", "required: the code (统一社会信用代码) of the department this agent sends for")
	case !deptCode.MatchString(c.Dept):
		bad("dept", "%q: letters, digits, '.', '_' and '-' only, at most 64", c.Dept)
	}
	if c.AgentID == "" && c.Dept != "" {
		host, err := os.Hostname()
		if err != nil || host == "" {
			host = "localhost"
		}
		c.AgentID = c.Dept + "-" + sanitizeID(host)
	}
	if c.AgentID != "" && !agentID.MatchString(c.AgentID) {
		bad("agent_id", "%q: letters, digits, '.', '_' and '-' only, at most 128", c.AgentID)
	}

	d.validateHub()
	d.validateKafka()

	if c.StateDir == "" {
		c.StateDir = DefaultStateDir
	}
	switch {
	case d.metricsListen == nil:
		c.MetricsListen = DefaultMetricsListen
	case *d.metricsListen == MetricsOff || *d.metricsListen == "":
		c.MetricsListen = ""
	default:
		c.MetricsListen = *d.metricsListen
		if err := checkHostPort(c.MetricsListen, true); err != nil {
			bad("metrics_listen", "%q: %v (or %q to disable)", c.MetricsListen, err, MetricsOff)
		}
	}
	if _, ok := d.set["queue_chunks"]; !ok {
		c.QueueChunks = DefaultQueueChunks
	} else if c.QueueChunks < 1 || c.QueueChunks > MaxQueueChunks {
		bad("queue_chunks", "%d: want 1 to %d", c.QueueChunks, MaxQueueChunks)
	}

	if len(d.res) == 0 {
		bad("resources", "at least one resource is required")
	}
	codes := make(map[string]string)
	for i := range d.res {
		d.validateResource(&d.res[i], codes)
		c.Resources = append(c.Resources, d.res[i].r)
	}
}

func (d *decoder) validateHub() {
	c := d.c
	bad := d.bad
	if c.Hub.URL == "" {
		bad("hub.url", "required: the hub's base URL, e.g. https://hub.example.gov.cn")
	} else if u, err := url.Parse(c.Hub.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("hub.url", "%q: want an http:// or https:// URL with a host", c.Hub.URL)
	} else {
		c.Hub.URL = strings.TrimRight(c.Hub.URL, "/")
	}
	switch {
	case c.Hub.Token != "" && d.tokenFile != "":
		bad("hub.token_file", "set token or token_file, not both")
	case d.tokenFile != "":
		b, err := os.ReadFile(d.tokenFile)
		if err != nil {
			bad("hub.token_file", "%v", err)
			break
		}
		c.Hub.Token = strings.TrimSpace(string(b))
		if c.Hub.Token == "" {
			bad("hub.token_file", "%s is empty", d.tokenFile)
		}
	case c.Hub.Token == "":
		bad("hub.token", "required (or token_file): the department's API token (tongban token create …)")
	}
	if strings.ContainsAny(c.Hub.Token, " \t\r\n") {
		bad("hub.token", "must not contain white space")
	}
	if _, ok := d.set["hub.heartbeat_interval"]; !ok {
		c.Hub.HeartbeatInterval = DefaultHeartbeatInterval
	} else if c.Hub.HeartbeatInterval <= 0 {
		bad("hub.heartbeat_interval", "must be more than 0")
	}
}

func (d *decoder) validateKafka() {
	c := d.c
	bad := d.bad
	if len(c.Kafka.Brokers) == 0 {
		bad("kafka.brokers", "required: at least one host:port")
	}
	for i, b := range c.Kafka.Brokers {
		if err := checkHostPort(b, false); err != nil {
			bad(fmt.Sprintf("kafka.brokers[%d]", i), "%q: %v", b, err)
		}
	}
	if c.Kafka.Topic == "" {
		c.Kafka.Topic = DefaultTopic
	} else if !validTopic(c.Kafka.Topic) {
		bad("kafka.topic", "%q: letters, digits, '.', '_' and '-', at most 249", c.Kafka.Topic)
	}
	if _, ok := d.set["kafka.write_timeout"]; !ok {
		c.Kafka.WriteTimeout = DefaultWriteTimeout
	} else if c.Kafka.WriteTimeout <= 0 {
		bad("kafka.write_timeout", "must be more than 0")
	}
}

func (d *decoder) validateResource(rn *resourceNodes, codes map[string]string) {
	r := &rn.r
	k := func(name string) string { return rn.key + "." + name }
	bad := d.bad

	switch {
	case r.Code == "":
		bad(k("code"), "required: the catalog resource code")
	case !resourceCode.MatchString(r.Code):
		bad(k("code"), "%q: 3 to 64 upper-case letters, digits and '-', as in the catalog", r.Code)
	case codes[r.Code] != "":
		bad(k("code"), "%q is also configured at %s", r.Code, codes[r.Code])
	default:
		codes[r.Code] = rn.key
	}

	switch {
	case r.Connector != "" && r.ConnectorPath != "":
		bad(k("connector_path"), "set connector (built-in) or connector_path (external binary), not both")
	case r.ConnectorPath != "":
		info, err := os.Stat(r.ConnectorPath)
		switch {
		case err != nil:
			bad(k("connector_path"), "%v", err)
		case info.IsDir():
			bad(k("connector_path"), "%s is a directory, want the connector binary", r.ConnectorPath)
		case info.Mode().Perm()&0o111 == 0:
			bad(k("connector_path"), "%s is not executable", r.ConnectorPath)
		}
	default:
		if r.Connector == "" {
			r.Connector = DefaultConnector
		}
		if !slices.Contains(builtin.Names(), r.Connector) {
			bad(k("connector"), "%q is not a built-in connector (built-in: %s); for your own binary use connector_path",
				r.Connector, strings.Join(builtin.Names(), ", "))
		}
	}
	if strings.TrimSpace(r.DSN) == "" {
		bad(k("dsn"), "required: the connection string of the source database")
	}
	if strings.TrimSpace(r.Table) == "" {
		bad(k("table"), "required: the source table (db.table or table)")
	}
	for _, f := range sortedKeys(r.Columns) {
		key := k("columns." + f)
		if !fieldName.MatchString(f) {
			bad(key, "%q is not a catalog field name", f)
		}
		if strings.TrimSpace(r.Columns[f]) == "" {
			bad(key, "empty source column")
		}
	}
	for _, f := range sortedKeys(r.Encodings) {
		key := k("encodings." + f)
		if !fieldName.MatchString(f) {
			bad(key, "%q is not a catalog field name", f)
		}
		e := strings.ToLower(strings.TrimSpace(r.Encodings[f]))
		if !slices.Contains(knownEncodings(), e) {
			bad(key, "%q: want one of %s", r.Encodings[f], strings.Join(knownEncodings(), ", "))
		}
		r.Encodings[f] = e
	}
	for i, f := range r.PrimaryKey {
		key := fmt.Sprintf("%s[%d]", k("primary_key"), i)
		if !fieldName.MatchString(f) {
			bad(key, "%q is not a catalog field name", f)
		}
		if slices.Index(r.PrimaryKey, f) != i {
			bad(key, "%q is listed twice", f)
		}
	}

	switch rn.mode {
	case "":
		r.Mode = ModeSnapshot
		if r.Watermark != "" {
			r.Mode = ModeIncremental
		}
	case ModeSnapshot, ModeIncremental:
		r.Mode = rn.mode
	default:
		bad(k("mode"), "%q: want %s or %s", rn.mode, ModeSnapshot, ModeIncremental)
	}
	if r.Mode == ModeIncremental && r.Watermark == "" {
		bad(k("watermark"), "required for mode incremental: the column that grows on every insert and update")
	}
	switch {
	case !rn.interval && r.Mode == ModeSnapshot:
		r.Interval = DefaultSnapshotInterval
	case !rn.interval:
		r.Interval = DefaultInterval
	case r.Interval <= 0:
		bad(k("interval"), "must be more than 0")
	}
	if !rn.overlap {
		r.Overlap = DefaultOverlap
	}
	if !rn.reconcile {
		r.ReconcileInterval = DefaultReconcileInterval
	}
	if !rn.live {
		r.Live = true
	}
	switch {
	case !rn.chunkRows:
		r.ChunkRows = DefaultChunkRows
	case r.ChunkRows < 1 || r.ChunkRows > MaxChunkRows:
		bad(k("chunk_rows"), "%d: want 1 to %d", r.ChunkRows, MaxChunkRows)
	}
	if r.BatchRows < 0 || r.BatchRows > MaxChunkRows {
		bad(k("batch_rows"), "%d: want 0 (no cap) to %d", r.BatchRows, MaxChunkRows)
	}
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// checkHostPort checks host:port; listen allows an empty host.
func checkHostPort(s string, listen bool) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("want host:port")
	}
	if host == "" && !listen {
		return fmt.Errorf("no host")
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 || (n == 0 && !listen) {
		return fmt.Errorf("bad port %q", port)
	}
	return nil
}

func validTopic(s string) bool {
	if len(s) > 249 || s == "." || s == ".." {
		return false
	}
	for _, r := range s {
		if !(r == '.' || r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// sanitizeID keeps the characters an agent id allows.
func sanitizeID(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r == '.' || r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	out := b.String()
	if len(out) > 60 {
		out = out[:60]
	}
	return out
}

// bad records a validation problem, unless reading the key already failed
// (its value was unusable and the reader said so).
func (d *decoder) bad(key, format string, a ...any) {
	for _, p := range d.r.ps.list {
		if p.Key == key {
			return
		}
	}
	d.r.ps.add(d.line(key), key, format, a...)
}
