package bench

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tongban/tongban/catalog"
	"github.com/tongban/tongban/hub/ingest"
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

// openStore opens a fresh hub store with the bench resource's schema recorded.
func openStore(ctx context.Context, cfg store.Config) (*store.DB, error) {
	db, err := store.Open(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("bench: open %s store: %w", cfg.Driver, err)
	}
	if _, err := ingest.SyncSchemas(ctx, db, []catalog.Resource{*benchCatalogResource()}); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("bench: record schema in the %s store: %w", cfg.Driver, err)
	}
	return db, nil
}

// hubIngest runs the hub's ingester (its own consumer group) on topic,
// which holds want rows of the bench resource, into a fresh store, and
// times it from start (joining the group included) until every row is applied.
func hubIngest(ctx context.Context, sc store.Config, brokers []string, topic, dlq, group string, want int, log *slog.Logger) (measure, error) {
	db, err := openStore(ctx, sc)
	if err != nil {
		return measure{}, err
	}
	defer db.Close()
	in, err := ingest.New(ingest.Config{
		Brokers: brokers, Topic: topic, DeadLetterTopic: dlq, GroupID: group,
		Store: db, Catalog: oneResource{benchCatalogResource()}, Registry: prometheus.NewRegistry(), Logger: log,
	})
	if err != nil {
		return measure{}, fmt.Errorf("bench: hub ingest: %w", err)
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
		var applied int64
		for _, r := range st.Resources {
			if r.Resource == benchResource {
				applied = r.RowsApplied + r.RowsSkipped
			}
		}
		if applied >= int64(want) {
			took := time.Since(start)
			if err := stop(); err != nil {
				return measure{}, fmt.Errorf("bench: hub ingest: %w", err)
			}
			return measure{rows: int(applied), took: took}, nil
		}
		if st.DeadLetters > 0 {
			_ = stop()
			return measure{}, fmt.Errorf("bench: hub ingest: %d messages dead-lettered (%v); last error %q", st.DeadLetters, st.DeadLettersByKind, st.LastError)
		}
		select {
		case <-ctx.Done():
			_ = stop()
			return measure{}, ctx.Err()
		case err := <-done:
			return measure{}, fmt.Errorf("bench: hub ingest stopped after %d of %d rows: %v", applied, want, err)
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
// src must parse times (parseTime=true).
func rawInserts(ctx context.Context, sc store.Config, src *sql.DB) (measure, error) {
	db, err := openStore(ctx, sc)
	if err != nil {
		return measure{}, err
	}
	defer db.Close()
	rows, err := src.QueryContext(ctx, "SELECT * FROM `"+benchTable+"` ORDER BY citizen_id")
	if err != nil {
		return measure{}, fmt.Errorf("bench: raw inserts: read source: %w", err)
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
			return measure{}, fmt.Errorf("bench: raw inserts: read source: %w", err)
		}
		if addr.Valid {
			r.Address = &addr.String
		}
		r.BirthDate = born.Format("2006-01-02")
		r.UpdatedAt = upd.Format("2006-01-02T15:04:05.000000")
		data, err := json.Marshal(r)
		if err != nil {
			return measure{}, fmt.Errorf("bench: raw inserts: %w", err)
		}
		recs = append(recs, store.Record{Resource: benchResource, Key: r.CitizenID, Dept: benchDept,
			Version: version, Data: data, BatchID: "raw"})
		if len(recs) == rawInsertGroup {
			if err := apply(); err != nil {
				return measure{}, err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return measure{}, fmt.Errorf("bench: raw inserts: read source: %w", err)
	}
	if err := apply(); err != nil {
		return measure{}, err
	}
	return m, nil
}
