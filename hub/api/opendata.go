package api

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/tongban/tongban/catalog"
	"github.com/tongban/tongban/hub/auth"
	"github.com/tongban/tongban/hub/opendata"
	"github.com/tongban/tongban/hub/store"
)

// OpenPrefix is the path prefix of the open-data portal's public routes
// (no token).
const OpenPrefix = "/open/v1"

// OpenDataService is what the open-data routes need (*opendata.Service).
// Its errors: opendata.ErrUnknownResource (404, or 400 on publish),
// *opendata.NotOpenError (403, or 409 on publish), opendata.ErrNoRelease
// and opendata.ErrUnknownFormat (404).
type OpenDataService interface {
	Datasets(ctx context.Context) ([]opendata.Dataset, error)
	Dataset(ctx context.Context, code string) (opendata.Dataset, error)
	Releases(ctx context.Context, code string, before int64, limit int) ([]store.OpenRelease, error)
	Release(ctx context.Context, code string, n int64) (store.OpenRelease, error)
	Open(ctx context.Context, code string, n int64, format string) (*opendata.File, error)
	Publish(ctx context.Context, code, actor string) (store.OpenRelease, error)
}

// defaultReleasesLimit is the page size of the release list without limit.
const defaultReleasesLimit = 100

// openDataRoutes registers the open-data portal's routes: the public
// catalog of open datasets and their downloads under /open/v1 (no token),
// and publication (admin) under /api/v1/open.
func (s *server) openDataRoutes(rt featureRoutes) {
	rt.handle("GET "+OpenPrefix+"/datasets", s.public(s.listDatasets))
	rt.handle("GET "+OpenPrefix+"/datasets/{code}", s.public(s.showDataset))
	rt.handle("GET "+OpenPrefix+"/datasets/{code}/releases", s.public(s.listReleases))
	rt.handle("GET "+OpenPrefix+"/datasets/{code}/releases/{n}", s.public(s.showRelease))
	rt.handle("GET "+OpenPrefix+"/datasets/{code}/releases/{n}/data.csv", s.download(opendata.FormatCSV))
	rt.handle("GET "+OpenPrefix+"/datasets/{code}/releases/{n}/data.parquet", s.download(opendata.FormatParquet))
	publish := rt.admin(s.publishRelease)
	rt.handle("POST "+Prefix+"/open/releases", func(w http.ResponseWriter, r *http.Request) {
		publish(&createdWriter{ResponseWriter: w}, r)
	})
}

// createdWriter turns the 200 of a successful handlerFunc into 201 Created.
type createdWriter struct{ http.ResponseWriter }

func (c *createdWriter) WriteHeader(code int) {
	if code == http.StatusOK {
		code = http.StatusCreated
	}
	c.ResponseWriter.WriteHeader(code)
}

// public serves a JSON route without authentication.
func (s *server) public(h func(r *http.Request) (any, *apiError)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, e := h(r)
		if e != nil {
			writeError(w, e)
			return
		}
		writeJSON(w, http.StatusOK, body)
	}
}

// openError maps a portal error to an answer.
func (s *server) openError(r *http.Request, err error) *apiError {
	var noe *opendata.NotOpenError
	switch {
	case errors.Is(err, opendata.ErrUnknownResource):
		code := r.PathValue("code")
		return notFound("code", fmt.Sprintf("资源 %q 不在目录中 / resource %q is not in the catalog", code, code))
	case errors.As(err, &noe):
		return forbidden("code", noe.Error())
	case errors.Is(err, opendata.ErrNoRelease):
		return notFound("release", fmt.Sprintf("没有这个发布版本 / %v", err))
	case errors.Is(err, opendata.ErrUnknownFormat):
		return notFound("format", err.Error())
	}
	return s.internal(r, err)
}

// releaseRef reads the {n} path value: a release number or "latest" (0).
func releaseRef(r *http.Request) (int64, *apiError) {
	n, err := opendata.ParseReleaseRef(r.PathValue("n"))
	if err != nil {
		return 0, notFound("release", "发布版本应为正整数或 latest / "+err.Error())
	}
	return n, nil
}

// cycleZH names the update cycles in Chinese.
func cycleZH(c string) string {
	switch c {
	case catalog.CycleRealtime:
		return "实时"
	case catalog.CycleDaily:
		return "每日"
	case catalog.CycleWeekly:
		return "每周"
	case catalog.CycleMonthly:
		return "每月"
	case catalog.CycleQuarterly:
		return "每季度"
	case catalog.CycleYearly:
		return "每年"
	}
	return c
}

// treatmentZH names what a release does to a field, in Chinese.
func treatmentZH(t string) string {
	switch t {
	case store.OpenFieldAsIs:
		return "原样公开"
	case store.OpenFieldMasked:
		return "脱敏公开"
	case store.OpenFieldOmitted:
		return "不予公开"
	}
	return t
}

type openFieldJSON struct {
	Name        string `json:"name"`
	Type        string `json:"type"`
	Description string `json:"description,omitempty"`
	Sensitivity string `json:"sensitivity,omitempty"`
	Treatment   string `json:"treatment"`
	TreatmentZH string `json:"treatment_zh"`
}

func openFields(fs []store.OpenReleaseField) []openFieldJSON {
	out := make([]openFieldJSON, 0, len(fs))
	for _, f := range fs {
		typ := f.Type
		if f.Treatment == store.OpenFieldMasked {
			typ = "string"
		}
		out = append(out, openFieldJSON{Name: f.Name, Type: typ, Description: f.Description, Sensitivity: f.Sensitivity,
			Treatment: f.Treatment, TreatmentZH: treatmentZH(f.Treatment)})
	}
	return out
}

type openFileJSON struct {
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
	URL    string `json:"url"`
}

// releaseJSON is a release manifest as the portal shows it.
type releaseJSON struct {
	Resource    string                  `json:"resource"`
	Number      int64                   `json:"number"`
	Name        string                  `json:"name"`
	PublishedAt time.Time               `json:"published_at"`
	PublishedBy string                  `json:"published_by,omitempty"` // admin answers only
	Rows        int64                   `json:"rows"`
	Files       map[string]openFileJSON `json:"files"`
	Fields      []openFieldJSON         `json:"fields"`
}

func releaseURL(code string, n int64, format string) string {
	return OpenPrefix + "/datasets/" + code + "/releases/" + strconv.FormatInt(n, 10) + "/data." + format
}

func toReleaseJSON(rel store.OpenRelease, admin bool) releaseJSON {
	j := releaseJSON{Resource: rel.Resource, Number: rel.Number, Name: rel.Name, PublishedAt: rel.PublishedAt.UTC(), Rows: rel.Rows,
		Files: map[string]openFileJSON{
			opendata.FormatCSV:     {Bytes: rel.CSV.Bytes, SHA256: rel.CSV.SHA256, URL: releaseURL(rel.Resource, rel.Number, opendata.FormatCSV)},
			opendata.FormatParquet: {Bytes: rel.Parquet.Bytes, SHA256: rel.Parquet.SHA256, URL: releaseURL(rel.Resource, rel.Number, opendata.FormatParquet)},
		},
		Fields: openFields(rel.Fields)}
	if admin {
		j.PublishedBy = rel.PublishedBy
	}
	return j
}

// datasetJSON is an open resource as the portal lists it.
type datasetJSON struct {
	Code          string          `json:"code"`
	Name          string          `json:"name"`
	Title         string          `json:"title"`
	Description   string          `json:"description,omitempty"`
	Provider      string          `json:"provider"`
	ProviderName  string          `json:"provider_name,omitempty"`
	UpdateCycle   string          `json:"update_cycle"`
	UpdateCycleZH string          `json:"update_cycle_zh"`
	OpenType      string          `json:"open_type"`
	Formats       []string        `json:"formats"`
	Fields        []openFieldJSON `json:"fields"`
	Latest        *releaseJSON    `json:"latest_release"`
}

func toDatasetJSON(d opendata.Dataset) datasetJSON {
	res := d.Resource
	j := datasetJSON{Code: res.Code, Name: res.Name, Title: res.Name, Description: res.Description, Provider: res.Provider,
		ProviderName: d.ProviderName, UpdateCycle: res.UpdateCycle, UpdateCycleZH: cycleZH(res.UpdateCycle), OpenType: res.OpenType,
		Formats: []string{opendata.FormatCSV, opendata.FormatParquet}, Fields: openFields(d.Fields)}
	if d.Latest != nil {
		rel := toReleaseJSON(*d.Latest, false)
		j.Latest = &rel
	}
	return j
}

func (s *server) listDatasets(r *http.Request) (any, *apiError) {
	if _, e := parseQuery(r); e != nil {
		return nil, e
	}
	ds, err := s.openData.Datasets(r.Context())
	if err != nil {
		return nil, s.openError(r, err)
	}
	out := make([]datasetJSON, 0, len(ds))
	for _, d := range ds {
		out = append(out, toDatasetJSON(d))
	}
	return map[string]any{"datasets": out}, nil
}

func (s *server) showDataset(r *http.Request) (any, *apiError) {
	if _, e := parseQuery(r); e != nil {
		return nil, e
	}
	d, err := s.openData.Dataset(r.Context(), r.PathValue("code"))
	if err != nil {
		return nil, s.openError(r, err)
	}
	return toDatasetJSON(d), nil
}

func (s *server) listReleases(r *http.Request) (any, *apiError) {
	q, e := parseQuery(r, "before", "limit")
	if e != nil {
		return nil, e
	}
	var before int64
	if v, ok := q.str("before"); ok {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return nil, badRequest("before", fmt.Sprintf("before %q 应为正整数（上一页的 next_before）/ is not a whole number >= 1 (give the next_before of the previous page)", v))
		}
		before = n
	}
	limit, e := q.limit("limit", defaultReleasesLimit)
	if e != nil {
		return nil, e
	}
	code := r.PathValue("code")
	rels, err := s.openData.Releases(r.Context(), code, before, limit)
	if err != nil {
		return nil, s.openError(r, err)
	}
	out := make([]releaseJSON, 0, len(rels))
	for _, rel := range rels {
		out = append(out, toReleaseJSON(rel, false))
	}
	body := map[string]any{"resource": code, "releases": out}
	if len(rels) == limit {
		body["next_before"] = rels[len(rels)-1].Number
	}
	return body, nil
}

func (s *server) showRelease(r *http.Request) (any, *apiError) {
	if _, e := parseQuery(r); e != nil {
		return nil, e
	}
	n, e := releaseRef(r)
	if e != nil {
		return nil, e
	}
	rel, err := s.openData.Release(r.Context(), r.PathValue("code"), n)
	if err != nil {
		return nil, s.openError(r, err)
	}
	return toReleaseJSON(rel, false), nil
}

// download serves one file of a release with http.ServeContent: Range,
// conditional requests on the ETag (the file's SHA-256) and Last-Modified
// (the publication time), HEAD. A numbered release never changes and is
// cacheable for a year; "latest" must be revalidated.
func (s *server) download(format string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if _, e := parseQuery(r); e != nil {
			writeError(w, e)
			return
		}
		n, e := releaseRef(r)
		if e != nil {
			writeError(w, e)
			return
		}
		f, err := s.openData.Open(r.Context(), r.PathValue("code"), n, format)
		if err != nil {
			writeError(w, s.openError(r, err))
			return
		}
		defer f.Content.Close()
		h := w.Header()
		h.Set("Content-Type", f.ContentType)
		h.Set("ETag", `"`+f.Digest+`"`)
		h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": f.Name}))
		h.Set("X-Content-Type-Options", "nosniff")
		if sum, err := hex.DecodeString(f.Digest); err == nil {
			h.Set("Repr-Digest", "sha-256=:"+base64.StdEncoding.EncodeToString(sum)+":")
		}
		if n == 0 {
			h.Set("Cache-Control", "no-cache")
			h.Set("Content-Location", releaseURL(f.Release.Resource, f.Release.Number, format))
		} else {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		}
		http.ServeContent(w, r, f.Name, f.Release.PublishedAt, f.Content)
	}
}

type publishRequest struct {
	Resource string `json:"resource"`
}

func (s *server) publishRelease(r *http.Request, p auth.Principal) (any, *apiError) {
	var req publishRequest
	if e := decodeBody(r, &req); e != nil {
		return nil, e
	}
	if req.Resource == "" {
		return nil, badRequest("resource", "缺少 resource：要发布的资源代码 / resource is missing: the code of the resource to publish")
	}
	rel, err := s.openData.Publish(r.Context(), req.Resource, p.TokenID)
	var noe *opendata.NotOpenError
	switch {
	case err == nil:
		return toReleaseJSON(rel, true), nil
	case errors.Is(err, opendata.ErrUnknownResource):
		return nil, badRequest("resource", fmt.Sprintf("资源 %q 不在目录中 / resource %q is not in the catalog", req.Resource, req.Resource))
	case errors.As(err, &noe):
		return nil, &apiError{status: http.StatusConflict, msg: noe.Error(), field: "resource"}
	case errors.Is(err, opendata.ErrNothingToPublish), errors.Is(err, opendata.ErrReleaseTaken):
		return nil, &apiError{status: http.StatusConflict, msg: err.Error(), field: "resource"}
	}
	return nil, s.internal(r, err)
}
