package opendata

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/tongban/tongban/catalog"
	"github.com/tongban/tongban/hub/store"
)

// utf8BOM starts the CSV file so that Excel reads it as UTF-8 (Chinese
// text would otherwise show as mojibake).
const utf8BOM = "\ufeff"

// digestWriter counts and hashes what is written through it.
type digestWriter struct {
	w io.Writer
	h hash.Hash
	n int64
}

func newDigestWriter(w io.Writer) *digestWriter { return &digestWriter{w: w, h: sha256.New()} }

func (d *digestWriter) Write(p []byte) (int, error) {
	n, err := d.w.Write(p)
	d.h.Write(p[:n])
	d.n += int64(n)
	return n, err
}

func (d *digestWriter) file() store.OpenReleaseFile {
	return store.OpenReleaseFile{Bytes: d.n, SHA256: hex.EncodeToString(d.h.Sum(nil))}
}

// Publish builds and records the next release of an open resource: every
// live record, read page by page, desensitised per FieldPlan, written to
// data.csv and data.parquet in a temporary directory that is renamed to
// <dir>/<resource>/<n> once both files are complete and synced, then the
// manifest is recorded. actor (a token id) is the publisher.
// ErrUnknownResource or a *NotOpenError for a resource that is not open.
func (s *Service) Publish(ctx context.Context, code, actor string) (store.OpenRelease, error) {
	res, err := s.openResource(code)
	if err != nil {
		return store.OpenRelease{}, err
	}
	if actor == "" {
		return store.OpenRelease{}, errors.New("opendata: publish: the publisher (actor) is empty")
	}
	plan := FieldPlan(res)
	if !slices.ContainsFunc(plan, func(f store.OpenReleaseField) bool { return f.Treatment != store.OpenFieldOmitted }) {
		return store.OpenRelease{}, fmt.Errorf("opendata: 资源 %s 没有可公开的信息项（全部为 sensitive 或 internal）/ resource %s has no field that may be published (all are sensitive or internal): %w",
			res.Code, res.Code, ErrNothingToPublish)
	}
	s.publishMu.Lock()
	defer s.publishMu.Unlock()

	n := int64(1)
	switch last, err := s.st.LatestOpenRelease(ctx, res.Code); {
	case err == nil:
		n = last.Number + 1
	case !errors.Is(err, store.ErrNotFound):
		return store.OpenRelease{}, fmt.Errorf("opendata: publish %s: %w", res.Code, err)
	}
	rel := store.OpenRelease{Resource: res.Code, Number: n, Name: res.Name, PublishedAt: s.now().UTC().Truncate(time.Microsecond),
		PublishedBy: actor, Fields: plan}
	fail := func(err error) (store.OpenRelease, error) {
		return store.OpenRelease{}, fmt.Errorf("opendata: publish release %d of %s: %w", n, res.Code, err)
	}

	resDir := filepath.Join(s.dir, res.Code)
	if err := os.MkdirAll(resDir, 0o750); err != nil {
		return fail(err)
	}
	tmp, err := os.MkdirTemp(resDir, ".build-")
	if err != nil {
		return fail(err)
	}
	renamed := false
	defer func() {
		if !renamed {
			_ = os.RemoveAll(tmp)
		}
	}()
	start := time.Now()
	s.log.InfoContext(ctx, "opendata: publishing", "resource", res.Code, "release", n, "actor", actor)
	if err := s.build(ctx, res, &rel, tmp); err != nil {
		return fail(err)
	}

	final := s.releaseDir(res.Code, n)
	// A directory of this number without a manifest is the leftover of a
	// publication that stopped between the rename and the store write. With
	// a manifest it is another hub's (sharing open_data.dir) that took the
	// number meanwhile: its files stay.
	switch _, err := s.st.GetOpenRelease(ctx, res.Code, n); {
	case err == nil:
		return fail(fmt.Errorf("release %d was published meanwhile by another hub; publish again: %w", n, ErrReleaseTaken))
	case !errors.Is(err, store.ErrNotFound):
		return fail(err)
	}
	if _, err := os.Stat(final); err == nil {
		s.log.WarnContext(ctx, "opendata: removing the files of an unrecorded release", "resource", res.Code, "release", n, "dir", final)
		if err := os.RemoveAll(final); err != nil {
			return fail(err)
		}
	}
	if err := os.Rename(tmp, final); err != nil {
		return fail(err)
	}
	renamed = true
	if err := syncDir(resDir); err != nil {
		return fail(err)
	}
	if err := s.st.RecordOpenRelease(ctx, rel); err != nil {
		_ = os.RemoveAll(final)
		return fail(err)
	}
	s.releases.Inc()
	s.releaseRow.WithLabelValues(res.Code).Set(float64(rel.Rows))
	took := time.Since(start)
	s.log.InfoContext(ctx, "opendata: published", "resource", res.Code, "release", n, "rows", rel.Rows,
		"csv_bytes", rel.CSV.Bytes, "parquet_bytes", rel.Parquet.Bytes, "took", took.Round(time.Millisecond),
		"rows_per_sec", int64(float64(rel.Rows)/max(took.Seconds(), 1e-9)))
	return rel, nil
}

// build writes the two files of rel into dir and fills in rel's rows and
// file figures.
func (s *Service) build(ctx context.Context, res *catalog.Resource, rel *store.OpenRelease, dir string) (err error) {
	csvFile, err := os.OpenFile(filepath.Join(dir, "data."+FormatCSV), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, closeIfOpen(csvFile)) }()
	pqFile, err := os.OpenFile(filepath.Join(dir, "data."+FormatParquet), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, closeIfOpen(pqFile)) }()

	// CSV: BOM, header of field names, one line per record (CRLF, RFC 4180).
	csvBuf := bufio.NewWriterSize(csvFile, 256<<10)
	csvSum := newDigestWriter(csvBuf)
	if _, err := io.WriteString(csvSum, utf8BOM); err != nil {
		return err
	}
	cw := csv.NewWriter(csvSum)
	cw.UseCRLF = true

	// Parquet: the published fields' Arrow schema, zstd, a row group per
	// RowGroupRows records.
	pqBuf := bufio.NewWriterSize(pqFile, 256<<10)
	pqSum := newDigestWriter(pqBuf)
	fileMeta := [][2]string{{"tongban.resource", res.Code}, {"tongban.name", res.Name},
		{"tongban.release", strconv.FormatInt(rel.Number, 10)}, {"tongban.published_at", rel.PublishedAt.Format(time.RFC3339Nano)}}
	schema := releaseSchema(res, rel.Fields)
	mem := memory.NewGoAllocator()
	props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Zstd), parquet.WithAllocator(mem),
		parquet.WithMaxRowGroupLength(int64(s.rowGroupRows)), parquet.WithCreatedBy("tongban open data"))
	pw, err := pqarrow.NewFileWriter(schema, pqSum, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema(), pqarrow.WithAllocator(mem)))
	if err != nil {
		return fmt.Errorf("parquet: %w", err)
	}
	pwOpen := true
	defer func() {
		if pwOpen {
			_ = pw.Close()
		}
	}()
	rb := array.NewRecordBuilder(mem, schema)
	defer rb.Release()
	cols := newColumns(res, rel.Fields, rb)

	header := make([]string, len(cols))
	for i, c := range cols {
		header[i] = c.name
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	flush := func() error {
		if rb.Field(0).Len() == 0 {
			return nil
		}
		rec := rb.NewRecordBatch()
		defer rec.Release()
		if err := pw.Write(rec); err != nil {
			return fmt.Errorf("parquet: %w", err)
		}
		return nil
	}

	var (
		rows, pending int
		after         string
		line          = make([]string, len(cols))
		vals          = map[string]json.RawMessage{}
	)
	for {
		page, err := s.st.ListRecords(ctx, res.Code, after, s.pageSize, false)
		if err != nil {
			return err
		}
		for _, r := range page {
			clear(vals)
			if err := json.Unmarshal(r.Data, &vals); err != nil {
				return fmt.Errorf("record %q: %w", r.Key, err)
			}
			for i := range cols {
				raw, ok := vals[cols[i].name]
				if line[i], err = cols[i].add(raw, ok); err != nil {
					return fmt.Errorf("record %q: %w", r.Key, err)
				}
			}
			if err := cw.Write(line); err != nil {
				return err
			}
			rows++
			pending++
			if pending == s.rowGroupRows {
				if err := flush(); err != nil {
					return err
				}
				pending = 0
			}
			if rows%s.progressEvery == 0 {
				s.log.InfoContext(ctx, "opendata: publishing: progress", "resource", res.Code, "release", rel.Number, "rows", rows)
			}
		}
		if len(page) < s.pageSize {
			break
		}
		after = page[len(page)-1].Key
	}
	if err := flush(); err != nil {
		return err
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	for _, kv := range fileMeta {
		if err := pw.AppendKeyValueMetadata(kv[0], kv[1]); err != nil {
			return fmt.Errorf("parquet: %w", err)
		}
	}
	pwOpen = false
	if err := pw.Close(); err != nil {
		return fmt.Errorf("parquet: %w", err)
	}
	for _, b := range []*bufio.Writer{csvBuf, pqBuf} {
		if err := b.Flush(); err != nil {
			return err
		}
	}
	for _, f := range []*os.File{csvFile, pqFile} {
		if err := f.Sync(); err != nil {
			return err
		}
	}
	rel.Rows = int64(rows)
	rel.CSV, rel.Parquet = csvSum.file(), pqSum.file()
	return nil
}

// closeIfOpen closes f, ignoring a second close.
func closeIfOpen(f *os.File) error {
	if err := f.Close(); err != nil && !errors.Is(err, os.ErrClosed) {
		return err
	}
	return nil
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	return errors.Join(err, d.Close())
}
