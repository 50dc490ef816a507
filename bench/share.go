package bench

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tongban/tongban/calendar"
	"github.com/tongban/tongban/catalog"
	"github.com/tongban/tongban/deploy"
	"github.com/tongban/tongban/hub/api"
	"github.com/tongban/tongban/hub/audit"
	"github.com/tongban/tongban/hub/auth"
	"github.com/tongban/tongban/hub/grant"
	"github.com/tongban/tongban/hub/live"
	"github.com/tongban/tongban/hub/store"
)

// Defaults of the sharing measurement.
const (
	DefaultShareRequests = 50_000
	DefaultShareClients  = 200
	// DefaultShareDuration bounds each timed run (API, baseline): calls stop
	// being made once it has passed, and the calls made are counted.
	DefaultShareDuration = 20 * time.Second
)

// Parameters of every share call: a purpose and a service item code are
// required of every call (grant.Decide).
const (
	sharePurpose  = "性能测试：按身份证号查询人口信息"
	shareItemCode = "BENCH-001"
)

// latencies are the durations of a run's calls.
type latencies struct {
	calls int
	took  time.Duration // wall time of all calls
	d     []time.Duration
}

func (l latencies) perSec() float64 { return float64(l.calls) / l.took.Seconds() }

// quantileMS returns the q-quantile (0 < q ≤ 1) of the recorded durations, in
// milliseconds, by the nearest-rank method; 0 when none were recorded.
func quantileMS(d []time.Duration, q float64) float64 {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.999999999) - 1
	i = min(max(i, 0), len(s)-1)
	return float64(s[i]) / float64(time.Millisecond)
}

// runConcurrent makes up to n calls from clients goroutines, each call with
// a subject drawn at random from subjects (the same sequence for the same
// seed), and records every call's duration. No call is started once limit
// has passed (0: no limit); the calls made are counted. The first error
// stops the run.
func runConcurrent(ctx context.Context, n, clients int, limit time.Duration, subjects []string, seed uint64, call func(ctx context.Context, subject string) error) (latencies, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next    atomic.Int64
		wg      sync.WaitGroup
		errOnce sync.Once
		first   error
		per     = make([][]time.Duration, clients)
	)
	start := time.Now()
	var deadline time.Time
	if limit > 0 {
		deadline = start.Add(limit)
	}
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(c)))
			d := make([]time.Duration, 0, n/clients+1)
			for next.Add(1) <= int64(n) && ctx.Err() == nil && (deadline.IsZero() || time.Now().Before(deadline)) {
				subject := subjects[rng.IntN(len(subjects))]
				t0 := time.Now()
				if err := call(ctx, subject); err != nil {
					errOnce.Do(func() { first = err })
					cancel()
					break
				}
				d = append(d, time.Since(t0))
			}
			per[c] = d
		}()
	}
	wg.Wait()
	took := time.Since(start)
	if first != nil {
		return latencies{}, first
	}
	if err := ctx.Err(); err != nil {
		return latencies{}, err
	}
	out := latencies{took: took, d: make([]time.Duration, 0, n)}
	for _, d := range per {
		out.d = append(out.d, d...)
	}
	out.calls = len(out.d)
	if out.calls == 0 {
		return latencies{}, errors.New("bench: no call was made")
	}
	return out, nil
}

// shareRun is the sharing measurement's setup.
type shareRun struct {
	dbPath   string // the SQLite store the ingest+merge run filled
	cat      *catalog.Catalog
	requests int
	clients  int
	limit    time.Duration // of each timed run
	log      *slog.Logger
}

// shareResult is what the sharing measurement found.
type shareResult struct {
	subjects int
	api, raw latencies
}

// share measures share calls by subject through the whole hub API (real
// HTTP on loopback: bearer-token authentication, the grant decision, the
// department-library read, filtering, the audit-log write) against the same
// point lookup as raw SQL on the same store, at the same concurrency.
func share(ctx context.Context, run shareRun) (shareResult, error) {
	db, err := store.Open(ctx, store.Config{Driver: store.DriverSQLite, DSN: run.dbPath})
	if err != nil {
		return shareResult{}, fmt.Errorf("bench: sharing: %w", err)
	}
	defer db.Close()
	raw, err := openRawSQLite(run.dbPath)
	if err != nil {
		return shareResult{}, err
	}
	defer raw.Close()
	// One idle connection per client: the baseline never reopens the file
	// (database/sql keeps 2 idle connections by default, the store's pool
	// too, so under this concurrency it opens and closes connections).
	raw.SetMaxIdleConns(run.clients)
	subjects, err := storedSubjects(ctx, raw)
	if err != nil {
		return shareResult{}, err
	}
	if len(subjects) == 0 {
		return shareResult{}, errors.New("bench: sharing: the store holds no subjects of the bench resource")
	}
	out := shareResult{subjects: len(subjects)}

	h, closeAudit, err := sharingAPI(db, run.cat, nil, run.log)
	if err != nil {
		return shareResult{}, fmt.Errorf("bench: sharing: %w", err)
	}
	defer closeAudit(context.WithoutCancel(ctx))
	token, err := auth.Create(ctx, db, "bench", benchCaller, auth.RoleDept)
	if err != nil {
		return shareResult{}, fmt.Errorf("bench: sharing: %w", err)
	}
	srv, err := serveLoopback(ctx, h)
	if err != nil {
		return shareResult{}, fmt.Errorf("bench: sharing: %w", err)
	}
	defer srv.close(nil)
	client, closeClient := loopbackClient(run.clients)
	defer closeClient()
	call := shareCall(client, srv.url, token)
	// Warm-up, untimed: one call per client opens its connection.
	if _, err := runConcurrent(ctx, run.clients, run.clients, 0, subjects, 1, call); err != nil {
		return shareResult{}, err
	}
	if out.api, err = runConcurrent(ctx, run.requests, run.clients, run.limit, subjects, 2, call); err != nil {
		return shareResult{}, err
	}

	// The baseline: the same point lookup (the subject's live record of the
	// resource, every column) as one prepared statement on a pool of the
	// same file, from as many goroutines (the same subjects in the same order
	// per goroutine), within the same limits.
	// It names the subject index: without ANALYZE statistics SQLite plans
	// "subject = ? AND resource = ?" as a range scan of the primary key
	// (resource, record_key), i.e. of every record of the resource; the
	// baseline is the physical limit of the lookup, not that plan.
	stmt, err := raw.PrepareContext(ctx, `SELECT resource, record_key, dept, version, deleted, data, batch_id, ingested_at, subject
FROM source_records INDEXED BY source_records_subject WHERE subject = ? AND resource = ? AND deleted = 0`)
	if err != nil {
		return shareResult{}, fmt.Errorf("bench: sharing baseline: prepare: %w", err)
	}
	defer stmt.Close()
	lookup := func(ctx context.Context, subject string) error {
		rows, err := stmt.QueryContext(ctx, subject, benchResource)
		if err != nil {
			return fmt.Errorf("bench: sharing baseline: %w", err)
		}
		n, err := drainRows(rows)
		if err != nil {
			return fmt.Errorf("bench: sharing baseline: %w", err)
		}
		if n != 1 {
			return fmt.Errorf("bench: sharing baseline: %d records of subject %s, want 1", n, subject)
		}
		return nil
	}
	if _, err := runConcurrent(ctx, run.clients, run.clients, 0, subjects, 1, lookup); err != nil {
		return shareResult{}, err
	}
	if out.raw, err = runConcurrent(ctx, run.requests, run.clients, run.limit, subjects, 2, lookup); err != nil {
		return shareResult{}, err
	}
	return out, nil
}

// openRawSQLite opens a database/sql pool on a store's SQLite file with the
// store's own connection settings.
func openRawSQLite(path string) (*sql.DB, error) {
	db, err := sql.Open(store.DriverSQLite, path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)")
	if err != nil {
		return nil, fmt.Errorf("bench: open %s: %w", path, err)
	}
	return db, nil
}

// storedSubjects returns the subjects of the bench resource's live records.
func storedSubjects(ctx context.Context, db *sql.DB) ([]string, error) {
	out, err := stringColumn(ctx, db, `SELECT subject FROM source_records WHERE resource = ? AND deleted = 0 AND subject IS NOT NULL`, benchResource)
	if err != nil {
		return nil, fmt.Errorf("bench: sharing: read the subjects: %w", err)
	}
	return out, nil
}

// stringColumn returns the values of a one-column query.
func stringColumn(ctx context.Context, db *sql.DB, query string, args ...any) ([]string, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// sharingAPI is the hub API with sharing on db: grant decisions on the
// deploy calendar, the audit logger (closed by the returned function) and,
// when router is not nil, live routing.
func sharingAPI(db *store.DB, cat *catalog.Catalog, router *live.Router, log *slog.Logger) (http.Handler, func(context.Context), error) {
	cal, err := calendar.Parse(deploy.Calendar, deploy.CalendarFile)
	if err != nil {
		return nil, nil, err
	}
	svc, err := grant.New(grant.Config{Store: db, Catalog: cat, Calendar: cal, Logger: log})
	if err != nil {
		return nil, nil, err
	}
	al, err := audit.New(audit.Config{Store: db, Logger: log})
	if err != nil {
		return nil, nil, err
	}
	closeAudit := func(ctx context.Context) { _ = al.Close(ctx) }
	cfg := api.Config{Store: db, Catalog: cat, Sharing: svc, Audit: al, AuditLog: db, ShareRead: db,
		Registry: prometheus.NewRegistry(), Logger: log}
	if router != nil {
		cfg.Live = router
	}
	h, err := api.New(cfg)
	if err != nil {
		closeAudit(context.Background())
		return nil, nil, err
	}
	return h, closeAudit, nil
}
