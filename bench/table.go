package bench

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/tongban/tongban/catalog"
	"github.com/tongban/tongban/connectors"
	"github.com/tongban/tongban/demo/datagen"
	"github.com/tongban/tongban/schemas"
)

// The generated table: datagen's population columns plus a decimal income,
// about 120 bytes of values per row.
const (
	benchTable    = "bench_population"
	benchResource = "BENCH-POP-001"
	benchDept     = "1123060001281401X7"
	benchParts    = 6
	loadRows      = 1000 // rows per multi-row INSERT
	loadWorkers   = 2
)

const benchDDL = "CREATE TABLE `" + benchTable + "` (\n" +
	"  `citizen_id` VARCHAR(18) NOT NULL,\n" +
	"  `name` VARCHAR(32) NOT NULL,\n" +
	"  `sex` CHAR(1) NOT NULL,\n" +
	"  `birth_date` DATE NOT NULL,\n" +
	"  `ethnicity` VARCHAR(16) NOT NULL,\n" +
	"  `address` VARCHAR(128) NULL,\n" +
	"  `phone` VARCHAR(11) NOT NULL,\n" +
	"  `household_type` VARCHAR(8) NOT NULL,\n" +
	"  `updated_at` DATETIME(6) NOT NULL,\n" +
	"  `income` DECIMAL(12,2) NOT NULL,\n" +
	"  PRIMARY KEY (`citizen_id`),\n" +
	// The index a watermark column needs (as datagen's tables have): change
	// polls page through (updated_at, citizen_id) ranges.
	"  KEY `idx_bench_updated_at` (`updated_at`, `citizen_id`)\n" +
	") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"

// benchFields are the catalog fields of the table, in column order.
func benchFields() []schemas.Field {
	f := func(name string, k schemas.Kind, nullable bool) schemas.Field {
		return schemas.Field{Name: name, Type: schemas.Type{Kind: k}, Nullable: nullable}
	}
	return []schemas.Field{
		f("citizen_id", schemas.String, false),
		f("name", schemas.String, false),
		f("sex", schemas.String, false),
		f("birth_date", schemas.Date, false),
		f("ethnicity", schemas.String, false),
		f("address", schemas.String, true),
		f("phone", schemas.String, false),
		f("household_type", schemas.String, false),
		f("updated_at", schemas.Timestamp, false),
		{Name: "income", Type: schemas.Type{Kind: schemas.Decimal, Precision: 12, Scale: 2}},
	}
}

// benchCatalogResource is the catalog entry the hub ingests the table as.
func benchCatalogResource() *catalog.Resource {
	return &catalog.Resource{
		Code: benchResource, Name: "性能测试人口", Provider: benchDept,
		Subject:    catalog.Subject{Type: catalog.SubjectPerson, Field: "citizen_id"},
		PrimaryKey: []string{"citizen_id"}, Schema: schemas.Schema{Fields: benchFields()},
		ShareType: catalog.ShareUnconditional, OpenType: catalog.OpenClosed, UpdateCycle: catalog.CycleDaily,
		Format: catalog.FormatTable, File: "bench",
	}
}

// benchSource is what the agent hands its connector for the table.
func benchSource(dsn string) connectors.Source {
	fields := benchFields()
	cols := make([]connectors.Column, len(fields))
	for i, f := range fields {
		cols[i] = connectors.Column{Field: f}
	}
	return connectors.Source{
		Resource: benchResource, DSN: dsn, Table: benchTable, Columns: cols,
		PrimaryKey: []string{"citizen_id"}, Watermark: "updated_at", SubjectKey: "citizen_id",
		Partitions: benchParts, ChunkRows: 5000,
	}
}

// income is a deterministic decimal(12,2) text for row i.
func income(i int) string {
	cents := (uint64(i)*2654435761 + 12345) % 5_000_000_00
	return fmt.Sprintf("%d.%02d", cents/100, cents%100)
}

// generateRows streams n rows (datagen population rows plus income) in
// batches of loadRows to emit. Batches are fresh slices.
func generateRows(n int, seed int64, emit func(batch [][]any) error) error {
	cfg := datagen.Config{Seed: seed, Population: n}
	batch := make([][]any, 0, loadRows)
	i := 0
	err := datagen.Rows(cfg, datagen.TablePopulation, func(row []any) error {
		r := make([]any, 0, len(row)+1)
		r = append(r, row...)
		r = append(r, income(i))
		i++
		batch = append(batch, r)
		if len(batch) == loadRows {
			if err := emit(batch); err != nil {
				return err
			}
			batch = make([][]any, 0, loadRows)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(batch) > 0 {
		return emit(batch)
	}
	return nil
}

// loadTable creates the table and fills it with n rows, with loadWorkers
// connections inserting batches the generator produces.
func loadTable(ctx context.Context, db *sql.DB, n int, seed int64) error {
	if _, err := db.ExecContext(ctx, benchDDL); err != nil {
		return fmt.Errorf("bench: create table %s: %w", benchTable, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan [][]any, loadWorkers*2)
	errs := make(chan error, loadWorkers+1)
	var wg sync.WaitGroup
	for range loadWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				if err := insertBatch(ctx, db, b); err != nil {
					errs <- err
					cancel()
					for range batches {
					}
					return
				}
			}
		}()
	}
	genErr := generateRows(n, 1, func(b [][]any) error {
		select {
		case batches <- b:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	close(batches)
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	if len(all) > 0 {
		return errors.Join(all...)
	}
	if genErr != nil {
		return fmt.Errorf("bench: generate rows: %w", genErr)
	}
	return nil
}

func insertBatch(ctx context.Context, db *sql.DB, rows [][]any) error {
	var b strings.Builder
	b.WriteString("INSERT INTO `" + benchTable + "` VALUES ")
	ph := "(" + strings.TrimSuffix(strings.Repeat("?,", len(benchFields())), ",") + ")"
	args := make([]any, 0, len(rows)*len(benchFields()))
	for i, r := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(ph)
		args = append(args, r...)
	}
	if _, err := db.ExecContext(ctx, b.String(), args...); err != nil {
		return fmt.Errorf("bench: insert %d rows into %s: %w", len(rows), benchTable, err)
	}
	return nil
}
