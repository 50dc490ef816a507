// Package bench is `make bench`: it measures Tongban's hot paths against
// their physical baselines in one run, on a generated MariaDB table; a path
// the run cannot measure (no connector or agent binary given) is reported
// as "not measured", with the reason.
package bench

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"time"

	gomysql "github.com/go-sql-driver/mysql"
	"github.com/segmentio/kafka-go"

	"github.com/tongban/tongban/broker"
	"github.com/tongban/tongban/catalog"
	"github.com/tongban/tongban/connectors"
	"github.com/tongban/tongban/connectors/mysql"
	"github.com/tongban/tongban/connectors/plugin"
	"github.com/tongban/tongban/hub/store"
	"github.com/tongban/tongban/topics"
)

// Defaults of Config.
const (
	DefaultRows      = 1_000_000
	DefaultServerDSN = "root@tcp(127.0.0.1:3306)/"
	// DefaultMergeRows is where the ingest+validate+merge measurement stops.
	DefaultMergeRows = 100_000
)

// Topics of the run (on the embedded broker of the run only).
const (
	topicAgent  = "bench.agent"
	topicPlugin = "bench.agent.plugin"
	topicNaive  = "bench.naive"
	topicDLQ    = "bench.deadletter"
)

// Config of a run. Zero values take the defaults named on each field.
type Config struct {
	Rows int // rows of the generated table (DefaultRows)
	// ServerDSN is a go-sql-driver DSN of the MariaDB server, without a
	// database (DefaultServerDSN). The run creates tb_bench_<random> and drops it.
	ServerDSN string
	// Dir holds the hub stores of the ingest measurement; empty: a temporary
	// directory removed afterwards.
	Dir string
	// ConnectorCmd, if set, starts the built-in MySQL connector as a plugin
	// process (as the agent does: its own binary re-run as "connector mysql");
	// the snapshot is then also measured through the plugin.
	ConnectorCmd func() *exec.Cmd
	// AgentCmd, if set, runs the agent binary on a config file (as
	// `agent -config <file>`); the agent's own peak RSS is then measured on a
	// snapshot of the whole table in its own process.
	AgentCmd func(configFile string) *exec.Cmd
	Logger   *slog.Logger // slog.Default()
	// ShareRequests is the number of timed share calls, and of baseline
	// lookups (DefaultShareRequests); ShareClients the concurrent callers
	// (DefaultShareClients).
	ShareRequests int
	ShareClients  int
	// ShareDuration bounds each timed sharing run (DefaultShareDuration).
	ShareDuration time.Duration
	// MergeRows bounds the rows of the ingest+validate+merge measurement
	// (DefaultMergeRows; at most Rows): it is timed until that many rows of
	// the topic are stored and merged, then stopped. Its store, holding
	// that many subjects, is the sharing measurement's.
	MergeRows int
	// UpdateRows is how many rows the incremental measurement updates at the
	// source in one transaction (DefaultUpdateRows; at most Rows).
	UpdateRows int
	// LiveRows is the size of the table the live-lookup measurement's agent
	// answers from (DefaultLiveRows; at most Rows); LiveClients its
	// concurrent callers (DefaultLiveClients).
	LiveRows    int
	LiveClients int
	// ProfileDir, if set, receives a CPU profile (runtime/pprof) of each
	// hub measurement, named after it: <dir>/<name>.cpu.pprof.
	ProfileDir string
	// Progress receives one line per step; nil discards them.
	Progress io.Writer
}

// Run executes the benchmark and returns its results, measured lines first.
func Run(ctx context.Context, cfg Config) ([]Result, error) {
	if cfg.Rows == 0 {
		cfg.Rows = DefaultRows
	}
	if cfg.Rows < 0 {
		return nil, fmt.Errorf("bench: rows %d: must be positive", cfg.Rows)
	}
	if cfg.ServerDSN == "" {
		cfg.ServerDSN = DefaultServerDSN
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Progress == nil {
		cfg.Progress = io.Discard
	}
	if cfg.ShareRequests == 0 {
		cfg.ShareRequests = DefaultShareRequests
	}
	if cfg.ShareClients == 0 {
		cfg.ShareClients = DefaultShareClients
	}
	if cfg.ShareDuration == 0 {
		cfg.ShareDuration = DefaultShareDuration
	}
	if cfg.MergeRows == 0 {
		cfg.MergeRows = DefaultMergeRows
	}
	if cfg.UpdateRows == 0 {
		cfg.UpdateRows = DefaultUpdateRows
	}
	if cfg.LiveRows == 0 {
		cfg.LiveRows = DefaultLiveRows
	}
	if cfg.LiveClients == 0 {
		cfg.LiveClients = DefaultLiveClients
	}
	if cfg.ShareRequests < 0 || cfg.ShareClients < 0 || cfg.ShareDuration < 0 || cfg.MergeRows < 0 || cfg.UpdateRows < 0 ||
		cfg.LiveRows < 0 || cfg.LiveClients < 0 {
		return nil, fmt.Errorf("bench: share requests %d, clients %d, duration %s, merge rows %d, update rows %d, live rows %d, live clients %d: must be positive",
			cfg.ShareRequests, cfg.ShareClients, cfg.ShareDuration, cfg.MergeRows, cfg.UpdateRows, cfg.LiveRows, cfg.LiveClients)
	}
	cfg.MergeRows = min(cfg.MergeRows, cfg.Rows)
	cfg.UpdateRows = min(cfg.UpdateRows, cfg.Rows)
	if cfg.Dir == "" {
		dir, err := os.MkdirTemp("", "tongban-bench-")
		if err != nil {
			return nil, fmt.Errorf("bench: temp dir: %w", err)
		}
		defer os.RemoveAll(dir)
		cfg.Dir = dir
	}
	r := &runner{cfg: cfg}
	return r.run(ctx)
}

type runner struct {
	cfg     Config
	dbName  string // the source database; the hub stores use dbName_hub_*
	brokers []string
	server  *sql.DB
	created []string // databases to drop at the end
	// sqliteRecords is the SQLite store holding every row of the table as
	// records of the bench resource (the raw-insert baseline's), once the
	// ingest measurement has run.
	sqliteRecords string
}

// hubStore makes the directory <Dir>/<name> and opens a SQLite hub store
// in it, for a measurement that needs a hub of its own.
func (r *runner) hubStore(ctx context.Context, name string) (string, *store.DB, error) {
	dir := filepath.Join(r.cfg.Dir, name)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", nil, err
	}
	db, err := store.Open(ctx, store.Config{Driver: store.DriverSQLite, DSN: filepath.Join(dir, "hub.db")})
	return dir, db, err
}

// createDatabase creates a scratch database that the run drops at its end.
func (r *runner) createDatabase(ctx context.Context, name string) error {
	if _, err := r.server.ExecContext(ctx, "CREATE DATABASE `"+name+"` DEFAULT CHARSET utf8mb4"); err != nil {
		return fmt.Errorf("bench: create database %s (is MariaDB up at %s?): %w", name, r.cfg.ServerDSN, err)
	}
	r.created = append(r.created, name)
	return nil
}

// profile starts a CPU profile of one measurement when Config.ProfileDir is
// set; the returned func stops it.
func (r *runner) profile(name string) (stop func() error, err error) {
	if r.cfg.ProfileDir == "" {
		return func() error { return nil }, nil
	}
	if err := os.MkdirAll(r.cfg.ProfileDir, 0o750); err != nil {
		return nil, fmt.Errorf("bench: profile dir: %w", err)
	}
	path := filepath.Join(r.cfg.ProfileDir, name+".cpu.pprof")
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("bench: profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("bench: profile %s: %w", name, err)
	}
	return func() error {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			return fmt.Errorf("bench: profile %s: %w", path, err)
		}
		r.step("CPU profile of %s written to %s", name, path)
		return nil
	}, nil
}

// profiled runs fn under profile(name).
func (r *runner) profiled(name string, fn func() error) error {
	stop, err := r.profile(name)
	if err != nil {
		return err
	}
	ferr := fn()
	return errors.Join(ferr, stop())
}

func (r *runner) step(format string, args ...any) {
	fmt.Fprintf(r.cfg.Progress, "bench: "+format+"\n", args...)
}

// dsn returns the DSN of the bench database with the given options applied.
func (r *runner) dsn(opts ...func(*gomysql.Config)) (string, error) {
	c, err := gomysql.ParseDSN(r.cfg.ServerDSN)
	if err != nil {
		return "", fmt.Errorf("bench: server DSN: %w", err)
	}
	c.DBName = r.dbName
	for _, o := range opts {
		o(c)
	}
	return c.FormatDSN(), nil
}

func (r *runner) open(opts ...func(*gomysql.Config)) (*sql.DB, error) {
	dsn, err := r.dsn(opts...)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		return nil, fmt.Errorf("bench: open %s: %w", r.dbName, err)
	}
	return db, nil
}

func (r *runner) run(ctx context.Context) (results []Result, err error) {
	suffix := make([]byte, 6)
	_, _ = rand.Read(suffix)
	r.dbName = "tb_bench_" + hex.EncodeToString(suffix)

	server, err := sql.Open("mysql", r.cfg.ServerDSN)
	if err != nil {
		return nil, fmt.Errorf("bench: server DSN: %w", err)
	}
	defer server.Close()
	r.server = server
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		for _, name := range r.created {
			if _, derr := server.ExecContext(dctx, "DROP DATABASE `"+name+"`"); derr != nil {
				err = errors.Join(err, fmt.Errorf("bench: drop database %s: %w", name, derr))
			}
		}
	}()
	if err := r.createDatabase(ctx, r.dbName); err != nil {
		return nil, err
	}

	// The table.
	load, err := r.open(func(c *gomysql.Config) { c.InterpolateParams = true })
	if err != nil {
		return nil, err
	}
	defer load.Close()
	start := time.Now()
	r.step("generating %d rows in %s.%s", r.cfg.Rows, r.dbName, benchTable)
	if err := loadTable(ctx, load, r.cfg.Rows, 1); err != nil {
		return nil, err
	}
	r.step("table filled in %s", time.Since(start).Round(time.Millisecond))

	// The embedded broker.
	b, err := broker.Start(ctx, broker.Config{Partitions: benchParts})
	if err != nil {
		return nil, err
	}
	defer b.Close()
	r.brokers = []string{b.Addr()}
	tps := map[string]int{topicAgent: benchParts, topicNaive: benchParts, topicIncremental: benchParts, topicDLQ: 1}
	if r.cfg.ConnectorCmd != nil {
		tps[topicPlugin] = benchParts
	}
	if err := topics.Ensure(ctx, r.brokers, tps); err != nil {
		return nil, err
	}

	snap, err := r.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	results = append(results, snap...)
	// After the snapshot lines: the update changes the table the hub
	// measurements read afterwards only in values, not in rows.
	incr, err := r.incremental(ctx)
	if err != nil {
		return nil, err
	}
	r.deleteTopic(ctx, topicIncremental)
	results = append(results, incr...)
	cat, err := benchHubCatalog(r.cfg.Dir)
	if err != nil {
		return nil, err
	}
	hub, fullStore, err := r.ingest(ctx, cat)
	if err != nil {
		return nil, err
	}
	results = append(results, hub...)
	sharing, err := r.shareResults(ctx, cat, fullStore)
	if err != nil {
		return nil, err
	}
	results = append(results, sharing...)
	liveLines, err := r.liveResults(ctx, cat)
	if err != nil {
		return nil, err
	}
	results = append(results, liveLines...)
	proc, err := r.agentProcess(ctx, cat)
	if err != nil {
		return nil, err
	}
	results = append(results, proc...)
	lic, err := r.licenceResults(ctx)
	if err != nil {
		return nil, err
	}
	results = append(results, lic...)
	openData, err := r.openDataResults(ctx)
	if err != nil {
		return nil, err
	}
	return append(results, openData...), nil
}

// snapshot measures the agent snapshot path and its two baselines.
func (r *runner) snapshot(ctx context.Context) ([]Result, error) {
	raw, err := r.open()
	if err != nil {
		return nil, err
	}
	defer raw.Close()
	typed, err := r.open(func(c *gomysql.Config) { c.ParseTime = true })
	if err != nil {
		return nil, err
	}
	defer typed.Close()
	srcDSN, err := r.dsn()
	if err != nil {
		return nil, err
	}
	src := benchSource(srcDSN)

	// Raw scan, before and after the agent; the faster one is the baseline.
	scan1, err := rawScan(ctx, raw)
	if err != nil {
		return nil, err
	}
	r.step("raw scan: %d rows, %.0f rows/s", scan1.rows, scan1.rowsPerSec())

	naive, err := naiveJSON(ctx, typed, r.brokers, topicNaive)
	if err != nil {
		return nil, err
	}
	r.step("naive JSON per row: %d rows, %.0f rows/s", naive.rows, naive.rowsPerSec())
	r.deleteTopic(ctx, topicNaive)

	rssReset := resetPeakRSS()
	conn := mysql.New()
	var agent measure
	err = r.profiled("agent-snapshot", func() (err error) {
		agent, err = agentSnapshot(ctx, conn, src, r.brokers, topicAgent)
		return err
	})
	_ = conn.Close()
	if err != nil {
		return nil, err
	}
	agentRSS, err := peakRSS()
	if err != nil {
		return nil, err
	}
	r.step("agent snapshot (in-process connector): %d rows, %.0f rows/s", agent.rows, agent.rowsPerSec())

	scan2, err := rawScan(ctx, raw)
	if err != nil {
		return nil, err
	}
	r.step("raw scan again: %.0f rows/s", scan2.rowsPerSec())
	scan := scan1
	if scan2.rowsPerSec() > scan1.rowsPerSec() {
		scan = scan2
	}
	if agent.rows != r.cfg.Rows || scan.rows != r.cfg.Rows || naive.rows != r.cfg.Rows {
		return nil, fmt.Errorf("bench: row counts differ: table %d, agent %d, raw scan %d, naive %d",
			r.cfg.Rows, agent.rows, scan.rows, naive.rows)
	}

	srcMB := float64(scan.bytes) / 1e6
	agentRate, scanRate, naiveRate := agent.rowsPerSec(), scan.rowsPerSec(), naive.rowsPerSec()
	rssNote := "peak RSS (VmHWM) of the whole bench process during the agent run: connector, producer, " +
		"and the embedded broker holding every message in memory; not the agent alone"
	if !rssReset {
		rssNote += "; VmHWM could not be reset, so it also covers the table load and the naive baseline"
	}
	res := []Result{
		{Name: "agent snapshot vs raw scan", Unit: "rows/s", Value: agentRate,
			Baseline: "raw SELECT * into sql.RawBytes", BaselineValue: scanRate, Ratio: ratio(agentRate, scanRate),
			Rows: agent.rows, RSSBytes: agentRSS, Target: "≥ 0.5× raw scan", Met: met(ratio(agentRate, scanRate) >= 0.5),
			Status: StatusMeasured, Note: fmt.Sprintf("in-process MySQL connector → Arrow batches → kafka-go (RequireAll) → embedded broker, acknowledged; %s; %.0f bytes of source values per row; the raw scan is the faster of two runs around the agent run", rssNote, float64(scan.bytes)/float64(scan.rows))},
		{Name: "agent snapshot vs naive JSON", Unit: "rows/s", Value: agentRate,
			Baseline: "one JSON message per row via kafka-go", BaselineValue: naiveRate, Ratio: ratio(agentRate, naiveRate),
			Rows: agent.rows, Target: "≥ 5× naive", Met: met(ratio(agentRate, naiveRate) >= 5), Status: StatusMeasured},
		{Name: "agent snapshot throughput", Unit: "MB/s", Value: srcMB / agent.took.Seconds(),
			Baseline: "raw SELECT * into sql.RawBytes", BaselineValue: srcMB / scan.took.Seconds(),
			Ratio: ratio(srcMB/agent.took.Seconds(), srcMB/scan.took.Seconds()), Rows: agent.rows, Status: StatusMeasured,
			Note: fmt.Sprintf("MB = 10^6 bytes of source column values (%.1f MB); the agent sent %.1f MB of Arrow IPC", srcMB, float64(agent.bytes)/1e6)},
		{Name: "agent snapshot peak RSS (whole bench process)", Unit: "MiB", Value: float64(agentRSS) / (1 << 20),
			Rows: agent.rows, RSSBytes: agentRSS, Target: "< 128 MiB (agent alone)", Status: StatusMeasured,
			Note: "not comparable with the target: includes the embedded broker's copy of all messages; see the plugin line for the connector process alone"},
	}
	if r.cfg.ConnectorCmd != nil {
		pl, err := r.pluginSnapshot(ctx, src, scanRate)
		if err != nil {
			return nil, err
		}
		res = append(res, pl...)
	}
	return res, nil
}

// pluginSnapshot measures the snapshot through the connector plugin process.
func (r *runner) pluginSnapshot(ctx context.Context, src connectors.Source, scanRate float64) ([]Result, error) {
	var last *exec.Cmd
	sup, err := plugin.NewSupervisor(plugin.Config{Name: "mysql", Logger: r.cfg.Logger, Cmd: func() *exec.Cmd {
		last = r.cfg.ConnectorCmd()
		return last
	}})
	if err != nil {
		return nil, fmt.Errorf("bench: start connector plugin: %w", err)
	}
	m, err := agentSnapshot(ctx, sup, src, r.brokers, topicPlugin)
	// The connector's own peak, read while it still runs (rusage maxrss of a
	// child is useless here: Linux carries the parent's peak across fork and exec).
	var connRSS int64
	if err == nil && last != nil && last.Process != nil {
		connRSS, err = peakRSSOf(last.Process.Pid)
	}
	cerr := sup.Close()
	if err != nil {
		return nil, err
	}
	if cerr != nil {
		return nil, fmt.Errorf("bench: stop connector plugin: %w", cerr)
	}
	r.deleteTopic(ctx, topicPlugin)
	r.step("agent snapshot (connector plugin process): %d rows, %.0f rows/s", m.rows, m.rowsPerSec())
	rate := m.rowsPerSec()
	out := []Result{{Name: "agent snapshot via connector plugin", Unit: "rows/s", Value: rate,
		Baseline: "raw SELECT * into sql.RawBytes", BaselineValue: scanRate, Ratio: ratio(rate, scanRate),
		Rows: m.rows, RSSBytes: connRSS, Target: "≥ 0.5× raw scan", Met: met(ratio(rate, scanRate) >= 0.5), Status: StatusMeasured,
		Note: "connector re-executed as a go-plugin gRPC process, as the agent runs it; RSS is the connector process's own peak (its VmHWM); the agent side runs in the bench process"}}
	if connRSS > 0 {
		out = append(out, Result{Name: "connector process peak RSS", Unit: "MiB", Value: float64(connRSS) / (1 << 20),
			Rows: m.rows, RSSBytes: connRSS, Target: "< 128 MiB", Met: met(connRSS < 128<<20), Status: StatusMeasured})
	}
	return out, nil
}

// deleteTopic frees the broker's copy of a finished measurement's messages.
func (r *runner) deleteTopic(ctx context.Context, topic string) {
	c := &kafka.Client{Addr: kafka.TCP(r.brokers...), Timeout: 30 * time.Second}
	if _, err := c.DeleteTopics(ctx, &kafka.DeleteTopicsRequest{Topics: []string{topic}}); err != nil {
		r.cfg.Logger.Warn("bench: could not delete a finished topic; its messages stay in memory", "topic", topic, "error", err)
	}
}

// ingest measures the hub ingest path against raw store inserts, into a
// SQLite store and into a MariaDB store: plain (no checks, no merge) and
// with the quality checks and the golden-record merge on. It returns the
// SQLite store the full run filled, for the sharing measurement.
func (r *runner) ingest(ctx context.Context, cat *catalog.Catalog) ([]Result, string, error) {
	src, err := r.open(func(c *gomysql.Config) { c.ParseTime = true })
	if err != nil {
		return nil, "", err
	}
	defer src.Close()
	discard := slog.New(slog.DiscardHandler)
	var (
		out      []Result
		fullPath string
	)
	for _, backend := range []struct{ name, label string }{{store.DriverSQLite, "SQLite"}, {store.DriverMySQL, "MariaDB"}} {
		// A fresh store per run: plain ingest, ingest+validate+merge, raw inserts.
		newStore := func(kind string) (store.Config, error) {
			if backend.name == store.DriverSQLite {
				return store.Config{Driver: store.DriverSQLite, DSN: filepath.Join(r.cfg.Dir, kind+".db")}, nil
			}
			name := r.dbName + "_hub_" + kind
			if err := r.createDatabase(ctx, name); err != nil {
				return store.Config{}, err
			}
			c, err := gomysql.ParseDSN(r.cfg.ServerDSN)
			if err != nil {
				return store.Config{}, fmt.Errorf("bench: server DSN: %w", err)
			}
			c.DBName = name
			return store.Config{Driver: store.DriverMySQL, DSN: c.FormatDSN()}, nil
		}
		plainCfg, err := newStore("ingest")
		if err != nil {
			return nil, "", err
		}
		fullCfg, err := newStore("full")
		if err != nil {
			return nil, "", err
		}
		rawCfg, err := newStore("raw")
		if err != nil {
			return nil, "", err
		}
		run := ingestRun{store: plainCfg, brokers: r.brokers, topic: topicAgent, dlq: topicDLQ,
			group: "tongban-bench-" + backend.name, want: r.cfg.Rows, log: discard}
		var plain, full ingestMeasure
		if err := r.profiled("ingest-"+backend.name, func() (err error) { plain, err = hubIngest(ctx, run); return err }); err != nil {
			return nil, "", err
		}
		r.step("hub ingest into %s: %d rows, %.0f rows/s", backend.label, plain.rows, plain.rowsPerSec())
		run.store, run.group, run.cat, run.want = fullCfg, "tongban-bench-full-"+backend.name, cat, r.cfg.MergeRows
		if err := r.profiled("ingest-full-"+backend.name, func() (err error) { full, err = hubIngest(ctx, run); return err }); err != nil {
			return nil, "", err
		}
		r.step("hub ingest+validate+merge into %s: %d rows (%d quarantined, %d fixed, %d golden records written), %.0f rows/s",
			backend.label, full.rows, full.quarantined, full.fixed, full.golden, full.rowsPerSec())
		// Every counted row was merged (a group's rows are counted after its
		// merge; a group merged while the run was being stopped may add more).
		if passed := int64(full.rows) - full.quarantined; full.golden < passed {
			return nil, "", fmt.Errorf("bench: ingest+validate+merge into %s: %d golden records written for %d stored rows of distinct subjects",
				backend.label, full.golden, passed)
		}
		var raw, rawFirst measure
		if err := r.profiled("raw-inserts-"+backend.name, func() (err error) {
			raw, rawFirst, err = rawInserts(ctx, rawCfg, src, full.rows)
			return err
		}); err != nil {
			return nil, "", err
		}
		r.step("raw ApplyRecords into %s: %d rows, %.0f rows/s; the first %d rows %.0f rows/s", backend.label, raw.rows, raw.rowsPerSec(),
			rawFirst.rows, rawFirst.rowsPerSec())
		if raw.rows != r.cfg.Rows {
			return nil, "", fmt.Errorf("bench: raw inserts into %s applied %d rows, the table has %d", backend.label, raw.rows, r.cfg.Rows)
		}
		if backend.name == store.DriverSQLite {
			fullPath = fullCfg.DSN
			r.sqliteRecords = rawCfg.DSN
		}
		base := raw.rowsPerSec()
		const baseline = "store.ApplyRecords, same rows in key order, 20,000 per call"
		rate := plain.rowsPerSec()
		out = append(out, Result{Name: "hub ingest → " + backend.label + " store", Unit: "rows/s", Value: rate,
			Baseline: baseline, BaselineValue: base, Ratio: ratio(rate, base),
			Rows: plain.rows, Target: "≥ 0.5× raw insert", Met: met(ratio(rate, base) >= 0.5), Status: StatusMeasured,
			Note: "hub/ingest consumer group on the agent's topic (joining the group, fetch, decode, catalog check, store), timed until every row is applied; " +
				"quality checks and golden-record merge off (the next line has them on); the baseline times only the ApplyRecords calls"})
		rate, base = full.rowsPerSec(), rawFirst.rowsPerSec()
		out = append(out, Result{Name: "hub ingest+validate+merge → " + backend.label, Unit: "rows/s", Value: rate,
			Baseline: baseline, BaselineValue: base, Ratio: ratio(rate, base),
			Rows: full.rows, Target: "≥ 0.5× raw insert", Met: met(ratio(rate, base) >= 0.5), Status: StatusMeasured,
			Note: fmt.Sprintf("as the plain line plus, per row, the %d quality rules of %s (+ income) with the store as quarantine (a quarantine "+
				"update per row, closing open entries) and the golden-record merge of every changed subject (read its source records, compute, "+
				"write golden record, field history and change outbox) before the offsets are committed; %d rows quarantined, %d fixed, %d golden "+
				"records written; one source resource, so no cross-check conflicts arise; timed until the first %d of the topic's %d rows "+
				"were stored and merged (the first -merge-rows), then stopped; the baseline is the raw inserts' time for their first %d rows "+
				"(the ApplyRecords calls up to that row) into a fresh store, so both start from an empty store",
				len(cat.Resources[0].Rules), authorityResource, full.quarantined, full.fixed, full.golden, full.rows, r.cfg.Rows, rawFirst.rows)})
	}
	return out, fullPath, nil
}

// shareResults measures the share endpoint on the SQLite store of the
// ingest+validate+merge run.
func (r *runner) shareResults(ctx context.Context, cat *catalog.Catalog, dbPath string) ([]Result, error) {
	r.step("sharing: up to %d share calls by subject (at most %s) from %d concurrent clients, then raw SQL lookups within the same limits",
		r.cfg.ShareRequests, r.cfg.ShareDuration, r.cfg.ShareClients)
	var sr shareResult
	err := r.profiled("sharing", func() (err error) {
		sr, err = share(ctx, shareRun{dbPath: dbPath, cat: cat, requests: r.cfg.ShareRequests, clients: r.cfg.ShareClients,
			limit: r.cfg.ShareDuration, log: slog.New(slog.DiscardHandler)})
		return err
	})
	if err != nil {
		return nil, err
	}
	apiRate, rawRate := sr.api.perSec(), sr.raw.perSec()
	p50, p99 := quantileMS(sr.api.d, 0.50), quantileMS(sr.api.d, 0.99)
	rawP50, rawP99 := quantileMS(sr.raw.d, 0.50), quantileMS(sr.raw.d, 0.99)
	r.step("sharing: API %.0f calls/s, p50 %.2f ms, p99 %.2f ms; raw SQL %.0f lookups/s, p50 %.2f ms, p99 %.2f ms",
		apiRate, p50, p99, rawRate, rawP50, rawP99)
	conc := fmt.Sprintf("%d concurrent", r.cfg.ShareClients)
	const rawBase = "raw SQL point lookup (prepared SELECT by subject via its index, same SQLite file)"
	what := fmt.Sprintf("GET /api/v1/share/%s?subject=<citizen ID> over real HTTP on loopback, %d clients with keep-alive, %d timed calls "+
		"(at most %d, for at most %s, after one untimed call per client) on random subjects of the %d in the SQLite store the "+
		"ingest+validate+merge run filled (golden records merged); "+
		"each call: bearer-token lookup, grant decision (unconditional resource, caller not the provider, grants read), the subject's record "+
		"from the department library (the authority of every golden field: the share endpoint serves source records, not golden_records), "+
		"field filter, SM3-chained audit entry committed before the answer; the answer is checked to hold the subject's record; "+
		"clients and server share the machine's CPUs; the baseline makes lookups (%d, the same subjects in the same order) from as many "+
		"goroutines within the same limits, on a pool keeping one idle connection per goroutine, "+
		"naming the subject index (INDEXED BY): without ANALYZE statistics SQLite plans the store's subject lookup as a scan of the "+
		"resource's primary-key range, every record of the resource per lookup",
		benchResource, r.cfg.ShareClients, sr.api.calls, r.cfg.ShareRequests, r.cfg.ShareDuration, sr.subjects, sr.raw.calls)
	return []Result{
		{Name: "sharing: lookup by citizen ID (share API, " + conc + ")", Unit: "requests/s", Value: apiRate,
			Baseline: rawBase, BaselineValue: rawRate, Ratio: ratio(apiRate, rawRate), Rows: sr.subjects, Status: StatusMeasured, Note: what},
		{Name: "sharing: lookup p50 (" + conc + ")", Unit: "ms", Value: p50,
			Baseline: rawBase, BaselineValue: rawP50, Ratio: ratio(p50, rawP50), Rows: sr.subjects, Status: StatusMeasured,
			Note: "latency of each call as the client sees it, from the recorded durations of this run; the ratio is × the baseline's latency"},
		{Name: "sharing: lookup p99 (" + conc + ")", Unit: "ms", Value: p99,
			Baseline: rawBase, BaselineValue: rawP99, Ratio: ratio(p99, rawP99), Rows: sr.subjects, Target: "< 10 ms", Met: met(p99 < 10),
			Status: StatusMeasured, Note: "as the p50 line"},
	}, nil
}
