// Package opendata is the open-data portal (开放平台): releases of open
// resources, desensitised, downloadable as CSV and Parquet.
//
// A release (数据发布) of a catalog resource whose open type is open
// (无条件开放) is a point-in-time copy of every live record of the resource
// in the department library, written as two files under
// <dir>/<resource>/<n>/ — data.csv (UTF-8 with a byte-order mark, RFC 4180)
// and data.parquet (zstd) — and a manifest row in the store (package
// store, open_releases) with the row count, each file's size and SHA-256,
// and what was done to every field. Releases are numbered 1, 2, … per
// resource and never change once written.
//
// Desensitisation (脱敏) follows each field's classification (分类分级):
// public (and unclassified) fields are published as stored; personal
// fields are masked by the sharing service's rules (grant.MaskerFor);
// sensitive and internal fields are left out. The subject key of a
// resource about persons (the citizen ID) is masked even when the catalog
// leaves it unclassified: open data never carries a raw personal
// identifier.
//
// Conditional opening (有条件开放, an application reviewed by the provider)
// is not built: such resources are refused with a message saying so.
package opendata

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tongban/tongban/catalog"
	"github.com/tongban/tongban/hub/store"
)

// Download formats and the file name each is stored under.
const (
	FormatCSV     = "csv"
	FormatParquet = "parquet"
)

// Content types of the formats.
const (
	ContentTypeCSV     = "text/csv; charset=utf-8"
	ContentTypeParquet = "application/vnd.apache.parquet"
)

// Defaults of Config.
const (
	DefaultPageSize      = 1000
	DefaultRowGroupRows  = 64 * 1024
	DefaultProgressEvery = 100_000
)

// Errors the API maps to answers.
var (
	// ErrUnknownResource: the code is not in the catalog.
	ErrUnknownResource = errors.New("resource is not in the catalog")
	// ErrNotOpen is wrapped by *NotOpenError.
	ErrNotOpen = errors.New("resource is not open to the public")
	// ErrNoRelease: the resource has no release of that number (or none).
	ErrNoRelease = errors.New("no such release")
	// ErrUnknownFormat: a format other than csv and parquet.
	ErrUnknownFormat = errors.New("unknown download format")
	// ErrNothingToPublish: every field of the resource is left out.
	ErrNothingToPublish = errors.New("no field may be published")
	// ErrReleaseTaken: another hub recorded the release number this
	// publication was building.
	ErrReleaseTaken = errors.New("release number taken")
)

// NotOpenError says why a resource is not on the portal: its open type
// (conditional or closed) and the catalog's basis.
type NotOpenError struct {
	Resource string
	OpenType string
	Basis    string
}

func (e *NotOpenError) Error() string {
	switch e.OpenType {
	case catalog.OpenConditional:
		return fmt.Sprintf("资源 %s 为有条件开放，须经申请审核后开放；开放申请尚未建设，本平台不发布该资源（依据：%s）/ "+
			"resource %s is conditionally open: it needs an application reviewed by the provider, which is not built yet, so the portal does not publish it (basis: %s)",
			e.Resource, e.Basis, e.Resource, e.Basis)
	case catalog.OpenClosed:
		return fmt.Sprintf("资源 %s 不予开放（依据：%s）/ resource %s is closed to the public (basis: %s)", e.Resource, e.Basis, e.Resource, e.Basis)
	}
	return fmt.Sprintf("资源 %s 的开放类型 %q 不是无条件开放 / resource %s has open type %q, not open", e.Resource, e.OpenType, e.Resource, e.OpenType)
}

// Unwrap makes errors.Is(err, ErrNotOpen) true.
func (e *NotOpenError) Unwrap() error { return ErrNotOpen }

// Store is what the portal needs of the hub store (*store.DB).
type Store interface {
	ListRecords(ctx context.Context, resource, after string, limit int, includeDeleted bool) ([]store.Record, error)
	RecordOpenRelease(ctx context.Context, r store.OpenRelease) error
	GetOpenRelease(ctx context.Context, resource string, n int64) (store.OpenRelease, error)
	LatestOpenRelease(ctx context.Context, resource string) (store.OpenRelease, error)
	ListOpenReleases(ctx context.Context, resource string, before int64, limit int) ([]store.OpenRelease, error)
	LatestOpenReleases(ctx context.Context) ([]store.OpenRelease, error)
}

// Config of a Service.
type Config struct {
	Store   Store            // required
	Catalog *catalog.Catalog // required
	// Dir holds the release files (the hub's open_data.dir); required. It
	// is created by the first publication.
	Dir string
	// Registry, when set, gets the portal's metrics.
	Registry prometheus.Registerer
	Logger   *slog.Logger
	// Now is the clock of publication times; time.Now when nil.
	Now func() time.Time
	// PageSize is how many records one store read returns
	// (DefaultPageSize); RowGroupRows the rows of one Parquet row group
	// (DefaultRowGroupRows); ProgressEvery how many rows between progress
	// log lines (DefaultProgressEvery).
	PageSize      int
	RowGroupRows  int
	ProgressEvery int
}

// Service is the portal. It is safe for concurrent use; publications are
// serialised.
type Service struct {
	st            Store
	cat           *catalog.Catalog
	dir           string
	log           *slog.Logger
	now           func() time.Time
	pageSize      int
	rowGroupRows  int
	progressEvery int

	publishMu sync.Mutex // one publication at a time (release numbers, disk)

	releases   prometheus.Counter
	releaseRow *prometheus.GaugeVec
	downloaded *prometheus.CounterVec
}

// New returns a Service; with cfg.Registry it registers
// tongban_open_releases_total, tongban_open_release_rows{resource} and
// tongban_open_download_bytes_total{format}.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Catalog == nil || cfg.Dir == "" {
		return nil, errors.New("opendata: Store, Catalog and Dir are required")
	}
	if cfg.PageSize < 0 || cfg.RowGroupRows < 0 || cfg.ProgressEvery < 0 {
		return nil, fmt.Errorf("opendata: page size %d, row group rows %d, progress every %d: must not be negative",
			cfg.PageSize, cfg.RowGroupRows, cfg.ProgressEvery)
	}
	s := &Service{st: cfg.Store, cat: cfg.Catalog, dir: cfg.Dir, log: cfg.Logger, now: cfg.Now,
		pageSize: cfg.PageSize, rowGroupRows: cfg.RowGroupRows, progressEvery: cfg.ProgressEvery,
		releases: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tongban_open_releases_total", Help: "Open-data releases published by this hub process.",
		}),
		releaseRow: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tongban_open_release_rows", Help: "Rows of the latest release of each open resource published by this hub process.",
		}, []string{"resource"}),
		downloaded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tongban_open_download_bytes_total", Help: "Bytes of open-data release files sent to downloaders, by format (csv, parquet).",
		}, []string{"format"}),
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.pageSize == 0 {
		s.pageSize = DefaultPageSize
	}
	if s.rowGroupRows == 0 {
		s.rowGroupRows = DefaultRowGroupRows
	}
	if s.progressEvery == 0 {
		s.progressEvery = DefaultProgressEvery
	}
	for _, f := range []string{FormatCSV, FormatParquet} {
		s.downloaded.WithLabelValues(f)
	}
	if cfg.Registry != nil {
		for _, c := range []prometheus.Collector{s.releases, s.releaseRow, s.downloaded} {
			if err := cfg.Registry.Register(c); err != nil {
				return nil, fmt.Errorf("opendata: register metrics: %w", err)
			}
		}
	}
	return s, nil
}

// safeCode is the form of a resource code used as a directory name (the
// catalog's own rule): nothing that could leave the portal's directory.
var safeCode = regexp.MustCompile(`^[A-Z0-9][A-Z0-9-]{2,63}$`)

// openResource returns the catalog resource code when it is open.
func (s *Service) openResource(code string) (*catalog.Resource, error) {
	res, ok := s.cat.Resource(code)
	if !ok {
		return nil, fmt.Errorf("opendata: %q: %w", code, ErrUnknownResource)
	}
	if res.OpenType != catalog.OpenOpen {
		return nil, &NotOpenError{Resource: res.Code, OpenType: res.OpenType, Basis: res.OpenBasis}
	}
	if !safeCode.MatchString(res.Code) {
		return nil, fmt.Errorf("opendata: resource code %q cannot name a directory (want A-Z, 0-9 and -)", res.Code)
	}
	return res, nil
}

// Dataset is an open resource as the portal lists it.
type Dataset struct {
	Resource *catalog.Resource
	// ProviderName is the providing department's name ("" if unknown).
	ProviderName string
	// Fields are the resource's fields with what a release does to each.
	Fields []store.OpenReleaseField
	// Latest is the newest release; nil before the first.
	Latest *store.OpenRelease
}

func (s *Service) dataset(res *catalog.Resource, latest *store.OpenRelease) Dataset {
	d := Dataset{Resource: res, Fields: FieldPlan(res), Latest: latest}
	if dep, ok := s.cat.Department(res.Provider); ok {
		d.ProviderName = dep.Name
	}
	return d
}

// Datasets returns every open resource of the catalog, in catalog order,
// with its latest release.
func (s *Service) Datasets(ctx context.Context) ([]Dataset, error) {
	latest, err := s.st.LatestOpenReleases(ctx)
	if err != nil {
		return nil, fmt.Errorf("opendata: datasets: %w", err)
	}
	byRes := make(map[string]*store.OpenRelease, len(latest))
	for i := range latest {
		byRes[latest[i].Resource] = &latest[i]
	}
	out := []Dataset{}
	for i := range s.cat.Resources {
		res := &s.cat.Resources[i]
		if res.OpenType != catalog.OpenOpen {
			continue
		}
		out = append(out, s.dataset(res, byRes[res.Code]))
	}
	return out, nil
}

// Dataset returns one open resource; ErrUnknownResource or a *NotOpenError.
func (s *Service) Dataset(ctx context.Context, code string) (Dataset, error) {
	res, err := s.openResource(code)
	if err != nil {
		return Dataset{}, err
	}
	var latest *store.OpenRelease
	r, err := s.st.LatestOpenRelease(ctx, res.Code)
	switch {
	case err == nil:
		latest = &r
	case !errors.Is(err, store.ErrNotFound):
		return Dataset{}, fmt.Errorf("opendata: dataset %s: %w", code, err)
	}
	return s.dataset(res, latest), nil
}

// Releases returns up to limit releases of an open resource, newest first,
// numbered below before (0: from the newest).
func (s *Service) Releases(ctx context.Context, code string, before int64, limit int) ([]store.OpenRelease, error) {
	res, err := s.openResource(code)
	if err != nil {
		return nil, err
	}
	rs, err := s.st.ListOpenReleases(ctx, res.Code, before, limit)
	if err != nil {
		return nil, fmt.Errorf("opendata: releases of %s: %w", code, err)
	}
	return rs, nil
}

// Release returns release n of an open resource, the latest when n is 0;
// ErrNoRelease when there is none.
func (s *Service) Release(ctx context.Context, code string, n int64) (store.OpenRelease, error) {
	res, err := s.openResource(code)
	if err != nil {
		return store.OpenRelease{}, err
	}
	var r store.OpenRelease
	if n == 0 {
		r, err = s.st.LatestOpenRelease(ctx, res.Code)
	} else {
		r, err = s.st.GetOpenRelease(ctx, res.Code, n)
	}
	if errors.Is(err, store.ErrNotFound) {
		if n == 0 {
			return store.OpenRelease{}, fmt.Errorf("opendata: %s has not been published yet: %w", code, ErrNoRelease)
		}
		return store.OpenRelease{}, fmt.Errorf("opendata: %s has no release %d: %w", code, n, ErrNoRelease)
	}
	if err != nil {
		return store.OpenRelease{}, fmt.Errorf("opendata: release of %s: %w", code, err)
	}
	return r, nil
}

// File is a release file opened for download.
type File struct {
	Release     store.OpenRelease
	Format      string // FormatCSV or FormatParquet
	Name        string // the download's file name, e.g. MR-LP-001-r3.csv
	ContentType string
	Digest      string // SHA-256, hex
	Size        int64
	// Content reads the file; every byte read counts in
	// tongban_open_download_bytes_total. Close it.
	Content io.ReadSeekCloser
}

// Open opens the format file of release n of an open resource (the latest
// when n is 0) for download. The file must have the size the manifest
// records.
func (s *Service) Open(ctx context.Context, code string, n int64, format string) (*File, error) {
	var (
		fileOf      func(store.OpenRelease) store.OpenReleaseFile
		contentType string
	)
	switch format {
	case FormatCSV:
		fileOf, contentType = func(r store.OpenRelease) store.OpenReleaseFile { return r.CSV }, ContentTypeCSV
	case FormatParquet:
		fileOf, contentType = func(r store.OpenRelease) store.OpenReleaseFile { return r.Parquet }, ContentTypeParquet
	default:
		return nil, fmt.Errorf("opendata: format %q (want csv or parquet): %w", format, ErrUnknownFormat)
	}
	rel, err := s.Release(ctx, code, n)
	if err != nil {
		return nil, err
	}
	path := s.filePath(rel.Resource, rel.Number, format)
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opendata: release %d of %s: %w", rel.Number, rel.Resource, err)
	}
	meta := fileOf(rel)
	st, err := f.Stat()
	if err == nil && st.Size() != meta.Bytes {
		err = fmt.Errorf("%s has %d bytes, the manifest %d: the file was changed after publication", path, st.Size(), meta.Bytes)
	}
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("opendata: release %d of %s: %w", rel.Number, rel.Resource, err)
	}
	return &File{Release: rel, Format: format, Name: rel.Resource + "-r" + strconv.FormatInt(rel.Number, 10) + "." + format,
		ContentType: contentType, Digest: meta.SHA256, Size: meta.Bytes,
		Content: &countingFile{f: f, n: s.downloaded.WithLabelValues(format)}}, nil
}

// countingFile counts the bytes read into the download metric. It does not
// embed *os.File: a promoted WriteTo or ReadFrom would bypass Read.
type countingFile struct {
	f *os.File
	n prometheus.Counter
}

func (c *countingFile) Read(p []byte) (int, error) {
	n, err := c.f.Read(p)
	if n > 0 {
		c.n.Add(float64(n))
	}
	return n, err
}

func (c *countingFile) Seek(offset int64, whence int) (int64, error) { return c.f.Seek(offset, whence) }
func (c *countingFile) Close() error                                 { return c.f.Close() }

// releaseDir is where release n of resource lives.
func (s *Service) releaseDir(resource string, n int64) string {
	return filepath.Join(s.dir, resource, strconv.FormatInt(n, 10))
}

// filePath is the file of one format of a release.
func (s *Service) filePath(resource string, n int64, format string) string {
	return filepath.Join(s.releaseDir(resource, n), "data."+format)
}
