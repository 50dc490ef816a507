package bench

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tongban/tongban/catalog"
	"github.com/tongban/tongban/hub/ingest"
	"github.com/tongban/tongban/hub/merge"
	"github.com/tongban/tongban/hub/store"
)

// oneResource is a catalog of a single resource.
type oneResource struct{ r *catalog.Resource }

func (c oneResource) Resource(code string) (*catalog.Resource, bool) {
	if code == c.r.Code {
		return c.r, true
	}
	return nil, false
}

// openStore opens a fresh hub store with the resource's schema recorded.
func openStore(ctx context.Context, cfg store.Config, res *catalog.Resource) (*store.DB, error) {
	db, err := store.Open(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("bench: open %s store: %w", cfg.Driver, err)
	}
	if _, err := ingest.SyncSchemas(ctx, db, []catalog.Resource{*res}); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("bench: record schema in the %s store: %w", cfg.Driver, err)
	}
	return db, nil
}

// ingestRun is one hub ingest measurement.
type ingestRun struct {
	store      store.Config
	brokers    []string
	topic, dlq string
	group      string
	want       int // rows on the topic
	log        *slog.Logger
	// cat, when set, turns on the quality checks (its resource's rules, the
	// store as the quarantine) and the golden-record merge (its subject
	// specs); without it the ingester stores the rows unchecked, unmerged.
	cat *catalog.Catalog
}

// ingestMeasure is what an ingest run did.
type ingestMeasure struct {
	measure
	quarantined, fixed int64 // rows quarantined, rows stored after a fix
	merged, golden     int64 // subjects merged, golden records changed
}

// countingMerger is the ingest side of the merge (as the hub wires it, minus
// the change-feed wake-up) that counts what the merges did.
type countingMerger struct {
	m              *merge.Merger
	merged, golden atomic.Int64
}

func (c *countingMerger) Merge(ctx context.Context, refs []store.SubjectRef) error {
	st, err := c.m.Merge(ctx, refs)
	if err != nil {
		return err
	}
	c.merged.Add(int64(st.Subjects))
	c.golden.Add(int64(st.GoldenChanged))
	return nil
}

// hubIngest runs the hub's ingester (its own consumer group) on the topic,
// which holds want rows of the bench resource, into a fresh store, and
// times it from start (joining the group included) until every row is
// applied or quarantined (and, with the merge on, merged: the ingester
// counts a group's rows only after its merge).
func hubIngest(ctx context.Context, run ingestRun) (ingestMeasure, error) {
	res := benchCatalogResource()
	var cat ingest.Catalog = oneResource{res}
	if run.cat != nil {
		res, cat = &run.cat.Resources[0], run.cat
	}
	db, err := openStore(ctx, run.store, res)
	if err != nil {
		return ingestMeasure{}, err
	}
	defer db.Close()
	cfg := ingest.Config{
		Brokers: run.brokers, Topic: run.topic, DeadLetterTopic: run.dlq, GroupID: run.group,
		Store: db, Catalog: cat, Registry: prometheus.NewRegistry(), Logger: run.log,
	}
	var cm *countingMerger
	if run.cat != nil {
		m, err := merge.New(merge.Config{Store: db, Catalog: run.cat, Logger: run.log})
		if err != nil {
			return ingestMeasure{}, fmt.Errorf("bench: merger: %w", err)
		}
		cm = &countingMerger{m: m}
		cfg.Quality, cfg.Merger = db, cm
	}
	in, err := ingest.New(cfg)
	if err != nil {
		return ingestMeasure{}, fmt.Errorf("bench: hub ingest: %w", err)
	}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- in.Run(rctx) }()
	stop := func() error {
		cancel()
		return <-done
	}
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		st := in.Stats()
		var rs ingest.ResourceStats
		for _, r := range st.Resources {
			if r.Resource == benchResource {
				rs = r
			}
		}
		if done := rs.RowsApplied + rs.RowsSkipped + rs.Quarantined; done >= int64(run.want) {
			took := time.Since(start)
			if err := stop(); err != nil {
				return ingestMeasure{}, fmt.Errorf("bench: hub ingest: %w", err)
			}
			m := ingestMeasure{measure: measure{rows: int(done), took: took}, quarantined: rs.Quarantined, fixed: rs.Fixed}
			if cm != nil {
				m.merged, m.golden = cm.merged.Load(), cm.golden.Load()
			}
			return m, nil
		}
		if st.DeadLetters > 0 {
			_ = stop()
			return ingestMeasure{}, fmt.Errorf("bench: hub ingest: %d messages dead-lettered (%v); last error %q", st.DeadLetters, st.DeadLettersByKind, st.LastError)
		}
		select {
		case <-ctx.Done():
			_ = stop()
			return ingestMeasure{}, ctx.Err()
		case err := <-done:
			return ingestMeasure{}, fmt.Errorf("bench: hub ingest stopped after %d of %d rows: %v",
				rs.RowsApplied+rs.RowsSkipped+rs.Quarantined, run.want, err)
		case <-tick.C:
		}
	}
}

// rawInsertGroup is the rows per ApplyRecords call of the baseline, the
// ingester's largest group.
const rawInsertGroup = 20000

// hubRow is a row as the hub stores it (JSON in catalog field order).
type hubRow struct {
	CitizenID     string  `json:"citizen_id"`
	Name          string  `json:"name"`
	Sex           string  `json:"sex"`
	BirthDate     string  `json:"birth_date"`
	Ethnicity     string  `json:"ethnicity"`
	Address       *string `json:"address"`
	Phone         string  `json:"phone"`
	HouseholdType string  `json:"household_type"`
	UpdatedAt     string  `json:"updated_at"`
	Income        string  `json:"income"`
}

// rawInserts is the ingest baseline: the rows of the source table, read in
// primary-key order (the order the snapshot sends them), turned into store
// records untimed and applied with store.ApplyRecords in groups of
// rawInsertGroup into a fresh store, streaming. Only the ApplyRecords calls are timed.
// src must parse times (parseTime=true). first is the same measure over the
// calls that applied the first firstRows rows (the calls up to the one that
// reaches it).
func rawInserts(ctx context.Context, sc store.Config, src *sql.DB, firstRows int) (all, first measure, err error) {
	db, err := openStore(ctx, sc, benchCatalogResource())
	if err != nil {
		return measure{}, measure{}, err
	}
	defer db.Close()
	rows, err := src.QueryContext(ctx, "SELECT * FROM `"+benchTable+"` ORDER BY citizen_id")
	if err != nil {
		return measure{}, measure{}, fmt.Errorf("bench: raw inserts: read source: %w", err)
	}
	defer rows.Close()
	version := time.Now().UnixMicro()
	var (
		m    measure
		recs = make([]store.Record, 0, rawInsertGroup)
		addr sql.NullString
	)
	apply := func() error {
		if len(recs) == 0 {
			return nil
		}
		start := time.Now()
		res, err := db.ApplyRecords(ctx, recs)
		m.took += time.Since(start)
		if err != nil {
			return fmt.Errorf("bench: raw inserts: %w", err)
		}
		m.rows += res.Applied + res.Skipped
		if first.rows == 0 && m.rows >= firstRows {
			first = m
		}
		recs = recs[:0]
		return nil
	}
	for rows.Next() {
		var (
			r         hubRow
			born, upd time.Time
		)
		if err := rows.Scan(&r.CitizenID, &r.Name, &r.Sex, &born, &r.Ethnicity, &addr,
			&r.Phone, &r.HouseholdType, &upd, &r.Income); err != nil {
			return measure{}, measure{}, fmt.Errorf("bench: raw inserts: read source: %w", err)
		}
		if addr.Valid {
			r.Address = &addr.String
		}
		r.BirthDate = born.Format("2006-01-02")
		r.UpdatedAt = upd.Format("2006-01-02T15:04:05.000000")
		data, err := json.Marshal(r)
		if err != nil {
			return measure{}, measure{}, fmt.Errorf("bench: raw inserts: %w", err)
		}
		recs = append(recs, store.Record{Resource: benchResource, Key: r.CitizenID, Dept: benchDept, Subject: r.CitizenID,
			Version: version, Data: data, BatchID: "raw"})
		if len(recs) == rawInsertGroup {
			if err := apply(); err != nil {
				return measure{}, measure{}, err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return measure{}, measure{}, fmt.Errorf("bench: raw inserts: read source: %w", err)
	}
	if err := apply(); err != nil {
		return measure{}, measure{}, err
	}
	return m, first, nil
}
