// Package demo runs the whole spine on one machine with nothing installed but
// Go: three department databases (in-process MySQL-wire servers, or MariaDB),
// the embedded Kafka-protocol broker, the hub with its SQLite store, and one
// agent per department, each with its connector plugin process.
package demo

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/tongban/tongban/agent"
	"github.com/tongban/tongban/demo/datagen"
	"github.com/tongban/tongban/demo/deptdb"
	"github.com/tongban/tongban/deploy"
	"github.com/tongban/tongban/hub/auth"
	"github.com/tongban/tongban/hub/server"
	"github.com/tongban/tongban/hub/store"
)

// Config of a demo run.
type Config struct {
	Dir  string // working directory; wiped at start
	Rows int    // rows in all three tables together
	// Defects is the number of rows of each seeded defect kind per table
	// (datagen.Config.Defects): the hub must quarantine them, upgrade legacy
	// IDs and raise exactly the seeded name conflicts.
	Defects int
	Seed    int64
	Listen  string // hub API address
	// MySQLDSN, when set, puts the department databases on that MySQL/MariaDB
	// server (a DSN without database name, e.g. root@tcp(127.0.0.1:3306)/)
	// instead of the in-process servers.
	MySQLDSN string
	Check    bool          // verify, print a summary and return instead of serving
	Timeout  time.Duration // how long the sync may take
	Interval time.Duration // agents' polling interval
	Logger   *slog.Logger  // component logs (the demo's own lines go to Out)
	Out      io.Writer
}

// department is one demo department: its table and the resource it provides.
type department struct {
	table    string
	resource string
	db       string // database name
	dept     string // filled from the catalog
	dsn      string
	expected int
}

func departments() []*department {
	return []*department{
		{table: datagen.TablePopulation, resource: "PS-POP-001", db: "ps_population"},
		{table: datagen.TableLegalPerson, resource: "MR-LP-001", db: "mr_registry"},
		{table: datagen.TableCivilAffairs, resource: "CA-MAR-001", db: "ca_marriage"},
	}
}

// Split divides the total rows between the tables: half population, a fifth
// legal persons, the rest civil affairs.
func Split(total int) datagen.Config {
	pop := total / 2
	lp := total / 5
	return datagen.Config{Population: pop, LegalPersons: lp, CivilAffairs: total - pop - lp}
}

// Run runs the demo. With cfg.Check it returns the verification result;
// otherwise it serves until ctx is cancelled.
func Run(ctx context.Context, cfg Config) error {
	if cfg.Rows < 3 {
		return fmt.Errorf("demo: -rows must be at least 3, got %d", cfg.Rows)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 15 * time.Minute
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	out := cfg.Out
	if out == nil {
		out = os.Stdout
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := os.RemoveAll(cfg.Dir); err != nil {
		return fmt.Errorf("demo: clear %s: %w", cfg.Dir, err)
	}
	if err := os.MkdirAll(cfg.Dir, 0o750); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	gen := Split(cfg.Rows)
	gen.Seed = cfg.Seed
	gen.Defects = cfg.Defects
	if err := gen.Validate(); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	fmt.Fprintf(out, "通办 Tongban demo — 工作目录 work dir %s\n", cfg.Dir)

	// 1. The catalog.
	catDir := filepath.Join(cfg.Dir, "catalog")
	if err := writeCatalog(catDir); err != nil {
		return err
	}

	// 2. Department databases and their data.
	depts := departments()
	closeDBs, err := startDatabases(ctx, cfg, depts)
	if err != nil {
		return err
	}
	defer closeDBs()
	start := time.Now()
	for _, d := range depts {
		n, err := datagen.RowCount(gen, d.table)
		if err != nil {
			return err
		}
		d.expected = n
		if err := loadTable(ctx, out, d, gen); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "生成数据 generated %d rows in %s\n", cfg.Rows, time.Since(start).Round(time.Millisecond))

	// 3. The hub with the embedded broker.
	hcfg := server.DefaultConfig()
	hcfg.Kafka.Brokers = []string{server.EmbeddedBrokers}
	hcfg.Kafka.Embedded.Addr = "127.0.0.1:0"
	hcfg.Kafka.Embedded.Dir = filepath.Join(cfg.Dir, "kafka")
	hcfg.Store = store.Config{Driver: "sqlite", DSN: filepath.Join(cfg.Dir, "hub.db")}
	hcfg.CatalogDir = catDir
	hcfg.Sharing.ListsDir = filepath.Join(cfg.Dir, "sharing")
	hcfg.OpenData.Dir = filepath.Join(cfg.Dir, "open")
	if err := writeEmbedded(deploy.Sharing, "sharing", hcfg.Sharing.ListsDir); err != nil {
		return err
	}
	if cfg.Listen != "" {
		hcfg.Listen = cfg.Listen
	}
	hub, err := server.New(ctx, hcfg, cfg.Logger.With("component", "hub"))
	if err != nil {
		return fmt.Errorf("demo: start hub: %w", err)
	}
	defer hub.Close()
	hub.Start(ctx)
	for _, d := range depts {
		r, ok := hub.Catalog().Resource(d.resource)
		if !ok {
			return fmt.Errorf("demo: catalog has no resource %s", d.resource)
		}
		d.dept = r.Provider
	}
	adminToken, err := auth.Create(ctx, hub.Store(), "demo-admin", "", auth.RoleAdmin)
	if err != nil {
		return fmt.Errorf("demo: admin token: %w", err)
	}

	// 4. One agent per department.
	// The agents stop before the hub closes (defers run last first), so
	// they do not log the hub's absence on the way out.
	agentErrs := make(chan error, len(depts))
	agentCtx, stopAgents := context.WithCancel(ctx)
	var running sync.WaitGroup
	defer func() {
		stopAgents()
		running.Wait()
	}()
	var agents []*agent.Agent
	for _, d := range depts {
		a, err := startAgent(ctx, cfg, hub, d)
		if err != nil {
			return err
		}
		agents = append(agents, a)
		running.Add(1)
		go func() {
			defer running.Done()
			agentErrs <- a.Run(agentCtx)
		}()
	}

	// 5. Progress until every row is at the hub.
	syncStart := time.Now()
	if err := waitSynced(ctx, out, hub.Store(), depts, cfg.Timeout, hub.Err(), agentErrs); err != nil {
		return err
	}
	if err := waitMerged(ctx, hub.IngestStats, cfg.Timeout); err != nil {
		return err
	}
	// Score the synced data now rather than at the next scheduled run.
	if _, err := hub.Scorer().Compute(ctx); err != nil {
		return fmt.Errorf("demo: quality scorecards: %w", err)
	}
	elapsed := time.Since(syncStart)
	fmt.Fprintf(out, "同步完成 synced %d rows in %s (%.0f rows/s)\n", cfg.Rows, elapsed.Round(time.Millisecond), float64(cfg.Rows)/elapsed.Seconds())

	if cfg.Check {
		if err := check(ctx, out, hub.Store(), depts, gen); err != nil {
			return err
		}
		return checkLicencesAndOpen(ctx, out, hub.Store(), hub.Licences(), hub.OpenData())
	}

	fmt.Fprintf(out, "\n枢纽 API hub API:      %s/api/v1   (admin token 管理员令牌: %s)\n", hub.APIURL(), adminToken)
	fmt.Fprintf(out, "枢纽指标 hub metrics:  %s/metrics\n", hub.APIURL())
	for i, a := range agents {
		if addr := a.MetricsAddr(); addr != "" {
			fmt.Fprintf(out, "代理指标 agent metrics (%s): http://%s/metrics\n", depts[i].resource, addr)
		}
	}
	fmt.Fprintf(out, "Kafka (embedded):      %s\n", hub.BrokerAddrs()[0])
	fmt.Fprintf(out, "\n试一试 try:\n  curl -H 'Authorization: Bearer %s' %s/api/v1/ingest/stats\n", adminToken, hub.APIURL())
	fmt.Fprintf(out, "  curl -H 'Authorization: Bearer %s' '%s/api/v1/resources/PS-POP-001/records?limit=2'\n", adminToken, hub.APIURL())
	fmt.Fprintf(out, "  curl -H 'Authorization: Bearer %s' %s/api/v1/agents\n", adminToken, hub.APIURL())
	printQualityTry(ctx, out, hub.Store(), adminToken, hub.APIURL())
	if err := printShareTry(ctx, out, hub.Store(), adminToken, hub.APIURL()); err != nil {
		return err
	}
	ids, err := issueDemoLicences(ctx, hub.Store(), hub.Licences())
	if err != nil {
		return err
	}
	if err := printLicenceTry(ctx, out, hub.Store(), ids, hub.APIURL()); err != nil {
		return err
	}
	rel, err := publishDemoRelease(ctx, hub.OpenData())
	if err != nil {
		return err
	}
	printOpenTry(out, rel, hub.APIURL())
	fmt.Fprintln(out, "\n按 Ctrl-C 停止 Press Ctrl-C to stop.")
	select {
	case <-ctx.Done():
		fmt.Fprintln(out, "停止 stopping…")
		return nil
	case err := <-hub.Err():
		return fmt.Errorf("demo: hub failed: %w", err)
	}
}

// printQualityTry prints what the quality checks and the merge found, with
// curl lines to see quarantine, conflicts and a golden record.
func printQualityTry(ctx context.Context, out io.Writer, st *store.DB, token, url string) {
	q, err := st.ListQuarantine(ctx, store.QuarantineFilter{Limit: 1000})
	if err != nil {
		return
	}
	conflicts, err := st.ListConflicts(ctx, store.ConflictFilter{Status: store.ConflictOpen, Limit: 1000})
	if err != nil {
		return
	}
	fmt.Fprintf(out, "\n质量与合并 quality and merge: %d quarantine entries open, %d conflicts open\n", len(q), len(conflicts))
	curl := func(path string) {
		fmt.Fprintf(out, "  curl -H 'Authorization: Bearer %s' '%s/api/v1/%s'\n", token, url, path)
	}
	curl("quarantine?resource=PS-POP-001&limit=3")
	curl("quarantine?rule=citizen_id&limit=3")
	curl("quality/fixes?limit=3")
	curl("quality/scorecards")
	curl("conflicts?status=open&limit=3")
	if len(conflicts) > 0 {
		c := conflicts[0]
		typ := strings.ReplaceAll(c.SubjectType, "_", "-")
		curl("subjects/" + typ + "/" + c.SubjectID)
		curl("subjects/" + typ + "/" + c.SubjectID + "/history?field=" + c.Field)
		fmt.Fprintf(out, "  # 数据局裁决 the bureau decides:\n  curl -X POST -H 'Authorization: Bearer %s' -H 'Content-Type: application/json' -d '{\"decision\":\"source_must_correct\",\"note\":\"请公安局核实\"}' '%s/api/v1/conflicts/%d/decision'\n", token, url, c.ID)
		fmt.Fprintf(out, "  # 对该字段提出异议 file an objection on the field (as the data subject, through the service window):\n  curl -X POST -H 'Authorization: Bearer %s' -H 'Content-Type: application/json' -d '{\"subject_type\":\"%s\",\"subject_id\":\"%s\",\"field\":\"%s\",\"reason\":\"姓名有误\",\"filer\":{\"kind\":\"subject\",\"id\":\"%s\"}}' '%s/api/v1/objections'\n",
			token, c.SubjectType, c.SubjectID, c.Field, c.SubjectID, url)
	}
}

// printShareTry prints share calls as the civil-affairs bureau, with a
// token made for it, and the audit log they leave.
func printShareTry(ctx context.Context, out io.Writer, st *store.DB, admin, url string) error {
	const civil = "112306000128140362" // 大庆市民政局
	token, err := auth.Create(ctx, st, "demo-民政局", civil, auth.RoleDept)
	if err != nil {
		return fmt.Errorf("demo: department token: %w", err)
	}
	lp, err := st.ListRecords(ctx, "MR-LP-001", "", 1, false)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	pop, err := st.ListRecords(ctx, "PS-POP-001", "", 1, false)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	fmt.Fprintf(out, "\n共享 sharing (民政局 department token 部门令牌: %s):\n", token)
	if len(lp) > 0 {
		fmt.Fprintf(out, "  # 无条件共享，法定代表人脱敏 unconditional, the legal representative masked:\n")
		fmt.Fprintf(out, "  curl -H 'Authorization: Bearer %s' '%s/api/v1/share/MR-LP-001?subject=%s&purpose=%%E5%%A9%%9A%%E5%%A7%%BB%%E7%%99%%BB%%E8%%AE%%B0&item_code=MZ-HYDJ-001'\n", token, url, lp[0].Subject)
	}
	if len(pop) > 0 {
		fmt.Fprintf(out, "  # 有条件共享，未获授权：拒绝并说明依据 conditional without a grant: refused with the legal basis:\n")
		fmt.Fprintf(out, "  curl -H 'Authorization: Bearer %s' '%s/api/v1/share/PS-POP-001?subject=%s&purpose=marriage&item_code=MZ-HYDJ-001'\n", token, url, pop[0].Subject)
		fmt.Fprintf(out, "  # 应用场景授权 the marriage-registration scenario grants it at once:\n")
		fmt.Fprintf(out, "  curl -H 'Authorization: Bearer %s' '%s/api/v1/share/PS-POP-001?subject=%s&purpose=marriage&item_code=MZ-HYDJ-001&scenario=SC-MARRIAGE-REG&fields=citizen_id,name,household_type'\n", token, url, pop[0].Subject)
	}
	fmt.Fprintf(out, "  # 审计日志与校验 the audit log and its SM3 chain:\n")
	fmt.Fprintf(out, "  curl -H 'Authorization: Bearer %s' '%s/api/v1/audit?limit=5'\n", admin, url)
	fmt.Fprintf(out, "  curl -H 'Authorization: Bearer %s' '%s/api/v1/audit/verify'\n", admin, url)
	return nil
}

func writeCatalog(dir string) error { return writeEmbedded(deploy.Catalog, "catalog", dir) }

// writeEmbedded writes the folder name of an embedded deploy tree to dir.
func writeEmbedded(tree fs.FS, name, dir string) error {
	sub, err := fs.Sub(tree, name)
	if err != nil {
		return fmt.Errorf("demo: %s: %w", name, err)
	}
	if err := os.CopyFS(dir, sub); err != nil {
		return fmt.Errorf("demo: write %s to %s: %w", name, dir, err)
	}
	return nil
}

// startDatabases gives every department a database: in-process servers by
// default, or databases on the given MySQL server.
func startDatabases(ctx context.Context, cfg Config, depts []*department) (func(), error) {
	if cfg.MySQLDSN != "" {
		return mysqlDatabases(ctx, cfg.MySQLDSN, depts)
	}
	var servers []*deptdb.Server
	closeAll := func() {
		for _, s := range servers {
			_ = s.Close()
		}
	}
	for _, d := range depts {
		s, err := deptdb.Start(ctx, deptdb.Config{
			Dir:       filepath.Join(cfg.Dir, "deptdb", d.db),
			Databases: []string{d.db},
			Logger:    cfg.Logger.With("component", "deptdb", "db", d.db),
		})
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("demo: start database of %s: %w", d.resource, err)
		}
		servers = append(servers, s)
		d.dsn = s.DSN(d.db)
	}
	return closeAll, nil
}
