package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tongban/tongban/catalog"
	"github.com/tongban/tongban/hub/api"
	"github.com/tongban/tongban/hub/opendata"
	"github.com/tongban/tongban/hub/store"
	"github.com/tongban/tongban/schemas"
)

// openDataApplyRows is how many records one ApplyRecords call of the
// open-data store fill takes.
const openDataApplyRows = 20_000

// openDataCatalog is the bench resource made open (无条件开放), its citizen
// ID, name and phone classified personal so that a release masks them.
func openDataCatalog() *catalog.Catalog {
	res := benchCatalogResource()
	res.OpenType, res.OpenBasis = catalog.OpenOpen, ""
	fields := make([]schemas.Field, len(res.Schema.Fields))
	copy(fields, res.Schema.Fields)
	for i := range fields {
		switch fields[i].Name {
		case "citizen_id", "name", "phone":
			fields[i].Sensitivity = schemas.SensitivityPersonal
		}
	}
	res.Schema = schemas.Schema{Fields: fields}
	return &catalog.Catalog{Departments: []catalog.Department{{Code: benchDept, Name: "性能测试部门"}},
		Resources: []catalog.Resource{*res}}
}

// fillOpenDataStore stores n generated rows (the bench table's rows, as the
// hub stores them) as records of the bench resource.
func fillOpenDataStore(ctx context.Context, db *store.DB, n int) error {
	version := time.Now().UnixMicro()
	recs := make([]store.Record, 0, openDataApplyRows)
	apply := func() error {
		if len(recs) == 0 {
			return nil
		}
		if _, err := db.ApplyRecords(ctx, recs); err != nil {
			return fmt.Errorf("bench: open data: fill the store: %w", err)
		}
		recs = recs[:0]
		return nil
	}
	return generateRows(n, 1, func(batch [][]any) error {
		for _, row := range batch {
			h := hubRow{CitizenID: row[0].(string), Name: row[1].(string), Sex: row[2].(string),
				BirthDate: row[3].(time.Time).Format("2006-01-02"), Ethnicity: row[4].(string), Phone: row[6].(string),
				HouseholdType: row[7].(string), UpdatedAt: row[8].(time.Time).Format("2006-01-02T15:04:05.000000"), Income: row[9].(string)}
			if a, ok := row[5].(string); ok {
				h.Address = &a
			}
			data, err := json.Marshal(h)
			if err != nil {
				return fmt.Errorf("bench: open data: %w", err)
			}
			recs = append(recs, store.Record{Resource: benchResource, Key: h.CitizenID, Dept: benchDept, Subject: h.CitizenID,
				Version: version, Data: data, BatchID: "bench"})
			if len(recs) == openDataApplyRows {
				if err := apply(); err != nil {
					return err
				}
			}
		}
		return apply()
	})
}

// transfer is one timed copy of a file's bytes.
type transfer struct {
	bytes int64
	took  time.Duration
	rss   int64 // growth of the peak RSS during a download (0 is a real reading: no growth); not taken for a disk read
}

func (t transfer) mbPerSec() float64 { return float64(t.bytes) / 1e6 / t.took.Seconds() }

// readFile copies a file from disk to io.Discard: the download's physical limit.
func readFile(path string) (transfer, error) {
	start := time.Now()
	f, err := os.Open(path)
	if err != nil {
		return transfer{}, fmt.Errorf("bench: open data baseline: %w", err)
	}
	defer f.Close()
	n, err := io.Copy(io.Discard, f)
	if err != nil {
		return transfer{}, fmt.Errorf("bench: open data baseline: %w", err)
	}
	return transfer{bytes: n, took: time.Since(start)}, nil
}

// downloadURL GETs url into io.Discard, checking the status and size, with
// the growth of the peak RSS during the copy.
func downloadURL(ctx context.Context, client *http.Client, url string, want int64) (t transfer, err error) {
	t.rss, err = rssGrowth(func() (err error) {
		t.bytes, t.took, err = download(ctx, client, url, want)
		return err
	})
	return t, err
}

// download GETs url into io.Discard, checking the status and size.
func download(ctx context.Context, client *http.Client, url string, want int64) (int64, time.Duration, error) {
	start := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, 0, fmt.Errorf("bench: open data download %s: %w", url, err)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	took := time.Since(start)
	if err != nil {
		return 0, 0, fmt.Errorf("bench: open data download %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK || n != want {
		return 0, 0, fmt.Errorf("bench: open data download %s: status %d, %d bytes; want 200 with %d bytes", url, resp.StatusCode, n, want)
	}
	return n, took, nil
}

// scanRecords reads every live record of the bench resource page by page,
// as a release does, without writing anything: the release build's baseline.
func scanRecords(ctx context.Context, db *store.DB, pageSize int) (int, time.Duration, error) {
	start := time.Now()
	rows, after := 0, ""
	for {
		page, err := db.ListRecords(ctx, benchResource, after, pageSize, false)
		if err != nil {
			return 0, 0, fmt.Errorf("bench: open data: scan records: %w", err)
		}
		rows += len(page)
		if len(page) < pageSize {
			return rows, time.Since(start), nil
		}
		after = page[len(page)-1].Key
	}
}

// openDataResults measures the open-data portal: a release of the bench
// resource built from a fresh SQLite store, then its CSV and Parquet files
// downloaded through the real API on loopback, each against reading the same
// file from disk.
func (r *runner) openDataResults(ctx context.Context) (out []Result, err error) {
	err = r.profiled("opendata", func() error {
		out, err = r.openData(ctx)
		return err
	})
	return out, err
}

func (r *runner) openData(ctx context.Context) ([]Result, error) {
	dir := filepath.Join(r.cfg.Dir, "opendata")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("bench: open data: %w", err)
	}
	// The SQLite store the raw-insert baseline filled with every row of the
	// table, when the run has one; else a fresh one filled here.
	path, filled := r.sqliteRecords, r.sqliteRecords != ""
	if !filled {
		path = filepath.Join(dir, "hub.db")
	}
	db, err := store.Open(ctx, store.Config{Driver: store.DriverSQLite, DSN: path})
	if err != nil {
		return nil, fmt.Errorf("bench: open data: %w", err)
	}
	defer db.Close()
	start := time.Now()
	if !filled {
		r.step("open data: storing %d records of %s in a fresh SQLite store", r.cfg.Rows, benchResource)
		if err := fillOpenDataStore(ctx, db, r.cfg.Rows); err != nil {
			return nil, err
		}
		r.step("open data: store filled in %s", time.Since(start).Round(time.Millisecond))
	} else {
		r.step("open data: publishing from the SQLite store of the raw-insert baseline (%d records of %s)", r.cfg.Rows, benchResource)
	}

	logger := r.cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	cat := openDataCatalog()
	reg := prometheus.NewRegistry()
	svc, err := opendata.New(opendata.Config{Store: db, Catalog: cat, Dir: filepath.Join(dir, "open"), Registry: reg, Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("bench: open data: %w", err)
	}

	// The release build, against a bare scan of the same records.
	scanned, scanTook, err := scanRecords(ctx, db, opendata.DefaultPageSize)
	if err != nil {
		return nil, err
	}
	r.step("open data: keyset scan of the records: %d rows, %.0f rows/s", scanned, float64(scanned)/scanTook.Seconds())
	start = time.Now()
	var rel store.OpenRelease
	buildRSS, err := rssGrowth(func() (err error) {
		rel, err = svc.Publish(ctx, benchResource, "bench")
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("bench: open data: %w", err)
	}
	buildTook := time.Since(start)
	if rel.Rows != int64(r.cfg.Rows) || scanned != r.cfg.Rows {
		return nil, fmt.Errorf("bench: open data: release %d rows, scan %d rows, store %d", rel.Rows, scanned, r.cfg.Rows)
	}
	buildRate, scanRate := float64(rel.Rows)/buildTook.Seconds(), float64(scanned)/scanTook.Seconds()
	r.step("open data: release %d built: %d rows, %.0f rows/s; CSV %.1f MB, Parquet %.1f MB", rel.Number, rel.Rows, buildRate,
		float64(rel.CSV.Bytes)/1e6, float64(rel.Parquet.Bytes)/1e6)

	// The API on loopback.
	h, err := api.New(api.Config{Store: db, Catalog: cat, OpenData: svc, Registry: reg, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, fmt.Errorf("bench: open data: %w", err)
	}
	srv, err := serveLoopback(ctx, h)
	if err != nil {
		return nil, fmt.Errorf("bench: open data: %w", err)
	}
	defer srv.close(nil)
	client, closeClient := loopbackClient(1)
	defer closeClient()
	client.Timeout = 10 * time.Minute
	base := srv.url + api.OpenPrefix + "/datasets/" + benchResource + "/releases/"

	type measured struct {
		download, disk transfer
	}
	measure := func(format string, size int64) (measured, error) {
		path := filepath.Join(dir, "open", benchResource, fmt.Sprint(rel.Number), "data."+format)
		// The disk read before and after the download; the faster is the baseline.
		d1, err := readFile(path)
		if err != nil {
			return measured{}, err
		}
		dl, err := downloadURL(ctx, client, base+fmt.Sprint(rel.Number)+"/data."+format, size)
		if err != nil {
			return measured{}, err
		}
		d2, err := readFile(path)
		if err != nil {
			return measured{}, err
		}
		disk := d1
		if d2.took < d1.took {
			disk = d2
		}
		if disk.bytes != size {
			return measured{}, fmt.Errorf("bench: open data: %s has %d bytes, the manifest %d", path, disk.bytes, size)
		}
		r.step("open data: %s download %.0f MB/s (peak RSS +%.1f MiB); disk read %.0f MB/s", format, dl.mbPerSec(),
			float64(dl.rss)/(1<<20), disk.mbPerSec())
		return measured{download: dl, disk: disk}, nil
	}
	csvM, err := measure(opendata.FormatCSV, rel.CSV.Bytes)
	if err != nil {
		return nil, err
	}
	pqM, err := measure(opendata.FormatParquet, rel.Parquet.Bytes)
	if err != nil {
		return nil, err
	}

	const diskBase = "io.Copy of the same file from disk to io.Discard (page cache warm; faster of a read before and after the download)"
	const rssNote = "RSS is the growth of the bench process's peak resident set (VmHWM, reset before the download) over its resident set " +
		"at the start of the download, HTTP client and server both in the process: the memory the download needed on top of what " +
		"the process already held (the embedded broker, the earlier measurements)"
	what := fmt.Sprintf("GET %s<n>/data.<format> over real HTTP on loopback (one connection, no compression) into io.Discard: "+
		"the public route (no token), the store read of the manifest, the size check, http.ServeContent; %s", api.OpenPrefix+"/datasets/"+benchResource+"/releases/", rssNote)
	csvRate, pqRate := csvM.download.mbPerSec(), pqM.download.mbPerSec()
	return []Result{
		{Name: fmt.Sprintf("open data: CSV download (%d rows)", rel.Rows), Unit: "MB/s", Value: csvRate,
			Baseline: diskBase, BaselineValue: csvM.disk.mbPerSec(), Ratio: ratio(csvRate, csvM.disk.mbPerSec()),
			Rows: int(rel.Rows), RSSBytes: csvM.download.rss, Target: "≥ 100 MB/s, RSS < 128 MiB",
			Met: met(csvRate >= 100 && csvM.download.rss < 128<<20), Status: StatusMeasured,
			Note: fmt.Sprintf("%s; %.1f MB of CSV (UTF-8 with BOM, citizen ID, name and phone masked)", what, float64(rel.CSV.Bytes)/1e6)},
		{Name: "open data: Parquet download", Unit: "MB/s", Value: pqRate,
			Baseline: diskBase, BaselineValue: pqM.disk.mbPerSec(), Ratio: ratio(pqRate, pqM.disk.mbPerSec()),
			Rows: int(rel.Rows), RSSBytes: pqM.download.rss, Status: StatusMeasured,
			Note: fmt.Sprintf("as the CSV line; %.1f MB of Parquet (zstd, row groups of %d rows)", float64(rel.Parquet.Bytes)/1e6, opendata.DefaultRowGroupRows)},
		{Name: "open data: release build", Unit: "rows/s", Value: buildRate,
			Baseline: "keyset scan of the same records (store.ListRecords pages of the same size, nothing written)", BaselineValue: scanRate,
			Ratio: ratio(buildRate, scanRate), Rows: int(rel.Rows), RSSBytes: buildRSS, Status: StatusMeasured,
			Note: fmt.Sprintf("opendata.Publish on the SQLite store holding the records: every live record read by keyset paging (%d per page), "+
				"desensitised (3 personal fields masked), written streaming to CSV and Parquet with SHA-256, synced, renamed into place "+
				"and recorded; RSS is the growth of the peak resident set during the build over the resident set at its start, an upper bound: "+
				"the Go collector lets garbage grow in proportion to the process's live heap, which holds the embedded broker's messages", opendata.DefaultPageSize)},
	}, nil
}
